//! `cloudtrail-cloudwatch-logs` end to end against the emulator, one test per real-world path.

use logmend::decision::{Mode, Verdict};
use logmend::{HandlerError, Logmend};
use logmend_integration::{
    ACCOUNT, Emulator, EmulatorOptions, FUNCTION_ARN, config_for, create_trail, one, sample_event,
};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

const TRAIL: &str = "org-audit";
const TRAIL_ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-audit";
const GROUP: &str = "/aws/cloudtrail/org-audit";
const GROUP_ARN: &str = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/cloudtrail/org-audit:*";
const ROLE: &str = "LogmendTrail-us-east-1-org-audit";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/logmend/LogmendTrail-us-east-1-org-audit";

const CONTROL: &str = "cloudtrail-cloudwatch-logs";

fn app(emulator: &Emulator, mode: Mode) -> Logmend {
    logmend::app(config_for(mode, &[CONTROL]), emulator.clients("us-east-1"))
}

async fn setup(mode: Mode) -> (Emulator, Logmend) {
    let emulator = Emulator::start();
    create_trail(&emulator, &emulator.clients("us-east-1"), TRAIL, true).await;
    let app = app(&emulator, mode);
    emulator.recorder_reset();
    (emulator, app)
}

fn apis(d: &logmend::Decision) -> Vec<&str> {
    d.changes.iter().map(|c| c.api).collect()
}

/// IAM returns policy documents URL-encoded.
fn decode(doc: &str) -> Value {
    serde_json::from_str(&urlencoding::decode(doc).unwrap()).unwrap()
}

async fn assert_trail_connected(emulator: &Emulator) {
    let c = emulator.clients("us-east-1");
    let trail = c.cloudtrail.get_trail().name(TRAIL).send().await.unwrap();
    let trail = trail.trail().unwrap();
    assert_eq!(trail.cloud_watch_logs_log_group_arn(), Some(GROUP_ARN));
    assert_eq!(trail.cloud_watch_logs_role_arn(), Some(ROLE_ARN));
}

#[tokio::test]
async fn noncompliant_trail_is_fixed_with_log_group_role_policy_and_update() {
    // GIVEN a multi-region trail with no CloudWatch Logs delivery
    let (emulator, app) = setup(Mode::Remediate).await;
    // WHEN its CreateTrail event arrives
    let out = app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    // THEN one decision: fixed, with the five writes, naming the trail and the event
    assert_eq!(out.len(), 1);
    let d = &out[0].decision;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.resource, TRAIL_ARN);
    assert_eq!(d.account, ACCOUNT);
    assert_eq!(d.event_name.as_deref(), Some("CreateTrail"));
    assert_eq!(
        apis(d),
        [
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "cloudtrail:UpdateTrail"
        ]
    );
    assert!(!out[0].retry);

    let c = emulator.clients("us-east-1");
    // the log group, with the configured retention
    let groups = c.logs.describe_log_groups().log_group_name_prefix(GROUP).send().await.unwrap();
    assert_eq!(groups.log_groups().len(), 1);
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(365));
    // the role: logmend's path, trusted by CloudTrail only, no condition
    let role = c.iam.get_role().role_name(ROLE).send().await.unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.path(), "/logmend/");
    assert_eq!(role.arn(), ROLE_ARN);
    let trust = decode(role.assume_role_policy_document().unwrap());
    assert_eq!(
        trust,
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]})
    );
    // its only policy: the two log actions on that group's streams
    let names = c.iam.list_role_policies().role_name(ROLE).send().await.unwrap();
    assert_eq!(names.policy_names(), ["logmend-cloudtrail-delivery"]);
    let attached = c.iam.list_attached_role_policies().role_name(ROLE).send().await.unwrap();
    assert!(attached.attached_policies().is_empty());
    let policy =
        c.iam.get_role_policy().role_name(ROLE).policy_name("logmend-cloudtrail-delivery").send().await.unwrap();
    let policy = decode(policy.policy_document());
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 1);
    assert_eq!(policy["Statement"][0]["Action"], json!(["logs:CreateLogStream", "logs:PutLogEvents"]));
    assert_eq!(policy["Statement"][0]["Resource"], format!("{}:log-stream:*", GROUP_ARN.trim_end_matches(":*")));
    // and the trail points at both
    assert_trail_connected(&emulator).await;
}

#[tokio::test]
async fn second_run_makes_no_mutating_call() {
    let (emulator, app) = setup(Mode::Remediate).await;
    app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    // The remediator's own UpdateTrail comes back as an event: it must end as compliant.
    emulator.recorder_reset();
    let out = app.handle_event(&sample_event("cloudtrail/update-trail-with-cloudwatch.json")).await.unwrap();
    assert_eq!(out[0].decision.verdict, Verdict::Compliant, "{:?}", out[0].decision);
    assert!(out[0].decision.changes.is_empty());
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    // A compliant trail costs two reads: the trail, and its delivery status.
    assert_eq!(emulator.recorded_calls(), ["cloudtrail:GetTrail", "cloudtrail:GetTrailStatus"]);
}

#[tokio::test]
async fn audit_mode_makes_no_mutating_call_and_reports_the_planned_changes() {
    let (emulator, app) = setup(Mode::Audit).await;
    let out = app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    let d = &out[0].decision;
    assert_eq!(d.verdict, Verdict::Noncompliant);
    assert_eq!(d.mode, Mode::Audit);
    assert_eq!(
        apis(d),
        [
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "cloudtrail:UpdateTrail"
        ]
    );
    assert!(d.changes[4].detail.contains(ROLE_ARN) && d.changes[4].detail.contains(GROUP_ARN), "{:?}", d.changes[4]);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    let calls: BTreeSet<String> = emulator.recorded_calls().into_iter().collect();
    let reads: BTreeSet<String> =
        logmend::spec("cloudtrail-cloudwatch-logs").unwrap().reads.iter().map(|p| p.action.to_owned()).collect();
    assert!(
        calls.is_subset(&reads),
        "audit used undeclared actions: {:?}",
        calls.difference(&reads).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn every_call_of_a_full_fix_is_a_declared_action() {
    let (emulator, app) = setup(Mode::Remediate).await;
    app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    let spec = logmend::spec("cloudtrail-cloudwatch-logs").unwrap();
    let declared: BTreeSet<String> = spec.reads.iter().chain(spec.writes).map(|p| p.action.to_owned()).collect();
    let calls: BTreeSet<String> = emulator.recorded_calls().into_iter().collect();
    assert!(calls.is_subset(&declared), "undeclared: {:?}", calls.difference(&declared).collect::<Vec<_>>());
}

#[tokio::test]
async fn existing_log_group_and_role_are_reused_not_duplicated() {
    let (emulator, app) = setup(Mode::Remediate).await;
    let c = emulator.clients("us-east-1");
    // GIVEN an earlier run left the group (with a retention someone chose) and the role
    c.logs.create_log_group().log_group_name(GROUP).send().await.unwrap();
    c.logs.put_retention_policy().log_group_name(GROUP).retention_in_days(731).send().await.unwrap();
    let trust = logmend::controls::cloudtrail_cloudwatch_logs::TrailDeliveryRole::trust_policy().to_string();
    c.iam.create_role().role_name(ROLE).path("/logmend/").assume_role_policy_document(trust).send().await.unwrap();
    emulator.recorder_reset();
    let out = app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    let d = &out[0].decision;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(apis(d), ["iam:PutRolePolicy", "cloudtrail:UpdateTrail"]);
    assert_eq!(emulator.mutating_calls(), ["iam:PutRolePolicy", "cloudtrail:UpdateTrail"]);
    let groups = c.logs.describe_log_groups().log_group_name_prefix(GROUP).send().await.unwrap();
    assert_eq!(groups.log_groups().len(), 1);
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(731), "a longer retention is never shortened");
    assert_trail_connected(&emulator).await;
}

#[tokio::test]
async fn a_run_cut_short_after_the_log_group_is_completed_by_the_next() {
    let (emulator, app) = setup(Mode::Remediate).await;
    // GIVEN a run that died right after CreateLogGroup (no retention yet)
    emulator.clients("us-east-1").logs.create_log_group().log_group_name(GROUP).send().await.unwrap();
    emulator.recorder_reset();
    let out = app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    assert_eq!(out[0].decision.verdict, Verdict::Fixed);
    assert_eq!(
        emulator.mutating_calls(),
        ["logs:PutRetentionPolicy", "iam:CreateRole", "iam:PutRolePolicy", "cloudtrail:UpdateTrail"]
    );
    assert_trail_connected(&emulator).await;
}

#[tokio::test]
async fn failed_call_events_are_skipped_without_any_call() {
    let (emulator, app) = setup(Mode::Remediate).await;
    let out = app.handle_event(&sample_event("cloudtrail/update-trail-failed-access-denied.json")).await.unwrap();
    let d = &out[0].decision;
    assert_eq!(d.verdict, Verdict::Skipped);
    assert!(d.reason.contains("AccessDenied"), "{}", d.reason);
    assert_eq!(emulator.recorded_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn shadow_trail_events_are_skipped_in_the_other_region() {
    let (emulator, _) = setup(Mode::Remediate).await;
    let away = logmend::app(config_for(Mode::Remediate, &[CONTROL]), emulator.clients("eu-west-1"));
    let out = away.handle_event(&sample_event("cloudtrail/update-trail-shadow-region.json")).await.unwrap();
    let d = &out[0].decision;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert!(d.reason.contains("home region us-east-1"), "{}", d.reason);
    assert_eq!(d.region, "eu-west-1");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn exempt_trails_are_skipped() {
    let (emulator, app) = setup(Mode::Remediate).await;
    let tag = aws_sdk_cloudtrail::types::Tag::builder().key("logmend:exempt").value("true").build().unwrap();
    emulator.clients("us-east-1").cloudtrail.add_tags().resource_id(TRAIL_ARN).tags_list(tag).send().await.unwrap();
    emulator.recorder_reset();
    let out = app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    assert_eq!(out[0].decision.verdict, Verdict::Skipped);
    assert_eq!(out[0].decision.reason, "tagged logmend:exempt=true");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_deleted_trail_is_skipped_not_failed() {
    let emulator = Emulator::start();
    let app = app(&emulator, Mode::Remediate);
    let out = app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    assert_eq!(out[0].decision.verdict, Verdict::Skipped);
    assert_eq!(out[0].decision.reason, "the trail no longer exists");
}

#[tokio::test]
async fn a_foreign_role_with_logmends_name_is_not_touched() {
    let (emulator, app) = setup(Mode::Remediate).await;
    let c = emulator.clients("us-east-1");
    let trust = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]});
    c.iam
        .create_role()
        .role_name(ROLE)
        .path("/logmend/")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    emulator.recorder_reset();
    let out = app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    let d = &out[0].decision;
    assert_eq!(d.verdict, Verdict::Failed);
    assert_eq!(d.error_code.as_deref(), Some("Conflict"));
    assert!(!out[0].retry, "waiting will not fix a conflict");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn iam_propagation_delay_is_waited_out_end_to_end() {
    // GIVEN an emulator where a new role is refused by CloudTrail for 3 s, as IAM does
    let emulator = Emulator::start_with(EmulatorOptions { iam_propagation_seconds: 3.0, ..Default::default() });
    create_trail(&emulator, &emulator.clients("us-east-1"), TRAIL, true).await;
    let app = app(&emulator, Mode::Remediate);
    emulator.recorder_reset();
    let out = app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    assert_eq!(out[0].decision.verdict, Verdict::Fixed, "{:?}", out[0].decision);
    let updates = emulator.recorded_calls().iter().filter(|c| *c == "cloudtrail:UpdateTrail").count();
    assert!(updates >= 2, "UpdateTrail was not retried ({updates} calls)");
    assert_trail_connected(&emulator).await;
}

#[tokio::test]
async fn iam_propagation_that_outlasts_the_timeout_fails_for_a_retry() {
    let emulator = Emulator::start_with(EmulatorOptions { iam_propagation_seconds: 60.0, ..Default::default() });
    create_trail(&emulator, &emulator.clients("us-east-1"), TRAIL, true).await;
    let mut cfg = config_for(Mode::Remediate, &[CONTROL]);
    cfg.iam_propagation_timeout = Duration::from_secs(1);
    let app = logmend::app(cfg, emulator.clients("us-east-1"));
    let out = app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    let d = &out[0].decision;
    assert_eq!(d.verdict, Verdict::Failed);
    assert_eq!(d.error_code.as_deref(), Some("InvalidCloudWatchLogsRoleArnException"));
    assert!(d.reason.contains("4 of 5 changes made"), "{}", d.reason);
    assert!(out[0].retry);
    // The Lambda entry fails the invocation so Lambda retries, then the DLQ keeps it.
    let err = app.lambda_handler(sample_event("cloudtrail/create-trail.json"), FUNCTION_ARN).await.unwrap_err();
    assert!(matches!(err, HandlerError::Retryable { .. }), "{err}");
    assert_eq!(err.error_type(), "Retryable");
}

#[tokio::test]
async fn drift_back_to_no_delivery_is_fixed_again() {
    let (emulator, app) = setup(Mode::Remediate).await;
    app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    // Someone turns delivery off.
    let c = emulator.clients("us-east-1");
    c.cloudtrail
        .update_trail()
        .name(TRAIL)
        .cloud_watch_logs_log_group_arn("")
        .cloud_watch_logs_role_arn("")
        .send()
        .await
        .unwrap();
    emulator.recorder_reset();
    let out = app.handle_event(&sample_event("cloudtrail/update-trail-without-cloudwatch.json")).await.unwrap();
    assert_eq!(out[0].decision.verdict, Verdict::Fixed);
    // Everything else was still there: only the trail is updated.
    assert_eq!(emulator.mutating_calls(), ["cloudtrail:UpdateTrail"]);
    assert_trail_connected(&emulator).await;
}

#[tokio::test]
async fn sweep_fixes_home_trails_and_skips_shadows() {
    let emulator = Emulator::start();
    let home = emulator.clients("us-east-1");
    create_trail(&emulator, &home, TRAIL, true).await;
    create_trail(&emulator, &home, "regional", false).await;
    let west = emulator.clients("eu-west-1");
    create_trail(&emulator, &west, "west-only", false).await;

    let audit = app(&emulator, Mode::Audit);
    let report = audit.sweep(&[], 4, None, |_| {}).await;
    assert_eq!(report.summary.count(Verdict::Noncompliant), 2, "{:?}", report.summary);
    assert_eq!(report.summary.total, 2, "west-only is not visible from us-east-1");

    let fix = app(&emulator, Mode::Remediate);
    let report = fix.sweep(&[], 4, None, |_| {}).await;
    assert_eq!(report.summary.count(Verdict::Fixed), 2, "{:?}", report.summary);

    // From eu-west-1 the multi-region trail is a shadow: skipped, never changed twice.
    let west_app = logmend::app(config_for(Mode::Remediate, &[CONTROL]), west);
    emulator.recorder_reset();
    let report = west_app.sweep(&[], 4, None, |_| {}).await;
    let by_resource: Vec<(String, Verdict)> =
        report.evaluations.iter().map(|e| (e.decision.resource.clone(), e.decision.verdict)).collect();
    assert!(by_resource.contains(&(TRAIL_ARN.to_owned(), Verdict::Skipped)), "{by_resource:?}");
    assert!(
        by_resource.contains(&("arn:aws:cloudtrail:eu-west-1:123456789012:trail/west-only".to_owned(), Verdict::Fixed)),
        "{by_resource:?}"
    );
    let updates = emulator.mutating_calls().iter().filter(|c| *c == "cloudtrail:UpdateTrail").count();
    assert_eq!(updates, 1, "only west-only is updated from eu-west-1");
}

#[tokio::test]
async fn bad_events_are_typed_errors_and_unknown_events_are_ignored() {
    let emulator = Emulator::start();
    let app = app(&emulator, Mode::Remediate);
    let mut missing = sample_event("cloudtrail/create-trail.json");
    missing["detail"].as_object_mut().unwrap().remove("eventName");
    let err = app.handle_event(&missing).await.unwrap_err();
    assert_eq!(err.to_string(), "invalid event: event field `detail.eventName` is missing");
    assert_eq!(err.error_type(), "InvalidEvent");

    let mut no_name = sample_event("cloudtrail/update-trail-with-cloudwatch.json");
    no_name["detail"]["requestParameters"] = json!({});
    no_name["detail"]["responseElements"] = Value::Null;
    let err = app.handle_event(&no_name).await.unwrap_err();
    assert!(err.to_string().contains("detail.requestParameters.name"), "{err}");

    let mut other = sample_event("cloudtrail/create-trail.json");
    other["detail"]["eventName"] = json!("StartLogging");
    assert!(app.handle_event(&other).await.unwrap().is_empty());

    let mut wrong_region = sample_event("cloudtrail/create-trail.json");
    wrong_region["region"] = json!("ap-south-1");
    let err = app.handle_event(&wrong_region).await.unwrap_err();
    assert_eq!(err.error_type(), "WrongRegion");
    assert_eq!(emulator.recorded_calls(), Vec::<String>::new());
}

// ---- delivery health: the ARNs stay while the role or group behind them is gone ----

/// A trail whose delivery logmend built, then recorder reset.
async fn delivering(mode: Mode) -> (Emulator, Logmend) {
    let (emulator, fixer) = setup(Mode::Remediate).await;
    let out = fixer.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    assert_eq!(out[0].decision.verdict, Verdict::Fixed, "{:?}", out[0].decision);
    let app = app(&emulator, mode);
    emulator.recorder_reset();
    (emulator, app)
}

async fn delivery_error(emulator: &Emulator) -> Option<String> {
    let c = emulator.clients("us-east-1");
    let status = c.cloudtrail.get_trail_status().name(TRAIL_ARN).send().await.unwrap();
    status.latest_cloud_watch_logs_delivery_error().map(str::to_owned)
}

async fn delete_delivery_role(emulator: &Emulator) {
    let c = emulator.clients("us-east-1");
    c.iam.delete_role_policy().role_name(ROLE).policy_name("logmend-cloudtrail-delivery").send().await.unwrap();
    c.iam.delete_role().role_name(ROLE).send().await.unwrap();
}

#[tokio::test]
async fn a_deleted_delivery_role_is_rebuilt_on_the_delete_role_event() {
    let (emulator, app) = delivering(Mode::Remediate).await;
    delete_delivery_role(&emulator).await;
    emulator.recorder_reset();
    let event = sample_event("iam/delete-role.json");
    let d = one(&app, &event).await;
    emulator.assert_calls_declared(CONTROL);
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.resource, TRAIL_ARN);
    assert_eq!(d.event_name.as_deref(), Some("DeleteRole"));
    assert!(d.reason.contains("role LogmendTrail-us-east-1-org-audit does not exist"), "{}", d.reason);
    assert_eq!(apis(&d), ["iam:CreateRole", "iam:PutRolePolicy", "cloudtrail:UpdateTrail"]);
    assert_eq!(delivery_error(&emulator).await, None, "CloudTrail delivers again");
    assert_trail_connected(&emulator).await;
    // A second run writes nothing.
    emulator.recorder_reset();
    let d = one(&app, &event).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_deleted_delivery_role_is_rebuilt_by_the_sweep() {
    let (emulator, app) = delivering(Mode::Remediate).await;
    delete_delivery_role(&emulator).await;
    let error = delivery_error(&emulator).await.expect("CloudTrail reports the failed delivery");
    let error = error.trim_end_matches('.');
    let report = app.sweep(&["cloudtrail-cloudwatch-logs"], 4, Some(ACCOUNT), |_| {}).await;
    let d = &report.evaluations[0].decision;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert!(d.reason.contains(&format!("CloudTrail reports: {error}")), "the status's error is named: {}", d.reason);
    assert_eq!(apis(d), ["iam:CreateRole", "iam:PutRolePolicy", "cloudtrail:UpdateTrail"]);
    emulator.recorder_reset();
    let again = app.sweep(&["cloudtrail-cloudwatch-logs"], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(again.evaluations[0].decision.verdict, Verdict::Compliant, "{:?}", again.evaluations[0].decision);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_removed_delivery_policy_or_trust_is_restored_and_logmends_own_change_ends_compliant() {
    let (emulator, app) = delivering(Mode::Remediate).await;
    let c = emulator.clients("us-east-1");
    c.iam.delete_role_policy().role_name(ROLE).policy_name("logmend-cloudtrail-delivery").send().await.unwrap();
    let d = one(&app, &sample_event("iam/delete-role-policy.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(apis(&d), ["iam:PutRolePolicy", "cloudtrail:UpdateTrail"]);

    let ec2_trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    c.iam.update_assume_role_policy().role_name(ROLE).policy_document(ec2_trust).send().await.unwrap();
    let event = sample_event("iam/update-assume-role-policy.json");
    emulator.recorder_reset();
    let d = one(&app, &event).await;
    emulator.assert_calls_declared(CONTROL);
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(apis(&d), ["iam:UpdateAssumeRolePolicy", "cloudtrail:UpdateTrail"]);
    let role = c.iam.get_role().role_name(ROLE).send().await.unwrap();
    assert!(decode(role.role().unwrap().assume_role_policy_document().unwrap()).to_string().contains("cloudtrail"));
    // logmend's own UpdateAssumeRolePolicy comes back as the same kind of event: no write.
    emulator.recorder_reset();
    assert_eq!(one(&app, &event).await.verdict, Verdict::Compliant);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn logmends_deleted_log_group_is_recreated_on_the_delete_log_group_event() {
    let (emulator, app) = delivering(Mode::Remediate).await;
    let c = emulator.clients("us-east-1");
    c.logs.delete_log_group().log_group_name(GROUP).send().await.unwrap();
    let d = one(&app, &sample_event("logs/delete-log-group.json")).await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(apis(&d), ["logs:CreateLogGroup", "logs:PutRetentionPolicy", "cloudtrail:UpdateTrail"]);
    assert_eq!(delivery_error(&emulator).await, None);
}

#[tokio::test]
async fn audit_mode_reports_a_broken_delivery_and_writes_nothing() {
    let (emulator, app) = delivering(Mode::Audit).await;
    delete_delivery_role(&emulator).await;
    emulator.recorder_reset();
    let d = one(&app, &sample_event("iam/delete-role.json")).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert_eq!(apis(&d), ["iam:CreateRole", "iam:PutRolePolicy", "cloudtrail:UpdateTrail"]);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_trail_delivering_to_someone_elses_deleted_log_group_is_flagged_not_changed() {
    // GIVEN a trail delivering through the organisation's own role and group
    let (emulator, app) = setup(Mode::Remediate).await;
    let c = emulator.clients("us-east-1");
    let group = "/org/trail-events";
    let group_arn = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:*");
    c.logs.create_log_group().log_group_name(group).send().await.unwrap();
    let trust = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]});
    let role = c
        .iam
        .create_role()
        .role_name("OrgTrailDelivery")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_owned();
    let policy = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:log-stream:*")}]});
    c.iam
        .put_role_policy()
        .role_name("OrgTrailDelivery")
        .policy_name("delivery")
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    c.cloudtrail
        .update_trail()
        .name(TRAIL)
        .cloud_watch_logs_log_group_arn(&group_arn)
        .cloud_watch_logs_role_arn(&role_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        one(&app, &sample_event("cloudtrail/update-trail-with-cloudwatch.json")).await.verdict,
        Verdict::Compliant
    );

    // WHEN someone deletes the group
    c.logs.delete_log_group().log_group_name(group).send().await.unwrap();
    emulator.recorder_reset();
    let mut event = sample_event("logs/delete-log-group.json");
    event["detail"]["requestParameters"]["logGroupName"] = group.into();
    let d = one(&app, &event).await;
    emulator.assert_calls_declared(CONTROL);
    // THEN noncompliant, even in remediate mode, naming CloudTrail's error; nothing written
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("Log group does not exist") && d.reason.contains("not logmend's"), "{}", d.reason);
    assert!(d.changes.is_empty());
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    // and the sweep says the same
    let report = app.sweep(&["cloudtrail-cloudwatch-logs"], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(report.evaluations[0].decision.verdict, Verdict::Noncompliant);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn an_iam_event_for_a_role_no_trail_uses_checks_nothing() {
    let (emulator, app) = delivering(Mode::Remediate).await;
    let mut event = sample_event("iam/delete-role.json");
    event["detail"]["requestParameters"]["roleName"] = "SomeoneElsesRole".into();
    emulator.recorder_reset();
    assert!(app.handle_event(&event).await.unwrap().is_empty());
    assert_eq!(emulator.recorded_calls(), ["cloudtrail:DescribeTrails"]);
}

#[tokio::test]
async fn an_exempt_log_group_the_trail_delivers_to_gets_no_retention_through_the_trail() {
    // GIVEN logmend's group name already taken by a group someone exempted, never expiring
    let (emulator, app) = setup(Mode::Remediate).await;
    let c = emulator.clients("us-east-1");
    c.logs.create_log_group().log_group_name(GROUP).tags("logmend:exempt", "true").send().await.unwrap();
    // WHEN the trail is fixed
    let d = one(&app, &sample_event("cloudtrail/create-trail.json")).await;
    // THEN it delivers there, and the exempt group's retention is left alone
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(apis(&d), ["iam:CreateRole", "iam:PutRolePolicy", "cloudtrail:UpdateTrail"]);
    let groups = c.logs.describe_log_groups().log_group_name_prefix(GROUP).send().await.unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), None);
    assert_trail_connected(&emulator).await;
}
