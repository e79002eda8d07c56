//! VPCs as the flow log and Resolver query log controls see them: named by an event, or all
//! of the region's when the event names none (DeleteFlowLogs names only the flow log, which is
//! gone by then).

use crate::Clients;
use aws_sdk_ec2::types::{Filter, Vpc};
use logmend_core::aws::AwsError;
use logmend_core::control::{Context, ControlError, is_exempt};
use logmend_core::event::{ApiCallEvent, EventError};
use serde::{Deserialize, Serialize};

/// A VPC, or every VPC of the region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VpcTarget {
    Vpc(String),
    Region,
}

impl std::fmt::Display for VpcTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VpcTarget::Vpc(id) => f.write_str(id),
            VpcTarget::Region => f.write_str("every VPC of the region"),
        }
    }
}

/// The VPC a CreateVpc event made (`responseElements.vpc.vpcId`).
pub fn created_vpc(event: &ApiCallEvent) -> Result<VpcTarget, EventError> {
    event
        .response_str_at(&["vpc", "vpcId"])
        .map(|id| VpcTarget::Vpc(id.to_owned()))
        .ok_or(EventError::MissingField { field: "detail.responseElements.vpc.vpcId" })
}

pub fn vpc_arn(region: &str, vpc: &Vpc) -> String {
    format!(
        "arn:{}:ec2:{region}:{}:vpc/{}",
        crate::store::partition_of(region),
        vpc.owner_id().unwrap_or_default(),
        vpc.vpc_id().unwrap_or_default()
    )
}

pub fn exempt(cx: &Context<'_, Clients>, vpc: &Vpc) -> bool {
    is_exempt(cx.config, vpc.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))))
}

/// Every VPC of the region.
pub async fn all(cx: &Context<'_, Clients>) -> Result<Vec<Vpc>, AwsError> {
    let mut pages = cx.clients.ec2.describe_vpcs().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        out.extend(page.map_err(|e| AwsError::from_sdk("ec2:DescribeVpcs", cx.region, e))?.vpcs().iter().cloned());
    }
    Ok(out)
}

/// One VPC; `None`: it no longer exists.
pub async fn one(cx: &Context<'_, Clients>, id: &str) -> Result<Option<Vpc>, AwsError> {
    let filter = Filter::builder().name("vpc-id").values(id).build();
    let out = cx
        .clients
        .ec2
        .describe_vpcs()
        .filters(filter)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeVpcs", id, e))?;
    Ok(out.vpcs().iter().find(|v| v.vpc_id() == Some(id)).cloned())
}

/// The region's VPCs as targets.
pub async fn list(cx: &Context<'_, Clients>) -> Result<Vec<VpcTarget>, ControlError> {
    Ok(all(cx).await?.iter().filter_map(|v| v.vpc_id().map(|id| VpcTarget::Vpc(id.to_owned()))).collect())
}

/// A target stands for its VPC; the region for every VPC in it.
pub async fn expand(cx: &Context<'_, Clients>, target: VpcTarget) -> Result<Vec<VpcTarget>, ControlError> {
    match target {
        VpcTarget::Region => list(cx).await,
        vpc => Ok(vec![vpc]),
    }
}
