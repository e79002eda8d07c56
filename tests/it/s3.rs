//! `s3-access-logging` (S3.9) and `s3-data-events` (S3.22/.23) against the emulator, one test
//! per path: a new bucket's access logs turned on into logmend's bucket and logmend's own
//! PutBucketLogging ending compliant; the sweep fixing the region's buckets only, audit writing
//! nothing; never a bucket into itself, never a log target into another, never an exempt
//! bucket, never a target S3 cannot deliver to (SSE-KMS, Object Lock, Requester Pays). Data
//! events: off by default; merged into basic and advanced selectors (someone's kept, never
//! mixed), the second run and cloudtrail-logging writing nothing; single-region and exempt
//! trails never used; another region waiting for the trail's home region.

use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector, ReadWriteType};
use aws_sdk_s3::types::{BucketLoggingStatus, LoggingEnabled, Payer, RequestPaymentConfiguration, Tag, Tagging};
use logmend::Logmend;
use logmend::config::S3DataEvents;
use logmend::decision::{Mode, Verdict};
use logmend_integration::{ACCOUNT, AwsClients, Emulator, config_for, create_trail, one, sample_event};
use serde_json::json;

const ACCESS: &str = "s3-access-logging";
const DATA: &str = "s3-data-events";
const LOG_BUCKET: &str = "logmend-access-logs-123456789012-us-east-1";

fn app(emulator: &Emulator, mode: Mode, controls: &[&str]) -> Logmend {
    logmend::app(config_for(mode, controls), emulator.clients("us-east-1"))
}

fn data_events_app(emulator: &Emulator, region: &str, mode: Mode, setting: S3DataEvents) -> Logmend {
    let mut config = config_for(mode, &[DATA]);
    config.s3_data_events = setting;
    logmend::app(config, emulator.clients(region))
}

async fn logging_target(c: &AwsClients, bucket: &str) -> Option<String> {
    let out = c.s3.get_bucket_logging().bucket(bucket).send().await.unwrap();
    out.logging_enabled().map(|l| l.target_bucket().to_owned())
}

async fn log_into(c: &AwsClients, bucket: &str, target: &str) {
    let on = LoggingEnabled::builder().target_bucket(target).target_prefix(format!("{bucket}/")).build().unwrap();
    let status = BucketLoggingStatus::builder().logging_enabled(on).build();
    c.s3.put_bucket_logging().bucket(bucket).bucket_logging_status(status).send().await.unwrap();
}

/// A bucket that receives server access logs, as S3's guide has its owner set it up.
async fn log_target(c: &AwsClients, bucket: &str) {
    c.s3.create_bucket().bucket(bucket).send().await.unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Sid": "S3ServerAccessLogsPolicy", "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": format!("arn:aws:s3:::{bucket}/*"),
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]});
    c.s3.put_bucket_policy().bucket(bucket).policy(policy.to_string()).send().await.unwrap();
}

#[tokio::test]
async fn a_new_bucket_logs_into_logmends_bucket_and_logmends_own_write_ends_compliant() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    c.s3.create_bucket().bucket("app-uploads").send().await.unwrap();
    let app = app(&emulator, Mode::Remediate, &[ACCESS]);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("s3/create-bucket.json")).await;
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
    emulator.assert_calls_declared(ACCESS);
    assert_eq!(logging_target(&c, "app-uploads").await.as_deref(), Some(LOG_BUCKET));
    assert_eq!(logging_target(&c, LOG_BUCKET).await, None, "logmend's bucket does not log");
    emulator.recorder_reset();
    let d = one(&app, &sample_event("s3/put-bucket-logging-off.json")).await;
    assert_eq!(d.verdict, Verdict::Skipped, "org-audit-logs does not exist here: {d:?}");
    let d = one(&app, &sample_event("s3/create-bucket.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn the_sweep_fixes_the_regions_buckets_only_and_audit_writes_nothing() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    for b in ["app-uploads", "app-exports"] {
        c.s3.create_bucket().bucket(b).send().await.unwrap();
    }
    let eu = emulator.clients("eu-west-1");
    let in_eu = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
        .build();
    eu.s3.create_bucket().bucket("eu-reports").create_bucket_configuration(in_eu).send().await.unwrap();
    emulator.recorder_reset();
    let audit = app(&emulator, Mode::Audit, &[ACCESS]).sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(audit.summary.count(Verdict::Noncompliant), 2, "{:?}", audit.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    let fix = app(&emulator, Mode::Remediate, &[ACCESS]).sweep(&[], 1, Some(ACCOUNT), |_| {}).await;
    assert_eq!(fix.summary.count(Verdict::Fixed), 2, "{:?}", fix.summary);
    assert_eq!(logging_target(&eu, "eu-reports").await, None, "eu-west-1's logmend owns that one");
    emulator.recorder_reset();
    let again = app(&emulator, Mode::Remediate, &[ACCESS]).sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(again.summary.count(Verdict::Compliant), 2, "{:?}", again.summary);
    assert_eq!(again.summary.count(Verdict::Skipped), 1, "logmend's own bucket: {:?}", again.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "a second sweep writes nothing");
}

#[tokio::test]
async fn never_a_log_target_into_another_never_an_exempt_bucket_and_self_logging_targets_are_reported() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    log_target(&c, "central-access-logs").await;
    log_target(&c, "loopy-logs").await;
    log_into(&c, "loopy-logs", "loopy-logs").await;
    c.s3.create_bucket().bucket("legal-hold").send().await.unwrap();
    let exempt = Tag::builder().key("logmend:exempt").value("true").build().unwrap();
    c.s3.put_bucket_tagging()
        .bucket("legal-hold")
        .tagging(Tagging::builder().tag_set(exempt).build().unwrap())
        .send()
        .await
        .unwrap();
    emulator.recorder_reset();
    let sweep = app(&emulator, Mode::Remediate, &[ACCESS]).sweep(&[], 1, Some(ACCOUNT), |_| {}).await;
    let by_resource = |name: &str| {
        sweep
            .evaluations
            .iter()
            .map(|e| &e.decision)
            .find(|d| d.resource == format!("arn:aws:s3:::{name}"))
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(by_resource("central-access-logs").verdict, Verdict::Skipped);
    assert!(by_resource("central-access-logs").reason.contains("chain"), "{:?}", by_resource("central-access-logs"));
    assert_eq!(by_resource("legal-hold").verdict, Verdict::Skipped);
    let loopy = by_resource("loopy-logs");
    assert_eq!(loopy.verdict, Verdict::Noncompliant, "{loopy:?}");
    assert!(loopy.reason.contains("into itself"), "{}", loopy.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "nothing is written for any of them");
    assert_eq!(logging_target(&c, "central-access-logs").await, None);
    assert_eq!(logging_target(&c, "loopy-logs").await.as_deref(), Some("loopy-logs"));
}

#[tokio::test]
async fn a_target_s3_cannot_deliver_to_is_reported_and_never_changed() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    for (source, target) in [("app-a", "kms-logs"), ("app-b", "payer-logs"), ("app-c", "locked-logs")] {
        if target == "locked-logs" {
            c.s3.create_bucket().bucket(target).object_lock_enabled_for_bucket(true).send().await.unwrap();
            let policy = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{target}/*")}]});
            c.s3.put_bucket_policy().bucket(target).policy(policy.to_string()).send().await.unwrap();
        } else {
            log_target(&c, target).await;
        }
        c.s3.create_bucket().bucket(source).send().await.unwrap();
        log_into(&c, source, target).await;
    }
    use aws_sdk_s3::types::{
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    let kms = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id("alias/logs")
        .build()
        .unwrap();
    let sse = ServerSideEncryptionConfiguration::builder()
        .rules(ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(kms).build())
        .build()
        .unwrap();
    c.s3.put_bucket_encryption().bucket("kms-logs").server_side_encryption_configuration(sse).send().await.unwrap();
    let requester = RequestPaymentConfiguration::builder().payer(Payer::Requester).build().unwrap();
    c.s3.put_bucket_request_payment()
        .bucket("payer-logs")
        .request_payment_configuration(requester)
        .send()
        .await
        .unwrap();
    emulator.recorder_reset();
    let sweep = app(&emulator, Mode::Remediate, &[ACCESS]).sweep(&[], 1, Some(ACCOUNT), |_| {}).await;
    for (source, refusal) in [("app-a", "SSE-KMS"), ("app-b", "Requester Pays"), ("app-c", "Object Lock")] {
        let d = sweep
            .evaluations
            .iter()
            .map(|e| &e.decision)
            .find(|d| d.resource == format!("arn:aws:s3:::{source}"))
            .unwrap();
        assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
        assert!(d.reason.contains(refusal) && d.reason.contains("its owner must"), "{}", d.reason);
    }
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "someone's choice of target is kept");
}

/// A trail that is logging, as a person sets one up (CreateTrail does not start it).
async fn logging_trail(emulator: &Emulator, c: &AwsClients, name: &str, multi_region: bool) -> String {
    let arn = create_trail(emulator, c, name, multi_region).await;
    c.cloudtrail.start_logging().name(&arn).send().await.unwrap();
    arn
}

async fn selectors(
    c: &AwsClients,
    trail: &str,
) -> aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput {
    c.cloudtrail.get_event_selectors().trail_name(trail).send().await.unwrap()
}

#[tokio::test]
async fn data_events_are_off_by_default_and_decide_nothing() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    logging_trail(&emulator, &c, "org-audit", true).await;
    emulator.recorder_reset();
    let d = one(
        &data_events_app(&emulator, "us-east-1", Mode::Remediate, S3DataEvents::Off),
        &sample_event("cloudtrail/put-event-selectors-read-only.json"),
    )
    .await;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert!(d.reason.contains("billed per event"), "{}", d.reason);
    assert_eq!(emulator.recorded_calls(), Vec::<String>::new(), "not even a read");
}

#[tokio::test]
async fn write_data_events_are_added_beside_the_trails_selectors_and_nothing_writes_twice() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let arn = logging_trail(&emulator, &c, "org-audit", true).await;
    logging_trail(&emulator, &c, "regional", false).await;
    let event = sample_event("cloudtrail/put-event-selectors-read-only.json");
    emulator.recorder_reset();
    let audit = one(&data_events_app(&emulator, "us-east-1", Mode::Audit, S3DataEvents::Write), &event).await;
    assert_eq!(audit.verdict, Verdict::Noncompliant, "{audit:?}");
    assert_eq!(audit.changes.len(), 1);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    let app = data_events_app(&emulator, "us-east-1", Mode::Remediate, S3DataEvents::Write);
    let d = one(&app, &event).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert!(d.reason.contains("write"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), ["cloudtrail:PutEventSelectors"]);
    emulator.assert_calls_declared(DATA);
    let out = selectors(&c, &arn).await;
    assert!(out.advanced_event_selectors().is_empty(), "basic stays basic");
    let basic = out.event_selectors();
    assert_eq!(basic.len(), 2, "{basic:?}");
    assert_eq!(
        (basic[0].read_write_type(), basic[0].include_management_events()),
        (Some(&ReadWriteType::All), Some(true))
    );
    assert_eq!(basic[1].read_write_type(), Some(&ReadWriteType::WriteOnly));
    assert_eq!(basic[1].data_resources()[0].values(), ["arn:aws:s3"]);
    assert!(
        selectors(&c, "regional").await.event_selectors()[0].data_resources().is_empty(),
        "single-region trail untouched"
    );
    // logmend's PutEventSelectors comes back to both trail-selector controls: nothing more.
    emulator.recorder_reset();
    let mut both = config_for(Mode::Remediate, &[DATA, "cloudtrail-logging"]);
    both.s3_data_events = S3DataEvents::Write;
    let out = logmend::app(both, emulator.clients("us-east-1")).handle_event(&event).await.unwrap();
    assert!(out.iter().all(|e| e.decision.verdict == Verdict::Compliant), "{out:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn advanced_selectors_are_merged_and_a_wider_setting_replaces_only_logmends_own() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let arn = logging_trail(&emulator, &c, "org-audit", true).await;
    let field = |f: &str, v: &str| AdvancedFieldSelector::builder().field(f).equals(v).build().unwrap();
    let management = AdvancedEventSelector::builder()
        .name("management")
        .field_selectors(field("eventCategory", "Management"))
        .build()
        .unwrap();
    let lambda = AdvancedEventSelector::builder()
        .name("lambda invocations")
        .field_selectors(field("eventCategory", "Data"))
        .field_selectors(field("resources.type", "AWS::Lambda::Function"))
        .build()
        .unwrap();
    c.cloudtrail
        .put_event_selectors()
        .trail_name(&arn)
        .advanced_event_selectors(management.clone())
        .advanced_event_selectors(lambda.clone())
        .send()
        .await
        .unwrap();
    let event = sample_event("cloudtrail/put-event-selectors-read-only.json");
    let d = one(&data_events_app(&emulator, "us-east-1", Mode::Remediate, S3DataEvents::Write), &event).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    let d = one(&data_events_app(&emulator, "us-east-1", Mode::Remediate, S3DataEvents::All), &event).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    let out = selectors(&c, &arn).await;
    assert!(out.event_selectors().is_empty(), "advanced stays advanced");
    let names: Vec<_> = out.advanced_event_selectors().iter().map(|s| s.name().unwrap_or_default()).collect();
    assert_eq!(names, ["management", "lambda invocations", "S3 data events, every bucket (logmend)"]);
    let own = &out.advanced_event_selectors()[2];
    assert!(own.field_selectors().iter().all(|f| f.field() != "readOnly"), "read and write: {own:?}");
    emulator.recorder_reset();
    let d = one(&data_events_app(&emulator, "us-east-1", Mode::Remediate, S3DataEvents::Read), &event).await;
    assert_eq!(d.verdict, Verdict::Compliant, "all covers read: {d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn single_region_and_exempt_trails_are_never_used_and_another_region_waits_for_the_home_region() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    logging_trail(&emulator, &c, "regional", false).await;
    let event = sample_event("cloudtrail/put-event-selectors-read-only.json");
    emulator.recorder_reset();
    let d = one(&data_events_app(&emulator, "us-east-1", Mode::Remediate, S3DataEvents::Write), &event).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("no multi-region trail"), "{}", d.reason);
    let arn = logging_trail(&emulator, &c, "org-audit", true).await;
    let exempt = aws_sdk_cloudtrail::types::Tag::builder().key("logmend:exempt").value("true").build().unwrap();
    c.cloudtrail.add_tags().resource_id(&arn).tags_list(exempt).send().await.unwrap();
    emulator.recorder_reset();
    let d = one(&data_events_app(&emulator, "us-east-1", Mode::Remediate, S3DataEvents::Write), &event).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("exempt"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    c.cloudtrail
        .remove_tags()
        .resource_id(&arn)
        .tags_list(aws_sdk_cloudtrail::types::Tag::builder().key("logmend:exempt").build().unwrap())
        .send()
        .await
        .unwrap();
    let mut from_eu = event.clone();
    from_eu["region"] = json!("eu-west-1");
    from_eu["detail"]["awsRegion"] = json!("eu-west-1");
    emulator.recorder_reset();
    let d = one(&data_events_app(&emulator, "eu-west-1", Mode::Remediate, S3DataEvents::Write), &from_eu).await;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert!(d.reason.contains("home region us-east-1"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "only the home region writes");
}
