//! `config-recorder` (Config.1) and `guardduty-enabled` (GuardDuty.1) against the emulator,
//! whose launcher makes PutDeliveryChannel check the bucket and its policy and answers
//! DescribeDeliveryChannelStatus from them, as AWS does. One test per path: Config from
//! nothing, a stopped recorder answered with one start, a custom role replaced by the
//! service-linked one, logmend's log bucket policy merged with others' statements kept, a
//! channel into someone's bucket that fails reported and never re-pointed, audit; GuardDuty
//! created, re-enabled, plans added with others' kept, exempt skipped, audit.

use aws_sdk_config::types::{ConfigurationRecorder, DeliveryChannel, RecordingGroup};
use aws_sdk_guardduty::types::{DetectorFeature, DetectorFeatureConfiguration, DetectorStatus, FeatureStatus};
use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend_integration::{ACCOUNT, AwsClients, Emulator, config_for, one, sample_event};
use serde_json::{Value, json};

const CONFIG: &str = "config-recorder";
const GUARDDUTY: &str = "guardduty-enabled";
const LOG_BUCKET: &str = "logmend-access-logs-123456789012-us-east-1";
const SLR: &str = "arn:aws:iam::123456789012:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig";

fn app_with(emulator: &Emulator, control: &str, mode: Mode, edit: impl FnOnce(&mut logmend::Config)) -> Logmend {
    let mut config = config_for(mode, &[control]);
    edit(&mut config);
    logmend::app(config, emulator.clients("us-east-1"))
}

fn app(emulator: &Emulator, control: &str, mode: Mode) -> Logmend {
    app_with(emulator, control, mode, |_| {})
}

async fn recorder(c: &AwsClients) -> ConfigurationRecorder {
    let out = c.config.describe_configuration_recorders().send().await.unwrap();
    out.configuration_recorders()[0].clone()
}

async fn recording(c: &AwsClients) -> bool {
    let out = c.config.describe_configuration_recorder_status().send().await.unwrap();
    out.configuration_recorders_status()[0].recording()
}

async fn channel(c: &AwsClients) -> DeliveryChannel {
    c.config.describe_delivery_channels().send().await.unwrap().delivery_channels()[0].clone()
}

async fn policy(c: &AwsClients, bucket: &str) -> Value {
    let out = c.s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
    serde_json::from_str(out.policy().unwrap()).unwrap()
}

fn sids(policy: &Value) -> Vec<String> {
    let mut sids: Vec<String> =
        policy["Statement"].as_array().unwrap().iter().filter_map(|s| s["Sid"].as_str().map(str::to_owned)).collect();
    sids.sort();
    sids
}

/// A recorder someone made: a role of theirs, some types only, and a channel into `bucket`.
async fn someones_config(c: &AwsClients, bucket: &str, all_supported: bool) -> String {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "config.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role = c.iam.create_role().role_name("config-role").assume_role_policy_document(trust.to_string()).send().await;
    let role = role.unwrap().role().unwrap().arn().to_owned();
    let group = if all_supported {
        RecordingGroup::builder().all_supported(true).include_global_resource_types(true).build()
    } else {
        RecordingGroup::builder()
            .all_supported(false)
            .include_global_resource_types(false)
            .resource_types(aws_sdk_config::types::ResourceType::Bucket)
            .build()
    };
    let recorder = ConfigurationRecorder::builder().name("default").role_arn(&role).recording_group(group).build();
    c.config.put_configuration_recorder().configuration_recorder(recorder).send().await.unwrap();
    let channel = DeliveryChannel::builder().name("default").s3_bucket_name(bucket).build();
    c.config.put_delivery_channel().delivery_channel(channel).send().await.unwrap();
    role
}

/// A bucket Config may write to at its root, as the Config guide's policy gives it.
async fn config_bucket(c: &AwsClients, bucket: &str) {
    c.s3.create_bucket().bucket(bucket).send().await.unwrap();
    config_bucket_policy(c, bucket).await;
}

async fn config_bucket_policy(c: &AwsClients, bucket: &str) {
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "ConfigCheck", "Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": format!("arn:aws:s3:::{bucket}")},
        {"Sid": "ConfigWrite", "Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/123456789012/Config/*"),
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]});
    c.s3.put_bucket_policy().bucket(bucket).policy(policy.to_string()).send().await.unwrap();
}

#[tokio::test]
async fn config_from_nothing_records_everything_into_the_log_bucket_and_a_second_run_writes_nothing() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let app = app(&emulator, CONFIG, Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("config/stop-configuration-recorder.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert!(d.reason.contains("no configuration recorder"), "{}", d.reason);
    assert_eq!(
        emulator.mutating_calls(),
        [
            "iam:CreateServiceLinkedRole",
            "config:PutConfigurationRecorder",
            "s3:CreateBucket",
            "s3:PutBucketPublicAccessBlock",
            "s3:PutEncryptionConfiguration",
            "s3:PutBucketTagging",
            "s3:PutBucketPolicy",
            "config:PutDeliveryChannel",
            "config:StartConfigurationRecorder",
        ]
    );
    emulator.assert_calls_declared(CONFIG);
    let r = recorder(&c).await;
    assert_eq!(r.role_arn(), Some(SLR));
    let group = r.recording_group().unwrap();
    assert!(group.all_supported() && group.include_global_resource_types(), "{group:?}");
    assert!(recording(&c).await);
    let ch = channel(&c).await;
    assert_eq!((ch.s3_bucket_name(), ch.s3_key_prefix()), (Some(LOG_BUCKET), Some("config")));
    assert_eq!(
        sids(&policy(&c, LOG_BUCKET).await),
        ["LogmendConfigBucketCheck", "LogmendConfigDelivery", "LogmendDenyInsecureTransport"]
    );
    let status = c.config.describe_delivery_channel_status().send().await.unwrap();
    let history = status.delivery_channels_status()[0].config_history_delivery_info().unwrap();
    assert_eq!(history.last_status(), Some(&aws_sdk_config::types::DeliveryStatus::Success), "the logs arrive");

    // logmend's own writes come back as events: compliant, no write.
    emulator.recorder_reset();
    let d = one(&app, &sample_event("config/delete-delivery-channel.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_stopped_recorder_is_started_and_nothing_else_is_written() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let app = app(&emulator, CONFIG, Mode::Remediate);
    one(&app, &sample_event("config/stop-configuration-recorder.json")).await;
    c.config.stop_configuration_recorder().configuration_recorder_name("default").send().await.unwrap();
    assert!(!recording(&c).await);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("config/stop-configuration-recorder.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.reason, "AWS Config in us-east-1 was fixed: the recorder is stopped");
    assert_eq!(emulator.mutating_calls(), ["config:StartConfigurationRecorder"]);
    assert!(recording(&c).await);
}

#[tokio::test]
async fn a_deleted_channel_is_put_back_and_others_statements_on_the_log_bucket_are_kept() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    // The log bucket exists (another control made it) with a statement someone added.
    c.s3.create_bucket().bucket(LOG_BUCKET).send().await.unwrap();
    let theirs = json!({"Version": "2012-10-17", "Statement": [{"Sid": "AuditorsRead", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{LOG_BUCKET}/*")}]});
    c.s3.put_bucket_policy().bucket(LOG_BUCKET).policy(theirs.to_string()).send().await.unwrap();
    let app = app(&emulator, CONFIG, Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("config/delete-delivery-channel.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert!(!emulator.mutating_calls().contains(&"s3:CreateBucket".to_owned()), "{:?}", emulator.mutating_calls());
    assert_eq!(
        sids(&policy(&c, LOG_BUCKET).await),
        ["AuditorsRead", "LogmendConfigBucketCheck", "LogmendConfigDelivery", "LogmendDenyInsecureTransport"]
    );
    assert_eq!(channel(&c).await.s3_bucket_name(), Some(LOG_BUCKET));
}

#[tokio::test]
async fn a_custom_role_and_partial_recording_become_the_service_linked_role_and_all_types() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    config_bucket(&c, "team-config").await;
    someones_config(&c, "team-config", false).await;
    c.config.start_configuration_recorder().configuration_recorder_name("default").send().await.unwrap();
    let app = app(&emulator, CONFIG, Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("config/stop-configuration-recorder.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert!(d.reason.contains("instead of the service-linked role"), "{}", d.reason);
    assert!(d.reason.contains("does not record every supported resource type"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), ["iam:CreateServiceLinkedRole", "config:PutConfigurationRecorder"]);
    let r = recorder(&c).await;
    assert_eq!(r.role_arn(), Some(SLR));
    assert!(r.recording_group().unwrap().all_supported());
    assert_eq!(channel(&c).await.s3_bucket_name(), Some("team-config"), "a working channel of theirs is kept");
    // The customer's own role is still there, untouched.
    c.iam.get_role().role_name("config-role").send().await.unwrap();
    emulator.recorder_reset();
    let d = one(&app, &sample_event("config/stop-configuration-recorder.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_channel_into_someones_bucket_that_fails_is_reported_and_never_repointed() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    config_bucket(&c, "team-config").await;
    let role = someones_config(&c, "team-config", true).await;
    c.config.start_configuration_recorder().configuration_recorder_name("default").send().await.unwrap();
    // The team takes Config's statements away: deliveries now fail.
    c.s3.delete_bucket_policy().bucket("team-config").send().await.unwrap();
    let app = app(&emulator, CONFIG, Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("config/stop-configuration-recorder.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("instead of the service-linked role"), "{}", d.reason);
    assert!(d.reason.contains("delivery to team-config fails (AccessDenied"), "{}", d.reason);
    assert!(d.reason.contains("its owner must let Config write"), "{}", d.reason);
    assert!(d.reason.contains("nothing is changed until deliveries succeed"), "{}", d.reason);
    assert!(d.changes.is_empty(), "{:?}", d.changes);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "not re-pointed, and no half-fix of the recorder");
    assert_eq!(channel(&c).await.s3_bucket_name(), Some("team-config"));
    assert_eq!(recorder(&c).await.role_arn(), Some(role.as_str()));
    // The team puts Config's statements back: now the recorder is logmend's to fix.
    config_bucket_policy(&c, "team-config").await;
    emulator.recorder_reset();
    let d = one(&app, &sample_event("config/stop-configuration-recorder.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(emulator.mutating_calls(), ["iam:CreateServiceLinkedRole", "config:PutConfigurationRecorder"]);
    assert_eq!(channel(&c).await.s3_bucket_name(), Some("team-config"), "their channel is kept");
}

#[tokio::test]
async fn config_audit_writes_nothing_and_global_types_are_left_to_their_region() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    emulator.recorder_reset();
    let audit = app(&emulator, CONFIG, Mode::Audit).sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(audit.summary.count(Verdict::Noncompliant), 1, "{:?}", audit.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    // With global types recorded in another region, us-east-1 records the rest without them.
    let elsewhere = |c: &mut logmend::Config| c.config_global_region = "eu-west-1".into();
    let fix = app_with(&emulator, CONFIG, Mode::Remediate, elsewhere).sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(fix.summary.count(Verdict::Fixed), 1, "{:?}", fix.summary);
    let group = recorder(&c).await.recording_group().unwrap().clone();
    assert!(group.all_supported() && !group.include_global_resource_types(), "{group:?}");
    emulator.recorder_reset();
    let again = app_with(&emulator, CONFIG, Mode::Remediate, elsewhere).sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(again.summary.count(Verdict::Compliant), 1, "{:?}", again.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

async fn detector(c: &AwsClients) -> aws_sdk_guardduty::operation::get_detector::GetDetectorOutput {
    let ids = c.guardduty.list_detectors().send().await.unwrap();
    assert_eq!(ids.detector_ids().len(), 1, "one detector per region");
    c.guardduty.get_detector().detector_id(&ids.detector_ids()[0]).send().await.unwrap()
}

fn plans(d: &aws_sdk_guardduty::operation::get_detector::GetDetectorOutput) -> Vec<String> {
    let mut on: Vec<String> = d
        .features()
        .iter()
        .filter(|f| f.status() == Some(&FeatureStatus::Enabled))
        .filter_map(|f| f.name().map(|n| n.as_str().to_owned()))
        .collect();
    on.sort();
    on
}

#[tokio::test]
async fn a_deleted_detector_is_created_and_a_second_run_writes_nothing() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let app = app(&emulator, GUARDDUTY, Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("guardduty/delete-detector.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(emulator.mutating_calls(), ["guardduty:CreateDetector"]);
    emulator.assert_calls_declared(GUARDDUTY);
    let got = detector(&c).await;
    assert_eq!(got.status(), Some(&DetectorStatus::Enabled));
    assert_eq!(got.tags().and_then(|t| t.get("managed-by")).map(String::as_str), Some("logmend"));
    assert_eq!(plans(&got), Vec::<String>::new(), "no paid plan unless the setting names it");
    emulator.recorder_reset();
    let d = one(&app, &sample_event("guardduty/update-detector-disable.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_disabled_detector_is_enabled_and_the_settings_plans_added_with_others_kept() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let theirs = DetectorFeatureConfiguration::builder()
        .name(DetectorFeature::S3DataEvents)
        .status(FeatureStatus::Enabled)
        .build();
    let id = c.guardduty.create_detector().enable(false).features(theirs).send().await.unwrap();
    let id = id.detector_id().unwrap().to_owned();
    let with_plans = |c: &mut logmend::Config| c.guardduty_features = vec!["RUNTIME_MONITORING".into()];
    let event = sample_event("guardduty/update-detector-disable.json");
    let audit = one(&app_with(&emulator, GUARDDUTY, Mode::Audit, with_plans), &event).await;
    assert_eq!(audit.verdict, Verdict::Noncompliant, "{audit:?}");
    assert!(audit.reason.contains(&format!("detector {id} is disabled")), "{}", audit.reason);
    assert!(audit.reason.contains("protection plans RUNTIME_MONITORING are off"), "{}", audit.reason);
    let app = app_with(&emulator, GUARDDUTY, Mode::Remediate, with_plans);
    emulator.recorder_reset();
    let d = one(&app, &event).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(emulator.mutating_calls(), ["guardduty:UpdateDetector"]);
    emulator.assert_calls_declared(GUARDDUTY);
    let got = detector(&c).await;
    assert_eq!(got.status(), Some(&DetectorStatus::Enabled));
    assert_eq!(plans(&got), ["RUNTIME_MONITORING", "S3_DATA_EVENTS"]);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("guardduty/update-detector-disable.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn guardduty_audit_writes_nothing_and_an_exempt_detector_is_skipped() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    emulator.recorder_reset();
    let audit = app(&emulator, GUARDDUTY, Mode::Audit).sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(audit.summary.count(Verdict::Noncompliant), 1, "{:?}", audit.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    c.guardduty.create_detector().enable(false).tags("logmend:exempt", "true").send().await.unwrap();
    emulator.recorder_reset();
    let fix = app(&emulator, GUARDDUTY, Mode::Remediate).sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(fix.summary.count(Verdict::Skipped), 1, "{:?}", fix.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    assert_eq!(detector(&c).await.status(), Some(&DetectorStatus::Disabled), "exempt: untouched");
}

#[tokio::test]
async fn a_deleted_log_bucket_under_logmends_channel_is_made_again() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let app = app(&emulator, CONFIG, Mode::Remediate);
    one(&app, &sample_event("config/stop-configuration-recorder.json")).await;
    c.s3.delete_bucket_policy().bucket(LOG_BUCKET).send().await.unwrap();
    c.s3.delete_bucket().bucket(LOG_BUCKET).send().await.unwrap();
    emulator.recorder_reset();
    let d = one(&app, &sample_event("config/delete-delivery-channel.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    let calls = emulator.mutating_calls();
    assert!(calls.starts_with(&["s3:CreateBucket".to_owned()]), "{calls:?}");
    assert!(calls.contains(&"s3:PutBucketPolicy".to_owned()), "{calls:?}");
    assert!(!calls.contains(&"config:PutDeliveryChannel".to_owned()), "the channel is kept: {calls:?}");
    let status = c.config.describe_delivery_channel_status().send().await.unwrap();
    let history = status.delivery_channels_status()[0].config_history_delivery_info().unwrap();
    assert_eq!(history.last_status(), Some(&aws_sdk_config::types::DeliveryStatus::Success));
}
