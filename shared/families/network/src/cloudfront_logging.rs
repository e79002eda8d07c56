//! `cloudfront-logging` (Security Hub CloudFront.5): every CloudFront distribution logs its
//! requests.
//!
//! CloudFront.5 counts standard logging (legacy) only: `DistributionConfig.Logging.Enabled`
//! with a bucket. Legacy logs are written through bucket ACLs (the `awslogsdelivery` account is
//! granted FULL_CONTROL), which S3.12 forbids, so logmend gives them a bucket of their own,
//! `logmend-cloudfront-logs-ACCOUNT`, with ACLs enabled (`BucketOwnerPreferred`) and nothing
//! else in it. `LOGMEND_CLOUDFRONT_LOGGING=v2` uses standard logging v2 instead: a CloudWatch
//! Logs vended delivery of `ACCESS_LOGS` to the log group `/aws/cloudfront/logmend`; it keeps
//! every bucket ACL-free, and CloudFront.5 fails on it (a v2 delivery, or legacy logging, is
//! compliant then).
//!
//! CloudFront is global: its calls are made, and its events arrive, in us-east-1 only. Every
//! other region skips it, so a StackSet fixes each distribution once.

use crate::Clients;
use crate::store::{
    Destination, Gap, LOGS_STORE_READS, LOGS_STORE_WRITES, LogsStore, STORE_READS, STORE_WRITES, Store, StoreKind,
    StoreStep,
};
use aws_sdk_cloudfront::types::LoggingConfig;
use aws_sdk_cloudwatchlogs::types::DeliveryDestinationConfiguration;
use logmend_core::aws::AwsError;
use logmend_core::config::{CloudFrontLogging as Setting, Config};
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, State, Trigger, is_exempt,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

pub const GLOBAL_REGION: &str = "us-east-1";
pub const LEGACY_PREFIX: &str = "cloudfront/";
pub const V2_LOG_GROUP: &str = "/aws/cloudfront/logmend";
pub const V2_DESTINATION: &str = "logmend-cloudfront-logs";

pub static SPEC: ControlSpec = ControlSpec {
    id: "cloudfront-logging",
    security_hub: &["CloudFront.5"],
    severity: logmend_core::control::Severity::Medium,
    resource_type: "AWS::CloudFront::Distribution",
    triggers: &[Trigger {
        event_source: "cloudfront.amazonaws.com",
        event_names: &["CreateDistribution", "CreateDistributionWithTags", "UpdateDistribution"],
    }],
    compliant_when: "standard logging (legacy) is on with a bucket; with LOGMEND_CLOUDFRONT_LOGGING=v2 a CloudWatch Logs ACCESS_LOGS delivery of the distribution counts too. Evaluated from us-east-1 only",
    fix: "legacy (default): makes logmend-cloudfront-logs-ACCOUNT ready (ACLs enabled for CloudFront's log delivery, nothing else in it), UpdateDistribution with its ETag and Logging to it; v2: the log group /aws/cloudfront/logmend, PutDeliverySource, PutDeliveryDestination, CreateDelivery",
    reads: &[
        Permission::any("cloudfront:ListDistributions"),
        Permission::any("cloudfront:GetDistributionConfig"),
        Permission::any("cloudfront:ListTagsForResource"),
        Permission::any("s3:GetBucketAcl"),
        Permission::any("logs:DescribeDeliverySources"),
        Permission::any("logs:DescribeDeliveries"),
        LOGS_STORE_READS[0],
        LOGS_STORE_READS[1],
        STORE_READS[0],
        STORE_READS[1],
    ],
    writes: &[
        Permission::on(
            "cloudfront:UpdateDistribution",
            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*",
        ),
        // CloudFront grants its log delivery account FULL_CONTROL in the bucket ACL as its
        // caller (CloudFront Developer Guide, "Permissions required to configure standard
        // logging"); s3:GetBucketAcl, which it needs too, is among the reads.
        Permission::on("s3:PutBucketAcl", "arn:${AWS::Partition}:s3:::logmend-cloudfront-logs-*"),
        Permission::any("logs:PutDeliverySource"),
        Permission::any("logs:PutDeliveryDestination"),
        Permission::any("logs:CreateDelivery"),
        Permission::on(
            "cloudfront:AllowVendedLogDeliveryForResource",
            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*",
        ),
        LOGS_STORE_WRITES[0],
        LOGS_STORE_WRITES[1],
        LOGS_STORE_WRITES[2],
        LOGS_STORE_WRITES[3],
        STORE_WRITES[0],
        STORE_WRITES[1],
        STORE_WRITES[2],
        STORE_WRITES[3],
        STORE_WRITES[4],
        STORE_WRITES[5],
        STORE_WRITES[6],
    ],
};

pub struct CloudFrontLogging;

#[derive(Debug)]
pub struct DistributionFinding {
    pub id: String,
    pub arn: String,
    pub destination: Destination,
    pub gap: Option<Gap>,
    /// Legacy logging already goes to logmend's bucket; only the bucket needs repair.
    pub configured: bool,
}

#[derive(Debug)]
pub enum CloudFrontStep {
    Destination(StoreStep),
    /// Legacy: Logging to the bucket, written with the ETag read just before.
    EnableLegacy {
        id: String,
        bucket: String,
    },
    /// v2: the distribution as a delivery source, logmend's destination, the delivery.
    DeliverV2 {
        id: String,
        arn: String,
        log_group_arn: String,
    },
}

/// The v2 delivery source name logmend gives a distribution.
pub fn source_name(id: &str) -> String {
    format!("logmend-cf-{id}")
}

/// Whether a CloudWatch Logs delivery carries the distribution's access logs.
async fn delivered_v2(cx: &Context<'_, Clients>, arn: &str) -> Result<bool, AwsError> {
    let sources = cx
        .clients
        .logs
        .describe_delivery_sources()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("logs:DescribeDeliverySources", arn, e))?;
    let names: Vec<&str> = sources
        .delivery_sources()
        .iter()
        .filter(|s| s.log_type() == Some("ACCESS_LOGS") && s.resource_arns().iter().any(|r| r == arn))
        .filter_map(|s| s.name())
        .collect();
    if names.is_empty() {
        return Ok(false);
    }
    let deliveries = cx
        .clients
        .logs
        .describe_deliveries()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("logs:DescribeDeliveries", arn, e))?;
    Ok(deliveries.deliveries().iter().any(|d| d.delivery_source_name().is_some_and(|n| names.contains(&n))))
}

impl Control for CloudFrontLogging {
    type Clients = Clients;
    type Target = String;
    type Finding = DistributionFinding;
    type Step = CloudFrontStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<String>, EventError> {
        event
            .response_str_at(&["distribution", "id"])
            .or_else(|| event.request_parameters.str("id"))
            .map(|id| vec![id.to_owned()])
            .ok_or(EventError::MissingField {
                field: "detail.responseElements.distribution.id or requestParameters.id",
            })
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<String>, ControlError> {
        if cx.region != GLOBAL_REGION {
            return Ok(vec![]);
        }
        let mut out = Vec::new();
        let mut marker = None;
        loop {
            let page = cx
                .clients
                .cloudfront
                .list_distributions()
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("cloudfront:ListDistributions", cx.region, e))?;
            let list = page.distribution_list();
            out.extend(list.iter().flat_map(|l| l.items()).map(|d| d.id().to_owned()));
            marker = list.filter(|l| l.is_truncated()).and_then(|l| l.next_marker()).map(str::to_owned);
            if marker.is_none() {
                return Ok(out);
            }
        }
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        id: &String,
    ) -> Result<Checked<DistributionFinding>, ControlError> {
        let skipped = |resource: &str, reason: String| {
            Ok(Checked { resource: resource.to_owned(), state: State::Skipped(reason) })
        };
        if cx.region != GLOBAL_REGION {
            return skipped(id, format!("CloudFront is global: it is evaluated from {GLOBAL_REGION} only"));
        }
        let cf = &cx.clients.cloudfront;
        let got = match cf.get_distribution_config().id(id).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_distribution()) => {
                return skipped(id, "the distribution no longer exists".into());
            }
            Err(e) => return Err(AwsError::from_sdk("cloudfront:GetDistributionConfig", id, e).into()),
        };
        let account = cx.account.unwrap_or_default();
        let arn = format!("arn:{}:cloudfront::{account}:distribution/{id}", crate::store::partition_of(cx.region));
        let tags = cf
            .list_tags_for_resource()
            .resource(&arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudfront:ListTagsForResource", id, e))?;
        let tags = tags.tags().map(|t| t.items()).unwrap_or_default();
        if is_exempt(cx.config, tags.iter().map(|t| (t.key(), t.value().unwrap_or("")))) {
            return skipped(&arn, format!("tagged {}=true", cx.config.exempt_tag));
        }
        let legacy = got
            .distribution_config()
            .and_then(|c| c.logging())
            .filter(|l| l.enabled() && !l.bucket().is_empty())
            .map(|l| l.bucket().to_owned());
        let store = Store::new(StoreKind::CloudFront, cx.config, GLOBAL_REGION, account);
        let destination = match cx.config.cloudfront_logging {
            Setting::Legacy => Destination::Bucket(store.clone()),
            Setting::V2 => Destination::Logs(LogsStore::new(V2_LOG_GROUP, cx.config, GLOBAL_REGION, account)),
        };
        if let Some(bucket) = &legacy {
            // logmend's own bucket is checked like any destination it owns; another one
            // CloudFront accepted when logging was set.
            let ours = bucket.strip_suffix(".s3.amazonaws.com") == Some(store.bucket.as_str());
            let gap = if ours { Destination::Bucket(store.clone()).inspect(cx).await? } else { None };
            if gap.is_none() {
                return Ok(Checked { resource: arn, state: State::Compliant(format!("standard logging to {bucket}")) });
            }
        } else if cx.config.cloudfront_logging == Setting::V2 && delivered_v2(cx, &arn).await? {
            let reason = "standard logging v2 delivers ACCESS_LOGS (CloudFront.5 counts legacy logging only)".into();
            return Ok(Checked { resource: arn, state: State::Compliant(reason) });
        }
        let gap = destination.inspect(cx).await?;
        let configured = legacy.is_some() && matches!(destination, Destination::Bucket(_));
        let reason = match legacy {
            Some(b) => format!("standard logging to {b}, which is not ready for CloudFront's writes"),
            None => "the distribution's requests are not logged (standard logging is off)".into(),
        };
        let finding = DistributionFinding { id: id.clone(), arn: arn.clone(), destination, gap, configured };
        Ok(Checked { resource: arn, state: State::Noncompliant { finding, reason } })
    }

    fn plan(&self, _config: &Config, f: &DistributionFinding) -> Vec<CloudFrontStep> {
        let mut steps: Vec<CloudFrontStep> =
            f.gap.iter().flat_map(Gap::steps).map(CloudFrontStep::Destination).collect();
        if f.configured {
            return steps;
        }
        steps.push(match &f.destination {
            Destination::Bucket(s) => CloudFrontStep::EnableLegacy { id: f.id.clone(), bucket: s.bucket.clone() },
            Destination::Logs(l) => {
                CloudFrontStep::DeliverV2 { id: f.id.clone(), arn: f.arn.clone(), log_group_arn: l.arn() }
            }
        });
        steps
    }

    fn describe(&self, step: &CloudFrontStep) -> Change {
        match step {
            CloudFrontStep::Destination(s) => s.describe(),
            CloudFrontStep::EnableLegacy { id, bucket } => Change::new(
                "cloudfront:UpdateDistribution",
                format!("{id}: Logging.Enabled=true to {bucket}.s3.amazonaws.com/{LEGACY_PREFIX}, cookies not logged"),
            ),
            CloudFrontStep::DeliverV2 { id, log_group_arn, .. } => Change::new(
                "logs:CreateDelivery",
                format!("{id}: ACCESS_LOGS from delivery source {} to {log_group_arn}", source_name(id)),
            ),
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        _f: &DistributionFinding,
        plan: &[CloudFrontStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            let result = match step {
                CloudFrontStep::Destination(s) => s.apply(cx).await,
                CloudFrontStep::EnableLegacy { id, bucket } => enable_legacy(cx, id, bucket).await,
                CloudFrontStep::DeliverV2 { id, arn, log_group_arn } => deliver_v2(cx, id, arn, log_group_arn).await,
            };
            result.map_err(|e| ApplyError { done: done.clone(), error: e.into() })?;
            done.push(self.describe(step));
        }
        Ok(Applied::Fixed("the distribution's requests are logged".into()))
    }
}

/// UpdateDistribution needs the whole configuration back with the ETag it was read with; it is
/// read again here, so a change made since the check is kept, not overwritten.
async fn enable_legacy(cx: &Context<'_, Clients>, id: &str, bucket: &str) -> Result<(), AwsError> {
    let cf = &cx.clients.cloudfront;
    let got = cf
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudfront:GetDistributionConfig", id, e))?;
    let Some(mut config) = got.distribution_config().cloned() else {
        return Err(AwsError {
            action: "cloudfront:GetDistributionConfig",
            resource: id.to_owned(),
            code: None,
            status: None,
            kind: logmend_core::aws::AwsErrorKind::Service,
            detail: "the answer held no DistributionConfig".into(),
        });
    };
    config.logging = Some(
        LoggingConfig::builder()
            .enabled(true)
            .include_cookies(false)
            .bucket(format!("{bucket}.s3.amazonaws.com"))
            .prefix(LEGACY_PREFIX)
            .build(),
    );
    cf.update_distribution()
        .id(id)
        .set_if_match(got.e_tag().map(str::to_owned))
        .distribution_config(config)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("cloudfront:UpdateDistribution", id, e))
}

async fn deliver_v2(cx: &Context<'_, Clients>, id: &str, arn: &str, log_group_arn: &str) -> Result<(), AwsError> {
    let logs = &cx.clients.logs;
    let source = source_name(id);
    logs.put_delivery_source()
        .name(&source)
        .resource_arn(arn)
        .log_type("ACCESS_LOGS")
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("logs:PutDeliverySource", arn, e))?;
    let target = DeliveryDestinationConfiguration::builder()
        .destination_resource_arn(log_group_arn)
        .build()
        .expect("destination is set");
    let destination = logs
        .put_delivery_destination()
        .name(V2_DESTINATION)
        .delivery_destination_configuration(target)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("logs:PutDeliveryDestination", V2_DESTINATION, e))?;
    let destination_arn = destination.delivery_destination().and_then(|d| d.arn()).unwrap_or_default().to_owned();
    logmend_core::aws::created_or_existing(
        logs.create_delivery().delivery_source_name(&source).delivery_destination_arn(destination_arn).send().await,
        |e| e.is_conflict_exception(),
        "logs:CreateDelivery",
        arn,
    )
}
