//! One invocation in, decisions out. A family's function receives three kinds of input: an
//! EventBridge API-call event (the first check), its schedule's event (the sweep: list and
//! queue), and a batch from its own queue (re-checks and listed resources). The Lambda
//! functions, `logmend handle` and the tests call the same methods.

use crate::aws::{AwsError, ClientSettings, load_sdk_config};
use crate::config::{Config, ConfigError};
use crate::control::{ControlSpec, Evaluation, account_of};
use crate::decision::Decision;
use crate::event::{ApiCallEvent, EventError};
use crate::outputs::{OutputError, Outputs};
use crate::registry::{BoundControl, ClientSet, ControlDef, Env, Family};
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use serde::Deserialize as _;
use serde_json::Value;

/// The detail-type of an EventBridge schedule's event.
pub const SCHEDULED_DETAIL_TYPE: &str = "Scheduled Event";

/// What a function or the CLI runs with: settings, the region, the controls it hosts bound
/// to their clients (a Lambda hosts one family; the CLI all), and the queue client.
pub struct Logmend {
    pub config: Config,
    pub region: String,
    /// The function's queue (re-checks and the sweep's listed resources).
    pub sqs: aws_sdk_sqs::Client,
    sts: aws_sdk_sts::Client,
    controls: Vec<Box<dyn BoundControl>>,
    /// Security Hub findings and notifications, when the settings ask for them.
    outputs: Outputs,
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
    RecheckQueue(AwsError),
    /// The sweep could not put listed resources on the queue; the schedule's invocation fails
    /// so Lambda retries it (a repeated sweep is idempotent).
    #[error("the sweep could not queue {unqueued} listed resource(s): {error}")]
    SweepQueue { unqueued: usize, error: String },
    /// The function's queue is not configured (`LOGMEND_QUEUE_URL`), so the sweep cannot fan out.
    #[error("the schedule's event needs LOGMEND_QUEUE_URL (the function's queue) to fan the sweep out")]
    NoQueue,
    /// The decisions were made but their findings or notifications were not all sent; the
    /// invocation fails so Lambda tries again (a fixed resource is then compliant, no write).
    #[error("decisions made but not all sent: {0}")]
    Outputs(#[from] OutputError),
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
            HandlerError::SweepQueue { .. } => "SweepQueueUnavailable",
            HandlerError::NoQueue => "QueueNotConfigured",
            HandlerError::Outputs(e) => e.error_type(),
        }
    }
}

/// The one mapping of logmend's errors onto Lambda's error report, for every function.
impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        lambda_runtime::Diagnostic { error_type: e.error_type().into(), error_message: e.to_string() }
    }
}

/// What a Lambda function receives. `Other` keeps anything else for the lenient parser,
/// which says exactly what is wrong with it.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Invocation {
    Queue(SqsEvent),
    EventBridge(Box<EventBridgeEvent<Value>>),
    Other(serde::de::IgnoredAny),
}

impl Logmend {
    /// Bind `hosted` (those the config enables) to the clients of one region.
    pub fn new(
        config: Config,
        hosted: impl IntoIterator<Item = &'static dyn ControlDef>,
        mut clients: ClientSet,
    ) -> Self {
        let controls =
            hosted.into_iter().filter(|c| config.is_enabled(c.spec().id)).map(|c| c.bind(&mut clients)).collect();
        Self {
            region: clients.region().to_owned(),
            sqs: aws_sdk_sqs::Client::new(clients.sdk()),
            sts: aws_sdk_sts::Client::new(clients.sdk()),
            outputs: Outputs::new(&config, clients.sdk()),
            config,
            controls,
        }
    }

    /// Print each decision (with its metrics) and send its finding and notification, if asked.
    pub async fn publish<'a>(&self, decisions: impl IntoIterator<Item = &'a Decision>) -> Result<(), OutputError> {
        let decisions: Vec<&Decision> = decisions.into_iter().inspect(|d| d.emit()).collect();
        self.send_outputs(decisions).await
    }

    /// Send the findings and notifications of decisions printed elsewhere (the CLI's scan):
    /// all of a sweep at once, so its findings go a hundred to a call.
    pub async fn send_outputs<'a>(&self, decisions: impl IntoIterator<Item = &'a Decision>) -> Result<(), OutputError> {
        // Off (the default), a decision costs nothing here: not even finding its control's spec.
        if self.outputs.is_empty() {
            return Ok(());
        }
        let decisions: Vec<(&Decision, Option<&'static ControlSpec>)> =
            decisions.into_iter().map(|d| (d, self.bound(d.control).map(|c| c.spec()))).collect();
        self.outputs.publish(&decisions).await
    }

    /// What a Lambda function starts with: `LOGMEND_*` settings (an error names every bad
    /// variable), then its family's clients for the function's own region and credentials,
    /// built once. Adaptive retry: the sweep's listed resources come in bursts.
    pub async fn from_lambda_env(family: &'static Family) -> Result<Self, ConfigError> {
        let started = std::time::Instant::now();
        let config = Config::from_env()?;
        config.log_notices();
        for id in config.controls.iter().flatten().filter(|id| !family.specs().any(|s| s.id == id.as_str())) {
            tracing::info!(control = %id, function = family.function, "LOGMEND_CONTROLS names a control of another function; ignored here");
        }
        let config_done = started.elapsed();
        let settings = ClientSettings {
            adaptive_retry: true,
            trusted_roots: crate::aws::TrustedRoots::AmazonTrustServices,
            ..Default::default()
        };
        let sdk = load_sdk_config(&settings).await;
        let sdk_done = started.elapsed();
        let app = Self::new(config, family.controls.iter().copied(), ClientSet::new(&sdk));
        // The cold start's parts (`make bench` reads them with RUST_LOG=logmend_core=debug).
        tracing::debug!(
            config_us = config_done.as_micros() as u64,
            sdk_config_us = (sdk_done - config_done).as_micros() as u64,
            clients_us = (started.elapsed() - sdk_done).as_micros() as u64,
            controls = app.controls.len(),
            "initialised"
        );
        Ok(app)
    }

    /// The controls this instance evaluates: hosted and enabled.
    pub fn active_controls(&self) -> impl Iterator<Item = &dyn BoundControl> {
        self.controls.iter().map(|c| &**c)
    }

    pub(crate) fn bound(&self, id: &str) -> Option<&dyn BoundControl> {
        self.active_controls().find(|c| c.spec().id == id)
    }

    /// The account of the credentials (STS GetCallerIdentity, which needs no permission), for
    /// the CLI's sweep; `None` with a warning if STS cannot say.
    pub async fn caller_account(&self) -> Option<String> {
        match self.sts.get_caller_identity().send().await {
            Ok(out) => out.account().map(str::to_owned),
            Err(e) => {
                let e = AwsError::from_sdk("sts:GetCallerIdentity", &self.region, e);
                tracing::warn!(error = %e, "cannot tell the account; guards that need it treat every resource as this account's");
                None
            }
        }
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
        if event.region != self.region {
            return Err(HandlerError::WrongRegion {
                event_id: event.id.clone(),
                event_region: event.region.clone(),
                function_region: self.region.clone(),
            });
        }
        let env = Env { config: &self.config, account: Some(&event.account) };
        let mut out = Vec::new();
        let mut handled = false;
        for control in self.active_controls().filter(|c| c.spec().handles(&event)) {
            handled = true;
            out.extend(control.handle_event(env, &event).await?);
        }
        if !handled {
            tracing::debug!(event_source = %event.event_source, event_name = %event.event_name, event_id = %event.id, "no active control handles this event");
        }
        Ok(out)
    }

    /// The Lambda entry: an EventBridge API-call event (the first check), the schedule's event
    /// (list and queue the sweep), or a batch from the function's queue. Prints every decision,
    /// and fails the invocation only when a retry (then the DLQ) should take the event.
    ///
    /// `function_arn` is the invoked function's ARN (the Lambda context's); its account is the
    /// only one whose events the function acts on, and the one a sweep acts in.
    pub async fn lambda_handler(&self, raw: Value, function_arn: &str) -> Result<Value, HandlerError> {
        // Boxed: the whole invocation future, inlined, passes rustc's type-depth limit in the mains.
        let result = Box::pin(self.invocation(raw, function_arn)).await;
        if let Err(e) = &result {
            crate::metrics::emit_error(e.error_type(), &e.to_string());
        }
        result
    }

    async fn invocation(&self, raw: Value, function_arn: &str) -> Result<Value, HandlerError> {
        let own_account = account_of(function_arn);
        let own_account = own_account.as_deref();
        let invocation = Invocation::deserialize(&raw).unwrap_or(Invocation::Other(serde::de::IgnoredAny));
        match invocation {
            // Only a batch from SQS: another service's `Records` (S3 notifications, SNS) is not
            // ours, and goes to the lenient parser, which refuses it by name.
            Invocation::Queue(batch) if batch.records.iter().all(|r| r.event_source.as_deref() == Some("aws:sqs")) => {
                let batch = self.queue_batch(&batch.records, own_account).await;
                Ok(serde_json::to_value(batch.response).unwrap_or_default())
            }
            Invocation::EventBridge(e) if e.detail_type == SCHEDULED_DETAIL_TYPE => {
                let sweep_id = e.id.unwrap_or_default();
                let summary = self.schedule_sweep(&sweep_id, own_account).await?;
                Ok(serde_json::to_value(summary).unwrap_or_default())
            }
            Invocation::Queue(_) | Invocation::EventBridge(_) | Invocation::Other(_) => {
                let evaluations = self.handle_checked(&raw, 1, own_account).await?;
                self.publish(evaluations.iter().map(|e| &e.decision)).await?;
                if let Some(err) = retryable_failures(evaluations.iter()) {
                    return Err(err);
                }
                let verdicts: Vec<&str> = evaluations.iter().map(|e| e.decision.verdict.as_str()).collect();
                Ok(serde_json::json!({ "decisions": evaluations.len(), "verdicts": verdicts }))
            }
        }
    }
}
