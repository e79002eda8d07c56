//! logmend's workload logs family: Step Functions execution logging (StepFunctions.1), ECS
//! task definitions' log configuration (ECS.9, audit only) and Lambda functions' log delivery
//! (audit only), with the role checks their delivery depends on. Its function is
//! `workload-logs`; it links the Step Functions, ECS, Lambda, IAM and CloudWatch Logs clients only.

pub mod ecs_task_log_config;
pub mod lambda_logging;
pub mod role;
pub mod stepfunctions_logging;

use logmend_core::registry::{ControlDef, Family};

/// The family's clients, made once per region.
#[derive(Clone, Debug)]
pub struct Clients {
    pub sfn: aws_sdk_sfn::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

impl logmend_core::control::FamilyClients for Clients {
    fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            sfn: aws_sdk_sfn::Client::new(sdk),
            ecs: aws_sdk_ecs::Client::new(sdk),
            lambda: aws_sdk_lambda::Client::new(sdk),
            iam: aws_sdk_iam::Client::new(sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(sdk),
        }
    }
}

pub static CONTROLS: &[&dyn ControlDef] = &[
    &stepfunctions_logging::StepFunctionsLogging,
    &ecs_task_log_config::EcsTaskLogConfig,
    &lambda_logging::LambdaLogging,
];

pub static FAMILY: Family =
    Family { name: "workload", function: "workload-logs", title: "workload logs", controls: CONTROLS };
