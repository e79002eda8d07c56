//! `rds-instance-log-exports` (Security Hub RDS.9): every RDS DB instance exports its engine's
//! logs to CloudWatch Logs (MySQL and MariaDB: audit, error, general, slowquery; PostgreSQL:
//! postgresql, upgrade; Oracle: alert, audit, trace, listener; SQL Server: error, agent).
//!
//! Instances of an Aurora (or Multi-AZ) cluster export through their cluster: they are
//! `rds-cluster-audit-logs`' business and skipped here. A log type the engine version does
//! not offer (SQL Server Express has no agent log) is left out, asked of
//! DescribeDBEngineVersions only when something is missing, so a compliant instance costs one
//! read. ModifyDBInstance's export change applies at once; it is sent without ApplyImmediately
//! so that changes queued by others for the maintenance window stay queued.

use crate::Clients;
use crate::rds::{exempt, readiness};
use aws_sdk_rds::types::CloudwatchLogsExportConfiguration;
use logmend_core::aws::AwsError;
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, Readiness, State, Trigger,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

pub static SPEC: ControlSpec = ControlSpec {
    id: "rds-instance-log-exports",
    security_hub: &["RDS.9"],
    resource_type: "AWS::RDS::DBInstance",
    triggers: &[Trigger {
        event_source: "rds.amazonaws.com",
        event_names: &["CreateDBInstance", "ModifyDBInstance", "RestoreDBInstanceFromDBSnapshot"],
    }],
    compliant_when: "the engine's log types that its version offers are exported (mysql/mariadb: audit, error, general, slowquery; postgres: postgresql, upgrade; oracle: alert, audit, trace, listener; sqlserver: error, agent); Aurora members are the cluster control's",
    fix: "ModifyDBInstance CloudwatchLogsExportConfiguration.EnableLogTypes with the missing types (the others are kept)",
    reads: &[Permission::any("rds:DescribeDBInstances"), Permission::any("rds:DescribeDBEngineVersions")],
    writes: &[Permission::on(
        "rds:ModifyDBInstance",
        "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:*",
    )],
};

pub struct RdsInstanceLogExports;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InstanceRef(pub String);

impl std::fmt::Display for InstanceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The log types DESIGN.md asks of an engine. `None`: not an engine this control covers.
pub fn wanted_log_types(engine: &str) -> Option<&'static [&'static str]> {
    match engine {
        "mysql" | "mariadb" => Some(&["audit", "error", "general", "slowquery"]),
        "postgres" => Some(&["postgresql", "upgrade"]),
        e if e.starts_with("oracle-") => Some(&["alert", "audit", "trace", "listener"]),
        e if e.starts_with("sqlserver-") => Some(&["error", "agent"]),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceFinding {
    pub instance_id: String,
    pub enable: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnableExports {
    pub instance_id: String,
    pub log_types: Vec<String>,
}

/// The log types an engine version can export. `None` when AWS does not say (then every
/// wanted type is tried, and a refusal names itself in the failure).
async fn exportable(
    cx: &Context<'_, Clients>,
    engine: &str,
    version: Option<&str>,
) -> Result<Option<Vec<String>>, ControlError> {
    let out = cx
        .clients
        .rds
        .describe_db_engine_versions()
        .engine(engine)
        .set_engine_version(version.map(str::to_owned))
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk("rds:DescribeDBEngineVersions", format!("{engine} {}", version.unwrap_or("")), e)
        })?;
    Ok(out.db_engine_versions().first().map(|v| v.exportable_log_types().to_vec()))
}

impl Control for RdsInstanceLogExports {
    type Clients = Clients;
    type Target = InstanceRef;
    type Finding = InstanceFinding;
    type Step = EnableExports;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<InstanceRef>, EventError> {
        let id = event
            .response_str("dBInstanceIdentifier")
            .or_else(|| event.request_parameters.str("dBInstanceIdentifier"))
            .ok_or(EventError::MissingField { field: "detail.requestParameters.dBInstanceIdentifier" })?;
        Ok(vec![InstanceRef(id.to_owned())])
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<InstanceRef>, ControlError> {
        let mut pages = cx.clients.rds.describe_db_instances().into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("rds:DescribeDBInstances", cx.region, e))?;
            out.extend(
                page.db_instances()
                    .iter()
                    .filter(|i| i.db_cluster_identifier().is_none())
                    .filter_map(|i| i.db_instance_identifier().map(|id| InstanceRef(id.to_owned()))),
            );
        }
        Ok(out)
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        target: &InstanceRef,
    ) -> Result<Checked<InstanceFinding>, ControlError> {
        let described = match cx.clients.rds.describe_db_instances().db_instance_identifier(&target.0).send().await {
            Ok(out) => out.db_instances().first().cloned(),
            Err(e) => {
                let e = AwsError::from_sdk("rds:DescribeDBInstances", &target.0, e);
                if !e.code_is("DBInstanceNotFound") {
                    return Err(e.into());
                }
                None
            }
        };
        let Some(db) = described else {
            return Ok(Checked {
                resource: target.0.clone(),
                state: State::Skipped("the instance no longer exists".into()),
            });
        };
        let resource = db.db_instance_arn().unwrap_or(&target.0).to_owned();
        let skip = |reason: String| Ok(Checked { resource: resource.clone(), state: State::Skipped(reason) });
        if let Some(cluster) = db.db_cluster_identifier() {
            return skip(format!("member of cluster {cluster}; its logs are the cluster's (rds-cluster-audit-logs)"));
        }
        let engine = db.engine().unwrap_or("(none)");
        let Some(wanted) = wanted_log_types(engine) else {
            return skip(format!("engine {engine} has no log types logmend asks for"));
        };
        if exempt(cx, db.tag_list()) {
            return skip(format!("tagged {}=true", cx.config.exempt_tag));
        }
        let status = db.db_instance_status().unwrap_or("(none)");
        match readiness(status) {
            Readiness::Ready => {}
            Readiness::Inactive => return skip(format!("instance is {status}")),
            Readiness::NotYet => {
                let reason = format!("instance is {status}; checked again when it is available");
                return Ok(Checked { resource, state: State::Deferred(reason) });
            }
        }
        let exported = db.enabled_cloudwatch_logs_exports();
        let missing: Vec<&str> = wanted.iter().copied().filter(|t| !exported.iter().any(|e| e == t)).collect();
        if missing.is_empty() {
            return Ok(Checked { resource, state: State::Compliant(format!("exports {}", wanted.join(", "))) });
        }
        let version = db.engine_version();
        let offered = exportable(cx, engine, version).await?;
        let (enable, not_offered): (Vec<&str>, Vec<&str>) =
            missing.iter().partition(|t| offered.as_ref().is_none_or(|o| o.iter().any(|x| x == *t)));
        let version_text = format!("{engine} {}", version.unwrap_or(""));
        let unavailable = if not_offered.is_empty() {
            String::new()
        } else {
            format!(" ({} not offered by {})", not_offered.join(", "), version_text.trim())
        };
        if enable.is_empty() {
            let offered_wanted: Vec<&str> = wanted.iter().copied().filter(|t| !not_offered.contains(t)).collect();
            let reason = format!("exports {}{unavailable}", offered_wanted.join(", "));
            return Ok(Checked { resource, state: State::Compliant(reason) });
        }
        Ok(Checked {
            resource,
            state: State::Noncompliant {
                reason: format!("{} instance {} does not export {}{unavailable}", engine, target.0, enable.join(", ")),
                finding: InstanceFinding {
                    instance_id: target.0.clone(),
                    enable: enable.into_iter().map(str::to_owned).collect(),
                },
            },
        })
    }

    fn plan(&self, _config: &Config, f: &InstanceFinding) -> Vec<EnableExports> {
        vec![EnableExports { instance_id: f.instance_id.clone(), log_types: f.enable.clone() }]
    }

    fn describe(&self, step: &EnableExports) -> Change {
        Change::new(
            "rds:ModifyDBInstance",
            format!(
                "{} CloudwatchLogsExportConfiguration.EnableLogTypes={}",
                step.instance_id,
                step.log_types.join(",")
            ),
        )
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        _f: &InstanceFinding,
        plan: &[EnableExports],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            let config =
                CloudwatchLogsExportConfiguration::builder().set_enable_log_types(Some(step.log_types.clone())).build();
            cx.clients
                .rds
                .modify_db_instance()
                .db_instance_identifier(&step.instance_id)
                .cloudwatch_logs_export_configuration(config)
                .send()
                .await
                .map_err(|e| ApplyError {
                    done: done.clone(),
                    error: AwsError::from_sdk("rds:ModifyDBInstance", &step.instance_id, e).into(),
                })?;
            done.push(self.describe(step));
        }
        let types: Vec<String> = plan.iter().flat_map(|s| s.log_types.iter().cloned()).collect();
        Ok(Applied::Fixed(format!("{} exported to CloudWatch Logs", types.join(", "))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_engine_gets_the_design_log_types() {
        assert_eq!(wanted_log_types("mysql"), Some(&["audit", "error", "general", "slowquery"][..]));
        assert_eq!(wanted_log_types("mariadb"), wanted_log_types("mysql"));
        assert_eq!(wanted_log_types("postgres"), Some(&["postgresql", "upgrade"][..]));
        assert_eq!(wanted_log_types("oracle-ee"), Some(&["alert", "audit", "trace", "listener"][..]));
        assert_eq!(wanted_log_types("sqlserver-ex"), Some(&["error", "agent"][..]));
        assert_eq!(wanted_log_types("aurora-mysql"), None, "Aurora is the cluster control's");
        assert_eq!(wanted_log_types("db2-se"), None);
    }

    #[test]
    fn targets_come_from_the_response_or_the_request() {
        let ev = serde_json::json!({"detail-type":"AWS API Call via CloudTrail","account":"1","region":"eu-west-1",
            "detail":{"eventSource":"rds.amazonaws.com","eventName":"CreateDBInstance",
            "requestParameters":{"dBInstanceIdentifier":"shop","masterUserPassword":"****"},
            "responseElements":{"dBInstanceIdentifier":"shop","dBInstanceStatus":"creating"}}});
        let t = RdsInstanceLogExports.targets_in(&ApiCallEvent::from_value(&ev).unwrap()).unwrap();
        assert_eq!(t, vec![InstanceRef("shop".into())]);
    }
}
