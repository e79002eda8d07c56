//! `cloudtrail-bucket-access-logging` (CloudTrail.7) against the emulator (its PutBucketLogging
//! checks that the target lets the logging service write), one test per path: logging turned on
//! into logmend's per-region bucket, made safe first, and logmend's PutBucketLogging ending
//! compliant; the log bucket reused by a second trail's bucket; a target someone else owns that
//! accepts the logs left alone, one that refuses them reported and unchanged; audit mode.

use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend_integration::{AwsClients, Emulator, config_for, create_trail, one, sample_event};
use serde_json::{Value, json};

const CONTROL: &str = "cloudtrail-bucket-access-logging";
const TRAIL: &str = "org-audit";
const BUCKET: &str = "org-audit-logs";
const LOG_BUCKET: &str = "logmend-access-logs-123456789012-us-east-1";

fn app(emulator: &Emulator, mode: Mode) -> Logmend {
    logmend::app(config_for(mode, &[CONTROL]), emulator.clients("us-east-1"))
}

async fn logging_target(c: &AwsClients, bucket: &str) -> Option<(String, String)> {
    let out = c.s3.get_bucket_logging().bucket(bucket).send().await.unwrap();
    out.logging_enabled().map(|l| (l.target_bucket().to_owned(), l.target_prefix().to_owned()))
}

#[tokio::test]
async fn access_logs_go_to_logmends_bucket_made_safe_first_and_its_write_ends_compliant() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    let app = app(&emulator, Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("s3/put-bucket-logging-off.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(
        emulator.mutating_calls(),
        [
            "s3:CreateBucket",
            "s3:PutBucketPublicAccessBlock",
            "s3:PutEncryptionConfiguration",
            "s3:PutBucketTagging",
            "s3:PutLifecycleConfiguration",
            "s3:PutBucketPolicy",
            "s3:PutBucketLogging",
        ]
    );
    emulator.assert_calls_declared(CONTROL);
    assert_eq!(logging_target(&c, BUCKET).await, Some((LOG_BUCKET.to_owned(), format!("{BUCKET}/"))));
    let bpa = c.s3.get_public_access_block().bucket(LOG_BUCKET).send().await.unwrap();
    assert_eq!(bpa.public_access_block_configuration().unwrap().restrict_public_buckets(), Some(true));
    let sse = c.s3.get_bucket_encryption().bucket(LOG_BUCKET).send().await.unwrap();
    let rule = &sse.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(rule.apply_server_side_encryption_by_default().unwrap().sse_algorithm().as_str(), "AES256");
    let policy: Value =
        serde_json::from_str(c.s3.get_bucket_policy().bucket(LOG_BUCKET).send().await.unwrap().policy().unwrap())
            .unwrap();
    assert_eq!(policy["Statement"][0]["Principal"]["Service"], "logging.s3.amazonaws.com");
    assert_eq!(policy["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"], "123456789012");
    assert_eq!(policy["Statement"][1]["Sid"], "LogmendDenyInsecureTransport");
    let rules = c.s3.get_bucket_lifecycle_configuration().bucket(LOG_BUCKET).send().await.unwrap();
    assert_eq!(rules.rules()[0].expiration().and_then(|e| e.days()), Some(365));
    let lock = c.s3.get_object_lock_configuration().bucket(LOG_BUCKET).send().await;
    assert!(lock.is_err(), "no Object Lock on the log bucket");
    // logmend's PutBucketLogging comes back: compliant, no write.
    emulator.recorder_reset();
    let d = one(&app, &sample_event("s3/put-bucket-logging-off.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_second_trail_bucket_reuses_the_log_bucket_and_audit_writes_nothing() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    create_trail(&emulator, &c, "regional", false).await;
    emulator.recorder_reset();
    let audit = app(&emulator, Mode::Audit).sweep(&[], 4, None, |_| {}).await;
    assert_eq!(audit.summary.count(Verdict::Noncompliant), 2, "{:?}", audit.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    let fix = app(&emulator, Mode::Remediate).sweep(&[], 1, None, |_| {}).await;
    assert_eq!(fix.summary.count(Verdict::Fixed), 2, "{:?}", fix.summary);
    assert_eq!(logging_target(&c, "regional-logs").await, Some((LOG_BUCKET.to_owned(), "regional-logs/".to_owned())));
    emulator.recorder_reset();
    let again = app(&emulator, Mode::Remediate).sweep(&[], 4, None, |_| {}).await;
    assert_eq!(again.summary.count(Verdict::Compliant), 2, "{:?}", again.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "a second sweep writes nothing");
}

#[tokio::test]
async fn a_target_someone_else_chose_is_kept_when_it_accepts_the_logs_and_reported_when_it_does_not() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    c.s3.create_bucket().bucket("security-access-logs").send().await.unwrap();
    let accepting = json!({"Version": "2012-10-17", "Statement": [{"Sid": "S3ServerAccessLogsPolicy", "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::security-access-logs/*"}]});
    c.s3.put_bucket_policy().bucket("security-access-logs").policy(accepting.to_string()).send().await.unwrap();
    let on = aws_sdk_s3::types::LoggingEnabled::builder()
        .target_bucket("security-access-logs")
        .target_prefix("trail/")
        .build()
        .unwrap();
    let status = aws_sdk_s3::types::BucketLoggingStatus::builder().logging_enabled(on).build();
    c.s3.put_bucket_logging().bucket(BUCKET).bucket_logging_status(status).send().await.unwrap();
    let app = app(&emulator, Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("s3/put-bucket-logging-off.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert!(d.reason.contains("security-access-logs"));
    // Its owner drops the statement: the logs no longer arrive; reported, neither bucket touched.
    c.s3.delete_bucket_policy().bucket("security-access-logs").send().await.unwrap();
    emulator.recorder_reset();
    let d = one(&app, &sample_event("s3/put-bucket-logging-off.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("its owner must add"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    assert_eq!(logging_target(&c, BUCKET).await.unwrap().0, "security-access-logs");
}
