//! Metrics without log parsing: each decision a function prints carries a CloudWatch embedded
//! metric format (EMF) block, so CloudWatch Logs extracts a `decisions` count per control and
//! verdict from the line itself, and the template can alarm on `failed` and draw a dashboard.
//! The format: CloudWatch User Guide, "Specification: Embedded metric format" (an `_aws` object
//! with `Timestamp` in epoch milliseconds and `CloudWatchMetrics`, each dimension and metric a
//! top-level member of the same JSON object).

use crate::decision::Decision;
use serde_json::{Value, json};

/// The CloudWatch namespace of logmend's own metrics.
pub const NAMESPACE: &str = "Logmend";
/// One per decision, dimensioned by control and verdict, and by verdict alone.
pub const DECISIONS_METRIC: &str = "decisions";
/// One per evaluation or queue message that failed outright (an invalid event, an unreadable
/// message, a finding or notification not sent), dimensioned by what failed.
pub const ERRORS_METRIC: &str = "evaluation_errors";

/// The dimension sets of [`DECISIONS_METRIC`]; the template's alarm and dashboard query these.
pub const DECISION_DIMENSIONS: [&[&str]; 2] = [&["control", "verdict"], &["verdict"]];

fn now_ms() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default()
}

/// The decision's JSON object with its EMF block: the same fields as the CLI prints, plus
/// `_aws` and `decisions: 1`.
pub fn decision_line(decision: &Decision, timestamp_ms: u128) -> String {
    let mut value = serde_json::to_value(decision).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut value {
        map.insert("_aws".into(), emf_block(DECISIONS_METRIC, &DECISION_DIMENSIONS, timestamp_ms));
        map.insert(DECISIONS_METRIC.into(), json!(1));
    }
    value.to_string()
}

/// An EMF line counting one error of `kind` (an `errorType` such as `InvalidEvent`).
pub fn error_line(kind: &str, message: &str, timestamp_ms: u128) -> String {
    json!({
        "_aws": emf_block(ERRORS_METRIC, &[&["error_type"]], timestamp_ms),
        "error_type": kind,
        "message": message,
        ERRORS_METRIC: 1,
    })
    .to_string()
}

fn emf_block(metric: &str, dimensions: &[&[&str]], timestamp_ms: u128) -> Value {
    json!({
        "Timestamp": timestamp_ms as u64,
        "CloudWatchMetrics": [{
            "Namespace": NAMESPACE,
            "Dimensions": dimensions,
            "Metrics": [{ "Name": metric, "Unit": "Count" }],
        }],
    })
}

/// Print [`error_line`] on stdout, beside the decisions.
pub fn emit_error(kind: &str, message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{}", error_line(kind, message, now_ms()));
}

pub(crate) fn emit_decision(decision: &Decision) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{}", decision_line(decision, now_ms()));
}

/// What CloudWatch makes of one EMF line: `(namespace, dimensions → values, metric → value)` for
/// each metric directive, read the way the EMF specification says (dimension values are the
/// top-level string members the dimension sets name; a dimension set naming a missing member
/// makes the line invalid). The tests read the functions' output with it.
pub fn extract(line: &str) -> Result<Vec<ExtractedMetric>, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let root = value.as_object().ok_or("not a JSON object")?;
    let aws = root.get("_aws").and_then(Value::as_object).ok_or("no _aws object")?;
    aws.get("Timestamp").and_then(Value::as_u64).ok_or("_aws.Timestamp is not epoch milliseconds")?;
    let directives = aws.get("CloudWatchMetrics").and_then(Value::as_array).ok_or("no CloudWatchMetrics array")?;
    let mut out = Vec::new();
    for d in directives {
        let namespace = d.get("Namespace").and_then(Value::as_str).ok_or("a directive has no Namespace")?;
        let sets = d.get("Dimensions").and_then(Value::as_array).ok_or("a directive has no Dimensions")?;
        let metrics = d.get("Metrics").and_then(Value::as_array).ok_or("a directive has no Metrics")?;
        for set in sets {
            let names = set.as_array().ok_or("a dimension set is not an array")?;
            if names.len() > 30 {
                return Err("a dimension set has more than 30 dimensions".into());
            }
            let mut dimensions = Vec::new();
            for name in names {
                let name = name.as_str().ok_or("a dimension name is not a string")?;
                let value = root
                    .get(name)
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("dimension {name:?} is not a top-level string member"))?;
                dimensions.push((name.to_owned(), value.to_owned()));
            }
            for m in metrics {
                let name = m.get("Name").and_then(Value::as_str).ok_or("a metric has no Name")?;
                let value = root
                    .get(name)
                    .and_then(Value::as_f64)
                    .ok_or_else(|| format!("metric {name:?} has no numeric top-level value"))?;
                out.push(ExtractedMetric {
                    namespace: namespace.to_owned(),
                    dimensions: dimensions.clone(),
                    name: name.to_owned(),
                    value,
                    unit: m.get("Unit").and_then(Value::as_str).map(str::to_owned),
                });
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExtractedMetric {
    pub namespace: String,
    pub dimensions: Vec<(String, String)>,
    pub name: String,
    pub value: f64,
    pub unit: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{Mode, Verdict};

    fn decision(verdict: Verdict) -> Decision {
        Decision {
            control: "log-group-retention",
            resource: "arn:aws:logs:us-east-1:123456789012:log-group:/app".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            mode: Mode::Remediate,
            verdict,
            reason: "retention set".into(),
            changes: vec![],
            error_code: None,
            event_id: None,
            event_name: None,
        }
    }

    #[test]
    fn a_decision_counts_once_per_control_and_verdict_and_per_verdict() {
        let line = decision_line(&decision(Verdict::Failed), 1_700_000_000_000);
        let metrics = extract(&line).unwrap();
        let dims = |m: &ExtractedMetric| m.dimensions.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>();
        assert_eq!(metrics.len(), 2);
        assert!(metrics.iter().all(|m| m.namespace == NAMESPACE && m.name == "decisions" && m.value == 1.0));
        assert_eq!(dims(&metrics[0]), ["control=log-group-retention", "verdict=failed"]);
        assert_eq!(dims(&metrics[1]), ["verdict=failed"]);
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["reason"], "retention set", "the decision's own fields stay");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn errors_count_by_type() {
        let metrics = extract(&error_line("InvalidEvent", "no detail", 1)).unwrap();
        assert_eq!(metrics[0].name, ERRORS_METRIC);
        assert_eq!(metrics[0].dimensions, [("error_type".to_owned(), "InvalidEvent".to_owned())]);
    }

    #[test]
    fn the_reader_refuses_what_cloudwatch_would() {
        assert!(extract(r#"{"a":1}"#).unwrap_err().contains("_aws"));
        let missing = r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["x"]],"Metrics":[{"Name":"m"}]}]},"m":1}"#;
        assert!(extract(missing).unwrap_err().contains("\"x\""));
    }
}
