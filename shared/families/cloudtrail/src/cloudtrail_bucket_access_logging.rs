//! `cloudtrail-bucket-access-logging` (Security Hub CloudTrail.7): every request to a trail's
//! bucket is itself logged (S3 server access logging), so reads and deletions of log files can
//! be seen. The logs go to a bucket logmend owns per account and region,
//! `logmend-access-logs-<account>-<region>`: S3 delivers access logs only to a bucket in the
//! same region and account, never with SSE-KMS default encryption, and a bucket should not log
//! into itself (S3 User Guide, "Enabling Amazon S3 server access logging"). logmend's bucket
//! blocks public access, refuses non-TLS requests, is encrypted with SSE-S3, lets only
//! `logging.s3.amazonaws.com` write, for this account's buckets (`aws:SourceAccount`), has no
//! Object Lock, and expires logs after `LOGMEND_ACCESS_LOG_RETENTION_DAYS`.
//!
//! A trail bucket that already logs elsewhere is compliant when that target accepts the logs
//! (its policy lets the logging service write, or its ACL grants the log-delivery group); a
//! target someone else owns that refuses them is reported, never changed.

use crate::Clients;
use crate::bucket::{
    self, BucketRef, TrailBucket, bucket_named_in, denies_insecure_transport, public_access_gaps, read_policy,
    tls_deny_statement, trail_bucket, trail_buckets_here,
};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLoggingStatus, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, LoggingEnabled, Permission as AclPermission, Type as GranteeType,
};
use logmend_core::aws::AwsError;
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, State, Trigger,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};
use logmend_core::resource_policy::{self, Principal, Request, with_statement};
use serde_json::{Value, json};

pub const LOGGING_SERVICE: &str = "logging.s3.amazonaws.com";
pub const LOG_DELIVERY_GROUP: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
pub const ACCESS_LOGS_SID: &str = "LogmendS3ServerAccessLogs";
pub const RETENTION_RULE_ID: &str = "logmend-access-log-retention";
const ACCESS_LOG_BUCKET_ARN: &str = "arn:${AWS::Partition}:s3:::logmend-access-logs-${AWS::AccountId}-${AWS::Region}";

pub static SPEC: ControlSpec = ControlSpec {
    id: "cloudtrail-bucket-access-logging",
    security_hub: &["CloudTrail.7"],
    resource_type: "AWS::S3::Bucket",
    triggers: &[
        Trigger { event_source: "cloudtrail.amazonaws.com", event_names: &["CreateTrail", "UpdateTrail"] },
        Trigger { event_source: "s3.amazonaws.com", event_names: &["PutBucketLogging"] },
    ],
    compliant_when: "the trail's bucket has server access logging on, into a bucket that accepts the logs (its policy or ACL lets the S3 logging service write)",
    fix: "create logmend-access-logs-<account>-<region> when missing (Block Public Access, SSE-S3, TLS-only, a policy for logging.s3.amazonaws.com with aws:SourceAccount, expiry after LOGMEND_ACCESS_LOG_RETENTION_DAYS, no Object Lock), then PutBucketLogging on the trail's bucket with the prefix <bucket>/",
    reads: &[
        Permission::any("cloudtrail:DescribeTrails"),
        Permission::any("cloudtrail:GetTrail"),
        Permission::any("cloudtrail:ListTags"),
        Permission::any("s3:GetBucketLocation"),
        Permission::any("s3:GetBucketTagging"),
        Permission::any("s3:GetBucketLogging"),
        Permission::any("s3:GetBucketPolicy"),
        Permission::any("s3:GetBucketAcl"),
        Permission::any("s3:GetBucketPublicAccessBlock"),
        Permission::any("s3:GetEncryptionConfiguration"),
        Permission::any("s3:GetLifecycleConfiguration"),
    ],
    // Every write but PutBucketLogging is to logmend's own access-log bucket only.
    writes: &[
        Permission::on("s3:CreateBucket", ACCESS_LOG_BUCKET_ARN),
        Permission::on("s3:PutBucketPublicAccessBlock", ACCESS_LOG_BUCKET_ARN),
        Permission::on("s3:PutEncryptionConfiguration", ACCESS_LOG_BUCKET_ARN),
        Permission::on("s3:PutBucketTagging", ACCESS_LOG_BUCKET_ARN),
        Permission::on("s3:PutBucketPolicy", ACCESS_LOG_BUCKET_ARN),
        Permission::on("s3:PutLifecycleConfiguration", ACCESS_LOG_BUCKET_ARN),
        Permission::any("s3:PutBucketLogging"),
    ],
};

pub struct CloudtrailBucketAccessLogging;

pub fn log_bucket_name(account: &str, region: &str) -> String {
    format!("logmend-access-logs-{account}-{region}")
}

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

/// Whether a target bucket's policy or ACL lets S3 deliver `source`'s access logs under `prefix`.
async fn target_accepts(
    cx: &Context<'_, Clients>,
    partition: &str,
    target: &str,
    prefix: &str,
    source: &str,
    account: &str,
) -> Result<Result<bool, String>, ControlError> {
    let policy = match read_policy(cx, target).await {
        Ok(p) => p,
        Err(ControlError::Aws(e)) if e.code_or_kind() == "NoSuchBucket" => {
            return Ok(Err(format!("its access logs go to {target}, which no longer exists")));
        }
        Err(e) => return Err(e),
    };
    if policy.as_ref().is_some_and(|p| logging_service_may_write(p, partition, target, prefix, source, account)) {
        return Ok(Ok(true));
    }
    let acl = cx
        .clients
        .s3
        .get_bucket_acl()
        .bucket(target)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("s3:GetBucketAcl", target, e))?;
    Ok(Ok(acl.grants().iter().any(|g| {
        g.grantee().is_some_and(|who| who.r#type() == &GranteeType::Group && who.uri() == Some(LOG_DELIVERY_GROUP))
            && matches!(g.permission(), Some(AclPermission::Write | AclPermission::FullControl))
    })))
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

/// logmend's statement for the logging service, limited to this account's buckets.
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
    /// The trail bucket needs PutBucketLogging (off, or into a bucket that is gone).
    pub point_logging: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AccessLoggingStep {
    CreateLogBucket { log_bucket: String },
    SecureLogBucket { log_bucket: String },
    PutLogBucketPolicy { log_bucket: String, policy: Value },
    PutLogBucketLifecycle { log_bucket: String, days: i32 },
    PutBucketLogging { bucket: String, log_bucket: String },
}

impl Control for CloudtrailBucketAccessLogging {
    type Clients = Clients;
    type Target = BucketRef;
    type Finding = AccessLoggingFinding;
    type Step = AccessLoggingStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<BucketRef>, EventError> {
        Ok(vec![bucket_named_in(event)?])
    }

    async fn expand(&self, cx: &Context<'_, Clients>, target: BucketRef) -> Result<Vec<BucketRef>, ControlError> {
        bucket::expand(cx, target).await
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<BucketRef>, ControlError> {
        trail_buckets_here(cx).await
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        target: &BucketRef,
    ) -> Result<Checked<AccessLoggingFinding>, ControlError> {
        let TrailBucket { bucket, writers, partition, arn: resource } = match trail_bucket(cx, target).await? {
            Ok(b) => b,
            Err(skipped) => return Ok(skipped),
        };
        // The bucket's own account: the event's or the function's; else the trail's.
        let account =
            cx.account.map(str::to_owned).or_else(|| writers.first().map(|w| w.account.clone())).unwrap_or_default();
        let log_bucket = log_bucket_name(&account, cx.region);
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
            .bucket(&bucket)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:GetBucketLogging", &bucket, e))?;
        // Whether the trail bucket must be pointed at logmend's bucket, and why.
        let problem = match logging.logging_enabled() {
            None => Some("server access logging is off".to_owned()),
            Some(on) if on.target_bucket() == bucket => Some("it logs its access into itself".to_owned()),
            Some(on) if on.target_bucket() == log_bucket => None,
            Some(on) => {
                let target = on.target_bucket();
                match target_accepts(cx, &partition, target, on.target_prefix(), &bucket, &account).await? {
                    Ok(true) => {
                        return Ok(Checked {
                            resource,
                            state: State::Compliant(format!("access logs go to {target}")),
                        });
                    }
                    Ok(false) => {
                        let reason = format!(
                            "bucket {bucket}: its access logs go to {target}, whose policy and ACL do not let {LOGGING_SERVICE} write them; its owner must add {}",
                            access_logs_statement(&partition, target, &account)
                        );
                        let finding = AccessLoggingFinding {
                            bucket,
                            log_bucket,
                            create_log_bucket: false,
                            secure_log_bucket: false,
                            log_bucket_lifecycle: false,
                            log_bucket_policy: None,
                            point_logging: false,
                        };
                        return Ok(Checked { resource, state: State::Noncompliant { reason, finding } });
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
        let accepts = policy.as_ref().is_some_and(|p| {
            logging_service_may_write(p, &partition, &log_bucket, &format!("{bucket}/"), &bucket, &account)
        });
        let tls = denies_insecure_transport(policy.as_ref(), &partition, &log_bucket);
        let log_bucket_policy = (!accepts || !tls).then(|| {
            let with_logs = with_statement(
                policy.as_ref().unwrap_or(&Value::Null),
                access_logs_statement(&partition, &log_bucket, &account),
            );
            with_statement(&with_logs, tls_deny_statement(&partition, &log_bucket))
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
                    bucket,
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

    fn plan(&self, config: &Config, f: &AccessLoggingFinding) -> Vec<AccessLoggingStep> {
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
            steps
                .push(AccessLoggingStep::PutLogBucketPolicy { log_bucket: log_bucket.clone(), policy: policy.clone() });
        }
        if f.point_logging {
            steps.push(AccessLoggingStep::PutBucketLogging { bucket: f.bucket.clone(), log_bucket });
        }
        steps
    }

    fn describe(&self, step: &AccessLoggingStep) -> Change {
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
            AccessLoggingStep::PutLogBucketLifecycle { log_bucket, days } => Change::new(
                "s3:PutLifecycleConfiguration",
                format!("{log_bucket}: access logs expire after {days} days"),
            ),
            AccessLoggingStep::PutBucketLogging { bucket, log_bucket } => {
                Change::new("s3:PutBucketLogging", format!("TargetBucket={log_bucket} TargetPrefix={bucket}/"))
            }
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        _f: &AccessLoggingFinding,
        plan: &[AccessLoggingStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        let s3 = &cx.clients.s3;
        for step in plan {
            let sent = match step {
                AccessLoggingStep::CreateLogBucket { log_bucket } => bucket::create_bucket(cx, log_bucket, false).await,
                AccessLoggingStep::SecureLogBucket { log_bucket } => {
                    bucket::secure_owned_bucket(cx, log_bucket, None).await
                }
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
            };
            if let Err(error) = sent {
                return Err(ApplyError { done, error: error.into() });
            }
            done.push(self.describe(step));
        }
        Ok(Applied::Fixed("server access logs delivered to logmend's access-log bucket".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_log_bucket_is_made_safe_before_the_trail_bucket_points_at_it() {
        let f = AccessLoggingFinding {
            bucket: "trail-logs".into(),
            log_bucket: log_bucket_name("123456789012", "eu-west-1"),
            create_log_bucket: true,
            secure_log_bucket: true,
            log_bucket_lifecycle: true,
            log_bucket_policy: Some(json!({})),
            point_logging: true,
        };
        let steps = CloudtrailBucketAccessLogging.plan(&Config::new(logmend_core::decision::Mode::Remediate), &f);
        assert!(matches!(steps.first(), Some(AccessLoggingStep::CreateLogBucket { .. })));
        assert!(matches!(steps.last(), Some(AccessLoggingStep::PutBucketLogging { .. })));
        for s in &steps {
            let api = CloudtrailBucketAccessLogging.describe(s).api;
            assert!(SPEC.writes.iter().any(|p| p.action == api), "{api}");
        }
        assert_eq!(f.log_bucket, "logmend-access-logs-123456789012-eu-west-1");
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
    }
}
