//! `sns-delivery-status-logging` (the retired Security Hub SNS.2; detect and report only):
//! a topic logs the delivery status of its messages to CloudWatch Logs for every protocol it
//! delivers over that supports it (Lambda, SQS, HTTP/S, Firehose, platform applications). The
//! failure role is what makes lost messages visible: `<Protocol>FailureFeedbackRoleArn` (SNS
//! Developer Guide, "Amazon SNS message delivery status"). Email and SMS subscriptions have no
//! per-topic delivery status (SMS has account-wide settings) and are not judged.
//!
//! Never fixed: the attribute needs an IAM role SNS assumes to write the logs, which logmend
//! does not create in a customer's name; the decision names the attributes to set.

use crate::Clients;
use logmend_core::aws::AwsError;
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, NoStep, Permission, State, Trigger,
    audit_only, is_exempt,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

pub static SPEC: ControlSpec = ControlSpec {
    id: "sns-delivery-status-logging",
    security_hub: &[],
    severity: logmend_core::control::Severity::Low,
    resource_type: "AWS::SNS::Topic",
    triggers: &[Trigger {
        event_source: "sns.amazonaws.com",
        event_names: &["CreateTopic", "SetTopicAttributes", "Subscribe"],
    }],
    compliant_when: "for every protocol of the topic's subscriptions that has delivery status logging (lambda, sqs, http, https, firehose, application), the topic has <Protocol>FailureFeedbackRoleArn",
    fix: "none (audit only): SNS writes delivery status as an IAM role the customer makes; the decision names the attributes to set",
    reads: &[
        Permission::any("sns:ListTopics"),
        Permission::any("sns:GetTopicAttributes"),
        Permission::any("sns:ListSubscriptionsByTopic"),
        Permission::any("sns:ListTagsForResource"),
    ],
    writes: &[],
};

pub struct SnsDeliveryStatus;

#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryStatusFinding {
    pub attributes: Vec<&'static str>,
}

/// The failure-feedback attribute of a subscription protocol, when SNS logs its delivery status.
pub fn failure_attribute(protocol: &str) -> Option<&'static str> {
    Some(match protocol {
        "lambda" => "LambdaFailureFeedbackRoleArn",
        "sqs" => "SQSFailureFeedbackRoleArn",
        "http" | "https" => "HTTPFailureFeedbackRoleArn",
        "firehose" => "FirehoseFailureFeedbackRoleArn",
        "application" => "ApplicationFailureFeedbackRoleArn",
        _ => return None,
    })
}

impl Control for SnsDeliveryStatus {
    type Clients = Clients;
    /// The topic's ARN.
    type Target = String;
    type Finding = DeliveryStatusFinding;
    /// Audit only: no step exists, so the control never writes.
    type Step = NoStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<String>, EventError> {
        event
            .request_parameters
            .str("topicArn")
            .or_else(|| event.response_str("topicArn"))
            .map(|t| vec![t.to_owned()])
            .ok_or(EventError::MissingField { field: "detail.requestParameters.topicArn" })
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<String>, ControlError> {
        let mut pages = cx.clients.sns.list_topics().into_paginator().send();
        let mut arns = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("sns:ListTopics", cx.region, e))?;
            arns.extend(page.topics().iter().filter_map(|t| t.topic_arn().map(str::to_owned)));
        }
        Ok(arns)
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        arn: &String,
    ) -> Result<Checked<DeliveryStatusFinding>, ControlError> {
        let resource = arn.clone();
        let attributes = match cx.clients.sns.get_topic_attributes().topic_arn(arn).send().await {
            Ok(out) => out.attributes().cloned().unwrap_or_default(),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => {
                return Ok(Checked { resource, state: State::Skipped(format!("topic {arn} no longer exists")) });
            }
            Err(e) => return Err(AwsError::from_sdk("sns:GetTopicAttributes", arn, e).into()),
        };
        let tags = cx
            .clients
            .sns
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("sns:ListTagsForResource", arn, e))?;
        if is_exempt(cx.config, tags.tags().iter().map(|t| (t.key(), t.value()))) {
            return Ok(Checked { resource, state: State::Skipped(format!("tagged {}=true", cx.config.exempt_tag)) });
        }
        let mut pages = cx.clients.sns.list_subscriptions_by_topic().topic_arn(arn).into_paginator().send();
        let mut protocols = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("sns:ListSubscriptionsByTopic", arn, e))?;
            for p in page.subscriptions().iter().filter_map(|s| s.protocol()) {
                if !protocols.iter().any(|q: &String| q == p) {
                    protocols.push(p.to_owned());
                }
            }
        }
        let mut missing: Vec<&'static str> = Vec::new();
        for attribute in protocols.iter().filter_map(|p| failure_attribute(p)) {
            let set = attributes.get(attribute).is_some_and(|v| !v.is_empty());
            if !set && !missing.contains(&attribute) {
                missing.push(attribute);
            }
        }
        if missing.is_empty() {
            let logged: Vec<&str> =
                protocols.iter().map(String::as_str).filter(|p| failure_attribute(p).is_some()).collect();
            let reason = if logged.is_empty() {
                "no subscription over a protocol with delivery status logging".to_owned()
            } else {
                format!("delivery status is logged for {}", logged.join(", "))
            };
            return Ok(Checked { resource, state: State::Compliant(reason) });
        }
        let reason = format!(
            "topic {arn} does not log failed deliveries: {} not set. Fix (audit only; logmend does not make roles in \
             your name): an IAM role trusted by sns.amazonaws.com allowing logs:CreateLogGroup, logs:CreateLogStream, \
             logs:PutLogEvents, logs:PutMetricFilter and logs:PutRetentionPolicy, set as those attributes (SetTopicAttributes)",
            missing.join(", ")
        );
        Ok(Checked {
            resource,
            state: State::Noncompliant { reason, finding: DeliveryStatusFinding { attributes: missing } },
        })
    }

    fn plan(&self, _config: &Config, _f: &DeliveryStatusFinding) -> Vec<Self::Step> {
        Vec::new()
    }

    fn describe(&self, step: &Self::Step) -> Change {
        match *step {}
    }

    async fn apply(
        &self,
        _cx: &Context<'_, Clients>,
        _f: &DeliveryStatusFinding,
        plan: &[NoStep],
    ) -> Result<Applied, ApplyError> {
        audit_only(SPEC.id, plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_protocols_with_delivery_status_are_judged() {
        assert_eq!(failure_attribute("sqs"), Some("SQSFailureFeedbackRoleArn"));
        assert_eq!(failure_attribute("https"), failure_attribute("http"));
        assert_eq!(failure_attribute("email"), None);
        assert_eq!(failure_attribute("sms"), None);
        assert!(SPEC.writes.is_empty() && SPEC.fix.starts_with("none (audit only)"));
    }
}
