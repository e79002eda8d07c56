//! `config-recorder` (Security Hub Config.1): AWS Config records in this account and region,
//! with the service-linked role, every supported resource type (global types such as IAM in
//! `LOGMEND_CONFIG_GLOBAL_REGION` only: recorded in each region they would be billed and stored
//! once per region), and a delivery channel whose deliveries succeed.
//!
//! The other half: a recorder that is on but cannot deliver keeps no history. So the channel's
//! status is read (DescribeDeliveryChannelStatus); a channel into logmend's log bucket is
//! repaired (the bucket's policy gets Config's statements), one into someone else's bucket is
//! reported with the error Config meets, never re-pointed.
//!
//! The fix, in the order Config needs it: the service-linked role `AWSServiceRoleForConfig`
//! (CreateServiceLinkedRole), PutConfigurationRecorder, the log bucket and its policy,
//! PutDeliveryChannel (a recorder must exist first, and Config checks the bucket policy:
//! InsufficientDeliveryPolicyException), then StartConfigurationRecorder (which needs a
//! channel) (AWS Config API Reference). Recorders have no tags: the account is exempted by
//! leaving the control out of `LOGMEND_CONTROLS`.

use crate::Clients;
use aws_sdk_config::types::{
    ConfigurationRecorder, ConfigurationRecorderStatus, DeliveryChannel, DeliveryStatus, RecorderStatus, RecordingGroup,
};
use logmend_core::aws::{AwsError, partition_of};
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, State, Trigger,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};
use logmend_core::resource_policy::{self, Principal, Request, with_statement};
use logmend_s3_store as store;
use serde_json::{Value, json};

pub const CONFIG_SERVICE: &str = "config.amazonaws.com";
pub const SERVICE_LINKED_ROLE: &str = "AWSServiceRoleForConfig";
/// Where Config's files go in the log bucket: `config/AWSLogs/<account>/Config/…`.
pub const KEY_PREFIX: &str = "config";
pub const DEFAULT_NAME: &str = "default";
pub const CHECK_SID: &str = "LogmendConfigBucketCheck";
pub const DELIVERY_SID: &str = "LogmendConfigDelivery";

const LOG_BUCKET_ARN: &str = store::LOG_BUCKET_ARN;
const ROLE_ARN: &str =
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig";

pub static SPEC: ControlSpec = ControlSpec {
    id: "config-recorder",
    security_hub: &["Config.1"],
    severity: logmend_core::control::Severity::Medium,
    resource_type: "AWS::Config::ConfigurationRecorder",
    triggers: &[Trigger {
        event_source: "config.amazonaws.com",
        event_names: &[
            "StopConfigurationRecorder",
            "DeleteConfigurationRecorder",
            "DeleteDeliveryChannel",
            "PutConfigurationRecorder",
            "PutDeliveryChannel",
        ],
    }],
    compliant_when: "a recorder with the service-linked role records every supported resource type (global types in LOGMEND_CONFIG_GLOBAL_REGION), is recording, and its delivery channel's last deliveries succeeded",
    fix: "CreateServiceLinkedRole AWSServiceRoleForConfig, PutConfigurationRecorder (all supported types, the service-linked role), logmend's log bucket with Config's policy statements, PutDeliveryChannel into it under config/, StartConfigurationRecorder; a channel into another bucket that fails is reported",
    reads: &[
        Permission::any("config:DescribeConfigurationRecorders"),
        Permission::any("config:DescribeConfigurationRecorderStatus"),
        Permission::any("config:DescribeDeliveryChannels"),
        Permission::any("config:DescribeDeliveryChannelStatus"),
        Permission::on("iam:GetRole", ROLE_ARN),
        Permission::on("s3:GetBucketLocation", LOG_BUCKET_ARN),
        Permission::on("s3:GetBucketPolicy", LOG_BUCKET_ARN),
    ],
    writes: &WRITES,
};

const OWN_WRITES: [Permission; 6] = [
    Permission::on("iam:CreateServiceLinkedRole", ROLE_ARN),
    // Config is handed its own service-linked role and no other.
    Permission::on("iam:PassRole", ROLE_ARN),
    Permission::any("config:PutConfigurationRecorder"),
    Permission::any("config:PutDeliveryChannel"),
    Permission::any("config:StartConfigurationRecorder"),
    Permission::on("s3:PutBucketPolicy", LOG_BUCKET_ARN),
];
const WRITES: [Permission; 10] = logmend_core::control::permissions(&OWN_WRITES, &store::LOG_BUCKET_CREATE);

pub struct ConfigRecorder;

pub fn role_arn(partition: &str, account: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/aws-service-role/{CONFIG_SERVICE}/{SERVICE_LINKED_ROLE}")
}

/// Config's statements for logmend's log bucket (AWS Config Developer Guide, "Permissions for
/// the Amazon S3 Bucket for the AWS Config Delivery Channel"), limited to this account's
/// Config by `AWS:SourceAccount`. The principal is a plain string, as S3 stores it.
pub fn config_statements(partition: &str, bucket: &str, account: &str) -> [Value; 2] {
    let arn = store::bucket_arn(partition, bucket);
    [
        json!({
            "Sid": CHECK_SID,
            "Effect": "Allow",
            "Principal": {"Service": CONFIG_SERVICE},
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": arn,
            "Condition": {"StringEquals": {"AWS:SourceAccount": account}}
        }),
        json!({
            "Sid": DELIVERY_SID,
            "Effect": "Allow",
            "Principal": {"Service": CONFIG_SERVICE},
            "Action": "s3:PutObject",
            "Resource": format!("{arn}/{KEY_PREFIX}/AWSLogs/{account}/Config/*"),
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "AWS:SourceAccount": account}}
        }),
    ]
}

/// Whether the policy lets this account's Config check the bucket and write its files there.
pub fn lets_config_deliver(policy: &Value, partition: &str, bucket: &str, account: &str) -> bool {
    let arn = store::bucket_arn(partition, bucket);
    let object = format!("{arn}/{KEY_PREFIX}/AWSLogs/{account}/Config/probe.json.gz");
    let context = [
        ("aws:SourceAccount", account),
        ("s3:x-amz-acl", "bucket-owner-full-control"),
        ("aws:SecureTransport", "true"),
    ];
    [("s3:GetBucketAcl", arn.as_str()), ("s3:ListBucket", arn.as_str()), ("s3:PutObject", object.as_str())].iter().all(
        |(action, resource)| {
            let req = Request { principal: Principal::Service(CONFIG_SERVICE), action, resource, context: &context };
            resource_policy::allows(policy, &req)
        },
    )
}

/// Whether a recording group records every supported type, and global ones where they belong.
fn records_enough(group: Option<&RecordingGroup>, global_here: bool) -> bool {
    group.is_some_and(|g| g.all_supported() && (!global_here || g.include_global_resource_types()))
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecorderFinding {
    pub name: String,
    pub create_role: bool,
    /// The service-linked role's ARN, the recorder's role.
    pub role_arn: String,
    /// The recorder to put: all supported types, the service-linked role.
    pub put_recorder: Option<(String, bool)>,
    pub log_bucket: String,
    pub create_log_bucket: bool,
    pub log_bucket_policy: Option<Value>,
    pub put_channel: Option<String>,
    pub start: bool,
    /// What was wrong, for the decision once it is fixed.
    pub problems: String,
    /// A problem logmend may not fix (delivery into someone else's bucket fails): then
    /// nothing is written, not even what logmend could fix, so no recorder is left half-fixed.
    pub blocked_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RecorderStep {
    CreateServiceLinkedRole,
    PutConfigurationRecorder { name: String, role_arn: String, include_global: bool },
    CreateLogBucket { bucket: String },
    PutLogBucketPolicy { bucket: String, policy: Value },
    PutDeliveryChannel { name: String, bucket: String },
    StartConfigurationRecorder { name: String },
}

/// What the recorders in this region are: the customer-managed one (a service-linked
/// recorder, owned by another AWS service, does not count for Config.1).
async fn recorder(cx: &Context<'_, Clients>) -> Result<Option<ConfigurationRecorder>, ControlError> {
    let out = cx
        .clients
        .config
        .describe_configuration_recorders()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("config:DescribeConfigurationRecorders", cx.region, e))?;
    Ok(out.configuration_recorders().iter().find(|r| r.service_principal().is_none()).cloned())
}

async fn recorder_status(
    cx: &Context<'_, Clients>,
    name: &str,
) -> Result<Option<ConfigurationRecorderStatus>, ControlError> {
    let out = cx
        .clients
        .config
        .describe_configuration_recorder_status()
        .configuration_recorder_names(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("config:DescribeConfigurationRecorderStatus", name, e))?;
    Ok(out.configuration_recorders_status().first().cloned())
}

async fn channel(cx: &Context<'_, Clients>) -> Result<Option<DeliveryChannel>, ControlError> {
    let out = cx
        .clients
        .config
        .describe_delivery_channels()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("config:DescribeDeliveryChannels", cx.region, e))?;
    Ok(out.delivery_channels().first().cloned())
}

/// The channel's failing delivery, if its last history or snapshot delivery failed.
async fn delivery_failure(cx: &Context<'_, Clients>, name: &str) -> Result<Option<String>, ControlError> {
    let out = cx
        .clients
        .config
        .describe_delivery_channel_status()
        .delivery_channel_names(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("config:DescribeDeliveryChannelStatus", name, e))?;
    let Some(status) = out.delivery_channels_status().first() else { return Ok(None) };
    let infos = [status.config_history_delivery_info(), status.config_snapshot_delivery_info()];
    Ok(infos.into_iter().flatten().find(|i| i.last_status() == Some(&DeliveryStatus::Failure)).map(|i| {
        format!(
            "{}: {}",
            i.last_error_code().unwrap_or("an unnamed error"),
            i.last_error_message().unwrap_or("no message")
        )
    }))
}

async fn role_exists(cx: &Context<'_, Clients>) -> Result<bool, ControlError> {
    match cx.clients.iam.get_role().role_name(SERVICE_LINKED_ROLE).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => Ok(false),
        Err(e) => Err(AwsError::from_sdk("iam:GetRole", SERVICE_LINKED_ROLE, e).into()),
    }
}

impl Control for ConfigRecorder {
    type Clients = Clients;
    type Target = String;
    type Finding = RecorderFinding;
    type Step = RecorderStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    /// One recorder per account and region: every event is about the region's.
    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<String>, EventError> {
        Ok(vec![event.region.clone()])
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<String>, ControlError> {
        Ok(vec![cx.region.to_owned()])
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        _region: &String,
    ) -> Result<Checked<RecorderFinding>, ControlError> {
        let partition = partition_of(cx.region);
        // Read first: an unreachable Config is a failure, not a skip for want of an account.
        let recorder = recorder(cx).await?;
        let Some(account) = cx.account else {
            return Ok(Checked {
                resource: format!("arn:{partition}:config:{}::configuration-recorder/*", cx.region),
                state: State::Skipped("the account is not known, so neither is logmend's log bucket".into()),
            });
        };
        let name = recorder.as_ref().and_then(|r| r.name()).unwrap_or(DEFAULT_NAME).to_owned();
        let resource = format!("arn:{partition}:config:{}:{account}:configuration-recorder/{name}", cx.region);
        let global_here = cx.region == cx.config.config_global_region;
        let slr = role_arn(partition, account);
        let mut problems = Vec::new();
        let put_recorder = match &recorder {
            None => {
                problems.push("no configuration recorder".to_owned());
                Some((name.clone(), global_here))
            }
            Some(r) => {
                let group = r.recording_group();
                let role_ok = r.role_arn() == Some(slr.as_str());
                let types_ok = records_enough(group, global_here);
                if !role_ok {
                    problems.push(format!(
                        "the recorder uses {} instead of the service-linked role {SERVICE_LINKED_ROLE}",
                        r.role_arn().unwrap_or("no role")
                    ));
                }
                if !types_ok {
                    problems.push(if group.is_some_and(RecordingGroup::all_supported) {
                        format!("the recorder leaves out global resource types, which {} records", cx.region)
                    } else {
                        "the recorder does not record every supported resource type".to_owned()
                    });
                }
                // Global types someone records elsewhere too are kept: only what is missing is added.
                let include_global = global_here || group.is_some_and(RecordingGroup::include_global_resource_types);
                (!role_ok || !types_ok).then(|| (name.clone(), include_global))
            }
        };
        let create_role = put_recorder.is_some() && !role_exists(cx).await?;
        let status = match &recorder {
            Some(_) => recorder_status(cx, &name).await?,
            None => None,
        };
        let recording = status.as_ref().is_some_and(|s| s.recording());
        if recorder.is_some() && !recording {
            problems.push("the recorder is stopped".to_owned());
        }
        if let Some(s) = status.as_ref().filter(|s| s.recording() && s.last_status() == Some(&RecorderStatus::Failure))
        {
            problems.push(format!(
                "recording fails: {}: {}",
                s.last_error_code().unwrap_or("an unnamed error"),
                s.last_error_message().unwrap_or("no message")
            ));
        }
        let log_bucket = store::log_bucket_name(account, cx.region);
        let channel = channel(cx).await?;
        let into_log_bucket = channel.as_ref().is_none_or(|c| c.s3_bucket_name() == Some(log_bucket.as_str()));
        let (create_log_bucket, log_bucket_policy) = if into_log_bucket {
            let exists = store::bucket_region(&cx.clients.s3, &log_bucket, Some(account)).await?.is_ok();
            let policy = if exists { store::read_policy(&cx.clients.s3, &log_bucket).await? } else { None };
            let delivers = policy.as_ref().is_some_and(|p| lets_config_deliver(p, partition, &log_bucket, account));
            let merged = (!delivers).then(|| {
                let [check, delivery] = config_statements(partition, &log_bucket, account);
                let doc = with_statement(policy.as_ref().unwrap_or(&Value::Null), check);
                let doc = with_statement(&doc, delivery);
                if store::denies_insecure_transport(Some(&doc), partition, &log_bucket) {
                    doc
                } else {
                    with_statement(&doc, store::tls_deny_statement(partition, &log_bucket))
                }
            });
            if channel.is_some() && merged.is_some() {
                problems.push(format!("logmend's log bucket {log_bucket} does not let Config write"));
            }
            (!exists, merged)
        } else {
            (false, None)
        };
        let mut blocked_by = None;
        let put_channel = match &channel {
            None => {
                problems.push("no delivery channel".to_owned());
                Some(DEFAULT_NAME.to_owned())
            }
            Some(c) => {
                let channel_name = c.name().unwrap_or(DEFAULT_NAME);
                if let Some(failure) = delivery_failure(cx, channel_name).await? {
                    let bucket = c.s3_bucket_name().unwrap_or("its bucket");
                    if log_bucket_policy.is_none() {
                        let why = if into_log_bucket {
                            "logmend's policy is in place, so the cause is elsewhere"
                        } else {
                            "the bucket is not logmend's: its owner must let Config write"
                        };
                        let problem = format!("delivery to {bucket} fails ({failure}); {why}");
                        blocked_by = Some(problem.clone());
                        problems.push(problem);
                    }
                }
                None
            }
        };
        if problems.is_empty() {
            let bucket = channel.as_ref().and_then(|c| c.s3_bucket_name()).unwrap_or_default();
            return Ok(Checked {
                resource,
                state: State::Compliant(format!(
                    "recorder {name} records all supported types{} with {SERVICE_LINKED_ROLE}, delivering to {bucket}",
                    if global_here { " and global ones" } else { "" }
                )),
            });
        }
        let finding = RecorderFinding {
            name: name.clone(),
            create_role,
            role_arn: slr,
            put_recorder,
            log_bucket,
            create_log_bucket,
            log_bucket_policy,
            put_channel,
            start: !recording,
            problems: problems.join("; "),
            blocked_by,
        };
        let reason = match &finding.blocked_by {
            Some(_) => format!(
                "AWS Config in {}: {}; nothing is changed until deliveries succeed (logmend never fixes half of it)",
                cx.region, finding.problems
            ),
            None => format!("AWS Config in {}: {}", cx.region, finding.problems),
        };
        Ok(Checked { resource, state: State::Noncompliant { reason, finding } })
    }

    fn plan(&self, _config: &Config, f: &RecorderFinding) -> Vec<RecorderStep> {
        let mut steps = Vec::new();
        if f.blocked_by.is_some() {
            return steps;
        }
        if f.create_role {
            steps.push(RecorderStep::CreateServiceLinkedRole);
        }
        if let Some((name, include_global)) = &f.put_recorder {
            steps.push(RecorderStep::PutConfigurationRecorder {
                name: name.clone(),
                role_arn: f.role_arn.clone(),
                include_global: *include_global,
            });
        }
        if f.create_log_bucket {
            steps.push(RecorderStep::CreateLogBucket { bucket: f.log_bucket.clone() });
        }
        if let Some(policy) = &f.log_bucket_policy {
            steps.push(RecorderStep::PutLogBucketPolicy { bucket: f.log_bucket.clone(), policy: policy.clone() });
        }
        if let Some(name) = &f.put_channel {
            steps.push(RecorderStep::PutDeliveryChannel { name: name.clone(), bucket: f.log_bucket.clone() });
        }
        if f.start {
            steps.push(RecorderStep::StartConfigurationRecorder { name: f.name.clone() });
        }
        steps
    }

    fn describe(&self, step: &RecorderStep) -> Change {
        match step {
            RecorderStep::CreateServiceLinkedRole => {
                Change::new("iam:CreateServiceLinkedRole", format!("{SERVICE_LINKED_ROLE} for {CONFIG_SERVICE}"))
            }
            RecorderStep::PutConfigurationRecorder { name, role_arn, include_global } => Change::new(
                "config:PutConfigurationRecorder",
                format!(
                    "{name}: all supported resource types{}, role {role_arn}",
                    if *include_global { " and global ones" } else { "" }
                ),
            ),
            RecorderStep::CreateLogBucket { bucket } => Change::new(
                "s3:CreateBucket",
                format!("{bucket}: Block Public Access, SSE-S3, tag managed-by=logmend (no Object Lock)"),
            ),
            RecorderStep::PutLogBucketPolicy { bucket, .. } => Change::new(
                "s3:PutBucketPolicy",
                format!("{bucket}: {CONFIG_SERVICE} may write under {KEY_PREFIX}/ (AWS:SourceAccount), non-TLS denied"),
            ),
            RecorderStep::PutDeliveryChannel { name, bucket } => {
                Change::new("config:PutDeliveryChannel", format!("{name}: s3://{bucket}/{KEY_PREFIX}/"))
            }
            RecorderStep::StartConfigurationRecorder { name } => Change::new("config:StartConfigurationRecorder", name),
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        f: &RecorderFinding,
        plan: &[RecorderStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            if let Err(error) = apply_step(cx, step).await {
                return Err(ApplyError { done, error: error.into() });
            }
            done.push(self.describe(step));
        }
        Ok(Applied::Fixed(format!("AWS Config in {} was fixed: {}", cx.region, f.problems)))
    }
}

async fn apply_step(cx: &Context<'_, Clients>, step: &RecorderStep) -> Result<(), AwsError> {
    let config = &cx.clients.config;
    match step {
        RecorderStep::CreateServiceLinkedRole => {
            let sent = cx.clients.iam.create_service_linked_role().aws_service_name(CONFIG_SERVICE).send().await;
            match sent {
                Ok(_) => Ok(()),
                // Made a moment ago by another evaluation: "has been taken in this account".
                Err(e)
                    if e.as_service_error().is_some_and(|s| s.is_invalid_input_exception())
                        && role_exists_now(cx).await =>
                {
                    Ok(())
                }
                Err(e) => Err(AwsError::from_sdk("iam:CreateServiceLinkedRole", SERVICE_LINKED_ROLE, e)),
            }
        }
        RecorderStep::PutConfigurationRecorder { name, role_arn, include_global } => {
            let group =
                RecordingGroup::builder().all_supported(true).include_global_resource_types(*include_global).build();
            let recorder =
                ConfigurationRecorder::builder().name(name).role_arn(role_arn).recording_group(group).build();
            config
                .put_configuration_recorder()
                .configuration_recorder(recorder)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("config:PutConfigurationRecorder", name, e))
        }
        RecorderStep::CreateLogBucket { bucket } => store::create_log_bucket(&cx.clients.s3, cx.region, bucket).await,
        RecorderStep::PutLogBucketPolicy { bucket, policy } => store::put_policy(&cx.clients.s3, bucket, policy).await,
        RecorderStep::PutDeliveryChannel { name, bucket } => {
            let channel =
                DeliveryChannel::builder().name(name).s3_bucket_name(bucket).s3_key_prefix(KEY_PREFIX).build();
            config
                .put_delivery_channel()
                .delivery_channel(channel)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("config:PutDeliveryChannel", name, e))
        }
        RecorderStep::StartConfigurationRecorder { name } => config
            .start_configuration_recorder()
            .configuration_recorder_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("config:StartConfigurationRecorder", name, e)),
    }
}

async fn role_exists_now(cx: &Context<'_, Clients>) -> bool {
    cx.clients.iam.get_role().role_name(SERVICE_LINKED_ROLE).send().await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_statements_let_this_accounts_config_deliver_and_no_other() {
        let [check, delivery] = config_statements("aws", "logs", "123456789012");
        let doc = json!({"Statement": [check, delivery]});
        assert!(lets_config_deliver(&doc, "aws", "logs", "123456789012"));
        assert!(!lets_config_deliver(&doc, "aws", "logs", "999999999999"), "another account's Config");
        let only_check = json!({"Statement": [config_statements("aws", "logs", "123456789012")[0]]});
        assert!(!lets_config_deliver(&only_check, "aws", "logs", "123456789012"));
        assert_eq!(doc["Statement"][0]["Principal"]["Service"], CONFIG_SERVICE, "a plain-string principal");
    }

    #[test]
    fn global_types_are_asked_for_only_in_the_global_region() {
        let all = RecordingGroup::builder().all_supported(true).include_global_resource_types(false).build();
        assert!(records_enough(Some(&all), false));
        assert!(!records_enough(Some(&all), true));
        let some = RecordingGroup::builder().all_supported(false).resource_types("AWS::S3::Bucket".into()).build();
        assert!(!records_enough(Some(&some), false));
        assert!(!records_enough(None, false));
    }

    #[test]
    fn the_plan_puts_the_recorder_before_the_channel_and_starts_last() {
        let f = RecorderFinding {
            name: "default".into(),
            create_role: true,
            role_arn: role_arn("aws", "123456789012"),
            put_recorder: Some(("default".into(), true)),
            log_bucket: "logmend-access-logs-123456789012-eu-west-1".into(),
            create_log_bucket: true,
            log_bucket_policy: Some(json!({})),
            put_channel: Some("default".into()),
            start: true,
            problems: "no configuration recorder".into(),
            blocked_by: None,
        };
        let steps = ConfigRecorder.plan(&Config::new(logmend_core::decision::Mode::Remediate), &f);
        let apis: Vec<&str> = steps.iter().map(|s| ConfigRecorder.describe(s).api).collect();
        assert_eq!(
            apis,
            [
                "iam:CreateServiceLinkedRole",
                "config:PutConfigurationRecorder",
                "s3:CreateBucket",
                "s3:PutBucketPolicy",
                "config:PutDeliveryChannel",
                "config:StartConfigurationRecorder"
            ]
        );
        let RecorderStep::PutConfigurationRecorder { role_arn, .. } = &steps[1] else { panic!("{steps:?}") };
        assert_eq!(
            role_arn,
            "arn:aws:iam::123456789012:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
        );
        for api in apis {
            assert!(SPEC.writes.iter().any(|p| p.action == api), "{api} is declared");
        }
        let blocked = RecorderFinding { blocked_by: Some("delivery to theirs fails".into()), ..f };
        assert_eq!(ConfigRecorder.plan(&Config::new(logmend_core::decision::Mode::Remediate), &blocked), []);
    }
}
