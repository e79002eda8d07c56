//! The `logmend` binary without an emulator: usage, exit statuses, controls, policy.
//! (Its runs against the emulator are in tests/it/cli.rs.)

use serde_json::Value;
use std::collections::BTreeSet;
use std::process::{Command, Output};

fn run(args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logmend"));
    cmd.args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env("RUST_LOG", "warn");
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("LOGMEND_")) {
        cmd.env_remove(k);
    }
    cmd.envs(extra_env.iter().copied());
    cmd.output().unwrap()
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn actions(policy: &Value) -> BTreeSet<String> {
    logmend::policy::granted_actions(policy)
}

#[test]
fn controls_lists_every_control() {
    let out = run(&["controls", "--format", "json"], &[]);
    assert!(out.status.success());
    let ids: Vec<String> = lines(&out).iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    let expected: Vec<String> = logmend::all_specs().iter().map(|s| s.id.to_owned()).collect();
    assert_eq!(ids, expected);
    let table = run(&["controls"], &[]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("cloudtrail-cloudwatch-logs  (CloudTrail.5"));
}

#[test]
fn policy_lists_exactly_the_declared_actions() {
    let specs = logmend::all_specs();
    let reads: BTreeSet<String> = specs.iter().flat_map(|s| s.reads).map(|p| p.action.to_owned()).collect();
    let all: BTreeSet<String> =
        specs.iter().flat_map(|s| s.reads.iter().chain(s.writes)).map(|p| p.action.to_owned()).collect();

    let audit = run(&["policy", "--mode", "audit"], &[]);
    assert!(audit.status.success());
    assert_eq!(actions(&serde_json::from_slice(&audit.stdout).unwrap()), reads);

    let remediate = run(&["policy", "--account", "123456789012"], &[]);
    let doc: Value = serde_json::from_slice(&remediate.stdout).unwrap();
    assert_eq!(actions(&doc), all);
    assert!(doc.to_string().contains("arn:aws:iam::123456789012:role/logmend/*"));
}

#[test]
fn usage_errors_exit_2_and_say_what_was_wrong() {
    let missing = run(&["handle", "events/nope.json"], &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("events/nope.json"));

    let bad = run(&["scan"], &[("LOGMEND_RETENTION_DAYS", "forever")]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("LOGMEND_RETENTION_DAYS"));

    let unknown = run(&["scan", "--control", "s3-logging"], &[]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("valid: mq-broker-logs, rds-cluster-audit-logs"));

    let not_json = run(&["handle", "Cargo.toml"], &[]);
    assert_eq!(not_json.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_json.stderr).contains("not valid JSON"));
}

#[test]
fn an_unreachable_endpoint_is_a_failure_exit_3_naming_the_call() {
    // Nothing listens on port 9 of loopback: a connection error after the SDK's retries.
    let out = run(
        &["scan", "--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1"],
        &[("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")],
    );
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    // One failed decision per control: its listing call could not be made. s3-data-events and
    // log-archive are off by default: each decides `skipped` without a call.
    let (off, decisions): (Vec<_>, Vec<_>) =
        lines(&out).into_iter().partition(|d| d["control"] == "s3-data-events" || d["control"] == "log-archive");
    assert_eq!(off.len(), 2, "{off:?}");
    assert!(off.iter().all(|d| d["verdict"] == "skipped"), "{off:?}");
    assert!(off.iter().any(|d| d["reason"].as_str().unwrap().contains("LOGMEND_LOG_ARCHIVE_PREFIXES")), "{off:?}");
    assert_eq!(decisions.len(), logmend::all_specs().len() - 2);
    for d in &decisions {
        assert_eq!(d["verdict"], "failed");
        assert_eq!(d["error_code"], "TransportError");
    }
    let reasons: Vec<&str> = decisions.iter().map(|d| d["reason"].as_str().unwrap()).collect();
    assert!(reasons.iter().any(|r| r.contains("cloudtrail:ListTrails")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("logs:DescribeLogGroups")), "{reasons:?}");
}
