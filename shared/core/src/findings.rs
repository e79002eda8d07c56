//! Security Hub findings: one ASFF finding per control and resource, on the account's own
//! product (`product/ACCOUNT/default`), updated in place as the resource moves in and out of
//! compliance.
//!
//! AWS facts this relies on (Security Hub Partner Guide, "Guidelines for using the
//! BatchImportFindings API"; API Reference, BatchImportFindings and AwsSecurityFinding):
//! - a batch takes at most 100 findings and 6 MB, a finding at most 240 KB; `Title` at most 256
//!   characters, `Description` at most 1,024;
//! - findings are sent by the account they are about (`AwsAccountId` = the caller);
//! - a finding with the same `Id` and `ProductArn` updates the earlier one, and only when its
//!   `UpdatedAt` is later; an update with an equal or earlier `UpdatedAt` is ignored;
//! - each finding of a batch succeeds or fails on its own (`FailedFindings`), so a 200 answer
//!   can still carry failures; the rate is 10 calls a second with bursts of 30.

use crate::aws::{AwsError, partition_of};
use crate::control::ControlSpec;
use crate::decision::{Decision, Verdict};
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, Compliance, ComplianceStatus, Partition, RecordState, Resource, Severity, SeverityLabel,
};
use serde::Serialize;
use std::time::Duration;

pub const SCHEMA_VERSION: &str = "2018-10-08";
pub const BATCH_MAX_FINDINGS: usize = 100;
pub const BATCH_MAX_BYTES: usize = 6 * 1024 * 1024;
pub const FINDING_MAX_BYTES: usize = 240 * 1024;
const TITLE_MAX_CHARS: usize = 256;
const DESCRIPTION_MAX_CHARS: usize = 1024;
/// `Id`'s limit (ASFF: at most 512 characters).
const ID_MAX_CHARS: usize = 512;
/// Attempts for a finding that came back in `FailedFindings` with a code a later try can fix.
pub const IMPORT_ATTEMPTS: u32 = 3;
/// The one finding type for every control: ASFF's namespace/category/classifier taxonomy.
pub const FINDING_TYPE: &str = "Software and Configuration Checks/AWS Security Best Practices";

/// The IAM action, on the account's product ARN only.
pub const IMPORT_ACTION: &str = "securityhub:BatchImportFindings";

/// The product every account has for its own findings.
pub fn product_arn(region: &str, account: &str) -> String {
    format!("arn:{}:securityhub:{region}:{account}:product/{account}/default", partition_of(region))
}

/// One ASFF finding, as Security Hub stores it (`--format asff` prints these).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Finding {
    pub schema_version: &'static str,
    pub id: String,
    pub product_arn: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub region: String,
    pub types: Vec<&'static str>,
    pub created_at: String,
    pub updated_at: String,
    pub severity: FindingSeverity,
    pub title: String,
    pub description: String,
    pub resources: Vec<FindingResource>,
    pub compliance: FindingCompliance,
    pub record_state: &'static str,
    pub product_fields: std::collections::BTreeMap<&'static str, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FindingSeverity {
    pub label: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FindingResource {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub id: String,
    pub partition: &'static str,
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FindingCompliance {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_control_id: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_requirements: Vec<&'static str>,
}

/// The finding's `Id`: the control and the resource, so a later decision on the same resource
/// updates it. A resource id too long for ASFF's 512 characters is shortened to a prefix and a
/// hash of the whole, still stable.
pub fn finding_id(control: &str, resource: &str) -> String {
    let id = format!("logmend/{control}/{resource}");
    if id.chars().count() <= ID_MAX_CHARS {
        return id;
    }
    let hash = fnv1a(id.as_bytes());
    let keep: String = id.chars().take(ID_MAX_CHARS - 17).collect();
    format!("{keep}#{hash:016x}")
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// ASFF's resource type for a CloudFormation one; `Other` where ASFF has none (log groups,
/// Config recorders, SSM documents).
pub fn asff_resource_type(cloudformation: &str) -> &'static str {
    match cloudformation {
        "AWS::CloudTrail::Trail" => "AwsCloudTrailTrail",
        "AWS::S3::Bucket" => "AwsS3Bucket",
        "AWS::EC2::VPC" => "AwsEc2Vpc",
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => "AwsElbv2LoadBalancer",
        "AWS::ElasticLoadBalancing::LoadBalancer" => "AwsElbLoadBalancer",
        "AWS::WAFv2::WebACL" => "AwsWafv2WebAcl",
        "AWS::CloudFront::Distribution" => "AwsCloudFrontDistribution",
        "AWS::StepFunctions::StateMachine" => "AwsStepFunctionStateMachine",
        "AWS::GuardDuty::Detector" => "AwsGuardDutyDetector",
        "AWS::ECS::TaskDefinition" => "AwsEcsTaskDefinition",
        "AWS::Lambda::Function" => "AwsLambdaFunction",
        "AWS::SNS::Topic" => "AwsSnsTopic",
        "AWS::RDS::DBInstance" => "AwsRdsDbInstance",
        "AWS::RDS::DBCluster" => "AwsRdsDbCluster",
        "AWS::AmazonMQ::Broker" => "AwsAmazonMqBroker",
        "AWS::::Account" => "AwsAccount",
        _ => "Other",
    }
}

/// What a verdict says in ASFF: `None` for `deferred` (the resource is checked again soon, and
/// that decision is the one to record).
pub fn compliance_of(verdict: Verdict) -> Option<(&'static str, &'static str)> {
    match verdict {
        Verdict::Compliant | Verdict::Fixed => Some(("PASSED", "ACTIVE")),
        Verdict::Noncompliant => Some(("FAILED", "ACTIVE")),
        // The change is made but the logs do not flow until it takes effect.
        Verdict::Pending => Some(("WARNING", "ACTIVE")),
        // The check itself failed (a denied read, an outage): ASFF's NOT_AVAILABLE.
        Verdict::Failed => Some(("NOT_AVAILABLE", "ACTIVE")),
        // Exempt, gone, or not logmend's to judge: the finding is archived.
        Verdict::Skipped => Some(("PASSED", "ARCHIVED")),
        Verdict::Deferred => None,
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// RFC 3339 with milliseconds, UTC, as ASFF's timestamps are written.
pub fn rfc3339_millis(at: std::time::SystemTime) -> String {
    let millis = at.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    let whole = aws_smithy_types::DateTime::from_secs((millis / 1000) as i64)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into());
    format!("{}.{:03}Z", whole.trim_end_matches('Z'), millis % 1000)
}

/// The finding for one decision of the control `spec`, stamped `updated_at`; `None` for a
/// deferred one or one without an account (a sweep whose caller STS could not name).
pub fn finding(decision: &Decision, spec: Option<&ControlSpec>, updated_at: &str) -> Option<Finding> {
    let (status, record_state) = compliance_of(decision.verdict)?;
    if decision.account.len() != 12 {
        return None;
    }
    let partition = partition_of(&decision.region);
    let (severity, resource_type, compliant_when, hub) = match spec {
        Some(s) => (s.severity.as_str(), asff_resource_type(s.resource_type), s.compliant_when, s.security_hub),
        None => ("MEDIUM", "Other", "", &[] as &[&str]),
    };
    let label = if status == "PASSED" { "INFORMATIONAL" } else { severity };
    let mut product_fields = std::collections::BTreeMap::new();
    product_fields.insert("logmend/verdict", decision.verdict.as_str().to_owned());
    product_fields.insert("logmend/mode", decision.mode.as_str().to_owned());
    if let Some(code) = &decision.error_code {
        product_fields.insert("logmend/error_code", code.clone());
    }
    if !decision.changes.is_empty() {
        product_fields.insert("logmend/changes", truncate(&decision.changes_text(), 4096));
    }
    Some(Finding {
        schema_version: SCHEMA_VERSION,
        id: finding_id(decision.control, &decision.resource),
        product_arn: product_arn(&decision.region, &decision.account),
        generator_id: format!("logmend/{}", decision.control),
        aws_account_id: decision.account.clone(),
        region: decision.region.clone(),
        types: vec![FINDING_TYPE],
        created_at: updated_at.to_owned(),
        updated_at: updated_at.to_owned(),
        severity: FindingSeverity { label },
        title: truncate(&format!("{}: {compliant_when}", decision.control), TITLE_MAX_CHARS),
        description: truncate(&format!("{}: {}", decision.verdict.as_str(), decision.reason), DESCRIPTION_MAX_CHARS),
        resources: vec![FindingResource {
            kind: resource_type,
            id: decision.resource.clone(),
            partition,
            region: decision.region.clone(),
        }],
        compliance: FindingCompliance {
            status,
            security_control_id: hub.first().copied(),
            related_requirements: hub.to_vec(),
        },
        record_state,
        product_fields,
    })
}

impl Finding {
    /// Its size as sent (the JSON body is what the limits count).
    pub fn size(&self) -> usize {
        serde_json::to_vec(self).map(|v| v.len()).unwrap_or(FINDING_MAX_BYTES + 1)
    }

    pub fn to_sdk(&self) -> AwsSecurityFinding {
        let resource = Resource::builder()
            .r#type(self.resources[0].kind)
            .id(&self.resources[0].id)
            .partition(Partition::from(self.resources[0].partition))
            .region(&self.resources[0].region)
            .build();
        let compliance = Compliance::builder()
            .status(ComplianceStatus::from(self.compliance.status))
            .set_security_control_id(self.compliance.security_control_id.map(str::to_owned))
            .set_related_requirements(
                (!self.compliance.related_requirements.is_empty())
                    .then(|| self.compliance.related_requirements.iter().map(|s| (*s).to_owned()).collect()),
            )
            .build();
        let mut b = AwsSecurityFinding::builder()
            .schema_version(self.schema_version)
            .id(&self.id)
            .product_arn(&self.product_arn)
            .generator_id(&self.generator_id)
            .aws_account_id(&self.aws_account_id)
            .region(&self.region)
            .created_at(&self.created_at)
            .updated_at(&self.updated_at)
            .severity(Severity::builder().label(SeverityLabel::from(self.severity.label)).build())
            .title(&self.title)
            .description(&self.description)
            .resources(resource)
            .compliance(compliance)
            .record_state(RecordState::from(self.record_state));
        for t in &self.types {
            b = b.types(*t);
        }
        for (k, v) in &self.product_fields {
            b = b.product_fields(*k, v);
        }
        b.build()
    }
}

/// Findings cut into batches of at most 100 and 6 MB; a finding over 240 KB is refused before
/// it is sent (it cannot be, whatever the batch).
pub fn batches(findings: Vec<Finding>) -> (Vec<Vec<Finding>>, Vec<ImportFailure>) {
    let mut out: Vec<Vec<Finding>> = Vec::new();
    let mut refused = Vec::new();
    let mut bytes = 0;
    for f in findings {
        let size = f.size();
        if size > FINDING_MAX_BYTES {
            refused.push(ImportFailure {
                id: f.id,
                code: "FindingTooLarge".into(),
                message: format!("{size} bytes, over Security Hub's {FINDING_MAX_BYTES}"),
            });
            continue;
        }
        match out.last_mut() {
            Some(batch) if batch.len() < BATCH_MAX_FINDINGS && bytes + size <= BATCH_MAX_BYTES => {
                bytes += size;
                batch.push(f);
            }
            _ => {
                bytes = size;
                out.push(vec![f]);
            }
        }
    }
    (out, refused)
}

/// A finding Security Hub did not take, after its retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFailure {
    pub id: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: usize,
    pub batches: usize,
    pub failed: Vec<ImportFailure>,
}

#[derive(Debug, thiserror::Error)]
pub enum FindingsError {
    #[error("{count} finding(s) not imported into Security Hub; first: {first}")]
    NotImported { count: usize, first: String },
}

/// Whether a `FailedFindings` code is worth another try: anything but a finding Security Hub
/// judged malformed or forbidden.
fn retryable_code(code: &str) -> bool {
    !matches!(
        code,
        "InvalidInput" | "InvalidInputException" | "AccessDenied" | "AccessDeniedException" | "FindingTooLarge"
    )
}

/// Send findings to Security Hub: batches one after another (the rate is 10 a second), each
/// finding Security Hub fails with a retryable code sent again up to [`IMPORT_ATTEMPTS`] times.
/// A call that fails whole fails all of its batch (the SDK has already retried throttling).
pub async fn import(client: &aws_sdk_securityhub::Client, findings: Vec<Finding>, region: &str) -> ImportReport {
    let (batches, refused) = batches(findings);
    let mut report = ImportReport { failed: refused, ..Default::default() };
    for batch in batches {
        let mut pending = batch;
        for attempt in 1..=IMPORT_ATTEMPTS {
            report.batches += 1;
            let sent = pending.len();
            let call = client.batch_import_findings().set_findings(Some(pending.iter().map(Finding::to_sdk).collect()));
            let out = match call.send().await {
                Ok(out) => out,
                Err(e) => {
                    let e = AwsError::from_sdk(IMPORT_ACTION, region, e);
                    let code = e.code.clone().unwrap_or_else(|| "CallFailed".into());
                    report.failed.extend(pending.drain(..).map(|f| ImportFailure {
                        id: f.id,
                        code: code.clone(),
                        message: e.to_string(),
                    }));
                    break;
                }
            };
            let failed = out.failed_findings();
            report.imported += sent - failed.len();
            let mut again = Vec::new();
            for f in failed {
                let id = f.id().unwrap_or_default();
                let code = f.error_code().unwrap_or("Unknown");
                let Some(pos) = pending.iter().position(|p| p.id == id) else { continue };
                let finding = pending.swap_remove(pos);
                if retryable_code(code) && attempt < IMPORT_ATTEMPTS {
                    again.push(finding);
                } else {
                    report.failed.push(ImportFailure {
                        id: finding.id,
                        code: code.to_owned(),
                        message: f.error_message().unwrap_or_default().to_owned(),
                    });
                }
            }
            if again.is_empty() {
                break;
            }
            tracing::warn!(
                findings = again.len(),
                attempt,
                "Security Hub failed findings with a retryable code; sending them again"
            );
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            pending = again;
        }
    }
    report
}

impl ImportReport {
    pub fn into_result(self) -> Result<usize, FindingsError> {
        match self.failed.first() {
            None => Ok(self.imported),
            Some(first) => Err(FindingsError::NotImported {
                count: self.failed.len(),
                first: format!("{}: {}: {}", first.id, first.code, first.message),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{Change, Mode};

    fn decision(verdict: Verdict, resource: &str) -> Decision {
        Decision {
            control: "test-control",
            resource: resource.into(),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            mode: Mode::Remediate,
            verdict,
            reason: "r".into(),
            changes: vec![Change::new("logs:PutRetentionPolicy", "365 days")],
            error_code: None,
            event_id: None,
            event_name: None,
        }
    }

    #[test]
    fn timestamps_have_milliseconds() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_796_342_400_123);
        assert_eq!(rfc3339_millis(at), "2026-12-04T00:00:00.123Z");
    }

    #[test]
    fn the_product_is_the_accounts_own_default() {
        assert_eq!(
            product_arn("cn-north-1", "123456789012"),
            "arn:aws-cn:securityhub:cn-north-1:123456789012:product/123456789012/default"
        );
    }

    #[test]
    fn verdicts_map_onto_compliance_and_record_state() {
        let f = finding(&decision(Verdict::Noncompliant, "arn:x"), None, "2026-12-03T00:00:00.000Z").unwrap();
        assert_eq!((f.compliance.status, f.record_state), ("FAILED", "ACTIVE"));
        let f = finding(&decision(Verdict::Fixed, "arn:x"), None, "2026-12-03T00:00:00.000Z").unwrap();
        assert_eq!((f.compliance.status, f.record_state, f.severity.label), ("PASSED", "ACTIVE", "INFORMATIONAL"));
        let f = finding(&decision(Verdict::Skipped, "arn:x"), None, "t").unwrap();
        assert_eq!(f.record_state, "ARCHIVED");
        assert!(finding(&decision(Verdict::Deferred, "arn:x"), None, "t").is_none(), "the re-check decides");
        let mut no_account = decision(Verdict::Noncompliant, "arn:x");
        no_account.account.clear();
        assert!(finding(&no_account, None, "t").is_none());
    }

    #[test]
    fn ids_are_stable_and_within_asffs_limit() {
        assert_eq!(finding_id("c", "arn:x"), "logmend/c/arn:x");
        let long = "x".repeat(900);
        let id = finding_id("c", &long);
        assert_eq!(id.chars().count(), 512);
        assert_eq!(id, finding_id("c", &long));
        assert_ne!(id, finding_id("c", &format!("{long}y")));
    }

    #[test]
    fn long_text_is_cut_to_asffs_limits() {
        let mut d = decision(Verdict::Noncompliant, "arn:x");
        d.reason = "é".repeat(5000);
        let f = finding(&d, None, "t").unwrap();
        assert_eq!(f.description.chars().count(), 1024);
        assert!(f.title.chars().count() <= 256);
    }

    #[test]
    fn batches_hold_at_most_100_findings_and_6_mb() {
        let findings: Vec<Finding> = (0..250)
            .map(|i| finding(&decision(Verdict::Noncompliant, &format!("arn:{i}")), None, "t").unwrap())
            .collect();
        let (cut, refused) = batches(findings);
        assert_eq!(cut.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
        assert!(refused.is_empty());

        let mut big = finding(&decision(Verdict::Noncompliant, "arn:big"), None, "t").unwrap();
        big.product_fields.insert("pad", "p".repeat(200 * 1024));
        let (cut, _) = batches(vec![big.clone(); 40]);
        assert!(cut.iter().all(|b| b.iter().map(Finding::size).sum::<usize>() <= BATCH_MAX_BYTES));
        assert_eq!(cut.len(), 2, "40 findings of 200 KB need two 6 MB batches");
        big.product_fields.insert("pad", "p".repeat(250 * 1024));
        let (cut, refused) = batches(vec![big]);
        assert!(cut.is_empty());
        assert_eq!(refused[0].code, "FindingTooLarge");
    }

    #[test]
    fn the_sdk_finding_carries_every_field() {
        let f = finding(&decision(Verdict::Noncompliant, "arn:x"), None, "2026-12-03T00:00:00.000Z").unwrap();
        let sdk = f.to_sdk();
        assert_eq!(sdk.id(), Some("logmend/test-control/arn:x"));
        assert_eq!(sdk.compliance().and_then(|c| c.status()), Some(&ComplianceStatus::Failed));
        assert_eq!(sdk.resources()[0].partition(), Some(&Partition::Aws));
        assert_eq!(sdk.record_state(), Some(&RecordState::Active));
        assert_eq!(sdk.types(), [FINDING_TYPE]);
    }
}
