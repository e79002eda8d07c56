//! The account's baseline (Security Hub CloudTrail.1 and CIS 3.1 as an account-and-region
//! check): at least one multi-region trail that is logging and logs management events, read
//! and write, must cover the region. With `LOGMEND_BASELINE_TRAIL=<name>` logmend creates one
//! where none does, with its own store; without it the gap is reported. Only the
//! `LOGMEND_BASELINE_TRAIL_REGION` creates it: the regions of a StackSet sweep at the same
//! moment, and each would otherwise make its own trail (a bill per region, not a safeguard).

use crate::Clients;
use crate::bucket::{self, Writer, cloudtrail_statements, tls_deny_statement};
use crate::cloudtrail_logging::{logs_all_management, read_selectors};
use crate::trail::{describe_trails, parse_trail_arn, trail_exempt};
use aws_sdk_cloudtrail::types::Trail;
use logmend_core::aws::{AwsError, created_or_existing};
use logmend_core::control::{Context, ControlError};
use logmend_core::decision::Change;
use logmend_core::resource_policy::with_statement;
use serde_json::Value;

pub use logmend_trail_rules::partition_of;

pub fn baseline_bucket_name(account: &str, region: &str) -> String {
    format!("logmend-cloudtrail-{account}-{region}")
}

/// "The trails of this account and region", the resource a baseline decision is about.
pub fn baseline_resource(region: &str, account: &str) -> String {
    format!("arn:{}:cloudtrail:{region}:{account}:trail/*", partition_of(region))
}

/// A trail that covers every region: multi-region, logging, all management events.
async fn covers(cx: &Context<'_, Clients>, trail: &Trail) -> Result<bool, ControlError> {
    let (Some(true), Some(arn)) = (trail.is_multi_region_trail(), trail.trail_arn()) else {
        return Ok(false);
    };
    let status = cx
        .clients
        .cloudtrail
        .get_trail_status()
        .name(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudtrail:GetTrailStatus", arn, e))?;
    if status.is_logging() != Some(true) {
        return Ok(false);
    }
    Ok(logs_all_management(&read_selectors(cx, arn).await?))
}

/// Whether a multi-region trail covers this region.
pub enum Coverage {
    By(String),
    /// None does; this multi-region trail of this region and account, not exempt, would once its
    /// own finding (stopped, selectors) is fixed.
    Once(String),
    None,
}

pub async fn coverage(cx: &Context<'_, Clients>) -> Result<Coverage, ControlError> {
    let trails = describe_trails(cx, true).await?;
    let mut candidate = None;
    for t in &trails {
        if covers(cx, t).await? {
            return Ok(Coverage::By(t.trail_arn().unwrap_or_default().to_owned()));
        }
        let here = t
            .trail_arn()
            .and_then(parse_trail_arn)
            .is_some_and(|a| a.region == cx.region && cx.account.is_none_or(|own| own == a.account));
        if candidate.is_none() && here && t.is_multi_region_trail() == Some(true) {
            let arn = t.trail_arn().unwrap_or_default().to_owned();
            if !trail_exempt(cx, &arn).await? {
                candidate = Some(arn);
            }
        }
    }
    Ok(candidate.map_or(Coverage::None, Coverage::Once))
}

/// What creating the baseline takes.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselinePlan {
    pub trail_name: String,
    pub trail_arn: String,
    pub bucket: String,
    pub object_lock_days: i32,
    pub policy: Value,
}

impl BaselinePlan {
    pub fn new(name: &str, region: &str, account: &str, object_lock_days: i32) -> Self {
        let partition = partition_of(region);
        let bucket = baseline_bucket_name(account, region);
        let trail_arn = format!("arn:{partition}:cloudtrail:{region}:{account}:trail/{name}");
        let writer = Writer { trail_arn: trail_arn.clone(), account: account.to_owned(), prefix: None };
        let mut policy = with_statement(&Value::Null, tls_deny_statement(partition, &bucket));
        for s in cloudtrail_statements(None, partition, &bucket, std::slice::from_ref(&writer)) {
            policy = with_statement(&policy, s);
        }
        BaselinePlan { trail_name: name.to_owned(), trail_arn, bucket, object_lock_days, policy }
    }

    pub fn describe(&self) -> Change {
        Change::new(
            "cloudtrail:CreateTrail",
            format!(
                "{} (multi-region, log file validation, all management events) into {} (Block Public Access, SSE-S3, TLS-only, CloudTrail by aws:SourceArn, versioning, Object Lock governance {} days), then StartLogging",
                self.trail_name, self.bucket, self.object_lock_days
            ),
        )
    }

    /// The bucket first (CloudTrail checks its policy at CreateTrail), then the trail, then
    /// StartLogging: a new trail does not log until started (CloudTrail API Reference,
    /// CreateTrail). Each step tolerates "already there".
    pub async fn apply(&self, cx: &Context<'_, Clients>) -> Result<(), AwsError> {
        bucket::create_owned_bucket(cx, &self.bucket, Some(self.object_lock_days)).await?;
        bucket::put_policy(cx, &self.bucket, &self.policy).await?;
        bucket::enable_versioning(cx, &self.bucket).await?;
        let created = cx
            .clients
            .cloudtrail
            .create_trail()
            .name(&self.trail_name)
            .s3_bucket_name(&self.bucket)
            .is_multi_region_trail(true)
            .include_global_service_events(true)
            .enable_log_file_validation(true)
            .send()
            .await;
        created_or_existing(
            created,
            |e| e.is_trail_already_exists_exception(),
            "cloudtrail:CreateTrail",
            &self.trail_name,
        )?;
        cx.clients
            .cloudtrail
            .start_logging()
            .name(&self.trail_arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("cloudtrail:StartLogging", &self.trail_arn, e))
    }
}
