//! Runs cut short after any single write, bursts of events for one resource, bad input,
//! secrets in every sample event, and audit mode over a fully non-compliant account.

use aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum;
use futures::future::join_all;
use logmend::decision::{Mode, Verdict};
use logmend::{Decision, HandlerError, Logmend};
use logmend_integration::{
    ACCOUNT, Emulator, FUNCTION_ARN, broker_event, config, config_for, create_aurora_cluster, create_broker,
    create_db_instance, create_distribution, create_load_balancer, create_trail, create_vpc, create_web_acl,
    delete_logmend_aurora_group, repo_root, sample_event,
};
use serde_json::{Value, json};
use std::path::PathBuf;

async fn decide(app: &Logmend, event: &Value) -> Decision {
    let mut out = app.handle_event(event).await.unwrap();
    assert_eq!(out.len(), 1, "{out:?}");
    out.remove(0).decision
}

fn trail_event(arn: &str) -> Value {
    let mut e = sample_event("cloudtrail/update-trail-without-cloudwatch.json");
    e["detail"]["responseElements"]["trailARN"] = arn.into();
    e["detail"]["requestParameters"]["name"] = arn.into();
    e
}

/// The controls whose kill points and bursts these tests count (a trail's event triggers
/// `cloudtrail-log-file-validation` too, which has its own tests).
const FIRST_FIVE: &[&str] = &[
    "cloudtrail-cloudwatch-logs",
    "log-group-retention",
    "mq-broker-logs",
    "rds-cluster-audit-logs",
    "rds-instance-log-exports",
];

/// Kill the run (every call after the k-th successful write resets its connection), then run
/// again without faults: the second run completes, with no duplicate and no error.
async fn cut_short_then_complete<F: AsyncFnMut(usize) -> Value>(
    emulator: &Emulator,
    writes_in_full_fix: usize,
    done: &[Verdict],
    setup: F,
) -> usize {
    cut_short_with(emulator, config_for(Mode::Remediate, FIRST_FIVE), writes_in_full_fix, done, setup).await
}

/// [`cut_short_then_complete`] with these settings (one write per planned change).
async fn cut_short_with<F: AsyncFnMut(usize) -> Value>(
    emulator: &Emulator,
    config: logmend::Config,
    writes_in_full_fix: usize,
    done: &[Verdict],
    mut setup: F,
) -> usize {
    let app = logmend::app(config, emulator.clients("us-east-1"));
    for k in 1..writes_in_full_fix {
        let event = setup(k).await;
        emulator.inject(json!([{ "action": "*", "fault": "reset", "times": -1, "after_writes": k }]));
        let cut = decide(&app, &event).await;
        emulator.inject(json!([]));
        assert_eq!(cut.verdict, Verdict::Failed, "killed after write {k}: {cut:?}");
        assert!(cut.reason.contains(&format!("{k} of {writes_in_full_fix} changes made")), "{}", cut.reason);
        emulator.recorder_reset();
        let next = decide(&app, &event).await;
        assert!(done.contains(&next.verdict), "after write {k}: {next:?}");
        assert_eq!(
            next.changes.len(),
            writes_in_full_fix - k,
            "the next run makes only the writes left after write {k}: {:?}",
            next.changes
        );
        let again = decide(&app, &event).await;
        assert!(again.changes.is_empty(), "a third run has nothing left to do: {again:?}");
    }
    writes_in_full_fix - 1
}

#[tokio::test]
async fn a_cloudtrail_fix_killed_after_any_write_is_completed_by_the_next_run() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let cases = cut_short_then_complete(&emulator, 5, &[Verdict::Fixed], async |k| {
        trail_event(&create_trail(&emulator, &c, &format!("cut-{k}"), false).await)
    })
    .await;
    let roles = c.iam.list_roles().path_prefix("/logmend/").send().await.unwrap();
    assert_eq!(roles.roles().len(), cases, "one delivery role per trail, no duplicate");
    eprintln!("partial fixes: cloudtrail-cloudwatch-logs: {cases} kill points");
}

#[tokio::test]
async fn a_trail_bucket_lock_down_killed_after_any_write_is_completed_by_the_next_run() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let mut config = config_for(Mode::Remediate, &["cloudtrail-bucket-protection"]);
    config.trail_bucket_deletion_protection = false;
    // PutBucketPolicy, PutPublicAccessBlock, PutBucketVersioning.
    let cases = cut_short_with(&emulator, config, 3, &[Verdict::Fixed], async |k| {
        create_trail(&emulator, &c, &format!("cut-{k}"), false).await;
        let mut e = sample_event("s3/put-bucket-policy.json");
        e["detail"]["requestParameters"]["bucketName"] = format!("cut-{k}-logs").into();
        e
    })
    .await;
    eprintln!("partial fixes: cloudtrail-bucket-protection: {cases} kill points");
}

/// logmend's access-log bucket is made in several writes per change (its security settings are
/// one change of three writes): killed after any of the seven, the next run completes it.
#[tokio::test]
async fn an_access_log_bucket_killed_after_any_write_is_completed_by_the_next_run() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let log_bucket = "logmend-access-logs-123456789012-us-east-1";
    let app = logmend::app(config_for(Mode::Remediate, &["cloudtrail-bucket-access-logging"]), c.clone());
    const WRITES: usize = 7;
    for k in 1..WRITES {
        logmend_integration::delete_bucket_and_contents(&c, log_bucket).await;
        let trail = format!("cut-{k}");
        create_trail(&emulator, &c, &trail, false).await;
        let mut event = sample_event("s3/put-bucket-logging-off.json");
        event["detail"]["requestParameters"]["bucketName"] = format!("{trail}-logs").into();
        emulator.inject(json!([{ "action": "*", "fault": "reset", "times": -1, "after_writes": k }]));
        let cut = decide(&app, &event).await;
        emulator.inject(json!([]));
        assert_eq!(cut.verdict, Verdict::Failed, "killed after write {k}: {cut:?}");
        let next = decide(&app, &event).await;
        assert_eq!(next.verdict, Verdict::Fixed, "after write {k}: {next:?}");
        let bpa = c.s3.get_public_access_block().bucket(log_bucket).send().await.unwrap();
        assert_eq!(
            bpa.public_access_block_configuration().unwrap().block_public_policy(),
            Some(true),
            "after write {k}"
        );
        assert!(c.s3.get_bucket_encryption().bucket(log_bucket).send().await.is_ok(), "after write {k}");
        assert!(c.s3.get_bucket_lifecycle_configuration().bucket(log_bucket).send().await.is_ok(), "after write {k}");
        emulator.recorder_reset();
        let again = decide(&app, &event).await;
        assert_eq!(again.verdict, Verdict::Compliant, "a third run has nothing left to do: {again:?}");
        assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
        // The next case starts from no log bucket: its trail bucket stops logging into it first.
        let off = aws_sdk_s3::types::BucketLoggingStatus::builder().build();
        c.s3.put_bucket_logging().bucket(format!("{trail}-logs")).bucket_logging_status(off).send().await.unwrap();
        c.s3.delete_bucket_policy().bucket(log_bucket).send().await.ok();
    }
    eprintln!("partial fixes: cloudtrail-bucket-access-logging: {} kill points", WRITES - 1);
}

/// The baseline trail and its bucket take nine writes; killed after any, the next run completes
/// the same trail and bucket (no second trail), and the one after finds the region covered.
#[tokio::test]
async fn a_baseline_trail_killed_after_any_write_is_completed_by_the_next_run() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let mut config = config_for(Mode::Remediate, &["cloudtrail-logging"]);
    config.baseline_trail = Some("logmend-baseline".into());
    let app = logmend::app(config, c.clone());
    const WRITES: usize = 9;
    let baseline_of = |out: Vec<logmend::controls::Evaluation>| {
        out.into_iter().map(|e| e.decision).find(|d| d.resource.ends_with(":trail/*")).expect("a baseline decision")
    };
    for k in 1..WRITES {
        c.cloudtrail.delete_trail().name("logmend-baseline").send().await.ok();
        let event = sample_event("cloudtrail/delete-trail.json");
        emulator.inject(json!([{ "action": "*", "fault": "reset", "times": -1, "after_writes": k }]));
        let cut = baseline_of(app.handle_event(&event).await.unwrap());
        emulator.inject(json!([]));
        assert_eq!(cut.verdict, Verdict::Failed, "killed after write {k}: {cut:?}");
        let next = baseline_of(app.handle_event(&event).await.unwrap());
        assert_eq!(next.verdict, Verdict::Fixed, "after write {k}: {next:?}");
        let trails = c.cloudtrail.describe_trails().send().await.unwrap();
        assert_eq!(trails.trail_list().len(), 1, "one baseline trail after write {k}");
        emulator.recorder_reset();
        let again = baseline_of(app.handle_event(&event).await.unwrap());
        assert_eq!(again.verdict, Verdict::Compliant, "after write {k}: {again:?}");
        assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    }
    eprintln!("partial fixes: cloudtrail-logging (baseline): {} kill points", WRITES - 1);
}

#[tokio::test]
async fn an_aurora_fix_killed_after_any_write_is_completed_by_the_next_run() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let cases = cut_short_then_complete(&emulator, 3, &[Verdict::Pending], async |k| {
        delete_logmend_aurora_group(&c).await;
        let id = format!("cut-{k}");
        create_aurora_cluster(&c, &id, "aurora-mysql", None, &[], true).await;
        let mut e = sample_event("rds/create-db-cluster-aurora-mysql.json");
        e["detail"]["responseElements"]["dBClusterIdentifier"] = id.into();
        e
    })
    .await;
    eprintln!("partial fixes: rds-cluster-audit-logs: {cases} kill points");
}

#[tokio::test]
async fn an_mq_fix_killed_after_the_resource_policy_is_completed_by_the_next_run() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let cases = cut_short_then_complete(&emulator, 2, &[Verdict::Pending], async |k| {
        let id = create_broker(&c, &format!("cut-{k}"), "ACTIVEMQ", false, false).await;
        broker_event("mq/create-broker-activemq.json", &id)
    })
    .await;
    let policies = c.logs.describe_resource_policies().send().await.unwrap();
    assert_eq!(policies.resource_policies().len(), 1);
    eprintln!("partial fixes: mq-broker-logs: {cases} kill points");
}

#[tokio::test]
async fn a_burst_of_events_for_one_trail_ends_with_one_fix_and_no_duplicate() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let arn = create_trail(&emulator, &c, "burst", false).await;
    let app = logmend::app(config_for(Mode::Remediate, FIRST_FIVE), emulator.clients("us-east-1"));
    let event = trail_event(&arn);
    let decisions: Vec<Decision> = join_all((0..8).map(|_| decide(&app, &event))).await;
    for d in &decisions {
        assert!(matches!(d.verdict, Verdict::Fixed | Verdict::Compliant), "{d:?}");
    }
    let roles = c.iam.list_roles().path_prefix("/logmend/").send().await.unwrap();
    assert_eq!(roles.roles().len(), 1);
    let groups = c.logs.describe_log_groups().log_group_name_prefix("/aws/cloudtrail/").send().await.unwrap();
    assert_eq!(groups.log_groups().len(), 1);
    let policies = c.iam.list_role_policies().role_name(roles.roles()[0].role_name()).send().await.unwrap();
    assert_eq!(policies.policy_names().len(), 1);
    let trail = c.cloudtrail.get_trail().name(&arn).send().await.unwrap();
    assert!(trail.trail().unwrap().cloud_watch_logs_role_arn().is_some());
}

#[tokio::test]
async fn a_burst_of_events_for_one_cluster_and_one_broker_ends_with_one_group_and_one_policy() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_aurora_cluster(&c, "orders-aurora", "aurora-mysql", None, &[], true).await;
    let broker = create_broker(&c, "orders", "ACTIVEMQ", false, false).await;
    let app = logmend::app(config_for(Mode::Remediate, FIRST_FIVE), emulator.clients("us-east-1"));
    let cluster_event = sample_event("rds/create-db-cluster-aurora-mysql.json");
    let broker_evt = broker_event("mq/create-broker-activemq.json", &broker);
    let mut all = join_all((0..6).map(|_| decide(&app, &cluster_event))).await;
    all.extend(join_all((0..6).map(|_| decide(&app, &broker_evt))).await);
    for d in &all {
        assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    }
    let groups = c.rds.describe_db_cluster_parameter_groups().send().await.unwrap();
    let ours = groups
        .db_cluster_parameter_groups()
        .iter()
        .filter(|g| g.db_cluster_parameter_group_name().unwrap().starts_with("logmend-"));
    assert_eq!(ours.count(), 1);
    let policies = c.logs.describe_resource_policies().send().await.unwrap();
    assert_eq!(policies.resource_policies().len(), 1);
}

/// The bad inputs, each with the error the handler must give (no panic, nothing acted on).
#[tokio::test]
async fn bad_input_is_a_named_error_or_no_decision_never_a_panic() {
    let emulator = Emulator::start();
    let app = logmend::app(config_for(Mode::Remediate, FIRST_FIVE), emulator.clients("us-east-1"));
    let valid = sample_event("logs/create-log-group.json");
    let with = |path: &[&str], value: Value| {
        let mut e = valid.clone();
        let mut at = &mut e;
        for p in &path[..path.len() - 1] {
            at = &mut at[*p];
        }
        at[path[path.len() - 1]] = value;
        e
    };
    let mut huge = valid.clone();
    huge["detail"]["requestParameters"]["tags"] = json!({ "blob": "x".repeat(8 * 1024 * 1024) });
    let cases: Vec<(&str, Value, &str)> = vec![
        ("not an object", json!("CreateLogGroup"), "InvalidEvent"),
        ("an array", json!([valid.clone()]), "InvalidEvent"),
        ("no detail", with(&["detail"], Value::Null), "InvalidEvent"),
        ("detail a string", with(&["detail"], json!("x")), "InvalidEvent"),
        ("no eventName", with(&["detail", "eventName"], Value::Null), "InvalidEvent"),
        ("eventName a number", with(&["detail", "eventName"], json!(7)), "InvalidEvent"),
        ("eventSource a list", with(&["detail", "eventSource"], json!(["logs.amazonaws.com"])), "InvalidEvent"),
        ("requestParameters a string", with(&["detail", "requestParameters"], json!("x")), "InvalidEvent"),
        ("logGroupName missing", with(&["detail", "requestParameters"], json!({})), "InvalidEvent"),
        ("logGroupName a number", with(&["detail", "requestParameters", "logGroupName"], json!(1)), "InvalidEvent"),
        (
            "another detail-type",
            with(&["detail-type"], json!("EC2 Instance State-change Notification")),
            "InvalidEvent",
        ),
        ("another region", with(&["region"], json!("eu-west-3")), "WrongRegion"),
        ("another account", with(&["account"], json!("999999999999")), "WrongAccount"),
        ("unknown eventName", with(&["detail", "eventName"], json!("CreateLogStream")), "no decision"),
        ("unknown eventSource", with(&["detail", "eventSource"], json!("s3.amazonaws.com")), "no decision"),
        ("8 MB of tags", huge, "decision"),
    ];
    let n = cases.len();
    for (what, event, expected) in cases {
        let got = app.lambda_handler(event, FUNCTION_ARN).await;
        let outcome = match &got {
            Err(e) => e.error_type().to_owned(),
            Ok(v) if v["decisions"] == 0 => "no decision".to_owned(),
            Ok(_) => "decision".to_owned(),
        };
        assert_eq!(outcome, expected, "{what}: {got:?}");
        if let Err(HandlerError::InvalidEvent(e)) = &got {
            // The message says what was wrong: a named field, the detail-type, or the shape.
            let text = e.to_string();
            assert!(
                text.contains('`') || text.contains("detail-type") || text.contains("JSON object"),
                "{what}: {text}"
            );
        }
    }
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "bad input changes nothing");
    eprintln!("bad input: {n} cases through the Lambda entry");
    assert_eq!(ACCOUNT, "123456789012");
}

/// Every unmasked secret in the sample events: (file, value).
fn sample_secrets() -> Vec<(PathBuf, String)> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let key = k.to_ascii_lowercase();
                    let secretish = key.contains("password") || key.contains("secret") || key == "authtoken";
                    match v.as_str() {
                        Some(s)
                            if secretish && !s.chars().all(|c| c == '*') && s != "HIDDEN_DUE_TO_SECURITY_REASONS" =>
                        {
                            out.push(s.to_owned())
                        }
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    let mut dirs = vec![repo_root().join("events")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                let mut secrets = Vec::new();
                walk(&v, &mut secrets);
                found.extend(secrets.into_iter().map(|s| (path.clone(), s)));
            }
        }
    }
    found
}

#[tokio::test]
async fn no_secret_of_any_sample_event_reaches_any_output_at_trace_level() {
    let secrets = sample_secrets();
    assert!(secrets.len() >= 2, "the samples carry unmasked passwords to test with: {secrets:?}");
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    // The resources the samples name, so the full paths run (check, plan, apply).
    create_aurora_cluster(&c, "orders-aurora", "aurora-mysql", None, &[], true).await;
    create_db_instance(&c, "shop-mysql", "mysql", "8.0.39", &[]).await;
    let broker = create_broker(&c, "orders", "ACTIVEMQ", false, false).await;
    let dir = std::env::temp_dir().join(format!("logmend-secrets-all-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = std::env::current_exe().unwrap().parent().and_then(|d| d.parent()).unwrap().join("logmend");
    let mut runs = 0;
    for (file, secret) in &secrets {
        let mut event: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        if event["source"] == "aws.amazonmq" {
            event =
                broker_event(&file.strip_prefix(repo_root().join("events")).unwrap().display().to_string(), &broker);
        }
        let path = dir.join("event.json");
        std::fs::write(&path, serde_json::to_vec(&event).unwrap()).unwrap();
        for fix in [false, true] {
            let mut cmd = std::process::Command::new(&bin);
            cmd.arg("handle").arg(&path).envs(emulator.cli_env()).env("RUST_LOG", "trace");
            if fix {
                cmd.arg("--fix");
            }
            let out = cmd.output().unwrap();
            let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(all.contains("\"verdict\""), "{}: no decision: {all}", file.display());
            assert!(!all.contains(secret.as_str()), "{}: the secret leaked (fix={fix})", file.display());
            runs += 1;
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    eprintln!("secrets: {} secrets in the samples, {runs} runs at trace level", secrets.len());
}

#[tokio::test]
async fn audit_mode_over_a_fully_noncompliant_account_writes_nothing_and_reports_everything() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, "org-audit", true).await;
    c.logs.create_log_group().log_group_name("/app/never-expires").send().await.unwrap();
    create_broker(&c, "orders", "ACTIVEMQ", false, false).await;
    create_broker(&c, "events-bus", "RABBITMQ", false, false).await;
    create_aurora_cluster(&c, "orders-aurora", "aurora-mysql", None, &[], true).await;
    create_aurora_cluster(&c, "ledger-pg", "aurora-postgresql", None, &[], true).await;
    create_db_instance(&c, "shop-mysql", "mysql", "8.0.39", &[]).await;
    create_db_instance(&c, "reports-pg", "postgres", "16.4", &[]).await;
    // Beside the region's default VPC, one with a load balancer; a web ACL and a distribution.
    let (_, subnets) = create_vpc(&c).await;
    let alb = create_load_balancer(&c, "web", LoadBalancerTypeEnum::Application, &subnets).await;
    let acl = create_web_acl(&c, "app", aws_sdk_wafv2::types::Scope::Regional).await;
    let distribution = create_distribution(&c, "site").await;
    emulator.recorder_reset();

    let app = logmend::app(config(Mode::Audit), emulator.clients("us-east-1"));
    let report = app.sweep(&[], 8, None, |_: &Decision| {}).await;
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "audit mode wrote");
    let mut noncompliant: Vec<(&str, String)> = report
        .evaluations
        .iter()
        .filter(|e| e.decision.verdict == Verdict::Noncompliant)
        .map(|e| (e.decision.control, e.decision.resource.rsplit([':', '/']).next().unwrap().to_owned()))
        .collect();
    noncompliant.sort();
    let expected: Vec<(&str, String)> = vec![
        // No trail delivers to CloudWatch Logs yet: the CIS filters have no log group.
        ("cis-metric-alarms", "*".into()),
        ("cloudfront-logging", distribution),
        ("cloudtrail-bucket-access-logging", "org-audit-logs".into()),
        ("cloudtrail-bucket-protection", "org-audit-logs".into()),
        ("cloudtrail-cloudwatch-logs", "org-audit".into()),
        ("cloudtrail-encryption", "org-audit".into()),
        ("cloudtrail-log-file-validation", "org-audit".into()),
        ("cloudtrail-logging", "org-audit".into()),
        ("elb-access-logs", alb.rsplit('/').next().unwrap().to_owned()),
        // No detector in the region. (config-recorder is `skipped`: with no account, logmend's
        // log bucket and the service-linked role's ARN are not known.)
        ("guardduty-enabled", "*".into()),
        ("log-group-retention", "never-expires".into()),
        ("mq-broker-logs", "".into()),
        ("mq-broker-logs", "".into()),
        ("rds-cluster-audit-logs", "ledger-pg".into()),
        ("rds-cluster-audit-logs", "orders-aurora".into()),
        ("rds-instance-log-exports", "reports-pg".into()),
        ("rds-instance-log-exports", "shop-mysql".into()),
        // The default VPC and the new one.
        ("route53-resolver-query-logs", "".into()),
        ("route53-resolver-query-logs", "".into()),
        ("session-manager-logging", "SSM-SessionManagerRunShell".into()),
        ("vpc-flow-logs", "".into()),
        ("vpc-flow-logs", "".into()),
        ("wafv2-logging", acl.rsplit('/').next().unwrap().to_owned()),
    ];
    let controls: Vec<&str> = noncompliant.iter().map(|(c, _)| *c).collect();
    assert_eq!(controls, expected.iter().map(|(c, _)| *c).collect::<Vec<_>>(), "{noncompliant:?}");
    for (control, name) in expected.iter().filter(|(_, n)| !n.is_empty()) {
        assert!(noncompliant.contains(&(*control, name.clone())), "{control} {name} not reported: {noncompliant:?}");
    }
    for e in report.evaluations.iter().filter(|e| e.decision.verdict == Verdict::Noncompliant) {
        // Encryption is opt-in: without a key its finding says which setting to set.
        if e.decision.control == "cloudtrail-encryption" {
            assert!(e.decision.reason.contains("LOGMEND_TRAIL_KMS_KEY"), "{:?}", e.decision);
            continue;
        }
        // The alarms wait for the trail controls' fix; the finding names them.
        if e.decision.control == "cis-metric-alarms" {
            assert!(e.decision.reason.contains("cloudtrail-cloudwatch-logs"), "{:?}", e.decision);
            continue;
        }
        assert!(!e.decision.changes.is_empty(), "a finding lists what remediate would do: {:?}", e.decision);
    }
}
