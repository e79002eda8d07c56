//! `log-group-retention` (Security Hub CloudWatch.16): every log group keeps its events for at
//! least the configured minimum (`LOGMEND_RETENTION_DAYS`, default 365).
//!
//! Logs that expire too soon are lost evidence; logs that never expire are the default for
//! every group AWS services create (MQ, RDS, CloudTrail, Lambda), which is both unbounded cost
//! and no decision at all. The fix is PutRetentionPolicy with the smallest valid value at or
//! above the minimum; a longer retention is never shortened.

use crate::Clients;
use logmend_core::aws::AwsError;
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, State, Trigger, is_exempt,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

pub static SPEC: ControlSpec = ControlSpec {
    id: "log-group-retention",
    security_hub: &["CloudWatch.16"],
    severity: logmend_core::control::Severity::Medium,
    resource_type: "AWS::Logs::LogGroup",
    triggers: &[Trigger {
        event_source: "logs.amazonaws.com",
        event_names: &["CreateLogGroup", "PutRetentionPolicy", "DeleteRetentionPolicy"],
    }],
    compliant_when: "retention is set and at least LOGMEND_RETENTION_DAYS (default 365)",
    fix: "PutRetentionPolicy with the smallest valid value at or above the minimum; never shortens a longer retention",
    reads: &[
        Permission::any("logs:DescribeLogGroups"),
        Permission::any("logs:ListTagsForResource"),
        // The sweep reads every group's exemption tag in one paginated call, not one call each.
        Permission::any("tag:GetResources"),
    ],
    writes: &[Permission::on(
        "logs:PutRetentionPolicy",
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*",
    )],
};

pub struct LogGroupRetention;

/// What DescribeLogGroups says of a group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogGroupSnapshot {
    /// `arn:…:log-group:NAME` (no `:*`), as ListTagsForResource takes it.
    pub arn: String,
    pub retention_days: Option<i32>,
    /// Whether the exemption tag is set, when the listing already knows (the sweep's bulk
    /// tag lookup); `None`: ask ListTagsForResource.
    pub exempt: Option<bool>,
}

/// A log group by name; a sweep passes along what its listing already read, so 10,000
/// groups cost 200 DescribeLogGroups pages, not 10,000 more calls.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogGroupRef {
    pub name: String,
    pub listed: Option<LogGroupSnapshot>,
}

impl std::fmt::Display for LogGroupRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionFinding {
    pub name: String,
    pub current: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetRetention {
    pub name: String,
    pub days: i32,
}

fn snapshot(g: &aws_sdk_cloudwatchlogs::types::LogGroup) -> Option<(String, LogGroupSnapshot)> {
    let name = g.log_group_name()?.to_owned();
    let arn = g
        .log_group_arn()
        .map(str::to_owned)
        .or_else(|| g.arn().map(|a| a.trim_end_matches(":*").to_owned()))
        .unwrap_or_default();
    Some((name, LogGroupSnapshot { arn, retention_days: g.retention_in_days(), exempt: None }))
}

/// The decision on a retention, given the configured minimum. Pure, for unit tests.
pub fn assess(current: Option<i32>, minimum: i32) -> Result<String, String> {
    match current {
        Some(days) if days >= minimum => Ok(format!("retention {days} days (minimum {minimum})")),
        Some(days) => Err(format!("retention {days} days is below the minimum of {minimum}")),
        None => Err("events never expire (no retention set)".into()),
    }
}

/// The ARNs (no `:*`) of the region's log groups that carry the exemption tag set to true:
/// one paginated Resource Groups Tagging API call for the whole region. The filter names the
/// key only, so the value is compared as `is_exempt` does (case-insensitive `true`).
async fn exempt_log_groups(cx: &Context<'_, Clients>) -> Result<std::collections::HashSet<String>, AwsError> {
    let filter = aws_sdk_resourcegroupstagging::types::TagFilter::builder().key(&cx.config.exempt_tag).build();
    let mut pages = cx
        .clients
        .tagging
        .get_resources()
        .resource_type_filters("logs:log-group")
        .tag_filters(filter)
        .into_paginator()
        .send();
    let mut out = std::collections::HashSet::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("tag:GetResources", cx.region, e))?;
        for m in page.resource_tag_mapping_list() {
            if is_exempt(cx.config, m.tags().iter().map(|t| (t.key(), t.value())))
                && let Some(arn) = m.resource_arn()
            {
                out.insert(arn.trim_end_matches(":*").to_owned());
            }
        }
    }
    Ok(out)
}

impl Control for LogGroupRetention {
    type Clients = Clients;
    type Target = LogGroupRef;
    type Finding = RetentionFinding;
    type Step = SetRetention;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<LogGroupRef>, EventError> {
        let name = event
            .request_parameters
            .str("logGroupName")
            .ok_or(EventError::MissingField { field: "detail.requestParameters.logGroupName" })?;
        Ok(vec![LogGroupRef { name: name.to_owned(), listed: None }])
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<LogGroupRef>, ControlError> {
        // Page by page, each with the standard retry mode: see `aws::sequential_listing_retry`.
        let retry = logmend_core::aws::sequential_listing_retry(cx.clients.logs.config().retry_config());
        let mut out = Vec::new();
        let mut next_token = None;
        loop {
            let page = cx
                .clients
                .logs
                .describe_log_groups()
                .set_next_token(next_token.take())
                .customize()
                .config_override(aws_sdk_cloudwatchlogs::config::Builder::default().retry_config(retry.clone()))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", cx.region, e))?;
            out.extend(
                page.log_groups().iter().filter_map(snapshot).map(|(name, s)| LogGroupRef { name, listed: Some(s) }),
            );
            match page.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => break,
            }
        }
        // Without the bulk lookup each non-compliant group costs a ListTagsForResource (a
        // low-rate API): 9,000 calls for 10,000 groups. If it is refused, fall back to that.
        match exempt_log_groups(cx).await {
            Ok(exempt) => {
                for g in out.iter_mut().filter_map(|g| g.listed.as_mut()) {
                    g.exempt = Some(exempt.contains(&g.arn));
                }
            }
            Err(e) => tracing::warn!(error = %e, "bulk tag lookup failed; reading each group's tags instead"),
        }
        Ok(out)
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        target: &LogGroupRef,
    ) -> Result<Checked<RetentionFinding>, ControlError> {
        let observed = match &target.listed {
            Some(s) => Some(s.clone()),
            None => {
                let out = cx
                    .clients
                    .logs
                    .describe_log_groups()
                    .log_group_name_prefix(&target.name)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", &target.name, e))?;
                out.log_groups().iter().filter_map(snapshot).find(|(n, _)| *n == target.name).map(|(_, s)| s)
            }
        };
        let Some(group) = observed else {
            // Named as DescribeLogGroups names a live group, so its Security Hub finding (keyed
            // by the resource) is the one archived.
            let resource = match cx.account {
                Some(account) => format!(
                    "arn:{}:logs:{}:{account}:log-group:{}",
                    logmend_core::aws::partition_of(cx.region),
                    cx.region,
                    target.name
                ),
                None => target.name.clone(),
            };
            return Ok(Checked { resource, state: State::Skipped("the log group no longer exists".into()) });
        };
        let resource = if group.arn.is_empty() { target.name.clone() } else { group.arn.clone() };
        let reason = match assess(group.retention_days, cx.config.retention_minimum_days) {
            Ok(ok) => return Ok(Checked { resource, state: State::Compliant(ok) }),
            Err(reason) => reason,
        };
        let exempt = match group.exempt {
            Some(known) => known,
            None => {
                let tags = cx
                    .clients
                    .logs
                    .list_tags_for_resource()
                    .resource_arn(&group.arn)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("logs:ListTagsForResource", &resource, e))?;
                let tags = tags.tags().map(|t| t.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                tags.is_some_and(|t| is_exempt(cx.config, t))
            }
        };
        if exempt {
            let reason = format!("tagged {}=true", cx.config.exempt_tag);
            return Ok(Checked { resource, state: State::Skipped(reason) });
        }
        Ok(Checked {
            resource,
            state: State::Noncompliant {
                finding: RetentionFinding { name: target.name.clone(), current: group.retention_days },
                reason,
            },
        })
    }

    fn plan(&self, config: &Config, f: &RetentionFinding) -> Vec<SetRetention> {
        // `retention_days` is the smallest valid value at or above the minimum, and a finding
        // is always below the minimum, so this only ever lengthens.
        if f.current.is_some_and(|c| c >= config.retention_days) {
            return vec![];
        }
        vec![SetRetention { name: f.name.clone(), days: config.retention_days }]
    }

    fn describe(&self, step: &SetRetention) -> Change {
        Change::new("logs:PutRetentionPolicy", format!("{} retentionInDays={}", step.name, step.days))
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        _f: &RetentionFinding,
        plan: &[SetRetention],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            cx.clients
                .logs
                .put_retention_policy()
                .log_group_name(&step.name)
                .retention_in_days(step.days)
                .send()
                .await
                .map_err(|e| ApplyError {
                    done: done.clone(),
                    error: AwsError::from_sdk("logs:PutRetentionPolicy", &step.name, e).into(),
                })?;
            done.push(self.describe(step));
        }
        let days = plan.last().map_or(0, |s| s.days);
        Ok(Applied::Fixed(format!("retention set to {days} days")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logmend_core::decision::Mode;

    fn config(minimum: &str) -> Config {
        Config::from_vars(|k| match k {
            "LOGMEND_MODE" => Some("remediate".into()),
            "LOGMEND_RETENTION_DAYS" => Some(minimum.into()),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn never_expire_and_short_retention_are_noncompliant_long_is_fine() {
        assert!(assess(None, 365).is_err());
        assert!(assess(Some(30), 365).is_err());
        assert!(assess(Some(365), 365).is_ok());
        assert!(assess(Some(3653), 365).is_ok());
        assert!(assess(Some(365), 200).is_ok(), "a minimum of 200 is met by 365");
        assert!(assess(Some(180), 200).is_err());
    }

    #[test]
    fn the_plan_sets_the_rounded_value_and_never_shortens() {
        let c = config("200");
        let plan = LogGroupRetention.plan(&c, &RetentionFinding { name: "g".into(), current: Some(180) });
        assert_eq!(plan, vec![SetRetention { name: "g".into(), days: 365 }]);
        let plan = LogGroupRetention.plan(&c, &RetentionFinding { name: "g".into(), current: None });
        assert_eq!(plan[0].days, 365);
        let plan = LogGroupRetention.plan(&c, &RetentionFinding { name: "g".into(), current: Some(400) });
        assert!(plan.is_empty());
        let plan = LogGroupRetention
            .plan(&Config::new(Mode::Remediate), &RetentionFinding { name: "g".into(), current: Some(1) });
        assert_eq!(plan[0].days, 365);
    }
}
