//! Reading resource policies (S3 bucket policies, KMS key policies, CloudWatch Logs resource
//! policies) as IAM evaluates them, for the one request a delivery makes: a service (or an
//! anonymous caller) doing one action on one resource, with the condition keys that request
//! carries. An explicit Deny wins over any Allow (IAM User Guide, "Policy evaluation logic").
//!
//! What logmend cannot evaluate counts against a grant and for a denial: an Allow with an
//! operator or key it does not know grants nothing (logmend then adds its own narrow
//! statement beside it), a Deny with one may refuse (reported; logmend never drops it).

use serde_json::Value;

/// Who makes the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal<'a> {
    /// An AWS service principal (`cloudtrail.amazonaws.com`).
    Service(&'a str),
    /// An AWS account (12 digits), as a policy names it: `"ID"` or `arn:PARTITION:iam::ID:root`
    /// (the regional Elastic Load Balancing account that writes access logs).
    Account(&'a str),
    /// Anyone: an anonymous or foreign caller, matched only by `"*"`.
    Anyone,
    /// The role or user an identity-based policy is attached to: its statements name no
    /// principal, and apply to that identity's own requests.
    Attached,
}

/// One request as the policy sees it. `context` holds the condition keys it carries
/// (`aws:SourceArn`, `aws:SecureTransport`…); keys are compared case-insensitively, as IAM does.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub principal: Principal<'a>,
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a [(&'a str, &'a str)],
}

/// How the policy answers a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Allowed,
    /// No statement allows it.
    NotAllowed,
    /// A Deny statement refuses it (its `Sid`, or its position).
    Denied(String),
}

/// The statements of a policy document (`Statement` may be one object or a list).
pub fn statements(doc: &Value) -> Vec<&Value> {
    as_list(&doc["Statement"])
}

pub fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => vec![],
        other => vec![other],
    }
}

/// The policy's answer to a request.
pub fn evaluate(doc: &Value, req: &Request<'_>) -> Answer {
    let all = statements(doc);
    if let Some((i, s)) = all.iter().enumerate().find(|(_, s)| s["Effect"] == "Deny" && matches(s, req, true)) {
        return Answer::Denied(s["Sid"].as_str().map_or_else(|| format!("statement {}", i + 1), str::to_owned));
    }
    if all.iter().any(|s| s["Effect"] == "Allow" && matches(s, req, false)) {
        Answer::Allowed
    } else {
        Answer::NotAllowed
    }
}

/// Whether some Allow statement grants the request and no Deny refuses it.
pub fn allows(doc: &Value, req: &Request<'_>) -> bool {
    evaluate(doc, req) == Answer::Allowed
}

fn matches_any(patterns: &Value, value: &str, case_insensitive: bool) -> bool {
    as_list(patterns).iter().filter_map(|p| p.as_str()).any(|p| {
        if case_insensitive {
            wildmatch::WildMatch::new(&p.to_ascii_lowercase()).matches(&value.to_ascii_lowercase())
        } else {
            wildmatch::WildMatch::new(p).matches(value)
        }
    })
}

fn principal_matches(principal: &Value, who: Principal<'_>) -> bool {
    let anyone = |v: &Value| as_list(v).iter().any(|x| *x == "*");
    match principal {
        Value::Null => who == Principal::Attached,
        _ if who == Principal::Attached => false,
        Value::String(p) => p == "*",
        Value::Object(p) => {
            p.get("AWS").is_some_and(anyone)
                || match who {
                    Principal::Service(service) => p.get("Service").is_some_and(|v| matches_any(v, service, true)),
                    Principal::Account(id) => p.get("AWS").is_some_and(|v| {
                        as_list(v).iter().filter_map(|x| x.as_str()).any(|x| {
                            x == id
                                || x.strip_suffix(":root")
                                    .and_then(|a| a.rsplit_once("::"))
                                    .is_some_and(|(_, a)| a == id)
                        })
                    }),
                    Principal::Anyone | Principal::Attached => false,
                }
        }
        _ => false,
    }
}

/// Whether one statement applies to the request. `deny` decides what an unknown construct
/// means: for a Deny it applies (may refuse), for an Allow it does not (grants nothing).
fn matches(s: &Value, req: &Request<'_>, deny: bool) -> bool {
    if s.get("NotPrincipal").is_some() {
        return deny;
    }
    let action = match (s.get("Action"), s.get("NotAction")) {
        (Some(a), _) => matches_any(a, req.action, true),
        (None, Some(not)) => !matches_any(not, req.action, true),
        (None, None) => false,
    };
    let resource = match (s.get("Resource"), s.get("NotResource")) {
        (Some(r), _) => matches_any(r, req.resource, false),
        (None, Some(not)) => !matches_any(not, req.resource, false),
        (None, None) => false,
    };
    principal_matches(&s["Principal"], req.principal)
        && action
        && resource
        && conditions_hold(&s["Condition"], req, deny)
}

fn context_value<'a>(req: &Request<'a>, key: &str) -> Option<&'a str> {
    req.context.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| *v)
}

/// Every operator of a Condition block, every key of each: all must hold (IAM's AND), any
/// value of a key may match (IAM's OR).
fn conditions_hold(condition: &Value, req: &Request<'_>, deny: bool) -> bool {
    let Some(ops) = condition.as_object() else {
        return condition.is_null();
    };
    ops.iter().all(|(op, keys)| {
        let Some(keys) = keys.as_object() else { return deny };
        keys.iter().all(|(key, expected)| operator_holds(op, context_value(req, key), expected).unwrap_or(deny))
    })
}

/// One operator on one key; `None`: an operator logmend does not evaluate.
fn operator_holds(op: &str, actual: Option<&str>, expected: &Value) -> Option<bool> {
    let (op, if_exists) = match op.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (op, false),
    };
    if op == "Null" {
        let wants_absent = as_list(expected).iter().any(|e| e.as_str().is_some_and(|e| e.eq_ignore_ascii_case("true")));
        return Some(wants_absent == actual.is_none());
    }
    let Some(actual) = actual else {
        // A missing key fails every positive operator and satisfies every negated one.
        return Some(if_exists || op.contains("Not"));
    };
    let equals = |ci: bool| {
        as_list(expected)
            .iter()
            .filter_map(|e| e.as_str())
            .any(|e| if ci { e.eq_ignore_ascii_case(actual) } else { e == actual })
    };
    Some(match op {
        "StringEquals" | "ArnEquals" => equals(false),
        "StringEqualsIgnoreCase" => equals(true),
        "StringNotEquals" | "ArnNotEquals" => !equals(false),
        "StringNotEqualsIgnoreCase" => !equals(true),
        "StringLike" | "ArnLike" => matches_any(expected, actual, false),
        "StringNotLike" | "ArnNotLike" => !matches_any(expected, actual, false),
        "Bool" => as_list(expected).iter().any(|e| match e {
            Value::Bool(b) => b.to_string() == actual,
            Value::String(s) => s.eq_ignore_ascii_case(actual),
            _ => false,
        }),
        _ => return None,
    })
}

/// A policy with `statement` in place of any statement of the same `Sid`, every other statement
/// kept as it was. A document that is not a JSON object becomes one.
pub fn with_statement(doc: &Value, statement: Value) -> Value {
    let sid = statement["Sid"].clone();
    let mut out = match doc {
        Value::Object(_) => doc.clone(),
        _ => serde_json::json!({ "Version": "2012-10-17" }),
    };
    let mut kept: Vec<Value> =
        statements(doc).into_iter().filter(|s| sid.is_null() || s["Sid"] != sid).cloned().collect();
    kept.push(statement);
    out["Statement"] = Value::Array(kept);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cloudtrail_put<'a>(resource: &'a str, context: &'a [(&'a str, &'a str)]) -> Request<'a> {
        Request { principal: Principal::Service("cloudtrail.amazonaws.com"), action: "s3:PutObject", resource, context }
    }

    #[test]
    fn a_service_statement_with_conditions_allows_only_the_matching_request() {
        let doc = json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/AWSLogs/1/*",
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": "arn:t"}}}});
        let ctx = [("s3:x-amz-acl", "bucket-owner-full-control"), ("aws:SourceArn", "arn:t")];
        assert!(allows(&doc, &cloudtrail_put("arn:aws:s3:::b/AWSLogs/1/CloudTrail/x", &ctx)));
        assert!(!allows(&doc, &cloudtrail_put("arn:aws:s3:::b/other/x", &ctx)));
        let other_trail = [("s3:x-amz-acl", "bucket-owner-full-control"), ("AWS:SOURCEARN", "arn:u")];
        assert!(!allows(&doc, &cloudtrail_put("arn:aws:s3:::b/AWSLogs/1/x", &other_trail)));
    }

    #[test]
    fn a_deny_wins_and_unknown_constructs_count_against_access() {
        let tls = json!({"Sid": "TLS", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
        let allow = json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"});
        let doc = json!({"Statement": [tls, allow]});
        let plain = [("aws:SecureTransport", "false")];
        let anyone = |ctx| Request {
            principal: Principal::Anyone,
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/k",
            context: ctx,
        };
        assert_eq!(evaluate(&doc, &anyone(&plain)), Answer::Denied("TLS".into()));
        assert_eq!(evaluate(&doc, &anyone(&[("aws:SecureTransport", "true")])), Answer::Allowed);
        let vpce_only = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}]});
        assert!(
            matches!(evaluate(&vpce_only, &cloudtrail_put("arn:aws:s3:::b/k", &[])), Answer::Denied(_)),
            "no key: the negated operator holds"
        );
        let unknown = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
            "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}}]});
        assert!(!allows(&unknown, &cloudtrail_put("arn:aws:s3:::b/k", &[])));
    }

    #[test]
    fn an_account_principal_matches_its_id_or_root_arn_only() {
        let put = |id| Request {
            principal: Principal::Account(id),
            action: "s3:PutObject",
            resource: "arn:aws:s3:::b/k",
            context: &[],
        };
        let doc = |p: Value| json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": p}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"}]});
        assert!(allows(&doc(json!("arn:aws:iam::127311923021:root")), &put("127311923021")));
        assert!(allows(&doc(json!(["127311923021"])), &put("127311923021")));
        assert!(!allows(&doc(json!("arn:aws:iam::127311923021:root")), &put("027434742980")));
        assert!(
            !allows(&doc(json!("arn:aws:iam::127311923021:role/x")), &put("127311923021")),
            "a role is not the account"
        );
    }

    #[test]
    fn a_statement_replaces_only_its_own_sid() {
        let doc = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Theirs"}, {"Sid": "Ours", "v": 1}]});
        let out = with_statement(&doc, json!({"Sid": "Ours", "v": 2}));
        assert_eq!(out["Statement"], json!([{"Sid": "Theirs"}, {"Sid": "Ours", "v": 2}]));
        assert_eq!(with_statement(&Value::Null, json!({"Sid": "A"}))["Statement"], json!([{"Sid": "A"}]));
    }
}
