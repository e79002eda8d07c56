//! `log-group-retention` against the emulator, and the sweep over thousands of resources.

use logmend::decision::{Mode, Verdict};
use logmend::{Config, Logmend};
use logmend_integration::{Emulator, config, create_trail, sample_event};
use serde_json::json;
use std::collections::BTreeSet;

const GROUP: &str = "/app/payments";

async fn group_with(emulator: &Emulator, name: &str, retention: Option<i32>, tags: &[(&str, &str)]) {
    let c = emulator.clients("us-east-1");
    let mut create = c.logs.create_log_group().log_group_name(name);
    for (k, v) in tags {
        create = create.tags(*k, *v);
    }
    create.send().await.unwrap();
    if let Some(days) = retention {
        c.logs.put_retention_policy().log_group_name(name).retention_in_days(days).send().await.unwrap();
    }
}

async fn retention_of(emulator: &Emulator, name: &str) -> Option<i32> {
    let out =
        emulator.clients("us-east-1").logs.describe_log_groups().log_group_name_prefix(name).send().await.unwrap();
    out.log_groups().iter().find(|g| g.log_group_name() == Some(name)).unwrap().retention_in_days()
}

/// The controls the many-groups sweep counts (the store controls have their own tests).
fn sweep_config(mode: Mode) -> Config {
    logmend_integration::config_for(
        mode,
        &["log-group-retention", "cloudtrail-cloudwatch-logs", "cloudtrail-log-file-validation", "cloudtrail-logging"],
    )
}

fn app(emulator: &Emulator, cfg: Config) -> Logmend {
    logmend::app(cfg, emulator.clients("us-east-1"))
}

/// The retention control's one decision on the event (with every control on, log-archive also
/// answers a failed CreateLogGroup with its own `skipped`).
async fn handle(app: &Logmend, event: &str) -> logmend::Decision {
    let mut out = app.handle_event(&sample_event(event)).await.unwrap();
    out.retain(|e| e.decision.control == "log-group-retention");
    assert_eq!(out.len(), 1, "{out:?}");
    out.remove(0).decision
}

#[tokio::test]
async fn a_never_expire_group_gets_365_days() {
    let emulator = Emulator::start();
    group_with(&emulator, GROUP, None, &[]).await;
    emulator.recorder_reset();
    let d = handle(&app(&emulator, config(Mode::Remediate)), "logs/create-log-group.json").await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.resource, "arn:aws:logs:us-east-1:123456789012:log-group:/app/payments");
    assert_eq!(d.reason, "retention set to 365 days");
    assert_eq!(retention_of(&emulator, GROUP).await, Some(365));
    assert_eq!(emulator.mutating_calls(), ["logs:PutRetentionPolicy"]);
}

#[tokio::test]
async fn a_30_day_group_gets_365_days() {
    let emulator = Emulator::start();
    group_with(&emulator, GROUP, Some(30), &[]).await;
    let d = handle(&app(&emulator, config(Mode::Remediate)), "logs/put-retention-policy-30-days.json").await;
    assert_eq!(d.verdict, Verdict::Fixed);
    assert_eq!(retention_of(&emulator, GROUP).await, Some(365));
}

#[tokio::test]
async fn a_3653_day_group_is_untouched() {
    let emulator = Emulator::start();
    group_with(&emulator, GROUP, Some(3653), &[]).await;
    emulator.recorder_reset();
    let d = handle(&app(&emulator, config(Mode::Remediate)), "logs/put-retention-policy-30-days.json").await;
    assert_eq!(d.verdict, Verdict::Compliant, "the event's 30 days is not the state: re-read");
    assert_eq!(emulator.recorded_calls(), ["logs:DescribeLogGroups"], "a compliant group costs one read");
    assert_eq!(retention_of(&emulator, GROUP).await, Some(3653));
}

#[tokio::test]
async fn an_exempt_group_is_skipped() {
    let emulator = Emulator::start();
    group_with(&emulator, GROUP, None, &[("logmend:exempt", "true")]).await;
    emulator.recorder_reset();
    let d = handle(&app(&emulator, config(Mode::Remediate)), "logs/delete-retention-policy.json").await;
    assert_eq!(d.verdict, Verdict::Skipped);
    assert_eq!(d.reason, "tagged logmend:exempt=true");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    assert_eq!(retention_of(&emulator, GROUP).await, None);
}

#[tokio::test]
async fn a_second_run_makes_no_write() {
    let emulator = Emulator::start();
    group_with(&emulator, GROUP, None, &[]).await;
    let app = app(&emulator, config(Mode::Remediate));
    handle(&app, "logs/create-log-group.json").await;
    emulator.recorder_reset();
    // logmend's own PutRetentionPolicy comes back as an event: it must end as compliant.
    let d = handle(&app, "logs/put-retention-policy-30-days.json").await;
    assert_eq!(d.verdict, Verdict::Compliant);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn audit_mode_makes_no_write_and_says_what_it_would_set() {
    let emulator = Emulator::start();
    group_with(&emulator, GROUP, Some(30), &[]).await;
    emulator.recorder_reset();
    let d = handle(&app(&emulator, config(Mode::Audit)), "logs/put-retention-policy-30-days.json").await;
    assert_eq!(d.verdict, Verdict::Noncompliant);
    assert_eq!(d.reason, "retention 30 days is below the minimum of 365");
    assert_eq!(d.changes[0].api, "logs:PutRetentionPolicy");
    assert_eq!(d.changes[0].detail, "/app/payments retentionInDays=365");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    let reads: BTreeSet<String> =
        logmend::spec("log-group-retention").unwrap().reads.iter().map(|p| p.action.to_owned()).collect();
    let calls: BTreeSet<String> = emulator.recorded_calls().into_iter().collect();
    assert!(calls.is_subset(&reads), "{calls:?}");
}

#[tokio::test]
async fn a_200_day_minimum_is_rounded_up_to_365_and_said() {
    let emulator = Emulator::start();
    group_with(&emulator, GROUP, Some(180), &[]).await;
    let cfg = Config::from_vars(|k| match k {
        "LOGMEND_MODE" => Some("remediate".into()),
        "LOGMEND_RETENTION_DAYS" => Some("200".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(
        cfg.notices(),
        [
            "LOGMEND_RETENTION_DAYS=200 is not a retention CloudWatch Logs offers; using 365 days, the next valid value above it"
        ]
    );
    let d = handle(&app(&emulator, cfg), "logs/create-log-group.json").await;
    assert_eq!(d.verdict, Verdict::Fixed);
    assert_eq!(retention_of(&emulator, GROUP).await, Some(365));
}

#[tokio::test]
async fn failed_and_missing_cases_are_decisions() {
    let emulator = Emulator::start();
    let app = app(&emulator, config(Mode::Remediate));
    let d = handle(&app, "logs/create-log-group-failed-already-exists.json").await;
    assert_eq!(d.verdict, Verdict::Skipped);
    assert!(d.reason.contains("ResourceAlreadyExistsException"));
    let d = handle(&app, "logs/create-log-group.json").await;
    assert_eq!((d.verdict, d.reason.as_str()), (Verdict::Skipped, "the log group no longer exists"));
    let mut no_name = sample_event("logs/create-log-group.json");
    no_name["detail"]["requestParameters"] = json!(null);
    let err = app.handle_event(&no_name).await.unwrap_err();
    assert!(err.to_string().contains("detail.requestParameters.logGroupName"), "{err}");
}

/// GIVEN a few thousand log groups (a mix of never-expire, short, long and exempt) and trails
/// with and without delivery; WHEN the sweep runs in audit, then remediate, then audit mode;
/// THEN every decision and every summary count is what the population says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_over_thousands_of_log_groups_and_trails() {
    const GROUPS: usize = 2400;
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let expected_of = |i: usize| match i % 6 {
        0 | 1 => (None, false),   // never expires → 365
        2 => (Some(30), false),   // too short → 365
        3 => (Some(3653), false), // long enough
        4 => (Some(365), false),  // exactly the minimum
        _ => (None, true),        // exempt
    };
    let mut creates = Vec::new();
    for i in 0..GROUPS {
        let (retention, exempt) = expected_of(i);
        let logs = c.logs.clone();
        creates.push(async move {
            let mut req = logs.create_log_group().log_group_name(format!("/sweep/group-{i:05}"));
            if exempt {
                req = req.tags("logmend:exempt", "true");
            }
            req.send().await.unwrap();
            if let Some(days) = retention {
                logs.put_retention_policy()
                    .log_group_name(format!("/sweep/group-{i:05}"))
                    .retention_in_days(days)
                    .send()
                    .await
                    .unwrap();
            }
        });
    }
    futures_buffered(creates, 16).await;
    create_trail(&emulator, &c, "sweep-trail-a", false).await;
    create_trail(&emulator, &c, "sweep-trail-b", true).await;

    let noncompliant_groups = (0..GROUPS).filter(|i| matches!(i % 6, 0..=2)).count();
    let compliant_groups = (0..GROUPS).filter(|i| matches!(i % 6, 3 | 4)).count();
    let exempt_groups = GROUPS - noncompliant_groups - compliant_groups;

    emulator.recorder_reset();
    let audit = app(&emulator, sweep_config(Mode::Audit)).sweep(&[], 8, None, |_| {}).await;
    let counts = &audit.summary.counts;
    assert_eq!(counts["log-group-retention"]["noncompliant"], noncompliant_groups);
    assert_eq!(counts["log-group-retention"]["compliant"], compliant_groups);
    assert_eq!(counts["log-group-retention"]["skipped"], exempt_groups);
    assert_eq!(counts["cloudtrail-cloudwatch-logs"]["noncompliant"], 2);
    assert_eq!(counts["cloudtrail-log-file-validation"]["noncompliant"], 2);
    assert_eq!(counts["cloudtrail-logging"]["noncompliant"], 2, "created trails do not log until started");
    // Two trails for three controls, and the region's baseline (skipped: no account known).
    assert_eq!(audit.summary.total, GROUPS + 7);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    for e in &audit.evaluations {
        if e.decision.control == "log-group-retention" && e.decision.verdict == Verdict::Noncompliant {
            assert_eq!(e.decision.changes[0].detail.rsplit('=').next(), Some("365"), "{:?}", e.decision);
        }
    }

    let fix = app(&emulator, sweep_config(Mode::Remediate)).sweep(&[], 8, None, |_| {}).await;
    let counts = &fix.summary.counts;
    assert_eq!(counts["log-group-retention"]["fixed"], noncompliant_groups, "{counts:?}");
    assert_eq!(counts["cloudtrail-cloudwatch-logs"]["fixed"], 2);
    assert_eq!(counts["cloudtrail-log-file-validation"]["fixed"], 2);
    assert_eq!(counts["cloudtrail-logging"]["fixed"], 2);
    assert_eq!(fix.summary.count(Verdict::Failed), 0);

    // The trails' new log groups started as never-expire: logmend gave them 365 days itself,
    // so the next sweep finds every group compliant but the exempt ones, and writes nothing.
    emulator.recorder_reset();
    let after = app(&emulator, sweep_config(Mode::Audit)).sweep(&[], 8, None, |_| {}).await;
    let counts = &after.summary.counts;
    assert_eq!(counts["log-group-retention"]["compliant"], noncompliant_groups + compliant_groups + 2);
    assert_eq!(counts["log-group-retention"]["skipped"], exempt_groups);
    assert_eq!(counts["cloudtrail-cloudwatch-logs"]["compliant"], 2);
    assert_eq!(counts["cloudtrail-log-file-validation"]["compliant"], 2);
    assert_eq!(counts["cloudtrail-logging"]["compliant"], 2);
    assert!(!counts["log-group-retention"].contains_key("noncompliant"));
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    // Listing is paginated (50 per page) and each compliant group is decided from it.
    let describes = emulator.recorded_calls().iter().filter(|c| *c == "logs:DescribeLogGroups").count();
    assert_eq!(describes, (GROUPS + 2).div_ceil(50));
}

pub(crate) async fn futures_buffered<F: std::future::Future<Output = ()>>(futures: Vec<F>, n: usize) {
    use futures::StreamExt;
    futures::stream::iter(futures).buffer_unordered(n).collect::<Vec<()>>().await;
}

/// Log groups that never expire, sixteen CreateLogGroup calls at a time.
pub(crate) async fn create_log_groups(c: &logmend_integration::AwsClients, names: impl Iterator<Item = String>) {
    let creates: Vec<_> = names
        .map(|name| {
            let logs = c.logs.clone();
            async move {
                logs.create_log_group().log_group_name(name).send().await.unwrap();
            }
        })
        .collect();
    futures_buffered(creates, 16).await;
}

#[tokio::test]
async fn the_sweep_reads_exemptions_in_one_call_not_one_per_group() {
    let emulator = Emulator::start();
    for i in 0..30 {
        let tags: &[(&str, &str)] = if i % 10 == 0 { &[("logmend:exempt", "TRUE")] } else { &[("team", "payments")] };
        group_with(&emulator, &format!("/app/g{i:02}"), None, tags).await;
    }
    emulator.recorder_reset();
    let app = app(&emulator, config(Mode::Audit));
    let report = app.sweep(&["log-group-retention"], 8, None, |_: &logmend::Decision| {}).await;
    let skipped: BTreeSet<&str> = report
        .evaluations
        .iter()
        .filter(|e| e.decision.verdict == Verdict::Skipped)
        .map(|e| e.decision.resource.rsplit(':').next().unwrap())
        .collect();
    assert_eq!(skipped, BTreeSet::from(["/app/g00", "/app/g10", "/app/g20"]));
    assert_eq!(report.summary.count(Verdict::Noncompliant), 27);
    let calls = emulator.recorded_calls();
    assert!(!calls.iter().any(|c| c == "logs:ListTagsForResource"), "{calls:?}");
    assert_eq!(calls.iter().filter(|c| *c == "tagging:GetResources").count(), 1, "{calls:?}");
}

#[tokio::test]
async fn a_refused_bulk_tag_lookup_falls_back_to_each_groups_tags() {
    let emulator = Emulator::start();
    group_with(&emulator, "/app/exempt", None, &[("logmend:exempt", "true")]).await;
    group_with(&emulator, "/app/plain", None, &[]).await;
    emulator.inject(serde_json::json!([{ "action": "tagging:GetResources", "fault": "access-denied", "times": -1 }]));
    emulator.recorder_reset();
    let app = app(&emulator, config(Mode::Audit));
    let report = app.sweep(&["log-group-retention"], 8, None, |_: &logmend::Decision| {}).await;
    let verdicts: BTreeSet<(String, Verdict)> = report
        .evaluations
        .iter()
        .map(|e| (e.decision.resource.rsplit(':').next().unwrap().to_owned(), e.decision.verdict))
        .collect();
    assert_eq!(
        verdicts,
        BTreeSet::from([
            ("/app/exempt".to_owned(), Verdict::Skipped),
            ("/app/plain".to_owned(), Verdict::Noncompliant)
        ])
    );
    assert_eq!(emulator.recorded_calls().iter().filter(|c| *c == "logs:ListTagsForResource").count(), 2);
}

/// A group whose PutRetentionPolicy is throttled past the SDK's attempts is evaluated again
/// later in the same sweep, from a fresh read, and only that last decision is reported.
#[tokio::test]
async fn sweep_evaluates_a_throttled_group_again_and_reports_it_once() {
    let emulator = Emulator::start();
    for name in ["/app/a", "/app/slow", "/app/c"] {
        group_with(&emulator, name, None, &[]).await;
    }
    // The harness's clients try 3 times: the first evaluation fails, the second is fixed.
    emulator.inject(json!([{ "action": "logs:PutRetentionPolicy", "fault": "throttle", "times": 4,
                             "body_contains": "/app/slow" }]));
    let cfg = logmend_integration::config_for(Mode::Remediate, &["log-group-retention"]);
    let mut reported = Vec::new();
    let report = app(&emulator, cfg).sweep(&[], 4, None, |d| reported.push((d.resource.clone(), d.verdict))).await;
    assert_eq!(report.summary.count(Verdict::Failed), 0, "{reported:?}");
    assert_eq!(report.summary.count(Verdict::Fixed), 3);
    assert_eq!(reported.len(), 3, "one decision per group: {reported:?}");
    assert_eq!(retention_of(&emulator, "/app/slow").await, Some(365));
}

/// Throttling that never ends: the group is evaluated SWEEP_ATTEMPTS times, then reported
/// failed once, and the other groups are fixed meanwhile.
#[tokio::test]
async fn sweep_reports_a_group_throttled_every_time_as_failed_once() {
    let emulator = Emulator::start();
    for name in ["/app/a", "/app/stuck"] {
        group_with(&emulator, name, None, &[]).await;
    }
    emulator.inject(json!([{ "action": "logs:PutRetentionPolicy", "fault": "throttle", "times": -1,
                             "body_contains": "/app/stuck" }]));
    let cfg = logmend_integration::config_for(Mode::Remediate, &["log-group-retention"]);
    let report = app(&emulator, cfg).sweep(&[], 4, None, |_| {}).await;
    assert_eq!(report.summary.count(Verdict::Failed), 1);
    assert_eq!(report.summary.count(Verdict::Fixed), 1);
    let fired = emulator.fault_rules()[0]["fired"].as_u64().unwrap();
    assert_eq!(fired, 3 * u64::from(logmend::registry::SWEEP_ATTEMPTS), "3 SDK attempts per evaluation");
}
