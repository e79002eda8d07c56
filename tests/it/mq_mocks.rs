//! Broker states the emulator never shows (its brokers are RUNNING from birth), through
//! `aws-smithy-mocks` rules on the real SDK clients.

use aws_sdk_mq::operation::describe_broker::DescribeBrokerOutput;
use aws_sdk_mq::types::{BrokerState, EngineType, LogsSummary, PendingLogs};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use logmend::controls::mq_broker_logs::MqLogsResourcePolicy;
use logmend::decision::{Mode, Verdict};
use logmend_integration::AwsClients;
use logmend_integration::{broker_event, config, offline_clients};

const ID: &str = "b-3f1c2a9e-8d7b-4c6a-9e5f-1a2b3c4d5e6f";
const ARN: &str = "arn:aws:mq:us-east-1:123456789012:broker:orders:b-3f1c2a9e-8d7b-4c6a-9e5f-1a2b3c4d5e6f";

fn broker(state: BrokerState, logs: LogsSummary) -> DescribeBrokerOutput {
    DescribeBrokerOutput::builder()
        .broker_id(ID)
        .broker_arn(ARN)
        .engine_type(EngineType::Activemq)
        .broker_state(state)
        .logs(logs)
        .build()
}

fn off() -> LogsSummary {
    LogsSummary::builder().general(false).audit(false).build()
}

fn clients(describe: &Rule, extra_mq: &[&Rule]) -> AwsClients {
    let policy = MqLogsResourcePolicy::document("aws", "us-east-1", "123456789012").to_string();
    let policies = mock!(aws_sdk_cloudwatchlogs::Client::describe_resource_policies).then_output(move || {
        aws_sdk_cloudwatchlogs::operation::describe_resource_policies::DescribeResourcePoliciesOutput::builder()
            .resource_policies(
                aws_sdk_cloudwatchlogs::types::ResourcePolicy::builder()
                    .policy_name("logmend-amazonmq-logs")
                    .policy_document(policy.clone())
                    .build(),
            )
            .build()
    });
    let mut rules = vec![describe];
    rules.extend_from_slice(extra_mq);
    AwsClients {
        mq: mock_client!(aws_sdk_mq, RuleMode::MatchAny, rules),
        logs: mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&policies]),
        ..offline_clients()
    }
}

async fn decide(clients: AwsClients, event: &str) -> (logmend::Decision, bool) {
    let app = logmend::app(config(Mode::Remediate), clients);
    let mut out = app.handle_event(&broker_event(event, ID)).await.unwrap();
    let e = out.remove(0);
    (e.decision, e.retry)
}

#[tokio::test]
async fn mocked_broker_being_created_is_deferred_with_its_state() {
    let describe = mock!(aws_sdk_mq::Client::describe_broker)
        .then_output(|| broker(BrokerState::CreationInProgress, LogsSummary::builder().build()));
    let (d, retry) = decide(clients(&describe, &[]), "mq/create-broker-activemq.json").await;
    assert_eq!(d.verdict, Verdict::Deferred, "{d:?}");
    assert_eq!(d.reason, "broker is CREATION_IN_PROGRESS; its logs are checked again when it is RUNNING");
    assert_eq!(d.resource, ARN);
    assert!(!retry, "deferred is re-checked by the delay queue, not by a failure");
}

#[tokio::test]
async fn mocked_broker_rebooting_or_needing_action_is_deferred_failed_creation_skipped() {
    for (state, verdict) in [
        (BrokerState::RebootInProgress, Verdict::Deferred),
        (BrokerState::CriticalActionRequired, Verdict::Deferred),
        (BrokerState::CreationFailed, Verdict::Skipped),
        (BrokerState::DeletionInProgress, Verdict::Skipped),
    ] {
        let s = state.clone();
        let describe = mock!(aws_sdk_mq::Client::describe_broker).then_output(move || broker(s.clone(), off()));
        let (d, _) = decide(clients(&describe, &[]), "mq/reboot-broker.json").await;
        assert_eq!(d.verdict, verdict, "{state:?}: {d:?}");
        assert!(d.reason.contains(state.as_str()), "{}", d.reason);
    }
}

#[tokio::test]
async fn mocked_pending_logs_are_pending_and_never_updated_again() {
    let describe = mock!(aws_sdk_mq::Client::describe_broker).then_output(|| {
        broker(
            BrokerState::Running,
            LogsSummary::builder()
                .general(true)
                .audit(false)
                .pending(PendingLogs::builder().audit(true).build())
                .build(),
        )
    });
    let update = mock!(aws_sdk_mq::Client::update_broker)
        .then_output(|| aws_sdk_mq::operation::update_broker::UpdateBrokerOutput::builder().build());
    let (d, _) = decide(clients(&describe, &[&update]), "mq/update-broker.json").await;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert_eq!(d.reason, "audit logs enabled; the change applies at the next reboot or maintenance window");
    assert_eq!(update.num_calls(), 0);
}

#[tokio::test]
async fn mocked_pending_switch_off_is_noncompliant_and_switched_back_on() {
    let describe = mock!(aws_sdk_mq::Client::describe_broker).then_output(|| {
        broker(
            BrokerState::Running,
            LogsSummary::builder()
                .general(true)
                .audit(true)
                .pending(PendingLogs::builder().audit(false).build())
                .build(),
        )
    });
    let update = mock!(aws_sdk_mq::Client::update_broker)
        .match_requests(|r| r.logs().is_some_and(|l| l.audit() == Some(true) && l.general().is_none()))
        .then_output(|| aws_sdk_mq::operation::update_broker::UpdateBrokerOutput::builder().build());
    let (d, _) = decide(clients(&describe, &[&update]), "mq/update-broker.json").await;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert_eq!(update.num_calls(), 1);
}

#[tokio::test]
async fn mocked_throttled_update_is_a_retryable_failure_naming_the_code() {
    let describe = mock!(aws_sdk_mq::Client::describe_broker).then_output(|| broker(BrokerState::Running, off()));
    let update = mock!(aws_sdk_mq::Client::update_broker).then_http_response(|| {
        let mut response = aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(429).unwrap(),
            aws_smithy_types::body::SdkBody::from(r#"{"message":"Rate exceeded"}"#),
        );
        response.headers_mut().insert("x-amzn-ErrorType", "TooManyRequestsException");
        response
    });
    let (d, retry) = decide(clients(&describe, &[&update]), "mq/update-broker.json").await;
    assert_eq!(d.verdict, Verdict::Failed, "{d:?}");
    assert!(retry, "throttling is worth another try");
    assert!(d.reason.contains("mq:UpdateBroker") && d.reason.contains(ID), "{}", d.reason);
    assert_eq!(d.error_code.as_deref(), Some("TooManyRequestsException"));
}
