//! `mq-broker-logs` against the emulator (with its pending-logs and RabbitMQ-audit patches).

use logmend::controls::mq_broker_logs::RESOURCE_POLICY_NAME;
use logmend::decision::{Mode, Verdict};
use logmend::{Config, Decision, Logmend, config::MqReboot};
use logmend_integration::{BROKER_PASSWORD, Emulator, EmulatorOptions, broker_event, config, create_broker};
use serde_json::json;
use std::time::Duration;

fn app(emulator: &Emulator, cfg: Config) -> Logmend {
    logmend::app(cfg, emulator.clients("us-east-1"))
}

async fn handle(app: &Logmend, event: serde_json::Value) -> Decision {
    let mut out = app.handle_event(&event).await.unwrap();
    assert_eq!(out.len(), 1, "{out:?}");
    out.remove(0).decision
}

/// (General, Audit, Pending General, Pending Audit) as DescribeBroker says.
async fn logs_of(emulator: &Emulator, id: &str) -> (Option<bool>, Option<bool>, Option<bool>, Option<bool>) {
    let b = emulator.clients("us-east-1").mq.describe_broker().broker_id(id).send().await.unwrap();
    let l = b.logs().unwrap();
    (l.general(), l.audit(), l.pending().and_then(|p| p.general()), l.pending().and_then(|p| p.audit()))
}

async fn resource_policy_names(emulator: &Emulator) -> Vec<String> {
    let out = emulator.clients("us-east-1").logs.describe_resource_policies().send().await.unwrap();
    out.resource_policies().iter().filter_map(|p| p.policy_name().map(str::to_owned)).collect()
}

/// The policy AWS's Amazon MQ guide shows, under a name of the account's own.
async fn put_documented_policy(emulator: &Emulator) {
    let doc = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Principal":{"Service":"mq.amazonaws.com"},"Action":["logs:CreateLogStream","logs:PutLogEvents"],
        "Resource":"arn:aws:logs:*:*:log-group:/aws/amazonmq/*"}]});
    let logs = emulator.clients("us-east-1").logs;
    logs.put_resource_policy().policy_name("AmazonMQ-logs").policy_document(doc.to_string()).send().await.unwrap();
}

#[tokio::test]
async fn activemq_without_logs_gets_both_and_one_resource_policy() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let first = create_broker(&c, "orders", "ACTIVEMQ", false, false).await;
    let second = create_broker(&c, "billing", "ACTIVEMQ", false, false).await;
    emulator.recorder_reset();
    let app = app(&emulator, config(Mode::Remediate));

    let d = handle(&app, broker_event("mq/create-broker-activemq.json", &first)).await;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert_eq!(d.resource, format!("arn:aws:mq:us-east-1:123456789012:broker:{first}"));
    assert_eq!(d.control, "mq-broker-logs");
    assert!(d.reason.contains("general and audit logs enabled; applies at the next reboot"), "{}", d.reason);
    let changes: Vec<(&str, &str)> = d.changes.iter().map(|c| (c.api, c.detail.as_str())).collect();
    assert_eq!(changes[0].0, "logs:PutResourcePolicy");
    assert_eq!(changes[1], ("mq:UpdateBroker", "Logs.General=true Logs.Audit=true"));
    assert_eq!(emulator.mutating_calls(), ["logs:PutResourcePolicy", "mq:UpdateBroker"]);
    assert_eq!(logs_of(&emulator, &first).await, (Some(false), Some(false), Some(true), Some(true)));

    emulator.recorder_reset();
    let d = handle(&app, broker_event("mq/create-broker-activemq.json", &second)).await;
    assert_eq!(d.verdict, Verdict::Pending);
    assert_eq!(emulator.mutating_calls(), ["mq:UpdateBroker"], "the policy is made once per account and region");
    assert_eq!(resource_policy_names(&emulator).await, [RESOURCE_POLICY_NAME]);
}

#[tokio::test]
async fn rabbitmq_gets_general_logs_only() {
    let emulator = Emulator::start();
    let id = create_broker(&emulator.clients("us-east-1"), "events-bus", "RABBITMQ", false, false).await;
    emulator.recorder_reset();
    let d = handle(&app(&emulator, config(Mode::Remediate)), broker_event("mq/create-broker-rabbitmq.json", &id)).await;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert_eq!(d.changes.last().unwrap().detail, "Logs.General=true", "audit does not exist for RabbitMQ");
    let (_, audit, pending_general, pending_audit) = logs_of(&emulator, &id).await;
    assert_eq!((pending_general, pending_audit, audit), (Some(true), None, None));
}

#[tokio::test]
async fn a_compliant_broker_costs_two_reads_and_no_write() {
    let emulator = Emulator::start();
    put_documented_policy(&emulator).await;
    let id = create_broker(&emulator.clients("us-east-1"), "orders", "ACTIVEMQ", true, true).await;
    emulator.recorder_reset();
    let d = handle(&app(&emulator, config(Mode::Remediate)), broker_event("mq/update-broker.json", &id)).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(d.reason, "general and audit logs on");
    assert_eq!(emulator.recorded_calls(), ["mq:DescribeBroker", "logs:DescribeResourcePolicies"]);
}

#[tokio::test]
async fn an_existing_covering_resource_policy_is_reused() {
    let emulator = Emulator::start();
    put_documented_policy(&emulator).await;
    let id = create_broker(&emulator.clients("us-east-1"), "orders", "ACTIVEMQ", true, false).await;
    emulator.recorder_reset();
    let d = handle(&app(&emulator, config(Mode::Remediate)), broker_event("mq/update-broker.json", &id)).await;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert_eq!(emulator.mutating_calls(), ["mq:UpdateBroker"]);
    assert_eq!(d.changes[0].detail, "Logs.Audit=true", "only the missing type is sent");
    assert_eq!(resource_policy_names(&emulator).await, ["AmazonMQ-logs"]);
    assert_eq!(logs_of(&emulator, &id).await, (Some(true), Some(false), None, Some(true)));
}

#[tokio::test]
async fn logs_on_but_no_resource_policy_gets_only_the_policy() {
    let emulator = Emulator::start();
    let id = create_broker(&emulator.clients("us-east-1"), "orders", "ACTIVEMQ", true, true).await;
    emulator.recorder_reset();
    let d = handle(&app(&emulator, config(Mode::Remediate)), broker_event("mq/update-broker.json", &id)).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(emulator.mutating_calls(), ["logs:PutResourcePolicy"]);
}

#[tokio::test]
async fn the_remediators_own_update_event_and_a_second_run_write_nothing() {
    let emulator = Emulator::start();
    let id = create_broker(&emulator.clients("us-east-1"), "orders", "ACTIVEMQ", false, false).await;
    let app = app(&emulator, config(Mode::Remediate));
    assert_eq!(handle(&app, broker_event("mq/create-broker-activemq.json", &id)).await.verdict, Verdict::Pending);
    emulator.recorder_reset();
    // logmend's UpdateBroker comes back as an event; the change is pending: no second write.
    let d = handle(&app, broker_event("mq/update-broker.json", &id)).await;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert!(d.changes.is_empty());
    assert!(d.reason.contains("general and audit logs enabled; the change applies at the next reboot"), "{}", d.reason);
    let d = handle(&app, broker_event("mq/create-broker-activemq.json", &id)).await;
    assert_eq!(d.verdict, Verdict::Pending);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());

    // The maintenance window (here: a reboot by someone else) applies it.
    emulator.clients("us-east-1").mq.reboot_broker().broker_id(&id).send().await.unwrap();
    let d = handle(&app, broker_event("mq/reboot-broker.json", &id)).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(logs_of(&emulator, &id).await, (Some(true), Some(true), None, None));
}

#[tokio::test]
async fn audit_mode_writes_nothing_and_lists_the_planned_changes() {
    let emulator = Emulator::start();
    let id = create_broker(&emulator.clients("us-east-1"), "orders", "ACTIVEMQ", false, false).await;
    emulator.recorder_reset();
    let d = handle(&app(&emulator, config(Mode::Audit)), broker_event("mq/create-broker-activemq.json", &id)).await;
    assert_eq!(d.verdict, Verdict::Noncompliant);
    assert_eq!(d.mode, Mode::Audit);
    let apis: Vec<&str> = d.changes.iter().map(|c| c.api).collect();
    assert_eq!(apis, ["logs:PutResourcePolicy", "mq:UpdateBroker"]);
    assert!(d.reason.contains("ACTIVEMQ broker has general and audit logs off"), "{}", d.reason);
    assert!(d.reason.contains("no CloudWatch Logs resource policy"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    assert_eq!(logs_of(&emulator, &id).await, (Some(false), Some(false), None, None));
}

#[tokio::test]
async fn reboot_now_fixes_and_a_rebooting_broker_is_deferred_until_it_runs() {
    let emulator = Emulator::start_with(EmulatorOptions { mq_reboot_seconds: 1.5, ..Default::default() });
    let id = create_broker(&emulator.clients("us-east-1"), "orders", "ACTIVEMQ", false, false).await;
    let mut cfg = config(Mode::Remediate);
    cfg.mq_reboot = MqReboot::Now;
    let app = app(&emulator, cfg);
    emulator.recorder_reset();
    let d = handle(&app, broker_event("mq/create-broker-activemq.json", &id)).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.reason, "general and audit logs enabled; broker rebooting to apply them");
    assert_eq!(emulator.mutating_calls(), ["logs:PutResourcePolicy", "mq:UpdateBroker", "mq:RebootBroker"]);

    // The reboot's own event arrives while it runs.
    let d = handle(&app, broker_event("mq/reboot-broker.json", &id)).await;
    assert_eq!(d.verdict, Verdict::Deferred, "{d:?}");
    assert!(d.reason.contains("REBOOT_IN_PROGRESS"), "{}", d.reason);
    tokio::time::sleep(Duration::from_millis(1700)).await;
    emulator.recorder_reset();
    let d = handle(&app, broker_event("mq/reboot-broker.json", &id)).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn exempt_deleted_and_failed_call_brokers_are_skipped() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let id = create_broker(&c, "orders", "ACTIVEMQ", false, false).await;
    let arn = format!("arn:aws:mq:us-east-1:123456789012:broker:{id}");
    c.mq.create_tags().resource_arn(&arn).tags("logmend:exempt", "true").send().await.unwrap();
    let app = app(&emulator, config(Mode::Remediate));
    emulator.recorder_reset();
    let d = handle(&app, broker_event("mq/update-broker.json", &id)).await;
    assert_eq!((d.verdict, d.reason.as_str()), (Verdict::Skipped, "tagged logmend:exempt=true"));

    let d = handle(&app, broker_event("mq/update-broker.json", "b-0000-gone")).await;
    assert_eq!((d.verdict, d.reason.as_str()), (Verdict::Skipped, "the broker no longer exists"));

    let d = handle(&app, broker_event("mq/update-broker-failed-access-denied.json", &id)).await;
    assert_eq!(d.verdict, Verdict::Skipped);
    assert!(d.reason.contains("failed with AccessDenied"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_create_broker_password_appears_nowhere_in_the_output() {
    let emulator = Emulator::start();
    let id = create_broker(&emulator.clients("us-east-1"), "orders", "ACTIVEMQ", false, false).await;
    let mut event = broker_event("mq/create-broker-activemq.json", &id);
    event["detail"]["requestParameters"]["users"][0]["password"] = BROKER_PASSWORD.into();
    for mode in [Mode::Audit, Mode::Remediate] {
        let out = app(&emulator, config(mode)).handle_event(&event).await.unwrap();
        let printed =
            format!("{out:?} {}", serde_json::to_string(&out.iter().map(|e| &e.decision).collect::<Vec<_>>()).unwrap());
        assert!(!printed.contains(BROKER_PASSWORD) && !printed.contains("Passw0rd"), "{printed}");
        assert!(!printed.contains("admin"), "user names stay out too: {printed}");
    }
    // The sample itself carries an unmasked password; the CLI, at the most verbose log level,
    // prints neither it nor the user name (tests/it/cli.rs runs the binary).
}
