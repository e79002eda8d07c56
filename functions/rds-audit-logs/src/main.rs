//! Lambda: `rds-cluster-audit-logs` and `rds-instance-log-exports` on RDS and Aurora events.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use logmend::{Logmend, deployment};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    logmend::telemetry::init();
    let app = &Logmend::from_lambda_env(deployment::RDS_AUDIT_LOGS.controls).await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        app.lambda_handler(event.payload, &event.context.invoked_function_arn)
            .await
            .map_err(|e| Diagnostic { error_type: e.error_type().into(), error_message: e.to_string() })
    }))
    .await
}
