//! `lambda-logging` (detect and report only) against the emulator, whose launcher makes
//! functions carry Lambda's `LoggingConfig`, as AWS does. One test per path: a role that may
//! write the default group compliant; one that may not reported with the missing actions and
//! nothing written in remediate mode; a custom group the role cannot write; the sweep with an
//! exempt function; a deleted function.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, LogFormat, LoggingConfig, Runtime};
use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend_integration::{ACCOUNT, AwsClients, Emulator, config_for, one, sample_event};
use serde_json::json;

const CONTROL: &str = "lambda-logging";

fn app(emulator: &Emulator, mode: Mode) -> Logmend {
    logmend::app(config_for(mode, &[CONTROL]), emulator.clients("us-east-1"))
}

/// A function role; with `logs_on`, the actions of AWSLambdaBasicExecutionRole on that resource.
async fn role(c: &AwsClients, name: &str, logs_on: Option<&str>) -> String {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role = c.iam.create_role().role_name(name).assume_role_policy_document(trust.to_string()).send().await.unwrap();
    if let Some(resource) = logs_on {
        let logs = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": resource}]});
        c.iam
            .put_role_policy()
            .role_name(name)
            .policy_name("basic")
            .policy_document(logs.to_string())
            .send()
            .await
            .unwrap();
    }
    role.role().unwrap().arn().to_owned()
}

async fn function(c: &AwsClients, name: &str, role: &str, group: Option<&str>, exempt: bool) {
    // An empty zip: the emulator never runs it.
    let code =
        FunctionCode::builder().zip_file(Blob::new(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec())).build();
    let logging = group.map(|g| LoggingConfig::builder().log_format(LogFormat::Text).log_group(g).build());
    let mut create = c
        .lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .role(role)
        .handler("app.handler")
        .code(code)
        .set_logging_config(logging);
    if exempt {
        create = create.tags("logmend:exempt", "true");
    }
    create.send().await.unwrap();
}

#[tokio::test]
async fn a_role_that_may_write_its_group_is_compliant_and_one_that_may_not_is_reported() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let without = role(&c, "orders-fn", None).await;
    function(&c, "orders", &without, None, false).await;
    emulator.recorder_reset();
    let d = one(&app(&emulator, Mode::Remediate), &sample_event("lambda/create-function.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert_eq!(d.resource, "arn:aws:lambda:us-east-1:123456789012:function:orders");
    assert!(
        d.reason.contains("lacks logs:CreateLogStream, logs:PutLogEvents, logs:CreateLogGroup on /aws/lambda/orders"),
        "{}",
        d.reason
    );
    assert!(d.reason.contains("attach AWSLambdaBasicExecutionRole"), "{}", d.reason);
    assert!(d.changes.is_empty());
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "a customer's role is not widened");
    emulator.assert_calls_declared(CONTROL);
    let basic = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]});
    c.iam
        .put_role_policy()
        .role_name("orders-fn")
        .policy_name("basic")
        .policy_document(basic.to_string())
        .send()
        .await
        .unwrap();
    let d = one(&app(&emulator, Mode::Audit), &sample_event("lambda/create-function.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(d.reason, "orders logs (Text) to /aws/lambda/orders, which its role may write");
}

#[tokio::test]
async fn a_custom_group_is_judged_by_what_the_role_may_do_there() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let arn = role(&c, "orders-fn", Some("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/*")).await;
    function(&c, "orders", &arn, Some("/app/orders"), false).await;
    c.logs.create_log_group().log_group_name("/app/orders").send().await.unwrap();
    let d = one(&app(&emulator, Mode::Audit), &sample_event("lambda/update-function-configuration.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(
        d.reason.contains("lacks logs:CreateLogStream, logs:PutLogEvents on /app/orders"),
        "the group exists: {}",
        d.reason
    );
}

#[tokio::test]
async fn the_sweep_skips_exempt_functions_and_a_deleted_one_is_skipped() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let able = role(&c, "able-fn", Some("*")).await;
    let unable = role(&c, "unable-fn", None).await;
    function(&c, "orders", &able, None, false).await;
    function(&c, "billing", &unable, None, false).await;
    function(&c, "legacy", &unable, None, true).await;
    emulator.recorder_reset();
    let sweep = app(&emulator, Mode::Remediate).sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(sweep.summary.count(Verdict::Compliant), 1, "{:?}", sweep.summary);
    assert_eq!(sweep.summary.count(Verdict::Noncompliant), 1, "{:?}", sweep.summary);
    assert_eq!(sweep.summary.count(Verdict::Skipped), 1, "{:?}", sweep.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    c.lambda.delete_function().function_name("orders").send().await.unwrap();
    let d = one(&app(&emulator, Mode::Audit), &sample_event("lambda/create-function.json")).await;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
}
