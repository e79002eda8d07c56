//! `route53-resolver-query-logs` (no Security Hub control; CIS-style practice: DNS queries are
//! the record of what a workload looked up, malware's first step included): every VPC is
//! associated with a Route 53 Resolver query logging configuration.
//!
//! Any active association counts, whoever made it. The fix associates the VPC with logmend's
//! configuration `logmend-query-logs` (one per region, made once), delivering to logmend's log
//! bucket (`LOGMEND_RESOLVER_LOG_DESTINATION=s3`, the default) or to the log group
//! `/aws/route53resolver/logmend` (`logs`), made ready first.

use crate::Clients;
use crate::store::{
    Destination, Gap, LOGS_STORE_READS, LOGS_STORE_WRITES, LogsStore, STORE_READS, STORE_WRITES, Store, StoreKind,
    StoreStep,
};
use crate::vpc::{self, VpcTarget};
use aws_sdk_route53resolver::types::{Filter, ResolverQueryLogConfigAssociationStatus as AssociationStatus};
use logmend_core::aws::AwsError;
use logmend_core::config::{Config, LogDestination};
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, MANAGED_BY_TAG, Permission, State,
    Trigger,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

/// logmend's query logging configuration, one per region.
pub const CONFIG_NAME: &str = "logmend-query-logs";
pub const RESOLVER_LOG_GROUP: &str = "/aws/route53resolver/logmend";

pub static SPEC: ControlSpec = ControlSpec {
    id: "route53-resolver-query-logs",
    security_hub: &[],
    severity: logmend_core::control::Severity::Medium,
    resource_type: "AWS::EC2::VPC",
    triggers: &[
        Trigger { event_source: "ec2.amazonaws.com", event_names: &["CreateVpc"] },
        Trigger {
            event_source: "route53resolver.amazonaws.com",
            event_names: &["DisassociateResolverQueryLogConfig", "DeleteResolverQueryLogConfig"],
        },
    ],
    compliant_when: "the VPC has an ACTIVE association with a Resolver query logging configuration (anyone's)",
    fix: "makes logmend's destination ready (its log bucket, or with LOGMEND_RESOLVER_LOG_DESTINATION=logs the log group /aws/route53resolver/logmend), creates the configuration logmend-query-logs to it once per region, AssociateResolverQueryLogConfig",
    reads: &[
        Permission::any("ec2:DescribeVpcs"),
        Permission::any("route53resolver:ListResolverQueryLogConfigs"),
        Permission::any("route53resolver:ListResolverQueryLogConfigAssociations"),
        LOGS_STORE_READS[0],
        LOGS_STORE_READS[1],
        STORE_READS[0],
        STORE_READS[1],
        // Reads Resolver makes as the caller while it sets up the log delivery.
        Permission::any("logs:GetLogDelivery"),
        Permission::any("logs:ListLogDeliveries"),
    ],
    writes: &[
        Permission::any("route53resolver:CreateResolverQueryLogConfig"),
        Permission::any("route53resolver:AssociateResolverQueryLogConfig"),
        Permission::any("route53resolver:TagResource"),
        // Resolver creates the log delivery for the destination as its caller (Route 53
        // Developer Guide, "Permissions required to configure Resolver query logging").
        Permission::any("logs:CreateLogDelivery"),
        LOGS_STORE_WRITES[0],
        LOGS_STORE_WRITES[1],
        LOGS_STORE_WRITES[2],
        LOGS_STORE_WRITES[3],
        STORE_WRITES[0],
        STORE_WRITES[1],
        STORE_WRITES[2],
        STORE_WRITES[3],
        STORE_WRITES[4],
        STORE_WRITES[5],
        STORE_WRITES[6],
    ],
};

pub struct ResolverQueryLogs;

#[derive(Debug)]
pub struct QueryLogFinding {
    pub vpc_id: String,
    pub destination: Destination,
    pub gap: Option<Gap>,
    /// logmend's configuration, when it exists.
    pub config_id: Option<String>,
}

#[derive(Debug)]
pub enum QueryLogStep {
    Destination(StoreStep),
    CreateConfig { destination: String },
    Associate { vpc_id: String },
}

pub fn destination_for(config: &Config, region: &str, account: &str) -> Destination {
    match config.resolver_log_destination {
        LogDestination::S3 => Destination::Bucket(Store::new(StoreKind::Logs, config, region, account)),
        LogDestination::Logs => Destination::Logs(LogsStore::new(RESOLVER_LOG_GROUP, config, region, account)),
    }
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// logmend's configuration in this region: its id and destination.
async fn own_config(cx: &Context<'_, Clients>) -> Result<Option<(String, String)>, AwsError> {
    let out = cx
        .clients
        .resolver
        .list_resolver_query_log_configs()
        .filters(filter("Name", CONFIG_NAME))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("route53resolver:ListResolverQueryLogConfigs", CONFIG_NAME, e))?;
    Ok(out
        .resolver_query_log_configs()
        .iter()
        .find(|c| c.name() == Some(CONFIG_NAME))
        .and_then(|c| Some((c.id()?.to_owned(), c.destination_arn().unwrap_or_default().to_owned()))))
}

impl Control for ResolverQueryLogs {
    type Clients = Clients;
    type Target = VpcTarget;
    type Finding = QueryLogFinding;
    type Step = QueryLogStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<VpcTarget>, EventError> {
        match event.event_name.as_str() {
            "CreateVpc" => Ok(vec![vpc::created_vpc(event)?]),
            "DisassociateResolverQueryLogConfig" => event
                .request_parameters
                .str("resourceId")
                .map(|id| vec![VpcTarget::Vpc(id.to_owned())])
                .ok_or(EventError::MissingField { field: "detail.requestParameters.resourceId" }),
            // A deleted configuration was disassociated from all its VPCs first: look at all.
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
    ) -> Result<Checked<QueryLogFinding>, ControlError> {
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
        let associations = cx
            .clients
            .resolver
            .list_resolver_query_log_config_associations()
            .filters(filter("ResourceId", id))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("route53resolver:ListResolverQueryLogConfigAssociations", id, e))?;
        let associations: Vec<_> = associations
            .resolver_query_log_config_associations()
            .iter()
            .filter(|a| a.resource_id() == Some(id))
            .collect();
        if let Some(a) = associations.iter().find(|a| a.status() == Some(&AssociationStatus::Active)) {
            let reason = format!(
                "associated with query logging configuration {}",
                a.resolver_query_log_config_id().unwrap_or_default()
            );
            return Ok(Checked { resource, state: State::Compliant(reason) });
        }
        if let Some(a) = associations.iter().find(|a| a.status() == Some(&AssociationStatus::Creating)) {
            let reason = format!(
                "the association with {} is being created",
                a.resolver_query_log_config_id().unwrap_or_default()
            );
            return Ok(Checked { resource, state: State::Pending(reason) });
        }
        let mut problems: Vec<String> = associations
            .iter()
            .map(|a| {
                format!(
                    "the association with {} is {}: {}",
                    a.resolver_query_log_config_id().unwrap_or_default(),
                    a.status().map_or("(none)", |s| s.as_str()),
                    a.error_message().unwrap_or("no error message")
                )
            })
            .collect();
        if problems.is_empty() {
            problems.push("the VPC's DNS queries are not logged (no query logging configuration is associated)".into());
        }
        let account = found.owner_id().or(cx.account).unwrap_or_default().to_owned();
        let own = own_config(cx).await?;
        // The configuration's destination is fixed at creation: an existing one is used as it is.
        let destination = match &own {
            Some((_, arn)) if arn.contains(":log-group:") => {
                Destination::Logs(LogsStore::new(RESOLVER_LOG_GROUP, cx.config, cx.region, &account))
            }
            Some(_) => Destination::Bucket(Store::new(StoreKind::Logs, cx.config, cx.region, &account)),
            None => destination_for(cx.config, cx.region, &account),
        };
        let gap = destination.inspect(cx).await?;
        let finding = QueryLogFinding { vpc_id: id.clone(), destination, gap, config_id: own.map(|(id, _)| id) };
        Ok(Checked { resource, state: State::Noncompliant { reason: problems.join("; "), finding } })
    }

    fn plan(&self, _config: &Config, f: &QueryLogFinding) -> Vec<QueryLogStep> {
        let mut steps: Vec<QueryLogStep> = f.gap.iter().flat_map(Gap::steps).map(QueryLogStep::Destination).collect();
        if f.config_id.is_none() {
            steps.push(QueryLogStep::CreateConfig { destination: f.destination.arn() });
        }
        steps.push(QueryLogStep::Associate { vpc_id: f.vpc_id.clone() });
        steps
    }

    fn describe(&self, step: &QueryLogStep) -> Change {
        match step {
            QueryLogStep::Destination(s) => s.describe(),
            QueryLogStep::CreateConfig { destination } => {
                Change::new("route53resolver:CreateResolverQueryLogConfig", format!("{CONFIG_NAME} to {destination}"))
            }
            QueryLogStep::Associate { vpc_id } => {
                Change::new("route53resolver:AssociateResolverQueryLogConfig", format!("{vpc_id} with {CONFIG_NAME}"))
            }
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        f: &QueryLogFinding,
        plan: &[QueryLogStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        let mut config_id = f.config_id.clone();
        for step in plan {
            let result = match step {
                QueryLogStep::Destination(s) => s.apply(cx).await,
                QueryLogStep::CreateConfig { destination } => {
                    create_config(cx, destination).await.map(|id| config_id = Some(id))
                }
                QueryLogStep::Associate { vpc_id } => {
                    associate(cx, config_id.as_deref().unwrap_or_default(), vpc_id).await
                }
            };
            result.map_err(|e| ApplyError { done: done.clone(), error: e.into() })?;
            done.push(self.describe(step));
        }
        Ok(Applied::Fixed(format!("the VPC's DNS queries are logged through {CONFIG_NAME}")))
    }
}

/// CreateResolverQueryLogConfig; one made a moment ago (by another evaluation, or by a run cut
/// short) is found by name and used.
async fn create_config(cx: &Context<'_, Clients>, destination: &str) -> Result<String, AwsError> {
    let tag = aws_sdk_route53resolver::types::Tag::builder()
        .key(MANAGED_BY_TAG.0)
        .value(MANAGED_BY_TAG.1)
        .build()
        .expect("key and value are set");
    let sent = cx
        .clients
        .resolver
        .create_resolver_query_log_config()
        .name(CONFIG_NAME)
        .destination_arn(destination)
        .creator_request_id(format!("{CONFIG_NAME}-{}", cx.region))
        .tags(tag)
        .send()
        .await;
    match sent {
        Ok(out) => Ok(out.resolver_query_log_config().and_then(|c| c.id()).unwrap_or_default().to_owned()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_exists_exception()) => own_config(cx)
            .await?
            .map(|(id, _)| id)
            .ok_or_else(|| AwsError::from_sdk("route53resolver:CreateResolverQueryLogConfig", CONFIG_NAME, e)),
        Err(e) => Err(AwsError::from_sdk("route53resolver:CreateResolverQueryLogConfig", CONFIG_NAME, e)),
    }
}

async fn associate(cx: &Context<'_, Clients>, config_id: &str, vpc_id: &str) -> Result<(), AwsError> {
    logmend_core::aws::created_or_existing(
        cx.clients
            .resolver
            .associate_resolver_query_log_config()
            .resolver_query_log_config_id(config_id)
            .resource_id(vpc_id)
            .send()
            .await,
        |e| e.is_resource_exists_exception(),
        "route53resolver:AssociateResolverQueryLogConfig",
        vpc_id,
    )
}
