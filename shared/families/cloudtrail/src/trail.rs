//! What every CloudTrail control reads first: the trail, whether this region and account may
//! change it (only its home region; an organization trail only from its own account), and
//! whether it is exempt.

use crate::Clients;
use aws_sdk_cloudtrail::types::Trail;
use logmend_core::aws::AwsError;
use logmend_core::control::{Context, ControlError, is_exempt};
use logmend_core::event::{ApiCallEvent, EventError};

/// A trail this region and account may change.
#[derive(Debug, Clone)]
pub struct HomeTrail {
    pub trail: Trail,
    pub arn: String,
    pub name: String,
    pub partition: String,
    pub account: String,
    pub home: String,
}

/// Why a trail is not this evaluation's to change: the resource to name and the reason.
pub struct NotHere {
    pub resource: String,
    pub reason: String,
}

pub use logmend_trail_rules::{TrailArn, non_empty, parse_trail_arn};

/// The trail a CloudTrail event names: the response's exact ARN, else the request's `name`
/// (a name or an ARN), else PutEventSelectors' `trailName`. StopLogging and DeleteTrail answer
/// `null`, so their trail is the request's.
pub fn trail_named_in(event: &ApiCallEvent) -> Result<String, EventError> {
    event
        .response_str("trailARN")
        .or_else(|| event.request_parameters.str("name"))
        .or_else(|| event.request_parameters.str("trailName"))
        .map(str::to_owned)
        .ok_or(EventError::MissingField { field: "detail.requestParameters.name" })
}

/// GetTrail, then the home-region and account rules. `Err(NotHere)` in `Ok` is a skip.
pub async fn read_home_trail(
    cx: &Context<'_, Clients>,
    name: &str,
) -> Result<Result<HomeTrail, NotHere>, ControlError> {
    let gone = || NotHere { resource: name.to_owned(), reason: "the trail no longer exists".into() };
    let got = match cx.clients.cloudtrail.get_trail().name(name).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_trail_not_found_exception()) => return Ok(Err(gone())),
        Err(e) => return Err(AwsError::from_sdk("cloudtrail:GetTrail", name, e).into()),
    };
    let Some(trail) = got.trail() else {
        return Ok(Err(gone()));
    };
    let arn = trail.trail_arn().unwrap_or(name).to_owned();
    let parsed = parse_trail_arn(&arn);
    // HomeRegion is what AWS returns; the ARN's region is the same fact for any trail.
    let home = non_empty(trail.home_region()).or(parsed.as_ref().map(|a| a.region)).unwrap_or(cx.region).to_owned();
    if home != cx.region {
        let reason = format!("shadow copy of a multi-region trail; its home region {home} evaluates it");
        return Ok(Err(NotHere { resource: arn, reason }));
    }
    let (partition, account) = match &parsed {
        Some(a) => (a.partition.to_owned(), a.account.to_owned()),
        None => ("aws".to_owned(), cx.account.unwrap_or_default().to_owned()),
    };
    if let Some(own) = cx.account.filter(|own| *own != account) {
        let reason = format!("organization trail of account {account}; account {own} cannot change it");
        return Ok(Err(NotHere { resource: arn, reason }));
    }
    Ok(Ok(HomeTrail {
        name: trail.name().unwrap_or_default().to_owned(),
        trail: trail.clone(),
        arn,
        partition,
        account,
        home,
    }))
}

/// Whether the trail carries the exemption tag (one ListTags).
pub async fn trail_exempt(cx: &Context<'_, Clients>, arn: &str) -> Result<bool, ControlError> {
    let tags = cx
        .clients
        .cloudtrail
        .list_tags()
        .resource_id_list(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudtrail:ListTags", arn, e))?;
    let tags = tags.resource_tag_list().iter().flat_map(|r| r.tags_list()).filter_map(|t| Some((t.key(), t.value()?)));
    Ok(is_exempt(cx.config, tags))
}

/// DescribeTrails from this region: its own trails and, with `shadows`, other regions'
/// multi-region trails (and an organization's trails) that cover it.
pub async fn describe_trails(cx: &Context<'_, Clients>, shadows: bool) -> Result<Vec<Trail>, ControlError> {
    let out = cx
        .clients
        .cloudtrail
        .describe_trails()
        .include_shadow_trails(shadows)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudtrail:DescribeTrails", cx.region, e))?;
    Ok(out.trail_list().to_vec())
}

/// Every trail of the account that ListTrails shows from this region (home trails and shadows).
pub async fn list_trail_arns(cx: &Context<'_, Clients>) -> Result<Vec<String>, ControlError> {
    let mut pages = cx.clients.cloudtrail.list_trails().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("cloudtrail:ListTrails", cx.region, e))?;
        out.extend(page.trails().iter().filter_map(|t| t.trail_arn().map(str::to_owned)));
    }
    Ok(out)
}
