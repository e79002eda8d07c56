//! `log-archive` against the emulator, whose launcher makes PutSubscriptionFilter to Firehose
//! check the role, its trust and the stream, and CreateDeliveryStream assume its role, as AWS
//! does. One test per path: the archive from nothing (and a log event that reaches the bucket),
//! audit, a group with someone's filter kept beside logmend's, two filters of others never
//! replaced, groups that are never archived, exempt, off, IAM propagation waited out, the
//! pipeline repaired after its role policy or its stream is deleted, the sweep, bad events.

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend_integration::{ACCOUNT, AwsClients, Emulator, EmulatorOptions, config_for, one, sample_event};
use serde_json::{Value, json};
use std::time::Duration;

const CONTROL: &str = "log-archive";
const BUCKET: &str = "logmend-access-logs-123456789012-us-east-1";
const STREAM_ARN: &str = "arn:aws:firehose:us-east-1:123456789012:deliverystream/logmend-log-archive";
const SUBSCRIPTION_ROLE: &str = "LogmendArchiveSubscription-us-east-1";

fn app_with(emulator: &Emulator, mode: Mode, prefixes: &[&str]) -> Logmend {
    let mut config = config_for(mode, &[CONTROL]);
    config.log_archive_prefixes = prefixes.iter().map(|p| p.to_string()).collect();
    config.iam_propagation_first_backoff = Duration::from_millis(200);
    logmend::app(config, emulator.clients("us-east-1"))
}

fn app(emulator: &Emulator, mode: Mode) -> Logmend {
    app_with(emulator, mode, &["/app/"])
}

fn group_event(name: &str) -> Value {
    let mut event = sample_event("logs/create-log-group.json");
    event["detail"]["requestParameters"] = json!({ "logGroupName": name });
    event
}

fn role_event(role: &str) -> Value {
    let mut event = sample_event("iam/delete-role-policy.json");
    event["detail"]["requestParameters"] = json!({ "roleName": role, "policyName": "logmend-log-archive" });
    event
}

async fn filters(c: &AwsClients, group: &str) -> Vec<(String, String)> {
    let out = c.logs.describe_subscription_filters().log_group_name(group).send().await.unwrap();
    out.subscription_filters()
        .iter()
        .map(|f| (f.filter_name().unwrap_or_default().to_owned(), f.destination_arn().unwrap_or_default().to_owned()))
        .collect()
}

/// A Lambda function and its role, as a destination someone else's filter sends to.
async fn someones_filter(c: &AwsClients, group: &str, name: &str) {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{FunctionCode, Runtime};
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role_name = format!("fn-{name}");
    let role = c.iam.create_role().role_name(&role_name).assume_role_policy_document(trust.to_string()).send().await;
    let role = role.unwrap().role().unwrap().arn().to_owned();
    let zip = Blob::new(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec());
    let f = c
        .lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .role(role)
        .handler("a.b")
        .code(FunctionCode::builder().zip_file(zip).build())
        .send()
        .await
        .unwrap();
    c.logs
        .put_subscription_filter()
        .log_group_name(group)
        .filter_name(name)
        .filter_pattern("")
        .destination_arn(f.function_arn().unwrap())
        .send()
        .await
        .unwrap();
}

async fn archived_objects(c: &AwsClients) -> Vec<String> {
    let out = c.s3.list_objects_v2().bucket(BUCKET).prefix("archive/logs/").send().await.unwrap();
    out.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect()
}

#[tokio::test]
async fn a_group_is_archived_from_nothing_its_events_reach_the_bucket_and_a_second_run_writes_nothing() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    c.logs.create_log_group().log_group_name("/app/orders").send().await.unwrap();
    let app = app(&emulator, Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &group_event("/app/orders")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    let apis: Vec<&str> = d.changes.iter().map(|c| c.api).collect();
    assert_eq!(
        apis,
        [
            "s3:CreateBucket",
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "logs:CreateLogStream",
            "firehose:CreateDeliveryStream",
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "logs:PutSubscriptionFilter",
        ]
    );
    emulator.assert_calls_declared(CONTROL);
    assert_eq!(filters(&c, "/app/orders").await, [("logmend-log-archive".to_owned(), STREAM_ARN.to_owned())]);

    // The logs arrive: an event put into the group lands in the bucket under archive/logs/.
    c.logs.create_log_stream().log_group_name("/app/orders").log_stream_name("s").send().await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let event = InputLogEvent::builder().timestamp(now).message("order 42 paid").build().unwrap();
    c.logs.put_log_events().log_group_name("/app/orders").log_stream_name("s").log_events(event).send().await.unwrap();
    let objects = archived_objects(&c).await;
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert!(objects[0].contains("/logmend-log-archive-"), "{objects:?}");

    // Its own PutSubscriptionFilter comes back as an event: compliant, nothing written.
    emulator.recorder_reset();
    let mut again = group_event("/app/orders");
    again["detail"]["eventName"] = json!("PutSubscriptionFilter");
    let d = one(&app, &again).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    // And so is the pipeline, on its own event.
    let d = one(&app, &role_event(SUBSCRIPTION_ROLE)).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(d.resource, STREAM_ARN);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn audit_reports_and_writes_nothing() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    c.logs.create_log_group().log_group_name("/app/orders").send().await.unwrap();
    emulator.recorder_reset();
    let d = one(&app(&emulator, Mode::Audit), &group_event("/app/orders")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("no subscription filter to logmend-log-archive"), "{}", d.reason);
    assert_eq!(d.changes.len(), 10, "the plan is shown: {:?}", d.changes);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn someones_filter_is_kept_beside_logmends_and_two_of_theirs_are_never_replaced() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    for group in ["/app/one", "/app/two"] {
        c.logs.create_log_group().log_group_name(group).send().await.unwrap();
    }
    someones_filter(&c, "/app/one", "siem").await;
    someones_filter(&c, "/app/two", "siem-a").await;
    someones_filter(&c, "/app/two", "siem-b").await;
    let app = app(&emulator, Mode::Remediate);
    let d = one(&app, &group_event("/app/one")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    let names: Vec<String> = filters(&c, "/app/one").await.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"siem".to_owned()) && names.contains(&"logmend-log-archive".to_owned()));

    emulator.recorder_reset();
    let d = one(&app, &group_event("/app/two")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("two subscription filters already (siem-a, siem-b)"), "{}", d.reason);
    assert!(d.changes.is_empty());
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    assert_eq!(filters(&c, "/app/two").await.len(), 2);
}

#[tokio::test]
async fn logmends_own_and_firehoses_groups_are_never_archived_and_exempt_or_unlisted_groups_are_skipped() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let groups = ["/logmend/stack/account-logs", "/aws/kinesisfirehose/logmend-log-archive", "/other/x", "/app/exempt"];
    for group in groups {
        c.logs.create_log_group().log_group_name(group).send().await.unwrap();
    }
    c.logs
        .tag_resource()
        .resource_arn("arn:aws:logs:us-east-1:123456789012:log-group:/app/exempt")
        .tags("logmend:exempt", "true")
        .send()
        .await
        .unwrap();
    let every = app_with(&emulator, Mode::Remediate, &["*"]);
    emulator.recorder_reset();
    for group in &groups[..2] {
        let d = one(&every, &group_event(group)).await;
        assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
        assert!(d.reason.contains("never archived"), "{}", d.reason);
    }
    // A group the prefixes do not name, or any group while archiving is off, is not the
    // archive's: no decision at all.
    assert!(app(&emulator, Mode::Remediate).handle_event(&group_event("/other/x")).await.unwrap().is_empty());
    let d = one(&every, &group_event("/app/exempt")).await;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert!(d.reason.contains("logmend:exempt"), "{}", d.reason);
    let off = app_with(&emulator, Mode::Remediate, &[]);
    assert!(off.handle_event(&group_event("/app/exempt")).await.unwrap().is_empty());
    // The sweep of an account that archives nothing says so once, for the region.
    let sweep = off.sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(sweep.evaluations.len(), 1);
    assert!(sweep.evaluations[0].decision.reason.contains("log archiving is off"), "{:?}", sweep.evaluations);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    // The sweep lists only the groups under the prefixes, never logmend's or Firehose's.
    let sweep = every.sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    let resources: Vec<&str> = sweep.evaluations.iter().map(|e| e.decision.resource.as_str()).collect();
    assert!(!resources.iter().any(|r| r.contains("/logmend/") || r.contains("kinesisfirehose")), "{resources:?}");
    assert!(resources.contains(&"arn:aws:logs:us-east-1:123456789012:log-group:/other/x"), "{resources:?}");
    assert!(resources.contains(&STREAM_ARN), "the pipeline is a decision of its own: {resources:?}");
}

#[tokio::test]
async fn a_new_role_is_waited_for_while_iam_propagates() {
    let emulator = Emulator::start_with(EmulatorOptions { iam_propagation_seconds: 2.0, ..Default::default() });
    let c = emulator.clients("us-east-1");
    c.logs.create_log_group().log_group_name("/app/orders").send().await.unwrap();
    emulator.recorder_reset();
    let d = one(&app(&emulator, Mode::Remediate), &group_event("/app/orders")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    let calls = emulator.recorded_calls();
    let count = |api: &str| calls.iter().filter(|c| *c == api).count();
    assert!(count("firehose:CreateDeliveryStream") >= 2, "CreateDeliveryStream was not retried: {calls:?}");
    assert!(count("logs:PutSubscriptionFilter") >= 2, "PutSubscriptionFilter was not retried: {calls:?}");
    assert_eq!(filters(&c, "/app/orders").await.len(), 1);
}

#[tokio::test]
async fn the_pipeline_is_rebuilt_after_its_role_policy_or_its_stream_is_deleted() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    c.logs.create_log_group().log_group_name("/app/orders").send().await.unwrap();
    let app = app(&emulator, Mode::Remediate);
    assert_eq!(one(&app, &group_event("/app/orders")).await.verdict, Verdict::Fixed);

    c.iam.delete_role_policy().role_name(SUBSCRIPTION_ROLE).policy_name("logmend-log-archive").send().await.unwrap();
    let d = one(&app, &role_event(SUBSCRIPTION_ROLE)).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert!(d.reason.contains("policy logmend-log-archive is missing"), "{}", d.reason);
    assert_eq!(d.changes.iter().map(|c| c.api).collect::<Vec<_>>(), ["iam:PutRolePolicy"]);

    c.firehose.delete_delivery_stream().delivery_stream_name("logmend-log-archive").send().await.unwrap();
    let d = one(&app, &sample_event("firehose/delete-delivery-stream.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.changes.iter().map(|c| c.api).collect::<Vec<_>>(), ["firehose:CreateDeliveryStream"]);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("firehose/delete-delivery-stream.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());

    // Someone removes logmend's filter: it is put back on the event.
    c.logs
        .delete_subscription_filter()
        .log_group_name("/app/orders")
        .filter_name("logmend-log-archive")
        .send()
        .await
        .unwrap();
    let mut removed = sample_event("logs/delete-subscription-filter.json");
    removed["detail"]["requestParameters"]["logGroupName"] = json!("/app/orders");
    let d = one(&app, &removed).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.changes.iter().map(|c| c.api).collect::<Vec<_>>(), ["logs:PutSubscriptionFilter"]);
}

#[tokio::test]
async fn a_stream_of_logmends_name_that_is_not_logmends_is_never_changed() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role = c.iam.create_role().role_name("theirs").assume_role_policy_document(trust.to_string()).send().await;
    let s3 = aws_sdk_firehose::types::ExtendedS3DestinationConfiguration::builder()
        .role_arn(role.unwrap().role().unwrap().arn())
        .bucket_arn("arn:aws:s3:::their-bucket")
        .build()
        .unwrap();
    c.firehose
        .create_delivery_stream()
        .delivery_stream_name("logmend-log-archive")
        .extended_s3_destination_configuration(s3)
        .send()
        .await
        .unwrap();
    c.logs.create_log_group().log_group_name("/app/orders").send().await.unwrap();
    let app = app(&emulator, Mode::Remediate);
    // logmend's roles must exist for the stream to be the only difference.
    emulator.recorder_reset();
    let out = app.handle_event(&group_event("/app/orders")).await.unwrap();
    let d = &out[0].decision;
    assert_eq!(d.verdict, Verdict::Failed, "{d:?}");
    assert_eq!(d.error_code.as_deref(), Some("Conflict"), "{}", d.reason);
    assert!(d.reason.contains("logmend did not make"), "{}", d.reason);
    assert!(!out[0].retry, "waiting will not help");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn events_without_the_name_the_control_needs_say_which_field() {
    let emulator = Emulator::start();
    let app = app(&emulator, Mode::Remediate);
    let mut bad = sample_event("firehose/delete-delivery-stream.json");
    bad["detail"]["requestParameters"] = json!({});
    let err = app.handle_event(&bad).await.unwrap_err();
    assert!(err.to_string().contains("detail.requestParameters.deliveryStreamName"), "{err}");
    // Another stream's events are not the archive's.
    let mut other = sample_event("firehose/delete-delivery-stream.json");
    other["detail"]["requestParameters"]["deliveryStreamName"] = json!("someone-elses");
    assert!(app.handle_event(&other).await.unwrap().is_empty());
}
