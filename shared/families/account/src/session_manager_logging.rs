//! `session-manager-logging` (CIS-style practice; no Security Hub control): Session Manager's
//! regional preferences, the Session document `SSM-SessionManagerRunShell`, send every session's
//! transcript to a CloudWatch Logs group that exists.
//!
//! The other half: with `cloudWatchEncryptionEnabled` the group must be KMS-encrypted, or
//! Session Manager refuses to start sessions (Session Manager User Guide, "Logging session data
//! using Amazon CloudWatch Logs"). So a preference that asks for encryption into a group that
//! has no key is reported; logmend's own group gets `LOGMEND_SESSION_LOG_KMS_KEY` when it is
//! set, and the preferences then ask for encryption.
//!
//! The fix: logmend's group `/aws/ssm/sessions` (retention, tagged), then the document:
//! CreateDocument when there is none (the console's defaults, logging on), else UpdateDocument
//! with the current default version's content and only the CloudWatch inputs changed, then
//! UpdateDocumentDefaultVersion to the new version (preferences are read from the default
//! version). A preference that names someone else's group that is missing or unencrypted is
//! reported and nothing is written. One document per account and region; it has no exempt tag:
//! leave the control out of `LOGMEND_CONTROLS` to exempt an account.

use crate::Clients;
use aws_sdk_ssm::types::{DocumentFormat, DocumentType};
use logmend_core::aws::{AwsError, created_or_existing, partition_of};
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, MANAGED_BY_TAG, Permission, State,
    Trigger,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};
use serde_json::{Value, json};

pub const DOCUMENT: &str = "SSM-SessionManagerRunShell";
pub const LOG_GROUP: &str = "/aws/ssm/sessions";

const DOCUMENT_ARN: &str =
    "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:document/SSM-SessionManagerRunShell";
const LOG_GROUP_ARN: &str = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/ssm/sessions:*";

pub static SPEC: ControlSpec = ControlSpec {
    id: "session-manager-logging",
    security_hub: &[],
    severity: logmend_core::control::Severity::Medium,
    resource_type: "AWS::SSM::Document",
    triggers: &[Trigger {
        event_source: "ssm.amazonaws.com",
        event_names: &["CreateDocument", "UpdateDocument", "UpdateDocumentDefaultVersion", "DeleteDocument"],
    }],
    compliant_when: "the default version of SSM-SessionManagerRunShell names a CloudWatch Logs group that exists, KMS-encrypted when it asks for encryption (with LOGMEND_SESSION_LOG_KMS_KEY, logmend's group has that key)",
    fix: "logmend's group /aws/ssm/sessions (retention, LOGMEND_SESSION_LOG_KMS_KEY), then CreateDocument, or UpdateDocument with only the CloudWatch inputs changed and UpdateDocumentDefaultVersion; someone else's missing or unencrypted group is reported",
    reads: &[
        Permission::on("ssm:GetDocument", DOCUMENT_ARN),
        Permission::on("ssm:ListDocumentVersions", DOCUMENT_ARN),
        Permission::any("logs:DescribeLogGroups"),
    ],
    writes: &[
        Permission::on("logs:CreateLogGroup", LOG_GROUP_ARN),
        Permission::on("logs:PutRetentionPolicy", LOG_GROUP_ARN),
        Permission::on("logs:TagResource", LOG_GROUP_ARN),
        Permission::on("logs:AssociateKmsKey", LOG_GROUP_ARN),
        Permission::on("ssm:CreateDocument", DOCUMENT_ARN),
        Permission::on("ssm:UpdateDocument", DOCUMENT_ARN),
        Permission::on("ssm:UpdateDocumentDefaultVersion", DOCUMENT_ARN),
    ],
};

pub struct SessionManagerLogging;

/// The preferences the console writes when Session Manager is first set up, logging on.
pub fn default_preferences(group: &str, encrypted: bool) -> Value {
    json!({
        "schemaVersion": "1.0",
        "description": "Document to hold regional settings for Session Manager",
        "sessionType": "Standard_Stream",
        "inputs": {
            "s3BucketName": "",
            "s3KeyPrefix": "",
            "s3EncryptionEnabled": true,
            "cloudWatchLogGroupName": group,
            "cloudWatchEncryptionEnabled": encrypted,
            "cloudWatchStreamingEnabled": true,
            "kmsKeyId": "",
            "runAsEnabled": false,
            "runAsDefaultUser": "",
            "idleSessionTimeout": "20",
            "maxSessionDuration": "",
            "shellProfile": {"windows": "", "linux": ""}
        }
    })
}

/// The preferences with logging into `group`, every other input as it was.
pub fn with_logging(current: &Value, group: &str, encrypted: bool) -> Value {
    let mut doc = current.clone();
    if !doc.get("inputs").is_some_and(Value::is_object) {
        doc["inputs"] = json!({});
    }
    doc["inputs"]["cloudWatchLogGroupName"] = json!(group);
    doc["inputs"]["cloudWatchEncryptionEnabled"] = json!(encrypted);
    doc
}

/// The key for this region: the setting's, or the same multi-Region key's replica here.
pub fn key_for_region(key_arn: &str, region: &str) -> Result<String, String> {
    let parts: Vec<&str> = key_arn.splitn(6, ':').collect();
    let [arn, partition, kms, key_region, account, resource] = parts.as_slice() else {
        return Err(format!("{key_arn} is not a key ARN"));
    };
    if *key_region == region {
        Ok(key_arn.to_owned())
    } else if resource.starts_with("key/mrk-") {
        Ok(format!("{arn}:{partition}:{kms}:{region}:{account}:{resource}"))
    } else {
        Err(format!(
            "LOGMEND_SESSION_LOG_KMS_KEY is a key of {key_region}, and CloudWatch Logs in {region} needs a key of its own region (a multi-Region key mrk-… serves both)"
        ))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionFinding {
    pub steps: Vec<SessionStep>,
    pub problems: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SessionStep {
    CreateLogGroup { kms_key: Option<String>, retention_days: i32 },
    AssociateKmsKey { kms_key: String },
    CreateDocument { content: String },
    UpdateDocument { content: String },
}

/// The log group's existence and its KMS key.
async fn log_group(cx: &Context<'_, Clients>, name: &str) -> Result<Option<Option<String>>, ControlError> {
    let out = cx
        .clients
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", name, e))?;
    Ok(out.log_groups().iter().find(|g| g.log_group_name() == Some(name)).map(|g| g.kms_key_id().map(str::to_owned)))
}

/// The default version's content; `None`: the document does not exist.
async fn preferences(cx: &Context<'_, Clients>) -> Result<Option<Value>, ControlError> {
    let sent = cx.clients.ssm.get_document().name(DOCUMENT).document_format(DocumentFormat::Json).send().await;
    match sent {
        Ok(d) => Ok(Some(d.content().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_else(|| json!({})))),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_invalid_document()) => Ok(None),
        Err(e) => Err(AwsError::from_sdk("ssm:GetDocument", DOCUMENT, e).into()),
    }
}

impl Control for SessionManagerLogging {
    type Clients = Clients;
    /// The document's name: only `SSM-SessionManagerRunShell` holds the preferences.
    type Target = String;
    type Finding = SessionFinding;
    type Step = SessionStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<String>, EventError> {
        event
            .request_parameters
            .str("name")
            .map(|n| vec![n.to_owned()])
            .ok_or(EventError::MissingField { field: "detail.requestParameters.name" })
    }

    async fn list(&self, _cx: &Context<'_, Clients>) -> Result<Vec<String>, ControlError> {
        Ok(vec![DOCUMENT.to_owned()])
    }

    async fn check(&self, cx: &Context<'_, Clients>, name: &String) -> Result<Checked<SessionFinding>, ControlError> {
        let account = cx.account.unwrap_or_default();
        let resource = format!("arn:{}:ssm:{}:{account}:document/{name}", partition_of(cx.region), cx.region);
        if name != DOCUMENT {
            return Ok(Checked {
                resource,
                state: State::Skipped(format!("{name} is not Session Manager's preferences document {DOCUMENT}")),
            });
        }
        let key = match cx.config.session_log_kms_key.as_deref().map(|k| key_for_region(k, cx.region)) {
            Some(Err(problem)) => {
                return Ok(Checked {
                    resource,
                    state: State::Noncompliant {
                        reason: format!("Session Manager in {}: {problem}; nothing is changed", cx.region),
                        finding: SessionFinding { steps: vec![], problems: problem },
                    },
                });
            }
            Some(Ok(k)) => Some(k),
            None => None,
        };
        let current = preferences(cx).await?;
        let inputs = current.as_ref().and_then(|d| d.get("inputs"));
        let named = inputs.and_then(|i| i["cloudWatchLogGroupName"].as_str()).filter(|g| !g.is_empty());
        let wants_encryption = inputs.and_then(|i| i["cloudWatchEncryptionEnabled"].as_bool()).unwrap_or(false);
        let mut problems = Vec::new();
        let mut steps = Vec::new();
        match named {
            Some(group) if group != LOG_GROUP => {
                match log_group(cx, group).await? {
                    None => problems.push(format!("sessions go to {group}, which does not exist")),
                    Some(None) if wants_encryption => problems.push(format!(
                        "the preferences ask for an encrypted log group and {group} has no KMS key, so Session Manager refuses sessions"
                    )),
                    Some(_) => {}
                }
                if !problems.is_empty() {
                    problems.push("the group is not logmend's: its owner must fix it; nothing is changed".into());
                    let problems = problems.join("; ");
                    return Ok(Checked {
                        resource,
                        state: State::Noncompliant {
                            reason: format!("Session Manager in {}: {problems}", cx.region),
                            finding: SessionFinding { steps: vec![], problems },
                        },
                    });
                }
            }
            _ => {
                // Sessions go to logmend's group, or nowhere yet.
                if named.is_none() {
                    problems.push(match &current {
                        None => format!("no {DOCUMENT}: sessions are not logged"),
                        Some(_) => "the preferences send sessions to no log group".into(),
                    });
                }
                let group = log_group(cx, LOG_GROUP).await?;
                let group_key = match &group {
                    None => {
                        problems.push(format!("{LOG_GROUP} does not exist"));
                        steps.push(SessionStep::CreateLogGroup {
                            kms_key: key.clone(),
                            retention_days: cx.config.retention_days,
                        });
                        key.clone()
                    }
                    Some(existing) => match (&key, existing) {
                        (Some(k), None) => {
                            problems.push(format!("{LOG_GROUP} is not encrypted with LOGMEND_SESSION_LOG_KMS_KEY"));
                            steps.push(SessionStep::AssociateKmsKey { kms_key: k.clone() });
                            Some(k.clone())
                        }
                        // A key someone chose for logmend's group is kept.
                        (_, k) => k.clone(),
                    },
                };
                let encrypted = group_key.is_some();
                // Asked for by someone of a group in use: logmend never turns encryption off, and
                // has no key. (Preferences that log nowhere yet get the encryption the group has:
                // the console's defaults ask for it, and into a plain group sessions would stop.)
                if named.is_some() && wants_encryption && !encrypted {
                    let problems = format!(
                        "the preferences ask for an encrypted log group and {LOG_GROUP} has no KMS key, so Session Manager refuses sessions; set LOGMEND_SESSION_LOG_KMS_KEY, nothing is changed"
                    );
                    return Ok(Checked {
                        resource,
                        state: State::Noncompliant {
                            reason: format!("Session Manager in {}: {problems}", cx.region),
                            finding: SessionFinding { steps: vec![], problems },
                        },
                    });
                }
                // The preferences change only to name the group, or to ask for the encryption
                // the group now has; a document that already does is left as it is.
                let needs_update = named.is_none() || (encrypted && !wants_encryption);
                if needs_update {
                    if problems.is_empty() {
                        problems.push(format!("the preferences do not ask for {LOG_GROUP}'s KMS encryption"));
                    }
                    steps.push(match &current {
                        None => SessionStep::CreateDocument {
                            content: default_preferences(LOG_GROUP, encrypted).to_string(),
                        },
                        Some(doc) => {
                            SessionStep::UpdateDocument { content: with_logging(doc, LOG_GROUP, encrypted).to_string() }
                        }
                    });
                }
            }
        }
        if problems.is_empty() {
            let group = named.unwrap_or(LOG_GROUP);
            return Ok(Checked { resource, state: State::Compliant(format!("sessions are logged to {group}")) });
        }
        let problems = problems.join("; ");
        Ok(Checked {
            resource,
            state: State::Noncompliant {
                reason: format!("Session Manager in {}: {problems}", cx.region),
                finding: SessionFinding { steps, problems },
            },
        })
    }

    fn plan(&self, _config: &Config, f: &SessionFinding) -> Vec<SessionStep> {
        f.steps.clone()
    }

    fn describe(&self, step: &SessionStep) -> Change {
        match step {
            SessionStep::CreateLogGroup { kms_key, retention_days } => Change::new(
                "logs:CreateLogGroup",
                format!(
                    "{LOG_GROUP} with {retention_days} days' retention{}",
                    kms_key.as_deref().map(|k| format!(", encrypted with {k}")).unwrap_or_default()
                ),
            ),
            SessionStep::AssociateKmsKey { kms_key } => {
                Change::new("logs:AssociateKmsKey", format!("{LOG_GROUP}: {kms_key}"))
            }
            SessionStep::CreateDocument { .. } => {
                Change::new("ssm:CreateDocument", format!("{DOCUMENT}: sessions logged to {LOG_GROUP}"))
            }
            SessionStep::UpdateDocument { .. } => Change::new(
                "ssm:UpdateDocument",
                format!(
                    "{DOCUMENT}: cloudWatchLogGroupName {LOG_GROUP}, the other inputs kept; made the default version"
                ),
            ),
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        f: &SessionFinding,
        plan: &[SessionStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            if let Err(error) = apply_step(cx, step).await {
                return Err(ApplyError { done, error: error.into() });
            }
            done.push(self.describe(step));
        }
        Ok(Applied::Fixed(format!("Session Manager in {} was fixed: {}", cx.region, f.problems)))
    }
}

async fn apply_step(cx: &Context<'_, Clients>, step: &SessionStep) -> Result<(), AwsError> {
    let (logs, ssm) = (&cx.clients.logs, &cx.clients.ssm);
    match step {
        SessionStep::CreateLogGroup { kms_key, retention_days } => {
            let (tag_key, tag_value) = MANAGED_BY_TAG;
            let sent = logs
                .create_log_group()
                .log_group_name(LOG_GROUP)
                .set_kms_key_id(kms_key.clone())
                .tags(tag_key, tag_value)
                .send()
                .await;
            created_or_existing(sent, |e| e.is_resource_already_exists_exception(), "logs:CreateLogGroup", LOG_GROUP)?;
            logs.put_retention_policy()
                .log_group_name(LOG_GROUP)
                .retention_in_days(*retention_days)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("logs:PutRetentionPolicy", LOG_GROUP, e))
        }
        SessionStep::AssociateKmsKey { kms_key } => logs
            .associate_kms_key()
            .log_group_name(LOG_GROUP)
            .kms_key_id(kms_key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("logs:AssociateKmsKey", LOG_GROUP, e)),
        SessionStep::CreateDocument { content } => {
            let sent = ssm
                .create_document()
                .name(DOCUMENT)
                .content(content)
                .document_type(DocumentType::Session)
                .document_format(DocumentFormat::Json)
                .send()
                .await;
            match sent {
                Ok(_) => Ok(()),
                // Created a moment ago by someone else: the next event re-checks it.
                Err(e) if e.as_service_error().is_some_and(|s| s.is_document_already_exists()) => Ok(()),
                Err(e) => Err(AwsError::from_sdk("ssm:CreateDocument", DOCUMENT, e)),
            }
        }
        SessionStep::UpdateDocument { content } => {
            let sent = ssm
                .update_document()
                .name(DOCUMENT)
                .content(content)
                .document_version("$LATEST")
                .document_format(DocumentFormat::Json)
                .send()
                .await;
            let version = match sent {
                Ok(out) => out.document_description().and_then(|d| d.document_version()).map(str::to_owned),
                // An earlier version already holds exactly this content (the default was moved
                // back to an older one): make that version the default again.
                Err(e) if e.as_service_error().is_some_and(|s| s.is_duplicate_document_content()) => {
                    version_with(cx, content).await?
                }
                Err(e) => return Err(AwsError::from_sdk("ssm:UpdateDocument", DOCUMENT, e)),
            };
            let Some(version) = version else { return Ok(()) };
            ssm.update_document_default_version()
                .name(DOCUMENT)
                .document_version(&version)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("ssm:UpdateDocumentDefaultVersion", DOCUMENT, e))
        }
    }
}

/// The version of the document whose content is `content` (as JSON, whatever its spacing).
async fn version_with(cx: &Context<'_, Clients>, content: &str) -> Result<Option<String>, AwsError> {
    let wanted: Value = serde_json::from_str(content).unwrap_or(Value::Null);
    let mut pages = cx.clients.ssm.list_document_versions().name(DOCUMENT).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ssm:ListDocumentVersions", DOCUMENT, e))?;
        for v in page.document_versions() {
            let Some(version) = v.document_version() else { continue };
            let got = cx
                .clients
                .ssm
                .get_document()
                .name(DOCUMENT)
                .document_version(version)
                .document_format(DocumentFormat::Json)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ssm:GetDocument", DOCUMENT, e))?;
            if got.content().and_then(|c| serde_json::from_str::<Value>(c).ok()).as_ref() == Some(&wanted) {
                return Ok(Some(version.to_owned()));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logging_is_merged_into_the_preferences_and_every_other_input_kept() {
        let theirs = json!({"schemaVersion": "1.0", "sessionType": "Standard_Stream",
            "inputs": {"s3BucketName": "audit", "runAsEnabled": true, "runAsDefaultUser": "ops", "cloudWatchLogGroupName": ""}});
        let merged = with_logging(&theirs, LOG_GROUP, false);
        assert_eq!(merged["inputs"]["cloudWatchLogGroupName"], LOG_GROUP);
        assert_eq!(merged["inputs"]["s3BucketName"], "audit");
        assert_eq!(merged["inputs"]["runAsDefaultUser"], "ops");
        assert_eq!(merged["inputs"]["cloudWatchEncryptionEnabled"], false);
        assert_eq!(with_logging(&json!({}), LOG_GROUP, true)["inputs"]["cloudWatchEncryptionEnabled"], true);
        assert_eq!(default_preferences(LOG_GROUP, false)["sessionType"], "Standard_Stream");
    }

    #[test]
    fn a_key_serves_its_own_region_and_a_multi_region_key_every_region() {
        let single = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(key_for_region(single, "us-east-1").unwrap(), single);
        assert!(key_for_region(single, "eu-west-1").unwrap_err().contains("a key of us-east-1"));
        let mrk = "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab";
        assert_eq!(
            key_for_region(mrk, "eu-west-1").unwrap(),
            "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
        );
    }
}
