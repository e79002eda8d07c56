//! The function's own queue. Two kinds of message travel on it: re-checks and the sweep's
//! listed resources ([`crate::sweep`]); both are read here, one record at a time.
//!
//! Deferred resources are not dropped: the function puts the control and the target (never
//! the event) on its own SQS delay queue and consumes that queue, so the resource is checked
//! again once it has had time to become ready (a broker still being created, a cluster
//! `modifying`). Each message carries the number of the check it asks for; the last allowed
//! check that still finds the resource not ready ends in a `failed` decision that says so,
//! for a person to look at.

use crate::aws::AwsError;
use crate::control::{Evaluation, Origin};
use crate::decision::Verdict;
use crate::handler::{HandlerError, Logmend};
use crate::registry::{Env, SWEEP_ATTEMPTS};
use crate::sweep::SweepItem;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsMessage};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `error_code` of the decision whose checks ran out.
pub const ATTEMPTS_EXHAUSTED: &str = "RecheckAttemptsExhausted";

/// A re-check on the queue: what the next check needs and nothing more. Never the event:
/// its `requestParameters` can hold secrets (CreateBroker's user passwords, CreateDBCluster's
/// `masterUserPassword`), and a queue keeps a message for up to 14 days.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Recheck {
    /// The number of the check this message asks for (the first check, from EventBridge, is 1).
    pub check: u32,
    pub control: String,
    /// The control's target, as its `list` would give it.
    pub target: Value,
    /// The first event's id and name (or the sweep's), so every decision of the chain says
    /// where it began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// A re-check as logmend 0.1 queued it, with the whole event. Read so that messages already
/// on a queue at an upgrade are checked rather than sent to the dead-letter queue; never written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LegacyRecheck {
    pub check: u32,
    pub event: Value,
}

/// What a queue batch came to: the answer for Lambda, and the decisions made.
#[derive(Debug, Default)]
pub struct QueueBatch {
    pub response: SqsBatchResponse,
    pub evaluations: Vec<Evaluation>,
}

/// A message of the function's queue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum QueueMessage {
    Sweep { sweep: SweepItem },
    Recheck { recheck: Recheck },
    Legacy(LegacyRecheck),
}

impl Logmend {
    /// Handle an event as check number `check`, and decide what its `deferred` evaluations
    /// become: queued for the next check, or, after the last one, `failed`.
    pub async fn handle_checked(
        &self,
        raw: &Value,
        check: u32,
        own_account: Option<&str>,
    ) -> Result<Vec<Evaluation>, HandlerError> {
        let evaluations = self.handle_event_in(raw, own_account).await?;
        self.follow_up(evaluations, check).await
    }

    /// Check a re-check's target again, as check number `recheck.check`.
    pub async fn handle_recheck(
        &self,
        recheck: &Recheck,
        own_account: Option<&str>,
    ) -> Result<Vec<Evaluation>, String> {
        let Some(control) = self.bound(&recheck.control) else {
            tracing::info!(control = %recheck.control, "re-check of a control not active here; dropped");
            return Ok(vec![]);
        };
        let origin = Origin {
            event_id: recheck.event_id.clone(),
            event_name: recheck.event_name.clone(),
            account: own_account.map(str::to_owned).or_else(|| recheck.account.clone()),
        };
        let env = Env { config: &self.config, account: origin.account.as_deref() };
        let evaluation = control
            .evaluate_listed(env, recheck.target.clone(), &origin)
            .await
            .map_err(|e| format!("{}: the re-check's target is not one this control reads: {e}", recheck.control))?;
        self.follow_up(vec![evaluation], recheck.check).await.map_err(|e| e.to_string())
    }

    /// What the `deferred` evaluations of check number `check` become: each queued (its
    /// control and target only) for the next check, or, after the last allowed check, `failed`.
    pub(crate) async fn follow_up(
        &self,
        mut evaluations: Vec<Evaluation>,
        check: u32,
    ) -> Result<Vec<Evaluation>, HandlerError> {
        let Some(url) = self.config.queue_url.as_deref() else {
            return Ok(evaluations);
        };
        let max = self.config.recheck_max_attempts;
        let deferred = evaluations.iter_mut().filter(|e| e.decision.verdict == Verdict::Deferred);
        if check >= max {
            for e in deferred {
                e.decision.verdict = Verdict::Failed;
                e.decision.error_code = Some(ATTEMPTS_EXHAUSTED.into());
                e.decision.reason = format!("still not ready after {check} checks: {}", e.decision.reason);
            }
            return Ok(evaluations);
        }
        let delay = self.config.recheck_delay_seconds;
        for e in deferred {
            let Some(target) = e.target.take() else {
                // Only `evaluate` defers, and it always records the target.
                tracing::error!(control = e.decision.control, resource = %e.decision.resource, "deferred without a target; cannot queue its re-check");
                continue;
            };
            let recheck = Recheck {
                check: check + 1,
                control: e.decision.control.to_owned(),
                target,
                event_id: e.decision.event_id.clone(),
                event_name: e.decision.event_name.clone(),
                account: Some(e.decision.account.clone()).filter(|a| !a.is_empty()),
            };
            let body = serde_json::to_string(&QueueMessage::Recheck { recheck }).unwrap_or_default();
            self.sqs
                .send_message()
                .queue_url(url)
                .message_body(body)
                .delay_seconds(delay)
                .send()
                .await
                .map_err(|e| HandlerError::RecheckQueue(AwsError::from_sdk("sqs:SendMessage", url, e)))?;
            e.decision.reason = format!("{}; check {} of {max} in {delay} s", e.decision.reason, check + 1);
        }
        Ok(evaluations)
    }

    /// A batch from the function's queue. Each record stands alone: one that cannot be read,
    /// or whose evaluation failed in a way a retry can help, is reported as a batch item
    /// failure, so SQS delivers it (and only it) again and, after the queue's
    /// `maxReceiveCount`, moves it to the dead-letter queue.
    /// The records are evaluated at once (a batch is at most ten; the event source mapping's
    /// maximum concurrency bounds the invocations).
    pub async fn queue_batch(&self, records: &[SqsMessage], own_account: Option<&str>) -> QueueBatch {
        let outcomes = futures::future::join_all(records.iter().map(|r| self.queue_record(r, own_account))).await;
        // One Security Hub call for the batch, not one per record (its rate is 10 a second). What
        // was not sent fails the records that made decisions, so SQS delivers them again.
        let unsent = match self.publish(outcomes.iter().flat_map(|(e, _)| e.iter().map(|e| &e.decision))).await {
            Ok(()) => false,
            Err(e) => {
                tracing::error!(error = %e, "decisions of this batch not all sent; their records are delivered again");
                crate::metrics::emit_error(e.error_type(), &e.to_string());
                true
            }
        };
        let mut batch = QueueBatch::default();
        for (record, (evaluations, failed)) in records.iter().zip(outcomes) {
            if failed || unsent && !evaluations.is_empty() {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = record.message_id.clone().unwrap_or_default();
                batch.response.batch_item_failures.push(failure);
            }
            batch.evaluations.extend(evaluations);
        }
        batch
    }

    /// One message's evaluations.
    async fn queue_message(
        &self,
        message: &QueueMessage,
        own_account: Option<&str>,
    ) -> Result<Vec<Evaluation>, String> {
        match message {
            QueueMessage::Recheck { recheck } => self.handle_recheck(recheck, own_account).await,
            QueueMessage::Legacy(m) => {
                self.handle_checked(&m.event, m.check, own_account).await.map_err(|e| e.to_string())
            }
            // A listed resource not ready yet is re-checked like a deferred event's.
            QueueMessage::Sweep { sweep } => match self.evaluate_sweep_item(sweep, own_account).await {
                Ok(evaluations) => self.follow_up(evaluations, 1).await.map_err(|e| e.to_string()),
                Err(e) => Err(e),
            },
        }
    }

    /// One record: its decisions (printed), and whether SQS should deliver it again.
    async fn queue_record(&self, record: &SqsMessage, own_account: Option<&str>) -> (Vec<Evaluation>, bool) {
        let id = record.message_id.as_deref().unwrap_or_default();
        let message = record.body.as_deref().ok_or_else(|| "the record has no body".to_owned()).and_then(|b| {
            serde_json::from_str::<QueueMessage>(b).map_err(|e| format!("not a logmend queue message: {e}"))
        });
        // A transient failure (throttling that outlasted the SDK's retries, a 5xx) is evaluated
        // again here first, as the CLI's sweep does: copies of the function each pace their own
        // calls, so together they meet a shared quota's throttling, and a second try after the
        // adaptive limiter has slowed down is cheaper than a redelivery after the visibility
        // timeout. Only the last evaluation's decisions are reported.
        let outcome = match message {
            Err(reason) => Err(reason),
            Ok(message) => {
                let mut attempt = 1;
                loop {
                    let outcome = self.queue_message(&message, own_account).await;
                    match &outcome {
                        Ok(evaluations) if attempt < SWEEP_ATTEMPTS && evaluations.iter().any(|e| e.retry) => {
                            for e in evaluations.iter().filter(|e| e.retry) {
                                tracing::info!(message_id = %id, control = e.decision.control, resource = %e.decision.resource,
                                    attempt, reason = %e.decision.reason, "transient failure; evaluated again in this invocation");
                            }
                            attempt += 1;
                        }
                        _ => break outcome,
                    }
                }
            }
        };
        match outcome {
            Ok(evaluations) => {
                let retry = evaluations.iter().any(|e| e.retry);
                (evaluations, retry)
            }
            Err(reason) => {
                tracing::error!(message_id = %id, error = %reason, "queue message failed; SQS delivers it again, then to the dead-letter queue");
                crate::metrics::emit_error("QueueMessage", &reason);
                (vec![], true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let recheck = Recheck {
            check: 2,
            control: "mq-broker-logs".into(),
            target: serde_json::json!("b-1"),
            event_id: Some("e".into()),
            event_name: Some("CreateBroker".into()),
            account: None,
        };
        let m = QueueMessage::Recheck { recheck };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<QueueMessage>(&text).unwrap(), m);
        let legacy = r#"{"check":2,"event":{"id":"e"}}"#;
        let m = QueueMessage::Legacy(LegacyRecheck { check: 2, event: serde_json::json!({"id":"e"}) });
        assert_eq!(serde_json::from_str::<QueueMessage>(legacy).unwrap(), m);
        let item = SweepItem {
            id: "s".into(),
            control: "log-group-retention".into(),
            target: serde_json::json!({"name":"/x"}),
        };
        let m = QueueMessage::Sweep { sweep: item };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<QueueMessage>(&text).unwrap(), m);
    }
}
