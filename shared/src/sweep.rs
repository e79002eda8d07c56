//! The sweep: every resource of every active control in the region, evaluated with the same
//! code as the events. `logmend scan` and the scheduled function run it.

use crate::controls::{self, Control, ControlId, Evaluation, Origin, Outcome};
use crate::decision::{Decision, Verdict};
use crate::handler::{HandlerError, Logmend, retryable_failures};
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

/// The sweep's last line: counts per control and verdict, beside the per-resource decisions.
#[derive(Debug, Serialize)]
pub struct SummaryLine<'a> {
    pub summary: &'a Summary,
    pub region: &'a str,
    pub mode: crate::decision::Mode,
    pub elapsed_ms: u128,
}

impl Logmend {
    /// The scheduled function's entry: sweep every active control, print each decision and
    /// then the summary line. Fails the invocation (so it is retried, and alarmed on) only
    /// when evaluations failed in a way a retry can help; a repeated sweep is idempotent.
    pub async fn sweep_lambda_handler(&self, concurrency: usize) -> Result<serde_json::Value, HandlerError> {
        let started = std::time::Instant::now();
        let report = self.sweep(&[], concurrency, Decision::emit).await;
        let line = SummaryLine {
            summary: &report.summary,
            region: &self.clients.region,
            mode: self.config.mode,
            elapsed_ms: started.elapsed().as_millis(),
        };
        let value = serde_json::to_value(&line).unwrap_or_default();
        println!("{value}");
        match retryable_failures(report.evaluations.iter()) {
            Some(err) => Err(err),
            None => Ok(value),
        }
    }

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
            let evaluations =
                controls::with_control!(id, c => self.sweep_control(c, concurrency, &mut on_decision).await);
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
                let resource = format!("{} in {}", control.spec().resource_type, self.clients.region);
                let reason = format!("could not list resources: {e}");
                let failed = Outcome { verdict: Verdict::Failed, reason, changes: vec![], error: Some(&e) };
                let evaluation = Evaluation::new(control.spec().id, &cx, &origin, resource, failed);
                on_decision(&evaluation.decision);
                return vec![evaluation];
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
