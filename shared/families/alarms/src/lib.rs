//! logmend's CIS alarms family (Security Hub CloudWatch.1–14): on the log group of the
//! account's multi-region trail, the CIS metric filters with their exact patterns
//! (`patterns`), an alarm on each metric and an SNS topic that reaches a person. Its function
//! is `cis-alarms`; it links the CloudTrail, CloudWatch Logs, CloudWatch and SNS clients only.
//! SNS topics' delivery status logging (audit only) is here too, for its SNS client.
//! `filter_pattern` reads CloudWatch Logs' JSON filter syntax, so the table is tested against
//! real CloudTrail records.

pub mod cis_metric_alarms;
pub mod filter_pattern;
pub mod patterns;
pub mod sns_delivery_status;

use logmend_core::registry::{ControlDef, Family};

/// The family's clients, made once per region.
#[derive(Clone, Debug)]
pub struct Clients {
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// CloudWatch over the Smithy RPC v2 CBOR protocol (the current SDK's only one).
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sns: aws_sdk_sns::Client,
}

impl logmend_core::control::FamilyClients for Clients {
    fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            cloudtrail: aws_sdk_cloudtrail::Client::new(sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(sdk),
            sns: aws_sdk_sns::Client::new(sdk),
        }
    }
}

pub static CONTROLS: &[&dyn ControlDef] =
    &[&cis_metric_alarms::CisMetricAlarms, &sns_delivery_status::SnsDeliveryStatus];

pub static FAMILY: Family = Family { name: "alarms", function: "cis-alarms", title: "CIS alarms", controls: CONTROLS };
