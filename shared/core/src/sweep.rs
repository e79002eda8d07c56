//! The sweep: every resource of every active control in the region, evaluated with the same
//! code as the events, so drift from before deployment, or whose event was lost, is caught.
//!
//! Two ways to run it. `logmend scan` lists and evaluates in one process ([`Logmend::sweep`]).
//! A deployed function fans out on AWS's own engines instead: its schedule's event makes it
//! list its family's resources and put each on its own SQS queue ([`Logmend::schedule_sweep`]),
//! and the same function evaluates them from the queue, a batch of ten per invocation, with
//! the event source mapping's maximum concurrency as the bound. No invocation comes near
//! Lambda's 900 s, and a failure retries only its own resource (a batch item failure).

use crate::aws::AwsError;
use crate::control::{Evaluation, Origin};
use crate::decision::{Decision, Verdict};
use crate::handler::{HandlerError, Logmend};
use crate::registry::Env;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Evaluations in flight at once: enough to hide latency, few enough to stay clear of API
/// rate limits (the SDK backs off on throttling as well).
pub const DEFAULT_CONCURRENCY: usize = 8;

#[derive(Debug, Default, Serialize, PartialEq)]
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

/// One listed resource on the queue: which sweep, which control, and the control's target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepItem {
    /// The schedule event's id; every decision of this sweep carries it as `event_id`.
    pub id: String,
    pub control: String,
    pub target: Value,
}

/// The `event_name` of decisions made for listed resources.
pub const SWEEP_EVENT_NAME: &str = "Sweep";

/// SQS SendMessageBatch takes at most ten entries (SQS Developer Guide, quotas for messages).
pub const SQS_BATCH_MAX: usize = 10;

/// SendMessageBatch calls in flight at once while a sweep queues its resources.
const QUEUEING_CONCURRENCY: usize = 8;

/// What the schedule's invocation did, printed as its one line: resources queued per control,
/// and the controls whose listing failed (each also has its `failed` decision).
#[derive(Debug, Serialize)]
pub struct ScheduledSweep {
    pub sweep: String,
    pub region: String,
    pub mode: crate::decision::Mode,
    pub queued: BTreeMap<&'static str, usize>,
    pub listing_failed: Vec<&'static str>,
    pub elapsed_ms: u128,
}

impl Logmend {
    /// Sweep the given controls (each must also be active; none given: all) in this process,
    /// calling `on_decision` as each decision is made so a long sweep prints as it goes.
    /// `account` is the caller's own (STS), for the guards that need it.
    pub async fn sweep(
        &self,
        only: &[&str],
        concurrency: usize,
        account: Option<&str>,
        mut on_decision: impl FnMut(&Decision) + Send,
    ) -> SweepReport {
        let mut report = SweepReport::default();
        let env = Env { config: &self.config, account };
        for control in self.active_controls().filter(|c| only.is_empty() || only.contains(&c.spec().id)) {
            for e in control.sweep(env, concurrency, &mut on_decision).await {
                report.summary.add(&e.decision);
                report.evaluations.push(e);
            }
        }
        report
    }

    /// The schedule's invocation: list every active control's resources and put each on the
    /// function's queue, ten to a SendMessageBatch. A listing failure is a `failed` decision
    /// (printed) and the invocation goes on with the other controls, then fails so Lambda
    /// retries it; a repeated sweep queues resources again, which is harmless (a compliant
    /// resource costs only its read).
    pub async fn schedule_sweep(
        &self,
        sweep_id: &str,
        own_account: Option<&str>,
    ) -> Result<ScheduledSweep, HandlerError> {
        let started = std::time::Instant::now();
        let url = self.config.queue_url.as_deref().ok_or(HandlerError::NoQueue)?;
        let env = Env { config: &self.config, account: own_account };
        let mut line = ScheduledSweep {
            sweep: sweep_id.to_owned(),
            region: self.region.clone(),
            mode: self.config.mode,
            queued: BTreeMap::new(),
            listing_failed: Vec::new(),
            elapsed_ms: 0,
        };
        let mut bodies = Vec::new();
        let mut listing_error = None;
        for control in self.active_controls() {
            let id = control.spec().id;
            match control.list(env).await {
                Ok(targets) => {
                    line.queued.insert(id, targets.len());
                    bodies.extend(targets.into_iter().map(|target| {
                        let item = SweepItem { id: sweep_id.to_owned(), control: id.to_owned(), target };
                        serde_json::to_string(&crate::recheck::QueueMessage::Sweep { sweep: item }).unwrap_or_default()
                    }));
                }
                Err(failed) => {
                    // The invocation fails and is retried whatever becomes of this finding.
                    if let Err(e) = self.publish([&failed.decision]).await {
                        tracing::warn!(error = %e, "the listing failure's finding or notification was not sent");
                    }
                    line.listing_failed.push(id);
                    listing_error.get_or_insert(failed.decision.reason);
                }
            }
        }
        let unqueued = self.send_all(url, bodies).await;
        line.elapsed_ms = started.elapsed().as_millis();
        println!("{}", serde_json::to_string(&line).unwrap_or_default());
        if let Err((unqueued, error)) = unqueued {
            return Err(HandlerError::SweepQueue { unqueued, error });
        }
        if let Some(first) = listing_error {
            return Err(HandlerError::Retryable { failed: line.listing_failed.len(), first });
        }
        Ok(line)
    }

    /// Send every body, ten to a call and several calls at once. Entries the queue refused are
    /// sent again once (SendMessageBatch fails entries one by one); what still fails is counted.
    async fn send_all(&self, url: &str, bodies: Vec<String>) -> Result<(), (usize, String)> {
        let mut bodies = bodies.into_iter();
        let chunks: Vec<Vec<String>> = std::iter::from_fn(|| {
            let chunk: Vec<String> = bodies.by_ref().take(SQS_BATCH_MAX).collect();
            (!chunk.is_empty()).then_some(chunk)
        })
        .collect();
        let results: Vec<Result<(), (usize, String)>> = futures::stream::iter(chunks)
            .map(|chunk| self.send_batch(url, chunk))
            .buffer_unordered(QUEUEING_CONCURRENCY)
            .collect()
            .await;
        let mut unqueued = 0;
        let mut first = None;
        for (n, e) in results.into_iter().filter_map(Result::err) {
            unqueued += n;
            first.get_or_insert(e);
        }
        first.map_or(Ok(()), |e| Err((unqueued, e)))
    }

    async fn send_batch(&self, url: &str, mut bodies: Vec<String>) -> Result<(), (usize, String)> {
        use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
        for attempt in 0..2 {
            let entries: Vec<SendMessageBatchRequestEntry> = bodies
                .iter()
                .enumerate()
                .filter_map(|(i, b)| {
                    SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(b).build().ok()
                })
                .collect();
            let out = self
                .sqs
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| (bodies.len(), AwsError::from_sdk("sqs:SendMessageBatch", url, e).to_string()))?;
            if out.failed().is_empty() {
                return Ok(());
            }
            let failed: Vec<usize> = out.failed().iter().filter_map(|f| f.id().parse().ok()).collect();
            if attempt == 1 {
                let first = out.failed().first().map(|f| format!("{}: {}", f.code(), f.message().unwrap_or_default()));
                return Err((failed.len(), first.unwrap_or_default()));
            }
            bodies = failed.into_iter().filter_map(|i| bodies.get(i).cloned()).collect();
        }
        Ok(())
    }

    /// One listed resource from the queue, evaluated by its control. A control this function
    /// no longer runs (LOGMEND_CONTROLS changed since) has nothing to evaluate.
    pub(crate) async fn evaluate_sweep_item(
        &self,
        item: &SweepItem,
        own_account: Option<&str>,
    ) -> Result<Vec<Evaluation>, String> {
        let Some(control) = self.bound(&item.control) else {
            tracing::info!(control = %item.control, sweep = %item.id, "listed resource of a control not active here; dropped");
            return Ok(vec![]);
        };
        let origin = Origin {
            event_id: Some(item.id.clone()).filter(|s| !s.is_empty()),
            event_name: Some(SWEEP_EVENT_NAME.into()),
            account: own_account.map(str::to_owned),
        };
        let env = Env { config: &self.config, account: own_account };
        control
            .evaluate_listed(env, item.target.clone(), &origin)
            .await
            .map(|e| vec![e])
            .map_err(|e| format!("{}: the listed target is not one this control reads: {e}", item.control))
    }
}
