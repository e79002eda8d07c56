//! `cis-metric-alarms` end to end against the emulator, one test per path of issue 15: the
//! filters, alarms and topic after one event or one sweep, each piece restored on its event,
//! audit mode and second runs writing nothing, no subscriber, the trail CIS means.

use logmend::Logmend;
use logmend::alarms::patterns::CIS_FILTERS;
use logmend::config::Subscriber;
use logmend::decision::{Mode, Verdict};
use logmend_integration::{ACCOUNT, AwsClients, Emulator, config_for, create_trail, one, sample_event};
use serde_json::Value;

const CONTROL: &str = "cis-metric-alarms";
const TRAIL: &str = "org-audit";
const GROUP: &str = "/aws/cloudtrail/org-audit";
const GROUP_ARN: &str = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/cloudtrail/org-audit";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:logmend-security-alarms";
const EMAIL: &str = "security@example.com";

fn email() -> Subscriber {
    Subscriber { protocol: "email".into(), endpoint: EMAIL.into() }
}

fn app_with(emulator: &Emulator, mode: Mode, subscribers: &[Subscriber], topic: Option<&str>) -> Logmend {
    let mut config = config_for(mode, &[CONTROL]);
    config.alarm_subscribers = subscribers.to_vec();
    config.alarm_topic_arn = topic.map(str::to_owned);
    logmend::app(config, emulator.clients("us-east-1"))
}

/// A CloudTrail.5-compliant trail: multi-region, logging, delivering to its log group (made
/// by logmend's own cloudtrail-cloudwatch-logs fix, as a deployment would).
async fn delivering_trail(emulator: &Emulator, c: &AwsClients, name: &str, multi_region: bool) {
    create_trail(emulator, c, name, multi_region).await;
    let fixer = logmend::app(config_for(Mode::Remediate, &["cloudtrail-cloudwatch-logs"]), c.clone());
    let mut event = sample_event("cloudtrail/create-trail.json");
    event["detail"]["requestParameters"]["name"] = name.into();
    event["detail"]["responseElements"]["trailARN"] =
        format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{name}").into();
    event["detail"]["responseElements"]["name"] = name.into();
    let out = fixer.handle_event(&event).await.unwrap();
    assert_eq!(out[0].decision.verdict, Verdict::Fixed, "{:?}", out[0].decision);
    c.cloudtrail.start_logging().name(name).send().await.unwrap();
}

async fn setup() -> (Emulator, AwsClients) {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    delivering_trail(&emulator, &c, TRAIL, true).await;
    emulator.recorder_reset();
    (emulator, c)
}

fn count(d: &logmend::Decision, api: &str) -> usize {
    d.changes.iter().filter(|c| c.api == api).count()
}

/// A metric transformation that counts each matched event once.
fn counting(namespace: &str, metric: &str) -> aws_sdk_cloudwatchlogs::types::MetricTransformation {
    aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
        .metric_name(metric)
        .metric_namespace(namespace)
        .metric_value("1")
        .build()
        .unwrap()
}

async fn filters(c: &AwsClients) -> Vec<aws_sdk_cloudwatchlogs::types::MetricFilter> {
    let out = c.logs.describe_metric_filters().log_group_name(GROUP).send().await.unwrap();
    out.metric_filters().to_vec()
}

async fn alarms(c: &AwsClients) -> Vec<aws_sdk_cloudwatch::types::MetricAlarm> {
    let mut pages = c.cloudwatch.describe_alarms().into_paginator().send();
    let mut out = Vec::new();
    while let Some(p) = pages.next().await {
        out.extend(p.unwrap().metric_alarms().iter().cloned());
    }
    out
}

/// Confirm every pending subscription with the token SNS would have sent; the event of it.
async fn confirm_all(emulator: &Emulator, c: &AwsClients) -> Value {
    for pending in emulator.sns_confirmations() {
        let topic = pending["topic_arn"].as_str().unwrap();
        c.sns.confirm_subscription().topic_arn(topic).token(pending["token"].as_str().unwrap()).send().await.unwrap();
    }
    sample_event("sns/confirm-subscription.json")
}

#[tokio::test]
async fn one_event_builds_every_filter_alarm_and_the_topic_and_ends_pending_then_compliant() {
    // GIVEN a CloudTrail.5-compliant trail and LOGMEND_ALARM_EMAIL
    let (emulator, c) = setup().await;
    let app = app_with(&emulator, Mode::Remediate, &[email()], None);
    // WHEN one event arrives (the trail's UpdateTrail)
    let d = one(&app, &sample_event("cloudtrail/update-trail-with-cloudwatch.json")).await;
    // THEN the filters, alarms, topic and subscription are written; the email waits for a person
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert_eq!(d.resource, GROUP_ARN);
    let n = CIS_FILTERS.len();
    assert!(n >= 14);
    assert_eq!(
        (count(&d, "sns:CreateTopic"), count(&d, "logs:PutMetricFilter"), count(&d, "cloudwatch:PutMetricAlarm")),
        (1, n, n)
    );
    assert_eq!(count(&d, "sns:Subscribe"), 1);
    let written = filters(&c).await;
    assert_eq!(written.len(), n);
    for f in CIS_FILTERS {
        let got = written.iter().find(|w| w.filter_name() == Some(f.logmend_name().as_str())).unwrap();
        assert_eq!(got.filter_pattern(), Some(f.pattern), "the exact pattern, byte for byte");
        let t = &got.metric_transformations()[0];
        assert_eq!((t.metric_namespace(), t.metric_name(), t.metric_value()), ("LogMetrics", f.metric, "1"));
    }
    let alarms = alarms(&c).await;
    assert_eq!(alarms.len(), n);
    for a in &alarms {
        assert_eq!(a.alarm_actions(), [TOPIC.to_owned()]);
        assert_eq!((a.period(), a.evaluation_periods(), a.threshold()), (Some(300), Some(1), Some(1.0)));
        assert_eq!(a.treat_missing_data(), Some("notBreaching"));
    }
    let attrs = c.sns.get_topic_attributes().topic_arn(TOPIC).send().await.unwrap();
    let policy: Value = serde_json::from_str(&attrs.attributes().unwrap()["Policy"]).unwrap();
    assert!(
        policy["Statement"].as_array().unwrap().iter().any(|s| s["Principal"]["Service"] == "cloudwatch.amazonaws.com")
    );
    assert_eq!(attrs.attributes().unwrap()["SubscriptionsPending"], "1");
    emulator.assert_calls_declared(CONTROL);

    // WHEN its own writes come back as events, before anyone confirms: pending, no write
    emulator.recorder_reset();
    for event in ["logs/put-metric-filter.json", "monitoring/put-metric-alarm.json"] {
        let d = one(&app, &sample_event(event)).await;
        assert_eq!(d.verdict, Verdict::Pending, "{event}: {d:?}");
        assert!(d.changes.is_empty());
    }
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());

    // WHEN the person confirms: the ConfirmSubscription event ends compliant
    let confirmed = confirm_all(&emulator, &c).await;
    emulator.recorder_reset();
    let d = one(&app, &confirmed).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    let line = d.to_json_line();
    assert!(!line.contains("2336412f37fb687f"), "the confirmation token never reaches a decision: {line}");
}

#[tokio::test]
async fn one_sweep_builds_it_all_and_a_second_sweep_writes_nothing() {
    // GIVEN a delivering trail and an SQS subscriber (confirmed when subscribed)
    let (emulator, c) = setup().await;
    let queue = c.sqs.create_queue().queue_name("security").send().await.unwrap();
    let attrs = c
        .sqs
        .get_queue_attributes()
        .queue_url(queue.queue_url().unwrap())
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let queue_arn = attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    let sqs = Subscriber { protocol: "sqs".into(), endpoint: queue_arn };
    let app = app_with(&emulator, Mode::Remediate, &[sqs], None);
    // WHEN the sweep runs
    let report = app.sweep(&[CONTROL], 4, Some(ACCOUNT), |_| {}).await;
    // THEN one decision, fixed: every filter and alarm, the topic and its subscriber
    assert_eq!(report.evaluations.len(), 1);
    let d = &report.evaluations[0].decision;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(filters(&c).await.len(), CIS_FILTERS.len());
    assert_eq!(alarms(&c).await.len(), CIS_FILTERS.len());
    // AND the next sweep finds it compliant without a write
    emulator.recorder_reset();
    let again = app.sweep(&[CONTROL], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(again.evaluations[0].decision.verdict, Verdict::Compliant, "{:?}", again.evaluations[0].decision);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

/// A fixed account with a confirmed email subscriber, and the app that fixed it.
async fn fixed() -> (Emulator, AwsClients, Logmend) {
    let (emulator, c) = setup().await;
    let app = app_with(&emulator, Mode::Remediate, &[email()], None);
    let d = one(&app, &sample_event("cloudtrail/update-trail-with-cloudwatch.json")).await;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    confirm_all(&emulator, &c).await;
    emulator.recorder_reset();
    (emulator, c, app)
}

#[tokio::test]
async fn a_deleted_filter_or_alarm_or_disabled_actions_come_back_on_their_event() {
    let (emulator, c, app) = fixed().await;
    // A filter deleted
    c.logs
        .delete_metric_filter()
        .log_group_name(GROUP)
        .filter_name("logmend-cis-RootAccountUsage")
        .send()
        .await
        .unwrap();
    emulator.recorder_reset();
    let d = one(&app, &sample_event("logs/delete-metric-filter.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.changes.len(), 1, "{:?}", d.changes);
    assert_eq!(d.changes[0].api, "logs:PutMetricFilter");
    assert!(d.reason.contains("no metric filter RootAccountUsage"), "{}", d.reason);
    // An alarm deleted
    c.cloudwatch.delete_alarms().alarm_names("logmend-cis-IAMPolicyChanges").send().await.unwrap();
    emulator.recorder_reset();
    let d = one(&app, &sample_event("monitoring/delete-alarms.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.changes.iter().map(|c| c.api).collect::<Vec<_>>(), ["cloudwatch:PutMetricAlarm"]);
    // Actions disabled
    c.cloudwatch.disable_alarm_actions().alarm_names("logmend-cis-VPCChanges").send().await.unwrap();
    emulator.recorder_reset();
    let d = one(&app, &sample_event("monitoring/disable-alarm-actions.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.changes.len(), 1);
    emulator.assert_calls_declared(CONTROL);
    let vpc = alarms(&c).await.into_iter().find(|a| a.alarm_name() == Some("logmend-cis-VPCChanges")).unwrap();
    assert_eq!(vpc.actions_enabled(), Some(true));
    // The topic deleted: made again, with its policy; the email subscribed again (pending)
    c.sns.delete_topic().topic_arn(TOPIC).send().await.unwrap();
    emulator.recorder_reset();
    let d = one(&app, &sample_event("sns/delete-topic.json")).await;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert_eq!(count(&d, "sns:CreateTopic"), 1);
    assert_eq!(count(&d, "sns:Subscribe"), 1);
    emulator.assert_calls_declared(CONTROL);
}

#[tokio::test]
async fn a_filter_whose_pattern_someone_edited_is_restored() {
    let (_emulator, c, app) = fixed().await;
    let t = counting("LogMetrics", "CloudTrailChanges");
    // Someone narrows the CloudTrail filter: StopLogging no longer counts.
    c.logs
        .put_metric_filter()
        .log_group_name(GROUP)
        .filter_name("logmend-cis-CloudTrailChanges")
        .filter_pattern("{($.eventName=CreateTrail) || ($.eventName=UpdateTrail)}")
        .metric_transformations(t)
        .send()
        .await
        .unwrap();
    let d = one(&app, &sample_event("logs/put-metric-filter.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert!(d.reason.contains("filter logmend-cis-CloudTrailChanges has another pattern"), "{}", d.reason);
    let expected = CIS_FILTERS.iter().find(|f| f.metric == "CloudTrailChanges").unwrap().pattern;
    let got = filters(&c).await;
    let f = got.iter().find(|f| f.filter_name() == Some("logmend-cis-CloudTrailChanges")).unwrap();
    assert_eq!(f.filter_pattern(), Some(expected));
    assert_eq!(got.len(), CIS_FILTERS.len(), "replaced, not added beside");
}

#[tokio::test]
async fn someone_elses_exact_filters_count_whatever_their_names_and_get_an_alarm() {
    let (emulator, c) = setup().await;
    let root = &CIS_FILTERS[0];
    let t = counting("CISBenchmark", "root-usage");
    // The same pattern, written with other spacing, as the CIS PDF prints it.
    c.logs
        .put_metric_filter()
        .log_group_name(GROUP)
        .filter_name("cis-3.3")
        .filter_pattern(root.pattern.replace("&&", " && "))
        .metric_transformations(t)
        .send()
        .await
        .unwrap();
    let app = app_with(&emulator, Mode::Remediate, &[email()], None);
    let d = one(&app, &sample_event("logs/put-metric-filter.json")).await;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert_eq!(count(&d, "logs:PutMetricFilter"), CIS_FILTERS.len() - 1, "theirs counts");
    let root_alarm =
        alarms(&c).await.into_iter().find(|a| a.alarm_name() == Some("logmend-cis-RootAccountUsage")).unwrap();
    assert_eq!((root_alarm.namespace(), root_alarm.metric_name()), (Some("CISBenchmark"), Some("root-usage")));
}

#[tokio::test]
async fn audit_mode_and_a_second_run_write_nothing() {
    let (emulator, _c) = setup().await;
    let audit = app_with(&emulator, Mode::Audit, &[email()], None);
    let d = one(&audit, &sample_event("logs/put-metric-filter.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert_eq!(count(&d, "logs:PutMetricFilter"), CIS_FILTERS.len(), "the planned changes are reported");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    emulator.assert_calls_declared(CONTROL);

    let (emulator, _c, app) = fixed().await;
    let d = one(&app, &sample_event("monitoring/put-metric-alarm.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn no_subscriber_configured_is_noncompliant_with_the_reason() {
    let (emulator, c) = setup().await;
    let app = app_with(&emulator, Mode::Remediate, &[], None);
    let d = one(&app, &sample_event("logs/put-metric-filter.json")).await;
    // The filters and alarms are written (their metrics are worth having), yet no one hears.
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("LOGMEND_ALARM_EMAIL"), "{}", d.reason);
    assert_eq!(filters(&c).await.len(), CIS_FILTERS.len());
    // Its own writes' events: still noncompliant, and nothing more is written.
    emulator.recorder_reset();
    let d = one(&app, &sample_event("monitoring/put-metric-alarm.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.changes.is_empty());
    assert!(d.reason.contains("no confirmed subscriber"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_trail_that_is_not_multi_region_is_not_the_one_used() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    delivering_trail(&emulator, &c, TRAIL, false).await;
    emulator.recorder_reset();
    let app = app_with(&emulator, Mode::Remediate, &[email()], None);
    let d = one(&app, &sample_event("cloudtrail/update-trail-with-cloudwatch.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.changes.is_empty(), "{:?}", d.changes);
    assert!(d.reason.contains("no multi-region trail delivers to CloudWatch Logs"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    assert!(filters(&c).await.is_empty());
}

#[tokio::test]
async fn a_configured_topic_is_used_never_created_and_the_other_region_skips() {
    let (emulator, c) = setup().await;
    let topic = c.sns.create_topic().name("security").send().await.unwrap().topic_arn().unwrap().to_owned();
    let app = app_with(&emulator, Mode::Remediate, &[email()], Some(&topic));
    let d = one(&app, &sample_event("logs/put-metric-filter.json")).await;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert_eq!(count(&d, "sns:CreateTopic") + count(&d, "sns:SetTopicAttributes"), 0, "someone's topic is theirs");
    assert!(alarms(&c).await.iter().all(|a| a.alarm_actions() == [topic.clone()]));
    // A shadow region of the multi-region trail does not decide: its home region does.
    let west = logmend::app(config_for(Mode::Remediate, &[CONTROL]), emulator.clients("us-west-2"));
    let mut event = sample_event("logs/put-metric-filter.json");
    event["region"] = "us-west-2".into();
    event["detail"]["awsRegion"] = "us-west-2".into();
    let d = one(&west, &event).await;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert!(d.reason.contains("that region decides"), "{}", d.reason);
}

#[tokio::test]
async fn an_exempt_log_group_is_skipped() {
    let (emulator, c) = setup().await;
    c.logs.tag_resource().resource_arn(GROUP_ARN).tags("logmend:exempt", "true").send().await.unwrap();
    emulator.recorder_reset();
    let app = app_with(&emulator, Mode::Remediate, &[email()], None);
    let d = one(&app, &sample_event("logs/put-metric-filter.json")).await;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}
