//! `session-manager-logging` against the emulator: Session Manager's preferences document
//! `SSM-SessionManagerRunShell` made or updated (as its default version) to send sessions to a
//! log group that exists, encrypted with the setting's key. One test per path: from nothing;
//! the console's defaults with someone's other inputs kept; a KMS key; someone's group kept,
//! or reported when it is missing; the default moved back to an old version; another
//! document's event; audit.

use aws_sdk_ssm::types::{DocumentFormat, DocumentType};
use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend_integration::{ACCOUNT, AwsClients, Emulator, config_for, one, sample_event};
use serde_json::{Value, json};

const CONTROL: &str = "session-manager-logging";
const DOC: &str = "SSM-SessionManagerRunShell";
const GROUP: &str = "/aws/ssm/sessions";

fn app_with(emulator: &Emulator, mode: Mode, edit: impl FnOnce(&mut logmend::Config)) -> Logmend {
    let mut config = config_for(mode, &[CONTROL]);
    edit(&mut config);
    logmend::app(config, emulator.clients("us-east-1"))
}

fn app(emulator: &Emulator, mode: Mode) -> Logmend {
    app_with(emulator, mode, |_| {})
}

/// The default version's inputs and version number.
async fn preferences(c: &AwsClients) -> (Value, String) {
    let d = c.ssm.get_document().name(DOC).document_format(DocumentFormat::Json).send().await.unwrap();
    let content: Value = serde_json::from_str(d.content().unwrap()).unwrap();
    (content["inputs"].clone(), d.document_version().unwrap().to_owned())
}

/// Preferences as the console first writes them: encryption asked for, no group.
async fn console_defaults(c: &AwsClients, group: &str) {
    let content = json!({"schemaVersion": "1.0", "description": "Document to hold regional settings for Session Manager",
        "sessionType": "Standard_Stream", "inputs": {"s3BucketName": "ops-sessions", "s3KeyPrefix": "", "s3EncryptionEnabled": true,
        "cloudWatchLogGroupName": group, "cloudWatchEncryptionEnabled": true, "cloudWatchStreamingEnabled": true,
        "kmsKeyId": "", "runAsEnabled": true, "runAsDefaultUser": "ops", "idleSessionTimeout": "15"}});
    c.ssm
        .create_document()
        .name(DOC)
        .content(content.to_string())
        .document_type(DocumentType::Session)
        .document_format(DocumentFormat::Json)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn from_nothing_the_group_and_the_preferences_are_made_and_a_second_run_writes_nothing() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let app = app(&emulator, Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("ssm/update-document-default-version.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(emulator.mutating_calls(), ["logs:CreateLogGroup", "logs:PutRetentionPolicy", "ssm:CreateDocument"]);
    emulator.assert_calls_declared(CONTROL);
    let (inputs, _) = preferences(&c).await;
    assert_eq!(inputs["cloudWatchLogGroupName"], GROUP);
    assert_eq!(inputs["cloudWatchEncryptionEnabled"], false, "a group without a key: encryption not asked for");
    let groups = c.logs.describe_log_groups().log_group_name_prefix(GROUP).send().await.unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(365));
    emulator.recorder_reset();
    let d = one(&app, &sample_event("ssm/update-document.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn the_consoles_defaults_get_the_group_as_a_new_default_version_and_other_inputs_are_kept() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    console_defaults(&c, "").await;
    let app = app(&emulator, Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("ssm/update-document.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(
        emulator.mutating_calls(),
        ["logs:CreateLogGroup", "logs:PutRetentionPolicy", "ssm:UpdateDocument", "ssm:UpdateDocumentDefaultVersion"]
    );
    let (inputs, version) = preferences(&c).await;
    assert_eq!(version, "2", "the new version is the default");
    assert_eq!(inputs["cloudWatchLogGroupName"], GROUP);
    assert_eq!(inputs["cloudWatchEncryptionEnabled"], false, "else sessions into a plain group would be refused");
    assert_eq!((&inputs["s3BucketName"], &inputs["runAsDefaultUser"]), (&json!("ops-sessions"), &json!("ops")));
    assert_eq!(inputs["idleSessionTimeout"], "15");
    emulator.recorder_reset();
    let d = one(&app, &sample_event("ssm/update-document.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());

    // Someone moves the default back to version 1: version 2 holds the fix, and is made default.
    c.ssm.update_document_default_version().name(DOC).document_version("1").send().await.unwrap();
    emulator.recorder_reset();
    let d = one(&app, &sample_event("ssm/update-document-default-version.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(emulator.mutating_calls(), ["ssm:UpdateDocument", "ssm:UpdateDocumentDefaultVersion"]);
    assert_eq!(preferences(&c).await.1, "2", "no third version with the same content");
}

#[tokio::test]
async fn with_a_key_the_group_is_encrypted_and_the_preferences_ask_for_it() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let key = c.kms.create_key().send().await.unwrap().key_metadata().unwrap().arn().unwrap().to_owned();
    console_defaults(&c, "").await;
    let app = app_with(&emulator, Mode::Remediate, |c| c.session_log_kms_key = Some(key.clone()));
    let d = one(&app, &sample_event("ssm/update-document.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    let groups = c.logs.describe_log_groups().log_group_name_prefix(GROUP).send().await.unwrap();
    assert_eq!(groups.log_groups()[0].kms_key_id(), Some(key.as_str()));
    assert_eq!(preferences(&c).await.0["cloudWatchEncryptionEnabled"], true);
    let d = one(&app, &sample_event("ssm/update-document.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
}

#[tokio::test]
async fn someones_group_is_kept_when_it_works_and_reported_when_it_does_not() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    console_defaults(&c, "/security/sessions").await;
    let app = app(&emulator, Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("ssm/update-document.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("sessions go to /security/sessions, which does not exist"), "{}", d.reason);
    assert!(d.reason.contains("its owner must fix it"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "not re-pointed, not created");
    // Their group exists but has no key while the preferences ask for encryption.
    c.logs.create_log_group().log_group_name("/security/sessions").send().await.unwrap();
    let d = one(&app, &sample_event("ssm/update-document.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("has no KMS key, so Session Manager refuses sessions"), "{}", d.reason);
    let key = c.kms.create_key().send().await.unwrap().key_metadata().unwrap().arn().unwrap().to_owned();
    c.logs.associate_kms_key().log_group_name("/security/sessions").kms_key_id(&key).send().await.unwrap();
    emulator.recorder_reset();
    let d = one(&app, &sample_event("ssm/update-document.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(d.reason, "sessions are logged to /security/sessions");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn another_documents_event_is_skipped_and_audit_writes_nothing() {
    let emulator = Emulator::start();
    let d = one(&app(&emulator, Mode::Remediate), &sample_event("ssm/update-other-document.json")).await;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    emulator.recorder_reset();
    let audit = app(&emulator, Mode::Audit).sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(audit.summary.count(Verdict::Noncompliant), 1, "{:?}", audit.summary);
    assert!(audit.evaluations[0].decision.reason.contains("no SSM-SessionManagerRunShell"), "{:?}", audit.evaluations);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    let mut bad = sample_event("ssm/update-document.json");
    bad["detail"]["requestParameters"] = json!({});
    let err = app(&emulator, Mode::Audit).handle_event(&bad).await.unwrap_err();
    assert!(err.to_string().contains("detail.requestParameters.name"), "{err}");
}

#[tokio::test]
async fn a_key_set_later_is_associated_with_logmends_group_and_the_preferences_follow() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    one(&app(&emulator, Mode::Remediate), &sample_event("ssm/update-document.json")).await;
    assert_eq!(preferences(&c).await.0["cloudWatchEncryptionEnabled"], false);
    let key = c.kms.create_key().send().await.unwrap().key_metadata().unwrap().arn().unwrap().to_owned();
    let app = app_with(&emulator, Mode::Remediate, |c| c.session_log_kms_key = Some(key.clone()));
    emulator.recorder_reset();
    let d = one(&app, &sample_event("ssm/update-document.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(
        emulator.mutating_calls(),
        ["logs:AssociateKmsKey", "ssm:UpdateDocument", "ssm:UpdateDocumentDefaultVersion"]
    );
    emulator.assert_calls_declared(CONTROL);
    assert_eq!(preferences(&c).await.0["cloudWatchEncryptionEnabled"], true);
    emulator.recorder_reset();
    assert_eq!(one(&app, &sample_event("ssm/update-document.json")).await.verdict, Verdict::Compliant);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}
