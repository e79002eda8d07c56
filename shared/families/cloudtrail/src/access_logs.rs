//! S3 server access logs, for every control that turns them on: CloudTrail.7 for the trails'
//! buckets, S3.9 for all of them. The logs go to one bucket logmend owns per account and region,
//! `logmend-access-logs-<account>-<region>`, made and kept here only (one owner). S3 delivers
//! access logs only to a bucket in the same region and account that has no SSE-KMS or DSSE-KMS
//! default encryption, no Object Lock and no Requester Pays (S3 API Reference, `LoggingEnabled`),
//! and a bucket should not log into itself (S3 User Guide, "Enabling Amazon S3 server access
//! logging"). logmend's bucket blocks public access, refuses non-TLS requests, is encrypted
//! with SSE-S3, lets only `logging.s3.amazonaws.com` write, for this account's buckets
//! (`aws:SourceAccount`), has no Object Lock, and expires logs after
//! `LOGMEND_ACCESS_LOG_RETENTION_DAYS`.
//!
//! A bucket that already logs elsewhere is compliant when that target accepts the logs (its
//! policy lets the logging service write, or its ACL grants the log-delivery group, and none of
//! the three refusals above applies); a target someone else chose that refuses them is
//! reported, never changed.

use crate::Clients;
use crate::bucket::{self, denies_insecure_transport, public_access_gaps, read_policy, tls_deny_statement};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLoggingStatus, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, LoggingEnabled, ObjectLockEnabled, Payer, Permission as AclPermission, Type as GranteeType,
};
use logmend_core::aws::AwsError;
use logmend_core::config::Config;
use logmend_core::control::{Applied, ApplyError, Checked, Context, ControlError, Permission, State};
use logmend_core::decision::Change;
use logmend_core::resource_policy::{self, Principal, Request, with_statement};
use serde_json::{Value, json};

pub const LOGGING_SERVICE: &str = "logging.s3.amazonaws.com";
pub const LOG_DELIVERY_GROUP: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
pub const ACCESS_LOGS_SID: &str = "LogmendS3ServerAccessLogs";
pub const RETENTION_RULE_ID: &str = "logmend-access-log-retention";
const ACCESS_LOG_BUCKET_ARN: &str = "arn:${AWS::Partition}:s3:::logmend-access-logs-${AWS::AccountId}-${AWS::Region}";

/// What assessing a bucket's access logging reads.
pub const READS: &[Permission] = &[
    Permission::any("s3:GetBucketLocation"),
    Permission::any("s3:GetBucketTagging"),
    Permission::any("s3:GetBucketLogging"),
    Permission::any("s3:GetBucketPolicy"),
    Permission::any("s3:GetBucketAcl"),
    Permission::any("s3:GetBucketPublicAccessBlock"),
    Permission::any("s3:GetEncryptionConfiguration"),
    Permission::any("s3:GetLifecycleConfiguration"),
    Permission::any("s3:GetBucketObjectLockConfiguration"),
    Permission::any("s3:GetBucketRequestPayment"),
];

/// What fixing it writes: every write but PutBucketLogging is to logmend's access-log bucket.
pub const WRITES: &[Permission] = &[
    Permission::on("s3:CreateBucket", ACCESS_LOG_BUCKET_ARN),
    Permission::on("s3:PutBucketPublicAccessBlock", ACCESS_LOG_BUCKET_ARN),
    Permission::on("s3:PutEncryptionConfiguration", ACCESS_LOG_BUCKET_ARN),
    Permission::on("s3:PutBucketTagging", ACCESS_LOG_BUCKET_ARN),
    Permission::on("s3:PutBucketPolicy", ACCESS_LOG_BUCKET_ARN),
    Permission::on("s3:PutLifecycleConfiguration", ACCESS_LOG_BUCKET_ARN),
    Permission::any("s3:PutBucketLogging"),
];

pub use logmend_s3_store::log_bucket_name;

/// Whether a bucket policy lets S3 deliver `source`'s access logs into `target` under `prefix`:
/// the request S3's logging service makes, with the conditions it carries.
fn logging_service_may_write(
    policy: &Value,
    partition: &str,
    target: &str,
    prefix: &str,
    source: &str,
    account: &str,
) -> bool {
    let source_arn = bucket::bucket_arn(partition, source);
    let context =
        [("aws:SourceAccount", account), ("aws:SourceArn", source_arn.as_str()), ("aws:SecureTransport", "true")];
    let object = format!("arn:{partition}:s3:::{target}/{prefix}probe");
    let req = Request {
        principal: Principal::Service(LOGGING_SERVICE),
        action: "s3:PutObject",
        resource: &object,
        context: &context,
    };
    resource_policy::allows(policy, &req)
}

/// Whether the ACL grants S3's log-delivery group the write it needs.
async fn acl_lets_log_delivery_write(cx: &Context<'_, Clients>, target: &str) -> Result<bool, ControlError> {
    let acl = cx
        .clients
        .s3
        .get_bucket_acl()
        .bucket(target)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("s3:GetBucketAcl", target, e))?;
    Ok(acl.grants().iter().any(|g| {
        g.grantee().is_some_and(|who| who.r#type() == &GranteeType::Group && who.uri() == Some(LOG_DELIVERY_GROUP))
            && matches!(g.permission(), Some(AclPermission::Write | AclPermission::FullControl))
    }))
}

/// Whether a policy has an Allow for S3's logging service: the bucket is meant to receive
/// server access logs (whatever sources and prefixes its conditions name).
fn allows_logging_service(policy: &Value) -> bool {
    let statements = match policy.get("Statement") {
        Some(Value::Array(all)) => all.iter().collect(),
        Some(one) => vec![one],
        None => vec![],
    };
    statements.iter().any(|st| {
        let service = st.get("Principal").and_then(|p| p.get("Service"));
        let names = match service {
            Some(Value::String(s)) => s == LOGGING_SERVICE,
            Some(Value::Array(all)) => all.iter().any(|s| s.as_str() == Some(LOGGING_SERVICE)),
            _ => false,
        };
        names && st.get("Effect").and_then(Value::as_str) == Some("Allow")
    })
}

/// Whether a bucket receives S3 server access logs: its policy allows the logging service, or
/// its ACL grants the log-delivery group. Such a bucket is a log target; pointing it at another
/// target builds a chain (and, back to itself, a loop) of log objects.
pub async fn is_log_target(cx: &Context<'_, Clients>, name: &str) -> Result<bool, ControlError> {
    if read_policy(cx, name).await?.as_ref().is_some_and(allows_logging_service) {
        return Ok(true);
    }
    acl_lets_log_delivery_write(cx, name).await
}

/// Why S3 cannot deliver server access logs into `target` whatever its policy says: SSE-KMS
/// default encryption, Object Lock, Requester Pays (S3 API Reference, `LoggingEnabled`).
pub async fn target_refusals(cx: &Context<'_, Clients>, target: &str) -> Result<Vec<&'static str>, ControlError> {
    let s3 = &cx.clients.s3;
    let mut refusals = Vec::new();
    if matches!(logmend_s3_store::encryption(s3, target).await?, Some(logmend_s3_store::Encryption::Kms(_))) {
        refusals.push("SSE-KMS default encryption");
    }
    let lock = s3.get_object_lock_configuration().bucket(target).send().await;
    let lock = bucket::unless_absent(
        lock,
        &["ObjectLockConfigurationNotFoundError"],
        "s3:GetBucketObjectLockConfiguration",
        target,
    )?;
    if lock.and_then(|l| l.object_lock_configuration().cloned()).and_then(|c| c.object_lock_enabled().cloned())
        == Some(ObjectLockEnabled::Enabled)
    {
        refusals.push("Object Lock");
    }
    let payment = s3
        .get_bucket_request_payment()
        .bucket(target)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("s3:GetBucketRequestPayment", target, e))?;
    if payment.payer() == Some(&Payer::Requester) {
        refusals.push("Requester Pays");
    }
    Ok(refusals)
}

/// Whether `target` takes `source`'s access logs under `prefix`; `Err(reason)`: it is gone.
async fn target_accepts(
    cx: &Context<'_, Clients>,
    partition: &str,
    target: &str,
    prefix: &str,
    source: &str,
    account: &str,
) -> Result<Result<Result<(), String>, String>, ControlError> {
    let policy = match read_policy(cx, target).await {
        Ok(p) => p,
        Err(ControlError::Aws(e)) if e.code_or_kind() == "NoSuchBucket" => {
            return Ok(Err(format!("its access logs go to {target}, which no longer exists")));
        }
        Err(e) => return Err(e),
    };
    let allowed =
        policy.as_ref().is_some_and(|p| logging_service_may_write(p, partition, target, prefix, source, account))
            || acl_lets_log_delivery_write(cx, target).await?;
    if !allowed {
        return Ok(Ok(Err(format!(
            "its access logs go to {target}, whose policy and ACL do not let {LOGGING_SERVICE} write them; its owner must add {}",
            access_logs_statement(partition, target, account)
        ))));
    }
    let refusals = target_refusals(cx, target).await?;
    if !refusals.is_empty() {
        return Ok(Ok(Err(format!(
            "its access logs go to {target}, which S3 cannot deliver to: it has {}; its owner must remove that or choose another target",
            refusals.join(", ")
        ))));
    }
    Ok(Ok(Ok(())))
}

/// Whether logmend's expiry rule, with these days, is on the log bucket.
async fn retention_rule_in_place(cx: &Context<'_, Clients>, log_bucket: &str, days: i32) -> Result<bool, ControlError> {
    let sent = cx.clients.s3.get_bucket_lifecycle_configuration().bucket(log_bucket).send().await;
    let rules =
        bucket::unless_absent(sent, &["NoSuchLifecycleConfiguration"], "s3:GetLifecycleConfiguration", log_bucket)?;
    Ok(rules.is_some_and(|r| {
        r.rules().iter().any(|rule| {
            rule.id() == Some(RETENTION_RULE_ID)
                && rule.status() == &ExpirationStatus::Enabled
                && rule.expiration().and_then(|e| e.days()) == Some(days)
        })
    }))
}

/// logmend's statement for the logging service, limited to this account's buckets. The
/// principal is the plain service name, the shape S3 itself documents.
pub fn access_logs_statement(partition: &str, log_bucket: &str, account: &str) -> Value {
    json!({
        "Sid": ACCESS_LOGS_SID,
        "Effect": "Allow",
        "Principal": {"Service": LOGGING_SERVICE},
        "Action": "s3:PutObject",
        "Resource": format!("arn:{partition}:s3:::{log_bucket}/*"),
        "Condition": {"StringEquals": {"aws:SourceAccount": account}}
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccessLoggingFinding {
    pub bucket: String,
    pub log_bucket: String,
    /// logmend's log bucket is missing.
    pub create_log_bucket: bool,
    /// Its Block Public Access, default encryption or tag is not (or not yet) set.
    pub secure_log_bucket: bool,
    /// It lacks the expiry rule of `LOGMEND_ACCESS_LOG_RETENTION_DAYS`.
    pub log_bucket_lifecycle: bool,
    /// logmend's log bucket's policy to write (merged), when it lacks its statements.
    pub log_bucket_policy: Option<Value>,
    /// The bucket needs PutBucketLogging (off, into itself, or into a bucket that is gone).
    pub point_logging: bool,
}

impl AccessLoggingFinding {
    /// A finding with nothing logmend may do: the target someone chose refuses the logs.
    pub fn report_only(bucket: String, log_bucket: String) -> Self {
        AccessLoggingFinding {
            bucket,
            log_bucket,
            create_log_bucket: false,
            secure_log_bucket: false,
            log_bucket_lifecycle: false,
            log_bucket_policy: None,
            point_logging: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AccessLoggingStep {
    CreateLogBucket { log_bucket: String },
    SecureLogBucket { log_bucket: String },
    PutLogBucketPolicy { log_bucket: String, policy: Value },
    PutLogBucketLifecycle { log_bucket: String, days: i32 },
    PutBucketLogging { bucket: String, log_bucket: String },
}

/// Whether `bucket` (this account's, in this region, not exempt: the caller has decided that)
/// has its access logs delivered, and what makes it so.
pub async fn assess(
    cx: &Context<'_, Clients>,
    bucket: &str,
    partition: &str,
    account: &str,
    resource: String,
) -> Result<Checked<AccessLoggingFinding>, ControlError> {
    let log_bucket = log_bucket_name(account, cx.region);
    if bucket == log_bucket {
        return Ok(Checked {
            resource,
            state: State::Skipped("logmend's access-log bucket: it does not log into itself".into()),
        });
    }
    let logging = cx
        .clients
        .s3
        .get_bucket_logging()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("s3:GetBucketLogging", bucket, e))?;
    // Whether the bucket must be pointed at logmend's bucket, and why.
    let problem = match logging.logging_enabled() {
        None => Some("server access logging is off".to_owned()),
        Some(on) if on.target_bucket() == bucket => Some("it logs its access into itself".to_owned()),
        Some(on) if on.target_bucket() == log_bucket => None,
        Some(on) => {
            let target = on.target_bucket();
            match target_accepts(cx, partition, target, on.target_prefix(), bucket, account).await? {
                Ok(Ok(())) => {
                    return Ok(Checked { resource, state: State::Compliant(format!("access logs go to {target}")) });
                }
                Ok(Err(refused)) => {
                    return Ok(Checked {
                        resource,
                        state: State::Noncompliant {
                            reason: format!("bucket {bucket}: {refused}"),
                            finding: AccessLoggingFinding::report_only(bucket.to_owned(), log_bucket),
                        },
                    });
                }
                Err(gone) => Some(gone),
            }
        }
    };
    // The log bucket: logmend's, made and kept as above. Each of its pieces is read, so a run
    // cut short while making it is completed by the next.
    let existing = bucket::bucket_region(cx, &log_bucket).await?.is_ok();
    let policy = if existing { read_policy(cx, &log_bucket).await? } else { None };
    let days = cx.config.access_log_retention_days;
    let (secure_log_bucket, log_bucket_lifecycle) = if existing {
        let blocked = public_access_gaps(cx, &log_bucket).await?.is_empty();
        let sse = bucket::encrypted_with_sse_s3(cx, &log_bucket).await?;
        let expires = days == 0 || retention_rule_in_place(cx, &log_bucket, days).await?;
        (!(blocked && sse), !expires)
    } else {
        (true, days > 0)
    };
    let accepts = policy
        .as_ref()
        .is_some_and(|p| logging_service_may_write(p, partition, &log_bucket, &format!("{bucket}/"), bucket, account));
    let tls = denies_insecure_transport(policy.as_ref(), partition, &log_bucket);
    let log_bucket_policy = (!accepts || !tls).then(|| {
        let with_logs = with_statement(
            policy.as_ref().unwrap_or(&Value::Null),
            access_logs_statement(partition, &log_bucket, account),
        );
        with_statement(&with_logs, tls_deny_statement(partition, &log_bucket))
    });
    if problem.is_none() && log_bucket_policy.is_none() && !secure_log_bucket && !log_bucket_lifecycle {
        return Ok(Checked { resource, state: State::Compliant(format!("access logs go to {log_bucket}")) });
    }
    let point_logging = problem.is_some();
    let mut parts: Vec<String> = problem.into_iter().collect();
    if existing {
        let lacks: Vec<&str> = [
            (log_bucket_policy.is_some(), "a policy that lets the logging service write, TLS-only"),
            (secure_log_bucket, "Block Public Access and SSE-S3"),
            (log_bucket_lifecycle, "its expiry rule"),
        ]
        .into_iter()
        .filter_map(|(missing, what)| missing.then_some(what))
        .collect();
        if !lacks.is_empty() {
            parts.push(format!("{log_bucket} lacks {}", lacks.join(", ")));
        }
    }
    Ok(Checked {
        resource,
        state: State::Noncompliant {
            reason: format!("bucket {bucket}: {}", parts.join("; ")),
            finding: AccessLoggingFinding {
                bucket: bucket.to_owned(),
                log_bucket,
                create_log_bucket: !existing,
                secure_log_bucket,
                log_bucket_lifecycle,
                log_bucket_policy,
                point_logging,
            },
        },
    })
}

/// The log bucket made safe first, then the bucket pointed at it.
pub fn plan(config: &Config, f: &AccessLoggingFinding) -> Vec<AccessLoggingStep> {
    let mut steps = Vec::new();
    let log_bucket = f.log_bucket.clone();
    if f.create_log_bucket {
        steps.push(AccessLoggingStep::CreateLogBucket { log_bucket: log_bucket.clone() });
    }
    if f.secure_log_bucket {
        steps.push(AccessLoggingStep::SecureLogBucket { log_bucket: log_bucket.clone() });
    }
    if f.log_bucket_lifecycle && config.access_log_retention_days > 0 {
        steps.push(AccessLoggingStep::PutLogBucketLifecycle {
            log_bucket: log_bucket.clone(),
            days: config.access_log_retention_days,
        });
    }
    if let Some(policy) = &f.log_bucket_policy {
        steps.push(AccessLoggingStep::PutLogBucketPolicy { log_bucket: log_bucket.clone(), policy: policy.clone() });
    }
    if f.point_logging {
        steps.push(AccessLoggingStep::PutBucketLogging { bucket: f.bucket.clone(), log_bucket });
    }
    steps
}

pub fn describe(step: &AccessLoggingStep) -> Change {
    match step {
        AccessLoggingStep::CreateLogBucket { log_bucket } => {
            Change::new("s3:CreateBucket", format!("{log_bucket} (no Object Lock)"))
        }
        AccessLoggingStep::SecureLogBucket { log_bucket } => Change::new(
            "s3:PutBucketPublicAccessBlock",
            format!("{log_bucket}: Block Public Access, SSE-S3 default encryption, tag managed-by=logmend"),
        ),
        AccessLoggingStep::PutLogBucketPolicy { log_bucket, .. } => Change::new(
            "s3:PutBucketPolicy",
            format!("{log_bucket}: {LOGGING_SERVICE} may write (aws:SourceAccount), non-TLS requests denied"),
        ),
        AccessLoggingStep::PutLogBucketLifecycle { log_bucket, days } => {
            Change::new("s3:PutLifecycleConfiguration", format!("{log_bucket}: access logs expire after {days} days"))
        }
        AccessLoggingStep::PutBucketLogging { bucket, log_bucket } => {
            Change::new("s3:PutBucketLogging", format!("TargetBucket={log_bucket} TargetPrefix={bucket}/"))
        }
    }
}

async fn apply_step(cx: &Context<'_, Clients>, step: &AccessLoggingStep) -> Result<(), AwsError> {
    let s3 = &cx.clients.s3;
    match step {
        AccessLoggingStep::CreateLogBucket { log_bucket } => bucket::create_bucket(cx, log_bucket, false).await,
        AccessLoggingStep::SecureLogBucket { log_bucket } => bucket::secure_owned_bucket(cx, log_bucket, None).await,
        AccessLoggingStep::PutLogBucketPolicy { log_bucket, policy } => {
            bucket::put_policy(cx, log_bucket, policy).await
        }
        AccessLoggingStep::PutLogBucketLifecycle { log_bucket, days } => {
            let rule = LifecycleRule::builder()
                .id(RETENTION_RULE_ID)
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix("").build())
                .expiration(LifecycleExpiration::builder().days(*days).build())
                .build()
                .expect("status is set");
            let conf = BucketLifecycleConfiguration::builder().rules(rule).build().expect("rules are set");
            s3.put_bucket_lifecycle_configuration()
                .bucket(log_bucket)
                .lifecycle_configuration(conf)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("s3:PutLifecycleConfiguration", log_bucket, e))
        }
        AccessLoggingStep::PutBucketLogging { bucket, log_bucket } => {
            let on = LoggingEnabled::builder()
                .target_bucket(log_bucket)
                .target_prefix(format!("{bucket}/"))
                .build()
                .expect("target is set");
            s3.put_bucket_logging()
                .bucket(bucket)
                .bucket_logging_status(BucketLoggingStatus::builder().logging_enabled(on).build())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("s3:PutBucketLogging", bucket, e))
        }
    }
}

/// Each step in order; the first error stops the rest and keeps what was done.
pub async fn apply(cx: &Context<'_, Clients>, plan: &[AccessLoggingStep]) -> Result<Applied, ApplyError> {
    let mut done = Vec::new();
    for step in plan {
        if let Err(error) = apply_step(cx, step).await {
            return Err(ApplyError { done, error: error.into() });
        }
        done.push(describe(step));
    }
    Ok(Applied::Fixed("server access logs delivered to logmend's access-log bucket".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_log_bucket_is_made_safe_before_the_bucket_points_at_it() {
        let f = AccessLoggingFinding {
            bucket: "trail-logs".into(),
            log_bucket: log_bucket_name("123456789012", "eu-west-1"),
            create_log_bucket: true,
            secure_log_bucket: true,
            log_bucket_lifecycle: true,
            log_bucket_policy: Some(json!({})),
            point_logging: true,
        };
        let steps = plan(&Config::new(logmend_core::decision::Mode::Remediate), &f);
        assert!(matches!(steps.first(), Some(AccessLoggingStep::CreateLogBucket { .. })));
        assert!(matches!(steps.last(), Some(AccessLoggingStep::PutBucketLogging { .. })));
        for s in &steps {
            let api = describe(s).api;
            assert!(WRITES.iter().any(|p| p.action == api), "{api}");
        }
        assert_eq!(f.log_bucket, "logmend-access-logs-123456789012-eu-west-1");
        let nothing = plan(
            &Config::new(logmend_core::decision::Mode::Remediate),
            &AccessLoggingFinding::report_only("b".into(), "l".into()),
        );
        assert!(nothing.is_empty(), "a refusing target someone chose is never changed");
    }

    #[test]
    fn the_logging_statement_admits_only_this_accounts_buckets() {
        let doc = json!({"Statement": [access_logs_statement("aws", "logs", "123456789012")]});
        for (account, allowed) in [("123456789012", true), ("999999999999", false)] {
            let context = [("aws:SourceAccount", account)];
            let req = Request {
                principal: Principal::Service(LOGGING_SERVICE),
                action: "s3:PutObject",
                resource: "arn:aws:s3:::logs/trail-logs/x",
                context: &context,
            };
            assert_eq!(resource_policy::allows(&doc, &req), allowed, "{account}");
        }
        assert!(allows_logging_service(&doc), "a log target is seen");
        let scoped = json!({"Statement": {"Effect": "Allow", "Principal": {"Service": [LOGGING_SERVICE]},
            "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logs/app/*",
            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::app"}}}});
        assert!(allows_logging_service(&scoped), "whatever sources it names");
        assert!(!allows_logging_service(&json!({"Statement": []})));
    }
}
