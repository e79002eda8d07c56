//! `cloudtrail-log-file-validation` (CloudTrail.4) against the emulator, one test per path:
//! fixed from the trail's events and the sweep, logmend's own UpdateTrail ending compliant,
//! audit mode, shadow trails, another account's (organization) trail, exempt trails.

use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend_integration::{Emulator, config_for, create_trail, one, sample_event};

const CONTROL: &str = "cloudtrail-log-file-validation";
const TRAIL: &str = "org-audit";
const TRAIL_ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-audit";

fn app(emulator: &Emulator, region: &str, mode: Mode) -> Logmend {
    logmend::app(config_for(mode, &[CONTROL]), emulator.clients(region))
}

async fn validation_on(emulator: &Emulator) -> Option<bool> {
    let c = emulator.clients("us-east-1");
    let out = c.cloudtrail.get_trail().name(TRAIL).send().await.unwrap();
    out.trail().unwrap().log_file_validation_enabled()
}

#[tokio::test]
async fn validation_is_turned_on_and_logmends_own_update_trail_ends_compliant() {
    let emulator = Emulator::start();
    create_trail(&emulator, &emulator.clients("us-east-1"), TRAIL, true).await;
    let app = app(&emulator, "us-east-1", Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("cloudtrail/create-trail.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.resource, TRAIL_ARN);
    assert_eq!(d.changes[0].detail, "EnableLogFileValidation=true");
    assert_eq!(emulator.mutating_calls(), ["cloudtrail:UpdateTrail"]);
    emulator.assert_calls_declared(CONTROL);
    assert_eq!(validation_on(&emulator).await, Some(true));
    // The UpdateTrail comes back as an event: compliant, one read, no write.
    emulator.recorder_reset();
    let d = one(&app, &sample_event("cloudtrail/update-trail-with-cloudwatch.json")).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.recorded_calls(), ["cloudtrail:GetTrail"]);
}

#[tokio::test]
async fn audit_mode_reports_and_writes_nothing_and_the_sweep_fixes_once() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    create_trail(&emulator, &c, "regional", false).await;
    emulator.recorder_reset();
    let audit = app(&emulator, "us-east-1", Mode::Audit).sweep(&[], 4, None, |_| {}).await;
    assert_eq!(audit.summary.count(Verdict::Noncompliant), 2, "{:?}", audit.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    let fix = app(&emulator, "us-east-1", Mode::Remediate).sweep(&[], 4, None, |_| {}).await;
    assert_eq!(fix.summary.count(Verdict::Fixed), 2, "{:?}", fix.summary);
    emulator.recorder_reset();
    let again = app(&emulator, "us-east-1", Mode::Remediate).sweep(&[], 4, None, |_| {}).await;
    assert_eq!(again.summary.count(Verdict::Compliant), 2, "{:?}", again.summary);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "a second sweep writes nothing");
}

#[tokio::test]
async fn a_shadow_trail_and_another_accounts_trail_are_skipped_untouched() {
    let emulator = Emulator::start();
    create_trail(&emulator, &emulator.clients("us-east-1"), TRAIL, true).await;
    // From eu-west-1 the multi-region trail is a shadow copy.
    let west = app(&emulator, "eu-west-1", Mode::Remediate);
    let report = west.sweep(&[], 4, None, |_| {}).await;
    assert_eq!(report.evaluations[0].decision.verdict, Verdict::Skipped, "{:?}", report.evaluations[0].decision);
    assert!(report.evaluations[0].decision.reason.contains("shadow copy"));
    // An organization trail seen from a member account.
    let member = app(&emulator, "us-east-1", Mode::Remediate);
    emulator.recorder_reset();
    let report = member.sweep(&[], 4, Some("111122223333"), |_| {}).await;
    let d = &report.evaluations[0].decision;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert_eq!(d.reason, "organization trail of account 123456789012; account 111122223333 cannot change it");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    assert_eq!(validation_on(&emulator).await, Some(false));
}

#[tokio::test]
async fn an_exempt_trail_is_skipped_and_a_failed_call_changes_nothing() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, TRAIL, true).await;
    let tag = aws_sdk_cloudtrail::types::Tag::builder().key("logmend:exempt").value("true").build().unwrap();
    c.cloudtrail.add_tags().resource_id(TRAIL_ARN).tags_list(tag).send().await.unwrap();
    let app = app(&emulator, "us-east-1", Mode::Remediate);
    emulator.recorder_reset();
    let d = one(&app, &sample_event("cloudtrail/create-trail.json")).await;
    assert_eq!((d.verdict, d.reason.as_str()), (Verdict::Skipped, "tagged logmend:exempt=true"));
    let d = one(&app, &sample_event("cloudtrail/update-trail-failed-access-denied.json")).await;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}
