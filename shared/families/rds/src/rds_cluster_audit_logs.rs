//! `rds-cluster-audit-logs` (Security Hub RDS.34, plus the parameter side): every Aurora
//! cluster publishes its audit log to CloudWatch Logs.
//!
//! For aurora-mysql the export alone is not enough: without `server_audit_logging=1` and a
//! non-empty `server_audit_events` in the cluster parameter group, the log group stays empty.
//! A custom group gets the parameters (both are dynamic: they apply at once). A `default.*`
//! group cannot be modified, so logmend copies it once per family to its own group
//! (`logmend-<family>-audit`), sets the parameters there and attaches it; the instances take a
//! new cluster parameter group only when they reboot, which logmend never does to a database,
//! so the cluster is `pending` until they do (DescribeDBClusters shows each member
//! `pending-reboot` meanwhile). aurora-postgresql needs only the `postgresql` export.
//!
//! ModifyDBCluster is sent without ApplyImmediately: exports and the parameter group apply at
//! once regardless, and ApplyImmediately would also apply changes someone else queued for the
//! maintenance window.

use crate::Clients;
use crate::rds::{exempt, immediate_parameters, logmend_copy_name, managed_by_tag, readiness};
use aws_sdk_rds::types::{CloudwatchLogsExportConfiguration, DbCluster};
use logmend_core::aws::{AwsError, created_or_existing};
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, Readiness, State, Trigger,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

pub const AUDIT_LOGGING: &str = "server_audit_logging";
pub const AUDIT_EVENTS: &str = "server_audit_events";

pub static SPEC: ControlSpec = ControlSpec {
    id: "rds-cluster-audit-logs",
    security_hub: &["RDS.34"],
    severity: logmend_core::control::Severity::Medium,
    resource_type: "AWS::RDS::DBCluster",
    triggers: &[Trigger {
        event_source: "rds.amazonaws.com",
        event_names: &[
            "CreateDBCluster",
            "ModifyDBCluster",
            "RestoreDBClusterFromSnapshot",
            "RestoreDBClusterToPointInTime",
            "ModifyDBClusterParameterGroup",
        ],
    }],
    compliant_when: "aurora-mysql: `audit` exported and the cluster parameter group has server_audit_logging=1 and a non-empty server_audit_events; aurora-postgresql: `postgresql` exported",
    fix: "ModifyDBCluster CloudwatchLogsExportConfiguration (adds, keeps the others); a custom parameter group gets the parameters; a default.* group is copied to logmend-<family>-audit, set and attached: pending until the instances reboot (logmend never reboots databases)",
    reads: &[
        Permission::any("rds:DescribeDBClusters"),
        Permission::on(
            "rds:DescribeDBClusterParameters",
            "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster-pg:*",
        ),
        Permission::on(
            "rds:DescribeDBClusterParameterGroups",
            "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster-pg:*",
        ),
    ],
    writes: &[
        Permission::on("rds:ModifyDBCluster", "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster:*"),
        // Attaching a group is authorised on the group too; only logmend's own are attached.
        Permission::on(
            "rds:ModifyDBCluster",
            "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster-pg:logmend-*",
        ),
        Permission::on(
            "rds:ModifyDBClusterParameterGroup",
            "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster-pg:*",
        ),
        // Copying reads the default group and creates logmend's (tagged, hence AddTagsToResource).
        Permission::on(
            "rds:CopyDBClusterParameterGroup",
            "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster-pg:*",
        ),
        Permission::on(
            "rds:AddTagsToResource",
            "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster-pg:logmend-*",
        ),
    ],
};

pub struct RdsClusterAuditLogs;

/// A cluster, or (from ModifyDBClusterParameterGroup) every cluster that uses a group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ClusterTarget {
    Cluster(String),
    UsingParameterGroup(String),
}

impl std::fmt::Display for ClusterTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterTarget::Cluster(id) => f.write_str(id),
            ClusterTarget::UsingParameterGroup(g) => write!(f, "clusters using parameter group {g}"),
        }
    }
}

/// What an Aurora engine needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuroraEngine {
    /// `audit` export plus the audit parameters.
    Mysql,
    /// `postgresql` export.
    Postgresql,
}

impl AuroraEngine {
    pub fn of(engine: &str) -> Option<Self> {
        match engine {
            "aurora-mysql" | "aurora" => Some(AuroraEngine::Mysql),
            "aurora-postgresql" => Some(AuroraEngine::Postgresql),
            _ => None,
        }
    }

    pub fn log_type(self) -> &'static str {
        match self {
            AuroraEngine::Mysql => "audit",
            AuroraEngine::Postgresql => "postgresql",
        }
    }
}

/// The audit parameters as a group holds them (absent: the engine default, off).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditParameters {
    pub logging: Option<String>,
    pub events: Option<String>,
}

impl AuditParameters {
    pub fn logging_on(&self) -> bool {
        matches!(self.logging.as_deref().map(str::trim), Some("1") | Some("ON") | Some("on") | Some("true"))
    }
    pub fn events_set(&self) -> bool {
        self.events.as_deref().is_some_and(|e| !e.trim().is_empty())
    }
    pub fn complete(&self) -> bool {
        self.logging_on() && self.events_set()
    }
}

/// logmend's copy of a family's default group.
pub fn logmend_group_name(family: &str) -> String {
    logmend_copy_name(family, "audit")
}

/// What to do about the parameter group of an aurora-mysql cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterFix {
    /// Already right.
    None,
    /// A group of the account's own: set the parameters in it.
    SetInGroup { group: String, current: AuditParameters },
    /// On a default group: use logmend's copy (made if missing, set if not right), attach it.
    CopyAndAttach {
        source: String,
        target_name: String,
        target_exists: bool,
        target: AuditParameters,
        /// The exempt cluster that shares `source`, when that is why it is copied.
        exempt_sharer: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterFinding {
    pub cluster_id: String,
    /// The member instances, which take a newly attached parameter group when they reboot.
    pub instances: Vec<String>,
    pub export_missing: Option<&'static str>,
    pub parameters: ParameterFix,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterStep {
    CopyParameterGroup { source: String, target: String },
    SetAuditParameters { group: String, parameters: Vec<(&'static str, String)> },
    ModifyCluster { cluster_id: String, enable_log_type: Option<&'static str>, attach_group: Option<String> },
}

/// The parameters to write so that `current` is complete; the account's own event list is kept.
pub fn parameters_to_set(current: &AuditParameters, config: &Config) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if !current.logging_on() {
        out.push((AUDIT_LOGGING, "1".to_owned()));
    }
    if !current.events_set() {
        out.push((AUDIT_EVENTS, config.aurora_audit_events.clone()));
    }
    out
}

async fn describe_cluster(cx: &Context<'_, Clients>, id: &str) -> Result<Option<DbCluster>, ControlError> {
    match cx.clients.rds.describe_db_clusters().db_cluster_identifier(id).send().await {
        Ok(out) => Ok(out.db_clusters().first().cloned()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_db_cluster_not_found_fault()) => Ok(None),
        Err(e) => Err(AwsError::from_sdk("rds:DescribeDBClusters", id, e).into()),
    }
}

/// The audit parameters of a group. `None`: the group does not exist.
async fn read_parameters(cx: &Context<'_, Clients>, group: &str) -> Result<Option<AuditParameters>, ControlError> {
    // Only parameters someone set ("user"): the others are engine defaults, and these two
    // default to off. One page instead of the group's several hundred parameters.
    let mut pages = cx
        .clients
        .rds
        .describe_db_cluster_parameters()
        .db_cluster_parameter_group_name(group)
        .source("user")
        .into_paginator()
        .send();
    let mut found = AuditParameters::default();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_db_parameter_group_not_found_fault()) => {
                return Ok(None);
            }
            Err(e) => return Err(AwsError::from_sdk("rds:DescribeDBClusterParameters", group, e).into()),
        };
        for p in page.parameters() {
            let value = p.parameter_value().map(str::to_owned);
            match p.parameter_name() {
                Some(AUDIT_LOGGING) => found.logging = value,
                Some(AUDIT_EVENTS) => found.events = value,
                _ => {}
            }
        }
    }
    Ok(Some(found))
}

/// Another cluster, exempt, that uses the group: then the group is not logmend's to change.
async fn exempt_sharer(cx: &Context<'_, Clients>, me: &str, group: &str) -> Result<Option<String>, ControlError> {
    let mut pages = cx.clients.rds.describe_db_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("rds:DescribeDBClusters", cx.region, e))?;
        let sharer = page.db_clusters().iter().find(|c| {
            c.db_cluster_identifier() != Some(me)
                && c.db_cluster_parameter_group().is_some_and(|g| g.eq_ignore_ascii_case(group))
                && exempt(cx, c.tag_list())
        });
        if let Some(c) = sharer {
            return Ok(c.db_cluster_identifier().map(str::to_owned));
        }
    }
    Ok(None)
}

async fn family_of(cx: &Context<'_, Clients>, group: &str) -> Result<Option<String>, ControlError> {
    match cx.clients.rds.describe_db_cluster_parameter_groups().db_cluster_parameter_group_name(group).send().await {
        Ok(out) => {
            Ok(out.db_cluster_parameter_groups().first().and_then(|g| g.db_parameter_group_family()).map(str::to_owned))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_db_parameter_group_not_found_fault()) => Ok(None),
        Err(e) => Err(AwsError::from_sdk("rds:DescribeDBClusterParameterGroups", group, e).into()),
    }
}

/// Every cluster of the region that `keep` accepts (DescribeDBClusters, paginated).
async fn clusters_where(
    cx: &Context<'_, Clients>,
    keep: impl Fn(&DbCluster) -> bool + Send,
) -> Result<Vec<ClusterTarget>, ControlError> {
    let mut pages = cx.clients.rds.describe_db_clusters().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("rds:DescribeDBClusters", cx.region, e))?;
        out.extend(
            page.db_clusters()
                .iter()
                .filter(|c| keep(c))
                .filter_map(|c| c.db_cluster_identifier().map(|id| ClusterTarget::Cluster(id.to_owned()))),
        );
    }
    Ok(out)
}

impl Control for RdsClusterAuditLogs {
    type Clients = Clients;
    type Target = ClusterTarget;
    type Finding = ClusterFinding;
    type Step = ClusterStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<ClusterTarget>, EventError> {
        if event.event_name == "ModifyDBClusterParameterGroup" {
            let group = event
                .request_parameters
                .str("dBClusterParameterGroupName")
                .ok_or(EventError::MissingField { field: "detail.requestParameters.dBClusterParameterGroupName" })?;
            return Ok(vec![ClusterTarget::UsingParameterGroup(group.to_owned())]);
        }
        let id = event
            .response_str("dBClusterIdentifier")
            .or_else(|| event.request_parameters.str("dBClusterIdentifier"))
            .ok_or(EventError::MissingField { field: "detail.requestParameters.dBClusterIdentifier" })?;
        Ok(vec![ClusterTarget::Cluster(id.to_owned())])
    }

    async fn expand(
        &self,
        cx: &Context<'_, Clients>,
        target: ClusterTarget,
    ) -> Result<Vec<ClusterTarget>, ControlError> {
        let ClusterTarget::UsingParameterGroup(group) = target else {
            return Ok(vec![target]);
        };
        clusters_where(cx, |c| c.db_cluster_parameter_group().is_some_and(|g| g.eq_ignore_ascii_case(&group))).await
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<ClusterTarget>, ControlError> {
        clusters_where(cx, |c| c.engine().and_then(AuroraEngine::of).is_some()).await
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        target: &ClusterTarget,
    ) -> Result<Checked<ClusterFinding>, ControlError> {
        let id = match target {
            ClusterTarget::Cluster(id) => id,
            // `expand` resolves these before any check.
            ClusterTarget::UsingParameterGroup(_) => {
                return Ok(Checked { resource: target.to_string(), state: State::Skipped("not a cluster".into()) });
            }
        };
        let Some(cluster) = describe_cluster(cx, id).await? else {
            return Ok(Checked { resource: id.clone(), state: State::Skipped("the cluster no longer exists".into()) });
        };
        let resource = cluster.db_cluster_arn().unwrap_or(id).to_owned();
        let skip = |reason: String| Ok(Checked { resource: resource.clone(), state: State::Skipped(reason) });
        let engine_name = cluster.engine().unwrap_or("(none)");
        let Some(engine) = AuroraEngine::of(engine_name) else {
            return skip(format!("engine {engine_name} is not Aurora MySQL or Aurora PostgreSQL"));
        };
        if exempt(cx, cluster.tag_list()) {
            return skip(format!("tagged {}=true", cx.config.exempt_tag));
        }
        if cluster.engine_mode() == Some("serverless") {
            return skip("Aurora Serverless v1 publishes logs through its parameters only; no log exports".into());
        }
        let status = cluster.status().unwrap_or("(none)");
        match readiness(status) {
            Readiness::Ready => {}
            Readiness::Inactive => return skip(format!("cluster is {status}")),
            Readiness::NotYet => {
                let reason = format!("cluster is {status}; checked again when it is available");
                return Ok(Checked { resource, state: State::Deferred(reason) });
            }
        }
        let log_type = engine.log_type();
        let export_missing =
            (!cluster.enabled_cloudwatch_logs_exports().iter().any(|t| t == log_type)).then_some(log_type);

        let mut problems = Vec::new();
        if export_missing.is_some() {
            problems.push(format!("`{log_type}` log is not exported to CloudWatch Logs"));
        }
        let group = cluster.db_cluster_parameter_group().unwrap_or_default().to_owned();
        let parameters = if engine == AuroraEngine::Mysql {
            let current = read_parameters(cx, &group).await?.unwrap_or_default();
            if current.complete() {
                ParameterFix::None
            } else {
                problems.push(format!(
                    "parameter group {group} has {AUDIT_LOGGING}={} and {AUDIT_EVENTS}={:?}",
                    current.logging.as_deref().unwrap_or("0"),
                    current.events.as_deref().unwrap_or("")
                ));
                // A default group cannot change; a group an exempt cluster shares must not.
                let (copy_name, sharer) = if group.starts_with("default.") {
                    let family =
                        family_of(cx, &group).await?.unwrap_or_else(|| group.trim_start_matches("default.").to_owned());
                    (Some(logmend_group_name(&family)), None)
                } else {
                    match exempt_sharer(cx, id, &group).await? {
                        Some(other) => {
                            problems.push(format!(
                                "{group} is shared with exempt cluster {other}, so logmend uses its own copy"
                            ));
                            (Some(logmend_copy_name(&group, "audit")), Some(other))
                        }
                        None => (None, None),
                    }
                };
                if let Some(target_name) = copy_name {
                    let existing = read_parameters(cx, &target_name).await?;
                    ParameterFix::CopyAndAttach {
                        exempt_sharer: sharer,
                        source: group.clone(),
                        target_exists: existing.is_some(),
                        target: existing.unwrap_or_default(),
                        target_name,
                    }
                } else {
                    ParameterFix::SetInGroup { group: group.clone(), current }
                }
            }
        } else {
            ParameterFix::None
        };

        if problems.is_empty() {
            let waiting: Vec<&str> = cluster
                .db_cluster_members()
                .iter()
                .filter(|m| m.db_cluster_parameter_group_status() == Some("pending-reboot"))
                .filter_map(|m| m.db_instance_identifier())
                .collect();
            if !waiting.is_empty() {
                let reason = format!(
                    "`{log_type}` exported; parameter group {group} applies when {} reboot(s) (logmend does not reboot databases)",
                    waiting.join(", ")
                );
                return Ok(Checked { resource, state: State::Pending(reason) });
            }
            let reason = match engine {
                AuroraEngine::Mysql => {
                    format!("`audit` exported; {group} has {AUDIT_LOGGING}=1 and {AUDIT_EVENTS} set")
                }
                AuroraEngine::Postgresql => "`postgresql` exported".to_owned(),
            };
            return Ok(Checked { resource, state: State::Compliant(reason) });
        }
        Ok(Checked {
            resource,
            state: State::Noncompliant {
                reason: format!("{engine_name} cluster {id}: {}", problems.join("; ")),
                finding: ClusterFinding {
                    cluster_id: id.clone(),
                    instances: cluster
                        .db_cluster_members()
                        .iter()
                        .filter_map(|m| m.db_instance_identifier().map(str::to_owned))
                        .collect(),
                    export_missing,
                    parameters,
                },
            },
        })
    }

    fn plan(&self, config: &Config, f: &ClusterFinding) -> Vec<ClusterStep> {
        let mut steps = Vec::new();
        let mut attach_group = None;
        match &f.parameters {
            ParameterFix::None => {}
            ParameterFix::SetInGroup { group, current } => {
                steps.push(ClusterStep::SetAuditParameters {
                    group: group.clone(),
                    parameters: parameters_to_set(current, config),
                });
            }
            ParameterFix::CopyAndAttach { source, target_name, target_exists, target, .. } => {
                if !target_exists {
                    steps.push(ClusterStep::CopyParameterGroup { source: source.clone(), target: target_name.clone() });
                }
                let parameters = parameters_to_set(target, config);
                if !parameters.is_empty() {
                    steps.push(ClusterStep::SetAuditParameters { group: target_name.clone(), parameters });
                }
                attach_group = Some(target_name.clone());
            }
        }
        if f.export_missing.is_some() || attach_group.is_some() {
            // One ModifyDBCluster for both: a second one right after the first could find the
            // cluster `modifying`.
            steps.push(ClusterStep::ModifyCluster {
                cluster_id: f.cluster_id.clone(),
                enable_log_type: f.export_missing,
                attach_group,
            });
        }
        steps
    }

    fn describe(&self, step: &ClusterStep) -> Change {
        match step {
            ClusterStep::CopyParameterGroup { source, target } => {
                Change::new("rds:CopyDBClusterParameterGroup", format!("{source} -> {target}"))
            }
            ClusterStep::SetAuditParameters { group, parameters } => {
                let set: Vec<String> = parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
                Change::new("rds:ModifyDBClusterParameterGroup", format!("{group}: {}", set.join(" ")))
            }
            ClusterStep::ModifyCluster { cluster_id, enable_log_type, attach_group } => {
                let mut detail = vec![cluster_id.clone()];
                if let Some(t) = enable_log_type {
                    detail.push(format!("CloudwatchLogsExportConfiguration.EnableLogTypes={t}"));
                }
                if let Some(g) = attach_group {
                    detail.push(format!("DBClusterParameterGroupName={g}"));
                }
                Change::new("rds:ModifyDBCluster", detail.join(" "))
            }
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        f: &ClusterFinding,
        plan: &[ClusterStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            if let Err(error) = apply_step(cx, step).await {
                return Err(ApplyError { done, error });
            }
            done.push(self.describe(step));
        }
        let mut did = Vec::new();
        if let Some(t) = f.export_missing {
            did.push(format!("`{t}` exported"));
        }
        match &f.parameters {
            ParameterFix::None => {}
            ParameterFix::SetInGroup { group, .. } => did.push(format!("audit parameters set in {group}")),
            ParameterFix::CopyAndAttach { target_name, exempt_sharer, source, .. } => {
                did.push(format!("{target_name} (audit parameters set) attached"));
                if let Some(other) = exempt_sharer {
                    did.push(format!("{source} is left as it is: exempt cluster {other} shares it"));
                }
                if !f.instances.is_empty() {
                    return Ok(Applied::Pending(format!(
                        "{}; the parameter group applies when the cluster's instances reboot ({}; logmend does not reboot databases)",
                        did.join("; "),
                        f.instances.join(", ")
                    )));
                }
            }
        }
        Ok(Applied::Fixed(did.join("; ")))
    }
}

async fn apply_step(cx: &Context<'_, Clients>, step: &ClusterStep) -> Result<(), ControlError> {
    let rds = &cx.clients.rds;
    match step {
        ClusterStep::CopyParameterGroup { source, target } => {
            let copied = rds
                .copy_db_cluster_parameter_group()
                .source_db_cluster_parameter_group_identifier(source)
                .target_db_cluster_parameter_group_identifier(target)
                .target_db_cluster_parameter_group_description(format!(
                    "{source} with Aurora MySQL audit logging, created by logmend"
                ))
                .tags(managed_by_tag())
                .send()
                .await;
            Ok(created_or_existing(
                copied,
                |e| e.is_db_parameter_group_already_exists_fault(),
                "rds:CopyDBClusterParameterGroup",
                target,
            )?)
        }
        ClusterStep::SetAuditParameters { group, parameters } => {
            let params = immediate_parameters(parameters.iter().map(|(name, value)| (*name, value.as_str())));
            rds.modify_db_cluster_parameter_group()
                .db_cluster_parameter_group_name(group)
                .set_parameters(Some(params))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("rds:ModifyDBClusterParameterGroup", group, e).into())
        }
        ClusterStep::ModifyCluster { cluster_id, enable_log_type, attach_group } => {
            let mut modify = rds.modify_db_cluster().db_cluster_identifier(cluster_id);
            if let Some(t) = enable_log_type {
                modify = modify.cloudwatch_logs_export_configuration(
                    CloudwatchLogsExportConfiguration::builder().enable_log_types(*t).build(),
                );
            }
            if let Some(g) = attach_group {
                modify = modify.db_cluster_parameter_group_name(g);
            }
            modify.send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("rds:ModifyDBCluster", cluster_id, e).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logmend_core::decision::Mode;

    fn params(logging: Option<&str>, events: Option<&str>) -> AuditParameters {
        AuditParameters { logging: logging.map(Into::into), events: events.map(Into::into) }
    }

    #[test]
    fn audit_needs_logging_on_and_some_events() {
        assert!(params(Some("1"), Some("CONNECT")).complete());
        assert!(!params(Some("0"), Some("CONNECT")).complete());
        assert!(!params(Some("1"), Some("  ")).complete());
        assert!(!params(None, None).complete(), "absent is the engine default: off");
    }

    #[test]
    fn only_what_is_missing_is_set_and_the_accounts_events_are_kept() {
        let c = Config::new(Mode::Remediate);
        assert_eq!(
            parameters_to_set(&params(None, None), &c),
            vec![(AUDIT_LOGGING, "1".to_owned()), (AUDIT_EVENTS, "CONNECT,QUERY_DCL,QUERY_DDL".to_owned())]
        );
        assert_eq!(parameters_to_set(&params(Some("0"), Some("QUERY_DML")), &c), vec![(AUDIT_LOGGING, "1".to_owned())]);
    }

    #[test]
    fn default_group_plan_copies_sets_and_attaches_in_one_modify() {
        let c = Config::new(Mode::Remediate);
        let f = ClusterFinding {
            cluster_id: "orders".into(),
            instances: vec!["orders-1".into()],
            export_missing: Some("audit"),
            parameters: ParameterFix::CopyAndAttach {
                source: "default.aurora-mysql8.0".into(),
                target_name: "logmend-aurora-mysql8-0-audit".into(),
                target_exists: false,
                target: AuditParameters::default(),
                exempt_sharer: None,
            },
        };
        let apis: Vec<&str> =
            RdsClusterAuditLogs.plan(&c, &f).iter().map(|s| RdsClusterAuditLogs.describe(s).api).collect();
        assert_eq!(
            apis,
            ["rds:CopyDBClusterParameterGroup", "rds:ModifyDBClusterParameterGroup", "rds:ModifyDBCluster"]
        );
        let existing_and_set = ClusterFinding {
            export_missing: None,
            parameters: ParameterFix::CopyAndAttach {
                source: "default.aurora-mysql8.0".into(),
                target_name: "logmend-aurora-mysql8-0-audit".into(),
                target_exists: true,
                target: params(Some("1"), Some("CONNECT")),
                exempt_sharer: None,
            },
            ..f
        };
        let steps = RdsClusterAuditLogs.plan(&c, &existing_and_set);
        assert_eq!(
            steps,
            vec![ClusterStep::ModifyCluster {
                cluster_id: "orders".into(),
                enable_log_type: None,
                attach_group: Some("logmend-aurora-mysql8-0-audit".into())
            }],
            "a copy that exists and is right is only attached"
        );
        for s in RdsClusterAuditLogs.plan(&c, &existing_and_set) {
            let api = RdsClusterAuditLogs.describe(&s).api;
            assert!(SPEC.writes.iter().any(|p| p.action == api), "{api} not declared");
        }
    }

    #[test]
    fn group_names_are_valid_rds_identifiers() {
        assert_eq!(logmend_group_name("aurora-mysql8.0"), "logmend-aurora-mysql8-0-audit");
        assert_eq!(logmend_group_name("aurora-mysql5.7"), "logmend-aurora-mysql5-7-audit");
    }

    #[test]
    fn targets_name_the_cluster_or_the_group() {
        let ev = |name: &str, req: serde_json::Value| {
            ApiCallEvent::from_value(&serde_json::json!({"detail-type":"AWS API Call via CloudTrail","account":"1","region":"eu-west-1",
                "detail":{"eventSource":"rds.amazonaws.com","eventName":name,"requestParameters":req,"responseElements":null}}))
            .unwrap()
        };
        let t =
            RdsClusterAuditLogs.targets_in(&ev("ModifyDBCluster", serde_json::json!({"dBClusterIdentifier":"orders"})));
        assert_eq!(t.unwrap(), vec![ClusterTarget::Cluster("orders".into())]);
        let t = RdsClusterAuditLogs
            .targets_in(&ev("ModifyDBClusterParameterGroup", serde_json::json!({"dBClusterParameterGroupName":"app"})));
        assert_eq!(t.unwrap(), vec![ClusterTarget::UsingParameterGroup("app".into())]);
        let e =
            RdsClusterAuditLogs.targets_in(&ev("ModifyDBClusterParameterGroup", serde_json::json!({}))).unwrap_err();
        assert!(e.to_string().contains("dBClusterParameterGroupName"), "{e}");
    }
}
