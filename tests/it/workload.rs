//! `stepfunctions-logging` (StepFunctions.1) against the emulator, whose launcher makes
//! UpdateStateMachine need a definition or role and checks the state machine's role for the
//! log-delivery actions, as AWS does. One test per path: logging turned on into a new
//! `/aws/vendedlogs/states/` group and logmend's own update ending compliant; a role that
//! lacks the delivery actions reported with nothing written; `attach` adding logmend's inline
//! policy only; audit, exempt, a higher level or someone's group kept; the sweep.

use aws_sdk_sfn::types::{CloudWatchLogsLogGroup, LogDestination, LogLevel, LoggingConfiguration, Tag};
use logmend::Logmend;
use logmend::config::{RolePolicy, StatesLogLevel};
use logmend::decision::{Mode, Verdict};
use logmend_integration::{ACCOUNT, AwsClients, Emulator, config_for, one, sample_event};
use serde_json::json;

const CONTROL: &str = "stepfunctions-logging";
const DEFINITION: &str = r#"{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}"#;

fn app_with(emulator: &Emulator, mode: Mode, edit: impl FnOnce(&mut logmend::Config)) -> Logmend {
    let mut config = config_for(mode, &[CONTROL]);
    edit(&mut config);
    logmend::app(config, emulator.clients("us-east-1"))
}

fn app(emulator: &Emulator, mode: Mode) -> Logmend {
    app_with(emulator, mode, |_| {})
}

/// A state machine's role, trusting Step Functions; with `delivery`, the policy the Step
/// Functions guide gives for logging.
pub async fn states_role(c: &AwsClients, name: &str, delivery: bool) -> String {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role = c.iam.create_role().role_name(name).assume_role_policy_document(trust.to_string()).send().await.unwrap();
    let tasks = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]});
    c.iam
        .put_role_policy()
        .role_name(name)
        .policy_name("orders-tasks")
        .policy_document(tasks.to_string())
        .send()
        .await
        .unwrap();
    if delivery {
        let logs = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
            "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"],
            "Resource": "*"}]});
        c.iam
            .put_role_policy()
            .role_name(name)
            .policy_name("logging")
            .policy_document(logs.to_string())
            .send()
            .await
            .unwrap();
    }
    role.role().unwrap().arn().to_owned()
}

pub async fn state_machine(c: &AwsClients, name: &str, role_arn: &str) -> String {
    let out = c.sfn.create_state_machine().name(name).definition(DEFINITION).role_arn(role_arn).send().await.unwrap();
    out.state_machine_arn().to_owned()
}

fn logging_into(group_arn: &str, level: LogLevel) -> LoggingConfiguration {
    let destination = LogDestination::builder()
        .cloud_watch_logs_log_group(CloudWatchLogsLogGroup::builder().log_group_arn(group_arn).build())
        .build();
    LoggingConfiguration::builder().level(level).destinations(destination).build()
}

async fn logging(c: &AwsClients, arn: &str) -> (LogLevel, Option<String>, bool) {
    let d = c.sfn.describe_state_machine().state_machine_arn(arn).send().await.unwrap();
    let l = d.logging_configuration().unwrap();
    let group = l.destinations().first().and_then(|d| d.cloud_watch_logs_log_group()).and_then(|g| g.log_group_arn());
    (l.level().cloned().unwrap(), group.map(str::to_owned), l.include_execution_data())
}

#[tokio::test]
async fn logging_goes_into_a_new_vended_logs_group_and_logmends_own_update_ends_compliant() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let role = states_role(&c, "orders-sfn", true).await;
    let arn = state_machine(&c, "orders", &role).await;
    let app = app(&emulator, Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("states/create-state-machine.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(
        emulator.mutating_calls(),
        ["logs:CreateLogGroup", "logs:PutRetentionPolicy", "states:UpdateStateMachine"]
    );
    emulator.assert_calls_declared(CONTROL);
    let (level, group, data) = logging(&c, &arn).await;
    assert_eq!(level, LogLevel::Error);
    assert_eq!(group.as_deref(), Some("arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/orders:*"));
    assert!(!data, "execution data (inputs, outputs) is not logged unless it was");
    let d = c.sfn.describe_state_machine().state_machine_arn(&arn).send().await.unwrap();
    assert_eq!(d.definition(), DEFINITION, "the definition is the one it had");
    let groups =
        c.logs.describe_log_groups().log_group_name_prefix("/aws/vendedlogs/states/orders").send().await.unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(365));
    // logmend's UpdateStateMachine comes back: compliant, no write.
    emulator.recorder_reset();
    let d = one(&app, &sample_event("states/update-state-machine-logging-off.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_role_without_the_delivery_actions_is_reported_and_nothing_is_written() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let role = states_role(&c, "orders-sfn", false).await;
    state_machine(&c, "orders", &role).await;
    emulator.recorder_reset();
    let d = one(&app(&emulator, Mode::Remediate), &sample_event("states/create-state-machine.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("lacks logs:CreateLogDelivery"), "{}", d.reason);
    assert!(d.reason.contains("LOGMEND_STATES_ROLE_POLICY=attach"), "{}", d.reason);
    assert!(d.changes.is_empty(), "{:?}", d.changes);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "no log group, no update, no role change");
}

#[tokio::test]
async fn attach_adds_logmends_inline_policy_and_keeps_the_roles_own() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let role = states_role(&c, "orders-sfn", false).await;
    let arn = state_machine(&c, "orders", &role).await;
    let app = app_with(&emulator, Mode::Remediate, |c| c.states_role_policy = RolePolicy::Attach);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("states/create-state-machine.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(
        emulator.mutating_calls(),
        ["logs:CreateLogGroup", "logs:PutRetentionPolicy", "iam:PutRolePolicy", "states:UpdateStateMachine"]
    );
    emulator.assert_calls_declared(CONTROL);
    let names = c.iam.list_role_policies().role_name("orders-sfn").send().await.unwrap();
    let mut names = names.policy_names().to_vec();
    names.sort();
    assert_eq!(names, ["logmend-states-log-delivery", "orders-tasks"]);
    assert_eq!(logging(&c, &arn).await.0, LogLevel::Error);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("states/update-state-machine-logging-off.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn audit_writes_nothing_exempt_is_skipped_and_someones_group_and_level_are_kept() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let role = states_role(&c, "orders-sfn", true).await;
    let orders = state_machine(&c, "orders", &role).await;
    let billing = state_machine(&c, "billing", &role).await;
    let legal = state_machine(&c, "legal-hold", &role).await;
    c.logs.create_log_group().log_group_name("/app/billing").send().await.unwrap();
    let billing_group = "arn:aws:logs:us-east-1:123456789012:log-group:/app/billing:*";
    c.sfn
        .update_state_machine()
        .state_machine_arn(&billing)
        .definition(DEFINITION)
        .logging_configuration(logging_into(billing_group, LogLevel::Fatal))
        .send()
        .await
        .unwrap();
    let exempt = Tag::builder().key("logmend:exempt").value("true").build();
    c.sfn.tag_resource().resource_arn(&legal).tags(exempt).send().await.unwrap();
    emulator.recorder_reset();
    let audit = app(&emulator, Mode::Audit).sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(audit.summary.count(Verdict::Noncompliant), 2, "{:?}", audit.summary);
    assert_eq!(audit.summary.count(Verdict::Skipped), 1, "{:?}", audit.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    let all = |c: &mut logmend::Config| c.states_log_level = StatesLogLevel::All;
    let fix = app_with(&emulator, Mode::Remediate, all).sweep(&[], 1, Some(ACCOUNT), |_| {}).await;
    assert_eq!(fix.summary.count(Verdict::Fixed), 2, "{:?}", fix.summary);
    assert_eq!(logging(&c, &billing).await.0, LogLevel::All);
    assert_eq!(logging(&c, &billing).await.1.as_deref(), Some(billing_group), "its own group is kept");
    assert_eq!(logging(&c, &orders).await.0, LogLevel::All);
    assert_eq!(logging(&c, &legal).await.0, LogLevel::Off, "exempt: untouched");
    emulator.recorder_reset();
    let again = app_with(&emulator, Mode::Remediate, all).sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(again.summary.count(Verdict::Compliant), 2, "{:?}", again.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "a second sweep writes nothing");
    // ERROR is the default floor: ALL is above it, and logmend never lowers a level.
    let d = one(&app(&emulator, Mode::Remediate), &sample_event("states/create-state-machine.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(logging(&c, &orders).await.0, LogLevel::All);
}

#[tokio::test]
async fn an_event_for_a_deleted_state_machine_is_skipped_and_a_bad_event_is_a_typed_error() {
    let emulator = Emulator::start();
    let app = app(&emulator, Mode::Remediate);
    let d = one(&app, &sample_event("states/create-state-machine.json")).await;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    let mut bad = sample_event("states/update-state-machine-logging-off.json");
    bad["detail"]["requestParameters"] = json!({});
    let err = app.handle_event(&bad).await.unwrap_err();
    assert!(err.to_string().contains("stateMachineArn"), "{err}");
}
