//! `log-archive` (protection of logs against deletion), opt-in: every log group whose name
//! starts with a prefix of `LOGMEND_LOG_ARCHIVE_PREFIXES` has a subscription filter to the
//! Firehose stream `logmend-log-archive`, which writes its events into logmend's log bucket
//! under `archive/`. A deleted log group, or a retention someone shortened, then loses nothing
//! the bucket has not already kept.
//!
//! The pipeline is one per account and region, made on the first group that needs it:
//! - the log bucket (as config-recorder and s3-access-logging make it);
//! - a role Firehose assumes (trusted by `firehose.amazonaws.com` with `sts:ExternalId` = the
//!   account, allowed the S3 actions Firehose needs on `archive/` and PutLogEvents on its own
//!   error log: Firehose Developer Guide, "Grant Firehose access to an Amazon S3 destination");
//! - Firehose's error log `/aws/kinesisfirehose/logmend-log-archive` (stream
//!   `DestinationDelivery`), so a failed delivery is visible;
//! - the stream (DirectPut, ExtendedS3, not compressed again: CloudWatch Logs sends its events
//!   gzipped);
//! - a role CloudWatch Logs assumes (trusted by `logs.amazonaws.com`, limited by `aws:SourceArn`
//!   to this account's log groups in this region, allowed only PutRecord and PutRecordBatch on
//!   the stream: CloudWatch Logs User Guide, "Subscription filters with Amazon Data Firehose").
//!
//! A log group has at most two subscription filters (CloudWatch Logs User Guide, "Real-time
//! processing of log data with subscriptions"): logmend adds its own only where there is room
//! and never replaces one someone else set. logmend's own log groups (`/logmend/`) and
//! Firehose's error logs (`/aws/kinesisfirehose/`) are never subscribed: the stream would carry
//! its own failures. PutSubscriptionFilter sends a test record through the role, so it is
//! refused while a new role propagates or the stream is still CREATING; it is retried then.
//!
//! A group is compliant when a filter sends it to logmend's stream. Whether the stream still
//! delivers is the region's pipeline decision (the sweep lists it; Firehose and IAM events on
//! its pieces trigger it), so a sweep of 10,000 groups reads the stream once, not 10,000 times.

use crate::Clients;
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use aws_sdk_cloudwatchlogs::operation::put_subscription_filter::PutSubscriptionFilterError;
use aws_sdk_firehose::operation::create_delivery_stream::CreateDeliveryStreamError;
use aws_sdk_firehose::types::{
    CloudWatchLoggingOptions, CompressionFormat, DeliveryStreamStatus, DeliveryStreamType,
    ExtendedS3DestinationConfiguration, ExtendedS3DestinationUpdate,
};
use logmend_core::aws::{AwsError, created_or_existing, partition_of};
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, MANAGED_BY_TAG, Permission, State,
    Trigger, is_exempt, permissions, while_iam_propagates,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};
use logmend_s3_store as store;
use serde_json::{Value, json};

pub const STREAM_NAME: &str = "logmend-log-archive";
pub const FILTER_NAME: &str = "logmend-log-archive";
pub const ERROR_LOG_GROUP: &str = "/aws/kinesisfirehose/logmend-log-archive";
pub const ERROR_LOG_STREAM: &str = "DestinationDelivery";
/// Where the events land: `archive/logs/YYYY/MM/DD/HH/…`; what Firehose could not deliver
/// goes to `archive/errors/`.
pub const PREFIX: &str = "archive/logs/";
pub const ERROR_PREFIX: &str = "archive/errors/";
pub const ROLE_PATH: &str = "/logmend/";
pub const ROLE_POLICY_NAME: &str = "logmend-log-archive";
const DELIVERY_ROLE_PREFIX: &str = "LogmendArchiveDelivery-";
const SUBSCRIPTION_ROLE_PREFIX: &str = "LogmendArchiveSubscription-";

const STREAM_ARN: &str =
    "arn:${AWS::Partition}:firehose:${AWS::Region}:${AWS::AccountId}:deliverystream/logmend-log-archive";
const ROLES: &str = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/logmend/LogmendArchive*";
const ERROR_GROUP_ARN: &str =
    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/kinesisfirehose/logmend-log-archive*";

const OWN_WRITES: [Permission; 16] = [
    Permission::on("iam:CreateRole", ROLES),
    Permission::on("iam:TagRole", ROLES),
    Permission::on("iam:PutRolePolicy", ROLES),
    Permission::on("iam:UpdateAssumeRolePolicy", ROLES),
    // Firehose is handed the delivery role, CloudWatch Logs the subscription role: no other.
    Permission::on("iam:PassRole", ROLES),
    Permission::on("firehose:CreateDeliveryStream", STREAM_ARN),
    Permission::on("firehose:TagDeliveryStream", STREAM_ARN),
    Permission::on("firehose:UpdateDestination", STREAM_ARN),
    Permission::on("firehose:DeleteDeliveryStream", STREAM_ARN),
    Permission::on("logs:CreateLogGroup", ERROR_GROUP_ARN),
    Permission::on("logs:TagResource", ERROR_GROUP_ARN),
    Permission::on("logs:PutRetentionPolicy", ERROR_GROUP_ARN),
    Permission::on("logs:CreateLogStream", ERROR_GROUP_ARN),
    // The prefixes are a setting the template cannot narrow to; the filter's destination
    // is fixed by the role CloudWatch Logs is passed.
    Permission::on(
        "logs:PutSubscriptionFilter",
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*",
    ),
    Permission::on(
        "logs:PutSubscriptionFilter",
        "arn:${AWS::Partition}:firehose:${AWS::Region}:${AWS::AccountId}:deliverystream/logmend-log-archive",
    ),
    Permission::on("s3:PutBucketPolicy", store::LOG_BUCKET_ARN),
];
const WRITES: [Permission; 20] = permissions(&OWN_WRITES, &store::LOG_BUCKET_CREATE);

pub static SPEC: ControlSpec = ControlSpec {
    id: "log-archive",
    security_hub: &[],
    severity: logmend_core::control::Severity::Medium,
    resource_type: "AWS::Logs::LogGroup",
    triggers: &[
        Trigger {
            event_source: "logs.amazonaws.com",
            event_names: &["CreateLogGroup", "DeleteSubscriptionFilter", "PutSubscriptionFilter"],
        },
        Trigger { event_source: "firehose.amazonaws.com", event_names: &["DeleteDeliveryStream", "UpdateDestination"] },
        // IAM events arrive in us-east-1 only (CloudTrail User Guide, global service events).
        Trigger {
            event_source: "iam.amazonaws.com",
            event_names: &["DeleteRole", "DeleteRolePolicy", "PutRolePolicy", "UpdateAssumeRolePolicy"],
        },
    ],
    compliant_when: "(opt-in: LOGMEND_LOG_ARCHIVE_PREFIXES) each log group under the prefixes has a subscription filter to the Firehose stream logmend-log-archive; the stream is ACTIVE and delivers to the log bucket under archive/ through logmend's intact roles",
    fix: "the log bucket, Firehose's delivery role and error log, the stream, the subscription role (aws:SourceArn), then PutSubscriptionFilter logmend-log-archive (retried while IAM propagates); never a third filter and never one replaced; /logmend/ and /aws/kinesisfirehose/ groups never subscribed",
    reads: &[
        Permission::any("logs:DescribeSubscriptionFilters"),
        Permission::any("logs:DescribeLogGroups"),
        Permission::any("logs:DescribeLogStreams"),
        Permission::any("logs:ListTagsForResource"),
        Permission::on("firehose:DescribeDeliveryStream", STREAM_ARN),
        Permission::on("firehose:ListTagsForDeliveryStream", STREAM_ARN),
        Permission::on("iam:GetRole", ROLES),
        Permission::on("iam:GetRolePolicy", ROLES),
        Permission::on("s3:GetBucketLocation", store::LOG_BUCKET_ARN),
    ],
    writes: &WRITES,
};

pub struct LogArchive;

/// A log group by name, or the region's pipeline (stream, roles, bucket, error log).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum ArchiveTarget {
    Group(String),
    Pipeline { pipeline_region: String },
}

impl std::fmt::Display for ArchiveTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArchiveTarget::Group(name) => f.write_str(name),
            ArchiveTarget::Pipeline { pipeline_region } => write!(f, "the log archive of {pipeline_region}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleKind {
    /// Firehose writes the bucket with it.
    Delivery,
    /// CloudWatch Logs puts records into the stream with it.
    Subscription,
}

/// One of the pipeline's two roles in one account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveRole {
    pub kind: RoleKind,
    pub name: String,
    pub arn: String,
}

/// Where the pipeline lives: everything its ARNs and policies are made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub partition: String,
    pub account: String,
    pub region: String,
}

impl Place {
    pub fn stream_arn(&self) -> String {
        format!("arn:{}:firehose:{}:{}:deliverystream/{STREAM_NAME}", self.partition, self.region, self.account)
    }
    pub fn bucket(&self) -> String {
        store::log_bucket_name(&self.account, &self.region)
    }
    pub fn role(&self, kind: RoleKind) -> ArchiveRole {
        let prefix = match kind {
            RoleKind::Delivery => DELIVERY_ROLE_PREFIX,
            RoleKind::Subscription => SUBSCRIPTION_ROLE_PREFIX,
        };
        // Role names are account-wide: one pair per region. 27 + a region's ≤ 20 fit IAM's 64.
        let name = format!("{prefix}{}", self.region);
        let arn = format!("arn:{}:iam::{}:role{ROLE_PATH}{name}", self.partition, self.account);
        ArchiveRole { kind, name, arn }
    }

    pub fn trust_policy(&self, kind: RoleKind) -> Value {
        let statement = match kind {
            RoleKind::Delivery => json!({
                "Effect": "Allow",
                "Principal": {"Service": "firehose.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": self.account}}
            }),
            RoleKind::Subscription => json!({
                "Effect": "Allow",
                "Principal": {"Service": "logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringLike": {"aws:SourceArn": format!("arn:{}:logs:{}:{}:*", self.partition, self.region, self.account)}}
            }),
        };
        json!({"Version": "2012-10-17", "Statement": [statement]})
    }

    pub fn role_policy(&self, kind: RoleKind) -> Value {
        let statements = match kind {
            RoleKind::Delivery => {
                let bucket = store::bucket_arn(&self.partition, &self.bucket());
                json!([
                    {
                        "Sid": "ArchiveIntoTheLogBucket",
                        "Effect": "Allow",
                        "Action": [
                            "s3:AbortMultipartUpload",
                            "s3:GetBucketLocation",
                            "s3:GetObject",
                            "s3:ListBucket",
                            "s3:ListBucketMultipartUploads",
                            "s3:PutObject"
                        ],
                        "Resource": [bucket.clone(), format!("{bucket}/archive/*")]
                    },
                    {
                        "Sid": "ReportDeliveryErrors",
                        "Effect": "Allow",
                        "Action": "logs:PutLogEvents",
                        "Resource": format!(
                            "arn:{}:logs:{}:{}:log-group:{ERROR_LOG_GROUP}:log-stream:*",
                            self.partition, self.region, self.account
                        )
                    }
                ])
            }
            RoleKind::Subscription => json!([{
                "Sid": "PutIntoTheArchiveStream",
                "Effect": "Allow",
                "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
                "Resource": self.stream_arn()
            }]),
        };
        json!({"Version": "2012-10-17", "Statement": statements})
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleState {
    pub role: ArchiveRole,
    pub exists: bool,
    pub trust_current: bool,
    pub policy_current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamState {
    Missing,
    /// CREATING or DELETING: look again when it is done.
    Busy(String),
    /// CREATING_FAILED or DELETING_FAILED (logmend's: deleted, to be made again).
    Failed(String),
    Active {
        version_id: String,
        destination_id: String,
        current: bool,
    },
}

/// What exists of the region's pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub place: Place,
    pub bucket_exists: bool,
    pub delivery_role: RoleState,
    pub subscription_role: RoleState,
    pub error_group_exists: bool,
    pub error_group_retention: Option<i32>,
    pub error_stream_exists: bool,
    pub stream: StreamState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFinding {
    pub pipeline: Pipeline,
    /// The group to subscribe; `None` for the pipeline's own decision.
    pub group: Option<String>,
    /// Why nothing may be written (two filters of others, a class without subscriptions).
    pub blocked: Option<String>,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveStep {
    CreateLogBucket { bucket: String },
    CreateRole { role: ArchiveRole, trust: Value },
    UpdateAssumeRolePolicy { role: ArchiveRole, trust: Value },
    PutRolePolicy { role: ArchiveRole, policy: Value },
    CreateErrorLogGroup,
    PutErrorLogRetention { days: i32 },
    CreateErrorLogStream,
    CreateDeliveryStream { delivery_role_arn: String, bucket_arn: String },
    UpdateDestination { version_id: String, destination_id: String, delivery_role_arn: String, bucket_arn: String },
    DeleteDeliveryStream,
    PutSubscriptionFilter { group: String, stream_arn: String, role_arn: String },
}

fn destination(role_arn: &str, bucket_arn: &str) -> (CloudWatchLoggingOptions, [String; 4]) {
    let logging = CloudWatchLoggingOptions::builder()
        .enabled(true)
        .log_group_name(ERROR_LOG_GROUP)
        .log_stream_name(ERROR_LOG_STREAM)
        .build();
    (logging, [role_arn.to_owned(), bucket_arn.to_owned(), PREFIX.to_owned(), ERROR_PREFIX.to_owned()])
}

/// The pipeline's missing pieces as problems and steps, in the order they depend on each other.
pub fn pipeline_plan(config: &Config, p: &Pipeline) -> (Vec<String>, Vec<ArchiveStep>) {
    let (mut problems, mut steps) = (Vec::new(), Vec::new());
    let bucket = p.place.bucket();
    let bucket_arn = store::bucket_arn(&p.place.partition, &bucket);
    if !p.bucket_exists {
        problems.push(format!("log bucket {bucket} does not exist"));
        steps.push(ArchiveStep::CreateLogBucket { bucket: bucket.clone() });
    }
    let role_steps = |r: &RoleState, problems: &mut Vec<String>, steps: &mut Vec<ArchiveStep>| {
        let trust = p.place.trust_policy(r.role.kind);
        if !r.exists {
            problems.push(format!("role {} does not exist", r.role.name));
            steps.push(ArchiveStep::CreateRole { role: r.role.clone(), trust });
        } else if !r.trust_current {
            problems.push(format!("role {}'s trust policy was changed", r.role.name));
            steps.push(ArchiveStep::UpdateAssumeRolePolicy { role: r.role.clone(), trust });
        }
        if !r.policy_current {
            if r.exists {
                problems.push(format!("role {}'s policy {ROLE_POLICY_NAME} is missing or changed", r.role.name));
            }
            steps.push(ArchiveStep::PutRolePolicy { role: r.role.clone(), policy: p.place.role_policy(r.role.kind) });
        }
    };
    role_steps(&p.delivery_role, &mut problems, &mut steps);
    if !p.error_group_exists {
        problems.push(format!("Firehose's error log {ERROR_LOG_GROUP} does not exist"));
        steps.push(ArchiveStep::CreateErrorLogGroup);
    }
    if p.error_group_retention.is_none() {
        steps.push(ArchiveStep::PutErrorLogRetention { days: config.retention_days });
    }
    if !p.error_stream_exists {
        steps.push(ArchiveStep::CreateErrorLogStream);
    }
    let delivery_role_arn = p.delivery_role.role.arn.clone();
    match &p.stream {
        StreamState::Missing => {
            problems.push(format!("Firehose stream {STREAM_NAME} does not exist"));
            steps.push(ArchiveStep::CreateDeliveryStream { delivery_role_arn, bucket_arn });
        }
        StreamState::Active { current: false, version_id, destination_id } => {
            problems.push(format!("Firehose stream {STREAM_NAME} does not deliver to {bucket} under {PREFIX}"));
            steps.push(ArchiveStep::UpdateDestination {
                version_id: version_id.clone(),
                destination_id: destination_id.clone(),
                delivery_role_arn,
                bucket_arn,
            });
        }
        StreamState::Failed(why) => {
            problems.push(format!("Firehose stream {STREAM_NAME} failed: {why}"));
            steps.push(ArchiveStep::DeleteDeliveryStream);
        }
        StreamState::Busy(_) | StreamState::Active { current: true, .. } => {}
    }
    role_steps(&p.subscription_role, &mut problems, &mut steps);
    (problems, steps)
}

impl Control for LogArchive {
    type Clients = Clients;
    type Target = ArchiveTarget;
    type Finding = ArchiveFinding;
    type Step = ArchiveStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<ArchiveTarget>, EventError> {
        let required = |field: &'static str, key: &str| {
            event.request_parameters.str(key).map(str::to_owned).ok_or(EventError::MissingField { field })
        };
        Ok(match event.event_source.as_str() {
            "logs.amazonaws.com" => {
                vec![ArchiveTarget::Group(required("detail.requestParameters.logGroupName", "logGroupName")?)]
            }
            "firehose.amazonaws.com" => {
                let name = required("detail.requestParameters.deliveryStreamName", "deliveryStreamName")?;
                (name == STREAM_NAME)
                    .then(|| ArchiveTarget::Pipeline { pipeline_region: event.region.clone() })
                    .into_iter()
                    .collect()
            }
            _ => {
                let role = required("detail.requestParameters.roleName", "roleName")?;
                [DELIVERY_ROLE_PREFIX, SUBSCRIPTION_ROLE_PREFIX]
                    .iter()
                    .find_map(|p| role.strip_prefix(p))
                    .map(|region| ArchiveTarget::Pipeline { pipeline_region: region.to_owned() })
                    .into_iter()
                    .collect()
            }
        })
    }

    /// A log group the prefixes do not name is not the archive's: no decision at all, so every
    /// CreateLogGroup of an account does not print a `skipped` line. The prefixes' own groups
    /// that are never archived still get one, saying why.
    async fn expand(
        &self,
        cx: &Context<'_, Clients>,
        target: ArchiveTarget,
    ) -> Result<Vec<ArchiveTarget>, ControlError> {
        let named =
            |group: &str| cx.config.log_archive_prefixes.iter().any(|p| p == "*" || group.starts_with(p.as_str()));
        Ok(match &target {
            ArchiveTarget::Group(group) if !named(group) => vec![],
            _ => vec![target],
        })
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<ArchiveTarget>, ControlError> {
        let mut targets = vec![ArchiveTarget::Pipeline { pipeline_region: cx.region.to_owned() }];
        let prefixes = &cx.config.log_archive_prefixes;
        let every = prefixes.iter().any(|p| p == "*");
        let queries: Vec<Option<&str>> =
            if every { vec![None] } else { prefixes.iter().map(|p| Some(p.as_str())).collect() };
        for prefix in queries {
            let mut pages = cx
                .clients
                .logs
                .describe_log_groups()
                .set_log_group_name_prefix(prefix.map(str::to_owned))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", prefix.unwrap_or("*"), e))?;
                for name in page.log_groups().iter().filter_map(|g| g.log_group_name()) {
                    let target = ArchiveTarget::Group(name.to_owned());
                    if cx.config.archives(name) && !targets.contains(&target) {
                        targets.push(target);
                    }
                }
            }
        }
        Ok(targets)
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        target: &ArchiveTarget,
    ) -> Result<Checked<ArchiveFinding>, ControlError> {
        let skipped = |resource: String, why: String| Ok(Checked { resource, state: State::Skipped(why) });
        if cx.config.log_archive_prefixes.is_empty() {
            return skipped(target.to_string(), "log archiving is off (LOGMEND_LOG_ARCHIVE_PREFIXES is empty)".into());
        }
        let Some(account) = cx.account else {
            return skipped(target.to_string(), "the account is not known, so neither is its log bucket".into());
        };
        let place = Place {
            partition: partition_of(cx.region).to_owned(),
            account: account.to_owned(),
            region: cx.region.to_owned(),
        };
        let stream_arn = place.stream_arn();
        let group = match target {
            ArchiveTarget::Pipeline { pipeline_region } if pipeline_region != cx.region => {
                return skipped(
                    format!("{}:{pipeline_region}", SPEC.id),
                    format!("the log archive of {pipeline_region} is checked in {pipeline_region}"),
                );
            }
            ArchiveTarget::Pipeline { .. } => None,
            ArchiveTarget::Group(name) => Some(name.as_str()),
        };
        let Some(group) = group else {
            let pipeline = read_pipeline(cx, place).await?;
            let (problems, steps) = pipeline_plan(cx.config, &pipeline);
            return Ok(Checked {
                resource: stream_arn.clone(),
                state: match (&pipeline.stream, steps.is_empty()) {
                    (StreamState::Busy(status), true) => {
                        State::Deferred(format!("Firehose stream {STREAM_NAME} is {status}"))
                    }
                    (_, true) => State::Compliant(format!(
                        "stream {STREAM_NAME} is ACTIVE and delivers to s3://{}/{PREFIX} through logmend's roles",
                        pipeline.place.bucket()
                    )),
                    (_, false) => State::Noncompliant {
                        reason: format!("the log archive of {}: {}", cx.region, problems.join("; ")),
                        finding: ArchiveFinding { pipeline, group: None, blocked: None, problems },
                    },
                },
            });
        };
        let group_arn = format!("arn:{}:logs:{}:{account}:log-group:{group}", place.partition, cx.region);
        if !cx.config.archives(group) {
            let why = if cx.config.log_archive_prefixes.iter().any(|p| p == "*" || group.starts_with(p.as_str())) {
                "logmend's own and Firehose's error log groups are never archived (the stream would carry itself)"
            } else {
                "not under LOGMEND_LOG_ARCHIVE_PREFIXES"
            };
            return skipped(group_arn, why.into());
        }
        let filters = match cx.clients.logs.describe_subscription_filters().log_group_name(group).send().await {
            Ok(out) => out.subscription_filters().to_vec(),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
                return skipped(group_arn, "the log group no longer exists".into());
            }
            Err(e) => return Err(AwsError::from_sdk("logs:DescribeSubscriptionFilters", group, e).into()),
        };
        if let Some(f) = filters.iter().find(|f| f.destination_arn() == Some(stream_arn.as_str())) {
            let name = f.filter_name().unwrap_or_default();
            return Ok(Checked {
                resource: group_arn,
                state: State::Compliant(format!("subscription filter {name} sends it to {STREAM_NAME}")),
            });
        }
        let described = cx
            .clients
            .logs
            .describe_log_groups()
            .log_group_name_prefix(group)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", group, e))?;
        let Some(found) = described.log_groups().iter().find(|g| g.log_group_name() == Some(group)) else {
            return skipped(group_arn, "the log group no longer exists".into());
        };
        let tags = cx
            .clients
            .logs
            .list_tags_for_resource()
            .resource_arn(&group_arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:ListTagsForResource", group, e))?;
        if is_exempt(cx.config, tags.tags().into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str()))) {
            return skipped(group_arn, format!("tagged {}=true", cx.config.exempt_tag));
        }
        let ours = filters.iter().any(|f| f.filter_name() == Some(FILTER_NAME));
        let others: Vec<&str> = filters.iter().filter_map(|f| f.filter_name()).filter(|n| *n != FILTER_NAME).collect();
        let blocked = if found.log_group_class().is_some_and(|c| c.as_str() == "INFREQUENT_ACCESS") {
            // CloudWatch Logs User Guide, "Log classes": Infrequent Access has no subscriptions.
            Some("it is an Infrequent Access log group, which takes no subscription filters".to_owned())
        } else if !ours && others.len() >= 2 {
            Some(format!(
                "it has two subscription filters already ({}), CloudWatch Logs' limit, and logmend never replaces another's",
                others.join(", ")
            ))
        } else {
            None
        };
        let reason = match (&blocked, ours) {
            (Some(why), _) => format!("{group} is not archived: {why}"),
            (None, true) => format!("{group}: subscription filter {FILTER_NAME} no longer sends to {STREAM_NAME}"),
            (None, false) => format!("{group} is not archived: no subscription filter to {STREAM_NAME}"),
        };
        let pipeline = if blocked.is_some() { pipeline_unread(place) } else { read_pipeline(cx, place).await? };
        if let StreamState::Busy(status) = &pipeline.stream {
            return Ok(Checked {
                resource: group_arn,
                state: State::Deferred(format!("{reason}; stream {STREAM_NAME} is {status}")),
            });
        }
        let problems = if blocked.is_some() { vec![] } else { pipeline_plan(cx.config, &pipeline).0 };
        Ok(Checked {
            resource: group_arn,
            state: State::Noncompliant {
                reason,
                finding: ArchiveFinding { pipeline, group: Some(group.to_owned()), blocked, problems },
            },
        })
    }

    fn plan(&self, config: &Config, f: &ArchiveFinding) -> Vec<ArchiveStep> {
        if f.blocked.is_some() {
            return vec![];
        }
        let (_, mut steps) = pipeline_plan(config, &f.pipeline);
        if steps.contains(&ArchiveStep::DeleteDeliveryStream) {
            // The filter follows once the failed stream is gone and made again.
            return steps;
        }
        if let Some(group) = &f.group {
            steps.push(ArchiveStep::PutSubscriptionFilter {
                group: group.clone(),
                stream_arn: f.pipeline.place.stream_arn(),
                role_arn: f.pipeline.subscription_role.role.arn.clone(),
            });
        }
        steps
    }

    fn describe(&self, step: &ArchiveStep) -> Change {
        match step {
            ArchiveStep::CreateLogBucket { bucket } => Change::new(
                "s3:CreateBucket",
                format!("{bucket}: Block Public Access, SSE-S3, non-TLS denied, tag managed-by=logmend"),
            ),
            ArchiveStep::CreateRole { role, .. } => {
                Change::new("iam:CreateRole", format!("{ROLE_PATH}{} trusted by {}", role.name, principal(role.kind)))
            }
            ArchiveStep::UpdateAssumeRolePolicy { role, .. } => {
                Change::new("iam:UpdateAssumeRolePolicy", format!("{} trusted by {}", role.name, principal(role.kind)))
            }
            ArchiveStep::PutRolePolicy { role, .. } => Change::new(
                "iam:PutRolePolicy",
                match role.kind {
                    RoleKind::Delivery => format!(
                        "{}/{ROLE_POLICY_NAME}: S3 writes under archive/, PutLogEvents on {ERROR_LOG_GROUP}",
                        role.name
                    ),
                    RoleKind::Subscription => {
                        format!("{}/{ROLE_POLICY_NAME}: firehose:PutRecord, PutRecordBatch on {STREAM_NAME}", role.name)
                    }
                },
            ),
            ArchiveStep::CreateErrorLogGroup => Change::new("logs:CreateLogGroup", ERROR_LOG_GROUP),
            ArchiveStep::PutErrorLogRetention { days } => {
                Change::new("logs:PutRetentionPolicy", format!("{ERROR_LOG_GROUP} retentionInDays={days}"))
            }
            ArchiveStep::CreateErrorLogStream => {
                Change::new("logs:CreateLogStream", format!("{ERROR_LOG_GROUP}/{ERROR_LOG_STREAM}"))
            }
            ArchiveStep::CreateDeliveryStream { bucket_arn, .. } => Change::new(
                "firehose:CreateDeliveryStream",
                format!(
                    "{STREAM_NAME}: DirectPut to {bucket_arn}/{PREFIX}, errors to {ERROR_PREFIX} and {ERROR_LOG_GROUP}"
                ),
            ),
            ArchiveStep::UpdateDestination { bucket_arn, .. } => {
                Change::new("firehose:UpdateDestination", format!("{STREAM_NAME}: to {bucket_arn}/{PREFIX}"))
            }
            ArchiveStep::DeleteDeliveryStream => {
                Change::new("firehose:DeleteDeliveryStream", format!("{STREAM_NAME} (failed; made again once gone)"))
            }
            ArchiveStep::PutSubscriptionFilter { group, .. } => Change::new(
                "logs:PutSubscriptionFilter",
                format!("{group}: {FILTER_NAME}, every event, to {STREAM_NAME}"),
            ),
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        f: &ArchiveFinding,
        plan: &[ArchiveStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            if let Err(error) = apply_step(cx, &f.pipeline.place, step).await {
                return Err(ApplyError { done, error });
            }
            done.push(self.describe(step));
        }
        if plan.contains(&ArchiveStep::DeleteDeliveryStream) {
            return Ok(Applied::Pending(format!(
                "the failed stream {STREAM_NAME} is being deleted; its DeleteDeliveryStream event makes it again"
            )));
        }
        Ok(Applied::Fixed(match &f.group {
            Some(group) if f.problems.is_empty() => {
                format!("{group} is archived to s3://{}/{PREFIX}", f.pipeline.place.bucket())
            }
            Some(group) => format!(
                "{group} is archived to s3://{}/{PREFIX}; the archive was repaired: {}",
                f.pipeline.place.bucket(),
                f.problems.join("; ")
            ),
            None => format!("the log archive of {} was repaired: {}", cx.region, f.problems.join("; ")),
        }))
    }
}

fn principal(kind: RoleKind) -> &'static str {
    match kind {
        RoleKind::Delivery => "firehose.amazonaws.com",
        RoleKind::Subscription => "logs.amazonaws.com",
    }
}

/// The pipeline of a group that cannot be subscribed: nothing of it is read or written.
fn pipeline_unread(place: Place) -> Pipeline {
    let role = |kind| RoleState { role: place.role(kind), exists: true, trust_current: true, policy_current: true };
    Pipeline {
        delivery_role: role(RoleKind::Delivery),
        subscription_role: role(RoleKind::Subscription),
        place,
        bucket_exists: true,
        error_group_exists: true,
        error_group_retention: Some(0),
        error_stream_exists: true,
        stream: StreamState::Active { version_id: String::new(), destination_id: String::new(), current: true },
    }
}

/// IAM returns policy documents URL-encoded (RFC 3986).
fn decode_policy(document: &str) -> Option<Value> {
    let decoded = urlencoding::decode(document).map(|c| c.into_owned()).unwrap_or_else(|_| document.to_owned());
    serde_json::from_str(&decoded).ok()
}

async fn read_role(cx: &Context<'_, Clients>, place: &Place, kind: RoleKind) -> Result<RoleState, ControlError> {
    let role = place.role(kind);
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
        existing.assume_role_policy_document().and_then(decode_policy) == Some(place.trust_policy(kind));
    let managed = existing.tags().iter().any(|t| (t.key(), t.value()) == MANAGED_BY_TAG);
    // A role of this name logmend did not make is not repurposed: a person decides.
    if existing.path() != ROLE_PATH || !managed {
        return Err(ControlError::Conflict {
            resource: existing.arn().to_owned(),
            reason: "a role with logmend's log-archive role name exists that logmend did not make (path or managed-by tag); logmend does not change roles it cannot vouch for".into(),
        });
    }
    let policy = match iam.get_role_policy().role_name(&role.name).policy_name(ROLE_POLICY_NAME).send().await {
        Ok(out) => decode_policy(out.policy_document()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => None,
        Err(e) => return Err(AwsError::from_sdk("iam:GetRolePolicy", &role.arn, e).into()),
    };
    let policy_current = policy == Some(place.role_policy(kind));
    Ok(RoleState { role, exists: true, trust_current, policy_current })
}

async fn read_pipeline(cx: &Context<'_, Clients>, place: Place) -> Result<Pipeline, ControlError> {
    let c = &cx.clients;
    let bucket = place.bucket();
    let bucket_exists = store::bucket_region(&c.s3, &bucket, Some(&place.account)).await?.is_ok();
    let delivery_role = read_role(cx, &place, RoleKind::Delivery).await?;
    let subscription_role = read_role(cx, &place, RoleKind::Subscription).await?;
    let groups = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(ERROR_LOG_GROUP)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", ERROR_LOG_GROUP, e))?;
    let error_group = groups.log_groups().iter().find(|g| g.log_group_name() == Some(ERROR_LOG_GROUP));
    let error_stream_exists = match error_group {
        None => false,
        Some(_) => {
            let streams = c
                .logs
                .describe_log_streams()
                .log_group_name(ERROR_LOG_GROUP)
                .log_stream_name_prefix(ERROR_LOG_STREAM)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("logs:DescribeLogStreams", ERROR_LOG_GROUP, e))?;
            streams.log_streams().iter().any(|s| s.log_stream_name() == Some(ERROR_LOG_STREAM))
        }
    };
    let stream = read_stream(cx, &place, &delivery_role.role.arn).await?;
    Ok(Pipeline {
        bucket_exists,
        delivery_role,
        subscription_role,
        error_group_exists: error_group.is_some(),
        error_group_retention: error_group.and_then(|g| g.retention_in_days()),
        error_stream_exists,
        stream,
        place,
    })
}

async fn read_stream(cx: &Context<'_, Clients>, place: &Place, role_arn: &str) -> Result<StreamState, ControlError> {
    let firehose = &cx.clients.firehose;
    let out = match firehose.describe_delivery_stream().delivery_stream_name(STREAM_NAME).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            return Ok(StreamState::Missing);
        }
        Err(e) => return Err(AwsError::from_sdk("firehose:DescribeDeliveryStream", STREAM_NAME, e).into()),
    };
    let Some(d) = out.delivery_stream_description() else { return Ok(StreamState::Missing) };
    let status = d.delivery_stream_status();
    match status {
        DeliveryStreamStatus::Active => {}
        DeliveryStreamStatus::Creating | DeliveryStreamStatus::Deleting => {
            return Ok(StreamState::Busy(status.as_str().to_owned()));
        }
        _ => {
            let why =
                d.failure_description().map(|f| f.details().to_owned()).unwrap_or_else(|| status.as_str().to_owned());
            stream_is_ours(cx, place).await?;
            return Ok(StreamState::Failed(why));
        }
    }
    let bucket_arn = store::bucket_arn(&place.partition, &place.bucket());
    let first = d.destinations().first();
    let current = first.and_then(|dest| dest.extended_s3_destination_description()).is_some_and(|s3| {
        s3.role_arn() == role_arn
            && s3.bucket_arn() == bucket_arn
            && s3.prefix() == Some(PREFIX)
            && s3.error_output_prefix() == Some(ERROR_PREFIX)
    });
    if !current {
        stream_is_ours(cx, place).await?;
    }
    Ok(StreamState::Active {
        version_id: d.version_id().to_owned(),
        destination_id: first.map(|dest| dest.destination_id().to_owned()).unwrap_or_default(),
        current,
    })
}

/// A stream of logmend's name that logmend did not tag is someone's: it is never changed.
async fn stream_is_ours(cx: &Context<'_, Clients>, place: &Place) -> Result<(), ControlError> {
    let tags = cx
        .clients
        .firehose
        .list_tags_for_delivery_stream()
        .delivery_stream_name(STREAM_NAME)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("firehose:ListTagsForDeliveryStream", STREAM_NAME, e))?;
    if tags.tags().iter().any(|t| (t.key(), t.value()) == (MANAGED_BY_TAG.0, Some(MANAGED_BY_TAG.1))) {
        Ok(())
    } else {
        Err(ControlError::Conflict {
            resource: place.stream_arn(),
            reason: "a Firehose stream of logmend's archive name exists that logmend did not make (no managed-by tag) and does not deliver to the log bucket; logmend does not change it".into(),
        })
    }
}

async fn apply_step(cx: &Context<'_, Clients>, place: &Place, step: &ArchiveStep) -> Result<(), ControlError> {
    let c = &cx.clients;
    match step {
        ArchiveStep::CreateLogBucket { bucket } => {
            store::create_log_bucket(&c.s3, cx.region, bucket).await?;
            let doc =
                json!({"Version": "2012-10-17", "Statement": [store::tls_deny_statement(&place.partition, bucket)]});
            Ok(store::put_policy(&c.s3, bucket, &doc).await?)
        }
        ArchiveStep::CreateRole { role, trust } => {
            let tag = aws_sdk_iam::types::Tag::builder()
                .key(MANAGED_BY_TAG.0)
                .value(MANAGED_BY_TAG.1)
                .build()
                .expect("key and value are set");
            let created = c
                .iam
                .create_role()
                .role_name(&role.name)
                .path(ROLE_PATH)
                .assume_role_policy_document(trust.to_string())
                .description(match role.kind {
                    RoleKind::Delivery => {
                        "Firehose writes the log archive into logmend's log bucket; created by logmend"
                    }
                    RoleKind::Subscription => {
                        "CloudWatch Logs sends archived log groups to Firehose; created by logmend"
                    }
                })
                .tags(tag)
                .send()
                .await;
            Ok(created_or_existing(created, |e| e.is_entity_already_exists_exception(), "iam:CreateRole", &role.arn)?)
        }
        ArchiveStep::UpdateAssumeRolePolicy { role, trust } => c
            .iam
            .update_assume_role_policy()
            .role_name(&role.name)
            .policy_document(trust.to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("iam:UpdateAssumeRolePolicy", &role.arn, e).into()),
        ArchiveStep::PutRolePolicy { role, policy } => c
            .iam
            .put_role_policy()
            .role_name(&role.name)
            .policy_name(ROLE_POLICY_NAME)
            .policy_document(policy.to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("iam:PutRolePolicy", &role.arn, e).into()),
        ArchiveStep::CreateErrorLogGroup => {
            let created = c
                .logs
                .create_log_group()
                .log_group_name(ERROR_LOG_GROUP)
                .tags(MANAGED_BY_TAG.0, MANAGED_BY_TAG.1)
                .send()
                .await;
            Ok(created_or_existing(
                created,
                |e| e.is_resource_already_exists_exception(),
                "logs:CreateLogGroup",
                ERROR_LOG_GROUP,
            )?)
        }
        ArchiveStep::PutErrorLogRetention { days } => c
            .logs
            .put_retention_policy()
            .log_group_name(ERROR_LOG_GROUP)
            .retention_in_days(*days)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("logs:PutRetentionPolicy", ERROR_LOG_GROUP, e).into()),
        ArchiveStep::CreateErrorLogStream => {
            let created = c
                .logs
                .create_log_stream()
                .log_group_name(ERROR_LOG_GROUP)
                .log_stream_name(ERROR_LOG_STREAM)
                .send()
                .await;
            Ok(created_or_existing(
                created,
                |e| e.is_resource_already_exists_exception(),
                "logs:CreateLogStream",
                ERROR_LOG_GROUP,
            )?)
        }
        ArchiveStep::CreateDeliveryStream { delivery_role_arn, bucket_arn } => {
            let (logging, [role, bucket, prefix, error_prefix]) = destination(delivery_role_arn, bucket_arn);
            let s3 = ExtendedS3DestinationConfiguration::builder()
                .role_arn(role)
                .bucket_arn(bucket)
                .prefix(prefix)
                .error_output_prefix(error_prefix)
                .compression_format(CompressionFormat::Uncompressed)
                .cloud_watch_logging_options(logging)
                .build()
                .expect("role and bucket are set");
            let tag = aws_sdk_firehose::types::Tag::builder()
                .key(MANAGED_BY_TAG.0)
                .value(MANAGED_BY_TAG.1)
                .build()
                .expect("key is set");
            // Firehose assumes the role on creation: "Firehose is unable to assume role …"
            // (InvalidArgumentException) while the new role propagates.
            let propagating = |e: &CreateDeliveryStreamError| {
                e.is_invalid_argument_exception() && e.message().is_some_and(|m| m.contains("assume role"))
            };
            while_iam_propagates(cx.config, "firehose:CreateDeliveryStream", STREAM_NAME, propagating, || async {
                let created = c
                    .firehose
                    .create_delivery_stream()
                    .delivery_stream_name(STREAM_NAME)
                    .delivery_stream_type(DeliveryStreamType::DirectPut)
                    .extended_s3_destination_configuration(s3.clone())
                    .tags(tag.clone())
                    .send()
                    .await;
                match created {
                    // Made a moment ago by another evaluation, or by a run cut short.
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => Ok(()),
                    other => other.map(|_| ()),
                }
            })
            .await
        }
        ArchiveStep::UpdateDestination { version_id, destination_id, delivery_role_arn, bucket_arn } => {
            let (logging, [role, bucket, prefix, error_prefix]) = destination(delivery_role_arn, bucket_arn);
            let update = ExtendedS3DestinationUpdate::builder()
                .role_arn(role)
                .bucket_arn(bucket)
                .prefix(prefix)
                .error_output_prefix(error_prefix)
                .compression_format(CompressionFormat::Uncompressed)
                .cloud_watch_logging_options(logging)
                .build();
            c.firehose
                .update_destination()
                .delivery_stream_name(STREAM_NAME)
                .current_delivery_stream_version_id(version_id)
                .destination_id(destination_id)
                .extended_s3_destination_update(update)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("firehose:UpdateDestination", STREAM_NAME, e).into())
        }
        ArchiveStep::DeleteDeliveryStream => c
            .firehose
            .delete_delivery_stream()
            .delivery_stream_name(STREAM_NAME)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("firehose:DeleteDeliveryStream", STREAM_NAME, e).into()),
        ArchiveStep::PutSubscriptionFilter { group, stream_arn, role_arn } => {
            // CloudWatch Logs sends a test record first: refused while the role propagates or
            // the stream is not ACTIVE yet ("Could not deliver test message …").
            let propagating = |e: &PutSubscriptionFilterError| {
                e.is_invalid_parameter_exception() && e.message().is_some_and(|m| m.contains("test message"))
            };
            while_iam_propagates(cx.config, "logs:PutSubscriptionFilter", group, propagating, || async {
                c.logs
                    .put_subscription_filter()
                    .log_group_name(group)
                    .filter_name(FILTER_NAME)
                    .filter_pattern("")
                    .destination_arn(stream_arn)
                    .role_arn(role_arn)
                    .send()
                    .await
                    .map(|_| ())
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logmend_core::decision::Mode;

    fn place() -> Place {
        Place { partition: "aws".into(), account: "123456789012".into(), region: "eu-west-1".into() }
    }

    fn nothing_built() -> Pipeline {
        let role =
            |kind| RoleState { role: place().role(kind), exists: false, trust_current: false, policy_current: false };
        Pipeline {
            place: place(),
            bucket_exists: false,
            delivery_role: role(RoleKind::Delivery),
            subscription_role: role(RoleKind::Subscription),
            error_group_exists: false,
            error_group_retention: None,
            error_stream_exists: false,
            stream: StreamState::Missing,
        }
    }

    #[test]
    fn an_empty_account_gets_the_whole_pipeline_in_dependency_order_then_the_filter() {
        let finding = ArchiveFinding {
            pipeline: nothing_built(),
            group: Some("/app/orders".into()),
            blocked: None,
            problems: vec![],
        };
        let steps = LogArchive.plan(&Config::new(Mode::Remediate), &finding);
        let apis: Vec<&str> = steps.iter().map(|s| LogArchive.describe(s).api).collect();
        assert_eq!(
            apis,
            [
                "s3:CreateBucket",
                "iam:CreateRole",
                "iam:PutRolePolicy",
                "logs:CreateLogGroup",
                "logs:PutRetentionPolicy",
                "logs:CreateLogStream",
                "firehose:CreateDeliveryStream",
                "iam:CreateRole",
                "iam:PutRolePolicy",
                "logs:PutSubscriptionFilter",
            ]
        );
        for api in apis {
            assert!(SPEC.writes.iter().any(|p| p.action == api), "{api} is declared");
        }
    }

    #[test]
    fn a_group_with_two_filters_of_others_plans_nothing() {
        let finding = ArchiveFinding {
            pipeline: nothing_built(),
            group: Some("/app/orders".into()),
            blocked: Some("two filters".into()),
            problems: vec![],
        };
        assert!(LogArchive.plan(&Config::new(Mode::Remediate), &finding).is_empty());
    }

    #[test]
    fn the_roles_trust_only_their_service_in_this_account() {
        let p = place();
        let logs = p.trust_policy(RoleKind::Subscription);
        assert_eq!(logs["Statement"][0]["Principal"]["Service"], "logs.amazonaws.com");
        assert_eq!(
            logs["Statement"][0]["Condition"]["StringLike"]["aws:SourceArn"],
            "arn:aws:logs:eu-west-1:123456789012:*"
        );
        let firehose = p.trust_policy(RoleKind::Delivery);
        assert_eq!(firehose["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"], "123456789012");
        let put = p.role_policy(RoleKind::Subscription);
        assert_eq!(
            put["Statement"][0]["Resource"],
            "arn:aws:firehose:eu-west-1:123456789012:deliverystream/logmend-log-archive"
        );
        let role = p.role(RoleKind::Subscription);
        assert!(role.name.len() <= 64 && role.arn.ends_with(":role/logmend/LogmendArchiveSubscription-eu-west-1"));
    }

    #[test]
    fn a_failed_stream_is_deleted_and_nothing_else_follows_until_it_is_gone() {
        let mut pipeline = nothing_built();
        pipeline.stream = StreamState::Failed("CREATING_FAILED".into());
        let finding = ArchiveFinding { pipeline, group: Some("/app/x".into()), blocked: None, problems: vec![] };
        let steps = LogArchive.plan(&Config::new(Mode::Remediate), &finding);
        assert!(steps.contains(&ArchiveStep::DeleteDeliveryStream));
        assert!(!steps.iter().any(|s| matches!(s, ArchiveStep::PutSubscriptionFilter { .. })));
    }
}
