//! The `logmend` binary: output, exit statuses, and the policy it prints.

use logmend_integration::{BROKER_PASSWORD, Emulator, broker_event, create_broker, create_trail, repo_root};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

/// `cargo test --workspace` builds the binary into the same target dir as this test: the
/// `logmend` package's own tests (shared/tests/cli.rs) need it as `CARGO_BIN_EXE_logmend`.
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

    let controls = [
        "--control",
        "cloudtrail-cloudwatch-logs",
        "--control",
        "cloudtrail-log-file-validation",
        "--control",
        "cloudtrail-logging",
        "--control",
        "log-group-retention",
    ];
    let fix = run(Some(&emulator), &[&["scan", "--fix"], &controls[..6]].concat(), &[]);
    let verdicts: Vec<String> = lines(&fix).iter().map(|d| d["verdict"].as_str().unwrap().to_owned()).collect();
    let fixed = verdicts.iter().filter(|v| *v == "fixed").count();
    assert_eq!(fixed, 3, "delivery, validation, logging: {verdicts:?}");
    // The region's baseline was read beside the trail, before it logged again: the next scan
    // (and logmend's own StartLogging event) finds the region covered.
    assert!(verdicts.len() == 3 || verdicts.len() == 4, "{verdicts:?}");

    let again = run(Some(&emulator), &[&["scan", "--format", "table"], &controls[..]].concat(), &[]);
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.starts_with("VERDICT") && text.contains("compliant"), "{text}");
    // The trail (delivery, validation, logging), the region's baseline, and the log group
    // logmend made for it with the configured retention.
    let summary = String::from_utf8_lossy(&again.stderr);
    assert!(summary.contains("5 evaluated: 5 compliant"), "{summary}");
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

    // The store's controls leave MFA delete and encryption to a person: this run looks at the trail.
    let trail_only =
        [("LOGMEND_CONTROLS", "cloudtrail-cloudwatch-logs,cloudtrail-log-file-validation,cloudtrail-logging")];
    let fixed = run(Some(&emulator), &["handle", "events/cloudtrail/create-trail.json", "--fix"], &trail_only);
    assert_eq!(fixed.status.code(), Some(0), "{}", String::from_utf8_lossy(&fixed.stdout));
    assert_eq!(lines(&fixed)[0]["verdict"], "fixed");

    let skipped = run(Some(&emulator), &["handle", "events/cloudtrail/update-trail-failed-access-denied.json"], &[]);
    assert_eq!(skipped.status.code(), Some(0));
    assert_eq!(lines(&skipped)[0]["verdict"], "skipped");
}

//END

#[tokio::test]
async fn broker_passwords_reach_no_output_line_even_at_trace_level() {
    let emulator = Emulator::start();
    let id = create_broker(&emulator.clients("us-east-1"), "orders", "ACTIVEMQ", false, false).await;
    let sample = broker_event("mq/create-broker-activemq.json", &id);
    let unmasked = sample["detail"]["requestParameters"]["users"][0]["password"].as_str().unwrap().to_owned();
    let mut ours = sample.clone();
    ours["detail"]["requestParameters"]["users"][0]["password"] = BROKER_PASSWORD.into();
    let dir = std::env::temp_dir().join(format!("logmend-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (event, secret) in [(&sample, unmasked.as_str()), (&ours, BROKER_PASSWORD)] {
        let path = dir.join("event.json");
        std::fs::write(&path, serde_json::to_vec(event).unwrap()).unwrap();
        for fix in [false, true] {
            let mut args = vec!["handle", path.to_str().unwrap()];
            if fix {
                args.push("--fix");
            }
            let out = run(Some(&emulator), &args, &[("RUST_LOG", "trace")]);
            let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(all.contains("mq-broker-logs"), "the event was evaluated: {all}");
            assert!(!all.contains(secret), "the password leaked (fix={fix})");
            assert!(all.lines().count() > 3, "trace logging was on");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
