//! `wafv2-logging` (Security Hub WAF.11, and the regional and global web ACL logging
//! controls): every WAFv2 web ACL has a logging configuration.
//!
//! WAF delivers only to destinations whose name starts with `aws-waf-logs-` (WAF Developer
//! Guide, "Logging destinations"): logmend's are the log group `aws-waf-logs-logmend`
//! (`LOGMEND_WAF_LOG_DESTINATION=logs`, the default) or the bucket
//! `aws-waf-logs-logmend-ACCOUNT-REGION` (`s3`). CLOUDFRONT-scope web ACLs exist in us-east-1
//! only, and their events arrive there: they are evaluated from us-east-1 and skipped anywhere
//! else, so a StackSet's other regions never act on them.

use crate::Clients;
use crate::store::{
    Destination, Gap, LOGS_STORE_READS, LOGS_STORE_WRITES, LogsStore, STORE_READS, STORE_WRITES, Store, StoreKind,
    StoreStep,
};
use aws_sdk_wafv2::types::{LoggingConfiguration, Scope};
use logmend_core::aws::AwsError;
use logmend_core::config::{Config, LogDestination};
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, State, Trigger, is_exempt,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

/// The log group logmend's web ACL logs go to.
pub const WAF_LOG_GROUP: &str = "aws-waf-logs-logmend";
/// Where CLOUDFRONT-scope web ACLs live.
pub const GLOBAL_REGION: &str = "us-east-1";

pub static SPEC: ControlSpec = ControlSpec {
    id: "wafv2-logging",
    security_hub: &["WAF.11"],
    severity: logmend_core::control::Severity::Low,
    resource_type: "AWS::WAFv2::WebACL",
    triggers: &[Trigger {
        event_source: "wafv2.amazonaws.com",
        event_names: &["CreateWebACL", "DeleteLoggingConfiguration", "PutLoggingConfiguration"],
    }],
    compliant_when: "the web ACL has a logging configuration with a destination (REGIONAL scope in its region; CLOUDFRONT scope from us-east-1 only)",
    fix: "makes logmend's destination ready: the log group aws-waf-logs-logmend (retention, logmend's CloudWatch Logs resource policy for delivery.logs.amazonaws.com) or, with LOGMEND_WAF_LOG_DESTINATION=s3, the bucket aws-waf-logs-logmend-ACCOUNT-REGION; PutLoggingConfiguration to it",
    reads: &[
        Permission::any("wafv2:ListWebACLs"),
        Permission::any("wafv2:GetWebACL"),
        Permission::any("wafv2:GetLoggingConfiguration"),
        Permission::any("wafv2:ListTagsForResource"),
        LOGS_STORE_READS[0],
        LOGS_STORE_READS[1],
        STORE_READS[0],
        STORE_READS[1],
    ],
    writes: &[
        Permission::on("wafv2:PutLoggingConfiguration", "arn:${AWS::Partition}:wafv2:*:${AWS::AccountId}:*/webacl/*/*"),
        // WAF creates the log delivery for the destination as its caller (WAF Developer Guide,
        // "Permissions required to publish logs").
        Permission::any("logs:CreateLogDelivery"),
        Permission::any("logs:DeleteLogDelivery"),
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

pub struct Wafv2Logging;

/// A web ACL's ARN, read: `arn:PARTITION:wafv2:REGION:ACCOUNT:(regional|global)/webacl/NAME/ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebAclArn<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub scope: Scope,
    pub name: &'a str,
    pub id: &'a str,
}

pub fn parse_web_acl_arn(arn: &str) -> Option<WebAclArn<'_>> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let (_partition, service, region, account, rest) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if service != "wafv2" {
        return None;
    }
    let mut path = rest.split('/');
    let scope = match path.next()? {
        "regional" => Scope::Regional,
        "global" => Scope::Cloudfront,
        _ => return None,
    };
    if path.next()? != "webacl" {
        return None;
    }
    let (name, id) = (path.next()?, path.next()?);
    (path.next().is_none() && !name.is_empty() && !id.is_empty()).then_some(WebAclArn {
        region,
        account,
        scope,
        name,
        id,
    })
}

#[derive(Debug)]
pub struct WafFinding {
    pub arn: String,
    pub destination: Destination,
    pub gap: Option<Gap>,
    /// The ACL already logs to logmend's destination; only the destination needs repair.
    pub configured: bool,
}

#[derive(Debug)]
pub enum WafStep {
    Destination(StoreStep),
    PutLoggingConfiguration { arn: String, destination: String },
}

/// The destination logmend sends a web ACL's logs to, by the setting.
pub fn destination_for(config: &Config, region: &str, account: &str) -> Destination {
    match config.waf_log_destination {
        LogDestination::Logs => Destination::Logs(LogsStore::new(WAF_LOG_GROUP, config, region, account)),
        LogDestination::S3 => Destination::Bucket(Store::new(StoreKind::Waf, config, region, account)),
    }
}

impl Control for Wafv2Logging {
    type Clients = Clients;
    type Target = String;
    type Finding = WafFinding;
    type Step = WafStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<String>, EventError> {
        let arn = match event.event_name.as_str() {
            "CreateWebACL" => event
                .response_str_at(&["summary", "aRN"])
                .or_else(|| event.response_str_at(&["summary", "arn"]))
                .ok_or(EventError::MissingField { field: "detail.responseElements.summary.aRN" })?,
            "PutLoggingConfiguration" => {
                event.request_parameters.str_at(&["loggingConfiguration", "resourceArn"]).ok_or(
                    EventError::MissingField { field: "detail.requestParameters.loggingConfiguration.resourceArn" },
                )?
            }
            _ => event
                .request_parameters
                .str("resourceArn")
                .ok_or(EventError::MissingField { field: "detail.requestParameters.resourceArn" })?,
        };
        Ok(vec![arn.to_owned()])
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<String>, ControlError> {
        let mut scopes = vec![Scope::Regional];
        if cx.region == GLOBAL_REGION {
            scopes.push(Scope::Cloudfront);
        }
        let mut out = Vec::new();
        for scope in scopes {
            let mut marker = None;
            loop {
                let page = cx
                    .clients
                    .wafv2
                    .list_web_acls()
                    .scope(scope.clone())
                    .set_next_marker(marker)
                    .limit(100)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("wafv2:ListWebACLs", cx.region, e))?;
                out.extend(page.web_acls().iter().filter_map(|w| w.arn().map(str::to_owned)));
                marker = page.next_marker().map(str::to_owned).filter(|_| !page.web_acls().is_empty());
                if marker.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }

    async fn check(&self, cx: &Context<'_, Clients>, target: &String) -> Result<Checked<WafFinding>, ControlError> {
        let skipped = |reason: String| Ok(Checked { resource: target.clone(), state: State::Skipped(reason) });
        let Some(acl) = parse_web_acl_arn(target) else {
            return skipped("not a WAFv2 web ACL ARN".into());
        };
        if acl.scope == Scope::Cloudfront && cx.region != GLOBAL_REGION {
            return skipped(format!("a CLOUDFRONT-scope web ACL is evaluated from {GLOBAL_REGION} only"));
        }
        if acl.scope == Scope::Regional && acl.region != cx.region {
            return skipped(format!("the web ACL is in {}; that region evaluates it", acl.region));
        }
        let waf = &cx.clients.wafv2;
        match waf.get_web_acl().name(acl.name).id(acl.id).scope(acl.scope.clone()).send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_waf_nonexistent_item_exception()) => {
                return skipped("the web ACL no longer exists".into());
            }
            Err(e) => return Err(AwsError::from_sdk("wafv2:GetWebACL", target, e).into()),
        }
        let tags = waf
            .list_tags_for_resource()
            .resource_arn(target)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("wafv2:ListTagsForResource", target, e))?;
        let tags = tags.tag_info_for_resource().map(|t| t.tag_list()).unwrap_or_default();
        if is_exempt(cx.config, tags.iter().map(|t| (t.key(), t.value()))) {
            return skipped(format!("tagged {}=true", cx.config.exempt_tag));
        }
        let logging = match waf.get_logging_configuration().resource_arn(target).send().await {
            Ok(out) => out.logging_configuration().cloned(),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_waf_nonexistent_item_exception()) => None,
            Err(e) => return Err(AwsError::from_sdk("wafv2:GetLoggingConfiguration", target, e).into()),
        };
        let destination = destination_for(cx.config, cx.region, acl.account);
        let current = logging.as_ref().and_then(|l| l.log_destination_configs().first()).cloned();
        let gap = match &current {
            // logmend's own destination is checked like any it owns; another one WAF accepted.
            Some(d) if *d != destination.arn() => {
                return Ok(Checked { resource: target.clone(), state: State::Compliant(format!("logs to {d}")) });
            }
            _ => destination.inspect(cx).await?,
        };
        if current.is_some() && gap.is_none() {
            let reason = format!("logs to {}", destination.arn());
            return Ok(Checked { resource: target.clone(), state: State::Compliant(reason) });
        }
        let reason = match &current {
            None => "the web ACL has no logging configuration".to_owned(),
            Some(d) => format!("its logs go to {d}, which is not ready to receive them"),
        };
        let finding = WafFinding { arn: target.clone(), destination, gap, configured: current.is_some() };
        Ok(Checked { resource: target.clone(), state: State::Noncompliant { finding, reason } })
    }

    fn plan(&self, _config: &Config, f: &WafFinding) -> Vec<WafStep> {
        let mut steps: Vec<WafStep> = f.gap.iter().flat_map(Gap::steps).map(WafStep::Destination).collect();
        if !f.configured {
            steps.push(WafStep::PutLoggingConfiguration { arn: f.arn.clone(), destination: f.destination.arn() });
        }
        steps
    }

    fn describe(&self, step: &WafStep) -> Change {
        match step {
            WafStep::Destination(s) => s.describe(),
            WafStep::PutLoggingConfiguration { arn, destination } => {
                Change::new("wafv2:PutLoggingConfiguration", format!("{arn}: logs to {destination}"))
            }
        }
    }

    async fn apply(&self, cx: &Context<'_, Clients>, _f: &WafFinding, plan: &[WafStep]) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            let result = match step {
                WafStep::Destination(s) => s.apply(cx).await,
                WafStep::PutLoggingConfiguration { arn, destination } => put_logging(cx, arn, destination).await,
            };
            result.map_err(|e| ApplyError { done: done.clone(), error: e.into() })?;
            done.push(self.describe(step));
        }
        Ok(Applied::Fixed("the web ACL logs to logmend's destination".into()))
    }
}

async fn put_logging(cx: &Context<'_, Clients>, arn: &str, destination: &str) -> Result<(), AwsError> {
    let config = LoggingConfiguration::builder()
        .resource_arn(arn)
        .log_destination_configs(destination)
        .build()
        .expect("resource ARN and destinations are set");
    cx.clients
        .wafv2
        .put_logging_configuration()
        .logging_configuration(config)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("wafv2:PutLoggingConfiguration", arn, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_acl_arns_name_their_scope() {
        let regional = parse_web_acl_arn("arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/app/1a2b").unwrap();
        assert_eq!(
            (regional.scope, regional.name, regional.id, regional.region),
            (Scope::Regional, "app", "1a2b", "eu-west-1")
        );
        let global = parse_web_acl_arn("arn:aws:wafv2:us-east-1:111122223333:global/webacl/cdn/9z").unwrap();
        assert_eq!(global.scope, Scope::Cloudfront);
        assert_eq!(parse_web_acl_arn("arn:aws:wafv2:us-east-1:1:global/ipset/x/1"), None);
        assert_eq!(parse_web_acl_arn("arn:aws:wafv2:us-east-1:1:regional/webacl/x"), None);
    }

    #[test]
    fn every_destination_has_the_prefix_waf_requires() {
        let mut config = Config::new(logmend_core::decision::Mode::Audit);
        for setting in [LogDestination::Logs, LogDestination::S3] {
            config.waf_log_destination = setting;
            let arn = destination_for(&config, "us-east-1", "111122223333").arn();
            let name = arn.rsplit([':', '/']).next().unwrap();
            assert!(name.starts_with("aws-waf-logs-"), "{arn}");
        }
    }
}
