//! The destinations network and edge logs are delivered to, made once per account and region
//! and reused: logmend's S3 log buckets, and CloudWatch Logs groups with the one resource
//! policy logmend owns. Each is made safe before anything is delivered to it, and its policy
//! lets exactly the services that write to it do so, scoped to this account
//! (`aws:SourceAccount` / `aws:SourceArn`). Statements others wrote are kept.

use crate::Clients;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    ObjectOwnership, OwnershipControls, OwnershipControlsRule,
};
use logmend_core::aws::AwsError;
use logmend_core::config::Config;
use logmend_core::control::{Context, ControlError, MANAGED_BY_TAG};
use logmend_core::decision::Change;
use logmend_core::resource_policy::{self, Principal, Request};
use logmend_s3_store::{self as s3store, Encryption};
use serde_json::{Value, json};

/// The log delivery service: VPC Flow Logs, Route 53 Resolver query logs, WAF, NLB access logs
/// and every CloudWatch Logs vended log (CloudFront v2) write as it.
pub const LOG_DELIVERY: &str = "delivery.logs.amazonaws.com";
/// The principal ALB and Classic access logs are written as in Regions opened since August 2022
/// (ELB User Guide, "Enable access logs for your Application Load Balancer").
pub const ELB_LOG_DELIVERY: &str = "logdelivery.elasticloadbalancing.amazonaws.com";
/// The prefix load balancer logs are written under in logmend's bucket (it may not contain
/// `AWSLogs`: ELB adds that part itself).
pub const ELB_PREFIX: &str = "elb";

pub const DELIVERY_ACL_SID: &str = "LogmendLogDeliveryAclCheck";
pub const DELIVERY_WRITE_SID: &str = "LogmendLogDeliveryWrite";
pub const ELB_WRITE_SID: &str = "LogmendElbLogDelivery";
/// logmend's CloudWatch Logs resource policy: one per account and region, extended for every
/// log group logmend delivers to (an account may hold only 10, of 5,120 characters each).
pub use logmend_logs_policy::POLICY_NAME as LOGS_POLICY_NAME;
pub const LOGS_DELIVERY_SID: &str = "LogmendLogDelivery";

/// The Elastic Load Balancing account of each Region opened before August 2022: ALB and
/// Classic access logs are written as it there (ELB User Guide, "Enable access logs", step 2).
pub fn elb_account(region: &str) -> Option<&'static str> {
    Some(match region {
        "us-east-1" => "127311923021",
        "us-east-2" => "033677994240",
        "us-west-1" => "027434742980",
        "us-west-2" => "797873946194",
        "af-south-1" => "098369216593",
        "ap-east-1" => "754344448648",
        "ap-south-1" => "718504428378",
        "ap-northeast-1" => "582318560864",
        "ap-northeast-2" => "600734575887",
        "ap-northeast-3" => "383597477331",
        "ap-southeast-1" => "114774131450",
        "ap-southeast-2" => "783225319266",
        "ca-central-1" => "985666609251",
        "eu-central-1" => "054676820928",
        "eu-west-1" => "156460612806",
        "eu-west-2" => "652711504416",
        "eu-west-3" => "009996457667",
        "eu-south-1" => "635631232127",
        "eu-north-1" => "897822967062",
        "me-south-1" => "076674570225",
        "sa-east-1" => "507241528517",
        "us-gov-west-1" => "048591011584",
        "us-gov-east-1" => "190560391635",
        "cn-north-1" => "638102146993",
        "cn-northwest-1" => "037604701340",
        _ => return None,
    })
}

pub use logmend_core::aws::partition_of;

/// Who writes into a bucket, as its policy must let them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// `delivery.logs.amazonaws.com`.
    LogDelivery,
    /// ALB and Classic access logs: the regional ELB account, or [`ELB_LOG_DELIVERY`].
    Elb,
}

/// Which of logmend's buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// `logmend-logs-ACCOUNT-REGION`: flow logs, Resolver query logs, load balancer logs.
    Logs,
    /// Load balancer logs when the log bucket is SSE-KMS: ELB writes to SSE-S3 buckets only.
    Elb,
    /// WAF writes only to buckets named `aws-waf-logs-…` (WAF Developer Guide, "Amazon S3").
    Waf,
    /// CloudFront standard logging (legacy) writes through bucket ACLs, so this bucket has
    /// them enabled; no other log goes there, so S3.12 ("no ACLs") is failed by it alone.
    CloudFront,
}

/// One of logmend's buckets in one account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    pub kind: StoreKind,
    pub bucket: String,
    pub partition: String,
    pub region: String,
    pub account: String,
    pub encryption: Encryption,
    /// Days after which delivered logs expire (`LOGMEND_LOG_BUCKET_EXPIRATION_DAYS`).
    pub expiration_days: Option<i32>,
}

impl Store {
    pub fn new(kind: StoreKind, config: &Config, region: &str, account: &str) -> Store {
        let kms = config.log_bucket_kms_key.clone();
        let (bucket, encryption) = match (kind, kms) {
            (StoreKind::Logs, Some(key)) => (format!("logmend-logs-{account}-{region}"), Encryption::Kms(key)),
            (StoreKind::Logs, None) | (StoreKind::Elb, None) => {
                (format!("logmend-logs-{account}-{region}"), Encryption::S3)
            }
            (StoreKind::Elb, Some(_)) => (format!("logmend-elb-logs-{account}-{region}"), Encryption::S3),
            (StoreKind::Waf, key) => {
                (format!("aws-waf-logs-logmend-{account}-{region}"), key.map_or(Encryption::S3, Encryption::Kms))
            }
            (StoreKind::CloudFront, _) => (format!("logmend-cloudfront-logs-{account}"), Encryption::S3),
        };
        Store {
            kind,
            bucket,
            partition: partition_of(region).to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            encryption,
            expiration_days: config.log_bucket_expiration_days,
        }
    }

    pub fn arn(&self) -> String {
        s3store::bucket_arn(&self.partition, &self.bucket)
    }

    /// Who this bucket's policy lets write.
    pub fn writers(&self) -> &'static [Writer] {
        match self.kind {
            StoreKind::Logs if self.encryption == Encryption::S3 => &[Writer::LogDelivery, Writer::Elb],
            StoreKind::Logs | StoreKind::Waf => &[Writer::LogDelivery],
            StoreKind::Elb => &[Writer::Elb, Writer::LogDelivery],
            StoreKind::CloudFront => &[],
        }
    }

    fn ownership(&self) -> ObjectOwnership {
        match self.kind {
            StoreKind::CloudFront => ObjectOwnership::BucketOwnerPreferred,
            _ => ObjectOwnership::BucketOwnerEnforced,
        }
    }

    /// The source ARN the log delivery service sends: a delivery of this account and region.
    fn delivery_source_arns(&self) -> String {
        format!("arn:{}:logs:{}:{}:*", self.partition, self.region, self.account)
    }

    fn objects(&self, prefix: Option<&str>) -> String {
        match prefix {
            Some(p) => format!("{}/{p}/AWSLogs/{}/*", self.arn(), self.account),
            None => format!("{}/AWSLogs/{}/*", self.arn(), self.account),
        }
    }

    /// logmend's statements on this bucket: TLS only, and one grant per writer.
    pub fn statements(&self) -> Vec<Value> {
        let mut out = vec![s3store::tls_deny_statement(&self.partition, &self.bucket)];
        let scoped = json!({
            "StringEquals": {"aws:SourceAccount": self.account},
            "ArnLike": {"aws:SourceArn": self.delivery_source_arns()}
        });
        for writer in self.writers() {
            match writer {
                Writer::LogDelivery => {
                    out.push(json!({
                        "Sid": DELIVERY_ACL_SID,
                        "Effect": "Allow",
                        "Principal": {"Service": LOG_DELIVERY},
                        "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                        "Resource": self.arn(),
                        "Condition": scoped
                    }));
                    let mut write_condition = scoped.clone();
                    write_condition["StringEquals"]["s3:x-amz-acl"] = json!("bucket-owner-full-control");
                    out.push(json!({
                        "Sid": DELIVERY_WRITE_SID,
                        "Effect": "Allow",
                        "Principal": {"Service": LOG_DELIVERY},
                        "Action": "s3:PutObject",
                        "Resource": [self.objects(None), self.objects(Some(ELB_PREFIX))],
                        "Condition": write_condition
                    }));
                }
                Writer::Elb => {
                    let principal = match elb_account(&self.region) {
                        Some(id) => json!({"AWS": format!("arn:{}:iam::{id}:root", self.partition)}),
                        None => json!({"Service": ELB_LOG_DELIVERY}),
                    };
                    out.push(json!({
                        "Sid": ELB_WRITE_SID,
                        "Effect": "Allow",
                        "Principal": principal,
                        "Action": "s3:PutObject",
                        "Resource": self.objects(Some(ELB_PREFIX))
                    }));
                }
            }
        }
        out
    }

    /// Whether the policy lets `writer` deliver here: the request it makes, as IAM evaluates it.
    pub fn lets(&self, doc: Option<&Value>, writer: Writer) -> bool {
        let Some(doc) = doc else { return false };
        let source = format!("arn:{}:logs:{}:{}:delivery-source:probe", self.partition, self.region, self.account);
        let context = [
            ("aws:SourceAccount", self.account.as_str()),
            ("aws:SourceArn", source.as_str()),
            ("aws:SecureTransport", "true"),
            ("s3:x-amz-acl", "bucket-owner-full-control"),
        ];
        let (principal, object) = match writer {
            Writer::LogDelivery => {
                (Principal::Service(LOG_DELIVERY), self.objects(None).replace('*', "vpcflowlogs/probe.log.gz"))
            }
            Writer::Elb => (
                elb_account(&self.region).map_or(Principal::Service(ELB_LOG_DELIVERY), Principal::Account),
                self.objects(Some(ELB_PREFIX)).replace('*', "elasticloadbalancing/probe.log.gz"),
            ),
        };
        resource_policy::allows(
            doc,
            &Request { principal, action: "s3:PutObject", resource: &object, context: &context },
        )
    }
}

/// What a store needs before logs can arrive in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreGap {
    /// The bucket does not exist: create it safe, with its policy.
    Missing(Store),
    /// It exists; its policy lacks logmend's grants (or TLS-only) for these writers.
    Policy(Store),
}

impl StoreGap {
    pub fn store(&self) -> &Store {
        match self {
            StoreGap::Missing(s) | StoreGap::Policy(s) => s,
        }
    }

    fn describe(&self) -> Change {
        match self {
            StoreGap::Missing(s) => {
                let sse = match &s.encryption {
                    Encryption::S3 => "SSE-S3".to_owned(),
                    Encryption::Kms(k) => format!("SSE-KMS {k}"),
                };
                let lifecycle =
                    s.expiration_days.map_or_else(|| "logs kept".to_owned(), |d| format!("logs expire after {d} days"));
                Change::new(
                    "s3:CreateBucket",
                    format!(
                        "{}: Block Public Access, {sse}, {:?}, TLS only, {lifecycle}; policy lets {} write",
                        s.bucket,
                        s.ownership(),
                        writers_named(s)
                    ),
                )
            }
            StoreGap::Policy(s) => Change::new(
                "s3:PutBucketPolicy",
                format!(
                    "{}: logmend's statements (TLS only; {} may write); other statements kept",
                    s.bucket,
                    writers_named(s)
                ),
            ),
        }
    }
}

fn writers_named(s: &Store) -> String {
    let names: Vec<String> = s
        .writers()
        .iter()
        .map(|w| match w {
            Writer::LogDelivery => LOG_DELIVERY.to_owned(),
            Writer::Elb => elb_account(&s.region).map_or(ELB_LOG_DELIVERY.to_owned(), |id| format!("ELB account {id}")),
        })
        .collect();
    if names.is_empty() { "CloudFront (through the bucket ACL)".to_owned() } else { names.join(" and ") }
}

/// What a store lacks, read from S3; `None`: it is ready. A bucket of that name in another
/// account is a conflict, never written to.
pub async fn inspect(cx: &Context<'_, Clients>, store: &Store) -> Result<Option<StoreGap>, ControlError> {
    match s3store::bucket_region(&cx.clients.s3, &store.bucket, Some(&store.account)).await? {
        Err(reason) if reason.contains("no longer exists") => return Ok(Some(StoreGap::Missing(store.clone()))),
        Err(reason) => return Err(ControlError::Conflict { resource: store.arn(), reason }),
        Ok(region) if region != store.region => {
            return Err(ControlError::Conflict {
                resource: store.arn(),
                reason: format!("logmend's log bucket name is taken by a bucket in {region}"),
            });
        }
        Ok(_) => {}
    }
    let doc = s3store::read_policy(&cx.clients.s3, &store.bucket).await?;
    let granted = store.writers().iter().all(|w| store.lets(doc.as_ref(), *w));
    let tls = s3store::denies_insecure_transport(doc.as_ref(), &store.partition, &store.bucket);
    Ok((!granted || !tls).then(|| StoreGap::Policy(store.clone())))
}

/// Make the store ready: every write tolerates "already so", so a run cut short is completed.
pub async fn prepare(cx: &Context<'_, Clients>, gap: &StoreGap) -> Result<(), AwsError> {
    let s3 = &cx.clients.s3;
    let store = gap.store();
    let bucket = store.bucket.as_str();
    if let StoreGap::Missing(_) = gap {
        s3store::create_bucket(s3, &store.region, bucket, false).await?;
        s3store::block_public_access(s3, bucket).await?;
        let rule =
            OwnershipControlsRule::builder().object_ownership(store.ownership()).build().expect("ownership is set");
        s3.put_bucket_ownership_controls()
            .bucket(bucket)
            .ownership_controls(OwnershipControls::builder().rules(rule).build().expect("rules are set"))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:PutBucketOwnershipControls", bucket, e))?;
        s3store::encrypt(s3, bucket, &store.encryption).await?;
        if let Some(days) = store.expiration_days {
            let rule = LifecycleRule::builder()
                .id("logmend-expire-logs")
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix("").build())
                .expiration(LifecycleExpiration::builder().days(days).build())
                .build()
                .expect("status is set");
            let lifecycle = BucketLifecycleConfiguration::builder().rules(rule).build().expect("rules are set");
            s3.put_bucket_lifecycle_configuration()
                .bucket(bucket)
                .lifecycle_configuration(lifecycle)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("s3:PutLifecycleConfiguration", bucket, e))?;
        }
        s3store::tag_managed(s3, bucket).await?;
    }
    let current = s3store::read_policy(s3, bucket).await?;
    let merged = store.statements().into_iter().fold(current.clone().unwrap_or(Value::Null), |doc, statement| {
        resource_policy::with_statement(&doc, statement)
    });
    if current.as_ref() != Some(&merged) {
        s3store::put_policy(s3, bucket, &merged).await?;
    }
    Ok(())
}

/// The S3 actions a store needs, for each control's declared writes.
pub const STORE_WRITES: &[logmend_core::control::Permission] = &[
    logmend_core::control::Permission::on("s3:CreateBucket", "arn:${AWS::Partition}:s3:::*logmend*"),
    logmend_core::control::Permission::on("s3:PutBucketPublicAccessBlock", "arn:${AWS::Partition}:s3:::*logmend*"),
    logmend_core::control::Permission::on("s3:PutBucketOwnershipControls", "arn:${AWS::Partition}:s3:::*logmend*"),
    logmend_core::control::Permission::on("s3:PutEncryptionConfiguration", "arn:${AWS::Partition}:s3:::*logmend*"),
    logmend_core::control::Permission::on("s3:PutLifecycleConfiguration", "arn:${AWS::Partition}:s3:::*logmend*"),
    logmend_core::control::Permission::on("s3:PutBucketTagging", "arn:${AWS::Partition}:s3:::*logmend*"),
    logmend_core::control::Permission::on("s3:PutBucketPolicy", "arn:${AWS::Partition}:s3:::*logmend*"),
];

/// The S3 reads a store is inspected with.
pub const STORE_READS: &[logmend_core::control::Permission] = &[
    logmend_core::control::Permission::any("s3:GetBucketLocation"),
    logmend_core::control::Permission::any("s3:GetBucketPolicy"),
];

/// A CloudWatch Logs group logmend delivers a service's logs to, with retention and the
/// resource policy entry that lets the log delivery service write to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsStore {
    pub name: String,
    pub partition: String,
    pub region: String,
    pub account: String,
    /// The retention a group logmend creates gets (`LOGMEND_RETENTION_DAYS`).
    pub retention_days: i32,
}

impl LogsStore {
    pub fn new(name: &str, config: &Config, region: &str, account: &str) -> LogsStore {
        LogsStore {
            name: name.to_owned(),
            partition: partition_of(region).to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            retention_days: config.retention_days,
        }
    }

    pub fn arn(&self) -> String {
        format!("arn:{}:logs:{}:{}:log-group:{}", self.partition, self.region, self.account, self.name)
    }

    fn streams(&self) -> String {
        format!("{}:*", self.arn())
    }

    /// Whether a resource policy lets the log delivery service write this group's streams.
    pub fn lets(&self, doc: &Value) -> bool {
        let source = format!("arn:{}:logs:{}:{}:delivery-source:probe", self.partition, self.region, self.account);
        let context = [("aws:SourceAccount", self.account.as_str()), ("aws:SourceArn", source.as_str())];
        let stream = format!("{}:log-stream:probe", self.arn());
        ["logs:CreateLogStream", "logs:PutLogEvents"].iter().all(|action| {
            let req =
                Request { principal: Principal::Service(LOG_DELIVERY), action, resource: &stream, context: &context };
            resource_policy::allows(doc, &req)
        })
    }

    /// logmend's statement with this group added beside the ones already in it.
    pub fn statement(&self, current: Option<&Value>) -> Value {
        let mut groups: Vec<String> = current
            .and_then(|d| resource_policy::statements(d).into_iter().find(|s| s["Sid"] == LOGS_DELIVERY_SID))
            .map(|s| {
                resource_policy::as_list(&s["Resource"]).iter().filter_map(|r| r.as_str().map(str::to_owned)).collect()
            })
            .unwrap_or_default();
        if !groups.contains(&self.streams()) {
            groups.push(self.streams());
        }
        json!({
            "Sid": LOGS_DELIVERY_SID,
            "Effect": "Allow",
            "Principal": {"Service": LOG_DELIVERY},
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": groups,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": self.account},
                "ArnLike": {"aws:SourceArn": format!("arn:{}:logs:{}:{}:*", self.partition, self.region, self.account)}
            }
        })
    }
}

/// What a log group destination lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsGap {
    pub store: LogsStore,
    pub group_missing: bool,
    pub policy_missing: bool,
}

/// One write that makes a destination ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreStep {
    Bucket(StoreGap),
    CreateLogGroup(LogsStore),
    GrantLogDelivery(LogsStore),
}

impl StoreStep {
    pub fn describe(&self) -> Change {
        match self {
            StoreStep::Bucket(g) => g.describe(),
            StoreStep::CreateLogGroup(l) => {
                Change::new("logs:CreateLogGroup", format!("{} with {} days' retention", l.name, l.retention_days))
            }
            StoreStep::GrantLogDelivery(l) => Change::new(
                "logs:PutResourcePolicy",
                format!("{LOGS_POLICY_NAME}: {LOG_DELIVERY} may write to {}; other statements kept", l.name),
            ),
        }
    }

    pub async fn apply(&self, cx: &Context<'_, Clients>) -> Result<(), AwsError> {
        match self {
            StoreStep::Bucket(g) => prepare(cx, g).await,
            StoreStep::CreateLogGroup(l) => create_log_group(cx, l).await,
            StoreStep::GrantLogDelivery(l) => grant_log_delivery(cx, l).await,
        }
    }
}

/// What a log group destination lacks; `None`: logs can arrive.
pub async fn inspect_logs(cx: &Context<'_, Clients>, store: &LogsStore) -> Result<Option<LogsGap>, ControlError> {
    let groups = cx
        .clients
        .logs
        .describe_log_groups()
        .log_group_name_prefix(&store.name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", &store.name, e))?;
    let group_missing = !groups.log_groups().iter().any(|g| g.log_group_name() == Some(store.name.as_str()));
    let policy_missing =
        !logmend_logs_policy::policies(&cx.clients.logs, cx.region).await?.iter().any(|(_, doc)| store.lets(doc));
    Ok((group_missing || policy_missing).then(|| LogsGap { store: store.clone(), group_missing, policy_missing }))
}

async fn create_log_group(cx: &Context<'_, Clients>, store: &LogsStore) -> Result<(), AwsError> {
    let logs = &cx.clients.logs;
    let name = store.name.as_str();
    logmend_core::aws::created_or_existing(
        logs.create_log_group().log_group_name(name).tags(MANAGED_BY_TAG.0, MANAGED_BY_TAG.1).send().await,
        |e| e.is_resource_already_exists_exception(),
        "logs:CreateLogGroup",
        name,
    )?;
    logs.put_retention_policy()
        .log_group_name(name)
        .retention_in_days(store.retention_days)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("logs:PutRetentionPolicy", name, e))
}

/// logmend's resource policy with this group added; every other statement, and every other
/// policy, kept as it is.
async fn grant_log_delivery(cx: &Context<'_, Clients>, store: &LogsStore) -> Result<(), AwsError> {
    logmend_logs_policy::merge_statement(&cx.clients.logs, cx.region, |current| store.statement(current)).await
}

pub const LOGS_STORE_READS: &[logmend_core::control::Permission] = &[
    logmend_core::control::Permission::any("logs:DescribeLogGroups"),
    logmend_core::control::Permission::any("logs:DescribeResourcePolicies"),
];

pub const LOGS_STORE_WRITES: &[logmend_core::control::Permission] = &[
    logmend_core::control::Permission::on(
        "logs:CreateLogGroup",
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*",
    ),
    logmend_core::control::Permission::on(
        "logs:PutRetentionPolicy",
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*",
    ),
    logmend_core::control::Permission::on(
        "logs:TagResource",
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*",
    ),
    logmend_core::control::Permission::any("logs:PutResourcePolicy"),
];

/// What a destination of either kind lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    Bucket(StoreGap),
    Logs(LogsGap),
}

impl Gap {
    /// The writes that close the gap, in order.
    pub fn steps(&self) -> Vec<StoreStep> {
        match self {
            Gap::Bucket(g) => vec![StoreStep::Bucket(g.clone())],
            Gap::Logs(g) => {
                let mut out = Vec::new();
                if g.group_missing {
                    out.push(StoreStep::CreateLogGroup(g.store.clone()));
                }
                if g.policy_missing {
                    out.push(StoreStep::GrantLogDelivery(g.store.clone()));
                }
                out
            }
        }
    }
}

/// A destination logmend delivers to: one of its buckets or one of its log groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Bucket(Store),
    Logs(LogsStore),
}

impl Destination {
    pub fn arn(&self) -> String {
        match self {
            Destination::Bucket(s) => s.arn(),
            Destination::Logs(l) => l.arn(),
        }
    }

    /// What it lacks before logs can arrive; `None`: ready.
    pub async fn inspect(&self, cx: &Context<'_, Clients>) -> Result<Option<Gap>, ControlError> {
        Ok(match self {
            Destination::Bucket(s) => inspect(cx, s).await?.map(Gap::Bucket),
            Destination::Logs(l) => inspect_logs(cx, l).await?.map(Gap::Logs),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logmend_core::decision::Mode;

    fn store(kind: StoreKind, region: &str) -> Store {
        Store::new(kind, &Config::new(Mode::Audit), region, "111122223333")
    }

    #[test]
    fn logmends_statements_let_each_writer_deliver_and_nobody_else() {
        for region in ["us-east-1", "ap-southeast-3"] {
            let s = store(StoreKind::Logs, region);
            let doc = json!({"Statement": s.statements()});
            assert!(s.lets(Some(&doc), Writer::LogDelivery), "{region}");
            assert!(s.lets(Some(&doc), Writer::Elb), "{region}");
            assert!(!s.lets(None, Writer::Elb));
            let other_account = Store { account: "444455556666".into(), ..s.clone() };
            assert!(!other_account.lets(Some(&doc), Writer::LogDelivery), "scoped to the account");
        }
        // Jakarta opened after the ELB account list: the service principal writes there.
        let jakarta = store(StoreKind::Logs, "ap-southeast-3").statements();
        assert_eq!(
            jakarta.iter().find(|s| s["Sid"] == ELB_WRITE_SID).unwrap()["Principal"]["Service"],
            ELB_LOG_DELIVERY
        );
    }

    #[test]
    fn a_kms_log_bucket_sends_load_balancer_logs_to_an_sse_s3_bucket_of_their_own() {
        let mut config = Config::new(Mode::Audit);
        config.log_bucket_kms_key = Some("arn:aws:kms:us-east-1:111122223333:key/k".into());
        let logs = Store::new(StoreKind::Logs, &config, "us-east-1", "111122223333");
        let elb = Store::new(StoreKind::Elb, &config, "us-east-1", "111122223333");
        assert_ne!(logs.bucket, elb.bucket);
        assert_eq!(elb.encryption, Encryption::S3);
        assert_eq!(logs.writers(), [Writer::LogDelivery]);
        assert!(store(StoreKind::Waf, "eu-west-1").bucket.starts_with("aws-waf-logs-"));
        for kind in [StoreKind::Logs, StoreKind::Elb, StoreKind::Waf, StoreKind::CloudFront] {
            assert!(Store::new(kind, &config, "ap-southeast-3", "111122223333").bucket.len() <= 63);
        }
    }

    #[test]
    fn the_logs_statement_grows_by_group_and_keeps_the_ones_there() {
        let config = Config::new(Mode::Audit);
        let waf = LogsStore::new("aws-waf-logs-logmend", &config, "us-east-1", "111122223333");
        let dns = LogsStore::new("/aws/route53resolver/logmend", &config, "us-east-1", "111122223333");
        let first = json!({"Statement": [waf.statement(None)]});
        assert!(waf.lets(&first));
        assert!(!dns.lets(&first));
        let both = json!({"Statement": [dns.statement(Some(&first))]});
        assert!(waf.lets(&both) && dns.lets(&both));
    }
}
