//! The one output: every evaluation yields one [`Decision`], printed as one JSON line.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Report only: plan the changes, never apply them.
    Audit,
    Remediate,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Audit => "audit",
            Mode::Remediate => "remediate",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "audit" => Ok(Mode::Audit),
            "remediate" => Ok(Mode::Remediate),
            other => Err(format!("{other:?} is not a mode; use audit or remediate")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Compliant,
    /// Audit mode: the resource needs the listed changes.
    Noncompliant,
    Fixed,
    /// The change is made but takes effect later (reboot, maintenance window).
    Pending,
    /// The resource is not ready; the event is re-checked later.
    Deferred,
    Skipped,
    Failed,
}

impl Verdict {
    pub const ALL: [Verdict; 7] = [
        Verdict::Compliant,
        Verdict::Noncompliant,
        Verdict::Fixed,
        Verdict::Pending,
        Verdict::Deferred,
        Verdict::Skipped,
        Verdict::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compliant => "compliant",
            Verdict::Noncompliant => "noncompliant",
            Verdict::Fixed => "fixed",
            Verdict::Pending => "pending",
            Verdict::Deferred => "deferred",
            Verdict::Skipped => "skipped",
            Verdict::Failed => "failed",
        }
    }
}

/// One write, planned or made: the IAM action and what it sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub api: &'static str,
    pub detail: String,
}

impl Change {
    pub fn new(api: &'static str, detail: impl Into<String>) -> Self {
        Self { api, detail: detail.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub control: &'static str,
    pub resource: String,
    pub account: String,
    pub region: String,
    pub mode: Mode,
    pub verdict: Verdict,
    pub reason: String,
    pub changes: Vec<Change>,
    /// The AWS error code behind a `failed` decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
}

impl Decision {
    pub fn to_json_line(&self) -> String {
        // A struct of strings and enums cannot fail to serialise.
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"decision not serialisable: {e}\"}}"))
    }

    /// The changes as one line, `api detail; api detail`, as reports and findings show them.
    pub fn changes_text(&self) -> String {
        self.changes.iter().map(|c| format!("{} {}", c.api, c.detail)).collect::<Vec<_>>().join("; ")
    }

    /// Print on stdout, one line, with its embedded-metric block ([`crate::metrics`]): in
    /// Lambda stdout goes to CloudWatch Logs, where the lines can be queried as JSON and are
    /// counted as metrics; the CLI prints the same objects without the block.
    pub fn emit(&self) {
        crate::metrics::emit_decision(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_to_the_documented_shape() {
        let d = Decision {
            control: "mq-broker-logs",
            resource: "arn:aws:mq:us-east-1:123456789012:broker:b1:b-1234".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            mode: Mode::Remediate,
            verdict: Verdict::Pending,
            reason: "audit logs enabled; applies at next reboot".into(),
            changes: vec![Change::new("mq:UpdateBroker", "Logs.Audit=true")],
            error_code: None,
            event_id: Some("e-1".into()),
            event_name: Some("CreateBroker".into()),
        };
        let v: serde_json::Value = serde_json::from_str(&d.to_json_line()).unwrap();
        assert_eq!(v["verdict"], "pending");
        assert_eq!(v["mode"], "remediate");
        assert_eq!(v["changes"][0]["api"], "mq:UpdateBroker");
        assert_eq!(v["event_name"], "CreateBroker");
        assert!(v.get("error_code").is_none());
        assert!(!d.to_json_line().contains('\n'));
    }
}
