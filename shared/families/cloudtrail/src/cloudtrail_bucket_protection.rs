//! `cloudtrail-bucket-protection` (Security Hub CloudTrail.6, and the store AWS's CloudTrail
//! security best practices ask for): the bucket a trail delivers to blocks public access, refuses
//! requests that are not over TLS, lets CloudTrail (and only for its trails: `aws:SourceArn`)
//! write, keeps every version, and, when a setting names one, expires old log files.
//!
//! The policy is merged: logmend's statements (`Logmend…` Sids) are added or replaced, every
//! other statement is written back as it was. A Deny someone wrote that refuses CloudTrail is
//! reported, never dropped. MFA delete can be turned on only by the bucket owner's root user
//! with an MFA device, and Object Lock is an owner's decision (log files become undeletable):
//! both are reported, never attempted (S3 User Guide, "Configuring MFA delete"; "Using S3
//! Object Lock").

use crate::Clients;
use crate::bucket::{
    self, BucketRef, TrailBucket, bucket_named_in, cloudtrail_access, cloudtrail_statements, denies_insecure_transport,
    public_access_gaps, read_policy, tls_deny_statement, trail_bucket, trail_buckets_here, unless_absent,
};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketVersioningStatus, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, MfaDeleteStatus, NoncurrentVersionExpiration, ObjectLockEnabled,
};
use logmend_core::aws::AwsError;
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, State, Trigger,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};
use logmend_core::resource_policy::{Answer, with_statement};
use serde_json::Value;

pub const LIFECYCLE_RULE_ID: &str = "logmend-trail-log-expiration";

pub static SPEC: ControlSpec = ControlSpec {
    id: "cloudtrail-bucket-protection",
    security_hub: &["CloudTrail.6"],
    severity: logmend_core::control::Severity::Critical,
    resource_type: "AWS::S3::Bucket",
    triggers: &[
        Trigger { event_source: "cloudtrail.amazonaws.com", event_names: &["CreateTrail", "UpdateTrail"] },
        Trigger {
            event_source: "s3.amazonaws.com",
            event_names: &[
                "PutBucketPolicy",
                "DeleteBucketPolicy",
                "PutBucketAcl",
                "PutBucketPublicAccessBlock",
                "DeleteBucketPublicAccessBlock",
                "PutBucketVersioning",
                "PutBucketLifecycle",
                "DeleteBucketLifecycle",
            ],
        },
    ],
    compliant_when: "the trail's bucket has all four Block Public Access settings, a policy that denies non-TLS requests and lets CloudTrail deliver (aws:SourceArn), versioning on, MFA delete or Object Lock, and the expiration rule when LOGMEND_TRAIL_LOG_EXPIRATION_DAYS is set",
    fix: "PutBucketPolicy (logmend's statements merged into the policy, every other statement kept), PutPublicAccessBlock (all four), PutBucketVersioning Enabled, PutBucketLifecycleConfiguration (logmend's rule added, others kept); MFA delete and Object Lock are reported, never attempted",
    reads: &[
        Permission::any("cloudtrail:DescribeTrails"),
        Permission::any("cloudtrail:GetTrail"),
        Permission::any("cloudtrail:ListTags"),
        Permission::any("s3:GetBucketLocation"),
        Permission::any("s3:GetBucketTagging"),
        Permission::any("s3:GetBucketPolicy"),
        Permission::any("s3:GetBucketPublicAccessBlock"),
        Permission::any("s3:GetBucketVersioning"),
        Permission::any("s3:GetBucketObjectLockConfiguration"),
        Permission::any("s3:GetLifecycleConfiguration"),
    ],
    writes: &[
        Permission::any("s3:PutBucketPolicy"),
        Permission::any("s3:PutBucketPublicAccessBlock"),
        Permission::any("s3:PutBucketVersioning"),
        Permission::any("s3:PutLifecycleConfiguration"),
    ],
};

pub struct CloudtrailBucketProtection;

#[derive(Debug, Clone, PartialEq)]
pub struct BucketFinding {
    pub bucket: String,
    /// The merged policy to write, when logmend's statements are missing.
    pub policy: Option<Value>,
    pub block_public_access: bool,
    pub enable_versioning: bool,
    /// The lifecycle rules to write (someone's kept, logmend's added).
    pub lifecycle: Option<Vec<LifecycleRule>>,
    /// What logmend reports and does not change, each with who can.
    pub left: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BucketStep {
    PutBucketPolicy { bucket: String, policy: Value },
    PutPublicAccessBlock { bucket: String },
    PutBucketVersioning { bucket: String },
    PutLifecycleConfiguration { bucket: String, rules: Vec<LifecycleRule> },
}

/// An enabled rule that expires the trail's log files within `days`. Rules written before the
/// `Filter` element carry a top-level `Prefix`, which S3 still honours.
#[allow(deprecated)]
fn expires_within(rule: &LifecycleRule, days: i32, prefixes: &[String]) -> bool {
    let prefix = rule.filter().and_then(|f| f.prefix()).or(rule.prefix()).unwrap_or_default();
    rule.status() == &ExpirationStatus::Enabled
        && rule.expiration().and_then(|e| e.days()).is_some_and(|d| d <= days)
        && rule.filter().is_none_or(|f| f.tag().is_none() && f.and().is_none())
        && prefixes.iter().all(|p| p.starts_with(prefix))
}

fn expiration_rule(days: i32) -> LifecycleRule {
    LifecycleRule::builder()
        .id(LIFECYCLE_RULE_ID)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(LifecycleExpiration::builder().days(days).build())
        .noncurrent_version_expiration(NoncurrentVersionExpiration::builder().noncurrent_days(days).build())
        .build()
        .expect("status is set")
}

impl Control for CloudtrailBucketProtection {
    type Clients = Clients;
    type Target = BucketRef;
    type Finding = BucketFinding;
    type Step = BucketStep;

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
    ) -> Result<Checked<BucketFinding>, ControlError> {
        let TrailBucket { bucket, writers, partition, arn: resource } = match trail_bucket(cx, target).await? {
            Ok(b) => b,
            Err(skipped) => return Ok(skipped),
        };
        let s3 = &cx.clients.s3;

        let mut problems = Vec::new();
        let mut left = Vec::new();
        let policy = read_policy(cx, &bucket).await?;
        let unchanged = policy.clone().unwrap_or(Value::Null);
        let mut merged = unchanged.clone();
        if !denies_insecure_transport(policy.as_ref(), &partition, &bucket) {
            problems.push("its policy does not deny requests without TLS".to_owned());
            merged = with_statement(&merged, tls_deny_statement(&partition, &bucket));
        }
        let mut need_cloudtrail = Vec::new();
        for w in &writers {
            match cloudtrail_access(policy.as_ref(), &partition, &bucket, w) {
                Answer::Allowed => {}
                Answer::NotAllowed => need_cloudtrail.push(w.clone()),
                Answer::Denied(sid) => left.push(format!(
                    "{sid} of the bucket policy refuses CloudTrail's delivery for {}: only its author can change it (logmend never removes a statement it did not write)",
                    w.trail_arn
                )),
            }
        }
        if !need_cloudtrail.is_empty() {
            let names: Vec<&str> = need_cloudtrail.iter().map(|w| w.trail_arn.as_str()).collect();
            problems.push(format!("its policy does not let CloudTrail deliver for {}", names.join(", ")));
            for s in cloudtrail_statements(policy.as_ref(), &partition, &bucket, &need_cloudtrail) {
                merged = with_statement(&merged, s);
            }
        }
        let gaps = public_access_gaps(cx, &bucket).await?;
        if !gaps.is_empty() {
            problems.push(format!("Block Public Access is off for {}", gaps.join(", ")));
        }
        let versioning = s3
            .get_bucket_versioning()
            .bucket(&bucket)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:GetBucketVersioning", &bucket, e))?;
        let versioned = versioning.status() == Some(&BucketVersioningStatus::Enabled);
        if !versioned {
            problems.push("versioning is off".to_owned());
        }
        let mfa_delete = versioning.mfa_delete() == Some(&MfaDeleteStatus::Enabled);
        if cx.config.trail_bucket_deletion_protection && !mfa_delete {
            let sent = s3.get_object_lock_configuration().bucket(&bucket).send().await;
            let lock = unless_absent(
                sent,
                &["ObjectLockConfigurationNotFoundError"],
                "s3:GetBucketObjectLockConfiguration",
                &bucket,
            )?;
            let locked = lock.and_then(|l| l.object_lock_configuration().cloned()).is_some_and(|c| {
                // Object Lock without a default retention locks only objects written with one,
                // and CloudTrail writes none.
                c.object_lock_enabled() == Some(&ObjectLockEnabled::Enabled)
                    && c.rule().and_then(|r| r.default_retention()).is_some()
            });
            if !locked {
                left.push("log files can be deleted: MFA delete is off (only the bucket owner's root user can turn it on, with its MFA device: PutBucketVersioning MFADelete=Enabled) and Object Lock has no default retention (the owner's decision: at creation or with PutObjectLockConfiguration); logmend attempts neither (LOGMEND_TRAIL_BUCKET_DELETION_PROTECTION=off stops this report)".to_owned());
            }
        }
        let mut lifecycle = None;
        if let Some(days) = cx.config.trail_log_expiration_days {
            let sent = s3.get_bucket_lifecycle_configuration().bucket(&bucket).send().await;
            let rules =
                unless_absent(sent, &["NoSuchLifecycleConfiguration"], "s3:GetLifecycleConfiguration", &bucket)?
                    .map(|o| o.rules().to_vec())
                    .unwrap_or_default();
            let prefixes: Vec<String> = writers.iter().map(|w| w.key_prefix()).collect();
            if !rules.iter().any(|r| expires_within(r, days, &prefixes)) {
                if mfa_delete {
                    left.push(format!("no rule expires log files within {days} days, and S3 takes no lifecycle rule on a bucket with MFA delete"));
                } else {
                    problems.push(format!("no lifecycle rule expires its log files within {days} days"));
                    let mut kept: Vec<LifecycleRule> =
                        rules.into_iter().filter(|r| r.id() != Some(LIFECYCLE_RULE_ID)).collect();
                    kept.push(expiration_rule(days));
                    lifecycle = Some(kept);
                }
            }
        }

        let names: Vec<&str> = writers.iter().map(|w| w.trail_arn.rsplit('/').next().unwrap_or_default()).collect();
        if problems.is_empty() && left.is_empty() {
            return Ok(Checked {
                resource,
                state: State::Compliant(format!("the store of trail {} is locked down", names.join(", "))),
            });
        }
        let reason = format!(
            "bucket {bucket} of trail {}: {}",
            names.join(", "),
            problems.iter().chain(&left).cloned().collect::<Vec<_>>().join("; ")
        );
        let policy = (merged != unchanged).then_some(merged);
        Ok(Checked {
            resource,
            state: State::Noncompliant {
                reason,
                finding: BucketFinding {
                    bucket,
                    policy,
                    block_public_access: !gaps.is_empty(),
                    enable_versioning: !versioned,
                    lifecycle,
                    left,
                },
            },
        })
    }

    fn plan(&self, _config: &Config, f: &BucketFinding) -> Vec<BucketStep> {
        let bucket = f.bucket.clone();
        let mut steps = Vec::new();
        // The policy before Block Public Access: with BlockPublicPolicy on, S3 refuses any
        // policy it deems public, and someone's statement may make it so.
        if let Some(policy) = &f.policy {
            steps.push(BucketStep::PutBucketPolicy { bucket: bucket.clone(), policy: policy.clone() });
        }
        if f.block_public_access {
            steps.push(BucketStep::PutPublicAccessBlock { bucket: bucket.clone() });
        }
        if f.enable_versioning {
            steps.push(BucketStep::PutBucketVersioning { bucket: bucket.clone() });
        }
        if let Some(rules) = &f.lifecycle {
            steps.push(BucketStep::PutLifecycleConfiguration { bucket, rules: rules.clone() });
        }
        steps
    }

    fn describe(&self, step: &BucketStep) -> Change {
        match step {
            BucketStep::PutBucketPolicy { policy, .. } => {
                let n = logmend_core::resource_policy::statements(policy).len();
                Change::new(
                    "s3:PutBucketPolicy",
                    format!("{n} statement(s): logmend's TLS and CloudTrail statements merged, every other kept"),
                )
            }
            BucketStep::PutPublicAccessBlock { .. } => Change::new(
                "s3:PutBucketPublicAccessBlock",
                "BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets".to_owned(),
            ),
            BucketStep::PutBucketVersioning { .. } => {
                Change::new("s3:PutBucketVersioning", "Status=Enabled".to_owned())
            }
            BucketStep::PutLifecycleConfiguration { rules, .. } => Change::new(
                "s3:PutLifecycleConfiguration",
                format!("{} rule(s): {LIFECYCLE_RULE_ID} added, every other kept", rules.len()),
            ),
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        f: &BucketFinding,
        plan: &[BucketStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            let sent = match step {
                BucketStep::PutBucketPolicy { bucket, policy } => bucket::put_policy(cx, bucket, policy).await,
                BucketStep::PutPublicAccessBlock { bucket } => bucket::block_public_access(cx, bucket).await,
                BucketStep::PutBucketVersioning { bucket } => bucket::enable_versioning(cx, bucket).await,
                BucketStep::PutLifecycleConfiguration { bucket, rules } => {
                    let conf = BucketLifecycleConfiguration::builder()
                        .set_rules(Some(rules.clone()))
                        .build()
                        .expect("rules are set");
                    cx.clients
                        .s3
                        .put_bucket_lifecycle_configuration()
                        .bucket(bucket)
                        .lifecycle_configuration(conf)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| AwsError::from_sdk("s3:PutLifecycleConfiguration", bucket, e))
                }
            };
            if let Err(error) = sent {
                return Err(ApplyError { done, error: error.into() });
            }
            done.push(self.describe(step));
        }
        if f.left.is_empty() {
            Ok(Applied::Fixed("the trail's store is locked down".into()))
        } else {
            Ok(Applied::Partly(format!("fixed what logmend may; left for the owner: {}", f.left.join("; "))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_goes_before_block_public_access_and_every_write_is_declared() {
        let f = BucketFinding {
            bucket: "logs".into(),
            policy: Some(serde_json::json!({"Statement": []})),
            block_public_access: true,
            enable_versioning: true,
            lifecycle: Some(vec![expiration_rule(90)]),
            left: vec![],
        };
        let steps = CloudtrailBucketProtection.plan(&Config::new(logmend_core::decision::Mode::Remediate), &f);
        assert!(matches!(steps[0], BucketStep::PutBucketPolicy { .. }));
        assert!(matches!(steps[1], BucketStep::PutPublicAccessBlock { .. }));
        for s in &steps {
            let api = CloudtrailBucketProtection.describe(s).api;
            assert!(SPEC.writes.iter().any(|p| p.action == api), "{api}");
        }
    }

    #[test]
    fn an_expiration_rule_counts_only_when_it_covers_the_trails_files() {
        let prefixes = vec!["AWSLogs/1/*".to_owned()];
        assert!(expires_within(&expiration_rule(90), 365, &prefixes));
        assert!(!expires_within(&expiration_rule(400), 365, &prefixes), "too late");
        let elsewhere = LifecycleRule::builder()
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("tmp/").build())
            .expiration(LifecycleExpiration::builder().days(1).build())
            .build()
            .unwrap();
        assert!(!expires_within(&elsewhere, 365, &prefixes));
    }
}
