//! The function's own queue. Two kinds of message travel on it: re-checks and the sweep's
//! listed resources ([`crate::sweep`]); both are read here, one record at a time.
//!
//! Deferred events are not dropped: the function puts the event on its own SQS delay queue
//! and consumes that queue, so the resource is checked again once it has had time to become
//! ready (a broker still being created, a cluster `modifying`). Each message carries the
//! number of the check it asks for; the last allowed check that still finds the resource not
//! ready ends in a `failed` decision that says so, for a person to look at.

use crate::aws::AwsError;
use crate::control::Evaluation;
use crate::decision::Verdict;
use crate::handler::{HandlerError, Logmend};
use crate::sweep::SweepItem;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsMessage};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `error_code` of the decision whose checks ran out.
pub const ATTEMPTS_EXHAUSTED: &str = "RecheckAttemptsExhausted";

/// The body of a re-check message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecheckMessage {
    /// The number of the check this message asks for (the first check, from EventBridge, is 1).
    pub check: u32,
    /// The EventBridge event, as it first arrived.
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
    Recheck(RecheckMessage),
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
        let mut evaluations = self.handle_event_in(raw, own_account).await?;
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
        let mut any = false;
        for e in deferred {
            any = true;
            e.decision.reason = format!("{}; check {} of {max} in {delay} s", e.decision.reason, check + 1);
        }
        if any {
            let body = serde_json::to_string(&RecheckMessage { check: check + 1, event: raw.clone() })
                .expect("a JSON value serialises");
            self.sqs
                .send_message()
                .queue_url(url)
                .message_body(body)
                .delay_seconds(delay)
                .send()
                .await
                .map_err(|e| HandlerError::RecheckQueue(AwsError::from_sdk("sqs:SendMessage", url, e)))?;
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
        let mut batch = QueueBatch::default();
        for (record, (evaluations, failed)) in records.iter().zip(outcomes) {
            if failed {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = record.message_id.clone().unwrap_or_default();
                batch.response.batch_item_failures.push(failure);
            }
            batch.evaluations.extend(evaluations);
        }
        batch
    }

    /// One record: its decisions (printed), and whether SQS should deliver it again.
    async fn queue_record(&self, record: &SqsMessage, own_account: Option<&str>) -> (Vec<Evaluation>, bool) {
        let id = record.message_id.as_deref().unwrap_or_default();
        let message = record.body.as_deref().ok_or_else(|| "the record has no body".to_owned()).and_then(|b| {
            serde_json::from_str::<QueueMessage>(b).map_err(|e| format!("not a logmend queue message: {e}"))
        });
        let outcome = match message {
            Ok(QueueMessage::Recheck(m)) => {
                self.handle_checked(&m.event, m.check, own_account).await.map_err(|e| e.to_string())
            }
            Ok(QueueMessage::Sweep { sweep }) => self.evaluate_sweep_item(&sweep, own_account).await,
            Err(reason) => Err(reason),
        };
        match outcome {
            Ok(evaluations) => {
                evaluations.iter().for_each(|e| e.decision.emit());
                let retry = evaluations.iter().any(|e| e.retry);
                (evaluations, retry)
            }
            Err(reason) => {
                tracing::error!(message_id = %id, error = %reason, "queue message failed; SQS delivers it again, then to the dead-letter queue");
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
        let m = QueueMessage::Recheck(RecheckMessage { check: 2, event: serde_json::json!({"id":"e"}) });
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<QueueMessage>(&text).unwrap(), m);
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
