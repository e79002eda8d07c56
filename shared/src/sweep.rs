//! The sweep: every resource of every active control in the region, evaluated with the same
//! code as the events. `logmend scan` and the scheduled function run it.

use crate::controls::{self, Control, ControlId, Evaluation, Origin};
use crate::decision::{Decision, Verdict};
use crate::handler::Logmend;
use futures::StreamExt;
use serde::Serialize;
use std::collections::BTreeMap;

/// Evaluations in flight at once: enough to hide latency, few enough to stay clear of API
/// rate limits (the SDK backs off on throttling as well).
pub const DEFAULT_CONCURRENCY: usize = 8;

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// control id → verdict → count
    pub counts: BTreeMap<&'static str, BTreeMap<&'static str, usize>>,
    pub total: usize,
}

impl Summary {
    pub fn add(&mut self, d: &Decision) {
        *self.counts.entry(d.control).or_default().entry(d.verdict.as_str()).or_default() += 1;
        self.total += 1;
    }

    pub fn count(&self, verdict: Verdict) -> usize {
        self.counts.values().filter_map(|m| m.get(verdict.as_str())).sum()
    }
}

#[derive(Debug, Default)]
pub struct SweepReport {
    pub evaluations: Vec<Evaluation>,
    pub summary: Summary,
}

impl Logmend {
    /// Sweep the given controls (each must also be active), calling `on_decision` as each
    /// decision is made so a long sweep prints as it goes.
    pub async fn sweep(
        &self,
        only: &[ControlId],
        concurrency: usize,
        mut on_decision: impl FnMut(&Decision),
    ) -> SweepReport {
        let mut report = SweepReport::default();
        for id in self.active_controls().into_iter().filter(|c| only.is_empty() || only.contains(c)) {
            let evaluations = match id {
                ControlId::CloudtrailCloudwatchLogs => {
                    self.sweep_control(
                        &controls::cloudtrail_cloudwatch_logs::CloudtrailCloudwatchLogs,
                        concurrency,
                        &mut on_decision,
                    )
                    .await
                }
            };
            for e in evaluations {
                report.summary.add(&e.decision);
                report.evaluations.push(e);
            }
        }
        report
    }

    async fn sweep_control<C: Control>(
        &self,
        control: &C,
        concurrency: usize,
        on_decision: &mut impl FnMut(&Decision),
    ) -> Vec<Evaluation> {
        let cx = self.context(None);
        let origin = Origin::default();
        let targets = match control.list(&cx).await {
            Ok(t) => t,
            Err(e) => {
                let d = Decision {
                    control: control.spec().id,
                    resource: format!("{} in {}", control.spec().resource_type, self.clients.region),
                    account: String::new(),
                    region: self.clients.region.clone(),
                    mode: self.config.mode,
                    verdict: Verdict::Failed,
                    reason: format!("could not list resources: {e}"),
                    changes: vec![],
                    error_code: Some(e.code()),
                    event_id: None,
                    event_name: None,
                };
                on_decision(&d);
                return vec![Evaluation { decision: d, retry: e.is_transient() }];
            }
        };
        let mut stream = futures::stream::iter(targets.iter())
            .map(|t| controls::evaluate(control, &cx, t, &origin))
            .buffer_unordered(concurrency.max(1));
        let mut out = Vec::with_capacity(targets.len());
        while let Some(e) = stream.next().await {
            on_decision(&e.decision);
            out.push(e);
        }
        out
    }
}
