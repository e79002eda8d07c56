//! Deferred events are not dropped: the function puts the event on its own SQS delay queue
//! and consumes that queue, so the resource is checked again once it has had time to become
//! ready (a broker still being created, a cluster `modifying`). Each message carries the
//! number of the check it asks for; the last allowed check that still finds the resource not
//! ready ends in a `failed` decision that says so, for a person to look at.

use crate::aws::AwsError;
use crate::controls::Evaluation;
use crate::decision::Verdict;
use crate::handler::{HandlerError, Logmend};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

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

/// The records of an SQS batch, when the invocation is one.
pub fn sqs_records(raw: &Value) -> Option<&Vec<Value>> {
    let records = raw.get("Records")?.as_array()?;
    records.iter().all(|r| r.get("eventSource").and_then(Value::as_str) == Some("aws:sqs")).then_some(records)
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
        // Boxed: the five controls' futures nest deeply enough to exceed the compiler's
        // layout depth in the Lambda binaries otherwise.
        let mut evaluations = Box::pin(self.handle_event_in(raw, own_account)).await?;
        let Some(url) = self.config.recheck_queue_url.as_deref() else {
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
            self.clients
                .sqs
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

    /// An SQS batch of re-check messages. Each record stands alone: one that cannot be read,
    /// or whose check failed in a way a retry can help, is reported as a batch item failure,
    /// so SQS delivers it again and, after the queue's `maxReceiveCount`, moves it to the
    /// dead-letter queue.
    pub async fn recheck_batch(&self, records: &[Value], own_account: Option<&str>) -> Value {
        let mut failures = Vec::new();
        for record in records {
            let id = record.get("messageId").and_then(Value::as_str).unwrap_or_default().to_owned();
            let message =
                record.get("body").and_then(Value::as_str).ok_or_else(|| "the record has no body".to_owned()).and_then(
                    |b| serde_json::from_str::<RecheckMessage>(b).map_err(|e| format!("not a re-check message: {e}")),
                );
            let outcome = match message {
                Ok(m) => self.handle_checked(&m.event, m.check, own_account).await.map_err(|e| e.to_string()),
                Err(reason) => Err(reason),
            };
            match outcome {
                Ok(evaluations) => {
                    evaluations.iter().for_each(|e| e.decision.emit());
                    if evaluations.iter().any(|e| e.retry) {
                        failures.push(json!({ "itemIdentifier": id }));
                    }
                }
                Err(reason) => {
                    tracing::error!(message_id = %id, error = %reason, "re-check message failed; SQS delivers it again, then to the dead-letter queue");
                    failures.push(json!({ "itemIdentifier": id }));
                }
            }
        }
        json!({ "batchItemFailures": failures })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_all_sqs_batch_is_a_recheck_batch() {
        let batch = json!({"Records":[{"eventSource":"aws:sqs","messageId":"1","body":"{}"}]});
        assert_eq!(sqs_records(&batch).map(Vec::len), Some(1));
        assert!(sqs_records(&json!({"Records":[{"eventSource":"aws:s3"}]})).is_none());
        assert!(sqs_records(&json!({"detail-type":"AWS API Call via CloudTrail"})).is_none());
    }

    #[test]
    fn messages_round_trip() {
        let m = RecheckMessage { check: 2, event: json!({"id":"e"}) };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<RecheckMessage>(&text).unwrap(), m);
    }
}
