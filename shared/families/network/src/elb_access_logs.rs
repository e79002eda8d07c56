//! `elb-access-logs` (Security Hub ELB.5): Application and Classic Load Balancers write access
//! logs, Application Load Balancers connection logs too, and Network Load Balancers with a TLS
//! listener access logs (NLBs log TLS requests only: ELB User Guide, "Access logs for your
//! Network Load Balancer").
//!
//! `access_logs.s3.enabled` absent means off (moto omits it; AWS returns `false`). ELB checks
//! the bucket's policy when the attribute is set, so a bucket someone else named there is
//! accepted; logmend's own bucket is inspected, and its policy repaired, like any destination.
//! Logs go to logmend's log bucket under the `elb` prefix (a prefix may not contain `AWSLogs`);
//! when that bucket is SSE-KMS, to an SSE-S3 bucket of their own, the only encryption ELB
//! writes to.

use crate::Clients;
use crate::store::{Destination, ELB_PREFIX, Gap, STORE_READS, STORE_WRITES, Store, StoreKind, StoreStep};
use aws_sdk_elasticloadbalancingv2::types::{LoadBalancerAttribute, LoadBalancerTypeEnum, ProtocolEnum};
use logmend_core::aws::AwsError;
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, State, Trigger, is_exempt,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};
use serde::{Deserialize, Serialize};

pub static SPEC: ControlSpec = ControlSpec {
    id: "elb-access-logs",
    security_hub: &["ELB.5"],
    severity: logmend_core::control::Severity::Medium,
    resource_type: "AWS::ElasticLoadBalancingV2::LoadBalancer",
    triggers: &[Trigger {
        event_source: "elasticloadbalancing.amazonaws.com",
        event_names: &["CreateLoadBalancer", "ModifyLoadBalancerAttributes"],
    }],
    compliant_when: "ALB: access_logs.s3.enabled and connection_logs.s3.enabled with a bucket; Classic: AccessLog.Enabled with a bucket; NLB with a TLS listener: access_logs.s3.enabled; Gateway LBs and NLBs without TLS listeners have no such logs (skipped)",
    fix: "makes logmend's log bucket ready (SSE-S3; the regional ELB account or logdelivery.elasticloadbalancing.amazonaws.com, and delivery.logs.amazonaws.com for NLBs, may write under elb/); ModifyLoadBalancerAttributes to it with prefix elb",
    reads: &[
        Permission::any("elasticloadbalancing:DescribeLoadBalancers"),
        Permission::any("elasticloadbalancing:DescribeLoadBalancerAttributes"),
        Permission::any("elasticloadbalancing:DescribeListeners"),
        Permission::any("elasticloadbalancing:DescribeTags"),
        STORE_READS[0],
        STORE_READS[1],
    ],
    writes: &[
        Permission::any("elasticloadbalancing:ModifyLoadBalancerAttributes"),
        STORE_WRITES[0],
        STORE_WRITES[1],
        STORE_WRITES[2],
        STORE_WRITES[3],
        STORE_WRITES[4],
        STORE_WRITES[5],
        STORE_WRITES[6],
    ],
};

pub struct ElbAccessLogs;

/// A load balancer of either API. One event source serves both: v2 names its load balancers by
/// ARN (`loadBalancerArn`), Classic by name (`loadBalancerName`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadBalancer {
    V2(String),
    Classic(String),
}

impl std::fmt::Display for LoadBalancer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadBalancer::V2(arn) => f.write_str(arn),
            LoadBalancer::Classic(name) => write!(f, "classic load balancer {name}"),
        }
    }
}

/// What logs a load balancer lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Application,
    Network,
    Classic,
}

#[derive(Debug)]
pub struct ElbFinding {
    pub target: LoadBalancer,
    pub kind: Kind,
    pub store: Store,
    pub store_gap: Option<Gap>,
    pub access_off: bool,
    pub connection_off: bool,
}

#[derive(Debug)]
pub enum ElbStep {
    Destination(StoreStep),
    EnableV2 { arn: String, bucket: String, access: bool, connection: bool },
    EnableClassic { name: String, bucket: String },
}

/// The attribute map's reading of one log kind (`access_logs` / `connection_logs`): on with
/// its bucket, or off. Absent means off. Pure, for unit tests.
pub fn logs_on<'a>(attrs: &'a [LoadBalancerAttribute], kind: &str) -> Option<&'a str> {
    let get = |key: String| attrs.iter().find(|a| a.key() == Some(key.as_str())).and_then(|a| a.value());
    let enabled = get(format!("{kind}.s3.enabled")).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    get(format!("{kind}.s3.bucket")).filter(|b| enabled && !b.is_empty())
}

impl ElbAccessLogs {
    async fn check_v2(&self, cx: &Context<'_, Clients>, arn: &str) -> Result<Checked<ElbFinding>, ControlError> {
        let skipped = |reason: String| Ok(Checked { resource: arn.to_owned(), state: State::Skipped(reason) });
        let described = cx.clients.elbv2.describe_load_balancers().load_balancer_arns(arn).send().await;
        let lb = match described {
            Ok(out) => out.load_balancers().first().cloned(),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_load_balancer_not_found_exception()) => None,
            Err(e) => return Err(AwsError::from_sdk("elasticloadbalancing:DescribeLoadBalancers", arn, e).into()),
        };
        let Some(lb) = lb else { return skipped("the load balancer no longer exists".into()) };
        let kind = match lb.r#type() {
            Some(LoadBalancerTypeEnum::Application) => Kind::Application,
            Some(LoadBalancerTypeEnum::Network) => Kind::Network,
            other => {
                let t = other.map_or("(none)", |t| t.as_str());
                return skipped(format!("a {t} load balancer writes no access logs"));
            }
        };
        if kind == Kind::Network {
            let listeners = cx
                .clients
                .elbv2
                .describe_listeners()
                .load_balancer_arn(arn)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("elasticloadbalancing:DescribeListeners", arn, e))?;
            if !listeners.listeners().iter().any(|l| l.protocol() == Some(&ProtocolEnum::Tls)) {
                return skipped(
                    "a Network Load Balancer logs TLS requests only, and this one has no TLS listener".into(),
                );
            }
        }
        let tags = cx
            .clients
            .elbv2
            .describe_tags()
            .resource_arns(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elasticloadbalancing:DescribeTags", arn, e))?;
        let tags = tags.tag_descriptions().iter().flat_map(|d| d.tags()).filter_map(|t| Some((t.key()?, t.value()?)));
        if is_exempt(cx.config, tags) {
            return skipped(format!("tagged {}=true", cx.config.exempt_tag));
        }
        let attrs = cx
            .clients
            .elbv2
            .describe_load_balancer_attributes()
            .load_balancer_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elasticloadbalancing:DescribeLoadBalancerAttributes", arn, e))?;
        let attrs = attrs.attributes();
        let access = logs_on(attrs, "access_logs");
        let connection = if kind == Kind::Application { logs_on(attrs, "connection_logs") } else { Some("") };
        let account = logmend_core::control::account_of(arn).or(cx.account.map(str::to_owned)).unwrap_or_default();
        self.decide(cx, LoadBalancer::V2(arn.to_owned()), arn.to_owned(), kind, &account, [access, connection]).await
    }

    async fn check_classic(&self, cx: &Context<'_, Clients>, name: &str) -> Result<Checked<ElbFinding>, ControlError> {
        let elb = &cx.clients.elb;
        let account = cx.account.unwrap_or_default().to_owned();
        let resource = format!(
            "arn:{}:elasticloadbalancing:{}:{account}:loadbalancer/{name}",
            crate::store::partition_of(cx.region),
            cx.region
        );
        let skipped = |reason: String| Ok(Checked { resource: resource.clone(), state: State::Skipped(reason) });
        let attrs = match elb.describe_load_balancer_attributes().load_balancer_name(name).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_access_point_not_found_exception()) => {
                return skipped("the load balancer no longer exists".into());
            }
            Err(e) => {
                return Err(AwsError::from_sdk("elasticloadbalancing:DescribeLoadBalancerAttributes", name, e).into());
            }
        };
        let tags = elb
            .describe_tags()
            .load_balancer_names(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elasticloadbalancing:DescribeTags", name, e))?;
        let tags = tags.tag_descriptions().iter().flat_map(|d| d.tags()).map(|t| (t.key(), t.value().unwrap_or("")));
        if is_exempt(cx.config, tags) {
            return skipped(format!("tagged {}=true", cx.config.exempt_tag));
        }
        let log = attrs.load_balancer_attributes().and_then(|a| a.access_log());
        let access = log.filter(|l| l.enabled()).and_then(|l| l.s3_bucket_name()).filter(|b| !b.is_empty());
        let target = LoadBalancer::Classic(name.to_owned());
        self.decide(cx, target, resource.clone(), Kind::Classic, &account, [access, Some("")]).await
    }

    /// `buckets`: where access and connection logs go (`None`: off; `Some("")`: not applicable).
    async fn decide(
        &self,
        cx: &Context<'_, Clients>,
        target: LoadBalancer,
        resource: String,
        kind: Kind,
        account: &str,
        buckets: [Option<&str>; 2],
    ) -> Result<Checked<ElbFinding>, ControlError> {
        let store = Store::new(StoreKind::Elb, cx.config, cx.region, account);
        let [access, connection] = buckets;
        // logmend's own bucket is checked like any destination it owns; another bucket ELB
        // accepted when the attribute was set.
        let ours = buckets.contains(&Some(store.bucket.as_str()));
        let off = access.is_none() || connection.is_none();
        let store_gap = if ours || off { Destination::Bucket(store.clone()).inspect(cx).await? } else { None };
        if !off && store_gap.is_none() {
            let reason = match (kind, access) {
                (Kind::Application, Some(b)) => format!("access and connection logs to {b}"),
                (_, Some(b)) => format!("access logs to {b}"),
                (_, None) => unreachable!("off is false"),
            };
            return Ok(Checked { resource, state: State::Compliant(reason) });
        }
        let mut problems = Vec::new();
        if access.is_none() {
            problems.push("access logs are off".to_owned());
        }
        if connection.is_none() {
            problems.push("connection logs are off".to_owned());
        }
        if let Some(gap) = &store_gap {
            problems.push(format!("{} is not ready for ELB's writes ({})", store.bucket, gap_kind(gap)));
        }
        Ok(Checked {
            resource,
            state: State::Noncompliant {
                reason: problems.join("; "),
                finding: ElbFinding {
                    target,
                    kind,
                    store,
                    store_gap,
                    access_off: access.is_none(),
                    connection_off: connection.is_none(),
                },
            },
        })
    }
}

fn gap_kind(gap: &Gap) -> &'static str {
    match gap {
        Gap::Bucket(crate::store::StoreGap::Missing(_)) => "missing",
        Gap::Bucket(crate::store::StoreGap::Policy(_)) => "its policy lacks logmend's statements",
        Gap::Logs(_) => "log group",
    }
}

impl Control for ElbAccessLogs {
    type Clients = Clients;
    type Target = LoadBalancer;
    type Finding = ElbFinding;
    type Step = ElbStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<LoadBalancer>, EventError> {
        if let Some(arn) = event
            .response_str_at(&["loadBalancers", "loadBalancerArn"])
            .or_else(|| event.request_parameters.str("loadBalancerArn"))
        {
            return Ok(vec![LoadBalancer::V2(arn.to_owned())]);
        }
        event.request_parameters.str("loadBalancerName").map(|n| vec![LoadBalancer::Classic(n.to_owned())]).ok_or(
            EventError::MissingField {
                field: "detail.requestParameters.loadBalancerArn (v2) or loadBalancerName (Classic)",
            },
        )
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<LoadBalancer>, ControlError> {
        let mut out = Vec::new();
        let mut pages = cx.clients.elbv2.describe_load_balancers().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("elasticloadbalancing:DescribeLoadBalancers", cx.region, e))?;
            out.extend(
                page.load_balancers()
                    .iter()
                    .filter_map(|l| l.load_balancer_arn().map(|a| LoadBalancer::V2(a.to_owned()))),
            );
        }
        let mut pages = cx.clients.elb.describe_load_balancers().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("elasticloadbalancing:DescribeLoadBalancers", cx.region, e))?;
            out.extend(
                page.load_balancer_descriptions()
                    .iter()
                    .filter_map(|l| l.load_balancer_name().map(|n| LoadBalancer::Classic(n.to_owned()))),
            );
        }
        Ok(out)
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        target: &LoadBalancer,
    ) -> Result<Checked<ElbFinding>, ControlError> {
        match target {
            LoadBalancer::V2(arn) => self.check_v2(cx, arn).await,
            LoadBalancer::Classic(name) => self.check_classic(cx, name).await,
        }
    }

    fn plan(&self, _config: &Config, f: &ElbFinding) -> Vec<ElbStep> {
        let mut steps: Vec<ElbStep> = f.store_gap.iter().flat_map(Gap::steps).map(ElbStep::Destination).collect();
        if f.access_off || f.connection_off {
            let bucket = f.store.bucket.clone();
            steps.push(match &f.target {
                LoadBalancer::V2(arn) => {
                    ElbStep::EnableV2 { arn: arn.clone(), bucket, access: f.access_off, connection: f.connection_off }
                }
                LoadBalancer::Classic(name) => ElbStep::EnableClassic { name: name.clone(), bucket },
            });
        }
        steps
    }

    fn describe(&self, step: &ElbStep) -> Change {
        match step {
            ElbStep::Destination(s) => s.describe(),
            ElbStep::EnableV2 { arn, bucket, access, connection } => {
                let which: Vec<&str> = [(*access, "access_logs"), (*connection, "connection_logs")]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, k)| *k)
                    .collect();
                Change::new(
                    "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    format!("{arn}: {}.s3.enabled=true to s3://{bucket}/{ELB_PREFIX}/", which.join(" and ")),
                )
            }
            ElbStep::EnableClassic { name, bucket } => Change::new(
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                format!("{name}: AccessLog.Enabled=true to s3://{bucket}/{ELB_PREFIX}/ every 60 minutes"),
            ),
        }
    }

    async fn apply(&self, cx: &Context<'_, Clients>, _f: &ElbFinding, plan: &[ElbStep]) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            let result = match step {
                ElbStep::Destination(s) => s.apply(cx).await,
                ElbStep::EnableV2 { arn, bucket, access, connection } => {
                    enable_v2(cx, arn, bucket, *access, *connection).await
                }
                ElbStep::EnableClassic { name, bucket } => enable_classic(cx, name, bucket).await,
            };
            result.map_err(|e| ApplyError { done: done.clone(), error: e.into() })?;
            done.push(self.describe(step));
        }
        Ok(Applied::Fixed(format!("the load balancer's logs go to logmend's bucket under {ELB_PREFIX}/")))
    }
}

async fn enable_v2(
    cx: &Context<'_, Clients>,
    arn: &str,
    bucket: &str,
    access: bool,
    connection: bool,
) -> Result<(), AwsError> {
    let attr = |k: &str, v: &str| LoadBalancerAttribute::builder().key(k).value(v).build();
    let mut modify = cx.clients.elbv2.modify_load_balancer_attributes().load_balancer_arn(arn);
    for (on, kind) in [(access, "access_logs"), (connection, "connection_logs")] {
        if on {
            modify = modify
                .attributes(attr(&format!("{kind}.s3.enabled"), "true"))
                .attributes(attr(&format!("{kind}.s3.bucket"), bucket))
                .attributes(attr(&format!("{kind}.s3.prefix"), ELB_PREFIX));
        }
    }
    modify
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("elasticloadbalancing:ModifyLoadBalancerAttributes", arn, e))
}

async fn enable_classic(cx: &Context<'_, Clients>, name: &str, bucket: &str) -> Result<(), AwsError> {
    use aws_sdk_elasticloadbalancing::types::{AccessLog, LoadBalancerAttributes};
    let log = AccessLog::builder()
        .enabled(true)
        .s3_bucket_name(bucket)
        .s3_bucket_prefix(ELB_PREFIX)
        .emit_interval(60)
        .build();
    cx.clients
        .elb
        .modify_load_balancer_attributes()
        .load_balancer_name(name)
        .load_balancer_attributes(LoadBalancerAttributes::builder().access_log(log).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("elasticloadbalancing:ModifyLoadBalancerAttributes", name, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> Vec<LoadBalancerAttribute> {
        pairs.iter().map(|(k, v)| LoadBalancerAttribute::builder().key(*k).value(*v).build()).collect()
    }

    #[test]
    fn absent_or_false_or_bucketless_means_off() {
        assert_eq!(logs_on(&attrs(&[("access_logs.s3.bucket", "b")]), "access_logs"), None, "absent is off");
        assert_eq!(
            logs_on(&attrs(&[("access_logs.s3.enabled", "false"), ("access_logs.s3.bucket", "b")]), "access_logs"),
            None
        );
        assert_eq!(
            logs_on(&attrs(&[("access_logs.s3.enabled", "true"), ("access_logs.s3.bucket", "")]), "access_logs"),
            None
        );
        let on = attrs(&[("access_logs.s3.enabled", "true"), ("access_logs.s3.bucket", "b")]);
        assert_eq!(logs_on(&on, "access_logs"), Some("b"));
        assert_eq!(logs_on(&on, "connection_logs"), None);
    }
}
