//! logmend keeps an AWS account's activity logging switched on.
//!
//! This crate is the whole of logmend in one place: the list of every family (the registry
//! the CLI, the template, the policy and the docs are built from), the `logmend` CLI, and
//! re-exports of the core and the families. A Lambda function depends on `logmend-core` and
//! its own family only. See DESIGN.md beside the repository.

pub use logmend_account as account;
pub use logmend_alarms as alarms;
pub use logmend_cloudtrail as cloudtrail;
pub use logmend_core::{
    ClientSet, Config, ControlDef, Decision, Family, HandlerError, Logmend, Mode, Verdict, aws, config, decision,
    event, findings, handler, metrics, outputs, policy, recheck, registry, sweep, telemetry, template,
};
pub use logmend_logs as logs;
pub use logmend_mq as mq;
pub use logmend_network as network;
pub use logmend_rds as rds;
pub use logmend_workload as workload;

/// The controls: the core's machinery and every family's control modules.
pub mod report;

pub mod controls {
    pub use logmend_account::{config_recorder, guardduty_enabled, session_manager_logging};
    pub use logmend_alarms::{cis_metric_alarms, sns_delivery_status};
    pub use logmend_cloudtrail::{
        cloudtrail_bucket_access_logging, cloudtrail_bucket_protection, cloudtrail_cloudwatch_logs,
        cloudtrail_encryption, cloudtrail_log_file_validation, cloudtrail_logging, s3_access_logging, s3_data_events,
    };
    pub use logmend_core::control::*;
    pub use logmend_logs::log_group_retention;
    pub use logmend_mq::mq_broker_logs;
    pub use logmend_network::{cloudfront_logging, elb_access_logs, resolver_query_logs, vpc_flow_logs, wafv2_logging};
    pub use logmend_rds::{rds_cluster_audit_logs, rds_instance_log_exports};
    pub use logmend_workload::{ecs_task_log_config, lambda_logging, stepfunctions_logging};
}

use logmend_core::control::ControlSpec;

/// Every family, each with its function: adding a family is its crate and one line here.
pub static FAMILIES: [&Family; 8] = [
    &logmend_mq::FAMILY,
    &logmend_rds::FAMILY,
    &logmend_cloudtrail::FAMILY,
    &logmend_logs::FAMILY,
    &logmend_alarms::FAMILY,
    &logmend_network::FAMILY,
    &logmend_workload::FAMILY,
    &logmend_account::FAMILY,
];

/// Every control, in the order `logmend controls` lists them.
pub fn all_controls() -> impl Iterator<Item = &'static dyn ControlDef> {
    registry::controls_of(&FAMILIES)
}

/// Every control's spec.
pub fn all_specs() -> Vec<&'static ControlSpec> {
    all_controls().map(|c| c.spec()).collect()
}

/// The spec of the control with this id, or an error naming the valid ones.
pub fn spec(id: &str) -> Result<&'static ControlSpec, String> {
    registry::find(&FAMILIES, id).map(|c| c.spec())
}

/// Every id in `LOGMEND_CONTROLS` must name a control: the CLI, which knows them all, refuses
/// an unknown one (a function knows only its own family's and ignores the rest).
pub fn check_control_names(config: &Config) -> Result<(), String> {
    for id in config.controls.iter().flatten() {
        spec(id).map_err(|e| format!("LOGMEND_CONTROLS: {e}"))?;
    }
    Ok(())
}

/// logmend with every control, as the CLI runs it.
pub fn app(config: Config, clients: impl Into<ClientSet>) -> Logmend {
    Logmend::new(config, all_controls(), clients.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use logmend_core::policy::{Placeholders, granted_actions, policy_document};
    use std::collections::BTreeSet;

    #[test]
    fn every_control_declares_valid_reads_and_writes() {
        for spec in all_specs() {
            let id = spec.id;
            assert!(logmend_core::config::is_control_id(id), "{id}");
            assert!(!spec.reads.is_empty(), "{id} declares no read action");
            // Only an audit-only control writes nothing, and its fix says so.
            assert!(
                !spec.writes.is_empty() || spec.fix.starts_with("none (audit only)"),
                "{id} declares no write action and does not say it is audit only"
            );
            for p in spec.reads.iter().chain(spec.writes) {
                let (service, action) =
                    p.action.split_once(':').unwrap_or_else(|| panic!("{id}: {:?} is not service:Action", p.action));
                assert!(
                    !service.is_empty()
                        && service.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                    "{id}: {}",
                    p.action
                );
                assert!(
                    action.starts_with(|c: char| c.is_ascii_uppercase()) && action.chars().all(char::is_alphanumeric),
                    "{id}: {}",
                    p.action
                );
                assert!(
                    p.resource == "*" || p.resource.starts_with("arn:${AWS::Partition}:"),
                    "{id}: {:?}",
                    p.resource
                );
            }
            assert!(!spec.triggers.is_empty(), "{id} has no trigger");
            assert_eq!(self::spec(id).map(|s| s.id), Ok(id));
        }
    }

    #[test]
    fn ids_are_unique_and_each_in_exactly_one_family() {
        let ids: Vec<&str> = all_specs().iter().map(|s| s.id).collect();
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), unique.len(), "{ids:?}");
        let functions: BTreeSet<&str> = FAMILIES.iter().map(|f| f.function).collect();
        assert_eq!(functions.len(), FAMILIES.len(), "one function per family");
    }

    #[test]
    fn unknown_control_names_the_valid_ones() {
        let err = spec("nope").unwrap_err();
        assert!(err.contains("cloudtrail-cloudwatch-logs"), "{err}");
        let mut config = Config::new(Mode::Audit);
        config.controls = Some(vec!["log-group-retention".into(), "nope".into()]);
        let err = check_control_names(&config).unwrap_err();
        assert!(err.starts_with("LOGMEND_CONTROLS: \"nope\" is not a control; valid: "), "{err}");
    }

    #[test]
    fn audit_policy_holds_exactly_the_declared_reads() {
        let specs = all_specs();
        let doc = policy_document(&specs, Mode::Audit, &Placeholders::default());
        let declared: BTreeSet<String> =
            specs.iter().flat_map(|c| c.reads.iter().map(|p| p.action.to_owned())).collect();
        assert_eq!(granted_actions(&doc), declared);
        for w in specs.iter().flat_map(|c| c.writes) {
            assert!(!granted_actions(&doc).contains(w.action), "audit policy grants {}", w.action);
        }
    }

    #[test]
    fn remediate_policy_adds_exactly_the_declared_writes_on_their_resources() {
        let specs = all_specs();
        let doc = policy_document(
            &specs,
            Mode::Remediate,
            &Placeholders { account: "123456789012".into(), ..Default::default() },
        );
        let declared: BTreeSet<String> =
            specs.iter().flat_map(|c| c.reads.iter().chain(c.writes).map(|p| p.action.to_owned())).collect();
        assert_eq!(granted_actions(&doc), declared);
        // PassRole is the one write that could hand a service more than logmend holds: only
        // logmend's own roles and Config's service-linked role may be passed.
        let pass_role_resources: BTreeSet<String> = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["Action"].as_array().unwrap().iter().any(|a| a == "iam:PassRole"))
            .flat_map(|s| match &s["Resource"] {
                serde_json::Value::Array(all) => all.iter().map(|r| r.as_str().unwrap().to_owned()).collect(),
                one => vec![one.as_str().unwrap().to_owned()],
            })
            .collect();
        assert_eq!(
            pass_role_resources,
            BTreeSet::from([
                "arn:aws:iam::123456789012:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
                    .to_owned(),
                "arn:aws:iam::123456789012:role/logmend/*".to_owned(),
                "arn:aws:iam::123456789012:role/logmend/LogmendArchive*".to_owned(),
            ])
        );
    }
}
