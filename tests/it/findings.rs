//! Security Hub findings and notifications against the emulator's Security Hub, patched to
//! check what AWS checks (the hub enabled, 100 a batch, the account's own product, a later
//! UpdatedAt). One test per path the issue names: a finding created FAILED, the same Id
//! updated to PASSED after the fix, archived when the resource is gone or exempt; 250 findings
//! in three batches; FailedFindings retried, and reported (never dropped) when they stay failed.

use aws_sdk_securityhub::types::AwsSecurityFinding;
use logmend::decision::Mode;
use logmend::{Config, Logmend};
use logmend_integration::{ACCOUNT, AwsClients, Emulator, FUNCTION_ARN, config_for, sample_event};
use serde_json::{Value, json};

const CONTROL: &str = "log-group-retention";

fn function(mode: Mode, c: &AwsClients, tweak: impl FnOnce(&mut Config)) -> Logmend {
    let mut cfg = config_for(mode, &[CONTROL]);
    cfg.security_hub = true;
    tweak(&mut cfg);
    Logmend::new(cfg, logmend::logs::FAMILY.controls.iter().copied(), c.clone().into())
}

fn create_event(name: &str) -> Value {
    let mut e = sample_event("logs/create-log-group.json");
    e["detail"]["requestParameters"]["logGroupName"] = json!(name);
    e
}

async fn findings(c: &AwsClients) -> Vec<AwsSecurityFinding> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = c.securityhub.get_findings().set_next_token(token).send().await.unwrap();
        out.extend(page.findings().iter().cloned());
        token = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
        if token.is_none() {
            return out;
        }
    }
}

fn status(f: &AwsSecurityFinding) -> (&str, &str) {
    (
        f.compliance().and_then(|c| c.status()).map(|s| s.as_str()).unwrap_or_default(),
        f.record_state().map(|s| s.as_str()).unwrap_or_default(),
    )
}

/// GIVEN Security Hub on and a log group that never expires; WHEN the audit function sees it,
/// then the remediating one, then it is deleted; THEN one finding, on the account's own product,
/// goes FAILED, then PASSED (the same Id, a later UpdatedAt), then ARCHIVED.
#[tokio::test]
async fn a_finding_goes_failed_then_passed_then_archived_under_one_id() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    c.securityhub.enable_security_hub().send().await.unwrap();
    c.logs.create_log_group().log_group_name("/app/payments").send().await.unwrap();
    let event = create_event("/app/payments");

    function(Mode::Audit, &c, |_| ()).lambda_handler(event.clone(), FUNCTION_ARN).await.unwrap();
    let all = findings(&c).await;
    assert_eq!(all.len(), 1);
    let f = &all[0];
    let id = "logmend/log-group-retention/arn:aws:logs:us-east-1:123456789012:log-group:/app/payments";
    assert_eq!(f.id(), Some(id));
    assert_eq!(status(f), ("FAILED", "ACTIVE"));
    assert_eq!(f.product_arn(), Some("arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"));
    assert_eq!(f.generator_id(), Some("logmend/log-group-retention"));
    assert_eq!(f.aws_account_id(), Some(ACCOUNT));
    assert_eq!(f.severity().and_then(|s| s.label()).map(|l| l.as_str()), Some("MEDIUM"));
    let compliance = f.compliance().unwrap();
    assert_eq!(compliance.security_control_id(), Some("CloudWatch.16"));
    assert_eq!(compliance.related_requirements(), ["CloudWatch.16"]);
    assert_eq!(f.resources()[0].id(), Some("arn:aws:logs:us-east-1:123456789012:log-group:/app/payments"));
    let first_update = f.updated_at().unwrap().to_owned();

    function(Mode::Remediate, &c, |_| ()).lambda_handler(event.clone(), FUNCTION_ARN).await.unwrap();
    let all = findings(&c).await;
    assert_eq!(all.len(), 1, "updated in place, not a second finding");
    assert_eq!(status(&all[0]), ("PASSED", "ACTIVE"));
    assert!(all[0].updated_at().unwrap() > first_update.as_str());

    c.logs.delete_log_group().log_group_name("/app/payments").send().await.unwrap();
    function(Mode::Remediate, &c, |_| ()).lambda_handler(event, FUNCTION_ARN).await.unwrap();
    let all = findings(&c).await;
    assert_eq!(all.len(), 1);
    assert_eq!(status(&all[0]), ("PASSED", "ARCHIVED"), "a gone resource's finding is archived");
}

/// An exempt resource's finding is archived, and with Security Hub off no call is made.
#[tokio::test]
async fn exempt_resources_are_archived_and_off_means_no_call() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    c.securityhub.enable_security_hub().send().await.unwrap();
    c.logs.create_log_group().log_group_name("/app/exempt").tags("logmend:exempt", "true").send().await.unwrap();
    function(Mode::Remediate, &c, |_| ()).lambda_handler(create_event("/app/exempt"), FUNCTION_ARN).await.unwrap();
    let all = findings(&c).await;
    assert_eq!(status(&all[0]), ("PASSED", "ARCHIVED"));

    emulator.recorder_reset();
    c.logs.create_log_group().log_group_name("/app/quiet").send().await.unwrap();
    function(Mode::Remediate, &c, |cfg| cfg.security_hub = false)
        .lambda_handler(create_event("/app/quiet"), FUNCTION_ARN)
        .await
        .unwrap();
    assert!(!emulator.recorded_calls().iter().any(|call| call.starts_with("securityhub:")));
}

/// GIVEN 250 noncompliant log groups; WHEN a scan sends its findings (as `logmend scan
/// --security-hub` does); THEN three BatchImportFindings calls of 100, 100 and 50 carry them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_of_250_findings_goes_in_three_batches() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    c.securityhub.enable_security_hub().send().await.unwrap();
    crate::log_retention::create_log_groups(&c, (0..250).map(|i| format!("/many/{i:03}"))).await;
    let app = function(Mode::Audit, &c, |_| ());
    let report = app.sweep(&[], 8, Some(ACCOUNT), |_| ()).await;
    assert_eq!(report.summary.total, 250);
    emulator.recorder_reset();
    app.send_outputs(report.evaluations.iter().map(|e| &e.decision)).await.unwrap();
    let imports = emulator.recorded_calls().iter().filter(|c| *c == "securityhub:BatchImportFindings").count();
    assert_eq!(imports, 3);
    let all = findings(&c).await;
    assert_eq!(all.len(), 250);
    assert!(all.iter().all(|f| status(f) == ("FAILED", "ACTIVE")));
}

/// GIVEN Security Hub answering two findings of a batch in FailedFindings (InternalException)
/// once; THEN those two are sent again and stored. GIVEN a code a retry cannot fix; THEN the
/// invocation fails with FindingsNotImported (Lambda retries it, then the dead-letter queue),
/// and a queue record is reported as a batch item failure: no finding is dropped silently.
#[tokio::test]
async fn failed_findings_are_retried_and_reported_when_they_stay_failed() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    c.securityhub.enable_security_hub().send().await.unwrap();
    for name in ["/r/a", "/r/b", "/r/c"] {
        c.logs.create_log_group().log_group_name(name).send().await.unwrap();
    }
    let app = function(Mode::Audit, &c, |_| ());
    let report = app.sweep(&[], 8, Some(ACCOUNT), |_| ()).await;
    emulator.inject(
        json!([{ "action": "securityhub:BatchImportFindings", "fault": "failed-findings", "count": 2, "times": 1 }]),
    );
    emulator.recorder_reset();
    app.send_outputs(report.evaluations.iter().map(|e| &e.decision)).await.unwrap();
    assert_eq!(emulator.fault_rules()[0]["fired"], 1);
    let imports = emulator.recorded_calls().iter().filter(|c| *c == "securityhub:BatchImportFindings").count();
    assert_eq!(imports, 2, "the batch, then its two failed findings");
    assert_eq!(findings(&c).await.len(), 3);

    emulator.inject(json!([{ "action": "securityhub:BatchImportFindings", "fault": "failed-findings", "count": 5, "code": "InvalidInput" }]));
    c.logs.create_log_group().log_group_name("/r/d").send().await.unwrap();
    let err = app.lambda_handler(create_event("/r/d"), FUNCTION_ARN).await.unwrap_err();
    assert_eq!(err.error_type(), "FindingsNotImported", "{err}");
    assert!(err.to_string().contains("/r/d") && err.to_string().contains("InvalidInput"), "{err}");

    let body = json!({ "recheck": { "check": 2, "control": CONTROL, "target": { "name": "/r/d" } } }).to_string();
    let batch: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_value(json!({ "Records": [{
        "messageId": "m-1", "receiptHandle": "h", "body": body, "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1",
        "attributes": {}, "messageAttributes": {} }] }))
    .unwrap();
    let out = app.queue_batch(&batch.records, Some(ACCOUNT)).await;
    let failed: Vec<&str> = out.response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["m-1"], "delivered again, then to the dead-letter queue");
}

/// GIVEN a notify topic with a queue subscribed; WHEN a log group is fixed; THEN one message
/// says so, with the control and verdict as attributes; a compliant one tells no one.
#[tokio::test]
async fn fixed_decisions_are_notified_and_compliant_ones_are_not() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let topic = c.sns.create_topic().name("ops").send().await.unwrap().topic_arn().unwrap().to_owned();
    let queue = c.sqs.create_queue().queue_name("ops-inbox").send().await.unwrap().queue_url().unwrap().to_owned();
    let queue_arn = "arn:aws:sqs:us-east-1:123456789012:ops-inbox";
    c.sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();
    c.logs.create_log_group().log_group_name("/app/told").send().await.unwrap();
    let app = function(Mode::Remediate, &c, |cfg| {
        cfg.security_hub = false;
        cfg.notify_topic_arn = Some(topic.clone());
    });
    app.lambda_handler(create_event("/app/told"), FUNCTION_ARN).await.unwrap();
    app.lambda_handler(create_event("/app/told"), FUNCTION_ARN).await.unwrap();
    let got = c.sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.unwrap();
    assert_eq!(got.messages().len(), 1, "the fix is told, the compliant re-check is not");
    let decision: Value = serde_json::from_str(got.messages()[0].body().unwrap()).unwrap();
    assert_eq!(decision["verdict"], "fixed");
    assert_eq!(decision["control"], CONTROL);
}
