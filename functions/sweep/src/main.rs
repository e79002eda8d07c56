//! Lambda: the scheduled sweep. Evaluates every resource of every enabled control in its
//! region with the same code as the events, so drift from before deployment or a lost event
//! is caught. The schedule's event carries nothing it needs.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use logmend::aws::ClientSettings;
use logmend::sweep::DEFAULT_CONCURRENCY;
use logmend::{Logmend, deployment};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    logmend::telemetry::init();
    let settings = ClientSettings { adaptive_retry: true, ..Default::default() };
    let app = &Logmend::from_lambda_env_with(deployment::SWEEP.controls, settings).await?;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        app.sweep_lambda_handler(DEFAULT_CONCURRENCY)
            .await
            .map_err(|e| Diagnostic { error_type: e.error_type().into(), error_message: e.to_string() })
    }))
    .await
}
