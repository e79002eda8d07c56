//! `cloudtrail-encryption` (CloudTrail.2) against the emulator (its UpdateTrail checks the key
//! as AWS does), one test per path: an unencrypted trail reported when no key is configured; a
//! key whose policy lacks CloudTrail's statements reported with them, and no key policy written;
//! a trail encrypted with a right key and logmend's UpdateTrail ending compliant; DisableKey and
//! ScheduleKeyDeletion of a trail's key found at once; PutKeyPolicy that fixes the configured
//! key's policy encrypting the waiting trails; audit mode writing nothing.

use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend_integration::{AwsClients, Emulator, config_for, create_trail, sample_event};
use serde_json::{Value, json};

const CONTROL: &str = "cloudtrail-encryption";
const TRAIL: &str = "org-audit";
const TRAIL_ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-audit";

fn app(emulator: &Emulator, mode: Mode, key: Option<&str>) -> Logmend {
    let mut config = config_for(mode, &[CONTROL]);
    config.trail_kms_key = key.map(str::to_owned);
    logmend::app(config, emulator.clients("us-east-1"))
}

fn root_statement() -> Value {
    json!({"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"})
}

/// A key under `alias`, its policy the root statement and, when `for_cloudtrail`, the CloudTrail
/// guide's two statements. Its ARN.
async fn create_key(c: &AwsClients, alias: &str, for_cloudtrail: bool) -> String {
    let mut statements = vec![root_statement()];
    if for_cloudtrail {
        statements.extend(logmend::cloudtrail::cloudtrail_encryption::statements_for(TRAIL_ARN, "aws", "123456789012"));
    }
    let policy = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    let key = c.kms.create_key().policy(policy).send().await.unwrap();
    let arn = key.key_metadata().unwrap().arn().unwrap().to_owned();
    c.kms.create_alias().alias_name(alias).target_key_id(&arn).send().await.unwrap();
    arn
}

async fn trail_key(c: &AwsClients) -> Option<String> {
    c.cloudtrail.get_trail().name(TRAIL).send().await.unwrap().trail().unwrap().kms_key_id().map(str::to_owned)
}

fn key_event(rel: &str, key: &str) -> Value {
    let mut e = sample_event(rel);
    e["detail"]["requestParameters"]["keyId"] = json!(key);
    e
}

async fn decisions(app: &Logmend, event: &Value) -> Vec<logmend::Decision> {
    app.handle_event(event).await.unwrap().into_iter().map(|e| e.decision).collect()
}

#[tokio::test]
async fn an_unencrypted_trail_is_reported_until_a_key_is_configured() {
    let emulator = Emulator::start();
    create_trail(&emulator, &emulator.clients("us-east-1"), TRAIL, true).await;
    emulator.recorder_reset();
    let d = decisions(&app(&emulator, Mode::Remediate, None), &sample_event("cloudtrail/create-trail.json")).await;
    assert_eq!(d[0].verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d[0].reason.contains("not encrypted") && d[0].reason.contains("LOGMEND_TRAIL_KMS_KEY"), "{}", d[0].reason);
    assert!(d[0].changes.is_empty());
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_key_without_cloudtrails_statements_is_reported_with_them_and_its_policy_is_never_written() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    let key = create_key(&c, "alias/cloudtrail", false).await;
    emulator.recorder_reset();
    let d = decisions(
        &app(&emulator, Mode::Remediate, Some("alias/cloudtrail")),
        &sample_event("cloudtrail/create-trail.json"),
    )
    .await;
    assert_eq!(d[0].verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d[0].reason.contains(&format!("add to the key policy of {key}")), "{}", d[0].reason);
    assert!(
        d[0].reason.contains("kms:GenerateDataKey*")
            && d[0].reason.contains("kms:EncryptionContext:aws:cloudtrail:arn")
    );
    assert!(d[0].reason.contains("kms:DescribeKey"));
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "no PutKeyPolicy, no UpdateTrail");
    emulator.assert_calls_declared(CONTROL);
    // AWS refuses that key too (the emulator checks it as CloudTrail does).
    let refused = c.cloudtrail.update_trail().name(TRAIL).kms_key_id(&key).send().await.unwrap_err();
    assert_eq!(refused.into_service_error().meta().code(), Some("InsufficientEncryptionPolicyException"));
}

#[tokio::test]
async fn a_trail_gets_the_configured_key_and_logmends_update_trail_ends_compliant() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    let key = create_key(&c, "alias/cloudtrail", true).await;
    let fixer = app(&emulator, Mode::Remediate, Some("alias/cloudtrail"));
    emulator.recorder_reset();
    let d = decisions(&fixer, &sample_event("cloudtrail/create-trail.json")).await;
    assert_eq!(d[0].verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d[0].changes[0].detail, format!("KmsKeyId={key}"));
    assert_eq!(emulator.mutating_calls(), ["cloudtrail:UpdateTrail"]);
    emulator.assert_calls_declared(CONTROL);
    assert_eq!(trail_key(&c).await.as_deref(), Some(key.as_str()));
    emulator.recorder_reset();
    let d = decisions(&fixer, &sample_event("cloudtrail/update-trail-with-cloudwatch.json")).await;
    assert_eq!(d[0].verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    // Audit mode on a second trail: reported with the change it would make, nothing written.
    create_trail(&emulator, &c, "second", false).await;
    emulator.recorder_reset();
    let report = app(&emulator, Mode::Audit, Some("alias/cloudtrail")).sweep(&[], 4, None, |_| {}).await;
    assert_eq!(report.summary.count(Verdict::Noncompliant), 1, "{:?}", report.summary);
    assert_eq!(report.summary.count(Verdict::Compliant), 1, "{:?}", report.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn disabling_or_scheduling_the_deletion_of_a_trails_key_is_found_at_once() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    let key = create_key(&c, "alias/trail-key", true).await;
    c.cloudtrail.update_trail().name(TRAIL).kms_key_id(&key).send().await.unwrap();
    c.kms.disable_key().key_id(&key).send().await.unwrap();
    let d = decisions(&app(&emulator, Mode::Remediate, None), &key_event("kms/disable-key.json", &key)).await;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].verdict, d[0].resource.as_str()), (Verdict::Noncompliant, TRAIL_ARN), "{d:?}");
    assert!(d[0].reason.contains("is Disabled: CloudTrail cannot encrypt"), "{}", d[0].reason);
    // With another usable key configured, the trail moves to it.
    let spare = create_key(&c, "alias/cloudtrail", true).await;
    let id = key.rsplit('/').next().unwrap();
    c.kms.enable_key().key_id(&key).send().await.unwrap();
    c.kms.schedule_key_deletion().key_id(&key).pending_window_in_days(7).send().await.unwrap();
    emulator.recorder_reset();
    let d = decisions(
        &app(&emulator, Mode::Remediate, Some("alias/cloudtrail")),
        &key_event("kms/schedule-key-deletion.json", id),
    )
    .await;
    assert_eq!(d[0].verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(trail_key(&c).await.as_deref(), Some(spare.as_str()));
    // A key no trail uses: its events decide nothing.
    let unused = create_key(&c, "alias/unused", false).await;
    assert!(
        decisions(&app(&emulator, Mode::Remediate, None), &key_event("kms/disable-key.json", &unused)).await.is_empty()
    );
}

#[tokio::test]
async fn put_key_policy_that_lets_cloudtrail_in_encrypts_the_waiting_trails() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    let key = create_key(&c, "alias/cloudtrail", false).await;
    let app = app(&emulator, Mode::Remediate, Some("alias/cloudtrail"));
    assert_eq!(decisions(&app, &sample_event("cloudtrail/create-trail.json")).await[0].verdict, Verdict::Noncompliant);
    let mut statements = vec![root_statement()];
    statements.extend(logmend::cloudtrail::cloudtrail_encryption::statements_for(TRAIL_ARN, "aws", "123456789012"));
    let policy = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    c.kms.put_key_policy().key_id(&key).policy_name("default").policy(policy).send().await.unwrap();
    let d = decisions(&app, &key_event("kms/put-key-policy.json", &key)).await;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(trail_key(&c).await.as_deref(), Some(key.as_str()));
}
