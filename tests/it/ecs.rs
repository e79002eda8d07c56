//! `ecs-task-log-config` (ECS.9), audit only, against the emulator, whose launcher makes
//! DescribeTaskDefinition by family answer the latest ACTIVE revision and
//! ListTaskDefinitionFamilies honour `status`, as AWS does. One test per path: a container
//! without logging reported with the fix and nothing written in remediate mode; awslogs into a
//! group that exists through a role that may write compliant, a missing group or a role that
//! lacks the actions reported; a deregistered latest revision judged by the one before; the
//! sweep with an exempt family and an inactive one; a bad event.

use aws_sdk_ecs::types::{ContainerDefinition, LogConfiguration, LogDriver, Tag};
use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend_integration::{ACCOUNT, AwsClients, Emulator, config_for, one, sample_event};
use serde_json::json;

const CONTROL: &str = "ecs-task-log-config";
const EXEC_ROLE: &str = "arn:aws:iam::123456789012:role/web-exec";

fn app(emulator: &Emulator, mode: Mode) -> Logmend {
    logmend::app(config_for(mode, &[CONTROL]), emulator.clients("us-east-1"))
}

fn awslogs(group: &str) -> LogConfiguration {
    LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", group)
        .options("awslogs-region", "us-east-1")
        .options("awslogs-stream-prefix", "web")
        .build()
        .unwrap()
}

async fn register(c: &AwsClients, family: &str, logging: Option<LogConfiguration>, tags: Option<Tag>) -> i32 {
    let container = ContainerDefinition::builder()
        .name("web")
        .image("public.ecr.aws/nginx/nginx:1.27")
        .memory(512)
        .set_log_configuration(logging)
        .build();
    let sidecar = ContainerDefinition::builder()
        .name("envoy")
        .image("public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29")
        .memory(128)
        .log_configuration(awslogs("/ecs/web"))
        .build();
    let out = c
        .ecs
        .register_task_definition()
        .family(family)
        .execution_role_arn(EXEC_ROLE)
        .container_definitions(container)
        .container_definitions(sidecar)
        .set_tags(tags.map(|t| vec![t]))
        .send()
        .await
        .unwrap();
    out.task_definition().unwrap().revision()
}

/// The task execution role, with `actions` allowed on the group's streams.
async fn exec_role(c: &AwsClients, actions: &[&str]) {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    c.iam.create_role().role_name("web-exec").assume_role_policy_document(trust.to_string()).send().await.unwrap();
    let logs = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions,
        "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*"}]});
    c.iam
        .put_role_policy()
        .role_name("web-exec")
        .policy_name("logs")
        .policy_document(logs.to_string())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_container_without_logging_is_reported_with_the_fix_and_nothing_is_written() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    exec_role(&c, &["logs:CreateLogStream", "logs:PutLogEvents"]).await;
    c.logs.create_log_group().log_group_name("/ecs/web").send().await.unwrap();
    register(&c, "web", None, None).await;
    emulator.recorder_reset();
    let d = one(&app(&emulator, Mode::Remediate), &sample_event("ecs/register-task-definition.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert_eq!(d.resource, "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1");
    assert!(d.reason.starts_with("web:1: container web has no logConfiguration"), "{}", d.reason);
    assert!(d.reason.contains("register a new revision with logConfiguration"), "{}", d.reason);
    assert!(d.reason.contains("UpdateService each service that runs web"), "{}", d.reason);
    assert!(!d.reason.contains("HIDDEN") && !d.reason.contains("DB_PASSWORD"), "nothing of the event is echoed");
    assert!(d.changes.is_empty(), "{:?}", d.changes);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "audit only, in remediate mode too");
    emulator.assert_calls_declared(CONTROL);
}

#[tokio::test]
async fn awslogs_counts_when_the_group_exists_and_the_execution_role_may_write_there() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    exec_role(&c, &["logs:CreateLogStream"]).await;
    register(&c, "web", Some(awslogs("/ecs/web")), None).await;
    let app = app(&emulator, Mode::Remediate);
    let event = sample_event("ecs/register-task-definition.json");
    let d = one(&app, &event).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("logs to /ecs/web, which does not exist"), "{}", d.reason);
    assert!(
        d.reason.contains("role arn:aws:iam::123456789012:role/web-exec lacks logs:PutLogEvents on /ecs/web"),
        "{}",
        d.reason
    );
    c.logs.create_log_group().log_group_name("/ecs/web").send().await.unwrap();
    let all = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]});
    c.iam
        .put_role_policy()
        .role_name("web-exec")
        .policy_name("logs")
        .policy_document(all.to_string())
        .send()
        .await
        .unwrap();
    let d = one(&app, &event).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(d.reason, "web:1: every container logs (awslogs, awslogs)");
}

#[tokio::test]
async fn the_latest_active_revision_is_judged_and_a_deregistered_one_is_not() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    exec_role(&c, &["logs:CreateLogStream", "logs:PutLogEvents"]).await;
    c.logs.create_log_group().log_group_name("/ecs/web").send().await.unwrap();
    register(&c, "web", Some(awslogs("/ecs/web")), None).await;
    assert_eq!(register(&c, "web", None, None).await, 2);
    let app = app(&emulator, Mode::Audit);
    let d = one(&app, &sample_event("ecs/register-task-definition.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "revision 2 is the latest: {d:?}");
    c.ecs.deregister_task_definition().task_definition("web:2").send().await.unwrap();
    let d = one(&app, &sample_event("ecs/deregister-task-definition.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(d.resource, "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1");
    c.ecs.deregister_task_definition().task_definition("web:1").send().await.unwrap();
    let d = one(&app, &sample_event("ecs/deregister-task-definition.json")).await;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert!(d.reason.contains("no active revision"), "{}", d.reason);
}

#[tokio::test]
async fn the_sweep_reports_each_active_family_once_and_skips_exempt_ones() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    exec_role(&c, &["logs:CreateLogStream", "logs:PutLogEvents"]).await;
    c.logs.create_log_group().log_group_name("/ecs/web").send().await.unwrap();
    register(&c, "web", Some(awslogs("/ecs/web")), None).await;
    register(&c, "batch", None, None).await;
    register(&c, "batch", None, None).await;
    register(&c, "legacy", None, Some(Tag::builder().key("logmend:exempt").value("true").build())).await;
    register(&c, "retired", None, None).await;
    c.ecs.deregister_task_definition().task_definition("retired:1").send().await.unwrap();
    emulator.recorder_reset();
    let sweep = app(&emulator, Mode::Remediate).sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(sweep.summary.count(Verdict::Compliant), 1, "{:?}", sweep.summary);
    assert_eq!(sweep.summary.count(Verdict::Noncompliant), 1, "batch, once: {:?}", sweep.summary);
    assert_eq!(sweep.summary.count(Verdict::Skipped), 1, "legacy: {:?}", sweep.summary);
    assert_eq!(sweep.summary.count(Verdict::Failed), 0, "{:?}", sweep.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn an_event_without_a_family_is_a_typed_error() {
    let emulator = Emulator::start();
    let mut bad = sample_event("ecs/register-task-definition.json");
    bad["detail"]["requestParameters"] = json!({});
    bad["detail"]["responseElements"] = json!(null);
    let err = app(&emulator, Mode::Audit).handle_event(&bad).await.unwrap_err();
    assert!(err.to_string().contains("detail.requestParameters.family"), "{err}");
}
