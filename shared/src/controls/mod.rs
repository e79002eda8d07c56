//! The controls: each one a module with the same shape, `check` (read, decide) → `plan` (the
//! changes, data only) → `apply` (the writes), and the IAM actions it reads and writes with,
//! declared beside its code. Audit mode is "plan, do not apply", so it cannot drift from
//! remediate mode. [`ControlId::ALL`] is the registry that `logmend controls`, `logmend policy`
//! and the deployment template are built from.

pub mod cloudtrail_cloudwatch_logs;
pub mod log_group_retention;
pub mod mq_broker_logs;
pub(crate) mod rds;
pub mod rds_cluster_audit_logs;
pub mod rds_instance_log_exports;

use crate::aws::{AwsClients, AwsError};
use crate::config::Config;
use crate::decision::{Change, Decision, Mode, Verdict};
use crate::event::ApiCallEvent;
use std::future::Future;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ControlId {
    MqBrokerLogs,
    RdsClusterAuditLogs,
    RdsInstanceLogExports,
    CloudtrailCloudwatchLogs,
    LogGroupRetention,
}

/// Run `$body` with `$c` bound to the control value of `$id`: the one place that maps ids to
/// implementations, for the event handler and the sweep alike.
macro_rules! with_control {
    ($id:expr, $c:ident => $body:expr) => {
        match $id {
            $crate::controls::ControlId::MqBrokerLogs => {
                let $c = &$crate::controls::mq_broker_logs::MqBrokerLogs;
                $body
            }
            $crate::controls::ControlId::RdsClusterAuditLogs => {
                let $c = &$crate::controls::rds_cluster_audit_logs::RdsClusterAuditLogs;
                $body
            }
            $crate::controls::ControlId::RdsInstanceLogExports => {
                let $c = &$crate::controls::rds_instance_log_exports::RdsInstanceLogExports;
                $body
            }
            $crate::controls::ControlId::CloudtrailCloudwatchLogs => {
                let $c = &$crate::controls::cloudtrail_cloudwatch_logs::CloudtrailCloudwatchLogs;
                $body
            }
            $crate::controls::ControlId::LogGroupRetention => {
                let $c = &$crate::controls::log_group_retention::LogGroupRetention;
                $body
            }
        }
    };
}
pub(crate) use with_control;

impl ControlId {
    pub const ALL: [ControlId; 5] = [
        ControlId::MqBrokerLogs,
        ControlId::RdsClusterAuditLogs,
        ControlId::RdsInstanceLogExports,
        ControlId::CloudtrailCloudwatchLogs,
        ControlId::LogGroupRetention,
    ];

    pub fn spec(self) -> &'static ControlSpec {
        with_control!(self, c => c.spec())
    }

    pub fn as_str(self) -> &'static str {
        self.spec().id
    }
}

impl std::fmt::Display for ControlId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ControlId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ControlId::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| {
            let valid: Vec<&str> = ControlId::ALL.iter().map(|c| c.as_str()).collect();
            format!("{s:?} is not a control; valid: {}", valid.join(", "))
        })
    }
}

/// One IAM action and the resources it is needed on. Resource patterns use CloudFormation's
/// `${AWS::Partition}` / `${AWS::AccountId}` / `${AWS::Region}` so the template can `!Sub`
/// them; `logmend policy` fills them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub action: &'static str,
    pub resource: &'static str,
}

impl Permission {
    pub const fn any(action: &'static str) -> Self {
        Self { action, resource: "*" }
    }
    pub const fn on(action: &'static str, resource: &'static str) -> Self {
        Self { action, resource }
    }
}

/// An EventBridge match: `detail.eventSource` and the `detail.eventName`s.
#[derive(Debug, Clone, Copy)]
pub struct Trigger {
    pub event_source: &'static str,
    pub event_names: &'static [&'static str],
}

/// What a control is, for people and for the policy: everything here is static data.
#[derive(Debug)]
pub struct ControlSpec {
    pub id: &'static str,
    pub security_hub: &'static [&'static str],
    pub resource_type: &'static str,
    pub triggers: &'static [Trigger],
    pub compliant_when: &'static str,
    pub fix: &'static str,
    /// Actions `check` and `list` use; all that audit mode needs.
    pub reads: &'static [Permission],
    /// Actions `apply` uses; granted only in remediate mode.
    pub writes: &'static [Permission],
}

impl ControlSpec {
    pub fn handles(&self, event: &ApiCallEvent) -> bool {
        self.triggers
            .iter()
            .any(|t| t.event_source == event.event_source && t.event_names.contains(&event.event_name.as_str()))
    }
}

/// What an evaluation runs with.
pub struct Context<'a> {
    pub config: &'a Config,
    pub clients: &'a AwsClients,
    /// The account the event came from, when known.
    pub account: Option<&'a str>,
}

/// Whether a resource's lifecycle state lets logmend change it now, later, or not at all; each
/// control maps its service's states onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Being created, modified, backed up, rebooted…: look again later (`deferred`).
    NotYet,
    /// Stopped, failed, being deleted: nothing to do (`skipped`; the sweep looks again).
    Inactive,
}

/// What `check` found.
#[derive(Debug)]
pub enum State<F> {
    Compliant(String),
    /// A change is made and waits to take effect; nothing to do now.
    Pending(String),
    /// Not ready to be changed (being created, rebooting); look again later.
    Deferred(String),
    Skipped(String),
    Noncompliant {
        finding: F,
        reason: String,
    },
}

#[derive(Debug)]
pub struct Checked<F> {
    /// The resource's ARN (or the best identifier there is).
    pub resource: String,
    pub state: State<F>,
}

/// What `apply` achieved.
#[derive(Debug)]
pub enum Applied {
    Fixed(String),
    Pending(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The account holds something logmend must not change on its own (e.g. a role of the
    /// same name that logmend did not create). Waiting will not help; a person must look.
    #[error("{resource}: {reason}")]
    Conflict { resource: String, reason: String },
    #[error("{action} on {resource} still refused with {code} after {waited_secs} s of retries (IAM propagation)")]
    PropagationTimeout { action: &'static str, resource: String, code: String, waited_secs: u64 },
}

impl ControlError {
    pub fn code(&self) -> String {
        match self {
            ControlError::Aws(e) => e.code_or_kind(),
            ControlError::Conflict { .. } => "Conflict".into(),
            ControlError::PropagationTimeout { code, .. } => code.clone(),
        }
    }

    /// Whether the event should be retried (Lambda's async retries, then the DLQ).
    pub fn is_transient(&self) -> bool {
        match self {
            ControlError::Aws(e) => e.is_transient(),
            ControlError::Conflict { .. } => false,
            ControlError::PropagationTimeout { .. } => true,
        }
    }
}

/// A write that failed part-way: what was done before it, and why it stopped.
#[derive(Debug)]
pub struct ApplyError {
    pub done: Vec<Change>,
    pub error: ControlError,
}

/// The shape every control has. Implementations write `async fn`; the `Send` bound lets the
/// sweep run evaluations on several tasks.
pub trait Control: Sync {
    /// What to look at, as named by an event or a listing (a name or an ARN).
    type Target: std::fmt::Display + Send + Sync;
    /// What `check` observed about a non-compliant resource: the input of `plan`.
    type Finding: Send + Sync;
    /// One planned write.
    type Step: Send + Sync;

    fn spec(&self) -> &'static ControlSpec;

    /// The resources an event names. An event that lacks the identifier the control needs is
    /// malformed for it: the error names the field.
    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<Self::Target>, crate::event::EventError>;

    /// The resources a target stands for, when an event names them only indirectly (a
    /// parameter group: every cluster that uses it). Most targets stand for themselves.
    fn expand(
        &self,
        _cx: &Context<'_>,
        target: Self::Target,
    ) -> impl Future<Output = Result<Vec<Self::Target>, ControlError>> + Send {
        std::future::ready(Ok(vec![target]))
    }

    /// Every resource of the kind in the clients' region (for the sweep).
    fn list(&self, cx: &Context<'_>) -> impl Future<Output = Result<Vec<Self::Target>, ControlError>> + Send;

    /// Read the resource and decide. Reads only.
    fn check(
        &self,
        cx: &Context<'_>,
        target: &Self::Target,
    ) -> impl Future<Output = Result<Checked<Self::Finding>, ControlError>> + Send;

    /// The writes that would make the resource compliant. Pure: data in, data out.
    fn plan(&self, config: &Config, finding: &Self::Finding) -> Vec<Self::Step>;

    fn describe(&self, step: &Self::Step) -> Change;

    /// Make the writes, in order. Each write tolerates "already so", so a run that was cut
    /// short is completed by the next one.
    fn apply(
        &self,
        cx: &Context<'_>,
        finding: &Self::Finding,
        plan: &[Self::Step],
    ) -> impl Future<Output = Result<Applied, ApplyError>> + Send;
}

/// Where an evaluation came from, for the decision record.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub event_id: Option<String>,
    pub event_name: Option<String>,
    pub account: Option<String>,
}

impl Origin {
    pub fn of(event: &ApiCallEvent) -> Self {
        Self {
            event_id: Some(event.id.clone()).filter(|s| !s.is_empty()),
            event_name: Some(event.event_name.clone()),
            account: Some(event.account.clone()),
        }
    }
}

/// A decision and whether the event deserves another try.
#[derive(Debug)]
pub struct Evaluation {
    pub decision: Decision,
    pub retry: bool,
}

/// How an evaluation ended, before it is stamped with where and when it happened.
pub(crate) struct Outcome<'e> {
    pub verdict: Verdict,
    pub reason: String,
    pub changes: Vec<Change>,
    pub error: Option<&'e ControlError>,
}

impl Outcome<'_> {
    pub fn of(verdict: Verdict, reason: String) -> Self {
        Outcome { verdict, reason, changes: vec![], error: None }
    }
}

impl Evaluation {
    /// The one constructor of a decision, for `evaluate`, the handler's skips and the sweep's
    /// listing failures alike. A transient error marks the event for another try.
    pub(crate) fn new(
        control: &'static str,
        cx: &Context<'_>,
        origin: &Origin,
        resource: String,
        o: Outcome<'_>,
    ) -> Self {
        Evaluation {
            retry: o.error.is_some_and(ControlError::is_transient),
            decision: Decision {
                control,
                account: account_of(&resource).or(origin.account.clone()).unwrap_or_default(),
                resource,
                region: cx.clients.region.clone(),
                mode: cx.config.mode,
                verdict: o.verdict,
                reason: o.reason,
                changes: o.changes,
                error_code: o.error.map(ControlError::code),
                event_id: origin.event_id.clone(),
                event_name: origin.event_name.clone(),
            },
        }
    }
}

/// check → plan → (remediate: apply). The one place where a decision is made, for events,
/// the CLI and the sweep alike.
pub async fn evaluate<C: Control>(control: &C, cx: &Context<'_>, target: &C::Target, origin: &Origin) -> Evaluation {
    let id = control.spec().id;
    let decide =
        |resource: String, verdict: Verdict, reason: String, changes: Vec<Change>, error: Option<&ControlError>| {
            Evaluation::new(id, cx, origin, resource, Outcome { verdict, reason, changes, error })
        };

    let checked = match control.check(cx, target).await {
        Ok(c) => c,
        Err(e) => return decide(target.to_string(), Verdict::Failed, e.to_string(), vec![], Some(&e)),
    };
    let resource = checked.resource;
    let (finding, reason) = match checked.state {
        State::Compliant(r) => return decide(resource, Verdict::Compliant, r, vec![], None),
        State::Pending(r) => return decide(resource, Verdict::Pending, r, vec![], None),
        State::Deferred(r) => return decide(resource, Verdict::Deferred, r, vec![], None),
        State::Skipped(r) => return decide(resource, Verdict::Skipped, r, vec![], None),
        State::Noncompliant { finding, reason } => (finding, reason),
    };
    let plan = control.plan(cx.config, &finding);
    let changes: Vec<Change> = plan.iter().map(|s| control.describe(s)).collect();
    if cx.config.mode == Mode::Audit {
        return decide(resource, Verdict::Noncompliant, reason, changes, None);
    }
    match control.apply(cx, &finding, &plan).await {
        Ok(Applied::Fixed(r)) => decide(resource, Verdict::Fixed, r, changes, None),
        Ok(Applied::Pending(r)) => decide(resource, Verdict::Pending, r, changes, None),
        Err(ApplyError { done, error }) => {
            let reason =
                format!("{reason}; {} of {} changes made before the failure: {error}", done.len(), changes.len());
            decide(resource, Verdict::Failed, reason, changes, Some(&error))
        }
    }
}

/// The resources an event names for a control, as text: what the handler would evaluate
/// (for the fuzzer and for diagnostics).
pub fn named_targets(id: ControlId, event: &ApiCallEvent) -> Result<Vec<String>, crate::event::EventError> {
    with_control!(id, c => c.targets_in(event).map(|t| t.iter().map(ToString::to_string).collect()))
}

/// The account field of an ARN (`arn:partition:service:region:account:…`).
pub fn account_of(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    (parts.next() == Some("arn")).then_some(())?;
    parts.nth(3).filter(|a| !a.is_empty()).map(str::to_owned)
}

/// Whether a resource's tags exempt it: the configured key with the value `true`.
pub fn is_exempt<'t>(config: &Config, mut tags: impl Iterator<Item = (&'t str, &'t str)>) -> bool {
    tags.any(|(k, v)| k == config.exempt_tag && v.eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_declares_valid_reads_and_writes() {
        for id in ControlId::ALL {
            let spec = id.spec();
            assert!(!spec.reads.is_empty(), "{id} declares no read action");
            assert!(!spec.writes.is_empty(), "{id} declares no write action");
            for p in spec.reads.iter().chain(spec.writes) {
                let (service, action) =
                    p.action.split_once(':').unwrap_or_else(|| panic!("{id}: {:?} is not service:Action", p.action));
                assert!(
                    !service.is_empty() && service.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                    "{id}: {}",
                    p.action
                );
                assert!(
                    action.starts_with(|c: char| c.is_ascii_uppercase()) && action.chars().all(char::is_alphanumeric),
                    "{id}: {}",
                    p.action
                );
                assert!(
                    p.resource == "*" || p.resource.starts_with("arn:${AWS::Partition}:"),
                    "{id}: {:?}",
                    p.resource
                );
            }
            assert!(!spec.triggers.is_empty(), "{id} has no trigger");
            assert_eq!(id.as_str().parse::<ControlId>(), Ok(id));
        }
    }

    #[test]
    fn unknown_control_names_the_valid_ones() {
        let err = "nope".parse::<ControlId>().unwrap_err();
        assert!(err.contains("cloudtrail-cloudwatch-logs"), "{err}");
    }

    #[test]
    fn account_comes_from_the_arn() {
        assert_eq!(account_of("arn:aws:cloudtrail:us-east-1:123456789012:trail/x").as_deref(), Some("123456789012"));
        assert_eq!(account_of("arn:aws:s3:::bucket"), None);
        assert_eq!(account_of("/aws/cloudtrail/x"), None);
    }
}
