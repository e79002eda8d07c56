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

/// Headless Chromium (Debian's package; `make test` installs it): the flags keep it off the
/// network, which this machine's sandbox refuses anyway.
fn chromium(args: &[&str]) -> Output {
    let bin = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let profile = tempdir("chromium-profile");
    Command::new(&bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{bin}: {e} (make test installs Debian's chromium)"))
}

fn tempdir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("logmend-{name}-{}-{:?}", std::process::id(), std::thread::current().id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn two_groups(emulator: &Emulator) {
    let c = emulator.clients("us-east-1");
    c.logs.create_log_group().log_group_name("/app/forever").send().await.unwrap();
    c.logs.create_log_group().log_group_name("/app/kept").send().await.unwrap();
    c.logs.put_retention_policy().log_group_name("/app/kept").retention_in_days(400).send().await.unwrap();
}

/// `--format csv` and `--format asff` to standard output, `--format html --output FILE`.
#[tokio::test]
async fn scan_writes_csv_asff_and_an_html_report() {
    let emulator = Emulator::start();
    two_groups(&emulator).await;
    let scan = ["scan", "--control", "log-group-retention", "--quiet", "--format"];

    let csv = run(Some(&emulator), &[&scan[..], &["csv"]].concat(), &[]);
    assert_eq!(csv.status.code(), Some(1));
    assert!(csv.stderr.is_empty(), "--quiet: {}", String::from_utf8_lossy(&csv.stderr));
    let text = String::from_utf8(csv.stdout).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], logmend::report::CSV_HEADER.join(","));
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows.iter().any(|r| r.starts_with("noncompliant,log-group-retention,CloudWatch.16,MEDIUM,")), "{text}");

    let asff = run(Some(&emulator), &[&scan[..], &["asff"]].concat(), &[]);
    let findings: Vec<Value> = serde_json::from_slice(&asff.stdout).unwrap();
    let mut statuses: Vec<&str> = findings.iter().map(|f| f["Compliance"]["Status"].as_str().unwrap()).collect();
    statuses.sort();
    assert_eq!(statuses, ["FAILED", "PASSED"]);
    assert!(
        findings
            .iter()
            .all(|f| f["ProductArn"] == "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default")
    );

    let dir = tempdir("report");
    let page = dir.join("report.html");
    let html = run(Some(&emulator), &[&scan[..], &["html", "--output", page.to_str().unwrap()]].concat(), &[]);
    assert_eq!(html.status.code(), Some(1));
    assert!(html.stdout.is_empty(), "the report went to the file");
    let text = std::fs::read_to_string(&page).unwrap();
    assert!(text.starts_with("<!DOCTYPE html>") && text.contains("/app/forever"));
}

/// The HTML report rendered in headless Chromium: its script runs (the filter counts what it
/// shows), the summary and a row are on the page, and a screenshot is taken.
#[tokio::test]
async fn the_html_report_renders_in_a_real_browser_with_its_summary_and_filters() {
    let emulator = Emulator::start();
    two_groups(&emulator).await;
    let dir = tempdir("browser");
    let page = dir.join("report.html");
    run(
        Some(&emulator),
        &["scan", "--quiet", "--control", "log-group-retention", "--format", "html", "-o", page.to_str().unwrap()],
        &[],
    );
    let url = format!("file://{}", page.display());

    let dom = chromium(&["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains(r#"id="summary""#) && dom.contains(r#"class="total" data-verdict="noncompliant""#), "{dom}");
    assert!(dom.contains(r#"<rect class="bar" data-control="log-group-retention" data-verdict="compliant""#));
    assert!(dom.contains("/app/forever"));
    assert!(dom.contains("2 of 2 shown"), "the page's script ran: {dom}");

    let filtered = chromium(&["--dump-dom", &format!("{url}?verdict=noncompliant")]);
    let filtered = String::from_utf8_lossy(&filtered.stdout);
    assert!(filtered.contains("1 of 2 shown"), "{filtered}");
    assert!(
        filtered.contains(r#"data-control="log-group-retention" style="display: none;""#),
        "the compliant row is hidden"
    );

    let shot = dir.join("report.png");
    let out = chromium(&["--window-size=1280,900", &format!("--screenshot={}", shot.display()), &url]);
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 10_000, "a rendered page, not a blank one: {} bytes", png.len());
    if let Ok(keep) = std::env::var("LOGMEND_REPORT_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

/// `scan --security-hub` sends every decision as a finding.
#[tokio::test]
async fn scan_sends_findings_to_security_hub() {
    let emulator = Emulator::start();
    two_groups(&emulator).await;
    let c = emulator.clients("us-east-1");
    c.securityhub.enable_security_hub().send().await.unwrap();
    let out = run(Some(&emulator), &["scan", "--control", "log-group-retention", "--security-hub"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("findings sent to Security Hub in us-east-1"));
    let found = c.securityhub.get_findings().send().await.unwrap();
    assert_eq!(found.findings().len(), 2);
}

/// A new user's first try: no region, or no credentials, is one line and exit 2, before any
/// call, and the SDK's own warnings stay out of it.
#[test]
fn missing_region_or_credentials_is_one_line_and_exit_2() {
    let bare = |extra: &[(&str, &str)]| {
        let mut cmd = Command::new(logmend_bin());
        cmd.args(["scan"]).current_dir(repo_root()).env_clear().env("PATH", std::env::var("PATH").unwrap());
        cmd.envs([
            ("AWS_CONFIG_FILE", "/nonexistent"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
            ("HOME", "/nonexistent"),
        ]);
        cmd.envs(extra.iter().copied());
        cmd.output().unwrap()
    };
    let no_region = bare(&[]);
    assert_eq!(no_region.status.code(), Some(2));
    let err = String::from_utf8_lossy(&no_region.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("logmend: no region: pass --region"), "{err}");
    assert!(no_region.stdout.is_empty());

    let no_credentials = bare(&[("AWS_REGION", "us-east-1"), ("AWS_EC2_METADATA_DISABLED", "true")]);
    assert_eq!(no_credentials.status.code(), Some(2));
    let err = String::from_utf8_lossy(&no_credentials.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("logmend: no AWS credentials"), "{err}");
    assert!(no_credentials.stdout.is_empty(), "no control ran");
}

/// At AWS's pace (25 ms a call) and under its published quotas (PutRetentionPolicy 5 a second),
/// `scan --fix` at its default concurrency paces itself instead of failing: every group is
/// fixed, no decision fails, and it takes about as long as the quota allows. (The default SDK
/// retry gave up on most of them: 733 failed of 900 in the benchmark before adaptive retry.)
#[tokio::test]
async fn scan_fix_stays_under_the_api_quotas_without_a_failed_decision() {
    use logmend_integration::EmulatorOptions;
    let emulator =
        Emulator::start_with(EmulatorOptions { service_ms: 25.0, quotas: Some("aws".into()), ..Default::default() });
    let logs = emulator.clients("us-east-1").logs;
    let names: Vec<String> = (0..40).map(|i| format!("/paced/group-{i:02}")).collect();
    for chunk in names.chunks(8) {
        let creates = chunk.iter().map(|n| logs.create_log_group().log_group_name(n).send());
        for r in futures::future::join_all(creates).await {
            r.unwrap();
        }
    }
    let out = run(Some(&emulator), &["scan", "--fix", "--quiet", "--control", "log-group-retention"], &[]);
    let decisions = lines(&out);
    let verdicts: Vec<&str> = decisions.iter().filter_map(|d| d["verdict"].as_str()).collect();
    assert_eq!(verdicts.len(), 40, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(verdicts.iter().all(|v| *v == "fixed"), "{verdicts:?}");
    assert_eq!(out.status.code(), Some(0));
    let (_, pace) = emulator.http("GET", "/logmend-emulator/pace", "");
    let pace: Value = serde_json::from_str(&pace).unwrap();
    assert_eq!(pace["served"]["logs:PutRetentionPolicy"], 40, "one write per group: {pace}");
}
