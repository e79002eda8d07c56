//! `cloudtrail-bucket-protection` (CloudTrail.6) against the emulator, one test per path: a
//! trail's bucket locked down with someone's statement kept and logmend's own writes ending
//! compliant; MFA delete and Object Lock reported, never attempted; the policy written before
//! Block Public Access; someone's Deny reported and kept; the lifecycle rule merged; audit
//! mode and a second sweep writing nothing; another account's bucket and exempt ones skipped.

use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend_integration::{Emulator, config_for, create_trail, one, sample_event};
use serde_json::{Value, json};

const CONTROL: &str = "cloudtrail-bucket-protection";
const TRAIL: &str = "org-audit";
const BUCKET: &str = "org-audit-logs";
const TRAIL_ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-audit";

fn app_with(emulator: &Emulator, mode: Mode, edit: impl FnOnce(&mut logmend::Config)) -> Logmend {
    let mut config = config_for(mode, &[CONTROL]);
    edit(&mut config);
    logmend::app(config, emulator.clients("us-east-1"))
}

/// Deletion protection is its own test; the others look at what logmend can fix.
fn app(emulator: &Emulator, mode: Mode) -> Logmend {
    app_with(emulator, mode, |c| c.trail_bucket_deletion_protection = false)
}

async fn policy(emulator: &Emulator) -> Value {
    let s3 = emulator.clients("us-east-1").s3;
    let out = s3.get_bucket_policy().bucket(BUCKET).send().await.unwrap();
    serde_json::from_str(out.policy().unwrap()).unwrap()
}

fn sids(policy: &Value) -> Vec<String> {
    policy["Statement"].as_array().unwrap().iter().map(|s| s["Sid"].as_str().unwrap_or("").to_owned()).collect()
}

async fn put_policy(emulator: &Emulator, doc: Value) {
    let s3 = emulator.clients("us-east-1").s3;
    s3.put_bucket_policy().bucket(BUCKET).policy(doc.to_string()).send().await.unwrap();
}

fn analytics_statement() -> Value {
    json!({"Sid": "ReadForAnalytics", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{BUCKET}/*")})
}

#[tokio::test]
async fn the_bucket_is_locked_down_someones_statement_kept_and_logmends_writes_end_compliant() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    put_policy(&emulator, json!({"Version": "2012-10-17", "Statement": [analytics_statement()]})).await;
    let app = app(&emulator, Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("s3/put-bucket-policy.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.resource, format!("arn:aws:s3:::{BUCKET}"));
    assert!(d.reason.contains("locked down"), "{}", d.reason);
    assert_eq!(
        emulator.mutating_calls(),
        ["s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock", "s3:PutBucketVersioning"]
    );
    emulator.assert_calls_declared(CONTROL);
    let doc = policy(&emulator).await;
    assert_eq!(
        sids(&doc),
        ["ReadForAnalytics", "LogmendDenyInsecureTransport", "LogmendCloudTrailAclCheck", "LogmendCloudTrailWrite"]
    );
    assert_eq!(doc["Statement"][0], analytics_statement(), "someone's statement is kept as it was");
    assert_eq!(doc["Statement"][3]["Condition"]["StringEquals"]["aws:SourceArn"], json!([TRAIL_ARN]));
    assert_eq!(doc["Statement"][3]["Resource"], json!([format!("arn:aws:s3:::{BUCKET}/AWSLogs/123456789012/*")]));
    let bpa = c.s3.get_public_access_block().bucket(BUCKET).send().await.unwrap();
    let bpa = bpa.public_access_block_configuration().unwrap();
    assert_eq!(
        (bpa.block_public_acls(), bpa.ignore_public_acls(), bpa.block_public_policy(), bpa.restrict_public_buckets()),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let versioning = c.s3.get_bucket_versioning().bucket(BUCKET).send().await.unwrap();
    assert_eq!(versioning.status().map(|s| s.as_str()), Some("Enabled"));

    // Each of logmend's three writes comes back as an event: compliant, no write.
    for event in [
        "s3/put-bucket-policy.json",
        "s3/delete-bucket-public-access-block.json",
        "s3/put-bucket-versioning-suspended.json",
    ] {
        emulator.recorder_reset();
        let d = one(&app, &sample_event(event)).await;
        assert_eq!(d.verdict, Verdict::Compliant, "{event}: {d:?}");
        assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "{event}");
    }
}

#[tokio::test]
async fn the_policy_is_written_before_block_public_access_so_a_public_statement_cannot_stop_it() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    // Someone made the bucket public; S3 refuses that policy only once BlockPublicPolicy is on.
    let public = json!({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{BUCKET}/*")});
    put_policy(&emulator, json!({"Version": "2012-10-17", "Statement": [public.clone()]})).await;
    let d = one(&app(&emulator, Mode::Remediate), &sample_event("s3/put-bucket-policy.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    let doc = policy(&emulator).await;
    assert_eq!(doc["Statement"][0], public, "logmend never drops a statement, even a public one");
    // RestrictPublicBuckets now makes it inert, and S3 refuses to store a public policy again.
    let again = c.s3.put_bucket_policy().bucket(BUCKET).policy(doc.to_string()).send().await;
    assert_eq!(again.unwrap_err().into_service_error().meta().code(), Some("AccessDenied"));
}

#[tokio::test]
async fn a_deny_someone_wrote_that_refuses_cloudtrail_is_reported_and_kept() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    let vpce_only = json!({"Sid": "OnlyFromOurVpc", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{BUCKET}"), format!("arn:aws:s3:::{BUCKET}/*")],
        "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}});
    put_policy(&emulator, json!({"Version": "2012-10-17", "Statement": [vpce_only.clone()]})).await;
    let app = app(&emulator, Mode::Remediate);
    let d = one(&app, &sample_event("s3/put-bucket-policy.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "the rest is fixed, the Deny is left: {d:?}");
    assert!(d.reason.contains("OnlyFromOurVpc of the bucket policy refuses CloudTrail's delivery"), "{}", d.reason);
    assert!(!d.changes.is_empty(), "what logmend may fix is fixed");
    assert_eq!(policy(&emulator).await["Statement"][0], vpce_only);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("s3/put-bucket-policy.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant);
    assert!(d.changes.is_empty(), "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "a second run writes nothing");
}

#[tokio::test]
async fn mfa_delete_and_object_lock_are_reported_never_attempted() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    let app = app_with(&emulator, Mode::Remediate, |_| {});
    emulator.recorder_reset();
    let d = one(&app, &sample_event("s3/put-bucket-policy.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("only the bucket owner's root user"), "{}", d.reason);
    assert!(!emulator.mutating_calls().iter().any(|c| c.contains("ObjectLock")), "{:?}", emulator.mutating_calls());
    // A bucket made with Object Lock is protected from deletion: compliant once the rest is done.
    c.s3.create_bucket().bucket("locked-logs-2").object_lock_enabled_for_bucket(true).send().await.unwrap();
    // Enabled alone locks nothing CloudTrail writes: a default retention does.
    use aws_sdk_s3::types::{
        DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode, ObjectLockRule,
    };
    let retention = DefaultRetention::builder().mode(ObjectLockRetentionMode::Governance).days(365).build();
    let lock = ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .rule(ObjectLockRule::builder().default_retention(retention).build())
        .build();
    c.s3.put_object_lock_configuration().bucket("locked-logs-2").object_lock_configuration(lock).send().await.unwrap();
    let policy = logmend_integration::cloudtrail_bucket_policy("locked-logs-2", TRAIL_ARN);
    c.s3.put_bucket_policy().bucket("locked-logs-2").policy(policy.to_string()).send().await.unwrap();
    c.cloudtrail.update_trail().name(TRAIL).s3_bucket_name("locked-logs-2").send().await.unwrap();
    let mut e = sample_event("s3/put-bucket-policy.json");
    e["detail"]["requestParameters"]["bucketName"] = json!("locked-logs-2");
    assert_eq!(one(&app, &e).await.verdict, Verdict::Fixed);
    assert_eq!(one(&app, &e).await.verdict, Verdict::Compliant);
}

#[tokio::test]
async fn the_expiration_rule_is_added_beside_someones_rule() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    use aws_sdk_s3::types::{BucketLifecycleConfiguration, ExpirationStatus, LifecycleRule, LifecycleRuleFilter};
    let theirs = LifecycleRule::builder()
        .id("abort-uploads")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("tmp/").build())
        .abort_incomplete_multipart_upload(
            aws_sdk_s3::types::AbortIncompleteMultipartUpload::builder().days_after_initiation(7).build(),
        )
        .build()
        .unwrap();
    let conf = BucketLifecycleConfiguration::builder().rules(theirs).build().unwrap();
    c.s3.put_bucket_lifecycle_configuration().bucket(BUCKET).lifecycle_configuration(conf).send().await.unwrap();
    let app = app_with(&emulator, Mode::Remediate, |c| {
        c.trail_bucket_deletion_protection = false;
        c.trail_log_expiration_days = Some(2555);
    });
    let d = one(&app, &sample_event("s3/put-bucket-policy.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    let rules = c.s3.get_bucket_lifecycle_configuration().bucket(BUCKET).send().await.unwrap();
    let ids: Vec<&str> = rules.rules().iter().filter_map(|r| r.id()).collect();
    assert_eq!(ids, ["abort-uploads", "logmend-trail-log-expiration"]);
    assert_eq!(rules.rules()[1].expiration().and_then(|e| e.days()), Some(2555));
    emulator.recorder_reset();
    assert_eq!(one(&app, &sample_event("s3/put-bucket-policy.json")).await.verdict, Verdict::Compliant);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn audit_mode_writes_nothing_and_a_second_sweep_writes_nothing() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    create_trail(&emulator, &c, "regional", false).await;
    // A bucket no trail delivers to is not this control's.
    emulator.create_bucket("unrelated");
    emulator.recorder_reset();
    let audit = app(&emulator, Mode::Audit).sweep(&[], 4, None, |_| {}).await;
    assert_eq!(audit.summary.count(Verdict::Noncompliant), 2, "{:?}", audit.summary);
    assert!(audit.evaluations.iter().all(|e| !e.decision.changes.is_empty()), "audit says what it would do");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    let fix = app(&emulator, Mode::Remediate).sweep(&[], 4, None, |_| {}).await;
    assert_eq!(fix.summary.count(Verdict::Fixed), 2, "{:?}", fix.summary);
    emulator.recorder_reset();
    let again = app(&emulator, Mode::Remediate).sweep(&[], 4, None, |_| {}).await;
    assert_eq!(again.summary.count(Verdict::Compliant), 2, "{:?}", again.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "a second sweep writes nothing");
    // An S3 event about a bucket no trail uses is skipped with one read.
    let mut e = sample_event("s3/put-bucket-policy.json");
    e["detail"]["requestParameters"]["bucketName"] = json!("unrelated");
    emulator.recorder_reset();
    let d = one(&app(&emulator, Mode::Remediate), &e).await;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert_eq!(emulator.recorded_calls(), ["cloudtrail:DescribeTrails"]);
}

#[tokio::test]
async fn another_accounts_bucket_an_exempt_bucket_and_an_exempt_trails_bucket_are_skipped() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    // Seen from another account (an organization trail's member): S3 refuses it as expected owner.
    emulator.recorder_reset();
    let report = app(&emulator, Mode::Remediate).sweep(&[], 4, Some("111122223333"), |_| {}).await;
    assert!(report.evaluations.is_empty(), "not listed: {:?}", report.evaluations);
    let mut e = sample_event("s3/put-bucket-policy.json");
    e["account"] = json!("111122223333");
    let d = one(&app(&emulator, Mode::Remediate), &e).await;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert!(d.reason.contains("not account 111122223333's"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    // Exempt through the trail that shares the bucket.
    c.cloudtrail
        .add_tags()
        .resource_id(TRAIL_ARN)
        .tags_list(aws_sdk_cloudtrail::types::Tag::builder().key("logmend:exempt").value("true").build().unwrap())
        .send()
        .await
        .unwrap();
    emulator.recorder_reset();
    let d = one(&app(&emulator, Mode::Remediate), &sample_event("s3/put-bucket-policy.json")).await;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert!(d.reason.contains("shared with trail"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}
