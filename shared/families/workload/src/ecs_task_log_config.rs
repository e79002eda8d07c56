//! `ecs-task-log-config` (Security Hub ECS.9), audit only: the latest ACTIVE revision of each
//! task definition family gives every container a `logConfiguration` (AWS Config rule
//! ecs-task-definition-log-configuration: "only evaluates the latest active revision").
//!
//! The other half, for the `awslogs` driver: the log group exists (or the options ask the
//! agent to create it), and the task execution role allows `logs:CreateLogStream` and
//! `logs:PutLogEvents` on it (and `logs:CreateLogGroup` when the agent creates it) (ECS
//! Developer Guide, "Amazon ECS task execution IAM role"); without them the task fails to
//! start or its lines are lost. Other drivers (FireLens, Splunk, …) deliver outside AWS's
//! sight and count as configured.
//!
//! Never fixed: the fix is a new revision and an UpdateService of every service that runs the
//! family, which replaces their running tasks. logmend describes that fix in the decision and
//! makes no write, in either mode.

use crate::Clients;
use crate::role::{ROLE_READS, missing_actions, role_policies};
use aws_sdk_ecs::types::{ContainerDefinition, LogDriver, TaskDefinitionFamilyStatus, TaskDefinitionField};
use logmend_core::aws::{AwsError, partition_of};
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, NoStep, Permission, State, Trigger,
    audit_only, is_exempt,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

pub static SPEC: ControlSpec = ControlSpec {
    id: "ecs-task-log-config",
    security_hub: &["ECS.9"],
    severity: logmend_core::control::Severity::High,
    resource_type: "AWS::ECS::TaskDefinition",
    triggers: &[Trigger {
        event_source: "ecs.amazonaws.com",
        event_names: &["RegisterTaskDefinition", "DeregisterTaskDefinition"],
    }],
    compliant_when: "every container of the family's latest ACTIVE revision has a logConfiguration; for awslogs, the log group exists (or awslogs-create-group) and the task execution role may create streams and put events in it",
    fix: "none (audit only): a new revision with logConfiguration and an UpdateService of each service that runs it, which replaces their tasks, is described in the decision and never made",
    reads: &[
        Permission::any("ecs:ListTaskDefinitionFamilies"),
        Permission::any("ecs:DescribeTaskDefinition"),
        Permission::any("logs:DescribeLogGroups"),
        ROLE_READS[0],
        ROLE_READS[1],
        ROLE_READS[2],
        ROLE_READS[3],
        ROLE_READS[4],
    ],
    writes: &[],
};

pub struct EcsTaskLogConfig;

/// What a revision lacks; logmend only reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskLogFinding {
    pub task_definition: String,
}

/// What one container's logging lacks, in words; `None`: it is configured.
fn container_gap(c: &ContainerDefinition, region: &str, groups_missing: &[String]) -> Option<String> {
    let name = c.name().unwrap_or("a container");
    let Some(log) = c.log_configuration() else {
        return Some(format!("container {name} has no logConfiguration"));
    };
    if log.log_driver() != &LogDriver::Awslogs {
        return None;
    }
    let options = log.options();
    let group = options.and_then(|o| o.get("awslogs-group"));
    let creates = options.and_then(|o| o.get("awslogs-create-group")).is_some_and(|v| v == "true");
    let group_region = options.and_then(|o| o.get("awslogs-region")).map_or(region, String::as_str);
    match group {
        None => Some(format!("container {name} uses awslogs without awslogs-group")),
        Some(g) if group_region == region && !creates && groups_missing.contains(g) => {
            Some(format!("container {name} logs to {g}, which does not exist (and awslogs-create-group is not true)"))
        }
        Some(_) => None,
    }
}

/// The awslogs groups (in this region) the containers name, with whether the agent creates them.
fn awslogs_groups<'a>(containers: &'a [ContainerDefinition], region: &str) -> Vec<(&'a str, bool)> {
    containers
        .iter()
        .filter_map(|c| c.log_configuration())
        .filter(|l| l.log_driver() == &LogDriver::Awslogs)
        .filter_map(|l| {
            let o = l.options()?;
            let in_region = o.get("awslogs-region").is_none_or(|r| r == region);
            let creates = o.get("awslogs-create-group").is_some_and(|v| v == "true");
            o.get("awslogs-group").filter(|_| in_region).map(|g| (g.as_str(), creates))
        })
        .collect()
}

async fn group_exists(cx: &Context<'_, Clients>, name: &str) -> Result<bool, ControlError> {
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

fn family_of(task_definition: &str) -> &str {
    let name = task_definition.rsplit('/').next().unwrap_or(task_definition);
    name.split(':').next().unwrap_or(name)
}

impl Control for EcsTaskLogConfig {
    type Clients = Clients;
    /// The task definition family: the control judges its latest ACTIVE revision.
    type Target = String;
    type Finding = TaskLogFinding;
    /// Audit only: no step exists, so the control never writes.
    type Step = NoStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<String>, EventError> {
        // RegisterTaskDefinition names the family; DeregisterTaskDefinition a `family:revision`
        // or an ARN, after which another revision may be the latest active one.
        event
            .response_str_at(&["taskDefinition", "family"])
            .or_else(|| event.request_parameters.str("family"))
            .or_else(|| event.request_parameters.str("taskDefinition").map(family_of))
            .filter(|f| !f.is_empty())
            .map(|f| vec![f.to_owned()])
            .ok_or(EventError::MissingField { field: "detail.requestParameters.family" })
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<String>, ControlError> {
        let mut pages = cx
            .clients
            .ecs
            .list_task_definition_families()
            .status(TaskDefinitionFamilyStatus::Active)
            .into_paginator()
            .send();
        let mut families = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("ecs:ListTaskDefinitionFamilies", cx.region, e))?;
            families.extend(page.families().iter().cloned());
        }
        Ok(families)
    }

    async fn check(&self, cx: &Context<'_, Clients>, family: &String) -> Result<Checked<TaskLogFinding>, ControlError> {
        let partition = partition_of(cx.region);
        let account = cx.account.unwrap_or_default();
        let unknown = format!("arn:{partition}:ecs:{}:{account}:task-definition/{family}", cx.region);
        let sent = cx
            .clients
            .ecs
            .describe_task_definition()
            .task_definition(family)
            .include(TaskDefinitionField::Tags)
            .send()
            .await;
        let described = match sent {
            Ok(d) => d,
            // "Unable to describe task definition.": the family has no ACTIVE revision left.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_client_exception()) => {
                return Ok(Checked {
                    resource: unknown,
                    state: State::Skipped(format!("task definition family {family} has no active revision")),
                });
            }
            Err(e) => return Err(AwsError::from_sdk("ecs:DescribeTaskDefinition", family, e).into()),
        };
        let Some(td) = described.task_definition() else {
            return Ok(Checked { resource: unknown, state: State::Skipped(format!("{family}: no task definition")) });
        };
        let resource = td.task_definition_arn().unwrap_or(&unknown).to_owned();
        let tags = described.tags().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
        if is_exempt(cx.config, tags) {
            return Ok(Checked { resource, state: State::Skipped(format!("tagged {}=true", cx.config.exempt_tag)) });
        }
        let revision = format!("{family}:{}", td.revision());
        let containers = td.container_definitions();
        let groups = awslogs_groups(containers, cx.region);
        let mut missing_groups = Vec::new();
        for (group, creates) in &groups {
            if !creates && !missing_groups.iter().any(|g: &String| g == group) && !group_exists(cx, group).await? {
                missing_groups.push((*group).to_owned());
            }
        }
        let mut problems: Vec<String> =
            containers.iter().filter_map(|c| container_gap(c, cx.region, &missing_groups)).collect();
        // The agent writes with the task execution role; without one (EC2 launch type) it uses
        // the container instance's role, which is not the task definition's to say.
        if let Some(role) = td.execution_role_arn().filter(|_| !groups.is_empty()) {
            match role_policies(&cx.clients.iam, role).await? {
                None => problems.push(format!("the task execution role {role} does not exist")),
                Some(docs) => {
                    for (group, creates) in &groups {
                        let arn = format!("arn:{partition}:logs:{}:{account}:log-group:{group}:*", cx.region);
                        let mut wanted = vec!["logs:CreateLogStream", "logs:PutLogEvents"];
                        if *creates {
                            wanted.push("logs:CreateLogGroup");
                        }
                        let lacks = missing_actions(&docs, &wanted, &arn);
                        if !lacks.is_empty() {
                            problems
                                .push(format!("the task execution role {role} lacks {} on {group}", lacks.join(", ")));
                        }
                    }
                }
            }
        }
        if problems.is_empty() {
            let drivers: Vec<String> = containers
                .iter()
                .filter_map(|c| c.log_configuration().map(|l| l.log_driver().as_str().to_owned()))
                .collect();
            return Ok(Checked {
                resource,
                state: State::Compliant(format!(
                    "{revision}: every container logs ({})",
                    if drivers.is_empty() { "no containers".to_owned() } else { drivers.join(", ") }
                )),
            });
        }
        let reason = format!(
            "{revision}: {}. Fix (audit only; logmend does not make it, as it restarts tasks): register a new \
             revision with logConfiguration {{logDriver: awslogs, options: awslogs-group /ecs/{family}, awslogs-region \
             {}, awslogs-stream-prefix <container>}} on every container and a task execution role allowed \
             logs:CreateLogStream and logs:PutLogEvents there, then UpdateService each service that runs {family}",
            problems.join("; "),
            cx.region
        );
        Ok(Checked {
            resource,
            state: State::Noncompliant { reason, finding: TaskLogFinding { task_definition: revision } },
        })
    }

    fn plan(&self, _config: &Config, _f: &TaskLogFinding) -> Vec<Self::Step> {
        Vec::new()
    }

    fn describe(&self, step: &Self::Step) -> Change {
        match *step {}
    }

    async fn apply(
        &self,
        _cx: &Context<'_, Clients>,
        _f: &TaskLogFinding,
        plan: &[NoStep],
    ) -> Result<Applied, ApplyError> {
        audit_only(SPEC.id, plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::LogConfiguration;

    fn container(name: &str, log: Option<LogConfiguration>) -> ContainerDefinition {
        ContainerDefinition::builder().name(name).set_log_configuration(log).build()
    }

    fn awslogs(group: Option<&str>, create: bool) -> LogConfiguration {
        let mut b = LogConfiguration::builder().log_driver(LogDriver::Awslogs);
        if let Some(g) = group {
            b = b.options("awslogs-group", g);
        }
        if create {
            b = b.options("awslogs-create-group", "true");
        }
        b.build().unwrap()
    }

    #[test]
    fn a_container_without_logging_or_with_a_missing_group_is_a_gap_other_drivers_are_not() {
        let missing = vec!["/ecs/gone".to_owned()];
        assert_eq!(
            container_gap(&container("web", None), "us-east-1", &missing).as_deref(),
            Some("container web has no logConfiguration")
        );
        assert!(container_gap(&container("web", Some(awslogs(None, false))), "us-east-1", &missing).is_some());
        assert!(
            container_gap(&container("web", Some(awslogs(Some("/ecs/gone"), false))), "us-east-1", &missing)
                .is_some_and(|g| g.contains("does not exist"))
        );
        assert_eq!(
            container_gap(&container("web", Some(awslogs(Some("/ecs/gone"), true))), "us-east-1", &missing),
            None
        );
        assert_eq!(
            container_gap(&container("web", Some(awslogs(Some("/ecs/here"), false))), "us-east-1", &missing),
            None
        );
        let firelens = LogConfiguration::builder().log_driver(LogDriver::Awsfirelens).build().unwrap();
        assert_eq!(container_gap(&container("web", Some(firelens)), "us-east-1", &missing), None);
        assert_eq!(family_of("arn:aws:ecs:us-east-1:123456789012:task-definition/web:7"), "web");
        assert_eq!(family_of("web:7"), "web");
    }

    #[test]
    fn audit_only_plans_nothing() {
        let f = TaskLogFinding { task_definition: "web:1".into() };
        assert!(EcsTaskLogConfig.plan(&Config::new(logmend_core::decision::Mode::Remediate), &f).is_empty());
        assert!(SPEC.writes.is_empty(), "no write is declared, so none can be granted");
    }
}
