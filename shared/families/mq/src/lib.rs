//! logmend's Amazon MQ family: broker general and audit logs (MQ.2). Its function is
//! `mq-broker-logs`; it links the MQ and CloudWatch Logs (the resource policy) clients only.

pub mod mq_broker_logs;

use logmend_core::registry::{ControlDef, Family};

/// The family's clients, made once per region.
#[derive(Clone, Debug)]
pub struct Clients {
    pub mq: aws_sdk_mq::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

impl logmend_core::control::FamilyClients for Clients {
    fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self { mq: aws_sdk_mq::Client::new(sdk), logs: aws_sdk_cloudwatchlogs::Client::new(sdk) }
    }
}

pub static CONTROLS: &[&dyn ControlDef] = &[&mq_broker_logs::MqBrokerLogs];

pub static FAMILY: Family =
    Family { name: "mq", function: "mq-broker-logs", title: "Amazon MQ broker logs", controls: CONTROLS };
