//! One EventBridge event in, one decision per evaluated resource out. The Lambda functions,
//! `logmend handle` and the tests call [`Logmend::handle_event`] directly.

use crate::aws::AwsClients;
use crate::config::Config;
use crate::controls::{self, Context, Control, ControlId, Evaluation, Origin, Outcome};
use crate::decision::Verdict;
use crate::event::{ApiCallEvent, EventError};
use serde_json::Value;

/// What a function or the CLI runs with: settings, clients for one region, and the controls
/// it hosts (a Lambda hosts one family; the CLI all).
pub struct Logmend {
    pub config: Config,
    pub clients: AwsClients,
    hosted: Vec<ControlId>,
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Malformed, or lacking what the control needs. Retrying will not help; the function
    /// fails so the event reaches the dead-letter queue instead of vanishing.
    #[error("invalid event: {0}")]
    InvalidEvent(#[from] EventError),
    #[error("event {event_id:?} is for region {event_region}, but this function acts in {function_region}")]
    WrongRegion { event_id: String, event_region: String, function_region: String },
    /// An event from another account (a forwarded or cross-account bus): this function's
    /// credentials would act on a same-named resource of its own account, so it does nothing.
    #[error("event {event_id:?} is from account {event_account}, but this function acts in {function_account}")]
    WrongAccount { event_id: String, event_account: String, function_account: String },
    /// Some evaluations failed in a way a later try can fix (throttling, 5xx, IAM propagation).
    #[error("{failed} evaluation(s) failed and will be retried; first: {first}")]
    Retryable { failed: usize, first: String },
    /// A deferred event could not be queued for its next check; the invocation fails so
    /// Lambda retries it (then the DLQ) rather than forget it.
    #[error("deferred event could not be queued for its next check: {0}")]
    RecheckQueue(crate::aws::AwsError),
}

/// Failed evaluations that a retry can help, and the first of them, for [`HandlerError::Retryable`].
pub(crate) fn retryable_failures<'a>(evaluations: impl Iterator<Item = &'a Evaluation>) -> Option<HandlerError> {
    let mut failed = 0;
    let mut first = None;
    for e in evaluations.filter(|e| e.retry) {
        failed += 1;
        first.get_or_insert_with(|| format!("{}: {}", e.decision.resource, e.decision.reason));
    }
    first.map(|first| HandlerError::Retryable { failed, first })
}

impl HandlerError {
    /// The Lambda `errorType`, so alarms and the DLQ can tell the classes apart.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::InvalidEvent(_) => "InvalidEvent",
            HandlerError::WrongRegion { .. } => "WrongRegion",
            HandlerError::WrongAccount { .. } => "WrongAccount",
            HandlerError::Retryable { .. } => "Retryable",
            HandlerError::RecheckQueue(_) => "RecheckQueueUnavailable",
        }
    }
}

impl Logmend {
    pub fn new(config: Config, clients: AwsClients) -> Self {
        Self { config, clients, hosted: ControlId::ALL.to_vec() }
    }

    /// What a Lambda function starts with: `LOGMEND_*` settings (an error names every bad
    /// variable), then clients for the function's own region and credentials, built once.
    pub async fn from_lambda_env(hosted: &[ControlId]) -> Result<Self, crate::config::ConfigError> {
        Self::from_lambda_env_with(hosted, crate::aws::ClientSettings::default()).await
    }

    pub async fn from_lambda_env_with(
        hosted: &[ControlId],
        settings: crate::aws::ClientSettings,
    ) -> Result<Self, crate::config::ConfigError> {
        let config = Config::from_env()?;
        config.log_notices();
        let sdk = crate::aws::load_sdk_config(&settings).await;
        Ok(Self::new(config, AwsClients::new(&sdk)).hosting(hosted))
    }

    /// Restrict to the controls a function hosts (still only those the config enables).
    pub fn hosting(mut self, controls: &[ControlId]) -> Self {
        self.hosted = controls.to_vec();
        self
    }

    /// The controls this instance evaluates: hosted and enabled.
    pub fn active_controls(&self) -> Vec<ControlId> {
        self.hosted.iter().copied().filter(|c| self.config.is_enabled(*c)).collect()
    }

    pub(crate) fn context<'a>(&'a self, account: Option<&'a str>) -> Context<'a> {
        Context { config: &self.config, clients: &self.clients, account }
    }

    /// Evaluate every resource the event names, for every active control it triggers.
    /// Decisions come back in the order made; the caller prints them.
    pub async fn handle_event(&self, raw: &Value) -> Result<Vec<Evaluation>, HandlerError> {
        self.handle_event_in(raw, None).await
    }

    /// [`Self::handle_event`], refusing events of an account other than `own_account` (the
    /// Lambda function's, from its ARN).
    pub async fn handle_event_in(
        &self,
        raw: &Value,
        own_account: Option<&str>,
    ) -> Result<Vec<Evaluation>, HandlerError> {
        let event = ApiCallEvent::from_value(raw)?;
        if let Some(own) = own_account.filter(|own| *own != event.account) {
            return Err(HandlerError::WrongAccount {
                event_id: event.id.clone(),
                event_account: event.account.clone(),
                function_account: own.to_owned(),
            });
        }
        if event.region != self.clients.region {
            return Err(HandlerError::WrongRegion {
                event_id: event.id.clone(),
                event_region: event.region.clone(),
                function_region: self.clients.region.clone(),
            });
        }
        let controls: Vec<ControlId> =
            self.active_controls().into_iter().filter(|c| c.spec().handles(&event)).collect();
        if controls.is_empty() {
            tracing::debug!(event_source = %event.event_source, event_name = %event.event_name, event_id = %event.id, "no active control handles this event");
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for id in controls {
            let evaluations = controls::with_control!(id, c => self.evaluate_event(c, &event).await?);
            out.extend(evaluations);
        }
        Ok(out)
    }

    async fn evaluate_event<C: Control>(
        &self,
        control: &C,
        event: &ApiCallEvent,
    ) -> Result<Vec<Evaluation>, HandlerError> {
        let origin = Origin::of(event);
        let cx = self.context(Some(&event.account));
        if let Some(code) = &event.error_code {
            // A failed call changed nothing. Its parameters may be null (AccessDenied).
            let resource = control
                .targets_in(event)
                .ok()
                .and_then(|t| t.first().map(ToString::to_string))
                .unwrap_or_else(|| "(not recorded in the failed call)".into());
            let reason = format!("the {} call failed with {code}; it changed nothing", event.event_name);
            let skipped = Outcome::of(Verdict::Skipped, reason);
            return Ok(vec![Evaluation::new(control.spec().id, &cx, &origin, resource, skipped)]);
        }
        let mut out = Vec::new();
        for named in control.targets_in(event)? {
            let shown = named.to_string();
            match control.expand(&cx, named).await {
                Ok(targets) => {
                    for target in &targets {
                        out.push(controls::evaluate(control, &cx, target, &origin).await);
                    }
                }
                Err(e) => {
                    let failed =
                        Outcome { verdict: Verdict::Failed, reason: e.to_string(), changes: vec![], error: Some(&e) };
                    out.push(Evaluation::new(control.spec().id, &cx, &origin, shown, failed));
                }
            }
        }
        Ok(out)
    }

    /// The Lambda entry: an EventBridge event (the first check) or a batch from the function's
    /// re-check queue. Prints every decision, and fails the invocation only when a retry (then
    /// the DLQ) should take the event.
    ///
    /// `function_arn` is the invoked function's ARN (the Lambda context's); its account is the
    /// only one whose events the function acts on.
    pub async fn lambda_handler(&self, raw: Value, function_arn: &str) -> Result<Value, HandlerError> {
        let own_account = controls::account_of(function_arn);
        if let Some(records) = crate::recheck::sqs_records(&raw) {
            return Ok(self.recheck_batch(records, own_account.as_deref()).await);
        }
        let evaluations = self.handle_checked(&raw, 1, own_account.as_deref()).await?;
        evaluations.iter().for_each(|e| e.decision.emit());
        if let Some(err) = retryable_failures(evaluations.iter()) {
            return Err(err);
        }
        let verdicts: Vec<&str> = evaluations.iter().map(|e| e.decision.verdict.as_str()).collect();
        Ok(serde_json::json!({ "decisions": evaluations.len(), "verdicts": verdicts }))
    }
}
