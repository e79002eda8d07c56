//! `mq-broker-logs` (Security Hub MQ.2, plus general logs): every Amazon MQ broker publishes
//! its logs to CloudWatch Logs. ActiveMQ brokers need `Logs.Audit` and `Logs.General`;
//! RabbitMQ brokers only `Logs.General` (audit logging does not exist there, and asking for it
//! is an error).
//!
//! Two AWS facts shape the control. A log change waits in DescribeBroker's `Logs.Pending`
//! until the broker reboots or its maintenance window comes: such a broker is `pending`, and
//! logmend never sends the same UpdateBroker again (its own UpdateBroker comes back as an
//! event, so a check that read only `Logs` would loop). And the service writes to
//! `/aws/amazonmq/broker/<id>/{general,audit}` only when a CloudWatch Logs resource policy lets
//! `mq.amazonaws.com` do so; without one the flags are on and the log groups stay empty. So the
//! check also reads the account's resource policies, and the fix adds logmend's own policy
//! when none covers the broker (others' policies are never changed).

use crate::Clients;
use aws_sdk_mq::types::{BrokerState, EngineType};
use logmend_core::aws::AwsError;
use logmend_core::config::{Config, MqReboot};
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, Readiness, State, Trigger,
    is_exempt,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};
use logmend_core::resource_policy::{self, Principal, Request};
use serde_json::{Value, json};

/// The resource policy logmend puts its statement in when no existing one lets Amazon MQ
/// write: its one policy per account and region, shared with the network family's log groups.
pub use logmend_logs_policy::POLICY_NAME as RESOURCE_POLICY_NAME;
pub const LOG_GROUP_PREFIX: &str = "/aws/amazonmq/";
const MQ_SERVICE: &str = "mq.amazonaws.com";

pub static SPEC: ControlSpec = ControlSpec {
    id: "mq-broker-logs",
    security_hub: &["MQ.2"],
    severity: logmend_core::control::Severity::Low,
    resource_type: "AWS::AmazonMQ::Broker",
    triggers: &[Trigger {
        event_source: "amazonmq.amazonaws.com",
        event_names: &["CreateBroker", "UpdateBroker", "RebootBroker"],
    }],
    compliant_when: "ActiveMQ: Logs.Audit and Logs.General on; RabbitMQ: Logs.General on; and a CloudWatch Logs resource policy lets mq.amazonaws.com write to /aws/amazonmq/*",
    fix: "PutResourcePolicy (logmend's own, only when none covers the broker); UpdateBroker with the missing log types, pending until the next reboot or maintenance window; RebootBroker only with LOGMEND_MQ_REBOOT=now",
    reads: &[
        Permission::any("mq:DescribeBroker"),
        Permission::any("mq:ListBrokers"),
        Permission::any("logs:DescribeResourcePolicies"),
    ],
    writes: &[
        Permission::on("mq:UpdateBroker", "arn:${AWS::Partition}:mq:${AWS::Region}:${AWS::AccountId}:broker:*"),
        Permission::on("mq:RebootBroker", "arn:${AWS::Partition}:mq:${AWS::Region}:${AWS::AccountId}:broker:*"),
        // Resource policies are account-wide objects with no ARN of their own.
        Permission::any("logs:PutResourcePolicy"),
        // Amazon MQ creates the broker's log groups as the principal that updates or reboots
        // the broker ("Add the CreateLogGroup permission to your Amazon MQ user", Amazon MQ
        // Developer Guide); without it the groups never appear.
        Permission::on(
            "logs:CreateLogGroup",
            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/amazonmq/*",
        ),
    ],
};

pub struct MqBrokerLogs;

/// A broker by id (`b-…`), as events and ListBrokers name it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BrokerRef(pub String);

impl std::fmt::Display for BrokerRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogType {
    General,
    Audit,
}

impl LogType {
    pub fn as_str(self) -> &'static str {
        match self {
            LogType::General => "general",
            LogType::Audit => "audit",
        }
    }
}

/// What a broker's `Logs` says of one log type: on now, and what a pending change will make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogFlag {
    pub on: Option<bool>,
    pub pending: Option<bool>,
}

impl LogFlag {
    /// What the broker will do after its next reboot.
    pub fn effective(self) -> bool {
        self.pending.or(self.on).unwrap_or(false)
    }
}

/// The log types an engine offers. `None`: an engine logmend does not know.
pub fn wanted_logs(engine: &EngineType) -> Option<&'static [LogType]> {
    match engine {
        EngineType::Activemq => Some(&[LogType::General, LogType::Audit]),
        EngineType::Rabbitmq => Some(&[LogType::General]),
        _ => None,
    }
}

/// How the flags stand against what the engine needs. Pure, for unit tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsAssessment {
    /// Off now and not switched on by a pending change (or about to be switched off).
    pub missing: Vec<LogType>,
    /// Off now, switched on by a pending change.
    pub pending: Vec<LogType>,
}

pub fn assess_logs(wanted: &[LogType], flag: impl Fn(LogType) -> LogFlag) -> LogsAssessment {
    let mut out = LogsAssessment { missing: vec![], pending: vec![] };
    for &t in wanted {
        let f = flag(t);
        if !f.effective() {
            out.missing.push(t);
        } else if f.on != Some(true) {
            out.pending.push(t);
        }
    }
    out
}

/// The broker states in which logmend can change a broker, wait for it, or leave it.
fn readiness(state: Option<&BrokerState>) -> Readiness {
    match state {
        // A replica of a cross-region pair is a working broker with its own log settings.
        Some(BrokerState::Running) | Some(BrokerState::Replica) => Readiness::Ready,
        Some(BrokerState::CreationFailed) | Some(BrokerState::DeletionInProgress) => Readiness::Inactive,
        _ => Readiness::NotYet,
    }
}

/// The CloudWatch Logs resource policy that lets Amazon MQ publish a region's broker logs, and
/// the reading of others' policies to see whether one already does.
pub struct MqLogsResourcePolicy;

impl MqLogsResourcePolicy {
    /// logmend's policy: only the two write actions, only on `/aws/amazonmq/*` of this account
    /// and region, only for this account's brokers (confused-deputy conditions).
    pub fn document(partition: &str, region: &str, account: &str) -> Value {
        json!({"Version": "2012-10-17", "Statement": [Self::statement(partition, region, account)]})
    }

    /// logmend's statement, merged by its `Sid` into logmend's policy.
    pub fn statement(partition: &str, region: &str, account: &str) -> Value {
        json!({
            "Sid": "AmazonMQBrokerLogsToCloudWatchLogs",
            "Effect": "Allow",
            "Principal": {"Service": MQ_SERVICE},
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("arn:{partition}:logs:{region}:{account}:log-group:{LOG_GROUP_PREFIX}*"),
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": format!("arn:{partition}:mq:{region}:{account}:broker:*")}
            }
        })
    }

    /// Whether a policy document lets Amazon MQ create streams in and write to every log group
    /// of the broker. A statement with a condition logmend cannot evaluate does not count: the
    /// worst outcome is that logmend adds its own narrow policy beside it.
    pub fn covers(document: &str, broker: &BrokerIdentity, log_types: &[LogType]) -> bool {
        let Ok(doc) = serde_json::from_str::<Value>(document) else {
            return false;
        };
        let streams: Vec<String> = log_types
            .iter()
            .map(|t| {
                format!(
                    "arn:{}:logs:{}:{}:log-group:{LOG_GROUP_PREFIX}broker/{}/{}:log-stream:logmend-probe",
                    broker.partition,
                    broker.region,
                    broker.account,
                    broker.id,
                    t.as_str()
                )
            })
            .collect();
        let context = [("aws:SourceAccount", broker.account.as_str()), ("aws:SourceArn", broker.arn.as_str())];
        // Every (action, stream) pair must be allowed.
        ["logs:CreateLogStream", "logs:PutLogEvents"].iter().all(|action| {
            streams.iter().all(|stream| {
                resource_policy::allows(
                    &doc,
                    &Request { principal: Principal::Service(MQ_SERVICE), action, resource: stream, context: &context },
                )
            })
        })
    }
}

/// The broker as a resource policy's conditions see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerIdentity {
    pub id: String,
    pub arn: String,
    pub partition: String,
    pub region: String,
    pub account: String,
}

/// A broker whose logs are off, and what the fix needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerFinding {
    pub broker: BrokerIdentity,
    pub engine: String,
    /// Log types to switch on with UpdateBroker.
    pub missing: Vec<LogType>,
    /// Log types already switched on by a pending change.
    pub pending: Vec<LogType>,
    /// No resource policy lets Amazon MQ write the broker's log groups.
    pub resource_policy_missing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MqStep {
    /// logmend's statement, merged into its policy (other statements kept).
    PutResourcePolicy {
        name: String,
        statement: Value,
    },
    UpdateBroker {
        broker_id: String,
        enable: Vec<LogType>,
    },
    RebootBroker {
        broker_id: String,
    },
}

fn list_names(types: &[LogType]) -> String {
    types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(" and ")
}

/// `arn:PARTITION:mq:REGION:ACCOUNT:broker:…`
fn arn_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "mq", region, account, _] => Some((partition, region, account)),
        _ => None,
    }
}

async fn resource_policy_covers(
    cx: &Context<'_, Clients>,
    broker: &BrokerIdentity,
    log_types: &[LogType],
) -> Result<bool, ControlError> {
    let mut token: Option<String> = None;
    loop {
        let page = cx
            .clients
            .logs
            .describe_resource_policies()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:DescribeResourcePolicies", cx.region, e))?;
        let covered = page
            .resource_policies()
            .iter()
            .filter_map(|p| p.policy_document())
            .any(|doc| MqLogsResourcePolicy::covers(doc, broker, log_types));
        if covered {
            return Ok(true);
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(false),
        }
    }
}

impl Control for MqBrokerLogs {
    type Clients = Clients;
    type Target = BrokerRef;
    type Finding = BrokerFinding;
    type Step = MqStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<BrokerRef>, EventError> {
        // CreateBroker names the new id only in its response; the others carry the URL's
        // path parameter, kebab-case.
        let id = event
            .response_str("brokerId")
            .or_else(|| event.request_parameters.str("broker-id"))
            .or_else(|| event.request_parameters.str("brokerId"))
            .ok_or(EventError::MissingField { field: "detail.requestParameters.broker-id" })?;
        Ok(vec![BrokerRef(id.to_owned())])
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<BrokerRef>, ControlError> {
        let mut pages = cx.clients.mq.list_brokers().into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("mq:ListBrokers", cx.region, e))?;
            out.extend(page.broker_summaries().iter().filter_map(|b| b.broker_id().map(|id| BrokerRef(id.to_owned()))));
        }
        Ok(out)
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        target: &BrokerRef,
    ) -> Result<Checked<BrokerFinding>, ControlError> {
        let gone = |reason: &str| Checked { resource: target.0.clone(), state: State::Skipped(reason.to_owned()) };
        let b = match cx.clients.mq.describe_broker().broker_id(&target.0).send().await {
            Ok(b) => b,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => {
                return Ok(gone("the broker no longer exists"));
            }
            Err(e) => return Err(AwsError::from_sdk("mq:DescribeBroker", &target.0, e).into()),
        };
        let arn = b.broker_arn().unwrap_or(&target.0).to_owned();
        let (partition, region, account) = match arn_parts(&arn) {
            Some((p, r, a)) => (p.to_owned(), r.to_owned(), a.to_owned()),
            None => ("aws".to_owned(), cx.region.to_owned(), cx.account.unwrap_or_default().to_owned()),
        };
        let resource = arn.clone();
        let tags = b.tags().into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str()));
        if is_exempt(cx.config, tags) {
            let reason = format!("tagged {}=true", cx.config.exempt_tag);
            return Ok(Checked { resource, state: State::Skipped(reason) });
        }
        let engine = b.engine_type().map(|e| e.as_str().to_owned()).unwrap_or_else(|| "(none)".into());
        let Some(wanted) = b.engine_type().and_then(wanted_logs) else {
            let reason = format!("engine {engine} is not one whose log types logmend knows (ActiveMQ, RabbitMQ)");
            return Ok(Checked { resource, state: State::Skipped(reason) });
        };
        let state = b.broker_state().map_or("(none)", |s| s.as_str()).to_owned();
        match readiness(b.broker_state()) {
            Readiness::Ready => {}
            Readiness::Inactive => {
                return Ok(Checked { resource, state: State::Skipped(format!("broker is {state}")) });
            }
            Readiness::NotYet => {
                let reason = format!("broker is {state}; its logs are checked again when it is RUNNING");
                return Ok(Checked { resource, state: State::Deferred(reason) });
            }
        }
        let logs = b.logs();
        let flag = |t: LogType| {
            let pending = logs.and_then(|l| l.pending());
            match t {
                LogType::General => {
                    LogFlag { on: logs.and_then(|l| l.general()), pending: pending.and_then(|p| p.general()) }
                }
                LogType::Audit => {
                    LogFlag { on: logs.and_then(|l| l.audit()), pending: pending.and_then(|p| p.audit()) }
                }
            }
        };
        let assessment = assess_logs(wanted, flag);
        let broker = BrokerIdentity { id: target.0.clone(), arn, partition, region, account };
        let covered = resource_policy_covers(cx, &broker, wanted).await?;

        if assessment.missing.is_empty() && covered {
            if assessment.pending.is_empty() {
                let reason = format!("{} logs on", list_names(wanted));
                return Ok(Checked { resource, state: State::Compliant(reason) });
            }
            let reason = format!(
                "{} logs enabled; the change applies at the next reboot or maintenance window",
                list_names(&assessment.pending)
            );
            return Ok(Checked { resource, state: State::Pending(reason) });
        }
        let mut problems = Vec::new();
        if !assessment.missing.is_empty() {
            problems.push(format!("{engine} broker has {} logs off", list_names(&assessment.missing)));
        }
        if !covered {
            problems.push(format!(
                "no CloudWatch Logs resource policy lets {MQ_SERVICE} write to {LOG_GROUP_PREFIX}broker/{}/",
                broker.id
            ));
        }
        Ok(Checked {
            resource,
            state: State::Noncompliant {
                reason: problems.join("; "),
                finding: BrokerFinding {
                    broker,
                    engine,
                    missing: assessment.missing,
                    pending: assessment.pending,
                    resource_policy_missing: !covered,
                },
            },
        })
    }

    fn plan(&self, config: &Config, f: &BrokerFinding) -> Vec<MqStep> {
        let mut steps = Vec::new();
        // The policy first: the service publishes only what it may write when the broker
        // (re)starts with the new settings.
        if f.resource_policy_missing {
            let b = &f.broker;
            let statement = MqLogsResourcePolicy::statement(&b.partition, &b.region, &b.account);
            steps.push(MqStep::PutResourcePolicy { name: RESOURCE_POLICY_NAME.into(), statement });
        }
        if !f.missing.is_empty() {
            steps.push(MqStep::UpdateBroker { broker_id: f.broker.id.clone(), enable: f.missing.clone() });
        }
        let waiting = !f.missing.is_empty() || !f.pending.is_empty();
        if waiting && config.mq_reboot == MqReboot::Now {
            steps.push(MqStep::RebootBroker { broker_id: f.broker.id.clone() });
        }
        steps
    }

    fn describe(&self, step: &MqStep) -> Change {
        match step {
            MqStep::PutResourcePolicy { name, .. } => Change::new(
                "logs:PutResourcePolicy",
                format!("{name}: {MQ_SERVICE} may CreateLogStream and PutLogEvents in {LOG_GROUP_PREFIX}*"),
            ),
            MqStep::UpdateBroker { enable, .. } => {
                let detail: Vec<String> = enable
                    .iter()
                    .map(|t| match t {
                        LogType::General => "Logs.General=true".to_owned(),
                        LogType::Audit => "Logs.Audit=true".to_owned(),
                    })
                    .collect();
                Change::new("mq:UpdateBroker", detail.join(" "))
            }
            MqStep::RebootBroker { broker_id } => {
                Change::new("mq:RebootBroker", format!("{broker_id} (LOGMEND_MQ_REBOOT=now)"))
            }
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        f: &BrokerFinding,
        plan: &[MqStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            if let Err(error) = apply_step(cx, step).await {
                return Err(ApplyError { done, error });
            }
            done.push(self.describe(step));
        }
        let rebooted = plan.iter().any(|s| matches!(s, MqStep::RebootBroker { .. }));
        let switched: Vec<LogType> = f.missing.iter().chain(&f.pending).copied().collect();
        if switched.is_empty() {
            return Ok(Applied::Fixed(format!(
                "resource policy {RESOURCE_POLICY_NAME} lets {MQ_SERVICE} write the broker's logs"
            )));
        }
        if rebooted {
            return Ok(Applied::Fixed(format!(
                "{} logs enabled; broker rebooting to apply them",
                list_names(&switched)
            )));
        }
        Ok(Applied::Pending(format!(
            "{} logs enabled; applies at the next reboot or maintenance window (LOGMEND_MQ_REBOOT=never)",
            list_names(&switched)
        )))
    }
}

async fn apply_step(cx: &Context<'_, Clients>, step: &MqStep) -> Result<(), ControlError> {
    let c = &cx.clients;
    match step {
        MqStep::PutResourcePolicy { statement, .. } => {
            Ok(logmend_logs_policy::merge_statement(&c.logs, cx.region, |_| statement.clone()).await?)
        }
        MqStep::UpdateBroker { broker_id, enable } => {
            // Only the missing types are sent; AWS leaves the others as they are.
            let mut logs = aws_sdk_mq::types::Logs::builder();
            for t in enable {
                logs = match t {
                    LogType::General => logs.general(true),
                    LogType::Audit => logs.audit(true),
                };
            }
            c.mq.update_broker()
                .broker_id(broker_id)
                .logs(logs.build())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("mq:UpdateBroker", broker_id, e).into())
        }
        MqStep::RebootBroker { broker_id } => {
            c.mq.reboot_broker()
                .broker_id(broker_id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("mq:RebootBroker", broker_id, e).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logmend_core::decision::Mode;

    fn broker() -> BrokerIdentity {
        BrokerIdentity {
            id: "b-1234".into(),
            arn: "arn:aws:mq:eu-west-1:123456789012:broker:orders:b-1234".into(),
            partition: "aws".into(),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
        }
    }

    fn flags(general: LogFlag, audit: LogFlag) -> impl Fn(LogType) -> LogFlag {
        move |t| if t == LogType::General { general } else { audit }
    }

    const ON: LogFlag = LogFlag { on: Some(true), pending: None };
    const OFF: LogFlag = LogFlag { on: Some(false), pending: None };
    const ABSENT: LogFlag = LogFlag { on: None, pending: None };
    const PENDING_ON: LogFlag = LogFlag { on: Some(false), pending: Some(true) };
    const PENDING_OFF: LogFlag = LogFlag { on: Some(true), pending: Some(false) };

    #[test]
    fn activemq_needs_both_rabbitmq_only_general() {
        assert_eq!(wanted_logs(&EngineType::Activemq), Some(&[LogType::General, LogType::Audit][..]));
        assert_eq!(wanted_logs(&EngineType::Rabbitmq), Some(&[LogType::General][..]));
        let rabbit = assess_logs(wanted_logs(&EngineType::Rabbitmq).unwrap(), flags(ON, OFF));
        assert!(rabbit.missing.is_empty() && rabbit.pending.is_empty(), "audit is never asked of RabbitMQ");
    }

    #[test]
    fn pending_counts_as_on_and_a_pending_switch_off_as_missing() {
        let both = [LogType::General, LogType::Audit];
        let a = assess_logs(&both, flags(ON, PENDING_ON));
        assert_eq!(a, LogsAssessment { missing: vec![], pending: vec![LogType::Audit] });
        let a = assess_logs(&both, flags(PENDING_OFF, ABSENT));
        assert_eq!(a.missing, vec![LogType::General, LogType::Audit]);
        let a = assess_logs(&both, flags(OFF, ON));
        assert_eq!(a.missing, vec![LogType::General]);
    }

    fn finding(missing: Vec<LogType>, policy_missing: bool) -> BrokerFinding {
        BrokerFinding {
            broker: broker(),
            engine: "ACTIVEMQ".into(),
            missing,
            pending: vec![],
            resource_policy_missing: policy_missing,
        }
    }

    #[test]
    fn the_plan_sends_only_what_is_missing_and_reboots_only_when_told() {
        let c = Config::new(Mode::Remediate);
        let steps = MqBrokerLogs.plan(&c, &finding(vec![LogType::Audit], false));
        assert_eq!(steps, vec![MqStep::UpdateBroker { broker_id: "b-1234".into(), enable: vec![LogType::Audit] }]);
        let steps = MqBrokerLogs.plan(&c, &finding(vec![LogType::General, LogType::Audit], true));
        let apis: Vec<&str> = steps.iter().map(|s| MqBrokerLogs.describe(s).api).collect();
        assert_eq!(apis, ["logs:PutResourcePolicy", "mq:UpdateBroker"]);
        assert_eq!(MqBrokerLogs.describe(&steps[1]).detail, "Logs.General=true Logs.Audit=true");
        let mut reboot = Config::new(Mode::Remediate);
        reboot.mq_reboot = MqReboot::Now;
        let steps = MqBrokerLogs.plan(&reboot, &finding(vec![LogType::General], false));
        assert!(matches!(steps.last(), Some(MqStep::RebootBroker { .. })));
        let steps = MqBrokerLogs.plan(&reboot, &finding(vec![], true));
        assert_eq!(steps.len(), 1, "a policy-only fix needs no reboot: {steps:?}");
    }

    #[test]
    fn declared_writes_cover_every_planned_api() {
        let mut reboot = Config::new(Mode::Remediate);
        reboot.mq_reboot = MqReboot::Now;
        for s in MqBrokerLogs.plan(&reboot, &finding(vec![LogType::General], true)) {
            let api = MqBrokerLogs.describe(&s).api;
            assert!(SPEC.writes.iter().any(|p| p.action == api), "{api} not declared");
        }
    }

    #[test]
    fn logmends_own_policy_covers_the_broker_and_nothing_wider() {
        let b = broker();
        let doc = MqLogsResourcePolicy::document("aws", "eu-west-1", "123456789012");
        assert!(MqLogsResourcePolicy::covers(&doc.to_string(), &b, &[LogType::General, LogType::Audit]));
        let other_account = BrokerIdentity {
            account: "999999999999".into(),
            arn: "arn:aws:mq:eu-west-1:999999999999:broker:x:b-1".into(),
            ..b.clone()
        };
        assert!(!MqLogsResourcePolicy::covers(&doc.to_string(), &other_account, &[LogType::General]));
        let other_region = BrokerIdentity { region: "us-east-1".into(), ..b };
        assert!(!MqLogsResourcePolicy::covers(&doc.to_string(), &other_region, &[LogType::General]));
    }

    #[test]
    fn others_policies_are_read_as_iam_would() {
        let b = broker();
        let all = [LogType::General, LogType::Audit];
        let aws_docs_example = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"Service":"mq.amazonaws.com"},"Action":["logs:CreateLogStream","logs:PutLogEvents"],
            "Resource":"arn:aws:logs:*:*:log-group:/aws/amazonmq/*"}]});
        assert!(MqLogsResourcePolicy::covers(&aws_docs_example.to_string(), &b, &all));
        let wildcard_action = json!({"Statement":{"Effect":"Allow","Principal":{"Service":["es.amazonaws.com","mq.amazonaws.com"]},
            "Action":"logs:*","Resource":"*"}});
        assert!(MqLogsResourcePolicy::covers(&wildcard_action.to_string(), &b, &all));
        let only_put = json!({"Statement":[{"Effect":"Allow","Principal":{"Service":"mq.amazonaws.com"},
            "Action":"logs:PutLogEvents","Resource":"*"}]});
        assert!(!MqLogsResourcePolicy::covers(&only_put.to_string(), &b, &all));
        let other_service = json!({"Statement":[{"Effect":"Allow","Principal":{"Service":"route53.amazonaws.com"},
            "Action":"logs:*","Resource":"*"}]});
        assert!(!MqLogsResourcePolicy::covers(&other_service.to_string(), &b, &all));
        let general_only = json!({"Statement":[{"Effect":"Allow","Principal":{"Service":"mq.amazonaws.com"},
            "Action":"logs:*","Resource":"arn:aws:logs:*:*:log-group:/aws/amazonmq/broker/*/general:*"}]});
        assert!(MqLogsResourcePolicy::covers(&general_only.to_string(), &b, &[LogType::General]));
        assert!(!MqLogsResourcePolicy::covers(&general_only.to_string(), &b, &all));
        let unknown_condition = json!({"Statement":[{"Effect":"Allow","Principal":{"Service":"mq.amazonaws.com"},
            "Action":"logs:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]});
        assert!(!MqLogsResourcePolicy::covers(&unknown_condition.to_string(), &b, &all));
        let deny = json!({"Statement":[{"Effect":"Deny","Principal":"*","Action":"logs:*","Resource":"*"}]});
        assert!(!MqLogsResourcePolicy::covers(&deny.to_string(), &b, &all));
        assert!(!MqLogsResourcePolicy::covers("not json", &b, &all));
    }

    #[test]
    fn targets_come_from_the_response_or_the_path_parameter() {
        let ev = |detail: Value| {
            ApiCallEvent::from_value(&json!({"detail-type":"AWS API Call via CloudTrail","account":"1","region":"eu-west-1","detail":detail})).unwrap()
        };
        let create = ev(json!({"eventSource":"amazonmq.amazonaws.com","eventName":"CreateBroker",
            "requestParameters":{"brokerName":"orders","users":[{"username":"admin","password":"***"}]},
            "responseElements":{"brokerId":"b-1","brokerArn":"arn:aws:mq:eu-west-1:1:broker:orders:b-1"}}));
        assert_eq!(MqBrokerLogs.targets_in(&create).unwrap(), vec![BrokerRef("b-1".into())]);
        let update = ev(json!({"eventSource":"amazonmq.amazonaws.com","eventName":"UpdateBroker",
            "requestParameters":{"broker-id":"b-2","logs":{"general":true}},"responseElements":{"brokerId":"b-2"}}));
        assert_eq!(MqBrokerLogs.targets_in(&update).unwrap(), vec![BrokerRef("b-2".into())]);
        let reboot = ev(json!({"eventSource":"amazonmq.amazonaws.com","eventName":"RebootBroker",
            "requestParameters":{"broker-id":"b-3"},"responseElements":null}));
        assert_eq!(MqBrokerLogs.targets_in(&reboot).unwrap(), vec![BrokerRef("b-3".into())]);
        let none =
            ev(json!({"eventSource":"amazonmq.amazonaws.com","eventName":"RebootBroker","requestParameters":{}}));
        assert_eq!(
            MqBrokerLogs.targets_in(&none).unwrap_err().to_string(),
            "event field `detail.requestParameters.broker-id` is missing"
        );
    }
}
