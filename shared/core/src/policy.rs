//! The least-privilege IAM policy, built from what each control declares. `logmend policy`
//! prints it and the deployment template is checked against it, so neither can drift from
//! the code.

use crate::control::{ControlSpec, Permission};
use crate::decision::Mode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The declared permissions of `controls` for `mode`: reads always, writes in remediate.
pub fn permissions(controls: &[&ControlSpec], mode: Mode) -> Vec<(Access, Permission)> {
    let mut out = Vec::new();
    for spec in controls {
        out.extend(spec.reads.iter().map(|p| (Access::Read, *p)));
        if mode == Mode::Remediate {
            out.extend(spec.writes.iter().map(|p| (Access::Write, *p)));
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    Read,
    Write,
}

/// Values for the template placeholders in resource patterns.
#[derive(Debug, Clone)]
pub struct Placeholders {
    pub partition: String,
    pub account: String,
    pub region: String,
}

impl Default for Placeholders {
    fn default() -> Self {
        Self { partition: "aws".into(), account: "*".into(), region: "*".into() }
    }
}

impl Placeholders {
    pub fn fill(&self, pattern: &str) -> String {
        pattern
            .replace("${AWS::Partition}", &self.partition)
            .replace("${AWS::AccountId}", &self.account)
            .replace("${AWS::Region}", &self.region)
    }
}

/// One statement per (access, resource pattern), actions sorted: the smallest exact policy.
pub fn statements(controls: &[&ControlSpec], mode: Mode) -> BTreeMap<(Access, &'static str), BTreeSet<&'static str>> {
    let mut grouped: BTreeMap<(Access, &'static str), BTreeSet<&'static str>> = BTreeMap::new();
    for (access, p) in permissions(controls, mode) {
        grouped.entry((access, p.resource)).or_default().insert(p.action);
    }
    grouped
}

/// One Allow statement, its Sid numbered in the policy's order.
fn statement(index: usize, access: Access, actions: BTreeSet<&'static str>, resource: Value) -> Value {
    json!({
        "Sid": format!("{}{}", match access { Access::Read => "Read", Access::Write => "Write" }, index + 1),
        "Effect": "Allow",
        "Action": actions.into_iter().collect::<Vec<_>>(),
        "Resource": resource,
    })
}

pub fn policy_document(controls: &[&ControlSpec], mode: Mode, placeholders: &Placeholders) -> Value {
    let statements: Vec<Value> = statements(controls, mode)
        .into_iter()
        .enumerate()
        .map(|(i, ((access, resource), actions))| statement(i, access, actions, json!(placeholders.fill(resource))))
        .collect();
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// The statements of `controls` as CloudFormation writes them in a role: resources with
/// placeholders as `Fn::Sub`, and every write statement wrapped in
/// `Fn::If: [<remediate_condition>, …, AWS::NoValue]`, so an audit-mode stack's role holds
/// the reads only. `logmend policy --format cloudformation` prints it for templates.
pub fn cloudformation_statements(controls: &[&ControlSpec], remediate_condition: &str) -> Value {
    let statements: Vec<Value> = statements(controls, Mode::Remediate)
        .into_iter()
        .enumerate()
        .map(|(i, ((access, resource), actions))| {
            let resource = if resource.contains("${") { json!({ "Fn::Sub": resource }) } else { json!(resource) };
            let statement = statement(i, access, actions, resource);
            match access {
                Access::Read => statement,
                Access::Write => json!({ "Fn::If": [remediate_condition, statement, { "Ref": "AWS::NoValue" }] }),
            }
        })
        .collect();
    Value::Array(statements)
}

/// Every action a policy document grants (to compare a policy with the declarations).
pub fn granted_actions(doc: &Value) -> BTreeSet<String> {
    let statements = doc["Statement"].as_array().map(Vec::as_slice).unwrap_or_default();
    statements
        .iter()
        .flat_map(|s| match &s["Action"] {
            Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            Value::String(a) => vec![a.clone()],
            _ => vec![],
        })
        .collect()
}
