//! `lambda-logging` (no Security Hub control; detect and report only): a function's logs can
//! reach CloudWatch Logs. Lambda writes them as the function's execution role into the group
//! its `LoggingConfig` names (`/aws/lambda/<name>` by default), which it creates on the first
//! invocation when it is missing (Lambda Developer Guide, "Sending Lambda function logs to
//! CloudWatch Logs"). So the role's own policies must allow `logs:CreateLogStream` and
//! `logs:PutLogEvents` on that group, and `logs:CreateLogGroup` while it does not exist; a
//! role without them loses every line silently.
//!
//! Never fixed: the fix widens a customer's role (or changes the function), which logmend does
//! not do; the decision names the missing actions and the managed policy that grants them.

use crate::Clients;
use crate::role::{ROLE_READS, missing_actions, role_policies};
use logmend_core::aws::{AwsError, partition_of};
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, NoStep, Permission, State, Trigger,
    audit_only, is_exempt,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

pub static SPEC: ControlSpec = ControlSpec {
    id: "lambda-logging",
    security_hub: &[],
    severity: logmend_core::control::Severity::Low,
    resource_type: "AWS::Lambda::Function",
    triggers: &[Trigger {
        event_source: "lambda.amazonaws.com",
        // CloudTrail names Lambda's calls with their API version.
        event_names: &["CreateFunction20150331", "UpdateFunctionConfiguration20150331v2"],
    }],
    compliant_when: "the function's execution role allows logs:CreateLogStream and logs:PutLogEvents on the log group its LoggingConfig names, and logs:CreateLogGroup while that group does not exist",
    fix: "none (audit only): widening a customer's execution role is theirs to do; the decision names the missing actions (AWSLambdaBasicExecutionRole grants them)",
    reads: &[
        Permission::any("lambda:ListFunctions"),
        Permission::any("lambda:GetFunction"),
        Permission::any("logs:DescribeLogGroups"),
        ROLE_READS[0],
        ROLE_READS[1],
        ROLE_READS[2],
        ROLE_READS[3],
        ROLE_READS[4],
    ],
    writes: &[],
};

pub struct LambdaLogging;

#[derive(Debug, Clone, PartialEq)]
pub struct LambdaFinding {
    pub function: String,
}

fn name_of(function: &str) -> &str {
    // A name, a partial ARN or an ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`).
    match function.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => function,
    }
}

impl Control for LambdaLogging {
    type Clients = Clients;
    /// The function's name.
    type Target = String;
    type Finding = LambdaFinding;
    /// Audit only: no step exists, so the control never writes.
    type Step = NoStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<String>, EventError> {
        event
            .response_str("functionName")
            .or_else(|| event.request_parameters.str("functionName"))
            .map(|f| vec![name_of(f).to_owned()])
            .ok_or(EventError::MissingField { field: "detail.requestParameters.functionName" })
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<String>, ControlError> {
        let mut pages = cx.clients.lambda.list_functions().into_paginator().send();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("lambda:ListFunctions", cx.region, e))?;
            names.extend(page.functions().iter().filter_map(|f| f.function_name().map(str::to_owned)));
        }
        Ok(names)
    }

    async fn check(&self, cx: &Context<'_, Clients>, name: &String) -> Result<Checked<LambdaFinding>, ControlError> {
        let partition = partition_of(cx.region);
        let account = cx.account.unwrap_or_default();
        let resource = format!("arn:{partition}:lambda:{}:{account}:function:{name}", cx.region);
        let got = match cx.clients.lambda.get_function().function_name(name).send().await {
            Ok(g) => g,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
                return Ok(Checked { resource, state: State::Skipped(format!("function {name} no longer exists")) });
            }
            Err(e) => return Err(AwsError::from_sdk("lambda:GetFunction", name, e).into()),
        };
        let tags = got.tags().into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str()));
        if is_exempt(cx.config, tags) {
            return Ok(Checked { resource, state: State::Skipped(format!("tagged {}=true", cx.config.exempt_tag)) });
        }
        let Some(config) = got.configuration() else {
            return Ok(Checked { resource, state: State::Skipped(format!("function {name} has no configuration")) });
        };
        let resource = config.function_arn().unwrap_or(&resource).to_owned();
        let default_group = format!("/aws/lambda/{name}");
        let group = config.logging_config().and_then(|l| l.log_group()).unwrap_or(&default_group).to_owned();
        let described = cx
            .clients
            .logs
            .describe_log_groups()
            .log_group_name_prefix(&group)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", &group, e))?;
        let exists = described.log_groups().iter().any(|g| g.log_group_name() == Some(group.as_str()));
        let mut wanted = vec!["logs:CreateLogStream", "logs:PutLogEvents"];
        if !exists {
            wanted.push("logs:CreateLogGroup");
        }
        let Some(role) = config.role() else {
            return Ok(Checked { resource, state: State::Skipped(format!("function {name} names no role")) });
        };
        let problem = match role_policies(&cx.clients.iam, role).await? {
            None => Some(format!("its execution role {role} does not exist")),
            Some(docs) => {
                let arn = format!("arn:{partition}:logs:{}:{account}:log-group:{group}:*", cx.region);
                let lacks = missing_actions(&docs, &wanted, &arn);
                (!lacks.is_empty()).then(|| format!("its execution role {role} lacks {} on {group}", lacks.join(", ")))
            }
        };
        let format = config.logging_config().and_then(|l| l.log_format()).map_or("Text", |f| f.as_str()).to_owned();
        match problem {
            None => Ok(Checked {
                resource,
                state: State::Compliant(format!("{name} logs ({format}) to {group}, which its role may write")),
            }),
            Some(problem) => Ok(Checked {
                resource,
                state: State::Noncompliant {
                    reason: format!(
                        "function {name}: {problem}, so its logs are lost. Fix (audit only; logmend does not widen a function's role): \
                         attach AWSLambdaBasicExecutionRole to the role, or allow {} on {group}",
                        wanted.join(", ")
                    ),
                    finding: LambdaFinding { function: name.clone() },
                },
            }),
        }
    }

    fn plan(&self, _config: &Config, _f: &LambdaFinding) -> Vec<Self::Step> {
        Vec::new()
    }

    fn describe(&self, step: &Self::Step) -> Change {
        match *step {}
    }

    async fn apply(
        &self,
        _cx: &Context<'_, Clients>,
        _f: &LambdaFinding,
        plan: &[NoStep],
    ) -> Result<Applied, ApplyError> {
        audit_only(SPEC.id, plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_is_named_by_its_name_or_its_arn() {
        assert_eq!(name_of("orders"), "orders");
        assert_eq!(name_of("arn:aws:lambda:us-east-1:123456789012:function:orders"), "orders");
        assert_eq!(name_of("arn:aws:lambda:us-east-1:123456789012:function:orders:live"), "orders");
        assert!(SPEC.writes.is_empty() && SPEC.fix.starts_with("none (audit only)"));
    }
}
