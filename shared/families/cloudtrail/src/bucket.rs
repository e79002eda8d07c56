//! A trail's S3 bucket: which trails deliver to it, whether this account and region may change
//! it, what its policy lets CloudTrail and anyone else do, and the writes that protect it.
//! Shared by the bucket controls and the baseline trail.

use crate::Clients;
use crate::trail::{describe_trails, parse_trail_arn, trail_exempt, trail_named_in};
use aws_sdk_cloudtrail::types::Trail;
use aws_sdk_s3::types::{
    BucketVersioningStatus, DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode,
    ObjectLockRule, VersioningConfiguration,
};
use logmend_core::aws::AwsError;
use logmend_core::control::{Checked, Context, ControlError, State, is_exempt};
use logmend_core::event::{ApiCallEvent, EventError};
use logmend_core::resource_policy::{self, Answer, Principal, Request};
use serde_json::{Value, json};

pub const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";
pub use logmend_core::control::MANAGED_BY_TAG;
pub use logmend_s3_store::TLS_SID;
pub const ACL_CHECK_SID: &str = "LogmendCloudTrailAclCheck";
pub const WRITE_SID: &str = "LogmendCloudTrailWrite";

pub use logmend_s3_store::{bucket_arn, code_of, denies_insecure_transport, tls_deny_statement, unless_absent};

/// A trail as its bucket's policy sees it: the ARN CloudTrail sends as `aws:SourceArn`, the
/// account it writes under, the key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    pub trail_arn: String,
    pub account: String,
    pub prefix: Option<String>,
}

impl Writer {
    pub fn of(trail: &Trail) -> Option<Writer> {
        let trail_arn = trail.trail_arn()?.to_owned();
        let account = parse_trail_arn(&trail_arn)?.account.to_owned();
        let prefix = crate::trail::non_empty(trail.s3_key_prefix()).map(|p| p.trim_matches('/').to_owned());
        Some(Writer { trail_arn, account, prefix })
    }

    /// Where in the bucket CloudTrail writes: `[prefix/]AWSLogs/ACCOUNT/` (CloudTrail User Guide,
    /// "Finding your CloudTrail log files").
    pub fn key_prefix(&self) -> String {
        match &self.prefix {
            Some(p) => format!("{p}/AWSLogs/{}/", self.account),
            None => format!("AWSLogs/{}/", self.account),
        }
    }

    /// The objects CloudTrail writes, as a policy's `Resource` names them (without `arn:…:::`).
    pub fn objects(&self, bucket: &str) -> String {
        format!("{bucket}/{}*", self.key_prefix())
    }
}

/// The trails this region sees (its own and other regions' multi-region trails) that deliver
/// to `bucket`.
pub async fn trails_delivering_to(cx: &Context<'_, Clients>, bucket: &str) -> Result<Vec<Trail>, ControlError> {
    Ok(describe_trails(cx, true).await?.into_iter().filter(|t| t.s3_bucket_name() == Some(bucket)).collect())
}

/// Where the bucket is, asked as its owner: `Err(reason)` when it is gone or another account's.
pub async fn bucket_region(cx: &Context<'_, Clients>, bucket: &str) -> Result<Result<String, String>, ControlError> {
    Ok(logmend_s3_store::bucket_region(&cx.clients.s3, bucket, cx.account).await?)
}

/// Whether the bucket carries the exemption tag.
pub async fn bucket_exempt(cx: &Context<'_, Clients>, bucket: &str) -> Result<bool, ControlError> {
    let tags = logmend_s3_store::bucket_tags(&cx.clients.s3, bucket).await?;
    Ok(is_exempt(cx.config, tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
}

/// The bucket policy as JSON; `None`: the bucket has none.
pub async fn read_policy(cx: &Context<'_, Clients>, bucket: &str) -> Result<Option<Value>, ControlError> {
    Ok(logmend_s3_store::read_policy(&cx.clients.s3, bucket).await?)
}

/// Which of the four Block Public Access settings are off.
pub async fn public_access_gaps(cx: &Context<'_, Clients>, bucket: &str) -> Result<Vec<&'static str>, ControlError> {
    Ok(logmend_s3_store::public_access_gaps(&cx.clients.s3, bucket).await?)
}

/// How the policy answers CloudTrail's two requests for one trail: the ACL check on the bucket
/// and the write of a log file (CloudTrail User Guide, "Amazon S3 bucket policy for
/// CloudTrail").
pub fn cloudtrail_access(doc: Option<&Value>, partition: &str, bucket: &str, w: &Writer) -> Answer {
    let Some(doc) = doc else { return Answer::NotAllowed };
    let context = [
        ("aws:SourceArn", w.trail_arn.as_str()),
        ("aws:SourceAccount", w.account.as_str()),
        ("aws:SecureTransport", "true"),
        ("s3:x-amz-acl", "bucket-owner-full-control"),
    ];
    let object = format!("arn:{partition}:s3:::{bucket}/{}CloudTrail/probe.json.gz", w.key_prefix());
    let arn = bucket_arn(partition, bucket);
    for (action, resource) in [("s3:GetBucketAcl", arn.as_str()), ("s3:PutObject", object.as_str())] {
        let req = Request { principal: Principal::Service(CLOUDTRAIL), action, resource, context: &context };
        match resource_policy::evaluate(doc, &req) {
            Answer::Allowed => {}
            other => return other,
        }
    }
    Answer::Allowed
}

/// The values of a logmend statement's `aws:SourceArn` condition and its `Resource`s, so a new
/// trail is added beside the ones already there.
fn existing_values(doc: Option<&Value>, sid: &str) -> (Vec<String>, Vec<String>) {
    let Some(s) = doc.and_then(|d| resource_policy::statements(d).into_iter().find(|s| s["Sid"] == sid)) else {
        return (vec![], vec![]);
    };
    let strings = |v: &Value| -> Vec<String> {
        resource_policy::as_list(v).iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()
    };
    (strings(&s["Condition"]["StringEquals"]["aws:SourceArn"]), strings(&s["Resource"]))
}

fn union(mut a: Vec<String>, b: impl IntoIterator<Item = String>) -> Vec<String> {
    for x in b {
        if !a.contains(&x) {
            a.push(x);
        }
    }
    a
}

/// logmend's two CloudTrail statements, for the trails already in them and `writers`, each
/// limited to its trails by `aws:SourceArn` (the confused-deputy condition AWS recommends).
pub fn cloudtrail_statements(doc: Option<&Value>, partition: &str, bucket: &str, writers: &[Writer]) -> [Value; 2] {
    let (acl_arns, _) = existing_values(doc, ACL_CHECK_SID);
    let (write_arns, write_resources) = existing_values(doc, WRITE_SID);
    let arns = union(union(acl_arns, write_arns), writers.iter().map(|w| w.trail_arn.clone()));
    let objects = union(write_resources, writers.iter().map(|w| format!("arn:{partition}:s3:::{}", w.objects(bucket))));
    [
        json!({
            "Sid": ACL_CHECK_SID,
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn(partition, bucket),
            "Condition": {"StringEquals": {"aws:SourceArn": arns.clone()}}
        }),
        json!({
            "Sid": WRITE_SID,
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": arns}}
        }),
    ]
}

pub async fn put_policy(cx: &Context<'_, Clients>, bucket: &str, doc: &Value) -> Result<(), AwsError> {
    logmend_s3_store::put_policy(&cx.clients.s3, bucket, doc).await
}

pub async fn block_public_access(cx: &Context<'_, Clients>, bucket: &str) -> Result<(), AwsError> {
    logmend_s3_store::block_public_access(&cx.clients.s3, bucket).await
}

pub async fn enable_versioning(cx: &Context<'_, Clients>, bucket: &str) -> Result<(), AwsError> {
    cx.clients
        .s3
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("s3:PutBucketVersioning", bucket, e))
}

/// A bucket logmend owns, made safe before anything is written to it ([`secure_owned_bucket`]),
/// with `object_lock_days` Object Lock (possible only at creation). An existing one of
/// logmend's is reused.
pub async fn create_owned_bucket(
    cx: &Context<'_, Clients>,
    bucket: &str,
    object_lock_days: Option<i32>,
) -> Result<(), AwsError> {
    create_bucket(cx, bucket, object_lock_days.is_some()).await?;
    secure_owned_bucket(cx, bucket, object_lock_days).await
}

/// CreateBucket in this region; "already yours" is success.
pub async fn create_bucket(cx: &Context<'_, Clients>, bucket: &str, object_lock: bool) -> Result<(), AwsError> {
    logmend_s3_store::create_bucket(&cx.clients.s3, cx.region, bucket, object_lock).await
}

/// Block Public Access, default encryption (SSE-S3), with `object_lock_days` a governance-mode
/// default retention, and the managed-by tag: each write "already so" when repeated, so a run
/// cut short part-way is completed by the next.
pub async fn secure_owned_bucket(
    cx: &Context<'_, Clients>,
    bucket: &str,
    object_lock_days: Option<i32>,
) -> Result<(), AwsError> {
    block_public_access(cx, bucket).await?;
    logmend_s3_store::encrypt(&cx.clients.s3, bucket, &logmend_s3_store::Encryption::S3).await?;
    if let Some(days) = object_lock_days {
        // Governance mode: a person with s3:BypassGovernanceRetention can still remove a file
        // (compliance mode could never be undone, not even by the root user).
        let retention = DefaultRetention::builder().mode(ObjectLockRetentionMode::Governance).days(days).build();
        let lock = ObjectLockConfiguration::builder()
            .object_lock_enabled(ObjectLockEnabled::Enabled)
            .rule(ObjectLockRule::builder().default_retention(retention).build())
            .build();
        cx.clients
            .s3
            .put_object_lock_configuration()
            .bucket(bucket)
            .object_lock_configuration(lock)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:PutBucketObjectLockConfiguration", bucket, e))?;
    }
    logmend_s3_store::tag_managed(&cx.clients.s3, bucket).await
}

/// Whether the bucket's default encryption is SSE-S3 (what S3 server access logs need).
pub async fn encrypted_with_sse_s3(cx: &Context<'_, Clients>, bucket: &str) -> Result<bool, ControlError> {
    Ok(logmend_s3_store::encryption(&cx.clients.s3, bucket).await? == Some(logmend_s3_store::Encryption::S3))
}

/// A bucket, or a trail whose bucket an event does not name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BucketRef {
    Bucket(String),
    Trail(String),
}

impl std::fmt::Display for BucketRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BucketRef::Bucket(b) => write!(f, "arn:aws:s3:::{b}"),
            BucketRef::Trail(t) => f.write_str(t),
        }
    }
}

/// The bucket an S3 or CloudTrail event names.
pub fn bucket_named_in(event: &ApiCallEvent) -> Result<BucketRef, EventError> {
    if event.event_source == "s3.amazonaws.com" {
        let bucket = event
            .request_parameters
            .str("bucketName")
            .ok_or(EventError::MissingField { field: "detail.requestParameters.bucketName" })?;
        return Ok(BucketRef::Bucket(bucket.to_owned()));
    }
    match event.response_str("s3BucketName").or_else(|| event.request_parameters.str("s3BucketName")) {
        Some(b) => Ok(BucketRef::Bucket(b.to_owned())),
        None => Ok(BucketRef::Trail(trail_named_in(event)?)),
    }
}

/// A trail's bucket, for `expand`: none when the trail is gone.
pub async fn bucket_of_trail(cx: &Context<'_, Clients>, trail: &str) -> Result<Vec<BucketRef>, ControlError> {
    match cx.clients.cloudtrail.get_trail().name(trail).send().await {
        Ok(out) => Ok(out
            .trail()
            .and_then(|t| t.s3_bucket_name())
            .map(|b| BucketRef::Bucket(b.to_owned()))
            .into_iter()
            .collect()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_trail_not_found_exception()) => Ok(vec![]),
        Err(e) => Err(AwsError::from_sdk("cloudtrail:GetTrail", trail, e).into()),
    }
}

/// A trail stands for its bucket; a bucket for itself.
pub async fn expand(cx: &Context<'_, Clients>, target: BucketRef) -> Result<Vec<BucketRef>, ControlError> {
    match target {
        BucketRef::Trail(t) => bucket_of_trail(cx, &t).await,
        b => Ok(vec![b]),
    }
}

/// The distinct buckets of the trails this region sees that are in this region.
pub async fn trail_buckets_here(cx: &Context<'_, Clients>) -> Result<Vec<BucketRef>, ControlError> {
    let mut names: Vec<String> =
        describe_trails(cx, true).await?.iter().filter_map(|t| t.s3_bucket_name().map(str::to_owned)).collect();
    names.sort();
    names.dedup();
    let mut here = Vec::new();
    for name in names {
        if bucket_region(cx, &name).await?.is_ok_and(|r| r == cx.region) {
            here.push(BucketRef::Bucket(name));
        }
    }
    Ok(here)
}

/// Whether this evaluation may change the bucket: the trails that write to it, or the reason
/// to leave it alone (not a trail's, another region's or account's, exempt, shared with an
/// exempt trail).
pub async fn trail_bucket_writers(
    cx: &Context<'_, Clients>,
    bucket: &str,
) -> Result<Result<Vec<Writer>, String>, ControlError> {
    let trails = trails_delivering_to(cx, bucket).await?;
    if trails.is_empty() {
        return Ok(Err("no trail this region sees delivers to the bucket".into()));
    }
    match bucket_region(cx, bucket).await? {
        Err(reason) => return Ok(Err(reason)),
        Ok(region) if region != cx.region => {
            return Ok(Err(format!("the bucket is in {region}; that region evaluates it")));
        }
        Ok(_) => {}
    }
    if bucket_exempt(cx, bucket).await? {
        return Ok(Err(format!("tagged {}=true", cx.config.exempt_tag)));
    }
    // ListTags answers for the trails of this region only; a trail elsewhere is exempted with
    // its bucket's tag.
    for t in &trails {
        let Some(arn) = t.trail_arn() else { continue };
        let here = parse_trail_arn(arn)
            .is_some_and(|a| a.region == cx.region && cx.account.is_none_or(|own| own == a.account));
        if here && trail_exempt(cx, arn).await? {
            return Ok(Err(format!("shared with trail {arn}, tagged {}=true", cx.config.exempt_tag)));
        }
    }
    Ok(Ok(trails.iter().filter_map(Writer::of).collect()))
}

/// A trail's bucket that this evaluation may change: its name, the trails that write to it,
/// its partition and its ARN.
pub struct TrailBucket {
    pub bucket: String,
    pub writers: Vec<Writer>,
    pub partition: String,
    pub arn: String,
}

/// The bucket a target names, with the rules of [`trail_bucket_writers`]; `Err` is the
/// skipped decision to give instead.
pub async fn trail_bucket<F>(
    cx: &Context<'_, Clients>,
    target: &BucketRef,
) -> Result<Result<TrailBucket, Checked<F>>, ControlError> {
    let skipped = |resource: String, reason: String| Checked { resource, state: State::Skipped(reason) };
    let bucket = match target {
        BucketRef::Bucket(b) => b.clone(),
        BucketRef::Trail(t) => match bucket_of_trail(cx, t).await?.pop() {
            Some(BucketRef::Bucket(b)) => b,
            _ => return Ok(Err(skipped(t.clone(), "the trail no longer exists".into()))),
        },
    };
    let writers = match trail_bucket_writers(cx, &bucket).await? {
        Ok(w) => w,
        Err(reason) => return Ok(Err(skipped(format!("arn:aws:s3:::{bucket}"), reason))),
    };
    let partition =
        writers.first().and_then(|w| parse_trail_arn(&w.trail_arn)).map_or("aws", |a| a.partition).to_owned();
    let arn = bucket_arn(&partition, &bucket);
    Ok(Ok(TrailBucket { bucket, writers, partition, arn }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(arn: &str) -> Writer {
        Writer { trail_arn: arn.into(), account: "123456789012".into(), prefix: None }
    }

    #[test]
    fn logmends_statements_let_cloudtrail_deliver_and_keep_the_trails_already_named() {
        let a = writer("arn:aws:cloudtrail:us-east-1:123456789012:trail/a");
        let b = Writer { prefix: Some("org".into()), ..writer("arn:aws:cloudtrail:us-east-1:123456789012:trail/b") };
        assert_eq!(cloudtrail_access(None, "aws", "logs", &a), Answer::NotAllowed);
        let first = json!({"Statement": cloudtrail_statements(None, "aws", "logs", std::slice::from_ref(&a))});
        assert_eq!(cloudtrail_access(Some(&first), "aws", "logs", &a), Answer::Allowed);
        assert_eq!(cloudtrail_access(Some(&first), "aws", "logs", &b), Answer::NotAllowed, "another trail's ARN");
        let both = json!({"Statement": cloudtrail_statements(Some(&first), "aws", "logs", std::slice::from_ref(&b))});
        assert_eq!(cloudtrail_access(Some(&both), "aws", "logs", &a), Answer::Allowed, "the first trail is kept");
        assert_eq!(cloudtrail_access(Some(&both), "aws", "logs", &b), Answer::Allowed);
        assert_eq!(b.objects("logs"), "logs/org/AWSLogs/123456789012/*");
    }

    #[test]
    fn the_tls_statement_does_not_refuse_cloudtrails_writes() {
        // CloudTrail's own writes are over TLS: the deny does not refuse them.
        let with_ct = json!({"Statement": [tls_deny_statement("aws", "logs"),
            cloudtrail_statements(None, "aws", "logs", &[writer("arn:t")])[0].clone(),
            cloudtrail_statements(None, "aws", "logs", &[writer("arn:t")])[1].clone()]});
        assert_eq!(cloudtrail_access(Some(&with_ct), "aws", "logs", &writer("arn:t")), Answer::Allowed);
    }
}
