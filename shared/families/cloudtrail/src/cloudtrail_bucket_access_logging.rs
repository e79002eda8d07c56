//! `cloudtrail-bucket-access-logging` (Security Hub CloudTrail.7): every request to a trail's
//! bucket is itself logged (S3 server access logging), so reads and deletions of log files can
//! be seen. The decision and the fix are [`crate::access_logs`]'s, shared with S3.9; this
//! control finds the trails' buckets and decides which of them this account and region may
//! change.

use crate::Clients;
use crate::access_logs::{self, AccessLoggingFinding, AccessLoggingStep};
use crate::bucket::{self, BucketRef, TrailBucket, bucket_named_in, trail_bucket, trail_buckets_here};
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, Trigger, permissions,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

pub use crate::access_logs::{ACCESS_LOGS_SID, LOG_DELIVERY_GROUP, LOGGING_SERVICE, RETENTION_RULE_ID};
pub use crate::access_logs::{access_logs_statement, log_bucket_name};

const OWN_READS: &[Permission] = &[
    Permission::any("cloudtrail:DescribeTrails"),
    Permission::any("cloudtrail:GetTrail"),
    Permission::any("cloudtrail:ListTags"),
];
const READS: [Permission; OWN_READS.len() + access_logs::READS.len()] = permissions(OWN_READS, access_logs::READS);

pub static SPEC: ControlSpec = ControlSpec {
    id: "cloudtrail-bucket-access-logging",
    security_hub: &["CloudTrail.7"],
    severity: logmend_core::control::Severity::Low,
    resource_type: "AWS::S3::Bucket",
    triggers: &[
        Trigger { event_source: "cloudtrail.amazonaws.com", event_names: &["CreateTrail", "UpdateTrail"] },
        Trigger { event_source: "s3.amazonaws.com", event_names: &["PutBucketLogging"] },
    ],
    compliant_when: "the trail's bucket has server access logging on, into a bucket that accepts the logs (its policy or ACL lets the S3 logging service write; no SSE-KMS, Object Lock or Requester Pays)",
    fix: "create logmend-access-logs-<account>-<region> when missing (Block Public Access, SSE-S3, TLS-only, a policy for logging.s3.amazonaws.com with aws:SourceAccount, expiry after LOGMEND_ACCESS_LOG_RETENTION_DAYS, no Object Lock), then PutBucketLogging on the trail's bucket with the prefix <bucket>/",
    reads: &READS,
    writes: access_logs::WRITES,
};

pub struct CloudtrailBucketAccessLogging;

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
        let TrailBucket { bucket, writers, partition, arn } = match trail_bucket(cx, target).await? {
            Ok(b) => b,
            Err(skipped) => return Ok(skipped),
        };
        // The bucket's own account: the event's or the function's; else the trail's.
        let account =
            cx.account.map(str::to_owned).or_else(|| writers.first().map(|w| w.account.clone())).unwrap_or_default();
        access_logs::assess(cx, &bucket, &partition, &account, arn).await
    }

    fn plan(&self, config: &Config, f: &AccessLoggingFinding) -> Vec<AccessLoggingStep> {
        access_logs::plan(config, f)
    }

    fn describe(&self, step: &AccessLoggingStep) -> Change {
        access_logs::describe(step)
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        _f: &AccessLoggingFinding,
        plan: &[AccessLoggingStep],
    ) -> Result<Applied, ApplyError> {
        access_logs::apply(cx, plan).await
    }
}
