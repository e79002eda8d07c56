//! `cloudtrail-logging` (CloudTrail.1/.3 per trail) against the emulator: a stopped trail
//! logging again after its StopLogging event, event selectors merged with the ones someone
//! set, audit mode and second runs writing nothing, another account's trail skipped.

use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend_integration::{Emulator, config_for, create_trail, sample_event};

const CONTROL: &str = "cloudtrail-logging";
const TRAIL: &str = "org-audit";
const TRAIL_ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-audit";

fn app(emulator: &Emulator, mode: Mode) -> Logmend {
    logmend::app(config_for(mode, &[CONTROL]), emulator.clients("us-east-1"))
}

/// The trail's decision; StopLogging and UpdateTrail also decide the region's baseline, after it.
async fn one(app: &Logmend, event: &serde_json::Value) -> logmend::Decision {
    let mut out = app.handle_event(event).await.unwrap();
    assert!(!out.is_empty() && out.len() <= 2, "{out:?}");
    if let Some(baseline) = out.get(1) {
        assert!(baseline.decision.resource.ends_with(":trail/*"), "{out:?}");
        assert_ne!(baseline.decision.verdict, Verdict::Failed, "{out:?}");
    }
    out.remove(0).decision
}

/// A trail that logs (with AWS's default selector: all management events).
async fn logging_trail(emulator: &Emulator) {
    let c = emulator.clients("us-east-1");
    create_trail(emulator, &c, TRAIL, true).await;
    c.cloudtrail.start_logging().name(TRAIL).send().await.unwrap();
}

async fn is_logging(emulator: &Emulator) -> bool {
    let c = emulator.clients("us-east-1");
    c.cloudtrail.get_trail_status().name(TRAIL).send().await.unwrap().is_logging() == Some(true)
}

#[tokio::test]
async fn a_stopped_trail_logs_again_after_its_stop_logging_event_and_the_start_ends_compliant() {
    let emulator = Emulator::start();
    logging_trail(&emulator).await;
    let app = app(&emulator, Mode::Remediate);
    // A compliant trail: GetTrail, GetTrailStatus, GetEventSelectors; no write.
    emulator.recorder_reset();
    assert_eq!(
        one(&app, &sample_event("cloudtrail/update-trail-with-cloudwatch.json")).await.verdict,
        Verdict::Compliant
    );
    // Then the region's baseline: the trail covers it.
    assert_eq!(
        emulator.recorded_calls(),
        [
            "cloudtrail:GetTrail",
            "cloudtrail:GetTrailStatus",
            "cloudtrail:GetEventSelectors",
            "cloudtrail:DescribeTrails",
            "cloudtrail:GetTrailStatus",
            "cloudtrail:GetEventSelectors"
        ]
    );

    let c = emulator.clients("us-east-1");
    c.cloudtrail.stop_logging().name(TRAIL).send().await.unwrap();
    emulator.recorder_reset();
    let d = one(&app, &sample_event("cloudtrail/stop-logging.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!((d.resource.as_str(), d.event_name.as_deref()), (TRAIL_ARN, Some("StopLogging")));
    assert!(d.reason.contains("logging management events"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), ["cloudtrail:StartLogging"]);
    emulator.assert_calls_declared(CONTROL);
    assert!(is_logging(&emulator).await);

    // logmend's own StartLogging comes back: compliant, no write.
    let mut started = sample_event("cloudtrail/stop-logging.json");
    started["detail"]["eventName"] = "StartLogging".into();
    emulator.recorder_reset();
    assert_eq!(one(&app, &started).await.verdict, Verdict::Compliant);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn audit_mode_reports_a_stopped_trail_and_writes_nothing() {
    let emulator = Emulator::start();
    create_trail(&emulator, &emulator.clients("us-east-1"), TRAIL, true).await;
    emulator.recorder_reset();
    let d = one(&app(&emulator, Mode::Audit), &sample_event("cloudtrail/create-trail.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert_eq!(d.changes[0].api, "cloudtrail:StartLogging");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    assert!(!is_logging(&emulator).await);
}

#[tokio::test]
async fn read_only_management_selectors_are_made_read_and_write_keeping_the_data_selector() {
    use aws_sdk_cloudtrail::types::{DataResource, EventSelector, ReadWriteType};
    let emulator = Emulator::start();
    logging_trail(&emulator).await;
    let c = emulator.clients("us-east-1");
    let data = EventSelector::builder()
        .read_write_type(ReadWriteType::All)
        .include_management_events(false)
        .data_resources(DataResource::builder().r#type("AWS::S3::Object").values("arn:aws:s3:::payroll/").build())
        .build();
    let read_only =
        EventSelector::builder().read_write_type(ReadWriteType::ReadOnly).include_management_events(true).build();
    c.cloudtrail
        .put_event_selectors()
        .trail_name(TRAIL)
        .event_selectors(data)
        .event_selectors(read_only)
        .send()
        .await
        .unwrap();
    let app = app(&emulator, Mode::Remediate);
    let event = sample_event("cloudtrail/put-event-selectors-read-only.json");
    emulator.recorder_reset();
    let d = one(&app, &event).await;
    emulator.assert_calls_declared(CONTROL);
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.changes[0].api, "cloudtrail:PutEventSelectors");
    let out = c.cloudtrail.get_event_selectors().trail_name(TRAIL).send().await.unwrap();
    let selectors = out.event_selectors();
    assert_eq!(selectors.len(), 2, "{selectors:?}");
    assert_eq!(selectors[0].data_resources()[0].values(), ["arn:aws:s3:::payroll/"], "someone's data selector kept");
    assert_eq!(selectors[1].read_write_type(), Some(&ReadWriteType::All));
    assert_eq!(selectors[1].include_management_events(), Some(true));
    // logmend's PutEventSelectors comes back: compliant, no write.
    emulator.recorder_reset();
    assert_eq!(one(&app, &event).await.verdict, Verdict::Compliant);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn advanced_selectors_get_one_full_management_selector_and_keep_the_rest() {
    use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector};
    let emulator = Emulator::start();
    logging_trail(&emulator).await;
    let c = emulator.clients("us-east-1");
    let field = |f: &str, v: &str| AdvancedFieldSelector::builder().field(f).equals(v).build().unwrap();
    let writes_only = AdvancedEventSelector::builder()
        .name("writes")
        .field_selectors(field("eventCategory", "Management"))
        .field_selectors(field("readOnly", "false"))
        .build()
        .unwrap();
    let s3 = AdvancedEventSelector::builder()
        .name("payroll objects")
        .field_selectors(field("eventCategory", "Data"))
        .field_selectors(field("resources.type", "AWS::S3::Object"))
        .build()
        .unwrap();
    c.cloudtrail
        .put_event_selectors()
        .trail_name(TRAIL)
        .advanced_event_selectors(writes_only)
        .advanced_event_selectors(s3)
        .send()
        .await
        .unwrap();
    let d = one(&app(&emulator, Mode::Remediate), &sample_event("cloudtrail/put-event-selectors-read-only.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    let out = c.cloudtrail.get_event_selectors().trail_name(TRAIL).send().await.unwrap();
    let names: Vec<&str> = out.advanced_event_selectors().iter().filter_map(|s| s.name()).collect();
    assert_eq!(names, ["payroll objects", "Management events, read and write (logmend)"]);
    assert!(out.event_selectors().is_empty(), "advanced only: basic and advanced never mix");
}

#[tokio::test]
async fn another_accounts_trail_is_skipped_untouched() {
    let emulator = Emulator::start();
    create_trail(&emulator, &emulator.clients("us-east-1"), TRAIL, true).await;
    emulator.recorder_reset();
    let report = app(&emulator, Mode::Remediate).sweep(&[], 4, Some("111122223333"), |_| {}).await;
    let d = &report.evaluations[0].decision;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert!(d.reason.starts_with("organization trail of account 123456789012"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}
