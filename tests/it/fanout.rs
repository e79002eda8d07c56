//! The sweep fanned out on AWS's own engines, against the emulator's SQS: the schedule's
//! event makes the function list its family's resources onto its queue, and the same function
//! evaluates them from there, ten to a batch. The test plays the event source mapping (receive
//! ten, invoke, delete what succeeded, let the failures come back), so every step of the
//! function's side is the deployed code.

use logmend::decision::{Mode, Verdict};
use logmend::sweep::{SWEEP_EVENT_NAME, Summary};
use logmend::{Config, Logmend};
use logmend_integration::{ACCOUNT, AwsClients, Emulator, FUNCTION_ARN, config, config_for, create_trail};
use serde_json::{Value, json};
use std::collections::BTreeMap;

async fn queue(c: &AwsClients) -> String {
    let out = c.sqs.create_queue().queue_name("logmend-log-retention").send().await.unwrap();
    out.queue_url().unwrap().to_owned()
}

/// The function of one family, as its main makes it.
fn function(family: &'static logmend::Family, mut cfg: Config, url: &str, c: &AwsClients) -> Logmend {
    cfg.queue_url = Some(url.to_owned());
    Logmend::new(cfg, family.controls.iter().copied(), c.clone().into())
}

fn schedule_event(id: &str) -> Value {
    json!({
        "version": "0", "id": id, "detail-type": "Scheduled Event", "source": "aws.events",
        "account": ACCOUNT, "time": "2026-12-01T03:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/logmend-LogRetentionFunctionSweep"],
        "detail": {}
    })
}

/// What the event source mapping does until the queue is empty: receive up to ten, invoke the
/// function with them, delete those it did not report as failed, and make the failed ones
/// visible again at once (in AWS they come back after the visibility timeout). Returns every
/// decision, and how many invocations it took.
async fn drain(app: &Logmend, c: &AwsClients, url: &str, function_arn: &str) -> (Vec<logmend::Decision>, usize) {
    let own_account = logmend::controls::account_of(function_arn);
    let mut decisions = Vec::new();
    let mut invocations = 0;
    let mut empty_polls = 0;
    let mut done: std::collections::HashSet<String> = std::collections::HashSet::new();
    while empty_polls < 2 {
        let out = c.sqs.receive_message().queue_url(url).max_number_of_messages(10).send().await.unwrap();
        if out.messages().is_empty() {
            empty_polls += 1;
            continue;
        }
        empty_polls = 0;
        let records: Vec<Value> = out
            .messages()
            .iter()
            .map(|m| {
                json!({"messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
                    "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:logmend-log-retention",
                    "awsRegion": "us-east-1", "attributes": {}, "messageAttributes": {}})
            })
            .collect();
        let event: aws_lambda_events::event::sqs::SqsEvent =
            serde_json::from_value(json!({ "Records": records })).unwrap();
        let batch = app.queue_batch(&event.records, own_account.as_deref()).await;
        invocations += 1;
        let failed: Vec<&str> = batch.response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        let mut deletes = Vec::new();
        for m in out.messages() {
            let (id, handle) = (m.message_id().unwrap(), m.receipt_handle().unwrap());
            assert!(!done.contains(id), "message {id} delivered again after it was deleted");
            if failed.contains(&id) {
                c.sqs
                    .change_message_visibility()
                    .queue_url(url)
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .send()
                    .await
                    .unwrap();
            } else {
                let entry = aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder().id(id).receipt_handle(handle);
                deletes.push(entry.build().unwrap());
                done.insert(id.to_owned());
            }
        }
        if !deletes.is_empty() {
            let out = c.sqs.delete_message_batch().queue_url(url).set_entries(Some(deletes)).send().await.unwrap();
            assert!(out.failed().is_empty(), "{:?}", out.failed());
        }
        decisions.extend(batch.evaluations.into_iter().map(|e| e.decision));
    }
    (decisions, invocations)
}

/// GIVEN 3,000 log groups that never expire, PutRetentionPolicy throttled for one of them for
/// every attempt of its first evaluation, and for another for every attempt of the
/// evaluations one invocation makes; WHEN the function's schedule fires and its queue is
/// drained; THEN all 3,000 are listed onto the queue and each is fixed exactly once: the first
/// throttled group within its invocation (no failed decision), the second delivered again alone
/// (one failed decision, then fixed), and the summary says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fanned_out_sweep_fixes_3000_log_groups_once_and_retries_a_throttled_one_alone() {
    const GROUPS: usize = 3000;
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let url = queue(&c).await;
    crate::log_retention::create_log_groups(&c, (0..GROUPS).map(|i| format!("/fanout/group-{i:05}"))).await;
    let app = function(&logmend::logs::FAMILY, config(Mode::Remediate), &url, &c);
    // The harness's clients try each call 3 times.
    let per_invocation = 3 * u64::from(logmend::registry::SWEEP_ATTEMPTS);
    emulator.inject(json!([
        { "action": "logs:PutRetentionPolicy", "fault": "throttle", "times": 3, "body_contains": "/fanout/group-00042\"" },
        { "action": "logs:PutRetentionPolicy", "fault": "throttle", "times": per_invocation,
          "body_contains": "/fanout/group-01234\"" },
    ]));
    emulator.recorder_reset();

    let scheduled = app.lambda_handler(schedule_event("sweep-1"), FUNCTION_ARN).await.unwrap();
    assert_eq!(scheduled["queued"], json!({ "log-group-retention": GROUPS }), "{scheduled}");
    assert_eq!(scheduled["listing_failed"], json!([]));
    let attributes = c
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    let waiting =
        attributes.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages].clone();
    assert_eq!(waiting, GROUPS.to_string(), "one message per listed log group");
    let batches = emulator.recorded_calls().iter().filter(|c| c.ends_with("SendMessageBatch")).count();
    assert_eq!(batches, GROUPS / 10, "ten to a SendMessageBatch");

    let started = std::time::Instant::now();
    let (decisions, invocations) = drain(&app, &c, &url, FUNCTION_ARN).await;
    eprintln!("drained in {:?}", started.elapsed());
    assert_eq!(emulator.fault_rules()[0]["fired"], 3, "the first group's first evaluation");
    assert_eq!(emulator.fault_rules()[1]["fired"], per_invocation, "the second group's first invocation");
    let mut summary = Summary::default();
    decisions.iter().for_each(|d| summary.add(d));
    // What a person reads afterwards: the counts per control and verdict of this sweep (in
    // CloudWatch Logs, the Logs Insights query in the README gives the same).
    println!("{}", serde_json::to_string(&summary).unwrap());
    assert_eq!(summary.count(Verdict::Fixed), GROUPS, "{summary:?}");
    assert_eq!(summary.count(Verdict::Failed), 1, "{summary:?}");
    assert_eq!(summary.total, GROUPS + 1);
    assert_eq!(invocations, GROUPS / 10 + 1, "the retried message came back alone");

    let mut fixed_per_group: BTreeMap<&str, usize> = BTreeMap::new();
    for d in decisions.iter().filter(|d| d.verdict == Verdict::Fixed) {
        *fixed_per_group.entry(d.resource.as_str()).or_default() += 1;
    }
    assert_eq!(fixed_per_group.len(), GROUPS);
    assert!(fixed_per_group.values().all(|n| *n == 1), "every group fixed exactly once");
    let failed = decisions.iter().find(|d| d.verdict == Verdict::Failed).unwrap();
    assert!(failed.resource.ends_with("/fanout/group-01234"), "{failed:?}");
    assert_eq!(failed.error_code.as_deref(), Some("ThrottlingException"));
    assert!(
        decisions
            .iter()
            .all(|d| d.event_id.as_deref() == Some("sweep-1") && d.event_name.as_deref() == Some(SWEEP_EVENT_NAME))
    );
    let puts = emulator.recorded_calls().iter().filter(|c| c.ends_with("PutRetentionPolicy")).count();
    assert_eq!(puts, GROUPS, "one write per group that reached the emulator: none twice");

    // A second sweep finds nothing to do and writes nothing.
    emulator.recorder_reset();
    app.lambda_handler(schedule_event("sweep-2"), FUNCTION_ARN).await.unwrap();
    let started = std::time::Instant::now();
    let (again, _) = drain(&app, &c, &url, FUNCTION_ARN).await;
    eprintln!("second sweep drained in {:?}", started.elapsed());
    assert_eq!(again.len(), GROUPS);
    assert!(again.iter().all(|d| d.verdict == Verdict::Compliant), "second sweep");
    let writes: Vec<String> = emulator.mutating_calls().into_iter().filter(|c| !c.contains("sqs:")).collect();
    assert!(writes.is_empty(), "{writes:?}");
}

/// GIVEN a trail without CloudWatch Logs delivery, in the emulator's account; WHEN a sweep runs
/// as a function of another account (an organization trail seen from a member account) and
/// then as the trail's own account; THEN the first leaves it alone, naming both accounts, and
/// the second fixes it: the sweep knows its own account from the function's ARN.
#[tokio::test]
async fn a_sweep_knows_its_own_account_and_leaves_another_accounts_trail_alone() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let url = queue(&c).await;
    create_trail(&emulator, &c, "org-trail", true).await;
    let app =
        function(&logmend::cloudtrail::FAMILY, config_for(Mode::Remediate, &["cloudtrail-cloudwatch-logs"]), &url, &c);

    let member = "arn:aws:lambda:us-east-1:111122223333:function:logmend-TrailCloudwatchFunction";
    app.lambda_handler(schedule_event("sweep-member"), member).await.unwrap();
    let (decisions, _) = drain(&app, &c, &url, member).await;
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].verdict, Verdict::Skipped, "{:?}", decisions[0]);
    assert_eq!(
        decisions[0].reason,
        "organization trail of account 123456789012; account 111122223333 cannot change it"
    );

    app.lambda_handler(schedule_event("sweep-own"), FUNCTION_ARN).await.unwrap();
    let (decisions, _) = drain(&app, &c, &url, FUNCTION_ARN).await;
    assert_eq!(decisions[0].verdict, Verdict::Fixed, "{:?}", decisions[0]);

    // The CLI's sweep asks STS once for the same fact.
    assert_eq!(app.caller_account().await.as_deref(), Some(ACCOUNT));
}

#[tokio::test]
async fn a_schedule_without_a_queue_or_whose_listing_fails_fails_the_invocation() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let app = logmend::app(config(Mode::Audit), c.clone());
    let err = app.lambda_handler(schedule_event("s"), FUNCTION_ARN).await.unwrap_err();
    assert_eq!(err.error_type(), "QueueNotConfigured");

    let url = queue(&c).await;
    let app = function(&logmend::logs::FAMILY, config(Mode::Audit), &url, &c);
    emulator.inject(json!([{ "action": "logs:DescribeLogGroups", "fault": "access-denied" }]));
    let err = app.lambda_handler(schedule_event("s"), FUNCTION_ARN).await.unwrap_err();
    assert_eq!(err.error_type(), "Retryable", "{err}");
    assert!(err.to_string().contains("could not list resources: logs:DescribeLogGroups"), "{err}");
}

#[tokio::test]
async fn a_listed_target_the_control_cannot_read_is_a_batch_item_failure() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let url = queue(&c).await;
    let app = function(&logmend::logs::FAMILY, config(Mode::Audit), &url, &c);
    let body = json!({"sweep": {"id": "s", "control": "log-group-retention", "target": {"no": "name"}}}).to_string();
    let batch = json!({"Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": body}]});
    let out = app.lambda_handler(batch, FUNCTION_ARN).await.unwrap();
    assert_eq!(out, json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]}));
}

#[tokio::test]
async fn records_of_another_service_are_refused_not_taken_for_a_queue_batch() {
    let emulator = Emulator::start();
    let app = logmend::app(config(Mode::Audit), emulator.clients("us-east-1"));
    let s3 = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]});
    let err = app.lambda_handler(s3, FUNCTION_ARN).await.unwrap_err();
    assert_eq!(err.error_type(), "InvalidEvent", "{err}");
}
