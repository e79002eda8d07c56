//! `sns-delivery-status-logging` (detect and report only) against the emulator, whose launcher
//! makes topics store and answer the delivery status attributes, as AWS does. One test per path:
//! an SQS and a Lambda subscriber without failure feedback reported with the attributes and
//! nothing written in remediate mode, compliant once set; an email-only topic; the sweep with an
//! exempt topic; a deleted topic.

use aws_sdk_sns::types::Tag;
use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend_integration::{ACCOUNT, AwsClients, Emulator, config_for, one, sample_event};

const CONTROL: &str = "sns-delivery-status-logging";
const FEEDBACK_ROLE: &str = "arn:aws:iam::123456789012:role/sns-delivery-status";

fn app(emulator: &Emulator, mode: Mode) -> Logmend {
    logmend::app(config_for(mode, &[CONTROL]), emulator.clients("us-east-1"))
}

async fn topic(c: &AwsClients, name: &str, protocols: &[(&str, &str)], tag: Option<Tag>) -> String {
    let arn = c.sns.create_topic().name(name).set_tags(tag.map(|t| vec![t])).send().await.unwrap();
    let arn = arn.topic_arn().unwrap().to_owned();
    for (protocol, endpoint) in protocols {
        c.sns.subscribe().topic_arn(&arn).protocol(*protocol).endpoint(*endpoint).send().await.unwrap();
    }
    arn
}

#[tokio::test]
async fn subscribers_without_failure_feedback_are_reported_and_nothing_is_written() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    c.sqs.create_queue().queue_name("orders").send().await.unwrap();
    let arn = topic(
        &c,
        "orders-events",
        &[
            ("sqs", "arn:aws:sqs:us-east-1:123456789012:orders"),
            ("lambda", "arn:aws:lambda:us-east-1:123456789012:function:orders"),
            ("email", "ops@example.com"),
        ],
        None,
    )
    .await;
    emulator.recorder_reset();
    let d = one(&app(&emulator, Mode::Remediate), &sample_event("sns/subscribe.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("SQSFailureFeedbackRoleArn, LambdaFailureFeedbackRoleArn not set"), "{}", d.reason);
    assert!(!d.reason.contains("ops@example.com"), "no endpoint in the decision");
    assert!(d.changes.is_empty());
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "audit only, in remediate mode too");
    emulator.assert_calls_declared(CONTROL);
    for attribute in ["SQSFailureFeedbackRoleArn", "LambdaFailureFeedbackRoleArn"] {
        c.sns
            .set_topic_attributes()
            .topic_arn(&arn)
            .attribute_name(attribute)
            .attribute_value(FEEDBACK_ROLE)
            .send()
            .await
            .unwrap();
    }
    let d = one(&app(&emulator, Mode::Audit), &sample_event("sns/subscribe.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(d.reason, "delivery status is logged for sqs, lambda");
}

#[tokio::test]
async fn the_sweep_judges_each_topic_skips_exempt_ones_and_email_only_topics_are_compliant() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    topic(&c, "mail-only", &[("email", "ops@example.com")], None).await;
    topic(&c, "webhooks", &[("https", "https://hooks.example.com/sns")], None).await;
    let exempt = Tag::builder().key("logmend:exempt").value("true").build().unwrap();
    topic(&c, "legacy", &[("https", "https://old.example.com/sns")], Some(exempt)).await;
    emulator.recorder_reset();
    let sweep = app(&emulator, Mode::Remediate).sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(sweep.summary.count(Verdict::Compliant), 1, "{:?}", sweep.summary);
    assert_eq!(sweep.summary.count(Verdict::Noncompliant), 1, "{:?}", sweep.summary);
    assert_eq!(sweep.summary.count(Verdict::Skipped), 1, "{:?}", sweep.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    let d = one(&app(&emulator, Mode::Audit), &sample_event("sns/subscribe.json")).await;
    assert_eq!(d.verdict, Verdict::Skipped, "orders-events does not exist: {d:?}");
}
