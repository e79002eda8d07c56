//! logmend's workload logs family: Step Functions execution logging (StepFunctions.1), with
//! the role check its delivery depends on. Its function is `workload-logs`; it links the Step
//! Functions, IAM and CloudWatch Logs clients only.

pub mod role;
pub mod stepfunctions_logging;

use logmend_core::registry::{ControlDef, Family};

/// The family's clients, made once per region.
#[derive(Clone, Debug)]
pub struct Clients {
    pub sfn: aws_sdk_sfn::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

impl logmend_core::control::FamilyClients for Clients {
    fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            sfn: aws_sdk_sfn::Client::new(sdk),
            iam: aws_sdk_iam::Client::new(sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(sdk),
        }
    }
}

pub static CONTROLS: &[&dyn ControlDef] = &[&stepfunctions_logging::StepFunctionsLogging];

pub static FAMILY: Family =
    Family { name: "workload", function: "workload-logs", title: "workload logs", controls: CONTROLS };
