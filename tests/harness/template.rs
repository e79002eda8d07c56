//! Reading infra/template.yaml as CloudFormation sees it, to hold its roles and rules equal to
//! what the controls declare: a check of the generator's output that does not trust the
//! generator. The template writes intrinsic functions in their long form (`Fn::Sub:`), so
//! plain YAML reads it.

use logmend::Family;
use logmend::controls::{ControlSpec, Permission, Trigger};
use logmend::decision::Mode;
use logmend::policy::{Access, permissions};
use serde_json::Value;
use std::collections::BTreeSet;

pub struct Template(pub Value);

/// One granted (action, resource) pair, the resource as written (`Fn::Sub` text or literal).
pub type Grant = (String, String);

impl Template {
    pub fn load() -> Self {
        let path = crate::repo_root().join("infra/template.yaml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Template(serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
    }

    pub fn resources(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0["Resources"].as_object().expect("Resources").iter()
    }

    /// The function built from `target/lambda/<name>/`.
    pub fn function(&self, name: &str) -> Option<(&String, &Value)> {
        let code = format!("../target/lambda/{name}/");
        self.resources()
            .find(|(_, r)| r["Type"] == "AWS::Serverless::Function" && r["Properties"]["CodeUri"] == code.as_str())
    }

    /// The role a function runs with (`Role: Fn::GetAtt [X, Arn]`).
    pub fn role_of(&self, function: &Value) -> Option<&Value> {
        let logical = function["Properties"]["Role"]["Fn::GetAtt"][0].as_str()?;
        Some(&self.0["Resources"][logical])
    }

    /// The statements of a role's inline policy named `policy_name`, as a mode deploys them.
    pub fn role_statements<'a>(role: &'a Value, policy_name: &str, mode: Mode) -> Vec<&'a Value> {
        let policies = role["Properties"]["Policies"].as_array().map(Vec::as_slice).unwrap_or_default();
        let Some(policy) = policies.iter().find(|p| p["PolicyName"] == policy_name) else {
            return vec![];
        };
        Self::document_statements(&policy["PolicyDocument"], mode)
    }

    /// The managed policies a role attaches (`ManagedPolicyArns: [Ref X, …]`), as resources.
    pub fn managed_policies<'a>(&'a self, role: &'a Value) -> Vec<&'a Value> {
        let arns = role["Properties"]["ManagedPolicyArns"].as_array().map(Vec::as_slice).unwrap_or_default();
        arns.iter().filter_map(|a| a["Ref"].as_str()).map(|logical| &self.0["Resources"][logical]).collect()
    }

    /// Every statement of a role's managed policies, as a mode deploys them.
    pub fn controls_statements<'a>(&'a self, role: &'a Value, mode: Mode) -> Vec<&'a Value> {
        self.managed_policies(role)
            .into_iter()
            .flat_map(|p| Self::document_statements(&p["Properties"]["PolicyDocument"], mode))
            .collect()
    }

    /// A policy document's statements as a mode deploys them: statements under
    /// `Fn::If: [IsRemediate, s, AWS::NoValue]` only in remediate mode; those under an
    /// output's opt-in (`SendsFindings`, `Notifies`) as if it were on, the most they grant.
    pub fn document_statements(document: &Value, mode: Mode) -> Vec<&Value> {
        let statements = document["Statement"].as_array().map(Vec::as_slice).unwrap_or_default();
        statements
            .iter()
            .filter_map(|s| match s.get("Fn::If") {
                None => Some(s),
                Some(branches) => {
                    assert_eq!(branches[2]["Ref"], "AWS::NoValue", "the else branch of a conditioned statement grants");
                    match branches[0].as_str() {
                        Some("IsRemediate") => (mode == Mode::Remediate).then_some(&branches[1]),
                        Some("SendsFindings" | "Notifies") => Some(&branches[1]),
                        other => panic!("a statement is conditioned on {other:?}, not the mode or an output"),
                    }
                }
            })
            .collect()
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => vec![],
    }
}

fn resource_text(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().flat_map(resource_text).collect(),
        Value::Object(o) if o.contains_key("Fn::Sub") => vec![o["Fn::Sub"].as_str().unwrap_or_default().to_owned()],
        Value::String(s) => vec![s.clone()],
        other => vec![other.to_string()],
    }
}

/// What statements grant, as (action, resource) pairs. Anything but plain Allow statements
/// is reported as a problem.
pub fn grants(statements: &[&Value], problems: &mut Vec<String>) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for s in statements {
        if s["Effect"] != "Allow" || s.get("NotAction").is_some() || s.get("NotResource").is_some() {
            problems.push(format!("not a plain Allow statement: {s}"));
            continue;
        }
        if s.get("Condition").is_some() {
            problems.push(format!("a condition logmend does not declare: {s}"));
        }
        for action in strings(&s["Action"]) {
            for resource in resource_text(&s["Resource"]) {
                out.insert((action.clone(), resource));
            }
        }
    }
    out
}

/// What the declarations grant a function's controls in a mode.
pub fn declared_grants(declared: &[(Access, Permission)]) -> BTreeSet<Grant> {
    declared.iter().map(|(_, p)| (p.action.to_owned(), p.resource.to_owned())).collect()
}

/// The differences between a role's `controls` policy and the declarations, in words.
pub fn compare_role(function: &str, mode: Mode, template: &BTreeSet<Grant>, declared: &BTreeSet<Grant>) -> Vec<String> {
    let mut out = Vec::new();
    for (action, resource) in declared.difference(template) {
        out.push(format!("{function} ({}): the template lacks {action} on {resource}", mode.as_str()));
    }
    for (action, resource) in template.difference(declared) {
        out.push(format!(
            "{function} ({}): the template grants {action} on {resource}, which no control declares",
            mode.as_str()
        ));
    }
    out
}

/// Every difference between the template and the declarations for one function: its role in
/// both modes, and (for event functions) its EventBridge rule.
pub fn check_function(
    template: &Template,
    spec: &Family,
    declared_for: impl Fn(Mode) -> Vec<(Access, Permission)>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let name = spec.function;
    let Some((logical, function)) = template.function(name) else {
        return vec![format!("no function with CodeUri ../target/lambda/{name}/")];
    };
    let Some(role) = template.role_of(function) else {
        return vec![format!("{logical} has no Role: Fn::GetAtt [<role>, Arn]")];
    };
    for mode in [Mode::Audit, Mode::Remediate] {
        let statements = template.controls_statements(role, mode);
        let granted = grants(&statements, &mut problems);
        problems.extend(compare_role(name, mode, &granted, &declared_grants(&declared_for(mode))));
    }
    // The plumbing policy reaches only the stack's own log group and queues.
    let allowed: BTreeSet<&str> = [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
    ]
    .into();
    // The outputs' two actions, each on one resource: the account's own Security Hub product
    // and the notify topic.
    let own_product = serde_json::json!({ "Fn::Sub": "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:product/${AWS::AccountId}/default" });
    let notify_topic = serde_json::json!({ "Ref": "NotifyTopicArn" });
    for s in Template::role_statements(role, "plumbing", Mode::Remediate) {
        let actions = strings(&s["Action"]);
        if actions == ["securityhub:BatchImportFindings"] && s["Resource"] == own_product
            || actions == ["sns:Publish"] && s["Resource"] == notify_topic
        {
            continue;
        }
        for action in actions {
            if !allowed.contains(action.as_str()) {
                problems.push(format!("{name}: plumbing grants {action}"));
            }
        }
        if s["Resource"].get("Fn::GetAtt").is_none() {
            problems.push(format!("{name}: plumbing reaches beyond the stack's own resources: {}", s["Resource"]));
        }
    }
    problems.extend(check_rules(spec, function));
    let events = function["Properties"]["Events"].as_object().cloned().unwrap_or_default();
    if !events.values().any(|v| v["Type"] == "Schedule") {
        problems.push(format!("{name}: no Schedule event, so its sweep never runs"));
    }
    let queue = events.values().find(|v| v["Type"] == "SQS");
    match queue {
        None => problems.push(format!("{name}: no SQS event source for its queue")),
        Some(q) => {
            let p = &q["Properties"];
            if p["FunctionResponseTypes"] != serde_json::json!(["ReportBatchItemFailures"]) {
                problems.push(format!("{name}: the queue's failures are not reported per item"));
            }
            if p["ScalingConfig"]["MaximumConcurrency"].is_null() {
                problems.push(format!("{name}: the queue's concurrency is unbounded"));
            }
            let queue_logical = p["Queue"]["Fn::GetAtt"][0].as_str().unwrap_or_default();
            if function["Properties"]["Environment"]["Variables"]["LOGMEND_QUEUE_URL"]["Ref"] != queue_logical {
                problems.push(format!("{name}: LOGMEND_QUEUE_URL is not the queue it consumes"));
            }
        }
    }
    problems
}

/// The EventBridge rules, one per event source, match exactly the controls' triggers there,
/// with the top-level `source` EventBridge gives that service's CloudTrail events.
fn check_rules(spec: &Family, function: &Value) -> Vec<String> {
    let name = spec.function;
    let events = function["Properties"]["Events"].as_object().cloned().unwrap_or_default();
    let rules: Vec<&Value> = events.values().filter(|e| e["Type"] == "EventBridgeRule").collect();
    let triggers: Vec<&Trigger> = spec.specs().flat_map(|c| c.triggers).collect();
    let sources: BTreeSet<&str> = triggers.iter().map(|t| t.event_source).collect();
    let mut problems = Vec::new();
    if rules.len() != sources.len() {
        problems.push(format!("{name}: {} EventBridge rules for {} event sources", rules.len(), sources.len()));
    }
    for source in sources {
        let names: BTreeSet<String> = triggers
            .iter()
            .filter(|t| t.event_source == source)
            .flat_map(|t| t.event_names.iter().map(|n| (*n).to_owned()))
            .collect();
        let Some(rule) =
            rules.iter().find(|r| strings(&r["Properties"]["Pattern"]["detail"]["eventSource"]) == [source])
        else {
            problems.push(format!("{name}: no rule for eventSource {source}"));
            continue;
        };
        let pattern = &rule["Properties"]["Pattern"];
        let top_source = format!("aws.{}", source.trim_end_matches(".amazonaws.com"));
        if strings(&pattern["source"]) != [top_source.clone()] {
            problems
                .push(format!("{name}: rule for {source} has source {}, expected [{top_source}]", pattern["source"]));
        }
        let got_names: BTreeSet<String> = strings(&pattern["detail"]["eventName"]).into_iter().collect();
        if got_names != names {
            problems.push(format!("{name}: rule eventName {got_names:?}, controls {names:?}"));
        }
        if strings(&pattern["detail-type"]) != ["AWS API Call via CloudTrail"] {
            problems.push(format!("{name}: rule detail-type {}", pattern["detail-type"]));
        }
        if pattern["detail"]["errorCode"] != serde_json::json!([{"exists": false}]) {
            problems.push(format!("{name}: rule does not exclude failed calls"));
        }
    }
    problems
}

/// The declared permissions of a function's controls in a mode.
pub fn declared(spec: &Family) -> impl Fn(Mode) -> Vec<(Access, Permission)> + '_ {
    move |mode| {
        let specs: Vec<&ControlSpec> = spec.specs().collect();
        permissions(&specs, mode)
    }
}
