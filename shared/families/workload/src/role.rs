//! What a customer's IAM role may do, read from its own policies: the inline ones and the
//! managed ones attached to it (their default versions), evaluated as IAM evaluates
//! identity-based policies (an explicit Deny wins). Permissions boundaries, SCPs and session
//! policies can only narrow this, so a role this finds lacking truly lacks; one it finds able
//! may still be refused by them, which the service's own answer then shows.

use logmend_core::aws::AwsError;
use logmend_core::control::ControlError;
use logmend_core::resource_policy::{self, Principal, Request};
use serde_json::Value;

/// What `role_policies` reads: a control that calls it declares these among its reads.
pub const ROLE_READS: [logmend_core::control::Permission; 5] = [
    logmend_core::control::Permission::any("iam:ListRolePolicies"),
    logmend_core::control::Permission::any("iam:GetRolePolicy"),
    logmend_core::control::Permission::any("iam:ListAttachedRolePolicies"),
    logmend_core::control::Permission::any("iam:GetPolicy"),
    logmend_core::control::Permission::any("iam:GetPolicyVersion"),
];

/// A role's name from its ARN (`arn:aws:iam::ACCOUNT:role/PATH/NAME`).
pub fn role_name(arn: &str) -> Option<&str> {
    arn.split_once(":role/").map(|(_, rest)| rest.rsplit('/').next().unwrap_or(rest)).filter(|n| !n.is_empty())
}

fn decode(document: &str) -> Option<Value> {
    let decoded = urlencoding::decode(document).map(|c| c.into_owned()).unwrap_or_else(|_| document.to_owned());
    serde_json::from_str(&decoded).ok()
}

/// Every policy document of the role; `Ok(None)`: the role does not exist.
pub async fn role_policies(iam: &aws_sdk_iam::Client, role_arn: &str) -> Result<Option<Vec<Value>>, ControlError> {
    let Some(name) = role_name(role_arn) else { return Ok(None) };
    let mut docs = Vec::new();
    let mut inline = iam.list_role_policies().role_name(name).into_paginator().send();
    let mut names = Vec::new();
    while let Some(page) = inline.next().await {
        match page {
            Ok(p) => names.extend(p.policy_names().iter().cloned()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => return Ok(None),
            Err(e) => return Err(AwsError::from_sdk("iam:ListRolePolicies", role_arn, e).into()),
        }
    }
    for policy in names {
        let got = iam
            .get_role_policy()
            .role_name(name)
            .policy_name(&policy)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam:GetRolePolicy", role_arn, e))?;
        docs.extend(decode(got.policy_document()));
    }
    let mut attached = iam.list_attached_role_policies().role_name(name).into_paginator().send();
    let mut arns = Vec::new();
    while let Some(page) = attached.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("iam:ListAttachedRolePolicies", role_arn, e))?;
        arns.extend(page.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_owned)));
    }
    for arn in arns {
        let policy =
            iam.get_policy().policy_arn(&arn).send().await.map_err(|e| AwsError::from_sdk("iam:GetPolicy", &arn, e))?;
        let Some(version) = policy.policy().and_then(|p| p.default_version_id()) else { continue };
        let got = iam
            .get_policy_version()
            .policy_arn(&arn)
            .version_id(version)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam:GetPolicyVersion", &arn, e))?;
        docs.extend(got.policy_version().and_then(|v| v.document()).and_then(decode));
    }
    Ok(Some(docs))
}

/// The actions of `wanted` that the documents together do not allow on `resource`.
pub fn missing_actions(docs: &[Value], wanted: &[&'static str], resource: &str) -> Vec<&'static str> {
    let all = Value::Array(docs.iter().flat_map(|d| resource_policy::statements(d).into_iter().cloned()).collect());
    let doc = serde_json::json!({ "Statement": all });
    wanted
        .iter()
        .copied()
        .filter(|action| {
            let req = Request { principal: Principal::Attached, action, resource, context: &[] };
            !resource_policy::allows(&doc, &req)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn actions_are_granted_by_any_document_and_a_deny_in_another_wins() {
        let logs = json!({"Statement": [{"Effect": "Allow", "Action": "logs:*LogDeliver*", "Resource": "*"}]});
        let more = json!({"Statement": {"Effect": "Allow", "Action": ["logs:PutResourcePolicy"], "Resource": "*"}});
        let wanted = ["logs:CreateLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy"];
        assert_eq!(missing_actions(std::slice::from_ref(&logs), &wanted, "*"), ["logs:PutResourcePolicy"]);
        assert!(missing_actions(&[logs.clone(), more.clone()], &wanted, "*").is_empty());
        let deny = json!({"Statement": [{"Effect": "Deny", "Action": "logs:CreateLogDelivery", "Resource": "*"}]});
        assert_eq!(missing_actions(&[logs, more, deny], &wanted, "*"), ["logs:CreateLogDelivery"]);
        let resource_policy =
            json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]});
        assert_eq!(
            missing_actions(&[resource_policy], &wanted, "*").len(),
            3,
            "a statement with a principal is not the role's"
        );
        assert_eq!(role_name("arn:aws:iam::123456789012:role/service-role/orders-sfn"), Some("orders-sfn"));
    }
}
