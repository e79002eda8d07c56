//! `cloudtrail-cloudwatch-logs` (Security Hub CloudTrail.5): every trail delivers to a
//! CloudWatch Logs log group through a role CloudTrail can assume.
//!
//! The fix has four writes, each safe to repeat, so a run cut short is finished by the next:
//! the log group (`/aws/cloudtrail/<trail>`, with retention), the delivery role (under the
//! `/logmend/` path, trusted by `cloudtrail.amazonaws.com` with no `aws:SourceArn` condition,
//! which CloudTrail does not support for this role), its inline policy (only
//! `logs:CreateLogStream` and `logs:PutLogEvents` on that group's streams), then UpdateTrail
//! with both ARNs. IAM is eventually consistent: UpdateTrail right after CreateRole is refused
//! with `InvalidCloudWatchLogsRoleArnException` / `InvalidCloudWatchLogsLogGroupArnException`
//! for up to about two minutes, so that call is retried with backoff.
//!
//! Two ARNs on the trail are not delivery: a role deleted, stripped of its policy or its
//! trust, or a log group deleted leaves them in place while nothing arrives. So a trail with
//! both ARNs costs one more read, GetTrailStatus, whose `LatestCloudWatchLogsDeliveryError`
//! CloudTrail sets when a delivery fails (CloudTrail API Reference, GetTrailStatus). What
//! logmend built (its role, `/aws/cloudtrail/<trail>`) is repaired; anything else is reported
//! `noncompliant` with CloudTrail's error. The IAM and Logs calls that break delivery
//! (DeleteRole, DeleteRolePolicy, UpdateAssumeRolePolicy, DeleteLogGroup) trigger a check of
//! the trails that use the role or group, which reads the pieces at once: CloudTrail reports
//! the error only after its next delivery attempt.

use crate::Clients;
use crate::trail::{
    HomeTrail, list_trail_arns, non_empty, parse_trail_arn, read_home_trail, trail_exempt, trail_named_in,
};
use logmend_core::aws::{AwsError, created_or_existing};
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, State, Trigger, is_exempt,
    while_iam_propagates,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};
use serde_json::{Value, json};
use std::time::Duration;

pub const ROLE_PATH: &str = "/logmend/";
pub const ROLE_POLICY_NAME: &str = "logmend-cloudtrail-delivery";
pub const LOG_GROUP_PREFIX: &str = "/aws/cloudtrail/";
/// A delivery this recent, through pieces that are all intact, outweighs an error CloudTrail
/// still shows: GetTrailStatus does not say when the error happened.
const RECENT_DELIVERY: Duration = Duration::from_secs(3600);
const ROLE_PREFIX: &str = "LogmendTrail-";
use logmend_core::control::MANAGED_BY_TAG as MANAGED_BY;

pub static SPEC: ControlSpec = ControlSpec {
    id: "cloudtrail-cloudwatch-logs",
    security_hub: &["CloudTrail.5"],
    severity: logmend_core::control::Severity::Low,
    resource_type: "AWS::CloudTrail::Trail",
    triggers: &[
        Trigger { event_source: "cloudtrail.amazonaws.com", event_names: &["CreateTrail", "UpdateTrail"] },
        // IAM events arrive in us-east-1 only (CloudTrail User Guide, global service events).
        Trigger {
            event_source: "iam.amazonaws.com",
            event_names: &["DeleteRole", "DeleteRolePolicy", "UpdateAssumeRolePolicy"],
        },
        Trigger { event_source: "logs.amazonaws.com", event_names: &["DeleteLogGroup"] },
    ],
    compliant_when: "the trail has CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn, and GetTrailStatus reports no CloudWatch Logs delivery error",
    fix: "create /aws/cloudtrail/<trail> with retention and a delivery role allowed only CreateLogStream and PutLogEvents on it; UpdateTrail with both (retried while IAM propagates); a broken delivery through logmend's role is rebuilt (group, role, trust, policy), any other is reported",
    reads: &[
        Permission::any("cloudtrail:GetTrail"),
        Permission::any("cloudtrail:GetTrailStatus"),
        Permission::any("cloudtrail:DescribeTrails"),
        Permission::any("cloudtrail:ListTrails"),
        Permission::any("cloudtrail:ListTags"),
        Permission::any("logs:DescribeLogGroups"),
        Permission::any("logs:ListTagsForResource"),
        Permission::on("iam:GetRole", "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/logmend/*"),
        Permission::on("iam:GetRolePolicy", "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/logmend/*"),
    ],
    writes: &[
        Permission::on(
            "logs:CreateLogGroup",
            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/cloudtrail/*",
        ),
        Permission::on(
            "logs:TagResource",
            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/cloudtrail/*",
        ),
        Permission::on(
            "logs:PutRetentionPolicy",
            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/cloudtrail/*",
        ),
        Permission::on("iam:CreateRole", "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/logmend/*"),
        Permission::on("iam:TagRole", "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/logmend/*"),
        Permission::on("iam:PutRolePolicy", "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/logmend/*"),
        Permission::on("iam:UpdateAssumeRolePolicy", "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/logmend/*"),
        Permission::on("iam:PassRole", "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/logmend/*"),
        Permission::any("cloudtrail:UpdateTrail"),
    ],
};

pub struct CloudtrailCloudwatchLogs;

/// What an event or a listing names. A trail's JSON is its name or ARN alone, as before.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum TrailRef {
    /// A trail by name or ARN (CloudTrail's events, the listing).
    Trail(String),
    /// A trail whose delivery an IAM or Logs call may have broken: its role and group are read
    /// even while CloudTrail still reports no error.
    Suspect { trail: String, cause: String },
    /// Every trail of the region that delivers through this role (expanded).
    Role { role_name: String },
    /// Every trail of the region that delivers to this log group (expanded).
    LogGroup { log_group: String },
}

impl TrailRef {
    fn trail(&self) -> Option<&str> {
        match self {
            TrailRef::Trail(t) | TrailRef::Suspect { trail: t, .. } => Some(t),
            TrailRef::Role { .. } | TrailRef::LogGroup { .. } => None,
        }
    }
}

impl std::fmt::Display for TrailRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrailRef::Trail(t) | TrailRef::Suspect { trail: t, .. } => f.write_str(t),
            TrailRef::Role { role_name } => write!(f, "trails delivering through role {role_name}"),
            TrailRef::LogGroup { log_group } => write!(f, "trails delivering to log group {log_group}"),
        }
    }
}

/// The role CloudTrail assumes to write to the trail's log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailDeliveryRole {
    pub name: String,
    pub arn: String,
}

impl TrailDeliveryRole {
    /// One role per trail and region (trail names repeat across regions; role names are
    /// account-wide), named to fit IAM's 64 characters for any trail name.
    pub fn for_trail(partition: &str, account: &str, region: &str, trail_name: &str) -> Self {
        let readable = format!("{ROLE_PREFIX}{region}-{trail_name}");
        let name = if readable.len() <= 64 {
            readable
        } else {
            let hash = format!("{:016x}", fnv1a(format!("{region}/{trail_name}").as_bytes()));
            // 13 + region + '-' + part + '-' + 12 hex ≤ 64
            let room = 64 - ROLE_PREFIX.len() - region.len() - 2 - 12;
            let part: String = trail_name.chars().take(room).collect();
            format!("{ROLE_PREFIX}{region}-{part}-{}", &hash[..12])
        };
        let arn = format!("arn:{partition}:iam::{account}:role{ROLE_PATH}{name}");
        Self { name, arn }
    }

    pub fn trust_policy() -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "sts:AssumeRole"
            }]
        })
    }

    pub fn delivery_policy(log_group_arn: &str) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "CloudTrailDeliveryToOneLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": format!("{}:log-stream:*", log_group_arn.trim_end_matches(":*"))
            }]
        })
    }
}

/// FNV-1a, 64 bits: a stable hash for shortening names (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupState {
    pub name: String,
    /// In the form CloudTrail takes: `arn:…:log-group:NAME:*`.
    pub arn: String,
    pub exists: bool,
    pub retention_days: Option<i32>,
    /// The group is tagged exempt: the trail may deliver to it, but logmend sets nothing on it
    /// (a trail's fix must not reach an exempt group through the trail).
    pub exempt: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleState {
    pub role: TrailDeliveryRole,
    pub exists: bool,
    /// Whether the role trusts `cloudtrail.amazonaws.com` exactly as logmend made it.
    pub trust_current: bool,
    /// Whether the inline policy is there with exactly the delivery statement.
    pub policy_current: bool,
}

/// A trail without CloudWatch Logs delivery, and what already exists of the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailFinding {
    pub trail_name: String,
    pub trail_arn: String,
    pub log_group: LogGroupState,
    pub role: RoleState,
    /// Why logmend may not repair this delivery (the role or group is someone else's): then
    /// nothing is planned and the decision names CloudTrail's error.
    pub not_ours: Option<String>,
    /// What is broken of a delivery the trail already names (the repair's reason).
    pub broken: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrailStep {
    CreateLogGroup { name: String },
    PutRetentionPolicy { name: String, days: i32 },
    CreateRole { role: TrailDeliveryRole },
    UpdateAssumeRolePolicy { role: TrailDeliveryRole },
    PutRolePolicy { role: TrailDeliveryRole, log_group_arn: String },
    UpdateTrail { trail_arn: String, log_group_arn: String, role_arn: String },
}

impl Control for CloudtrailCloudwatchLogs {
    type Clients = Clients;
    type Target = TrailRef;
    type Finding = TrailFinding;
    type Step = TrailStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<TrailRef>, EventError> {
        let required = |field: &'static str, key: &str| {
            event.request_parameters.str(key).map(str::to_owned).ok_or(EventError::MissingField { field })
        };
        match event.event_source.as_str() {
            "iam.amazonaws.com" => {
                Ok(vec![TrailRef::Role { role_name: required("detail.requestParameters.roleName", "roleName")? }])
            }
            "logs.amazonaws.com" => Ok(vec![TrailRef::LogGroup {
                log_group: required("detail.requestParameters.logGroupName", "logGroupName")?,
            }]),
            _ => Ok(vec![TrailRef::Trail(trail_named_in(event)?)]),
        }
    }

    /// A role or a log group stands for the trails of this region that deliver through it.
    async fn expand(&self, cx: &Context<'_, Clients>, target: TrailRef) -> Result<Vec<TrailRef>, ControlError> {
        let (role, group) = match &target {
            TrailRef::Trail(_) | TrailRef::Suspect { .. } => return Ok(vec![target]),
            TrailRef::Role { role_name } => (Some(role_name.as_str()), None),
            TrailRef::LogGroup { log_group } => (None, Some(log_group.as_str())),
        };
        let mut found = Vec::new();
        for trail in &crate::trail::describe_trails(cx, true).await? {
            let Some(arn) = trail.trail_arn() else { continue };
            let uses_role = role.is_some_and(|r| {
                non_empty(trail.cloud_watch_logs_role_arn()).is_some_and(|a| a.rsplit('/').next() == Some(r))
            });
            let uses_group = group.is_some_and(|g| {
                non_empty(trail.cloud_watch_logs_log_group_arn()).and_then(log_group_name).as_deref() == Some(g)
            });
            if !(uses_role || uses_group) {
                continue;
            }
            let home = non_empty(trail.home_region()).or(parse_trail_arn(arn).map(|a| a.region));
            if home.is_some_and(|h| h != cx.region) {
                // IAM events reach us-east-1 only; the trail's own region repairs it on its sweep.
                tracing::info!(trail = arn, home = ?home, cause = %target, "trail of another region; its region's sweep checks it");
                continue;
            }
            found.push(TrailRef::Suspect { trail: arn.to_owned(), cause: target.to_string() });
        }
        Ok(found)
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<TrailRef>, ControlError> {
        Ok(list_trail_arns(cx).await?.into_iter().map(TrailRef::Trail).collect())
    }

    async fn check(&self, cx: &Context<'_, Clients>, target: &TrailRef) -> Result<Checked<TrailFinding>, ControlError> {
        let c = &cx.clients;
        let gone = |resource: &str| Checked {
            resource: resource.to_owned(),
            state: State::Skipped("the trail no longer exists".into()),
        };
        let Some(name) = target.trail() else {
            // Only `expand` sees roles and groups; a listing never yields one.
            return Ok(Checked { resource: target.to_string(), state: State::Skipped("not a trail".into()) });
        };
        let home_trail = match read_home_trail(cx, name).await? {
            Ok(t) => t,
            Err(skip) => return Ok(Checked { resource: skip.resource, state: State::Skipped(skip.reason) }),
        };
        let HomeTrail { trail, arn: trail_arn, name: trail_name, partition, account, home } = &home_trail;
        let (trail_arn, trail_name) = (trail_arn.clone(), trail_name.clone());
        let (partition, account, home) = (partition.as_str(), account.as_str(), home.as_str());
        let group_arn = non_empty(trail.cloud_watch_logs_log_group_arn());
        let role_arn = non_empty(trail.cloud_watch_logs_role_arn());
        let cause = match target {
            TrailRef::Suspect { cause, .. } => Some(cause.as_str()),
            _ => None,
        };
        let expected_role = TrailDeliveryRole::for_trail(partition, account, home, &trail_name);
        let mut delivery_error = None;
        let mut delivered_lately = false;
        if let (Some(group), Some(role)) = (group_arn, role_arn) {
            let status = match c.cloudtrail.get_trail_status().name(&trail_arn).send().await {
                Ok(out) => out,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_trail_not_found_exception()) => {
                    return Ok(gone(&trail_arn));
                }
                Err(e) => return Err(AwsError::from_sdk("cloudtrail:GetTrailStatus", &trail_arn, e).into()),
            };
            delivered_lately = status.latest_cloud_watch_logs_delivery_time().is_some_and(|t| {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                now.as_secs().saturating_sub(t.secs().max(0) as u64) < RECENT_DELIVERY.as_secs()
            });
            let last = status
                .latest_cloud_watch_logs_delivery_time()
                .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
                .map(|t| format!(" (last delivery {t})"))
                .unwrap_or_default();
            // Quoted inside logmend's own sentences, so without its closing full stop.
            delivery_error = non_empty(status.latest_cloud_watch_logs_delivery_error())
                .map(|e| e.trim().trim_end_matches('.').to_owned());
            if delivery_error.is_none() && cause.is_none() {
                return Ok(Checked {
                    resource: trail_arn,
                    state: State::Compliant(format!("delivers to {group}{last}")),
                });
            }
            if role != expected_role.arn {
                let group_name = log_group_name(group).unwrap_or_default();
                let error = match delivery_error {
                    Some(error) => error,
                    None => {
                        // Not logmend's role, so not logmend's to read. The group anyone may
                        // see: a deleted one is reported before CloudTrail's next attempt does.
                        let log_group = read_log_group(cx, partition, account, &group_name).await?;
                        if log_group.exists {
                            let reason = format!("delivers to {group}{last}; CloudTrail reports no delivery error");
                            return Ok(Checked { resource: trail_arn, state: State::Compliant(reason) });
                        }
                        format!("log group {group_name} does not exist")
                    }
                };
                let reason = format!(
                    "CloudTrail cannot deliver to {group}: {error}; the role {role} is not logmend's, so a person must repair it"
                );
                let finding = TrailFinding {
                    log_group: LogGroupState {
                        name: group_name,
                        arn: group.to_owned(),
                        exists: false,
                        retention_days: None,
                        exempt: false,
                    },
                    role: RoleState { role: expected_role, exists: false, trust_current: false, policy_current: false },
                    trail_name,
                    trail_arn: trail_arn.clone(),
                    not_ours: Some(reason.clone()),
                    broken: None,
                };
                return Ok(Checked { resource: trail_arn, state: State::Noncompliant { finding, reason } });
            }
        }

        if trail_exempt(cx, &trail_arn).await? {
            let reason = format!("tagged {}=true", cx.config.exempt_tag);
            return Ok(Checked { resource: trail_arn, state: State::Skipped(reason) });
        }

        // A group the trail already names is kept; otherwise logmend's own.
        let own_group = format!("{LOG_GROUP_PREFIX}{trail_name}");
        let group_name = group_arn.and_then(log_group_name).unwrap_or_else(|| own_group.clone());
        let log_group = read_log_group(cx, partition, account, &group_name).await?;
        let role = read_role(cx, expected_role, &log_group.arn).await?;
        let (reason, not_ours) = if let (Some(group), Some(_)) = (group_arn, role_arn) {
            let broken = broken_pieces(&log_group, &role);
            let reported = delivery_error.as_deref().map(|e| format!("CloudTrail reports: {e}; ")).unwrap_or_default();
            if broken.is_empty() {
                return Ok(Checked {
                    resource: trail_arn,
                    state: match delivery_error {
                        // The error may predate the last delivery: the API does not date it.
                        Some(e) if delivered_lately => State::Compliant(format!(
                            "delivers to {group}: delivered within the last hour through logmend's intact role, policy and group (CloudTrail still shows an earlier error: {e})"
                        )),
                        Some(e) => State::Pending(format!(
                            "delivers to {group} through logmend's role, its policy and the group all intact; CloudTrail's last error ({e}) clears at its next delivery"
                        )),
                        None => State::Compliant(format!("delivers to {group}; role, policy and group intact")),
                    },
                });
            }
            let reason = format!("trail {trail_name} cannot deliver: {reported}{}", broken.join(", "));
            // A deleted group logmend did not name is someone's choice to undo, not logmend's.
            let not_ours = (!log_group.exists && group_name != own_group).then(|| {
                format!("{reason}; {group_name} is not logmend's log group, so a person must recreate it or point the trail elsewhere")
            });
            (not_ours.clone().unwrap_or(reason), not_ours)
        } else {
            let missing = match (group_arn, role_arn) {
                (None, None) => "no CloudWatch Logs delivery",
                (None, Some(_)) => "a delivery role but no log group",
                _ => "a log group but no delivery role",
            };
            (format!("trail {trail_name} has {missing}"), None)
        };
        Ok(Checked {
            resource: trail_arn.clone(),
            state: State::Noncompliant {
                finding: TrailFinding {
                    broken: (group_arn.is_some() && role_arn.is_some()).then(|| reason.clone()),
                    trail_name,
                    trail_arn,
                    log_group,
                    role,
                    not_ours,
                },
                reason,
            },
        })
    }

    fn plan(&self, config: &Config, f: &TrailFinding) -> Vec<TrailStep> {
        if f.not_ours.is_some() {
            return vec![];
        }
        let mut steps = Vec::new();
        if !f.log_group.exists {
            steps.push(TrailStep::CreateLogGroup { name: f.log_group.name.clone() });
        }
        // A group that never expires gets the retention: logmend made it (perhaps in a run
        // cut short) or nobody chose one. A group with any retention is the retention
        // control's business, which never shortens it.
        if f.log_group.retention_days.is_none() && !f.log_group.exempt {
            steps.push(TrailStep::PutRetentionPolicy { name: f.log_group.name.clone(), days: config.retention_days });
        }
        if !f.role.exists {
            steps.push(TrailStep::CreateRole { role: f.role.role.clone() });
        } else if !f.role.trust_current {
            steps.push(TrailStep::UpdateAssumeRolePolicy { role: f.role.role.clone() });
        }
        if !f.role.policy_current {
            steps.push(TrailStep::PutRolePolicy { role: f.role.role.clone(), log_group_arn: f.log_group.arn.clone() });
        }
        steps.push(TrailStep::UpdateTrail {
            trail_arn: f.trail_arn.clone(),
            log_group_arn: f.log_group.arn.clone(),
            role_arn: f.role.role.arn.clone(),
        });
        steps
    }

    fn describe(&self, step: &TrailStep) -> Change {
        match step {
            TrailStep::CreateLogGroup { name } => Change::new("logs:CreateLogGroup", name.clone()),
            TrailStep::PutRetentionPolicy { name, days } => {
                Change::new("logs:PutRetentionPolicy", format!("{name} retentionInDays={days}"))
            }
            TrailStep::CreateRole { role } => {
                Change::new("iam:CreateRole", format!("{ROLE_PATH}{} trusted by cloudtrail.amazonaws.com", role.name))
            }
            TrailStep::UpdateAssumeRolePolicy { role } => {
                Change::new("iam:UpdateAssumeRolePolicy", format!("{} trusted by cloudtrail.amazonaws.com", role.name))
            }
            TrailStep::PutRolePolicy { role, log_group_arn } => Change::new(
                "iam:PutRolePolicy",
                format!(
                    "{}/{ROLE_POLICY_NAME}: logs:CreateLogStream, logs:PutLogEvents on {}:log-stream:*",
                    role.name,
                    log_group_arn.trim_end_matches(":*")
                ),
            ),
            TrailStep::UpdateTrail { log_group_arn, role_arn, .. } => Change::new(
                "cloudtrail:UpdateTrail",
                format!("CloudWatchLogsLogGroupArn={log_group_arn} CloudWatchLogsRoleArn={role_arn}"),
            ),
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        f: &TrailFinding,
        plan: &[TrailStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            if let Err(error) = apply_step(cx, step).await {
                return Err(ApplyError { done, error });
            }
            done.push(self.describe(step));
        }
        Ok(Applied::Fixed(match &f.broken {
            Some(broken) => format!("{broken}; rebuilt, and the trail pointed at it again"),
            None => "CloudWatch Logs delivery connected".into(),
        }))
    }
}

async fn read_log_group(
    cx: &Context<'_, Clients>,
    partition: &str,
    account: &str,
    name: &str,
) -> Result<LogGroupState, ControlError> {
    let out = cx
        .clients
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", name, e))?;
    let found = out.log_groups().iter().find(|g| g.log_group_name() == Some(name));
    let region = &cx.region;
    let arn = format!("arn:{partition}:logs:{region}:{account}:log-group:{name}");
    let retention_days = found.and_then(|g| g.retention_in_days());
    // Only a group logmend would write to (one that never expires) needs its tags read.
    let exempt = if found.is_some() && retention_days.is_none() {
        let tags = cx
            .clients
            .logs
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:ListTagsForResource", name, e))?;
        let tags = tags.tags().map(|t| t.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        tags.is_some_and(|t| is_exempt(cx.config, t))
    } else {
        false
    };
    Ok(LogGroupState {
        name: name.to_owned(),
        arn: format!("{arn}:*"),
        exists: found.is_some(),
        retention_days,
        exempt,
    })
}

async fn read_role(
    cx: &Context<'_, Clients>,
    role: TrailDeliveryRole,
    log_group_arn: &str,
) -> Result<RoleState, ControlError> {
    let iam = &cx.clients.iam;
    let existing = match iam.get_role().role_name(&role.name).send().await {
        Ok(out) => out.role().cloned(),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => None,
        Err(e) => return Err(AwsError::from_sdk("iam:GetRole", &role.arn, e).into()),
    };
    let Some(existing) = existing else {
        return Ok(RoleState { role, exists: false, trust_current: false, policy_current: false });
    };
    let trust_current =
        decode_policy(existing.assume_role_policy_document()).as_ref() == Some(&TrailDeliveryRole::trust_policy());
    let managed = existing.tags().iter().any(|t| (t.key(), t.value()) == MANAGED_BY);
    // A role of this name that logmend did not make is not widened or repurposed: a person
    // decides. logmend's own (its path and tag) gets its trust back.
    if existing.path() != ROLE_PATH || (!trust_current && !managed) {
        return Err(ControlError::Conflict {
            resource: existing.arn().to_owned(),
            reason: "a role with logmend's delivery-role name exists with another path or trust policy; logmend does not change roles it cannot vouch for".into(),
        });
    }
    let role = TrailDeliveryRole { name: role.name, arn: existing.arn().to_owned() };
    let policy = match iam.get_role_policy().role_name(&role.name).policy_name(ROLE_POLICY_NAME).send().await {
        Ok(out) => decode_policy(Some(out.policy_document())),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => None,
        Err(e) => return Err(AwsError::from_sdk("iam:GetRolePolicy", &role.arn, e).into()),
    };
    let policy_current = policy == Some(TrailDeliveryRole::delivery_policy(log_group_arn));
    Ok(RoleState { role, exists: true, trust_current, policy_current })
}

/// What is missing or changed of a delivery through logmend's own role.
fn broken_pieces(log_group: &LogGroupState, role: &RoleState) -> Vec<String> {
    let mut broken = Vec::new();
    if !log_group.exists {
        broken.push(format!("log group {} does not exist", log_group.name));
    }
    if !role.exists {
        broken.push(format!("role {} does not exist", role.role.name));
        return broken;
    }
    if !role.trust_current {
        broken.push("the role no longer trusts cloudtrail.amazonaws.com".to_owned());
    }
    if !role.policy_current {
        broken.push(format!("the role's policy {ROLE_POLICY_NAME} is missing or changed"));
    }
    broken
}

/// The name in a log group ARN (`arn:…:log-group:NAME:*` or without the `:*`).
fn log_group_name(arn: &str) -> Option<String> {
    arn.split_once(":log-group:").map(|(_, n)| n.trim_end_matches(":*").to_owned())
}

/// IAM returns policy documents URL-encoded (RFC 3986).
fn decode_policy(document: Option<&str>) -> Option<Value> {
    let document = document?;
    let decoded = urlencoding::decode(document).map(|c| c.into_owned()).unwrap_or_else(|_| document.to_owned());
    serde_json::from_str(&decoded).ok()
}

async fn apply_step(cx: &Context<'_, Clients>, step: &TrailStep) -> Result<(), ControlError> {
    let c = &cx.clients;
    match step {
        TrailStep::CreateLogGroup { name } => {
            let created = c.logs.create_log_group().log_group_name(name).tags(MANAGED_BY.0, MANAGED_BY.1).send().await;
            Ok(created_or_existing(created, |e| e.is_resource_already_exists_exception(), "logs:CreateLogGroup", name)?)
        }
        TrailStep::PutRetentionPolicy { name, days } => c
            .logs
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(*days)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("logs:PutRetentionPolicy", name, e).into()),
        TrailStep::CreateRole { role } => {
            let tag = aws_sdk_iam::types::Tag::builder()
                .key(MANAGED_BY.0)
                .value(MANAGED_BY.1)
                .build()
                .expect("key and value are set");
            let created = c
                .iam
                .create_role()
                .role_name(&role.name)
                .path(ROLE_PATH)
                .assume_role_policy_document(TrailDeliveryRole::trust_policy().to_string())
                .description("CloudTrail delivery to CloudWatch Logs, created by logmend")
                .tags(tag)
                .send()
                .await;
            Ok(created_or_existing(created, |e| e.is_entity_already_exists_exception(), "iam:CreateRole", &role.arn)?)
        }
        TrailStep::UpdateAssumeRolePolicy { role } => c
            .iam
            .update_assume_role_policy()
            .role_name(&role.name)
            .policy_document(TrailDeliveryRole::trust_policy().to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("iam:UpdateAssumeRolePolicy", &role.arn, e).into()),
        TrailStep::PutRolePolicy { role, log_group_arn } => c
            .iam
            .put_role_policy()
            .role_name(&role.name)
            .policy_name(ROLE_POLICY_NAME)
            .policy_document(TrailDeliveryRole::delivery_policy(log_group_arn).to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("iam:PutRolePolicy", &role.arn, e).into()),
        TrailStep::UpdateTrail { trail_arn, log_group_arn, role_arn } => {
            update_trail_while_iam_propagates(cx, trail_arn, log_group_arn, role_arn).await
        }
    }
}

/// UpdateTrail, retried while CloudTrail refuses a role or policy that IAM has not
/// propagated yet.
async fn update_trail_while_iam_propagates(
    cx: &Context<'_, Clients>,
    trail_arn: &str,
    log_group_arn: &str,
    role_arn: &str,
) -> Result<(), ControlError> {
    let propagating = |e: &aws_sdk_cloudtrail::operation::update_trail::UpdateTrailError| {
        e.is_invalid_cloud_watch_logs_role_arn_exception() || e.is_invalid_cloud_watch_logs_log_group_arn_exception()
    };
    while_iam_propagates(cx.config, "cloudtrail:UpdateTrail", trail_arn, propagating, || async {
        cx.clients
            .cloudtrail
            .update_trail()
            .name(trail_arn)
            .cloud_watch_logs_log_group_arn(log_group_arn)
            .cloud_watch_logs_role_arn(role_arn)
            .send()
            .await
            .map(|_| ())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use logmend_core::decision::Mode;

    fn finding() -> TrailFinding {
        let group = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/cloudtrail/main:*".to_owned();
        TrailFinding {
            trail_name: "main".into(),
            trail_arn: "arn:aws:cloudtrail:eu-west-1:123456789012:trail/main".into(),
            log_group: LogGroupState {
                name: "/aws/cloudtrail/main".into(),
                arn: group,
                exists: false,
                retention_days: None,
                exempt: false,
            },
            role: RoleState {
                role: TrailDeliveryRole::for_trail("aws", "123456789012", "eu-west-1", "main"),
                exists: false,
                trust_current: false,
                policy_current: false,
            },
            not_ours: None,
            broken: None,
        }
    }

    #[test]
    fn nothing_exists_plans_all_five_writes_in_order() {
        let steps = CloudtrailCloudwatchLogs.plan(&Config::new(Mode::Remediate), &finding());
        let apis: Vec<&str> = steps.iter().map(|s| CloudtrailCloudwatchLogs.describe(s).api).collect();
        assert_eq!(
            apis,
            [
                "logs:CreateLogGroup",
                "logs:PutRetentionPolicy",
                "iam:CreateRole",
                "iam:PutRolePolicy",
                "cloudtrail:UpdateTrail"
            ]
        );
        assert!(steps.contains(&TrailStep::PutRetentionPolicy { name: "/aws/cloudtrail/main".into(), days: 365 }));
    }

    #[test]
    fn existing_pieces_are_reused_not_recreated() {
        let mut f = finding();
        f.log_group.exists = true;
        f.log_group.retention_days = Some(30);
        f.role.exists = true;
        f.role.trust_current = true;
        f.role.policy_current = true;
        let steps = CloudtrailCloudwatchLogs.plan(&Config::new(Mode::Remediate), &f);
        assert_eq!(steps.len(), 1);
        assert!(matches!(steps[0], TrailStep::UpdateTrail { .. }));
    }

    #[test]
    fn a_lost_trust_is_restored_not_recreated_and_someone_elses_delivery_gets_no_plan() {
        let mut f = finding();
        f.log_group.exists = true;
        f.log_group.retention_days = Some(365);
        f.role.exists = true;
        f.role.policy_current = true;
        let steps = CloudtrailCloudwatchLogs.plan(&Config::new(Mode::Remediate), &f);
        let apis: Vec<&str> = steps.iter().map(|s| CloudtrailCloudwatchLogs.describe(s).api).collect();
        assert_eq!(apis, ["iam:UpdateAssumeRolePolicy", "cloudtrail:UpdateTrail"]);
        f.not_ours = Some("the role is the organisation's".into());
        assert!(CloudtrailCloudwatchLogs.plan(&Config::new(Mode::Remediate), &f).is_empty());
    }

    #[test]
    fn broken_pieces_name_each_missing_part_and_a_missing_role_hides_its_parts() {
        let mut f = finding();
        assert_eq!(
            broken_pieces(&f.log_group, &f.role),
            ["log group /aws/cloudtrail/main does not exist", "role LogmendTrail-eu-west-1-main does not exist"]
        );
        f.log_group.exists = true;
        f.role.exists = true;
        f.role.policy_current = true;
        assert_eq!(broken_pieces(&f.log_group, &f.role), ["the role no longer trusts cloudtrail.amazonaws.com"]);
        f.role.trust_current = true;
        assert!(broken_pieces(&f.log_group, &f.role).is_empty());
    }

    #[test]
    fn a_trail_target_is_its_name_alone_on_the_queue() {
        let t = TrailRef::Trail("arn:aws:cloudtrail:eu-west-1:1:trail/main".into());
        assert_eq!(serde_json::to_value(&t).unwrap(), json!("arn:aws:cloudtrail:eu-west-1:1:trail/main"));
        let suspect: TrailRef = serde_json::from_value(json!({"trail": "main", "cause": "role x"})).unwrap();
        assert_eq!(suspect, TrailRef::Suspect { trail: "main".into(), cause: "role x".into() });
        assert_eq!(log_group_name("arn:aws:logs:eu-west-1:1:log-group:/a/b:*").as_deref(), Some("/a/b"));
    }

    #[test]
    fn a_group_left_without_retention_gets_it() {
        let mut f = finding();
        f.log_group.exists = true;
        let steps = CloudtrailCloudwatchLogs.plan(&Config::new(Mode::Remediate), &f);
        assert!(matches!(steps[0], TrailStep::PutRetentionPolicy { days: 365, .. }));
    }

    #[test]
    fn role_names_fit_iam_for_any_trail_name_and_stay_distinct() {
        let short = TrailDeliveryRole::for_trail("aws", "123456789012", "us-east-1", "main");
        assert_eq!(short.name, "LogmendTrail-us-east-1-main");
        assert_eq!(short.arn, "arn:aws:iam::123456789012:role/logmend/LogmendTrail-us-east-1-main");
        let long_a = "a".repeat(128);
        let long_b = format!("{}b", "a".repeat(127));
        let a = TrailDeliveryRole::for_trail("aws", "123456789012", "ap-southeast-5", &long_a);
        let b = TrailDeliveryRole::for_trail("aws", "123456789012", "ap-southeast-5", &long_b);
        assert!(a.name.len() <= 64 && b.name.len() <= 64, "{} {}", a.name, b.name);
        assert_ne!(a.name, b.name);
        assert_eq!(a, TrailDeliveryRole::for_trail("aws", "123456789012", "ap-southeast-5", &long_a));
        let other_region = TrailDeliveryRole::for_trail("aws", "123456789012", "eu-west-1", "main");
        assert_ne!(short.name, other_region.name);
    }

    #[test]
    fn delivery_policy_allows_only_stream_writes_on_the_one_group() {
        let p = TrailDeliveryRole::delivery_policy("arn:aws:logs:eu-west-1:1:log-group:/aws/cloudtrail/main:*");
        let stmt = &p["Statement"][0];
        assert_eq!(stmt["Action"], json!(["logs:CreateLogStream", "logs:PutLogEvents"]));
        assert_eq!(stmt["Resource"], "arn:aws:logs:eu-west-1:1:log-group:/aws/cloudtrail/main:log-stream:*");
        assert_eq!(p["Statement"].as_array().unwrap().len(), 1);
        let trust = TrailDeliveryRole::trust_policy().to_string();
        assert!(!trust.contains("Condition") && trust.contains("cloudtrail.amazonaws.com"));
    }

    #[test]
    fn declared_writes_cover_every_planned_api() {
        let steps = CloudtrailCloudwatchLogs.plan(&Config::new(Mode::Remediate), &finding());
        for s in &steps {
            let api = CloudtrailCloudwatchLogs.describe(s).api;
            assert!(SPEC.writes.iter().any(|p| p.action == api), "{api} not declared");
        }
    }

    #[test]
    fn targets_prefer_the_response_arn_and_name_the_missing_field() {
        let ev = |detail: Value| {
            ApiCallEvent::from_value(&json!({"detail-type":"AWS API Call via CloudTrail","account":"1","region":"eu-west-1","detail":detail})).unwrap()
        };
        let t = CloudtrailCloudwatchLogs
            .targets_in(&ev(json!({"eventSource":"cloudtrail.amazonaws.com","eventName":"UpdateTrail",
                "requestParameters":{"name":"main"},"responseElements":{"trailARN":"arn:aws:cloudtrail:eu-west-1:1:trail/main"}})))
            .unwrap();
        assert_eq!(t, vec![TrailRef::Trail("arn:aws:cloudtrail:eu-west-1:1:trail/main".into())]);
        let t = CloudtrailCloudwatchLogs
            .targets_in(&ev(json!({"eventSource":"iam.amazonaws.com","eventName":"DeleteRole",
                "requestParameters":{"roleName":"LogmendTrail-eu-west-1-main"}})))
            .unwrap();
        assert_eq!(t, vec![TrailRef::Role { role_name: "LogmendTrail-eu-west-1-main".into() }]);
        let err = CloudtrailCloudwatchLogs
            .targets_in(&ev(
                json!({"eventSource":"logs.amazonaws.com","eventName":"DeleteLogGroup","requestParameters":{}}),
            ))
            .unwrap_err();
        assert_eq!(err.to_string(), "event field `detail.requestParameters.logGroupName` is missing");
        let err = CloudtrailCloudwatchLogs
            .targets_in(&ev(
                json!({"eventSource":"cloudtrail.amazonaws.com","eventName":"UpdateTrail","requestParameters":{}}),
            ))
            .unwrap_err();
        assert_eq!(err.to_string(), "event field `detail.requestParameters.name` is missing");
    }
}
