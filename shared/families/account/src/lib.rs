//! logmend's account services family: the AWS Config recorder and its delivery (Config.1) and
//! GuardDuty detectors (GuardDuty.1), Session Manager's session logging and the log archive
//! (log groups through Firehose into the log bucket), one of each per account and region. Its
//! function is `account-logs`; it links the Config, GuardDuty, SSM, CloudWatch Logs, Firehose,
//! IAM and S3 clients only.

pub mod config_recorder;
pub mod guardduty_enabled;
pub mod log_archive;
pub mod session_manager_logging;

use logmend_core::registry::{ControlDef, Family};

/// The family's clients, made once per region.
#[derive(Clone, Debug)]
pub struct Clients {
    pub config: aws_sdk_config::Client,
    pub guardduty: aws_sdk_guardduty::Client,
    pub firehose: aws_sdk_firehose::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub iam: aws_sdk_iam::Client,
    pub s3: aws_sdk_s3::Client,
}

impl logmend_core::control::FamilyClients for Clients {
    fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            config: aws_sdk_config::Client::new(sdk),
            guardduty: aws_sdk_guardduty::Client::new(sdk),
            firehose: aws_sdk_firehose::Client::new(sdk),
            ssm: aws_sdk_ssm::Client::new(sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(sdk),
            iam: aws_sdk_iam::Client::new(sdk),
            s3: logmend_s3_store::client(sdk),
        }
    }
}

pub static CONTROLS: &[&dyn ControlDef] = &[
    &config_recorder::ConfigRecorder,
    &guardduty_enabled::GuardDutyEnabled,
    &session_manager_logging::SessionManagerLogging,
    &log_archive::LogArchive,
];

pub static FAMILY: Family =
    Family { name: "account", function: "account-logs", title: "account services", controls: CONTROLS };
