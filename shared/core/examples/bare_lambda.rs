//! The cold-start baseline `make bench` sets beside every function: lambda_runtime and one SDK
//! client made from the default configuration, nothing else, on the same local Runtime API.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sqs = &aws_sdk_sqs::Client::new(&sdk);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let _ = sqs.config();
        Ok::<Value, lambda_runtime::Error>(Value::Null)
    }))
    .await
}
