//! `vpc-flow-logs` (Security Hub EC2.6): every VPC has a flow log that captures at least
//! rejected traffic and is delivered.
//!
//! EC2.6 passes on any flow log of the VPC; logmend asks for the other half too: a flow log
//! whose `DeliverLogsStatus` is `FAILED` (its bucket refuses the writes, its log group is gone)
//! records nothing, so it does not count, and its error is named. The fix adds logmend's own
//! flow log (`LOGMEND_FLOW_LOG_TRAFFIC`, ALL by default) to logmend's log bucket, made ready
//! first; flow logs others made are never changed or deleted.

use crate::Clients;
use crate::store::{Destination, Gap, STORE_READS, STORE_WRITES, Store, StoreKind, StoreStep};
use crate::vpc::{self, VpcTarget};
use aws_sdk_ec2::types::{
    FlowLog, FlowLogsResourceType, LogDestinationType, ResourceType, Tag, TagSpecification, TrafficType,
};
use logmend_core::aws::{AwsError, AwsErrorKind};
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, MANAGED_BY_TAG, Permission, State,
    Trigger,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

pub static SPEC: ControlSpec = ControlSpec {
    id: "vpc-flow-logs",
    security_hub: &["EC2.6"],
    severity: logmend_core::control::Severity::Medium,
    resource_type: "AWS::EC2::VPC",
    triggers: &[Trigger { event_source: "ec2.amazonaws.com", event_names: &["CreateVpc", "DeleteFlowLogs"] }],
    compliant_when: "the VPC has an active flow log capturing REJECT or ALL traffic whose DeliverLogsStatus is not FAILED",
    fix: "makes logmend's log bucket ready (Block Public Access, SSE, BucketOwnerEnforced, TLS only, a statement for delivery.logs.amazonaws.com scoped to the account); CreateFlowLogs to it with LOGMEND_FLOW_LOG_TRAFFIC (default ALL); never changes or deletes another flow log",
    reads: &[
        Permission::any("ec2:DescribeVpcs"),
        Permission::any("ec2:DescribeFlowLogs"),
        STORE_READS[0],
        STORE_READS[1],
    ],
    writes: &[
        Permission::any("ec2:CreateFlowLogs"),
        Permission::on("ec2:CreateTags", "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc-flow-log/*"),
        STORE_WRITES[0],
        STORE_WRITES[1],
        STORE_WRITES[2],
        STORE_WRITES[3],
        STORE_WRITES[4],
        STORE_WRITES[5],
        STORE_WRITES[6],
    ],
};

pub struct VpcFlowLogs;

#[derive(Debug)]
pub struct FlowLogFinding {
    pub vpc_id: String,
    pub store: Store,
    pub store_gap: Option<Gap>,
    /// logmend has no flow log on the VPC to its bucket yet.
    pub create: bool,
}

#[derive(Debug)]
pub enum FlowLogStep {
    Destination(StoreStep),
    CreateFlowLog { vpc_id: String, destination: String, traffic: &'static str },
}

/// What a flow log contributes: it counts, it captures but fails to deliver, or it does not
/// capture what EC2.6 needs.
#[derive(Debug, PartialEq, Eq)]
pub enum FlowLogState {
    Delivering,
    Failing(String),
    NotCapturing(String),
}

/// One flow log's contribution. Pure, for unit tests.
pub fn assess(fl: &FlowLog) -> FlowLogState {
    let id = fl.flow_log_id().unwrap_or("(no id)");
    let traffic = fl.traffic_type().map_or("(none)", |t| t.as_str());
    if !matches!(fl.traffic_type(), Some(TrafficType::All | TrafficType::Reject)) {
        return FlowLogState::NotCapturing(format!("flow log {id} captures {traffic} traffic only"));
    }
    if fl.flow_log_status().is_some_and(|s| s != "ACTIVE") {
        return FlowLogState::NotCapturing(format!("flow log {id} is {}", fl.flow_log_status().unwrap_or_default()));
    }
    if fl.deliver_logs_status() == Some("FAILED") {
        let error = fl.deliver_logs_error_message().unwrap_or("no error message");
        return FlowLogState::Failing(format!("flow log {id} to {} fails to deliver: {error}", destination_of(fl)));
    }
    FlowLogState::Delivering
}

fn destination_of(fl: &FlowLog) -> String {
    fl.log_destination().or(fl.log_group_name()).unwrap_or("(no destination)").to_owned()
}

impl Control for VpcFlowLogs {
    type Clients = Clients;
    type Target = VpcTarget;
    type Finding = FlowLogFinding;
    type Step = FlowLogStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<VpcTarget>, EventError> {
        match event.event_name.as_str() {
            "CreateVpc" => Ok(vec![vpc::created_vpc(event)?]),
            // The record names the flow log only, and it is gone: every VPC is looked at.
            _ => Ok(vec![VpcTarget::Region]),
        }
    }

    async fn expand(&self, cx: &Context<'_, Clients>, target: VpcTarget) -> Result<Vec<VpcTarget>, ControlError> {
        vpc::expand(cx, target).await
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<VpcTarget>, ControlError> {
        vpc::list(cx).await
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        target: &VpcTarget,
    ) -> Result<Checked<FlowLogFinding>, ControlError> {
        let VpcTarget::Vpc(id) = target else {
            return Ok(Checked { resource: target.to_string(), state: State::Skipped("not one VPC".into()) });
        };
        let Some(found) = vpc::one(cx, id).await? else {
            return Ok(Checked { resource: id.clone(), state: State::Skipped("the VPC no longer exists".into()) });
        };
        let resource = vpc::vpc_arn(cx.region, &found);
        if vpc::exempt(cx, &found) {
            return Ok(Checked { resource, state: State::Skipped(format!("tagged {}=true", cx.config.exempt_tag)) });
        }
        let filter = aws_sdk_ec2::types::Filter::builder().name("resource-id").values(id).build();
        let mut pages = cx.clients.ec2.describe_flow_logs().filter(filter).into_paginator().send();
        let mut flow_logs = Vec::new();
        while let Some(page) = pages.next().await {
            flow_logs.extend(page.map_err(|e| AwsError::from_sdk("ec2:DescribeFlowLogs", id, e))?.flow_logs().to_vec());
        }
        let account = found.owner_id().or(cx.account).unwrap_or_default().to_owned();
        let store = Store::new(StoreKind::Logs, cx.config, cx.region, &account);
        let mut problems = Vec::new();
        for fl in &flow_logs {
            match assess(fl) {
                FlowLogState::Delivering => {
                    let reason = format!(
                        "flow log {} captures {} traffic to {}",
                        fl.flow_log_id().unwrap_or_default(),
                        fl.traffic_type().map_or("", |t| t.as_str()),
                        destination_of(fl)
                    );
                    return Ok(Checked { resource, state: State::Compliant(reason) });
                }
                FlowLogState::Failing(p) | FlowLogState::NotCapturing(p) => problems.push(p),
            }
        }
        let ours = flow_logs.iter().any(|fl| fl.log_destination() == Some(store.arn().as_str()));
        let store_gap = Destination::Bucket(store.clone()).inspect(cx).await?;
        if problems.is_empty() {
            problems.push("the VPC has no flow log".into());
        }
        if ours && store_gap.is_none() {
            // logmend's own flow log fails although its bucket lets the service write: nothing
            // logmend may change will help (a KMS key policy, an SCP); a person must look.
            problems
                .push(format!("{}'s policy lets the log delivery service write; the cause is elsewhere", store.bucket));
        }
        Ok(Checked {
            resource,
            state: State::Noncompliant {
                reason: problems.join("; "),
                finding: FlowLogFinding { vpc_id: id.clone(), store, store_gap, create: !ours },
            },
        })
    }

    fn plan(&self, config: &Config, f: &FlowLogFinding) -> Vec<FlowLogStep> {
        let mut steps: Vec<FlowLogStep> =
            f.store_gap.iter().flat_map(Gap::steps).map(FlowLogStep::Destination).collect();
        if f.create {
            steps.push(FlowLogStep::CreateFlowLog {
                vpc_id: f.vpc_id.clone(),
                destination: f.store.arn(),
                traffic: config.flow_log_traffic.as_str(),
            });
        }
        steps
    }

    fn describe(&self, step: &FlowLogStep) -> Change {
        match step {
            FlowLogStep::Destination(step) => step.describe(),
            FlowLogStep::CreateFlowLog { vpc_id, destination, traffic } => {
                Change::new("ec2:CreateFlowLogs", format!("{vpc_id}: {traffic} traffic to {destination}"))
            }
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        _finding: &FlowLogFinding,
        plan: &[FlowLogStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            let result = match step {
                FlowLogStep::Destination(step) => step.apply(cx).await,
                FlowLogStep::CreateFlowLog { vpc_id, destination, traffic } => {
                    create_flow_log(cx, vpc_id, destination, traffic).await
                }
            };
            result.map_err(|e| ApplyError { done: done.clone(), error: e.into() })?;
            done.push(self.describe(step));
        }
        Ok(Applied::Fixed("logmend's flow log delivers the VPC's traffic to its log bucket".into()))
    }
}

async fn create_flow_log(
    cx: &Context<'_, Clients>,
    vpc_id: &str,
    destination: &str,
    traffic: &str,
) -> Result<(), AwsError> {
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::VpcFlowLog)
        .tags(Tag::builder().key(MANAGED_BY_TAG.0).value(MANAGED_BY_TAG.1).build())
        .build();
    let out = cx
        .clients
        .ec2
        .create_flow_logs()
        .resource_type(FlowLogsResourceType::Vpc)
        .resource_ids(vpc_id)
        .traffic_type(TrafficType::from(traffic))
        .log_destination_type(LogDestinationType::S3)
        .log_destination(destination)
        .tag_specifications(tags)
        .send()
        .await;
    let out = match out {
        Ok(out) => out,
        // Another evaluation (or a run cut short) made the same flow log: already so.
        Err(e) if logmend_s3_store::code_of(&e) == Some("FlowLogAlreadyExists") => return Ok(()),
        Err(e) => return Err(AwsError::from_sdk("ec2:CreateFlowLogs", vpc_id, e)),
    };
    // CreateFlowLogs answers 200 with the resources it could not cover listed as unsuccessful.
    match out.unsuccessful().iter().find_map(|u| u.error()) {
        Some(err) if err.code() == Some("FlowLogAlreadyExists") => Ok(()),
        Some(err) => Err(AwsError {
            action: "ec2:CreateFlowLogs",
            resource: vpc_id.to_owned(),
            code: err.code().map(str::to_owned),
            status: None,
            kind: AwsErrorKind::Service,
            detail: err.message().unwrap_or("unsuccessful").to_owned(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow_log(traffic: TrafficType, status: &str) -> FlowLog {
        FlowLog::builder()
            .flow_log_id("fl-1")
            .traffic_type(traffic)
            .flow_log_status("ACTIVE")
            .deliver_logs_status(status)
            .deliver_logs_error_message("Access error")
            .log_destination("arn:aws:s3:::theirs")
            .build()
    }

    #[test]
    fn a_flow_log_counts_when_it_captures_rejects_and_delivers() {
        assert_eq!(assess(&flow_log(TrafficType::All, "SUCCESS")), FlowLogState::Delivering);
        assert_eq!(assess(&flow_log(TrafficType::Reject, "SUCCESS")), FlowLogState::Delivering);
        assert!(matches!(assess(&flow_log(TrafficType::Accept, "SUCCESS")), FlowLogState::NotCapturing(_)));
        assert_eq!(
            assess(&flow_log(TrafficType::All, "FAILED")),
            FlowLogState::Failing("flow log fl-1 to arn:aws:s3:::theirs fails to deliver: Access error".into())
        );
    }
}
