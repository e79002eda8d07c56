//! Lambda: the account service controls (the Config recorder, GuardDuty) on their events.
//! Its schedule's event lists the family's scope onto its queue; the same function
//! evaluates it from there.

use lambda_runtime::{LambdaEvent, service_fn};
use logmend_core::Logmend;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    logmend_core::telemetry::init();
    let app = &Logmend::from_lambda_env(&logmend_account::FAMILY).await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        app.lambda_handler(event.payload, &event.context.invoked_function_arn).await
    }))
    .await
}
