//! logmend's CloudWatch Logs resource policy. An account may hold only 10 resource policies per
//! region, of 5,120 characters each (CloudWatch Logs quotas), and services that deliver logs to
//! log groups (Amazon MQ, the log delivery service for WAF, Resolver and vended logs) each need
//! a statement in one: logmend keeps all of its statements in one policy, `logmend-log-delivery`,
//! each under its own `Sid`, and merges rather than replaces, so a family adding its statement
//! keeps every other family's.

use aws_sdk_cloudwatchlogs::Client;
use logmend_core::aws::AwsError;
use logmend_core::resource_policy;
use serde_json::Value;

pub const POLICY_NAME: &str = "logmend-log-delivery";

/// The region's resource policies that parse, with their names.
pub async fn policies(logs: &Client, region: &str) -> Result<Vec<(String, Value)>, AwsError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = logs
            .describe_resource_policies()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:DescribeResourcePolicies", region, e))?;
        for p in page.resource_policies() {
            let doc = p.policy_document().and_then(|d| serde_json::from_str(d).ok());
            if let (Some(name), Some(doc)) = (p.policy_name(), doc) {
                out.push((name.to_owned(), doc));
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// logmend's policy with `statement(current policy)` in place of the statement of its `Sid`;
/// every other statement kept as it was.
pub async fn merge_statement(
    logs: &Client,
    region: &str,
    statement: impl FnOnce(Option<&Value>) -> Value,
) -> Result<(), AwsError> {
    let current = policies(logs, region).await?.into_iter().find(|(n, _)| n == POLICY_NAME).map(|(_, d)| d);
    let doc = resource_policy::with_statement(&current.clone().unwrap_or(Value::Null), statement(current.as_ref()));
    logs.put_resource_policy()
        .policy_name(POLICY_NAME)
        .policy_document(doc.to_string())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("logs:PutResourcePolicy", POLICY_NAME, e))
}
