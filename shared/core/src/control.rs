//! The shape every control has: `check` (read, decide) → `plan` (the changes, data only) →
//! `apply` (the writes), and the IAM actions it reads and writes with, declared beside its
//! code. Audit mode is "plan, do not apply", so it cannot drift from remediate mode. The
//! controls themselves live in the family crates; [`crate::registry`] makes them usable
//! behind trait objects, so one list of them drives the CLI, the functions and the template.

use crate::aws::AwsError;
use crate::config::Config;
use crate::decision::{Change, Decision, Mode, Verdict};
use crate::event::ApiCallEvent;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;

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

/// `a` then `b`, as one array: a spec lists a shared store's permissions beside its own
/// (`const READS: [Permission; OWN.len() + STORE.len()] = permissions(OWN, STORE);`). A length
/// that does not add up fails the build.
pub const fn permissions<const N: usize>(a: &[Permission], b: &[Permission]) -> [Permission; N] {
    assert!(a.len() + b.len() == N, "the array's length is not the two lists' lengths added");
    let mut out = [Permission::any(""); N];
    let mut i = 0;
    while i < a.len() {
        out[i] = a[i];
        i += 1;
    }
    while i < N {
        out[i] = b[i - a.len()];
        i += 1;
    }
    out
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
    /// How bad a noncompliant resource is: the Security Hub control's own severity (Security
    /// Hub User Guide, controls reference) where there is one, logmend's judgement where not.
    /// Security Hub findings carry it.
    pub severity: Severity,
    pub resource_type: &'static str,
    pub triggers: &'static [Trigger],
    pub compliant_when: &'static str,
    pub fix: &'static str,
    /// Actions `check` and `list` use; all that audit mode needs.
    pub reads: &'static [Permission],
    /// Actions `apply` uses; granted only in remediate mode.
    pub writes: &'static [Permission],
}

/// ASFF's severity labels (`Severity.Label`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "INFORMATIONAL",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

impl ControlSpec {
    pub fn handles(&self, event: &ApiCallEvent) -> bool {
        self.triggers
            .iter()
            .any(|t| t.event_source == event.event_source && t.event_names.contains(&event.event_name.as_str()))
    }
}

/// What an evaluation runs with: the settings, the family's clients for one region, and the
/// account, when known (the event's, or in a sweep the function's own).
pub struct Context<'a, K> {
    pub config: &'a Config,
    pub clients: &'a K,
    pub region: &'a str,
    pub account: Option<&'a str>,
}

/// The SDK clients a family's controls use, made once per region from the one `SdkConfig`.
/// Each family has one such type, so a function links only its family's SDK crates.
pub trait FamilyClients: Send + Sync + 'static {
    fn new(sdk: &aws_config::SdkConfig) -> Self;
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
    /// Every planned write was made, yet what is left is not logmend's to write (a setting
    /// only the root user can change): the decision stays `noncompliant`, with the changes.
    Partly(String),
}

/// The step type of an audit-only control: no value of it exists, so its plan is always
/// empty and `evaluate` never calls its `apply` with anything to write.
pub type NoStep = std::convert::Infallible;

/// `apply` of an audit-only control (its plan is empty: nothing to do, nothing done).
pub fn audit_only(id: &str, plan: &[NoStep]) -> Result<Applied, ApplyError> {
    match plan.first() {
        Some(step) => match *step {},
        None => Ok(Applied::Partly(format!("{id} is audit only"))),
    }
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

/// `send`, repeated while another service refuses what IAM has not propagated yet (a role made
/// or changed a moment ago: "Changes that I make are not always immediately visible", IAM User
/// Guide, Troubleshooting IAM), with backoff from `iam_propagation_first_backoff` doubling to
/// 16 s, for at most `iam_propagation_timeout`. `propagating` tells those refusals by the SDK's
/// modelled error type.
pub async fn while_iam_propagates<T, E, Fut>(
    config: &Config,
    action: &'static str,
    resource: &str,
    propagating: impl Fn(&E) -> bool,
    mut send: impl FnMut() -> Fut,
) -> Result<T, ControlError>
where
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let started = std::time::Instant::now();
    let mut delay = config.iam_propagation_first_backoff;
    loop {
        let e = match send().await {
            Ok(out) => return Ok(out),
            Err(e) => {
                let retry = e.as_service_error().is_some_and(&propagating);
                let e = AwsError::from_sdk(action, resource, e);
                if !retry {
                    return Err(e.into());
                }
                e
            }
        };
        if started.elapsed() + delay > config.iam_propagation_timeout {
            return Err(ControlError::PropagationTimeout {
                action,
                resource: resource.to_owned(),
                code: e.code_or_kind(),
                waited_secs: started.elapsed().as_secs(),
            });
        }
        tracing::info!(action, resource, code = %e.code_or_kind(), delay_ms = delay.as_millis() as u64, "refused while IAM propagates; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(std::time::Duration::from_secs(16));
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
pub trait Control: Sync + Send + 'static {
    /// The SDK clients this control calls (its family's).
    type Clients: FamilyClients;
    /// What to look at, as named by an event or a listing (a name or an ARN). Serialisable,
    /// because the sweep puts listed targets on the function's queue.
    type Target: std::fmt::Display + Send + Sync + Serialize + DeserializeOwned;
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
        _cx: &Context<'_, Self::Clients>,
        target: Self::Target,
    ) -> impl Future<Output = Result<Vec<Self::Target>, ControlError>> + Send {
        std::future::ready(Ok(vec![target]))
    }

    /// Every resource of the kind in the clients' region (for the sweep).
    fn list(
        &self,
        cx: &Context<'_, Self::Clients>,
    ) -> impl Future<Output = Result<Vec<Self::Target>, ControlError>> + Send;

    /// Read the resource and decide. Reads only.
    fn check(
        &self,
        cx: &Context<'_, Self::Clients>,
        target: &Self::Target,
    ) -> impl Future<Output = Result<Checked<Self::Finding>, ControlError>> + Send;

    /// The writes that would make the resource compliant. Pure: data in, data out. None at
    /// all means logmend may not fix this one: the decision is `noncompliant`, in both modes.
    fn plan(&self, config: &Config, finding: &Self::Finding) -> Vec<Self::Step>;

    fn describe(&self, step: &Self::Step) -> Change;

    /// Make the writes, in order. Each write tolerates "already so", so a run that was cut
    /// short is completed by the next one.
    fn apply(
        &self,
        cx: &Context<'_, Self::Clients>,
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
    /// On a `deferred` decision, the control's target as the JSON a queue message carries: what
    /// its re-check needs, so the queue never holds the event (or its parameters).
    pub target: Option<serde_json::Value>,
}

/// How an evaluation ended, before it is stamped with where and when it happened.
pub struct Outcome<'e> {
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
    pub fn new<K>(
        control: &'static str,
        cx: &Context<'_, K>,
        origin: &Origin,
        resource: String,
        o: Outcome<'_>,
    ) -> Self {
        Evaluation {
            retry: o.error.is_some_and(ControlError::is_transient),
            target: None,
            decision: Decision {
                control,
                account: account_of(&resource).or(origin.account.clone()).unwrap_or_default(),
                resource,
                region: cx.region.to_owned(),
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
pub async fn evaluate<C: Control>(
    control: &C,
    cx: &Context<'_, C::Clients>,
    target: &C::Target,
    origin: &Origin,
) -> Evaluation {
    let mut evaluation = check_plan_apply(control, cx, target, origin).await;
    // Only a deferred resource is queued again, so only it needs its target as JSON (not every
    // resource of a sweep). The targets are the controls' own serialisable types.
    if evaluation.decision.verdict == Verdict::Deferred {
        evaluation.target = serde_json::to_value(target).ok();
    }
    evaluation
}

async fn check_plan_apply<C: Control>(
    control: &C,
    cx: &Context<'_, C::Clients>,
    target: &C::Target,
    origin: &Origin,
) -> Evaluation {
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
    // Seen but not logmend's to change (a delivery role someone else owns): noncompliant in
    // either mode, and nothing is written.
    if cx.config.mode == Mode::Audit || plan.is_empty() {
        return decide(resource, Verdict::Noncompliant, reason, changes, None);
    }
    match control.apply(cx, &finding, &plan).await {
        Ok(Applied::Fixed(r)) => decide(resource, Verdict::Fixed, r, changes, None),
        Ok(Applied::Pending(r)) => decide(resource, Verdict::Pending, r, changes, None),
        Ok(Applied::Partly(r)) => decide(resource, Verdict::Noncompliant, r, changes, None),
        Err(ApplyError { done, error }) => {
            let reason =
                format!("{reason}; {} of {} changes made before the failure: {error}", done.len(), changes.len());
            decide(resource, Verdict::Failed, reason, changes, Some(&error))
        }
    }
}

/// The account field of an ARN (`arn:partition:service:region:account:…`).
pub fn account_of(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    (parts.next() == Some("arn")).then_some(())?;
    parts.nth(3).filter(|a| !a.is_empty()).map(str::to_owned)
}

/// The tag on everything logmend creates, so a person can tell its resources from theirs.
pub const MANAGED_BY_TAG: (&str, &str) = ("managed-by", "logmend");

/// Whether a resource's tags exempt it: the configured key with the value `true`.
pub fn is_exempt<'t>(config: &Config, mut tags: impl Iterator<Item = (&'t str, &'t str)>) -> bool {
    tags.any(|(k, v)| k == config.exempt_tag && v.eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_comes_from_the_arn() {
        assert_eq!(account_of("arn:aws:cloudtrail:us-east-1:123456789012:trail/x").as_deref(), Some("123456789012"));
        assert_eq!(account_of("arn:aws:s3:::bucket"), None);
        assert_eq!(account_of("/aws/cloudtrail/x"), None);
    }
}
