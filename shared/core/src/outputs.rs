//! Where a function's decisions go besides its log: Security Hub findings
//! (`LOGMEND_SECURITY_HUB=on`) and an SNS notification of each `fixed` and `failed` decision
//! (`LOGMEND_NOTIFY_TOPIC_ARN`). Both are opt-in; with neither, a decision costs no call.
//!
//! A finding or notification that could not be sent fails the invocation (an EventBridge event
//! is retried by Lambda, then goes to the dead-letter queue; a queue record is reported as a
//! batch item failure), so none is dropped silently. The retried evaluation of a fixed
//! resource finds it compliant and writes nothing, and sends its finding again.

use crate::aws::AwsError;
use crate::config::Config;
use crate::control::ControlSpec;
use crate::decision::{Decision, Verdict};
use crate::findings::{self, Finding};

/// SNS PublishBatch takes at most ten entries (SNS API Reference, PublishBatch).
const SNS_BATCH_MAX: usize = 10;
/// SNS `Subject`: at most 100 printable ASCII characters.
const SUBJECT_MAX: usize = 100;

pub struct Outputs {
    security_hub: Option<aws_sdk_securityhub::Client>,
    notify: Option<(aws_sdk_sns::Client, String)>,
    region: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(transparent)]
    Findings(#[from] findings::FindingsError),
    #[error("{count} notification(s) not published to {topic}; first: {first}")]
    Notify { topic: String, count: usize, first: String },
}

impl OutputError {
    pub fn error_type(&self) -> &'static str {
        match self {
            OutputError::Findings(_) => "FindingsNotImported",
            OutputError::Notify { .. } => "NotificationNotPublished",
        }
    }
}

impl Outputs {
    pub fn new(config: &Config, sdk: &aws_config::SdkConfig) -> Self {
        Self {
            security_hub: config.security_hub.then(|| aws_sdk_securityhub::Client::new(sdk)),
            notify: config.notify_topic_arn.clone().map(|topic| (aws_sdk_sns::Client::new(sdk), topic)),
            region: sdk.region().map(|r| r.to_string()).unwrap_or_default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.security_hub.is_none() && self.notify.is_none()
    }

    /// Send the decisions' findings and notifications; the error names what was not sent.
    pub async fn publish(&self, decisions: &[(&Decision, Option<&'static ControlSpec>)]) -> Result<(), OutputError> {
        if decisions.is_empty() {
            return Ok(());
        }
        let (findings, notified) = futures::join!(self.send_findings(decisions), self.notify(decisions));
        findings?;
        notified
    }

    async fn send_findings(&self, decisions: &[(&Decision, Option<&'static ControlSpec>)]) -> Result<(), OutputError> {
        let Some(client) = &self.security_hub else { return Ok(()) };
        let now = findings::rfc3339_millis(std::time::SystemTime::now());
        let batch: Vec<Finding> = decisions.iter().filter_map(|(d, spec)| findings::finding(d, *spec, &now)).collect();
        if batch.is_empty() {
            return Ok(());
        }
        findings::import(client, batch, &self.region).await.into_result()?;
        Ok(())
    }

    async fn notify(&self, decisions: &[(&Decision, Option<&'static ControlSpec>)]) -> Result<(), OutputError> {
        use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
        let Some((client, topic)) = &self.notify else { return Ok(()) };
        let told: Vec<&Decision> = decisions
            .iter()
            .map(|(d, _)| *d)
            .filter(|d| matches!(d.verdict, Verdict::Fixed | Verdict::Failed))
            .collect();
        let mut failed = 0;
        let mut first = None;
        for chunk in told.chunks(SNS_BATCH_MAX) {
            let entries: Vec<PublishBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, d)| {
                    let attr =
                        |v: &str| MessageAttributeValue::builder().data_type("String").string_value(v).build().ok();
                    PublishBatchRequestEntry::builder()
                        .id(i.to_string())
                        .subject(subject(d))
                        .message(d.to_json_line())
                        .set_message_attributes(Some(
                            [("control", attr(d.control)), ("verdict", attr(d.verdict.as_str()))]
                                .into_iter()
                                .filter_map(|(k, v)| Some((k.to_owned(), v?)))
                                .collect(),
                        ))
                        .build()
                        .ok()
                })
                .collect();
            match client.publish_batch().topic_arn(topic).set_publish_batch_request_entries(Some(entries)).send().await
            {
                Ok(out) => {
                    failed += out.failed().len();
                    if let Some(f) = out.failed().first() {
                        first.get_or_insert_with(|| format!("{}: {}", f.code(), f.message().unwrap_or_default()));
                    }
                }
                Err(e) => {
                    failed += chunk.len();
                    first.get_or_insert_with(|| AwsError::from_sdk("sns:PublishBatch", topic, e).to_string());
                }
            }
        }
        match first {
            None => Ok(()),
            Some(first) => Err(OutputError::Notify { topic: topic.clone(), count: failed, first }),
        }
    }
}

/// `logmend fixed log-group-retention: /app` cut to SNS's 100 characters, printable ASCII only.
fn subject(d: &Decision) -> String {
    let text = format!("logmend {} {}: {}", d.verdict.as_str(), d.control, d.resource);
    let ascii: String = text.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect();
    ascii.chars().take(SUBJECT_MAX).collect()
}

/// The IAM actions the outputs need, for the template and `logmend policy`: on the account's
/// own Security Hub product and the notification topic only.
pub const SECURITY_HUB_ACTIONS: [&str; 1] = [findings::IMPORT_ACTION];
pub const NOTIFY_ACTIONS: [&str; 1] = ["sns:Publish"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Mode;

    #[test]
    fn subjects_fit_sns() {
        let d = Decision {
            control: "log-group-retention",
            resource: format!("/app/é{}", "x".repeat(200)),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            mode: Mode::Remediate,
            verdict: Verdict::Fixed,
            reason: String::new(),
            changes: vec![],
            error_code: None,
            event_id: None,
            event_name: None,
        };
        let s = subject(&d);
        assert_eq!(s.len(), 100);
        assert!(s.starts_with("logmend fixed log-group-retention: /app/?x"));
    }
}
