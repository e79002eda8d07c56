//! Reading infra/template.yaml as CloudFormation sees it, to hold its roles and rules equal to
//! what the controls declare. The template writes intrinsic functions in their long form
//! (`Fn::Sub:`), so plain YAML reads it.

use logmend::controls::{Permission, Trigger};
use logmend::decision::Mode;
use logmend::deployment::FunctionSpec;
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

    /// The statements of a role's inline policy, as a mode deploys them: statements under
    /// `Fn::If: [IsRemediate, s, AWS::NoValue]` only in remediate mode.
    pub fn role_statements<'a>(role: &'a Value, policy_name: &str, mode: Mode) -> Vec<&'a Value> {
        let policies = role["Properties"]["Policies"].as_array().map(Vec::as_slice).unwrap_or_default();
        let Some(policy) = policies.iter().find(|p| p["PolicyName"] == policy_name) else {
            return vec![];
        };
        let statements = policy["PolicyDocument"]["Statement"].as_array().map(Vec::as_slice).unwrap_or_default();
        statements
            .iter()
            .filter_map(|s| match s.get("Fn::If") {
                None => Some(s),
                Some(branches) => {
                    assert_eq!(
                        branches[0], "IsRemediate",
                        "a statement is conditioned on something other than the mode"
                    );
                    assert_eq!(branches[2]["Ref"], "AWS::NoValue", "the else branch of a conditioned statement grants");
                    (mode == Mode::Remediate).then_some(&branches[1])
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
    spec: &FunctionSpec,
    declared_for: impl Fn(Mode) -> Vec<(Access, Permission)>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let Some((logical, function)) = template.function(spec.name) else {
        return vec![format!("no function with CodeUri ../target/lambda/{}/", spec.name)];
    };
    let Some(role) = template.role_of(function) else {
        return vec![format!("{logical} has no Role: Fn::GetAtt [<role>, Arn]")];
    };
    for mode in [Mode::Audit, Mode::Remediate] {
        let statements = Template::role_statements(role, "controls", mode);
        let granted = grants(&statements, &mut problems);
        problems.extend(compare_role(spec.name, mode, &granted, &declared_grants(&declared_for(mode))));
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
    for s in Template::role_statements(role, "plumbing", Mode::Remediate) {
        for action in strings(&s["Action"]) {
            if !allowed.contains(action.as_str()) {
                problems.push(format!("{}: plumbing grants {action}", spec.name));
            }
        }
        if s["Resource"].get("Fn::GetAtt").is_none() {
            problems
                .push(format!("{}: plumbing reaches beyond the stack's own resources: {}", spec.name, s["Resource"]));
        }
    }
    if !spec.scheduled {
        problems.extend(check_rule(spec, function));
    } else if !function["Properties"]["Events"].as_object().is_some_and(|e| e.values().any(|v| v["Type"] == "Schedule"))
    {
        problems.push(format!("{}: the scheduled function has no Schedule event", spec.name));
    }
    problems
}

/// The EventBridge rule matches exactly the controls' triggers.
fn check_rule(spec: &FunctionSpec, function: &Value) -> Vec<String> {
    let events = function["Properties"]["Events"].as_object().cloned().unwrap_or_default();
    let rules: Vec<&Value> = events.values().filter(|e| e["Type"] == "EventBridgeRule").collect();
    let [rule] = rules.as_slice() else {
        return vec![format!("{}: {} EventBridge rules, expected one", spec.name, rules.len())];
    };
    let pattern = &rule["Properties"]["Pattern"];
    let triggers: Vec<&Trigger> = spec.controls.iter().flat_map(|c| c.spec().triggers).collect();
    let mut problems = Vec::new();
    let sources: BTreeSet<String> = triggers.iter().map(|t| t.event_source.to_owned()).collect();
    let names: BTreeSet<String> = triggers.iter().flat_map(|t| t.event_names.iter().map(|n| (*n).to_owned())).collect();
    let got_sources: BTreeSet<String> = strings(&pattern["detail"]["eventSource"]).into_iter().collect();
    let got_names: BTreeSet<String> = strings(&pattern["detail"]["eventName"]).into_iter().collect();
    if got_sources != sources {
        problems.push(format!("{}: rule eventSource {got_sources:?}, controls {sources:?}", spec.name));
    }
    if got_names != names {
        problems.push(format!("{}: rule eventName {got_names:?}, controls {names:?}", spec.name));
    }
    if strings(&pattern["detail-type"]) != ["AWS API Call via CloudTrail"] {
        problems.push(format!("{}: rule detail-type {}", spec.name, pattern["detail-type"]));
    }
    problems
}

/// The declared permissions of a function's controls in a mode.
pub fn declared(spec: &FunctionSpec) -> impl Fn(Mode) -> Vec<(Access, Permission)> + '_ {
    move |mode| permissions(spec.controls, mode)
}
