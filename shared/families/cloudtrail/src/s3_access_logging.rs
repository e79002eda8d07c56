//! `s3-access-logging` (Security Hub S3.9): every general purpose bucket of the account logs
//! its requests (S3 server access logging) into logmend's access-log bucket of its region, the
//! one [`crate::access_logs`] makes and keeps for CloudTrail.7 too. Never a bucket into
//! itself; never a bucket that is itself a log target (its policy admits the logging service or
//! its ACL the log-delivery group) into another, which would chain deliveries; never into a
//! target S3 cannot deliver to (SSE-KMS, Object Lock, Requester Pays). Exempt buckets are left
//! alone.

use crate::Clients;
use crate::access_logs::{self, AccessLoggingFinding, AccessLoggingStep};
use crate::baseline::partition_of;
use crate::bucket::{self, bucket_arn};
use logmend_core::aws::AwsError;
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, State, Trigger, permissions,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

const OWN_READS: &[Permission] = &[Permission::any("s3:ListAllMyBuckets")];
const READS: [Permission; OWN_READS.len() + access_logs::READS.len()] = permissions(OWN_READS, access_logs::READS);

pub static SPEC: ControlSpec = ControlSpec {
    id: "s3-access-logging",
    security_hub: &["S3.9"],
    severity: logmend_core::control::Severity::Medium,
    resource_type: "AWS::S3::Bucket",
    triggers: &[Trigger { event_source: "s3.amazonaws.com", event_names: &["CreateBucket", "PutBucketLogging"] }],
    compliant_when: "the bucket has server access logging on, into a bucket that accepts the logs (its policy or ACL lets the S3 logging service write; no SSE-KMS, Object Lock or Requester Pays); log targets and logmend's access-log bucket are skipped",
    fix: "create logmend-access-logs-<account>-<region> when missing (as for CloudTrail.7), then PutBucketLogging on the bucket with the prefix <bucket>/",
    reads: &READS,
    writes: access_logs::WRITES,
};

pub struct S3AccessLogging;

impl Control for S3AccessLogging {
    type Clients = Clients;
    type Target = String;
    type Finding = AccessLoggingFinding;
    type Step = AccessLoggingStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<String>, EventError> {
        let bucket = event
            .request_parameters
            .str("bucketName")
            .ok_or(EventError::MissingField { field: "detail.requestParameters.bucketName" })?;
        Ok(vec![bucket.to_owned()])
    }

    /// The region's buckets only (ListBuckets' `BucketRegion`, asked of the region's endpoint):
    /// access logs go to a bucket of the same region, which that region's logmend owns.
    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<String>, ControlError> {
        let mut pages = cx.clients.s3.list_buckets().bucket_region(cx.region).into_paginator().send();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("s3:ListAllMyBuckets", cx.region, e))?;
            names.extend(page.buckets().iter().filter_map(|b| b.name().map(str::to_owned)));
        }
        Ok(names)
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        name: &String,
    ) -> Result<Checked<AccessLoggingFinding>, ControlError> {
        let partition = partition_of(cx.region);
        let resource = bucket_arn(partition, name);
        let skipped = |reason: String| Ok(Checked { resource: resource.clone(), state: State::Skipped(reason) });
        let Some(account) = cx.account else {
            return skipped("the account is not known, so neither is its access-log bucket".into());
        };
        match bucket::bucket_region(cx, name).await? {
            Err(reason) => return skipped(reason),
            Ok(region) if region != cx.region => {
                return skipped(format!("the bucket is in {region}; that region evaluates it"));
            }
            Ok(_) => {}
        }
        if *name == access_logs::log_bucket_name(account, cx.region) {
            return skipped("logmend's access-log bucket: it does not log into itself".into());
        }
        if bucket::bucket_exempt(cx, name).await? {
            return skipped(format!("tagged {}=true", cx.config.exempt_tag));
        }
        if access_logs::is_log_target(cx, name).await? {
            let logging = cx
                .clients
                .s3
                .get_bucket_logging()
                .bucket(name)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("s3:GetBucketLogging", name, e))?;
            let into_itself = logging.logging_enabled().is_some_and(|on| on.target_bucket() == name);
            if into_itself {
                let log_bucket = access_logs::log_bucket_name(account, cx.region);
                let reason = format!(
                    "bucket {name} logs its access into itself, and it receives other buckets' access logs, so logmend does not point it at another bucket; its owner should turn its own logging off"
                );
                let finding = AccessLoggingFinding::report_only(name.clone(), log_bucket);
                return Ok(Checked { resource, state: State::Noncompliant { reason, finding } });
            }
            return skipped(
                "it receives server access logs (its policy or ACL lets the S3 logging service write); logging it into another bucket would chain deliveries"
                    .into(),
            );
        }
        access_logs::assess(cx, name, partition, account, resource.clone()).await
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
