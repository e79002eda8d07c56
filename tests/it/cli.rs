//! The `logmend` binary: output, exit statuses, and the policy it prints.

use logmend::controls::ControlId;
use logmend_integration::{Emulator, create_trail, repo_root};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

/// `cargo test --workspace` builds the binary into the same target dir as this test.
fn logmend_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(|deps| deps.parent()).unwrap().join("logmend");
    assert!(bin.exists(), "{} is missing: build with `cargo test --workspace`", bin.display());
    bin
}

fn run(emulator: Option<&Emulator>, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(logmend_bin());
    cmd.args(args).current_dir(repo_root()).env_remove("AWS_PROFILE").env("RUST_LOG", "warn");
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("LOGMEND_")) {
        cmd.env_remove(k);
    }
    if let Some(e) = emulator {
        cmd.envs(e.cli_env());
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
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn controls_lists_every_control() {
    let out = run(None, &["controls", "--format", "json"], &[]);
    assert!(out.status.success());
    let ids: Vec<String> = lines(&out).iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    let expected: Vec<String> = ControlId::ALL.iter().map(|c| c.as_str().to_owned()).collect();
    assert_eq!(ids, expected);
    let table = run(None, &["controls"], &[]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("cloudtrail-cloudwatch-logs  (CloudTrail.5"));
}

#[test]
fn policy_lists_exactly_the_declared_actions() {
    let spec = ControlId::CloudtrailCloudwatchLogs.spec();
    let reads: BTreeSet<String> = spec.reads.iter().map(|p| p.action.to_owned()).collect();
    let all: BTreeSet<String> = spec.reads.iter().chain(spec.writes).map(|p| p.action.to_owned()).collect();

    let audit = run(None, &["policy", "--mode", "audit"], &[]);
    assert!(audit.status.success());
    assert_eq!(actions(&serde_json::from_slice(&audit.stdout).unwrap()), reads);

    let remediate = run(None, &["policy", "--account", "123456789012"], &[]);
    let doc: Value = serde_json::from_slice(&remediate.stdout).unwrap();
    assert_eq!(actions(&doc), all);
    assert!(doc.to_string().contains("arn:aws:iam::123456789012:role/logmend/*"));
}

#[tokio::test]
async fn scan_reports_then_fixes_then_finds_nothing_with_the_documented_exit_codes() {
    let emulator = Emulator::start();
    create_trail(&emulator, &emulator.clients("us-east-1"), "org-audit", true).await;
    emulator.recorder_reset();

    let audit = run(Some(&emulator), &["scan"], &[]);
    assert_eq!(audit.status.code(), Some(1), "{}", String::from_utf8_lossy(&audit.stderr));
    let d = &lines(&audit)[0];
    assert_eq!((d["verdict"].as_str(), d["mode"].as_str()), (Some("noncompliant"), Some("audit")));
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());

    let fix = run(Some(&emulator), &["scan", "--fix", "--control", "cloudtrail-cloudwatch-logs"], &[]);
    assert_eq!(fix.status.code(), Some(0), "{}", String::from_utf8_lossy(&fix.stderr));
    assert_eq!(lines(&fix)[0]["verdict"], "fixed");

    let again = run(Some(&emulator), &["scan", "--format", "table"], &[]);
    assert_eq!(again.status.code(), Some(0));
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.starts_with("VERDICT") && text.contains("compliant"), "{text}");
    assert!(String::from_utf8_lossy(&again.stderr).contains("1 evaluated: 1 compliant"));
}

#[tokio::test]
async fn handle_runs_one_event_in_its_region() {
    let emulator = Emulator::start();
    create_trail(&emulator, &emulator.clients("us-east-1"), "org-audit", true).await;
    let out = run(Some(&emulator), &["handle", "events/cloudtrail/create-trail.json"], &[("AWS_REGION", "eu-west-1")]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let d = &lines(&out)[0];
    assert_eq!(d["region"], "us-east-1", "the event's region, not the environment's");
    assert_eq!(d["event_name"], "CreateTrail");

    let fixed = run(Some(&emulator), &["handle", "events/cloudtrail/create-trail.json", "--fix"], &[]);
    assert_eq!(fixed.status.code(), Some(0));
    assert_eq!(lines(&fixed)[0]["verdict"], "fixed");

    let skipped = run(Some(&emulator), &["handle", "events/cloudtrail/update-trail-failed-access-denied.json"], &[]);
    assert_eq!(skipped.status.code(), Some(0));
    assert_eq!(lines(&skipped)[0]["verdict"], "skipped");
}

#[test]
fn usage_errors_exit_2_and_say_what_was_wrong() {
    let missing = run(None, &["handle", "events/nope.json"], &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("events/nope.json"));

    let bad = run(None, &["scan"], &[("LOGMEND_RETENTION_DAYS", "forever")]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("LOGMEND_RETENTION_DAYS"));

    let unknown = run(None, &["scan", "--control", "s3-logging"], &[]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("valid: cloudtrail-cloudwatch-logs"));

    let not_json = run(None, &["handle", "Cargo.toml"], &[]);
    assert_eq!(not_json.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_json.stderr).contains("not valid JSON"));
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_failure_exit_3_naming_the_call() {
    // Nothing listens on port 9 of loopback: a connection error after the SDK's retries.
    let out = run(
        None,
        &["scan", "--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1"],
        &[("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")],
    );
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let d = &lines(&out)[0];
    assert_eq!(d["verdict"], "failed");
    assert_eq!(d["error_code"], "TransportError");
    assert!(d["reason"].as_str().unwrap().contains("cloudtrail:ListTrails"), "{d}");
}
