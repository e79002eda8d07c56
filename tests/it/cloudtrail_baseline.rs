//! The region's baseline (`cloudtrail-logging`, CloudTrail.1): one test per path. DeleteTrail
//! of the last multi-region trail creating `LOGMEND_BASELINE_TRAIL` with its locked store, and
//! logmend's own CreateTrail ending compliant for every trail control; the gap reported without
//! the setting, and from a region that does not create the baseline; a multi-region trail homed
//! elsewhere covering the region; audit mode and a second sweep writing nothing.

use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend_integration::{Emulator, config_for, create_trail, sample_event};
use serde_json::json;

const BASELINE: &str = "logmend-baseline";
const BASELINE_ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/logmend-baseline";
const BASELINE_BUCKET: &str = "logmend-cloudtrail-123456789012-us-east-1";
const ACCOUNT: &str = "123456789012";

fn app(emulator: &Emulator, region: &str, mode: Mode, baseline: Option<&str>, controls: &[&str]) -> Logmend {
    let mut config = config_for(mode, controls);
    config.baseline_trail = baseline.map(str::to_owned);
    logmend::app(config, emulator.clients(region))
}

fn baseline_decision(decisions: &[logmend::controls::Evaluation]) -> &logmend::Decision {
    &decisions.iter().find(|e| e.decision.resource.ends_with(":trail/*")).expect("a baseline decision").decision
}

#[tokio::test]
async fn deleting_the_last_multi_region_trail_creates_the_baseline_and_its_create_trail_ends_compliant() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, "org-audit", true).await;
    c.cloudtrail.delete_trail().name("org-audit").send().await.unwrap();
    let fixer = app(&emulator, "us-east-1", Mode::Remediate, Some(BASELINE), &["cloudtrail-logging"]);
    emulator.recorder_reset();
    let out = fixer.handle_event(&sample_event("cloudtrail/delete-trail.json")).await.unwrap();
    assert_eq!(out.len(), 1, "DeleteTrail decides the baseline only: {out:?}");
    let d = &out[0].decision;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.resource, "arn:aws:cloudtrail:us-east-1:123456789012:trail/*");
    assert!(d.reason.contains("created trail logmend-baseline"), "{}", d.reason);
    emulator.assert_calls_declared("cloudtrail-logging");
    let writes = emulator.mutating_calls();
    assert_eq!(writes.first().map(String::as_str), Some("s3:CreateBucket"));
    assert_eq!(&writes[writes.len() - 2..], ["cloudtrail:CreateTrail", "cloudtrail:StartLogging"]);

    let trail = c.cloudtrail.get_trail().name(BASELINE).send().await.unwrap();
    let trail = trail.trail().unwrap();
    assert_eq!(
        (trail.is_multi_region_trail(), trail.log_file_validation_enabled(), trail.s3_bucket_name()),
        (Some(true), Some(true), Some(BASELINE_BUCKET))
    );
    assert_eq!(c.cloudtrail.get_trail_status().name(BASELINE).send().await.unwrap().is_logging(), Some(true));
    let lock = c.s3.get_object_lock_configuration().bucket(BASELINE_BUCKET).send().await.unwrap();
    let rule = lock.object_lock_configuration().unwrap().rule().unwrap().default_retention().unwrap();
    assert_eq!((rule.mode().map(|m| m.as_str()), rule.days()), (Some("GOVERNANCE"), Some(365)));

    // logmend's CreateTrail comes back: the trail and its store are born compliant.
    let mut created = sample_event("cloudtrail/create-trail.json");
    created["detail"]["requestParameters"]["name"] = json!(BASELINE);
    created["detail"]["requestParameters"]["s3BucketName"] = json!(BASELINE_BUCKET);
    created["detail"]["responseElements"]["name"] = json!(BASELINE);
    created["detail"]["responseElements"]["trailARN"] = json!(BASELINE_ARN);
    created["detail"]["responseElements"]["s3BucketName"] = json!(BASELINE_BUCKET);
    let every = ["cloudtrail-logging", "cloudtrail-log-file-validation", "cloudtrail-bucket-protection"];
    let all = app(&emulator, "us-east-1", Mode::Remediate, Some(BASELINE), &every);
    emulator.recorder_reset();
    let out = all.handle_event(&created).await.unwrap();
    assert_eq!(out.len(), 3, "{out:?}");
    for e in &out {
        assert_eq!(e.decision.verdict, Verdict::Compliant, "{:?}", e.decision);
    }
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    // And a sweep finds the region covered: nothing more is created.
    let again = fixer.sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    let b = baseline_decision(&again.evaluations);
    assert_eq!(b.verdict, Verdict::Compliant, "{b:?}");
    assert!(b.reason.contains(BASELINE_ARN));
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn without_the_setting_the_gap_is_reported_and_audit_creates_nothing() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    // A single-region trail does not cover every region.
    create_trail(&emulator, &c, "regional", false).await;
    c.cloudtrail.start_logging().name("regional").send().await.unwrap();
    emulator.recorder_reset();
    let report = app(&emulator, "us-east-1", Mode::Remediate, None, &["cloudtrail-logging"])
        .sweep(&[], 4, Some(ACCOUNT), |_| {})
        .await;
    let b = baseline_decision(&report.evaluations);
    assert_eq!(b.verdict, Verdict::Noncompliant, "{b:?}");
    assert!(b.reason.contains("set LOGMEND_BASELINE_TRAIL"), "{}", b.reason);
    assert!(b.changes.is_empty());
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    // Audit mode with the setting: what it would create, nothing written.
    let report = app(&emulator, "us-east-1", Mode::Audit, Some(BASELINE), &["cloudtrail-logging"])
        .sweep(&[], 4, Some(ACCOUNT), |_| {})
        .await;
    let b = baseline_decision(&report.evaluations);
    assert_eq!(b.verdict, Verdict::Noncompliant, "{b:?}");
    assert_eq!(b.changes[0].api, "cloudtrail:CreateTrail");
    assert!(b.changes[0].detail.contains(BASELINE_BUCKET), "{:?}", b.changes);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn another_region_reports_the_gap_and_a_trail_homed_elsewhere_covers_it() {
    let emulator = Emulator::start();
    let west = app(&emulator, "eu-west-1", Mode::Remediate, Some(BASELINE), &["cloudtrail-logging"]);
    emulator.recorder_reset();
    let report = west.sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    let b = baseline_decision(&report.evaluations);
    assert_eq!(b.verdict, Verdict::Noncompliant, "{b:?}");
    assert!(b.reason.contains("logmend creates trail logmend-baseline from us-east-1"), "{}", b.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "only the baseline region creates it");
    // A multi-region trail homed in us-east-1 covers eu-west-1 too.
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, "org-audit", true).await;
    c.cloudtrail.start_logging().name("org-audit").send().await.unwrap();
    let report = west.sweep(&[], 4, Some(ACCOUNT), |_| {}).await;
    let b = baseline_decision(&report.evaluations);
    assert_eq!(b.verdict, Verdict::Compliant, "{b:?}");
}
