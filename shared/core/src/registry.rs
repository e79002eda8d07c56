//! The registry machinery: controls behind trait objects, so one list of them (the families'
//! `CONTROLS`) drives the CLI, every function, the sweep, the policy and the template.
//!
//! A control is written once against the typed [`Control`] trait. The blanket
//! [`ControlDef`] impl makes every such control usable as `&'static dyn ControlDef` (static
//! data: its spec and how to read an event); binding it to the clients of one region gives a
//! [`BoundControl`], which runs the one `check → plan → apply` path for events, listed
//! targets and in-process sweeps alike.

use crate::config::Config;
use crate::control::{self, Context, Control, ControlSpec, Evaluation, FamilyClients, Origin, Outcome};
use crate::decision::{Decision, Verdict};
use crate::event::{ApiCallEvent, EventError};
use aws_config::SdkConfig;
use futures::StreamExt;
use serde_json::Value;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One service family: a crate with its controls and its SDK clients only, and the Lambda
/// function (`functions/<function>/`) that hosts them.
#[derive(Debug)]
pub struct Family {
    /// Short name, e.g. `logs`; the crate is `logmend-<name>`.
    pub name: &'static str,
    /// The function's binary and folder name, and its `target/lambda/<function>/` directory.
    pub function: &'static str,
    /// What the function keeps on, for its description in the template.
    pub title: &'static str,
    /// The family's controls: adding a control is its module and one line here.
    pub controls: &'static [&'static dyn ControlDef],
}

impl Family {
    pub fn specs(&self) -> impl Iterator<Item = &'static ControlSpec> + '_ {
        self.controls.iter().map(|c| c.spec())
    }
}

impl std::fmt::Debug for dyn ControlDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.spec().id)
    }
}

/// A control as static data: what it is, and how it reads an event. Object-safe.
pub trait ControlDef: Sync {
    fn spec(&self) -> &'static ControlSpec;
    /// The resources an event names for this control, as text (for the fuzzer and diagnostics).
    fn named_targets(&self, event: &ApiCallEvent) -> Result<Vec<String>, EventError>;
    /// The control with its family's clients for one region (made once per `ClientSet`).
    fn bind(&'static self, clients: &mut ClientSet) -> Box<dyn BoundControl>;
}

impl<C: Control> ControlDef for C {
    fn spec(&self) -> &'static ControlSpec {
        Control::spec(self)
    }
    fn named_targets(&self, event: &ApiCallEvent) -> Result<Vec<String>, EventError> {
        self.targets_in(event).map(|t| t.iter().map(ToString::to_string).collect())
    }
    fn bind(&'static self, clients: &mut ClientSet) -> Box<dyn BoundControl> {
        Box::new(Bound { control: self, clients: clients.get::<C::Clients>(), region: clients.region.clone() })
    }
}

/// Where an evaluation happens, apart from the clients: the settings and the account.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub config: &'a Config,
    /// The account the event came from, or in a sweep the function's (or caller's) own.
    pub account: Option<&'a str>,
}

/// A control bound to one region's clients: every way logmend evaluates it.
pub trait BoundControl: Send + Sync {
    fn spec(&self) -> &'static ControlSpec;
    /// Evaluate what an event names (a failed call is skipped; targets are expanded).
    fn handle_event<'a>(
        &'a self,
        env: Env<'a>,
        event: &'a ApiCallEvent,
    ) -> BoxFuture<'a, Result<Vec<Evaluation>, EventError>>;
    /// Every resource of the kind in the region, each as the JSON a queue message carries.
    /// A listing failure comes back as its `failed` evaluation.
    fn list<'a>(&'a self, env: Env<'a>) -> BoxFuture<'a, Result<Vec<Value>, Evaluation>>;
    /// Evaluate one listed target (from [`BoundControl::list`], through a queue message).
    fn evaluate_listed<'a>(
        &'a self,
        env: Env<'a>,
        target: Value,
        origin: &'a Origin,
    ) -> BoxFuture<'a, Result<Evaluation, serde_json::Error>>;
    /// List and evaluate in this process, `concurrency` at a time (the CLI's scan).
    fn sweep<'a>(
        &'a self,
        env: Env<'a>,
        concurrency: usize,
        on_decision: &'a mut (dyn FnMut(&Decision) + Send),
    ) -> BoxFuture<'a, Vec<Evaluation>>;
}

/// Evaluations of one listed resource in a sweep (the CLI's, or one queue message of the
/// fanned-out sweep's in one invocation), the first included, while each fails in a way a retry
/// can help (each evaluation's calls have had the SDK's own retries already).
pub const SWEEP_ATTEMPTS: u32 = 3;

struct Bound<C: Control> {
    control: &'static C,
    clients: Arc<C::Clients>,
    region: String,
}

impl<C: Control> Bound<C> {
    fn context<'a>(&'a self, env: Env<'a>) -> Context<'a, C::Clients> {
        Context { config: env.config, clients: &self.clients, region: &self.region, account: env.account }
    }

    fn listing_failed(&self, cx: &Context<'_, C::Clients>, e: &control::ControlError) -> Evaluation {
        let spec = Control::spec(self.control);
        let resource = format!("{} in {}", spec.resource_type, self.region);
        let reason = format!("could not list resources: {e}");
        let failed = Outcome { verdict: Verdict::Failed, reason, changes: vec![], error: Some(e) };
        Evaluation::new(spec.id, cx, &Origin::default(), resource, failed)
    }
}

impl<C: Control> BoundControl for Bound<C> {
    fn spec(&self) -> &'static ControlSpec {
        Control::spec(self.control)
    }

    fn handle_event<'a>(
        &'a self,
        env: Env<'a>,
        event: &'a ApiCallEvent,
    ) -> BoxFuture<'a, Result<Vec<Evaluation>, EventError>> {
        Box::pin(async move {
            let control = self.control;
            let id = Control::spec(control).id;
            let origin = Origin::of(event);
            let cx = self.context(env);
            if let Some(code) = &event.error_code {
                // A failed call changed nothing. Its parameters may be null (AccessDenied).
                let resource = control
                    .targets_in(event)
                    .ok()
                    .and_then(|t| t.first().map(ToString::to_string))
                    .unwrap_or_else(|| "(not recorded in the failed call)".into());
                let reason = format!("the {} call failed with {code}; it changed nothing", event.event_name);
                return Ok(vec![Evaluation::new(id, &cx, &origin, resource, Outcome::of(Verdict::Skipped, reason))]);
            }
            let mut out = Vec::new();
            for named in control.targets_in(event)? {
                let shown = named.to_string();
                match control.expand(&cx, named).await {
                    Ok(targets) => {
                        for target in &targets {
                            out.push(control::evaluate(control, &cx, target, &origin).await);
                        }
                    }
                    Err(e) => {
                        let failed = Outcome {
                            verdict: Verdict::Failed,
                            reason: e.to_string(),
                            changes: vec![],
                            error: Some(&e),
                        };
                        out.push(Evaluation::new(id, &cx, &origin, shown, failed));
                    }
                }
            }
            Ok(out)
        })
    }

    fn list<'a>(&'a self, env: Env<'a>) -> BoxFuture<'a, Result<Vec<Value>, Evaluation>> {
        Box::pin(async move {
            let cx = self.context(env);
            let targets = self.control.list(&cx).await.map_err(|e| self.listing_failed(&cx, &e))?;
            // The targets are the control's own serialisable types: this cannot fail for them.
            Ok(targets.iter().filter_map(|t| serde_json::to_value(t).ok()).collect())
        })
    }

    fn evaluate_listed<'a>(
        &'a self,
        env: Env<'a>,
        target: Value,
        origin: &'a Origin,
    ) -> BoxFuture<'a, Result<Evaluation, serde_json::Error>> {
        Box::pin(async move {
            let target: C::Target = serde_json::from_value(target)?;
            let cx = self.context(env);
            Ok(control::evaluate(self.control, &cx, &target, origin).await)
        })
    }

    fn sweep<'a>(
        &'a self,
        env: Env<'a>,
        concurrency: usize,
        on_decision: &'a mut (dyn FnMut(&Decision) + Send),
    ) -> BoxFuture<'a, Vec<Evaluation>> {
        Box::pin(async move {
            let cx = self.context(env);
            let origin = Origin { account: env.account.map(str::to_owned), ..Origin::default() };
            let targets = match self.control.list(&cx).await {
                Ok(t) => t,
                Err(e) => {
                    let evaluation = self.listing_failed(&cx, &e);
                    on_decision(&evaluation.decision);
                    return vec![evaluation];
                }
            };
            // A hand-run FuturesUnordered rather than `buffer_unordered` over a closure: the
            // closure's borrowed arguments defeat the compiler's proof that this future is Send.
            let mut in_flight = futures::stream::FuturesUnordered::new();
            let mut pending: std::collections::VecDeque<(&C::Target, u32)> = targets.iter().map(|t| (t, 1)).collect();
            let mut out = Vec::with_capacity(targets.len());
            let (cx, origin) = (&cx, &origin);
            loop {
                while in_flight.len() < concurrency.max(1) {
                    let Some((t, attempt)) = pending.pop_front() else { break };
                    in_flight.push(async move { (t, attempt, control::evaluate(self.control, cx, t, origin).await) });
                }
                let Some((t, attempt, e)) = in_flight.next().await else { break };
                // A transient failure (throttling that outlasted the SDK's retries, a 5xx) goes
                // to the back of the line and is evaluated again from the start, as the queue
                // path's batch item failure is: only its last decision is reported.
                if e.retry && attempt < SWEEP_ATTEMPTS {
                    tracing::info!(control = Control::spec(self.control).id, resource = %e.decision.resource,
                        attempt, reason = %e.decision.reason, "transient failure; evaluated again later in this sweep");
                    pending.push_back((t, attempt + 1));
                    continue;
                }
                on_decision(&e.decision);
                out.push(e);
            }
            out
        })
    }
}

/// The clients of one region, each family's made once from one `SdkConfig` when the first
/// of its controls is bound. Tests put in clients of their own (mocks) with [`ClientSet::with`].
pub struct ClientSet {
    sdk: SdkConfig,
    region: String,
    built: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl ClientSet {
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            sdk: sdk.clone(),
            region: sdk.region().map(|r| r.to_string()).unwrap_or_default(),
            built: HashMap::new(),
        }
    }

    /// Use these clients for their family instead of making them from the `SdkConfig`.
    pub fn with<K: FamilyClients>(mut self, clients: K) -> Self {
        self.built.insert(TypeId::of::<K>(), Arc::new(clients));
        self
    }

    pub fn get<K: FamilyClients>(&mut self) -> Arc<K> {
        let sdk = &self.sdk;
        let any = self.built.entry(TypeId::of::<K>()).or_insert_with(|| Arc::new(K::new(sdk))).clone();
        // The map is keyed by the type id of the value it holds.
        any.downcast::<K>().unwrap_or_else(|_| unreachable!("ClientSet holds each type under its own TypeId"))
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn sdk(&self) -> &SdkConfig {
        &self.sdk
    }
}

/// Every control of these families, in order.
pub fn controls_of<'f>(families: &'f [&'f Family]) -> impl Iterator<Item = &'static dyn ControlDef> + 'f {
    families.iter().flat_map(|f| f.controls.iter().copied())
}

/// The control of that id, or an error naming the valid ones.
pub fn find(families: &[&Family], id: &str) -> Result<&'static dyn ControlDef, String> {
    controls_of(families).find(|c| c.spec().id == id).ok_or_else(|| {
        let valid: Vec<&str> = controls_of(families).map(|c| c.spec().id).collect();
        format!("{id:?} is not a control; valid: {}", valid.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_id_names_the_valid_ones() {
        let none: [&Family; 0] = [];
        assert_eq!(find(&none, "x").unwrap_err(), "\"x\" is not a control; valid: ");
    }
}
