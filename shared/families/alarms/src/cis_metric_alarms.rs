//! `cis-metric-alarms` (Security Hub CloudWatch.1–14; CIS AWS Foundations 1.2 section 3, 1.4
//! section 4): someone hears about root use, IAM, CloudTrail, KMS, S3 policy, Config and network
//! changes within five minutes.
//!
//! The log group is the one CIS means: that of a multi-region trail that is logging and records
//! all management events, read and write, evaluated in the trail's home region (its log group
//! lives there). Compliant means all of:
//! - every filter of [`CIS_FILTERS`] is on that log group with its exact pattern (anyone's,
//!   whatever its name: Security Hub compares the pattern only);
//! - each filter's metric has an alarm that fires on one event (Sum over 300 s ≥ 1, one
//!   datapoint, missing data not breaching for logmend's own), actions enabled, whose action is
//!   an SNS topic of this region with a confirmed subscriber;
//! - the topic lets CloudWatch publish and is not encrypted with the AWS managed key
//!   `alias/aws/sns`, which CloudWatch cannot use (CloudWatch User Guide, "Using Amazon
//!   CloudWatch alarms": "alarms can't publish to topics encrypted with the AWS managed key").
//!
//! An email or http(s) subscription is pending until a person confirms it: the decision is then
//! `pending`, and the ConfirmSubscription event decides again. No subscriber configured and none
//! confirmed: `noncompliant`, never a silent pass.

use crate::Clients;
use crate::patterns::{CIS_FILTERS, CisFilter};
use aws_sdk_cloudwatch::types::{ComparisonOperator, MetricAlarm, Statistic};
use aws_sdk_cloudwatchlogs::types::{MetricFilter, MetricTransformation};
use logmend_core::aws::AwsError;
use logmend_core::config::{Config, Subscriber};
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, MANAGED_BY_TAG, Permission, State,
    Trigger, is_exempt,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};
use logmend_core::resource_policy::{Principal, Request, allows, with_statement};
use logmend_trail_rules::{Selectors, logs_all_management, non_empty, parse_trail_arn, partition_of};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// logmend's own topic, made when `LOGMEND_ALARM_TOPIC_ARN` names none.
pub const TOPIC_NAME: &str = "logmend-security-alarms";
const TOPIC_ARN: &str = "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:logmend-security-alarms";
const PUBLISH_SID: &str = "LogmendCloudWatchAlarms";
/// The alarm settings CIS gives (1.4 section 4: "period 300, threshold 1, evaluation periods
/// 1, statistic Sum"); missing data is not an event.
const PERIOD_SECONDS: i32 = 300;

pub static SPEC: ControlSpec = ControlSpec {
    id: "cis-metric-alarms",
    security_hub: &[
        "CloudWatch.1",
        "CloudWatch.2",
        "CloudWatch.3",
        "CloudWatch.4",
        "CloudWatch.5",
        "CloudWatch.6",
        "CloudWatch.7",
        "CloudWatch.8",
        "CloudWatch.9",
        "CloudWatch.10",
        "CloudWatch.11",
        "CloudWatch.12",
        "CloudWatch.13",
        "CloudWatch.14",
    ],
    severity: logmend_core::control::Severity::Low,
    resource_type: "AWS::Logs::LogGroup",
    triggers: &[
        Trigger {
            event_source: "logs.amazonaws.com",
            event_names: &["PutMetricFilter", "DeleteMetricFilter", "DeleteLogGroup"],
        },
        Trigger {
            event_source: "monitoring.amazonaws.com",
            event_names: &["PutMetricAlarm", "DeleteAlarms", "DisableAlarmActions"],
        },
        Trigger {
            event_source: "sns.amazonaws.com",
            event_names: &["DeleteTopic", "Unsubscribe", "SetTopicAttributes", "ConfirmSubscription"],
        },
        // The events that move, stop or start the trail whose log group holds the filters.
        Trigger {
            event_source: "cloudtrail.amazonaws.com",
            event_names: &[
                "CreateTrail",
                "UpdateTrail",
                "DeleteTrail",
                "StartLogging",
                "StopLogging",
                "PutEventSelectors",
            ],
        },
    ],
    compliant_when: "the log group of a logging multi-region trail that records all management events holds every CIS metric filter with its exact pattern; each metric has an enabled alarm (≥ 1 in 300 s) notifying an SNS topic of the region that CloudWatch may publish to and that has a confirmed subscriber",
    fix: "PutMetricFilter logmend-cis-<metric> (the exact pattern, value 1, LOGMEND_ALARM_NAMESPACE); PutMetricAlarm logmend-cis-<metric> (Sum, 300 s, ≥ 1, 1 datapoint, notBreaching) to the topic; CreateTopic logmend-security-alarms with a policy letting CloudWatch publish (or LOGMEND_ALARM_TOPIC_ARN); Subscribe LOGMEND_ALARM_EMAIL / LOGMEND_ALARM_SUBSCRIPTION",
    reads: &[
        Permission::any("cloudtrail:DescribeTrails"),
        Permission::any("cloudtrail:GetTrailStatus"),
        Permission::any("cloudtrail:GetEventSelectors"),
        Permission::any("logs:DescribeMetricFilters"),
        Permission::any("logs:ListTagsForResource"),
        Permission::any("cloudwatch:DescribeAlarms"),
        Permission::any("sns:GetTopicAttributes"),
        Permission::any("sns:ListSubscriptionsByTopic"),
    ],
    writes: &[
        Permission::on(
            "logs:PutMetricFilter",
            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*",
        ),
        Permission::on(
            "cloudwatch:PutMetricAlarm",
            "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:logmend-cis-*",
        ),
        Permission::on("sns:CreateTopic", TOPIC_ARN),
        Permission::on("sns:SetTopicAttributes", TOPIC_ARN),
        // The configured topic, too: LOGMEND_ALARM_EMAIL subscribes to whichever topic is used.
        Permission::on("sns:Subscribe", "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:*"),
    ],
};

pub struct CisMetricAlarms;

/// The account-and-region scope: one set of alarms per account, decided in the trail's home
/// region. The field names it in a queue message (`{"alarms": "eu-west-1"}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AlarmScope {
    pub alarms: String,
}

impl std::fmt::Display for AlarmScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the CIS alarms of {}", self.alarms)
    }
}

/// One planned write.
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmStep {
    CreateTopic { name: String, policy: String },
    SetTopicPolicy { topic_arn: String, policy: String },
    PutMetricFilter { log_group: String, name: String, pattern: &'static str, namespace: String, metric: String },
    PutMetricAlarm { name: String, description: String, namespace: String, metric: String, topic_arn: String },
    Subscribe { topic_arn: String, subscriber: Subscriber },
}

/// Who the topic reaches now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// At least one confirmed subscription.
    Confirmed,
    /// Only subscriptions waiting for a person (their endpoints).
    Pending(Vec<String>),
    Nobody,
}

/// What `check` found: the writes and what stays after them.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmsFinding {
    pub steps: Vec<AlarmStep>,
    pub reach: Reach,
    /// What no write of logmend's can change (someone's topic that refuses CloudWatch).
    pub blocked: Vec<String>,
    /// What was wrong, for the decision after the fix.
    pub found: String,
}

/// The trail CIS means, as this region sees it.
enum CisTrail {
    Here {
        trail_arn: String,
        log_group: String,
        log_group_arn: String,
        account: String,
        partition: String,
    },
    /// Decided in the trail's home region, or by the organization's management account.
    Elsewhere {
        trail_arn: String,
        reason: String,
    },
    Missing(String),
}

impl Control for CisMetricAlarms {
    type Clients = Clients;
    type Target = AlarmScope;
    type Finding = AlarmsFinding;
    type Step = AlarmStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<AlarmScope>, EventError> {
        Ok(vec![AlarmScope { alarms: event.region.clone() }])
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<AlarmScope>, ControlError> {
        Ok(vec![AlarmScope { alarms: cx.region.to_owned() }])
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        _target: &AlarmScope,
    ) -> Result<Checked<AlarmsFinding>, ControlError> {
        // The account is the trail's (its ARN's) when the caller's is not known.
        let (log_group, log_group_arn, partition, trail_arn, account) = match cis_trail(cx).await? {
            CisTrail::Here { trail_arn, log_group, log_group_arn, partition, account } => {
                (log_group, log_group_arn, partition, trail_arn, account)
            }
            CisTrail::Elsewhere { trail_arn, reason } => {
                return Ok(Checked { resource: trail_arn, state: State::Skipped(reason) });
            }
            CisTrail::Missing(reason) => {
                let account = cx.account.unwrap_or_default();
                let resource = format!("arn:{}:logs:{}:{account}:log-group:*", partition_of(cx.region), cx.region);
                return Ok(Checked {
                    resource,
                    state: State::Noncompliant {
                        reason: format!(
                            "{reason}: the CIS metric filters need one (cloudtrail-logging and cloudtrail-cloudwatch-logs make it so; their events bring this control back)"
                        ),
                        finding: AlarmsFinding { steps: vec![], reach: Reach::Nobody, blocked: vec![], found: reason },
                    },
                });
            }
        };

        let account = account.as_str();
        let topic = read_topic(cx, account, &partition).await?;
        let Some(filters) = metric_filters(cx, &log_group).await? else {
            // The trail names a log group that is gone: cloudtrail-cloudwatch-logs recreates it
            // (its CreateLogGroup is not an event of this control), so look again later.
            let reason = format!(
                "log group {log_group} of trail {trail_arn} no longer exists; cloudtrail-cloudwatch-logs recreates it, then the filters follow"
            );
            return Ok(Checked { resource: log_group_arn, state: State::Deferred(reason) });
        };
        let alarms = metric_alarms(cx).await?;
        let mut notifying = BTreeMap::new();
        for arn in alarms.iter().flat_map(|a| a.alarm_actions()).filter(|a| a.contains(":sns:")) {
            if !notifying.contains_key(arn) {
                let reaches =
                    if *arn == topic.arn { topic.reach == Reach::Confirmed } else { reaches_someone(cx, arn).await? };
                notifying.insert(arn.clone(), reaches);
            }
        }

        let mut steps = topic.steps();
        let mut problems = topic.problems.clone();
        for f in CIS_FILTERS {
            let (namespace, metric) = match counting_filter(f, &filters) {
                Some(m) => m,
                None => {
                    let own = filters.iter().find(|x| x.filter_name() == Some(f.logmend_name().as_str()));
                    problems.push(match own {
                        Some(_) => format!("filter {} has another pattern than CIS's", f.logmend_name()),
                        None => format!("no metric filter {}", f.metric),
                    });
                    steps.push(AlarmStep::PutMetricFilter {
                        log_group: log_group.clone(),
                        name: f.logmend_name(),
                        pattern: f.pattern,
                        namespace: cx.config.alarm_namespace.clone(),
                        metric: f.metric.to_owned(),
                    });
                    (cx.config.alarm_namespace.clone(), f.metric.to_owned())
                }
            };
            if !topic.usable || alarms.iter().any(|a| alerts(a, &namespace, &metric, &topic.arn, &notifying)) {
                continue;
            }
            let desired = desired_alarm(f, &namespace, &metric, &topic.arn);
            let own = alarms.iter().find(|a| a.alarm_name() == Some(f.logmend_name().as_str()));
            problems.push(match own {
                Some(_) => format!("alarm {} is not as CIS asks (metric, threshold, actions)", f.logmend_name()),
                None => format!("no alarm on {namespace}/{metric}"),
            });
            steps.push(desired);
        }
        for s in &cx.config.alarm_subscribers {
            if topic.usable && !topic.subscribers.iter().any(|(p, e)| *p == s.protocol && *e == s.endpoint) {
                problems.push(format!("{s} is not subscribed"));
                steps.push(AlarmStep::Subscribe { topic_arn: topic.arn.clone(), subscriber: s.clone() });
            }
        }

        let resource = log_group_arn;
        let reach = topic.reach.clone();
        if steps.is_empty() && topic.blocked.is_empty() {
            match &reach {
                Reach::Confirmed => {
                    return Ok(Checked {
                        resource,
                        state: State::Compliant(format!(
                            "{} CIS filters on {log_group} (trail {trail_arn}), each alarmed to a topic with a confirmed subscriber",
                            CIS_FILTERS.len()
                        )),
                    });
                }
                Reach::Pending(endpoints) => {
                    return Ok(Checked {
                        resource,
                        state: State::Pending(format!(
                            "filters and alarms in place; the subscription of {} awaits confirmation (a person must click the link SNS sent)",
                            endpoints.join(", ")
                        )),
                    });
                }
                Reach::Nobody => problems.push(no_subscriber(&topic.arn)),
            }
        }
        if !steps.is_empty() && log_group_exempt(cx, &resource).await? {
            let reason = format!("log group {log_group} is tagged {}=true", cx.config.exempt_tag);
            return Ok(Checked { resource, state: State::Skipped(reason) });
        }
        problems.extend(topic.blocked.iter().cloned());
        let reason = format!("log group {log_group} of trail {trail_arn}: {}", problems.join("; "));
        Ok(Checked {
            resource,
            state: State::Noncompliant {
                finding: AlarmsFinding { steps, reach, blocked: topic.blocked, found: problems.join("; ") },
                reason,
            },
        })
    }

    fn plan(&self, _config: &Config, f: &AlarmsFinding) -> Vec<AlarmStep> {
        f.steps.clone()
    }

    fn describe(&self, step: &AlarmStep) -> Change {
        match step {
            AlarmStep::CreateTopic { name, .. } => {
                Change::new("sns:CreateTopic", format!("{name}, with a policy letting CloudWatch alarms publish"))
            }
            AlarmStep::SetTopicPolicy { topic_arn, .. } => Change::new(
                "sns:SetTopicAttributes",
                format!("Policy of {topic_arn}: statement {PUBLISH_SID} added, the others kept"),
            ),
            AlarmStep::PutMetricFilter { log_group, name, namespace, metric, .. } => {
                Change::new("logs:PutMetricFilter", format!("{name} on {log_group} → {namespace}/{metric}"))
            }
            AlarmStep::PutMetricAlarm { name, namespace, metric, topic_arn, .. } => Change::new(
                "cloudwatch:PutMetricAlarm",
                format!("{name}: Sum of {namespace}/{metric} ≥ 1 in {PERIOD_SECONDS} s → {topic_arn}"),
            ),
            AlarmStep::Subscribe { topic_arn, subscriber } => {
                Change::new("sns:Subscribe", format!("{subscriber} to {topic_arn}"))
            }
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        f: &AlarmsFinding,
        plan: &[AlarmStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        let mut reach = f.reach.clone();
        for step in plan {
            apply_step(cx, step).await.map_err(|error| ApplyError { done: done.clone(), error: error.into() })?;
            if let AlarmStep::Subscribe { subscriber, .. } = step {
                reach = match (reach, confirmed_at_once(&subscriber.protocol)) {
                    (Reach::Confirmed, _) | (_, true) => Reach::Confirmed,
                    (Reach::Pending(mut list), false) => {
                        list.push(subscriber.endpoint.clone());
                        Reach::Pending(list)
                    }
                    (Reach::Nobody, false) => Reach::Pending(vec![subscriber.endpoint.clone()]),
                };
            }
            done.push(self.describe(step));
        }
        if !f.blocked.is_empty() {
            return Ok(Applied::Partly(format!("filters and alarms written; {}", f.blocked.join("; "))));
        }
        Ok(match reach {
            Reach::Confirmed => Applied::Fixed(format!(
                "fixed ({}): {} CIS filters with their alarms; the topic reaches a confirmed subscriber",
                f.found,
                CIS_FILTERS.len()
            )),
            Reach::Pending(endpoints) => Applied::Pending(format!(
                "filters and alarms written; the subscription of {} awaits confirmation",
                endpoints.join(", ")
            )),
            Reach::Nobody => {
                let topic = plan.iter().find_map(|s| match s {
                    AlarmStep::PutMetricAlarm { topic_arn, .. } => Some(topic_arn.as_str()),
                    _ => None,
                });
                Applied::Partly(format!("filters and alarms written; {}", no_subscriber(topic.unwrap_or(TOPIC_NAME))))
            }
        })
    }
}

fn no_subscriber(topic: &str) -> String {
    format!(
        "topic {topic} has no confirmed subscriber and none is configured: set LOGMEND_ALARM_EMAIL or LOGMEND_ALARM_SUBSCRIPTION (or LOGMEND_ALARM_TOPIC_ARN to a topic someone reads)"
    )
}

/// SQS, Lambda, SMS and application endpoints are confirmed when subscribed; email and
/// http(s) wait for their endpoint (SNS Developer Guide, "Subscribing to an Amazon SNS topic").
fn confirmed_at_once(protocol: &str) -> bool {
    !matches!(protocol, "email" | "email-json" | "http" | "https")
}

/// The multi-region, logging, all-management-events trail with a log group, of this account,
/// whose home region is this one; else why this region does not decide.
async fn cis_trail(cx: &Context<'_, Clients>) -> Result<CisTrail, ControlError> {
    let out = cx
        .clients
        .cloudtrail
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudtrail:DescribeTrails", cx.region, e))?;
    let mut trails: Vec<_> = out
        .trail_list()
        .iter()
        .filter(|t| t.is_multi_region_trail() == Some(true))
        .filter_map(|t| Some((t.trail_arn()?.to_owned(), non_empty(t.cloud_watch_logs_log_group_arn())?.to_owned(), t)))
        .collect();
    trails.sort_by(|a, b| a.0.cmp(&b.0));
    let mut elsewhere = None;
    let mut unfit = Vec::new();
    for (trail_arn, group_arn, trail) in &trails {
        let Some(parsed) = parse_trail_arn(trail_arn) else { continue };
        let home = non_empty(trail.home_region()).unwrap_or(parsed.region);
        if cx.account.is_some_and(|own| own != parsed.account) {
            elsewhere.get_or_insert_with(|| CisTrail::Elsewhere {
                trail_arn: trail_arn.clone(),
                reason: format!(
                    "organization trail of account {}: its log group, and the alarms on it, are that account's",
                    parsed.account
                ),
            });
            continue;
        }
        if home != cx.region {
            elsewhere.get_or_insert_with(|| CisTrail::Elsewhere {
                trail_arn: trail_arn.clone(),
                reason: format!("trail {trail_arn} delivers to a log group of {home}; that region decides its alarms"),
            });
            continue;
        }
        let status = cx
            .clients
            .cloudtrail
            .get_trail_status()
            .name(trail_arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudtrail:GetTrailStatus", trail_arn, e))?;
        let selectors = cx
            .clients
            .cloudtrail
            .get_event_selectors()
            .trail_name(trail_arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudtrail:GetEventSelectors", trail_arn, e))?;
        let logging = status.is_logging() == Some(true);
        let all = logs_all_management(&Selectors::of(&selectors));
        if logging && all {
            let log_group_arn = group_arn.trim_end_matches(":*").to_owned();
            let Some(log_group) = log_group_arn.split_once(":log-group:").map(|(_, n)| n.to_owned()) else { continue };
            return Ok(CisTrail::Here {
                trail_arn: trail_arn.clone(),
                log_group,
                log_group_arn,
                partition: parsed.partition.to_owned(),
                account: parsed.account.to_owned(),
            });
        }
        unfit.push(format!(
            "trail {trail_arn} {}",
            if logging { "does not log all management events" } else { "is not logging" }
        ));
    }
    if let Some(e) = elsewhere {
        return Ok(e);
    }
    Ok(CisTrail::Missing(if unfit.is_empty() {
        "no multi-region trail delivers to CloudWatch Logs".to_owned()
    } else {
        unfit.join("; ")
    }))
}

/// The filter of this log group that counts for `f` (its exact pattern), as its metric's
/// namespace and name; logmend's own name first, then anyone's.
fn counting_filter(f: &CisFilter, filters: &[MetricFilter]) -> Option<(String, String)> {
    let name = f.logmend_name();
    let mut exact: Vec<&MetricFilter> =
        filters.iter().filter(|x| x.filter_pattern().is_some_and(|p| f.is_pattern(p))).collect();
    exact.sort_by_key(|x| x.filter_name() != Some(name.as_str()));
    exact.iter().find_map(|x| {
        let t = x.metric_transformations().first()?;
        Some((t.metric_namespace().to_owned(), t.metric_name().to_owned()))
    })
}

/// Whether an alarm someone made would fire on a single counted event.
fn fires_on_one_event(a: &MetricAlarm) -> bool {
    let threshold = a.threshold().unwrap_or(f64::MAX);
    let one_datapoint = a.evaluation_periods() == Some(1) || a.datapoints_to_alarm() == Some(1);
    let on_one = match a.comparison_operator() {
        Some(ComparisonOperator::GreaterThanOrEqualToThreshold) => threshold <= 1.0,
        Some(ComparisonOperator::GreaterThanThreshold) => threshold < 1.0,
        _ => false,
    };
    let counts = matches!(a.statistic(), Some(Statistic::Sum | Statistic::SampleCount | Statistic::Maximum));
    on_one && one_datapoint && counts && a.dimensions().is_empty()
}

fn desired_alarm(f: &CisFilter, namespace: &str, metric: &str, topic_arn: &str) -> AlarmStep {
    let control = if f.security_hub.is_empty() { String::new() } else { format!("Security Hub {}, ", f.security_hub) };
    AlarmStep::PutMetricAlarm {
        name: f.logmend_name(),
        description: format!("logmend: {} ({control}CIS {}), from CloudTrail", f.metric, f.cis),
        namespace: namespace.to_owned(),
        metric: metric.to_owned(),
        topic_arn: topic_arn.to_owned(),
    }
}

/// Whether an alarm tells someone about `namespace/metric`: it fires on one event, its actions
/// are on, and it notifies the alarm topic or another topic with a confirmed subscriber
/// (`notifying`). logmend's own alarm that someone edited falls short here and is written back.
fn alerts(a: &MetricAlarm, namespace: &str, metric: &str, topic_arn: &str, notifying: &BTreeMap<String, bool>) -> bool {
    a.namespace() == Some(namespace)
        && a.metric_name() == Some(metric)
        && fires_on_one_event(a)
        && a.actions_enabled() != Some(false)
        && a.alarm_actions().iter().any(|t| notifying.get(t) == Some(&true) || t == topic_arn)
}

/// The log group's filters; `None`: the log group does not exist.
async fn metric_filters(cx: &Context<'_, Clients>, log_group: &str) -> Result<Option<Vec<MetricFilter>>, ControlError> {
    let mut pages = cx.clients.logs.describe_metric_filters().log_group_name(log_group).into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => out.extend(p.metric_filters().iter().cloned()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => return Ok(None),
            Err(e) => return Err(AwsError::from_sdk("logs:DescribeMetricFilters", log_group, e).into()),
        }
    }
    Ok(Some(out))
}

async fn metric_alarms(cx: &Context<'_, Clients>) -> Result<Vec<MetricAlarm>, ControlError> {
    let mut pages = cx.clients.cloudwatch.describe_alarms().max_records(100).into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("cloudwatch:DescribeAlarms", cx.region, e))?;
        out.extend(page.metric_alarms().iter().cloned());
    }
    Ok(out)
}

/// Whether a topic someone's alarm notifies has a confirmed subscriber. Topics of another
/// region, or gone, reach no one from here.
async fn reaches_someone(cx: &Context<'_, Clients>, topic_arn: &str) -> Result<bool, ControlError> {
    if topic_arn.split(':').nth(3) != Some(cx.region) {
        return Ok(false);
    }
    match cx.clients.sns.get_topic_attributes().topic_arn(topic_arn).send().await {
        Ok(out) => Ok(out
            .attributes()
            .and_then(|a| a.get("SubscriptionsConfirmed"))
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|n| n > 0)),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => Ok(false),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_authorization_error_exception()) => Ok(false),
        Err(e) => Err(AwsError::from_sdk("sns:GetTopicAttributes", topic_arn, e).into()),
    }
}

async fn log_group_exempt(cx: &Context<'_, Clients>, arn: &str) -> Result<bool, ControlError> {
    let out = cx
        .clients
        .logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("logs:ListTagsForResource", arn, e))?;
    Ok(is_exempt(cx.config, out.tags().into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str()))))
}

/// The topic the alarms notify, as read.
struct TopicState {
    arn: String,
    /// logmend's own topic (made and fixed by logmend) or someone's (`LOGMEND_ALARM_TOPIC_ARN`).
    ours: bool,
    exists: bool,
    /// An alarm may name it: it exists or logmend makes it.
    usable: bool,
    /// The policy to write, when it does not let CloudWatch publish (own topic only).
    policy: Option<Value>,
    subscribers: Vec<(String, String)>,
    reach: Reach,
    /// Problems logmend fixes (for the reason).
    problems: Vec<String>,
    /// Problems logmend may not fix.
    blocked: Vec<String>,
}

impl TopicState {
    fn steps(&self) -> Vec<AlarmStep> {
        match (&self.policy, self.exists) {
            (Some(policy), false) if self.ours => {
                vec![AlarmStep::CreateTopic { name: TOPIC_NAME.to_owned(), policy: policy.to_string() }]
            }
            (Some(policy), true) if self.ours => {
                vec![AlarmStep::SetTopicPolicy { topic_arn: self.arn.clone(), policy: policy.to_string() }]
            }
            _ => vec![],
        }
    }
}

/// The statement that lets this account's alarms publish (CloudWatch User Guide, "Using Amazon
/// CloudWatch alarms", SNS topic policy for CloudWatch; `aws:SourceArn`/`aws:SourceAccount`
/// keep other accounts' alarms out).
fn publish_statement(topic_arn: &str, partition: &str, region: &str, account: &str) -> Value {
    json!({
        "Sid": PUBLISH_SID,
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {
            "ArnLike": {"aws:SourceArn": format!("arn:{partition}:cloudwatch:{region}:{account}:alarm:*")},
            "StringEquals": {"aws:SourceAccount": account},
        },
    })
}

/// The policy SNS gives a new topic (its owner account may manage it), with logmend's
/// statement; written with CreateTopic, so the topic never exists without it.
fn new_topic_policy(topic_arn: &str, partition: &str, region: &str, account: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Id": TOPIC_NAME,
        "Statement": [
            {
                "Sid": "TopicOwner",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
                "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
                "Resource": topic_arn,
            },
            publish_statement(topic_arn, partition, region, account),
        ],
    })
}

/// Whether the topic's policy lets one of this account's alarms publish.
fn lets_cloudwatch_publish(policy: &Value, topic_arn: &str, partition: &str, region: &str, account: &str) -> bool {
    let alarm = format!("arn:{partition}:cloudwatch:{region}:{account}:alarm:logmend-cis-RootAccountUsage");
    let context = [("aws:SourceArn", alarm.as_str()), ("aws:SourceAccount", account), ("AWS:SourceOwner", account)];
    allows(
        policy,
        &Request {
            principal: Principal::Service("cloudwatch.amazonaws.com"),
            action: "sns:Publish",
            resource: topic_arn,
            context: &context,
        },
    )
}

async fn read_topic(cx: &Context<'_, Clients>, account: &str, partition: &str) -> Result<TopicState, ControlError> {
    let (arn, ours) = match &cx.config.alarm_topic_arn {
        Some(arn) => (arn.clone(), false),
        None => (format!("arn:{partition}:sns:{}:{account}:{TOPIC_NAME}", cx.region), true),
    };
    let mut state = TopicState {
        arn: arn.clone(),
        ours,
        exists: false,
        usable: ours,
        policy: None,
        subscribers: vec![],
        reach: Reach::Nobody,
        problems: vec![],
        blocked: vec![],
    };
    if arn.split(':').nth(3) != Some(cx.region) {
        state.usable = false;
        state.blocked.push(format!(
            "LOGMEND_ALARM_TOPIC_ARN {arn} is in another region; CloudWatch alarms notify topics of their own region"
        ));
        return Ok(state);
    }
    let attributes = match cx.clients.sns.get_topic_attributes().topic_arn(&arn).send().await {
        Ok(out) => out.attributes().cloned().unwrap_or_default(),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => {
            if ours {
                state.problems.push(format!("no topic {TOPIC_NAME}"));
                state.policy = Some(new_topic_policy(&arn, partition, cx.region, account));
            } else {
                state.usable = false;
                state.blocked.push(format!("topic {arn} (LOGMEND_ALARM_TOPIC_ARN) does not exist"));
            }
            return Ok(state);
        }
        Err(e) => return Err(AwsError::from_sdk("sns:GetTopicAttributes", arn.as_str(), e).into()),
    };
    state.exists = true;
    state.usable = true;
    let policy: Value = attributes.get("Policy").and_then(|p| serde_json::from_str(p).ok()).unwrap_or(Value::Null);
    if !lets_cloudwatch_publish(&policy, &arn, partition, cx.region, account) {
        if ours {
            state.problems.push(format!("topic {arn} does not let CloudWatch alarms publish"));
            state.policy = Some(with_statement(&policy, publish_statement(&arn, partition, cx.region, account)));
        } else {
            state.blocked.push(format!(
                "topic {arn}'s policy does not let cloudwatch.amazonaws.com publish; add statement {}",
                publish_statement(&arn, partition, cx.region, account)
            ));
        }
    }
    if let Some(key) = attributes.get("KmsMasterKeyId").map(String::as_str).filter(|k| k.ends_with("alias/aws/sns")) {
        state.blocked.push(format!(
            "topic {arn} is encrypted with {key}, the AWS managed key, which CloudWatch alarms cannot use: encrypt it with a customer managed key whose policy lets cloudwatch.amazonaws.com call kms:Decrypt and kms:GenerateDataKey*"
        ));
    }
    let mut pages = cx.clients.sns.list_subscriptions_by_topic().topic_arn(&arn).into_paginator().send();
    let (mut confirmed, mut pending) = (false, Vec::new());
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("sns:ListSubscriptionsByTopic", arn.as_str(), e))?;
        for s in page.subscriptions() {
            let (protocol, endpoint) = (s.protocol().unwrap_or_default(), s.endpoint().unwrap_or_default());
            state.subscribers.push((protocol.to_owned(), endpoint.to_owned()));
            // A pending subscription is listed with the ARN "PendingConfirmation" (SNS API
            // Reference, ListSubscriptionsByTopic); a deleted one as "Deleted".
            match s.subscription_arn().unwrap_or_default() {
                a if a.starts_with("arn:") => confirmed = true,
                "PendingConfirmation" => pending.push(endpoint.to_owned()),
                _ => {}
            }
        }
    }
    state.reach = if confirmed {
        Reach::Confirmed
    } else if !pending.is_empty() {
        Reach::Pending(pending)
    } else {
        Reach::Nobody
    };
    Ok(state)
}

async fn apply_step(cx: &Context<'_, Clients>, step: &AlarmStep) -> Result<(), AwsError> {
    match step {
        AlarmStep::CreateTopic { name, policy } => {
            cx.clients
                .sns
                .create_topic()
                .name(name)
                .attributes("Policy", policy)
                .tags(
                    aws_sdk_sns::types::Tag::builder()
                        .key(MANAGED_BY_TAG.0)
                        .value(MANAGED_BY_TAG.1)
                        .build()
                        .expect("key and value are set"),
                )
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("sns:CreateTopic", name.as_str(), e))?;
        }
        AlarmStep::SetTopicPolicy { topic_arn, policy } => {
            cx.clients
                .sns
                .set_topic_attributes()
                .topic_arn(topic_arn)
                .attribute_name("Policy")
                .attribute_value(policy)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("sns:SetTopicAttributes", topic_arn.as_str(), e))?;
        }
        AlarmStep::PutMetricFilter { log_group, name, pattern, namespace, metric } => {
            let transformation = MetricTransformation::builder()
                .metric_name(metric)
                .metric_namespace(namespace)
                .metric_value("1")
                .build()
                .expect("name, namespace and value are set");
            cx.clients
                .logs
                .put_metric_filter()
                .log_group_name(log_group)
                .filter_name(name)
                .filter_pattern(*pattern)
                .metric_transformations(transformation)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("logs:PutMetricFilter", log_group.as_str(), e))?;
        }
        AlarmStep::PutMetricAlarm { name, description, namespace, metric, topic_arn } => {
            cx.clients
                .cloudwatch
                .put_metric_alarm()
                .alarm_name(name)
                .alarm_description(description)
                .namespace(namespace)
                .metric_name(metric)
                .statistic(Statistic::Sum)
                .period(PERIOD_SECONDS)
                .evaluation_periods(1)
                .threshold(1.0)
                .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
                .treat_missing_data("notBreaching")
                .actions_enabled(true)
                .alarm_actions(topic_arn)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("cloudwatch:PutMetricAlarm", name.as_str(), e))?;
        }
        AlarmStep::Subscribe { topic_arn, subscriber } => {
            cx.clients
                .sns
                .subscribe()
                .topic_arn(topic_arn)
                .protocol(&subscriber.protocol)
                .endpoint(&subscriber.endpoint)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("sns:Subscribe", topic_arn.as_str(), e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::types::Dimension;

    fn cis_alarm() -> aws_sdk_cloudwatch::types::builders::MetricAlarmBuilder {
        MetricAlarm::builder()
            .alarm_name("someone-root")
            .namespace("CISBenchmark")
            .metric_name("RootAccountUsage")
            .statistic(Statistic::Sum)
            .period(300)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
            .actions_enabled(true)
            .alarm_actions("arn:aws:sns:eu-west-1:123456789012:sec")
    }

    #[test]
    fn an_alarm_counts_only_if_one_event_fires_it() {
        assert!(fires_on_one_event(&cis_alarm().build()));
        assert!(fires_on_one_event(
            &cis_alarm().comparison_operator(ComparisonOperator::GreaterThanThreshold).threshold(0.0).build()
        ));
        assert!(!fires_on_one_event(&cis_alarm().threshold(10.0).build()), "ten root logins before anyone hears");
        assert!(!fires_on_one_event(&cis_alarm().evaluation_periods(3).build()));
        assert!(fires_on_one_event(&cis_alarm().evaluation_periods(3).datapoints_to_alarm(1).build()));
        assert!(!fires_on_one_event(&cis_alarm().statistic(Statistic::Average).build()));
        assert!(!fires_on_one_event(&cis_alarm().comparison_operator(ComparisonOperator::LessThanThreshold).build()));
        let dim = Dimension::builder().name("x").value("y").build();
        assert!(!fires_on_one_event(&cis_alarm().dimensions(dim).build()), "a filter's metric has no dimension");
    }

    #[test]
    fn logmends_own_alarm_is_rewritten_when_edited() {
        let f = &CIS_FILTERS[0];
        let topic = "arn:aws:sns:eu-west-1:123456789012:logmend-security-alarms";
        let other = "arn:aws:sns:eu-west-1:123456789012:other";
        let own = || {
            MetricAlarm::builder()
                .alarm_name(f.logmend_name())
                .namespace("LogMetrics")
                .metric_name(f.metric)
                .statistic(Statistic::Sum)
                .period(300)
                .evaluation_periods(1)
                .threshold(1.0)
                .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
                .treat_missing_data("notBreaching")
                .actions_enabled(true)
        };
        let none = BTreeMap::new();
        let counts =
            |a: &MetricAlarm, notifying: &BTreeMap<String, bool>| alerts(a, "LogMetrics", f.metric, topic, notifying);
        assert!(counts(&own().alarm_actions(topic).build(), &none));
        assert!(!counts(&own().alarm_actions(topic).actions_enabled(false).build(), &none));
        assert!(!counts(&own().alarm_actions(topic).threshold(5.0).build(), &none));
        assert!(!counts(&own().alarm_actions(other).build(), &none), "a topic no one reads");
        assert!(counts(&own().alarm_actions(other).build(), &BTreeMap::from([(other.to_owned(), true)])));
        assert!(!alerts(&own().alarm_actions(topic).build(), "LogMetrics", "Other", topic, &none), "another metric");
    }

    #[test]
    fn the_counting_filter_is_the_exact_one_logmends_first() {
        let f = CIS_FILTERS.iter().find(|f| f.metric == "CloudTrailChanges").unwrap();
        let filter = |name: &str, pattern: &str, metric: &str| {
            MetricFilter::builder()
                .filter_name(name)
                .filter_pattern(pattern)
                .metric_transformations(
                    MetricTransformation::builder()
                        .metric_name(metric)
                        .metric_namespace("CISBenchmark")
                        .metric_value("1")
                        .build()
                        .unwrap(),
                )
                .build()
        };
        let spaced = f.pattern.replace("||", " || ");
        let theirs = filter("cis-3.5", &spaced, "TrailChanges");
        let extra = filter("wider", &f.pattern.replace("}", " || ($.eventName=PutEventSelectors)}"), "Wider");
        assert_eq!(counting_filter(f, std::slice::from_ref(&extra)), None, "an extra term does not count");
        assert_eq!(
            counting_filter(f, &[extra.clone(), theirs.clone()]),
            Some(("CISBenchmark".into(), "TrailChanges".into()))
        );
        let ours = filter(&f.logmend_name(), f.pattern, "CloudTrailChanges");
        assert_eq!(counting_filter(f, &[theirs, ours]).unwrap().1, "CloudTrailChanges");
    }

    #[test]
    fn the_topic_policy_is_read_as_iam_would() {
        let arn = "arn:aws:sns:eu-west-1:123456789012:logmend-security-alarms";
        let (p, r, a) = ("aws", "eu-west-1", "123456789012");
        assert!(lets_cloudwatch_publish(&new_topic_policy(arn, p, r, a), arn, p, r, a));
        // SNS's default policy: the owner account's principals, by AWS:SourceOwner.
        let default = json!({"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": ["SNS:Publish", "SNS:Subscribe"], "Resource": arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": a}}}]});
        assert!(lets_cloudwatch_publish(&default, arn, p, r, a));
        let closed = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "SNS:Publish", "Resource": arn}]});
        assert!(!lets_cloudwatch_publish(&closed, arn, p, r, a));
        let merged = with_statement(&closed, publish_statement(arn, p, r, a));
        assert!(lets_cloudwatch_publish(&merged, arn, p, r, a));
        assert_eq!(merged["Statement"].as_array().unwrap().len(), 2, "the owner's statement is kept");
    }

    #[test]
    fn every_step_is_a_declared_write() {
        let steps = [
            AlarmStep::CreateTopic { name: TOPIC_NAME.into(), policy: "{}".into() },
            AlarmStep::SetTopicPolicy { topic_arn: "t".into(), policy: "{}".into() },
            AlarmStep::PutMetricFilter {
                log_group: "g".into(),
                name: "n".into(),
                pattern: CIS_FILTERS[0].pattern,
                namespace: "LogMetrics".into(),
                metric: "m".into(),
            },
            desired_alarm(&CIS_FILTERS[0], "LogMetrics", "m", "t"),
            AlarmStep::Subscribe {
                topic_arn: "t".into(),
                subscriber: Subscriber { protocol: "email".into(), endpoint: "a@example.com".into() },
            },
        ];
        for s in &steps {
            let api = CisMetricAlarms.describe(s).api;
            assert!(SPEC.writes.iter().any(|p| p.action == api), "{api}");
        }
        assert!(confirmed_at_once("sqs") && !confirmed_at_once("email") && !confirmed_at_once("https"));
    }
}
