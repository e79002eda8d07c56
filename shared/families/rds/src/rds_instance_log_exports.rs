//! `rds-instance-log-exports` (Security Hub RDS.9): every RDS DB instance exports its engine's
//! logs to CloudWatch Logs (MySQL and MariaDB: audit, error, general, slowquery; PostgreSQL:
//! postgresql, upgrade; Oracle: alert, audit, trace, listener; SQL Server: error, agent).
//!
//! Instances of an Aurora (or Multi-AZ) cluster export through their cluster: they are
//! `rds-cluster-audit-logs`' business and skipped here. A log type the engine version does
//! not offer (SQL Server Express has no agent log) is left out, asked of
//! DescribeDBEngineVersions only when something is missing. ModifyDBInstance's export change
//! applies at once (RDS API Reference, ModifyDBInstance, CloudwatchLogsExportConfiguration).
//!
//! On MySQL and MariaDB an export alone writes nothing. `audit` is empty without the
//! `MARIADB_AUDIT_PLUGIN` option in the instance's option group (RDS User Guide, "MariaDB Audit
//! Plugin support"; the plugin needs no restart), and `general` / `slowquery` without
//! `general_log=1`, `slow_query_log=1` and `log_output=FILE` in its DB parameter group (RDS
//! User Guide, "Publishing MySQL logs to Amazon CloudWatch Logs"; RDS writes these logs to
//! tables by default). Both sides are read and fixed. A `default.*` parameter group and a
//! `default:*` option group cannot be modified, so logmend makes its own once per engine
//! version (`logmend-mysql8-0-logs`, `logmend-mysql-8-0-audit`), sets it and attaches it. A
//! custom group is changed in place, unless an exempt instance shares it: then that group is
//! copied for this instance instead, so an exempt instance is never changed through it.
//! A newly attached parameter group applies at the next reboot (`pending`; logmend never
//! reboots a database); an option group is attached with ApplyImmediately only when nothing
//! else waits in the instance's pending modifications, which ApplyImmediately would also apply,
//! and otherwise waits for the maintenance window (`pending`).

use crate::Clients;
use crate::rds::{exempt, immediate_parameters, logmend_copy_name, managed_by_tag, readiness};
use aws_sdk_rds::types::{
    CloudwatchLogsExportConfiguration, DbInstance, OptionConfiguration, OptionSetting, PendingModifiedValues,
};
use logmend_core::aws::{AwsError, created_or_existing};
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, Readiness, State, Trigger,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

/// The option that writes MySQL's and MariaDB's `audit` log.
pub const AUDIT_PLUGIN: &str = "MARIADB_AUDIT_PLUGIN";
pub const AUDIT_PLUGIN_EVENTS: &str = "SERVER_AUDIT_EVENTS";
/// What `general` and `slowquery` need of the DB parameter group (all dynamic parameters).
pub const LOG_PARAMETERS: [(&str, &str); 3] = [("general_log", "1"), ("slow_query_log", "1"), ("log_output", "FILE")];

pub static SPEC: ControlSpec = ControlSpec {
    id: "rds-instance-log-exports",
    security_hub: &["RDS.9"],
    severity: logmend_core::control::Severity::Medium,
    resource_type: "AWS::RDS::DBInstance",
    triggers: &[Trigger {
        event_source: "rds.amazonaws.com",
        event_names: &[
            "CreateDBInstance",
            "ModifyDBInstance",
            "RestoreDBInstanceFromDBSnapshot",
            "ModifyDBParameterGroup",
            "ModifyOptionGroup",
        ],
    }],
    compliant_when: "the engine's log types that its version offers are exported (mysql/mariadb: audit, error, general, slowquery; postgres: postgresql, upgrade; oracle: alert, audit, trace, listener; sqlserver: error, agent); mysql/mariadb also have MARIADB_AUDIT_PLUGIN in the option group and general_log=1, slow_query_log=1, log_output=FILE in the DB parameter group; Aurora members are the cluster control's",
    fix: "ModifyDBInstance CloudwatchLogsExportConfiguration.EnableLogTypes with the missing types (the others are kept); mysql/mariadb: the plugin added to a custom option group and the parameters set in a custom parameter group; a default group (or one an exempt instance shares) is copied to logmend's own, set and attached: pending until a reboot (parameters) or the maintenance window (options, when other changes wait)",
    reads: &[
        Permission::any("rds:DescribeDBInstances"),
        Permission::any("rds:DescribeDBEngineVersions"),
        Permission::any("rds:DescribeOptionGroups"),
        Permission::on("rds:DescribeDBParameters", "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:pg:*"),
    ],
    writes: &[
        Permission::on("rds:ModifyDBInstance", "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:*"),
        // Attaching a group is authorised on the group too; only logmend's own are attached.
        Permission::on(
            "rds:ModifyDBInstance",
            "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:og:logmend-*",
        ),
        Permission::on(
            "rds:ModifyDBInstance",
            "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:pg:logmend-*",
        ),
        Permission::on("rds:ModifyOptionGroup", "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:og:*"),
        Permission::on(
            "rds:CreateOptionGroup",
            "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:og:logmend-*",
        ),
        // Copying reads the source group and creates logmend's.
        Permission::on("rds:CopyOptionGroup", "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:og:*"),
        Permission::on("rds:ModifyDBParameterGroup", "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:pg:*"),
        Permission::on("rds:CopyDBParameterGroup", "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:pg:*"),
        Permission::on(
            "rds:AddTagsToResource",
            "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:og:logmend-*",
        ),
        Permission::on(
            "rds:AddTagsToResource",
            "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:pg:logmend-*",
        ),
    ],
};

pub struct RdsInstanceLogExports;

/// An instance, or (from ModifyDBParameterGroup / ModifyOptionGroup) every instance that uses
/// a group. An instance's JSON is its identifier alone.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum InstanceRef {
    Instance(String),
    UsingParameterGroup { parameter_group: String },
    UsingOptionGroup { option_group: String },
}

impl std::fmt::Display for InstanceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InstanceRef::Instance(id) => f.write_str(id),
            InstanceRef::UsingParameterGroup { parameter_group } => {
                write!(f, "instances using parameter group {parameter_group}")
            }
            InstanceRef::UsingOptionGroup { option_group } => write!(f, "instances using option group {option_group}"),
        }
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

/// Whether the engine's logs need the audit plugin and the log parameters to have content.
pub fn needs_mysql_logging(engine: &str) -> bool {
    matches!(engine, "mysql" | "mariadb")
}

/// How one group (option or parameter) of an instance is made right.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum GroupFix {
    /// Right already, or not a group this engine needs.
    #[default]
    None,
    /// The account's own group, used by no exempt instance: change it.
    InPlace { group: String },
    /// A default group, or one an exempt instance shares: logmend's copy (made if missing,
    /// set if not right) is attached instead.
    Copy {
        source: String,
        target: String,
        target_exists: bool,
        target_right: bool,
        /// The exempt instance that shares `source`, when that is why it is copied.
        exempt_sharer: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceFinding {
    pub instance_id: String,
    pub enable: Vec<String>,
    pub option_group: GroupFix,
    /// Engine and major version, for a new option group.
    pub engine: String,
    pub major_version: String,
    pub parameter_group: GroupFix,
    /// The log parameters to set in the group that ends up attached.
    pub parameters: Vec<(&'static str, &'static str)>,
    /// Nothing else waits in the instance's pending modifications.
    pub nothing_pending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceStep {
    CreateOptionGroup {
        name: String,
        engine: String,
        major_version: String,
    },
    CopyOptionGroup {
        source: String,
        target: String,
    },
    AddAuditPlugin {
        group: String,
        events: String,
    },
    CopyParameterGroup {
        source: String,
        target: String,
    },
    SetLogParameters {
        group: String,
        parameters: Vec<(&'static str, &'static str)>,
    },
    ModifyInstance {
        instance_id: String,
        enable_log_types: Vec<String>,
        option_group: Option<String>,
        parameter_group: Option<String>,
        apply_immediately: bool,
    },
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

/// An option group: whether it has the audit plugin, and its engine and major version.
/// `None`: it does not exist.
async fn read_option_group(
    cx: &Context<'_, Clients>,
    name: &str,
) -> Result<Option<(bool, String, String)>, ControlError> {
    match cx.clients.rds.describe_option_groups().option_group_name(name).send().await {
        Ok(out) => Ok(out.option_groups_list().first().map(|g| {
            let plugin = g.options().iter().any(|o| o.option_name() == Some(AUDIT_PLUGIN));
            (
                plugin,
                g.engine_name().unwrap_or_default().to_owned(),
                g.major_engine_version().unwrap_or_default().to_owned(),
            )
        })),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_option_group_not_found_fault()) => Ok(None),
        Err(e) => Err(AwsError::from_sdk("rds:DescribeOptionGroups", name, e).into()),
    }
}

/// The log parameters a DB parameter group lacks. `None`: it does not exist.
async fn missing_log_parameters(
    cx: &Context<'_, Clients>,
    group: &str,
) -> Result<Option<Vec<(&'static str, &'static str)>>, ControlError> {
    // Only parameters someone set ("user"): the engine defaults are off and TABLE.
    let mut pages =
        cx.clients.rds.describe_db_parameters().db_parameter_group_name(group).source("user").into_paginator().send();
    let mut set: Vec<(String, String)> = Vec::new();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_db_parameter_group_not_found_fault()) => {
                return Ok(None);
            }
            Err(e) => return Err(AwsError::from_sdk("rds:DescribeDBParameters", group, e).into()),
        };
        for p in page.parameters() {
            if let (Some(n), Some(v)) = (p.parameter_name(), p.parameter_value()) {
                set.push((n.to_owned(), v.to_owned()));
            }
        }
    }
    let right = |name: &str, want: &str| {
        set.iter().any(|(n, v)| {
            n == name && if name == "log_output" { v.to_ascii_uppercase().contains(want) } else { v.trim() == want }
        })
    };
    Ok(Some(LOG_PARAMETERS.iter().copied().filter(|(n, v)| !right(n, v)).collect()))
}

/// Every non-member instance of the region that `keep` accepts (DescribeDBInstances, paginated).
async fn instances_where(
    cx: &Context<'_, Clients>,
    keep: impl Fn(&DbInstance) -> bool + Send,
) -> Result<Vec<DbInstance>, ControlError> {
    let mut pages = cx.clients.rds.describe_db_instances().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("rds:DescribeDBInstances", cx.region, e))?;
        out.extend(page.db_instances().iter().filter(|i| i.db_cluster_identifier().is_none() && keep(i)).cloned());
    }
    Ok(out)
}

/// The region's exempt instances other than the one being checked: a group one of them shares
/// is not logmend's to change. Listed at most once per check (both sides of an instance may
/// ask), and only when a custom group is about to be changed in place.
struct ExemptOthers<'a> {
    me: &'a str,
    listed: Option<Vec<DbInstance>>,
}

impl<'a> ExemptOthers<'a> {
    fn new(me: &'a str) -> Self {
        Self { me, listed: None }
    }

    /// The first exempt instance that `uses` the group.
    async fn sharing(
        &mut self,
        cx: &Context<'_, Clients>,
        uses: impl Fn(&DbInstance) -> bool,
    ) -> Result<Option<String>, ControlError> {
        if self.listed.is_none() {
            let me = self.me;
            let exempt_others =
                instances_where(cx, |i| i.db_instance_identifier() != Some(me) && exempt(cx, i.tag_list()));
            self.listed = Some(exempt_others.await?);
        }
        let found = self.listed.iter().flatten().find(|i| uses(i));
        Ok(found.and_then(|i| i.db_instance_identifier()).map(str::to_owned))
    }
}

fn option_group_of(db: &DbInstance) -> (Option<&str>, bool) {
    // A group waiting to apply is the one that counts; the old one is on its way out.
    let memberships = db.option_group_memberships();
    match memberships.iter().find(|m| m.status() == Some("pending-apply")) {
        Some(m) => (m.option_group_name(), true),
        None => (memberships.first().and_then(|m| m.option_group_name()), false),
    }
}

fn parameter_group_of(db: &DbInstance) -> (Option<&str>, bool) {
    let g = db.db_parameter_groups().first();
    (g.and_then(|g| g.db_parameter_group_name()), g.and_then(|g| g.parameter_apply_status()) == Some("pending-reboot"))
}

fn is_default_parameter_group(name: &str) -> bool {
    name.starts_with("default.")
}

fn is_default_option_group(name: &str) -> bool {
    name.starts_with("default:")
}

/// One side of a MySQL or MariaDB instance's logs: its option group (the audit plugin) or its
/// DB parameter group (the log parameters).
#[derive(Debug, Default)]
struct Side {
    /// What is wrong, for the decision's reason.
    problems: Vec<String>,
    /// What is right but waits to apply (`pending`).
    waiting: Option<String>,
    fix: GroupFix,
    /// The option group's engine and major version (for a new one).
    engine: String,
    major_version: String,
    /// The log parameters the attached group will need.
    parameters: Vec<(&'static str, &'static str)>,
}

/// The audit plugin in the option group in effect (or the one waiting to apply).
async fn audit_plugin_side(
    cx: &Context<'_, Clients>,
    db: &DbInstance,
    engine: &str,
    exempt_others: &mut ExemptOthers<'_>,
) -> Result<Side, ControlError> {
    let (og, og_pending) = option_group_of(db);
    let og = og.unwrap_or_default().to_owned();
    let (has_plugin, og_engine, og_major) = match og.as_str() {
        "" => Default::default(),
        name => read_option_group(cx, name).await?.unwrap_or_default(),
    };
    // A group RDS does not describe still has the instance's engine and major version.
    let major = db.engine_version().unwrap_or_default().splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
    let mut side = Side {
        engine: if og_engine.is_empty() { engine.to_owned() } else { og_engine },
        major_version: if og_major.is_empty() { major } else { og_major },
        ..Side::default()
    };
    if has_plugin {
        side.waiting = og_pending
            .then(|| format!("option group {og} (with {AUDIT_PLUGIN}) applies at the next maintenance window"));
        return Ok(side);
    }
    side.problems.push(format!("option group {og} lacks {AUDIT_PLUGIN}, so the `audit` log stays empty"));
    let (copy_base, sharer) = if og.is_empty() || is_default_option_group(&og) {
        (Some(format!("{}-{}", side.engine, side.major_version.replace('.', "-"))), None)
    } else {
        let uses = |i: &DbInstance| {
            i.option_group_memberships()
                .iter()
                .any(|mb| mb.option_group_name().is_some_and(|n| n.eq_ignore_ascii_case(&og)))
        };
        let sharer = exempt_others.sharing(cx, uses).await?;
        (sharer.as_ref().map(|_| og.clone()), sharer)
    };
    if let Some(other) = &sharer {
        side.problems.push(format!("{og} is shared with exempt instance {other}, so logmend uses its own copy"));
    }
    side.fix = match copy_base {
        None => GroupFix::InPlace { group: og },
        Some(base) => {
            let target = logmend_copy_name(&base, "audit");
            let existing = read_option_group(cx, &target).await?;
            GroupFix::Copy {
                exempt_sharer: sharer,
                source: og,
                target_right: existing.as_ref().is_some_and(|(p, ..)| *p),
                target_exists: existing.is_some(),
                target,
            }
        }
    };
    Ok(side)
}

/// The log parameters in the DB parameter group in effect.
async fn log_parameter_side(
    cx: &Context<'_, Clients>,
    db: &DbInstance,
    id: &str,
    exempt_others: &mut ExemptOthers<'_>,
) -> Result<Side, ControlError> {
    let (pg, pg_pending) = parameter_group_of(db);
    let pg = pg.unwrap_or_default().to_owned();
    let lacking = missing_log_parameters(cx, &pg).await?.unwrap_or_else(|| LOG_PARAMETERS.to_vec());
    let mut side = Side::default();
    if lacking.is_empty() {
        side.waiting = pg_pending
            .then(|| format!("parameter group {pg} applies when {id} reboots (logmend does not reboot databases)"));
        return Ok(side);
    }
    let shown: Vec<String> = lacking.iter().map(|(n, v)| format!("{n}={v}")).collect();
    side.problems
        .push(format!("parameter group {pg} lacks {}, so `general` and `slowquery` stay empty", shown.join(", ")));
    let (copy_base, sharer) = if is_default_parameter_group(&pg) {
        (Some(pg.trim_start_matches("default.").to_owned()), None)
    } else {
        let uses = |i: &DbInstance| parameter_group_of(i).0.is_some_and(|n| n.eq_ignore_ascii_case(&pg));
        let sharer = exempt_others.sharing(cx, uses).await?;
        (sharer.as_ref().map(|_| pg.clone()), sharer)
    };
    if let Some(other) = &sharer {
        side.problems.push(format!("{pg} is shared with exempt instance {other}, so logmend uses its own copy"));
    }
    (side.fix, side.parameters) = match copy_base {
        None => (GroupFix::InPlace { group: pg }, lacking),
        Some(base) => {
            let target = logmend_copy_name(&base, "logs");
            let in_copy = missing_log_parameters(cx, &target).await?;
            let fix = GroupFix::Copy {
                exempt_sharer: sharer,
                source: pg,
                target_right: in_copy.as_ref().is_some_and(Vec::is_empty),
                target_exists: in_copy.is_some(),
                target,
            };
            (fix, in_copy.unwrap_or_else(|| LOG_PARAMETERS.to_vec()))
        }
    };
    Ok(side)
}

impl Control for RdsInstanceLogExports {
    type Clients = Clients;
    type Target = InstanceRef;
    type Finding = InstanceFinding;
    type Step = InstanceStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<InstanceRef>, EventError> {
        let required = |field: &'static str, key: &str| {
            event.request_parameters.str(key).map(str::to_owned).ok_or(EventError::MissingField { field })
        };
        match event.event_name.as_str() {
            "ModifyDBParameterGroup" => Ok(vec![InstanceRef::UsingParameterGroup {
                parameter_group: required("detail.requestParameters.dBParameterGroupName", "dBParameterGroupName")?,
            }]),
            "ModifyOptionGroup" => Ok(vec![InstanceRef::UsingOptionGroup {
                option_group: required("detail.requestParameters.optionGroupName", "optionGroupName")?,
            }]),
            _ => {
                let id = event
                    .response_str("dBInstanceIdentifier")
                    .or_else(|| event.request_parameters.str("dBInstanceIdentifier"))
                    .ok_or(EventError::MissingField { field: "detail.requestParameters.dBInstanceIdentifier" })?;
                Ok(vec![InstanceRef::Instance(id.to_owned())])
            }
        }
    }

    async fn expand(&self, cx: &Context<'_, Clients>, target: InstanceRef) -> Result<Vec<InstanceRef>, ControlError> {
        let found = match &target {
            InstanceRef::Instance(_) => return Ok(vec![target]),
            InstanceRef::UsingParameterGroup { parameter_group: g } => {
                instances_where(cx, |i| parameter_group_of(i).0.is_some_and(|n| n.eq_ignore_ascii_case(g))).await?
            }
            InstanceRef::UsingOptionGroup { option_group: g } => {
                instances_where(cx, |i| {
                    i.option_group_memberships()
                        .iter()
                        .any(|m| m.option_group_name().is_some_and(|n| n.eq_ignore_ascii_case(g)))
                })
                .await?
            }
        };
        Ok(found
            .iter()
            .filter_map(|i| i.db_instance_identifier().map(|id| InstanceRef::Instance(id.to_owned())))
            .collect())
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<InstanceRef>, ControlError> {
        let all = instances_where(cx, |_| true).await?;
        Ok(all
            .iter()
            .filter_map(|i| i.db_instance_identifier().map(|id| InstanceRef::Instance(id.to_owned())))
            .collect())
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        target: &InstanceRef,
    ) -> Result<Checked<InstanceFinding>, ControlError> {
        let InstanceRef::Instance(id) = target else {
            // `expand` resolves these before any check.
            return Ok(Checked { resource: target.to_string(), state: State::Skipped("not an instance".into()) });
        };
        let described = match cx.clients.rds.describe_db_instances().db_instance_identifier(id).send().await {
            Ok(out) => out.db_instances().first().cloned(),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_db_instance_not_found_fault()) => None,
            Err(e) => return Err(AwsError::from_sdk("rds:DescribeDBInstances", id, e).into()),
        };
        let Some(db) = described else {
            return Ok(Checked { resource: id.clone(), state: State::Skipped("the instance no longer exists".into()) });
        };
        let resource = db.db_instance_arn().unwrap_or(id).to_owned();
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
        let mut problems = Vec::new();
        let mut waiting = Vec::new();
        let exported = db.enabled_cloudwatch_logs_exports();
        let missing: Vec<&str> = wanted.iter().copied().filter(|t| !exported.iter().any(|e| e == t)).collect();
        let mut enable: Vec<&str> = Vec::new();
        let mut unavailable = String::new();
        let mut offered_wanted: Vec<&str> = wanted.to_vec();
        if !missing.is_empty() {
            let version = db.engine_version();
            let offered = exportable(cx, engine, version).await?;
            let not_offered: Vec<&str>;
            (enable, not_offered) =
                missing.iter().partition(|t| offered.as_ref().is_none_or(|o| o.iter().any(|x| x == *t)));
            if !not_offered.is_empty() {
                unavailable =
                    format!(" ({} not offered by {engine} {})", not_offered.join(", "), version.unwrap_or(""));
                offered_wanted.retain(|t| !not_offered.contains(t));
            }
            if !enable.is_empty() {
                problems.push(format!("does not export {}", enable.join(", ")));
            }
        }

        let mut plugin = Side::default();
        let mut log_parameters = Side::default();
        if needs_mysql_logging(engine) {
            let mut exempt_others = ExemptOthers::new(id);
            plugin = audit_plugin_side(cx, &db, engine, &mut exempt_others).await?;
            log_parameters = log_parameter_side(cx, &db, id, &mut exempt_others).await?;
            for side in [&plugin, &log_parameters] {
                problems.extend(side.problems.iter().cloned());
                waiting.extend(side.waiting.iter().cloned());
            }
        }

        if problems.is_empty() {
            let mut reason = format!("exports {}{unavailable}", offered_wanted.join(", "));
            if needs_mysql_logging(engine) {
                reason.push_str(&format!("; {AUDIT_PLUGIN} and the log parameters set"));
            }
            if !waiting.is_empty() {
                return Ok(Checked { resource, state: State::Pending(format!("{reason}; {}", waiting.join("; "))) });
            }
            return Ok(Checked { resource, state: State::Compliant(reason) });
        }
        let nothing_pending =
            db.pending_modified_values().is_none_or(|p| *p == PendingModifiedValues::builder().build());
        Ok(Checked {
            resource,
            state: State::Noncompliant {
                reason: format!("{engine} instance {id}: {}{unavailable}", problems.join("; ")),
                finding: InstanceFinding {
                    instance_id: id.clone(),
                    enable: enable.into_iter().map(str::to_owned).collect(),
                    option_group: plugin.fix,
                    engine: plugin.engine,
                    major_version: plugin.major_version,
                    parameter_group: log_parameters.fix,
                    parameters: log_parameters.parameters,
                    nothing_pending,
                },
            },
        })
    }

    fn plan(&self, config: &Config, f: &InstanceFinding) -> Vec<InstanceStep> {
        let mut steps = Vec::new();
        let mut attach_option = None;
        match &f.option_group {
            GroupFix::None => {}
            GroupFix::InPlace { group } => steps.push(InstanceStep::AddAuditPlugin {
                group: group.clone(),
                events: config.aurora_audit_events.clone(),
            }),
            GroupFix::Copy { source, target, target_exists, target_right, .. } => {
                if !target_exists {
                    steps.push(if source.is_empty() || is_default_option_group(source) {
                        // A default option group has no options: a new one is its copy.
                        InstanceStep::CreateOptionGroup {
                            name: target.clone(),
                            engine: f.engine.clone(),
                            major_version: f.major_version.clone(),
                        }
                    } else {
                        InstanceStep::CopyOptionGroup { source: source.clone(), target: target.clone() }
                    });
                }
                if !target_right {
                    steps.push(InstanceStep::AddAuditPlugin {
                        group: target.clone(),
                        events: config.aurora_audit_events.clone(),
                    });
                }
                attach_option = Some(target.clone());
            }
        }
        let mut attach_parameters = None;
        match &f.parameter_group {
            GroupFix::None => {}
            GroupFix::InPlace { group } => {
                steps.push(InstanceStep::SetLogParameters { group: group.clone(), parameters: f.parameters.clone() })
            }
            GroupFix::Copy { source, target, target_exists, target_right, .. } => {
                if !target_exists {
                    steps.push(InstanceStep::CopyParameterGroup { source: source.clone(), target: target.clone() });
                }
                if !target_right {
                    steps.push(InstanceStep::SetLogParameters {
                        group: target.clone(),
                        parameters: f.parameters.clone(),
                    });
                }
                attach_parameters = Some(target.clone());
            }
        }
        if !f.enable.is_empty() || attach_option.is_some() || attach_parameters.is_some() {
            // One ModifyDBInstance for all: a second right after the first could find the
            // instance `modifying`.
            steps.push(InstanceStep::ModifyInstance {
                instance_id: f.instance_id.clone(),
                enable_log_types: f.enable.clone(),
                apply_immediately: attach_option.is_some() && f.nothing_pending,
                option_group: attach_option,
                parameter_group: attach_parameters,
            });
        }
        steps
    }

    fn describe(&self, step: &InstanceStep) -> Change {
        match step {
            InstanceStep::CreateOptionGroup { name, engine, major_version } => {
                Change::new("rds:CreateOptionGroup", format!("{name} ({engine} {major_version})"))
            }
            InstanceStep::CopyOptionGroup { source, target } => {
                Change::new("rds:CopyOptionGroup", format!("{source} -> {target}"))
            }
            InstanceStep::AddAuditPlugin { group, events } => Change::new(
                "rds:ModifyOptionGroup",
                format!(
                    "{group}: OptionsToInclude={AUDIT_PLUGIN} ({AUDIT_PLUGIN_EVENTS}={events}) ApplyImmediately=true"
                ),
            ),
            InstanceStep::CopyParameterGroup { source, target } => {
                Change::new("rds:CopyDBParameterGroup", format!("{source} -> {target}"))
            }
            InstanceStep::SetLogParameters { group, parameters } => {
                let set: Vec<String> = parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
                Change::new("rds:ModifyDBParameterGroup", format!("{group}: {}", set.join(" ")))
            }
            InstanceStep::ModifyInstance {
                instance_id,
                enable_log_types,
                option_group,
                parameter_group,
                apply_immediately,
            } => {
                let mut detail = vec![instance_id.clone()];
                if !enable_log_types.is_empty() {
                    detail.push(format!(
                        "CloudwatchLogsExportConfiguration.EnableLogTypes={}",
                        enable_log_types.join(",")
                    ));
                }
                if let Some(g) = option_group {
                    detail.push(format!("OptionGroupName={g}"));
                }
                if let Some(g) = parameter_group {
                    detail.push(format!("DBParameterGroupName={g}"));
                }
                if *apply_immediately {
                    detail.push("ApplyImmediately=true".into());
                }
                Change::new("rds:ModifyDBInstance", detail.join(" "))
            }
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        f: &InstanceFinding,
        plan: &[InstanceStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            if let Err(error) = apply_step(cx, step).await {
                return Err(ApplyError { done, error });
            }
            done.push(self.describe(step));
        }
        let mut did = Vec::new();
        let mut waits = Vec::new();
        if !f.enable.is_empty() {
            did.push(format!("{} exported to CloudWatch Logs", f.enable.join(", ")));
        }
        let attach = plan.iter().find_map(|s| match s {
            InstanceStep::ModifyInstance { option_group, parameter_group, apply_immediately, .. } => {
                Some((option_group.clone(), parameter_group.clone(), *apply_immediately))
            }
            _ => None,
        });
        match &f.option_group {
            GroupFix::None => {}
            GroupFix::InPlace { group } => did.push(format!("{AUDIT_PLUGIN} added to {group}")),
            GroupFix::Copy { target, source, exempt_sharer, .. } => {
                did.push(format!("{target} (with {AUDIT_PLUGIN}) attached"));
                if let Some(other) = exempt_sharer {
                    did.push(format!("{source} is left as it is: exempt instance {other} shares it"));
                }
                if attach.as_ref().is_some_and(|(_, _, now)| !now) {
                    waits.push(format!(
                        "{target} applies at the next maintenance window (other changes wait in the instance's pending modifications, which ApplyImmediately would also apply)"
                    ));
                }
            }
        }
        match &f.parameter_group {
            GroupFix::None => {}
            GroupFix::InPlace { group } => did.push(format!("log parameters set in {group}")),
            GroupFix::Copy { target, source, exempt_sharer, .. } => {
                did.push(format!("{target} (log parameters set) attached"));
                if let Some(other) = exempt_sharer {
                    did.push(format!("{source} is left as it is: exempt instance {other} shares it"));
                }
                waits.push(format!(
                    "{target} applies when {} reboots (logmend does not reboot databases)",
                    f.instance_id
                ));
            }
        }
        if waits.is_empty() {
            Ok(Applied::Fixed(did.join("; ")))
        } else {
            Ok(Applied::Pending(format!("{}; {}", did.join("; "), waits.join("; "))))
        }
    }
}

async fn apply_step(cx: &Context<'_, Clients>, step: &InstanceStep) -> Result<(), ControlError> {
    let rds = &cx.clients.rds;
    match step {
        InstanceStep::CreateOptionGroup { name, engine, major_version } => {
            let created = rds
                .create_option_group()
                .option_group_name(name)
                .engine_name(engine)
                .major_engine_version(major_version)
                .option_group_description(format!(
                    "{engine} {major_version} with the MariaDB Audit Plugin, created by logmend"
                ))
                .tags(managed_by_tag())
                .send()
                .await;
            Ok(created_or_existing(
                created,
                |e| e.is_option_group_already_exists_fault(),
                "rds:CreateOptionGroup",
                name,
            )?)
        }
        InstanceStep::CopyOptionGroup { source, target } => {
            let copied = rds
                .copy_option_group()
                .source_option_group_identifier(source)
                .target_option_group_identifier(target)
                .target_option_group_description(format!("{source} with the MariaDB Audit Plugin, created by logmend"))
                .tags(managed_by_tag())
                .send()
                .await;
            Ok(created_or_existing(
                copied,
                |e| e.is_option_group_already_exists_fault(),
                "rds:CopyOptionGroup",
                target,
            )?)
        }
        InstanceStep::AddAuditPlugin { group, events } => {
            let option = OptionConfiguration::builder()
                .option_name(AUDIT_PLUGIN)
                .option_settings(OptionSetting::builder().name(AUDIT_PLUGIN_EVENTS).value(events).build())
                .build();
            // The plugin needs no restart; ApplyImmediately applies the option change only.
            rds.modify_option_group()
                .option_group_name(group)
                .options_to_include(option)
                .apply_immediately(true)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("rds:ModifyOptionGroup", group, e).into())
        }
        InstanceStep::CopyParameterGroup { source, target } => {
            let copied = rds
                .copy_db_parameter_group()
                .source_db_parameter_group_identifier(source)
                .target_db_parameter_group_identifier(target)
                .target_db_parameter_group_description(format!(
                    "{source} with log_output=FILE and the general and slow query logs on, created by logmend"
                ))
                .tags(managed_by_tag())
                .send()
                .await;
            Ok(created_or_existing(
                copied,
                |e| e.is_db_parameter_group_already_exists_fault(),
                "rds:CopyDBParameterGroup",
                target,
            )?)
        }
        InstanceStep::SetLogParameters { group, parameters } => {
            let params = immediate_parameters(parameters.iter().copied());
            rds.modify_db_parameter_group()
                .db_parameter_group_name(group)
                .set_parameters(Some(params))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("rds:ModifyDBParameterGroup", group, e).into())
        }
        InstanceStep::ModifyInstance {
            instance_id,
            enable_log_types,
            option_group,
            parameter_group,
            apply_immediately,
        } => {
            let mut modify = rds.modify_db_instance().db_instance_identifier(instance_id);
            if !enable_log_types.is_empty() {
                modify = modify.cloudwatch_logs_export_configuration(
                    CloudwatchLogsExportConfiguration::builder()
                        .set_enable_log_types(Some(enable_log_types.clone()))
                        .build(),
                );
            }
            if let Some(g) = option_group {
                modify = modify.option_group_name(g);
            }
            if let Some(g) = parameter_group {
                modify = modify.db_parameter_group_name(g);
            }
            if *apply_immediately {
                modify = modify.apply_immediately(true);
            }
            modify
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("rds:ModifyDBInstance", instance_id, e).into())
        }
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

    fn mysql_on_defaults() -> InstanceFinding {
        InstanceFinding {
            instance_id: "shop".into(),
            enable: vec!["audit".into()],
            option_group: GroupFix::Copy {
                source: "default:mysql-8-0".into(),
                target: "logmend-mysql-8-0-audit".into(),
                target_exists: false,
                target_right: false,
                exempt_sharer: None,
            },
            engine: "mysql".into(),
            major_version: "8.0".into(),
            parameter_group: GroupFix::Copy {
                source: "default.mysql8.0".into(),
                target: "logmend-mysql8-0-logs".into(),
                target_exists: false,
                target_right: false,
                exempt_sharer: None,
            },
            parameters: LOG_PARAMETERS.to_vec(),
            nothing_pending: true,
        }
    }

    fn apis(f: &InstanceFinding) -> Vec<&'static str> {
        let c = Config::new(logmend_core::decision::Mode::Remediate);
        RdsInstanceLogExports.plan(&c, f).iter().map(|s| RdsInstanceLogExports.describe(s).api).collect()
    }

    #[test]
    fn default_groups_are_made_set_and_attached_in_one_modify() {
        let f = mysql_on_defaults();
        assert_eq!(
            apis(&f),
            [
                "rds:CreateOptionGroup",
                "rds:ModifyOptionGroup",
                "rds:CopyDBParameterGroup",
                "rds:ModifyDBParameterGroup",
                "rds:ModifyDBInstance"
            ]
        );
        for api in apis(&f) {
            assert!(SPEC.writes.iter().any(|p| p.action == api), "{api} not declared");
        }
    }

    #[test]
    fn logmends_groups_that_exist_and_are_right_are_only_attached_and_apply_immediately_waits_for_others() {
        let mut f = mysql_on_defaults();
        for fix in [&mut f.option_group, &mut f.parameter_group] {
            if let GroupFix::Copy { target_exists, target_right, .. } = fix {
                (*target_exists, *target_right) = (true, true);
            }
        }
        f.nothing_pending = false;
        let steps = RdsInstanceLogExports.plan(&Config::new(logmend_core::decision::Mode::Remediate), &f);
        assert_eq!(
            steps,
            vec![InstanceStep::ModifyInstance {
                instance_id: "shop".into(),
                enable_log_types: vec!["audit".into()],
                option_group: Some("logmend-mysql-8-0-audit".into()),
                parameter_group: Some("logmend-mysql8-0-logs".into()),
                apply_immediately: false,
            }],
            "someone else's change waits in the instance: no ApplyImmediately"
        );
    }

    #[test]
    fn a_custom_group_is_changed_in_place_and_a_copied_custom_group_is_copied() {
        let mut f = mysql_on_defaults();
        f.option_group = GroupFix::InPlace { group: "app-options".into() };
        f.parameter_group = GroupFix::Copy {
            source: "shared-params".into(),
            target: "logmend-shared-params-logs".into(),
            target_exists: false,
            target_right: false,
            exempt_sharer: Some("legacy".into()),
        };
        assert_eq!(
            apis(&f),
            ["rds:ModifyOptionGroup", "rds:CopyDBParameterGroup", "rds:ModifyDBParameterGroup", "rds:ModifyDBInstance"]
        );
        f.option_group = GroupFix::Copy {
            source: "shared-options".into(),
            target: "logmend-shared-options-audit".into(),
            target_exists: false,
            target_right: false,
            exempt_sharer: Some("legacy".into()),
        };
        assert_eq!(apis(&f)[0], "rds:CopyOptionGroup", "a custom option group is copied, not made empty");
    }

    #[test]
    fn targets_come_from_the_response_or_the_request() {
        let ev = serde_json::json!({"detail-type":"AWS API Call via CloudTrail","account":"1","region":"eu-west-1",
            "detail":{"eventSource":"rds.amazonaws.com","eventName":"CreateDBInstance",
            "requestParameters":{"dBInstanceIdentifier":"shop","masterUserPassword":"****"},
            "responseElements":{"dBInstanceIdentifier":"shop","dBInstanceStatus":"creating"}}});
        let t = RdsInstanceLogExports.targets_in(&ApiCallEvent::from_value(&ev).unwrap()).unwrap();
        assert_eq!(t, vec![InstanceRef::Instance("shop".into())]);
    }
}
