//! Deferred events on the re-check queue, against the emulator's SQS: a `deferred` decision
//! enqueues its control and target (never the event), the consumer (the same handler, given
//! the SQS batch) checks again, and the checks run out with a final `failed` decision.

use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend::recheck::{ATTEMPTS_EXHAUSTED, QueueMessage, Recheck};
use logmend_integration::{
    BROKER_PASSWORD, DB_PASSWORD, Emulator, EmulatorOptions, FUNCTION_ARN, broker_event, config, create_aurora_cluster,
    create_broker, sample_event,
};
use serde_json::{Value, json};
use std::time::Duration;

async fn queue(emulator: &Emulator) -> String {
    let out = emulator.clients("us-east-1").sqs.create_queue().queue_name("logmend-recheck").send().await.unwrap();
    out.queue_url().unwrap().to_owned()
}

/// Every message now on the queue, as the SQS event Lambda would deliver, and deleted.
async fn drain(emulator: &Emulator, url: &str) -> Vec<Value> {
    let sqs = emulator.clients("us-east-1").sqs;
    let out = sqs.receive_message().queue_url(url).max_number_of_messages(10).send().await.unwrap();
    let mut records = Vec::new();
    for m in out.messages() {
        records.push(json!({"messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
            "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:logmend-recheck", "awsRegion": "us-east-1"}));
        sqs.delete_message().queue_url(url).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
    }
    records
}

/// The re-check a queue message asks for.
fn recheck_of(record: &Value) -> Recheck {
    match serde_json::from_str(record["body"].as_str().unwrap()).unwrap() {
        QueueMessage::Recheck { recheck } => recheck,
        other => panic!("not a re-check: {other:?}"),
    }
}

fn app(emulator: &Emulator, url: &str, max: u32) -> Logmend {
    let mut cfg = config(Mode::Remediate);
    cfg.queue_url = Some(url.to_owned());
    cfg.recheck_max_attempts = max;
    cfg.recheck_delay_seconds = 0;
    logmend::app(cfg, emulator.clients("us-east-1"))
}

async fn rebooting_broker(emulator: &Emulator) -> String {
    let c = emulator.clients("us-east-1");
    let id = create_broker(&c, "orders", "ACTIVEMQ", true, true).await;
    c.mq.reboot_broker().broker_id(&id).send().await.unwrap();
    id
}

#[tokio::test]
async fn a_deferred_event_is_queued_rechecked_and_fails_when_the_checks_run_out() {
    let emulator = Emulator::start_with(EmulatorOptions { mq_reboot_seconds: 600.0, ..Default::default() });
    let url = queue(&emulator).await;
    let id = rebooting_broker(&emulator).await;
    let app = app(&emulator, &url, 3);
    let event = broker_event("mq/reboot-broker.json", &id);

    let first = app.handle_checked(&event, 1, None).await.unwrap();
    assert_eq!(first[0].decision.verdict, Verdict::Deferred);
    assert!(first[0].decision.reason.ends_with("; check 2 of 3 in 0 s"), "{}", first[0].decision.reason);
    let records = drain(&emulator, &url).await;
    assert_eq!(records.len(), 1);
    let message = recheck_of(&records[0]);
    assert_eq!(message.check, 2);
    assert_eq!((message.control.as_str(), &message.target), ("mq-broker-logs", &json!(id)));
    assert_eq!(message.event_id.as_deref(), event["id"].as_str(), "the chain names the first event");
    assert_eq!(message.event_name.as_deref(), Some("RebootBroker"));

    // The consumer: the same Lambda entry, given the SQS batch.
    let out = app.lambda_handler(json!({ "Records": records }), FUNCTION_ARN).await.unwrap();
    assert_eq!(out, json!({"batchItemFailures": []}));
    let records = drain(&emulator, &url).await;
    let message = recheck_of(&records[0]);
    assert_eq!(message.check, 3);

    let last = app.handle_recheck(&message, None).await.unwrap();
    let d = &last[0].decision;
    assert_eq!(d.verdict, Verdict::Failed, "{d:?}");
    assert_eq!(d.error_code.as_deref(), Some(ATTEMPTS_EXHAUSTED));
    assert_eq!(d.event_name.as_deref(), Some("RebootBroker"), "the last decision still names the first event");
    assert!(d.reason.starts_with("still not ready after 3 checks: broker is REBOOT_IN_PROGRESS"), "{}", d.reason);
    assert!(drain(&emulator, &url).await.is_empty(), "no fourth check");
}

#[tokio::test]
async fn a_recheck_that_finds_the_resource_ready_ends_the_chain() {
    let emulator = Emulator::start_with(EmulatorOptions { mq_reboot_seconds: 1.0, ..Default::default() });
    let url = queue(&emulator).await;
    let id = rebooting_broker(&emulator).await;
    let app = app(&emulator, &url, 5);
    let first = app.lambda_handler(broker_event("mq/reboot-broker.json", &id), FUNCTION_ARN).await.unwrap();
    assert_eq!(first["verdicts"], json!(["deferred"]));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let records = drain(&emulator, &url).await;
    let message = recheck_of(&records[0]);
    let again = app.handle_recheck(&message, None).await.unwrap();
    // Ready now, so checked in full: the logs are on, the resource policy is added.
    assert_eq!(again[0].decision.verdict, Verdict::Fixed, "{:?}", again[0].decision);
    assert!(drain(&emulator, &url).await.is_empty());
}

#[tokio::test]
async fn an_unreadable_recheck_message_is_a_batch_item_failure_not_a_loss() {
    let emulator = Emulator::start();
    let url = queue(&emulator).await;
    let app = app(&emulator, &url, 5);
    let batch = json!({"Records": [
        {"messageId": "m-1", "eventSource": "aws:sqs", "body": "not json"},
        {"messageId": "m-2", "eventSource": "aws:sqs", "body": "{\"check\":2,\"event\":{\"detail-type\":\"AWS API Call via CloudTrail\"}}"}
    ]});
    let out = app.lambda_handler(batch, FUNCTION_ARN).await.unwrap();
    assert_eq!(out, json!({"batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]}));
}

#[tokio::test]
async fn a_queue_that_cannot_be_reached_fails_the_invocation_so_lambda_retries() {
    let emulator = Emulator::start_with(EmulatorOptions { mq_reboot_seconds: 600.0, ..Default::default() });
    let id = rebooting_broker(&emulator).await;
    let app = app(&emulator, "http://127.0.0.1:1/123456789012/missing", 5);
    let err = app.lambda_handler(broker_event("mq/reboot-broker.json", &id), FUNCTION_ARN).await.unwrap_err();
    assert_eq!(err.error_type(), "RecheckQueueUnavailable");
    assert!(err.to_string().contains("sqs:SendMessage"), "{err}");
}

/// A re-check message as it sits on the queue: no parameter of the event, no secret.
fn assert_holds_no_secret(body: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!body.contains(s), "a secret reached the queue: {body}");
    }
    for field in ["requestParameters", "responseElements", "password", "Password", "userIdentity"] {
        assert!(!body.contains(field), "{field} reached the queue: {body}");
    }
}

#[tokio::test]
async fn a_deferred_create_broker_queues_no_password() {
    let emulator = Emulator::start_with(EmulatorOptions { mq_reboot_seconds: 600.0, ..Default::default() });
    let url = queue(&emulator).await;
    let id = rebooting_broker(&emulator).await;
    let app = app(&emulator, &url, 3);
    let event = broker_event("mq/create-broker-activemq.json", &id);
    let sample_password = event["detail"]["requestParameters"]["users"][0]["password"].as_str().unwrap().to_owned();
    assert!(!sample_password.is_empty() && !sample_password.contains('*'), "the sample carries a password");

    let first = app.lambda_handler(event, FUNCTION_ARN).await.unwrap();
    assert_eq!(first["verdicts"], json!(["deferred"]));
    let records = drain(&emulator, &url).await;
    assert_eq!(records.len(), 1);
    assert_holds_no_secret(records[0]["body"].as_str().unwrap(), &[&sample_password, BROKER_PASSWORD]);
    let message = recheck_of(&records[0]);
    assert_eq!((message.check, message.event_name.as_deref()), (2, Some("CreateBroker")));
    // And the message is enough: the next check reads the broker by its id.
    let again = app.lambda_handler(json!({ "Records": records }), FUNCTION_ARN).await.unwrap();
    assert_eq!(again, json!({"batchItemFailures": []}));
    assert_eq!(drain(&emulator, &url).await.len(), 1, "still rebooting: check 3 queued");
}

#[tokio::test]
async fn a_deferred_create_db_cluster_queues_no_master_password() {
    let emulator = Emulator::start_with(EmulatorOptions { rds_create_seconds: 600.0, ..Default::default() });
    let url = queue(&emulator).await;
    let c = emulator.clients("us-east-1");
    create_aurora_cluster(&c, "orders-aurora", "aurora-mysql", None, &[], false).await;
    let app = app(&emulator, &url, 3);
    let event = sample_event("rds/create-db-cluster-aurora-mysql.json");
    let sample_password = event["detail"]["requestParameters"]["masterUserPassword"].as_str().unwrap().to_owned();

    let first = app.lambda_handler(event, FUNCTION_ARN).await.unwrap();
    assert_eq!(first["verdicts"], json!(["deferred"]), "the cluster is still being created");
    let records = drain(&emulator, &url).await;
    assert_eq!(records.len(), 1);
    assert_holds_no_secret(records[0]["body"].as_str().unwrap(), &[&sample_password, DB_PASSWORD]);
    let message = recheck_of(&records[0]);
    assert_eq!(
        (message.control.as_str(), &message.target),
        ("rds-cluster-audit-logs", &json!({"Cluster": "orders-aurora"}))
    );
}

#[tokio::test]
async fn a_re_check_queued_by_the_previous_version_is_still_checked() {
    let emulator = Emulator::start_with(EmulatorOptions { mq_reboot_seconds: 600.0, ..Default::default() });
    let url = queue(&emulator).await;
    let id = rebooting_broker(&emulator).await;
    let app = app(&emulator, &url, 3);
    let old = json!({"check": 2, "event": broker_event("mq/reboot-broker.json", &id)});
    let batch = json!({"Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": old.to_string()}]});
    let out = app.lambda_handler(batch, FUNCTION_ARN).await.unwrap();
    assert_eq!(out, json!({"batchItemFailures": []}));
    let records = drain(&emulator, &url).await;
    assert_eq!(recheck_of(&records[0]).check, 3, "re-queued in the new form");
}
