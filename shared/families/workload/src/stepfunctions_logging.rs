//! `stepfunctions-logging` (Security Hub StepFunctions.1): every state machine logs its
//! executions to CloudWatch Logs at `LOGMEND_STATES_LOG_LEVEL` or above (ERROR by default;
//! ALL > ERROR > FATAL > OFF), into a log group that exists.
//!
//! The other half: Step Functions delivers through CloudWatch Logs vended-log delivery, which
//! it sets up with the state machine's own role; a role without the delivery actions gets
//! "The state machine IAM Role is not authorized to access the Log Destination" (Step Functions
//! Developer Guide, "IAM policies for logging to CloudWatch Logs"). So the role is read first:
//! one that lacks them is reported with the actions it lacks, and changed only with
//! `LOGMEND_STATES_ROLE_POLICY=attach` (an inline policy of logmend's name, those actions only).
//!
//! The fix: the log group `/aws/vendedlogs/states/<name>` with retention (the
//! `/aws/vendedlogs/` prefix keeps CloudWatch Logs' resource policy small), then
//! UpdateStateMachine with the logging configuration. UpdateStateMachine needs `definition` or
//! `roleArn` (API Reference): logmend sends the definition it just read, so it passes no role
//! and needs no `iam:PassRole`; `includeExecutionData` is kept as it was (off when new: inputs
//! and outputs may hold secrets).

use crate::Clients;
use crate::role::{ROLE_READS, missing_actions, role_policies};
use aws_sdk_sfn::types::{CloudWatchLogsLogGroup, LogDestination, LogLevel, LoggingConfiguration};
use logmend_core::aws::{AwsError, created_or_existing};
use logmend_core::config::{Config, RolePolicy, StatesLogLevel};
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, MANAGED_BY_TAG, Permission, State,
    Trigger, is_exempt,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};
use serde_json::json;

/// What the state machine's role must allow (Step Functions Developer Guide, "IAM policies for
/// logging to CloudWatch Logs"; these actions take no resource but `*`).
pub const DELIVERY_ACTIONS: [&str; 8] = [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
];
pub const ROLE_POLICY_NAME: &str = "logmend-states-log-delivery";
pub const LOG_GROUP_PREFIX: &str = "/aws/vendedlogs/states/";

pub static SPEC: ControlSpec = ControlSpec {
    id: "stepfunctions-logging",
    security_hub: &["StepFunctions.1"],
    severity: logmend_core::control::Severity::Medium,
    resource_type: "AWS::StepFunctions::StateMachine",
    triggers: &[Trigger {
        event_source: "states.amazonaws.com",
        event_names: &["CreateStateMachine", "UpdateStateMachine"],
    }],
    compliant_when: "the state machine logs at LOGMEND_STATES_LOG_LEVEL (ERROR) or above to a log group that exists, and its role allows the CloudWatch Logs delivery actions Step Functions uses",
    fix: "CreateLogGroup /aws/vendedlogs/states/<name> with retention, then UpdateStateMachine with its current definition and the logging configuration; a role that lacks the delivery actions is reported (with LOGMEND_STATES_ROLE_POLICY=attach: PutRolePolicy logmend-states-log-delivery)",
    reads: &[
        Permission::any("states:ListStateMachines"),
        Permission::any("states:DescribeStateMachine"),
        Permission::any("states:ListTagsForResource"),
        Permission::any("logs:DescribeLogGroups"),
        ROLE_READS[0],
        ROLE_READS[1],
        ROLE_READS[2],
        ROLE_READS[3],
        ROLE_READS[4],
        // Reads Step Functions makes as the caller while it sets up the vended-log delivery.
        Permission::any("logs:GetLogDelivery"),
        Permission::any("logs:ListLogDeliveries"),
        Permission::any("logs:DescribeResourcePolicies"),
    ],
    writes: &[
        Permission::on(
            "logs:CreateLogGroup",
            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/vendedlogs/states/*",
        ),
        Permission::on(
            "logs:PutRetentionPolicy",
            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/vendedlogs/states/*",
        ),
        Permission::on(
            "logs:TagResource",
            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/vendedlogs/states/*",
        ),
        Permission::on(
            "states:UpdateStateMachine",
            "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:*",
        ),
        // The vended-log delivery Step Functions creates on the caller's behalf.
        Permission::any("logs:CreateLogDelivery"),
        Permission::any("logs:UpdateLogDelivery"),
        Permission::any("logs:PutResourcePolicy"),
        // Only with LOGMEND_STATES_ROLE_POLICY=attach, and only logmend's own inline policy.
        Permission::on("iam:PutRolePolicy", "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"),
    ],
};

pub struct StepFunctionsLogging;

fn rank(level: &LogLevel) -> u8 {
    match level {
        LogLevel::All => 3,
        LogLevel::Error => 2,
        LogLevel::Fatal => 1,
        _ => 0,
    }
}

fn wanted_level(setting: StatesLogLevel) -> LogLevel {
    match setting {
        StatesLogLevel::Error => LogLevel::Error,
        StatesLogLevel::All => LogLevel::All,
    }
}

/// The log group a destination ARN names (`arn:…:log-group:NAME:*`).
pub fn log_group_of(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once(":log-group:")?;
    Some(rest.strip_suffix(":*").unwrap_or(rest))
}

/// The policy logmend adds to a role with `LOGMEND_STATES_ROLE_POLICY=attach`.
pub fn role_policy_document() -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "LogmendStatesLogDelivery", "Effect": "Allow", "Action": DELIVERY_ACTIONS, "Resource": "*"}]
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatesFinding {
    pub arn: String,
    pub definition: String,
    pub level: LogLevel,
    pub include_execution_data: bool,
    /// The group logs go to, with whether it must be made (logmend's own name only).
    pub log_group: String,
    pub log_group_arn: String,
    pub create_log_group: bool,
    /// The role, when logmend adds the delivery actions to it.
    pub grant_role: Option<String>,
    /// Whether UpdateStateMachine is needed (the level or the destination is wrong).
    pub update: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StatesStep {
    CreateLogGroup { name: String, retention_days: i32 },
    PutRolePolicy { role_arn: String },
    UpdateStateMachine { arn: String, definition: String, logging: LoggingConfiguration },
}

async fn log_group_exists(cx: &Context<'_, Clients>, name: &str) -> Result<bool, ControlError> {
    let out = cx
        .clients
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", name, e))?;
    Ok(out.log_groups().iter().any(|g| g.log_group_name() == Some(name)))
}

impl Control for StepFunctionsLogging {
    type Clients = Clients;
    type Target = String;
    type Finding = StatesFinding;
    type Step = StatesStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<String>, EventError> {
        event
            .response_str("stateMachineArn")
            .or_else(|| event.request_parameters.str("stateMachineArn"))
            .map(|arn| vec![arn.to_owned()])
            .ok_or(EventError::MissingField { field: "detail.requestParameters.stateMachineArn" })
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<String>, ControlError> {
        let mut pages = cx.clients.sfn.list_state_machines().into_paginator().send();
        let mut arns = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("states:ListStateMachines", cx.region, e))?;
            arns.extend(page.state_machines().iter().map(|m| m.state_machine_arn().to_owned()));
        }
        Ok(arns)
    }

    async fn check(&self, cx: &Context<'_, Clients>, arn: &String) -> Result<Checked<StatesFinding>, ControlError> {
        let resource = arn.clone();
        let described = match cx.clients.sfn.describe_state_machine().state_machine_arn(arn).send().await {
            Ok(d) => d,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_state_machine_does_not_exist()) => {
                return Ok(Checked { resource, state: State::Skipped("the state machine no longer exists".into()) });
            }
            Err(e) => return Err(AwsError::from_sdk("states:DescribeStateMachine", arn, e).into()),
        };
        let wanted = wanted_level(cx.config.states_log_level);
        let logging = described.logging_configuration();
        let level = logging.and_then(|l| l.level()).cloned().unwrap_or(LogLevel::Off);
        let destination = logging
            .into_iter()
            .flat_map(|l| l.destinations())
            .find_map(|d| d.cloud_watch_logs_log_group().and_then(|g| g.log_group_arn()))
            .map(str::to_owned);
        let current_group = destination.as_deref().and_then(log_group_of).map(str::to_owned);
        let group_exists = match &current_group {
            Some(g) => log_group_exists(cx, g).await?,
            None => false,
        };
        let level_ok = rank(&level) >= rank(&wanted);
        let role_arn = described.role_arn().to_owned();
        let lacking = match role_policies(&cx.clients.iam, &role_arn).await? {
            Some(docs) => missing_actions(&docs, &DELIVERY_ACTIONS, "*"),
            None => DELIVERY_ACTIONS.to_vec(),
        };
        if level_ok && group_exists && lacking.is_empty() {
            let group = current_group.unwrap_or_default();
            return Ok(Checked {
                resource,
                state: State::Compliant(format!("logs at {} into {group}", level.as_str())),
            });
        }
        let tags = cx
            .clients
            .sfn
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("states:ListTagsForResource", arn, e))?;
        if is_exempt(cx.config, tags.tags().iter().filter_map(|t| Some((t.key()?, t.value()?)))) {
            return Ok(Checked { resource, state: State::Skipped(format!("tagged {}=true", cx.config.exempt_tag)) });
        }
        let name = described.name().to_owned();
        let mut problems = Vec::new();
        if !level_ok {
            problems.push(format!("logs at {} (below {})", level.as_str(), wanted.as_str()));
        }
        // A destination that is gone is replaced by logmend's group; one that exists is kept.
        let (log_group, create_log_group) = match &current_group {
            Some(g) if group_exists => (g.clone(), false),
            other => {
                if let Some(gone) = other {
                    problems.push(format!("its log group {gone} does not exist"));
                }
                let own = format!("{LOG_GROUP_PREFIX}{name}");
                let exists = log_group_exists(cx, &own).await?;
                (own, !exists)
            }
        };
        let grant_role = if lacking.is_empty() {
            None
        } else {
            problems.push(format!(
                "its role {role_arn} lacks {}, so Step Functions cannot deliver its logs",
                lacking.join(", ")
            ));
            (cx.config.states_role_policy == RolePolicy::Attach).then(|| role_arn.clone())
        };
        let role_blocks = !lacking.is_empty() && grant_role.is_none();
        let mut reason = format!("state machine {name}: {}", problems.join("; "));
        if role_blocks {
            reason.push_str(&format!(
                "; its owner must grant them (or set LOGMEND_STATES_ROLE_POLICY=attach to have logmend add the inline policy {ROLE_POLICY_NAME})"
            ));
        }
        let partition = arn.split(':').nth(1).unwrap_or("aws");
        let account = arn.split(':').nth(4).unwrap_or_default();
        let log_group_arn = format!("arn:{partition}:logs:{}:{account}:log-group:{log_group}:*", cx.region);
        let update = !level_ok || current_group.as_deref() != Some(log_group.as_str()) || !group_exists;
        let finding = StatesFinding {
            arn: arn.clone(),
            definition: described.definition().to_owned(),
            level: if level_ok { level } else { wanted },
            include_execution_data: logging.is_some_and(|l| l.include_execution_data()),
            log_group,
            log_group_arn,
            // A role that cannot deliver makes every write useless: none is made.
            create_log_group: create_log_group && !role_blocks,
            grant_role,
            update: update && !role_blocks,
        };
        Ok(Checked { resource, state: State::Noncompliant { reason, finding } })
    }

    fn plan(&self, config: &Config, f: &StatesFinding) -> Vec<StatesStep> {
        let mut steps = Vec::new();
        if f.create_log_group {
            steps.push(StatesStep::CreateLogGroup { name: f.log_group.clone(), retention_days: config.retention_days });
        }
        if let Some(role_arn) = &f.grant_role {
            steps.push(StatesStep::PutRolePolicy { role_arn: role_arn.clone() });
        }
        if f.update || f.grant_role.is_some() {
            let destination = LogDestination::builder()
                .cloud_watch_logs_log_group(CloudWatchLogsLogGroup::builder().log_group_arn(&f.log_group_arn).build())
                .build();
            let logging = LoggingConfiguration::builder()
                .level(f.level.clone())
                .include_execution_data(f.include_execution_data)
                .destinations(destination)
                .build();
            steps.push(StatesStep::UpdateStateMachine {
                arn: f.arn.clone(),
                definition: f.definition.clone(),
                logging,
            });
        }
        steps
    }

    fn describe(&self, step: &StatesStep) -> Change {
        match step {
            StatesStep::CreateLogGroup { name, retention_days } => {
                Change::new("logs:CreateLogGroup", format!("{name} with {retention_days} days' retention"))
            }
            StatesStep::PutRolePolicy { role_arn } => Change::new(
                "iam:PutRolePolicy",
                format!("{role_arn}: inline policy {ROLE_POLICY_NAME} allowing {}", DELIVERY_ACTIONS.join(", ")),
            ),
            StatesStep::UpdateStateMachine { logging, .. } => {
                let level = logging.level().map_or("?", |l| l.as_str());
                let group = logging
                    .destinations()
                    .first()
                    .and_then(|d| d.cloud_watch_logs_log_group())
                    .and_then(|g| g.log_group_arn())
                    .and_then(log_group_of)
                    .unwrap_or_default();
                Change::new(
                    "states:UpdateStateMachine",
                    format!("loggingConfiguration level={level} destination={group}"),
                )
            }
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        _f: &StatesFinding,
        plan: &[StatesStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            let sent: Result<(), AwsError> = match step {
                StatesStep::CreateLogGroup { name, retention_days } => {
                    let logs = &cx.clients.logs;
                    let created = logs
                        .create_log_group()
                        .log_group_name(name)
                        .tags(MANAGED_BY_TAG.0, MANAGED_BY_TAG.1)
                        .send()
                        .await;
                    match created_or_existing(
                        created,
                        |e| e.is_resource_already_exists_exception(),
                        "logs:CreateLogGroup",
                        name,
                    ) {
                        Ok(()) => logs
                            .put_retention_policy()
                            .log_group_name(name)
                            .retention_in_days(*retention_days)
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(|e| AwsError::from_sdk("logs:PutRetentionPolicy", name, e)),
                        Err(e) => Err(e),
                    }
                }
                StatesStep::PutRolePolicy { role_arn } => {
                    let name = crate::role::role_name(role_arn).unwrap_or_default();
                    cx.clients
                        .iam
                        .put_role_policy()
                        .role_name(name)
                        .policy_name(ROLE_POLICY_NAME)
                        .policy_document(role_policy_document().to_string())
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| AwsError::from_sdk("iam:PutRolePolicy", role_arn, e))
                }
                StatesStep::UpdateStateMachine { arn, definition, logging } => cx
                    .clients
                    .sfn
                    .update_state_machine()
                    .state_machine_arn(arn)
                    .definition(definition)
                    .logging_configuration(logging.clone())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| AwsError::from_sdk("states:UpdateStateMachine", arn, e)),
            };
            if let Err(error) = sent {
                return Err(ApplyError { done, error: error.into() });
            }
            done.push(self.describe(step));
        }
        Ok(Applied::Fixed("execution logs delivered to CloudWatch Logs".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_rank_as_step_functions_ranks_them_and_destinations_name_their_group() {
        assert!(rank(&LogLevel::All) > rank(&LogLevel::Error) && rank(&LogLevel::Error) > rank(&LogLevel::Fatal));
        assert_eq!(rank(&LogLevel::Off), 0);
        assert_eq!(
            log_group_of("arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/orders:*"),
            Some("/aws/vendedlogs/states/orders")
        );
        assert_eq!(log_group_of("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn the_role_policy_grants_exactly_the_delivery_actions() {
        let doc = role_policy_document();
        assert!(crate::role::missing_actions(std::slice::from_ref(&doc), &DELIVERY_ACTIONS, "*").is_empty());
        assert_eq!(doc["Statement"][0]["Action"].as_array().unwrap().len(), DELIVERY_ACTIONS.len());
        for action in
            DELIVERY_ACTIONS.iter().filter(|a| **a != "logs:DescribeLogGroups" && **a != "logs:DeleteLogDelivery")
        {
            let declared = SPEC.reads.iter().chain(SPEC.writes).any(|p| p.action == *action);
            assert!(declared, "logmend's own call needs {action} too");
        }
    }
}
