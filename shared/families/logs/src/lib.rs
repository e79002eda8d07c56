//! logmend's CloudWatch Logs family: log group retention (CloudWatch.16). Its function is
//! `log-retention`; it links the CloudWatch Logs and Resource Groups Tagging clients only.

pub mod log_group_retention;

use logmend_core::registry::{ControlDef, Family};

/// The family's clients, made once per region.
#[derive(Clone, Debug)]
pub struct Clients {
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// Tags of many resources in one call (the sweep's exemption lookup).
    pub tagging: aws_sdk_resourcegroupstagging::Client,
}

impl logmend_core::control::FamilyClients for Clients {
    fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            logs: aws_sdk_cloudwatchlogs::Client::new(sdk),
            tagging: aws_sdk_resourcegroupstagging::Client::new(sdk),
        }
    }
}

pub static CONTROLS: &[&dyn ControlDef] = &[&log_group_retention::LogGroupRetention];

pub static FAMILY: Family =
    Family { name: "logs", function: "log-retention", title: "CloudWatch Logs retention", controls: CONTROLS };
