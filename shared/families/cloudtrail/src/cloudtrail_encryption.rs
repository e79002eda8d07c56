//! `cloudtrail-encryption` (Security Hub CloudTrail.2): every trail encrypts its log files
//! with a KMS key CloudTrail can use. Opt-in: with `LOGMEND_TRAIL_KMS_KEY` (a key ARN or an
//! alias, resolved in the trail's region) an unencrypted trail gets that key, once the key's
//! policy lets `cloudtrail.amazonaws.com` call `kms:GenerateDataKey*` for the trail and
//! `kms:DescribeKey` (CloudTrail User Guide, "Configure AWS KMS key policies for CloudTrail").
//! A key whose policy does not is reported with the statements to add: PutKeyPolicy replaces
//! a key policy whole and a wrong one stops delivery, so logmend never writes one.
//!
//! A trail's key that is disabled or scheduled for deletion stops delivery at once (CloudTrail
//! cannot encrypt, so it writes nothing): `DisableKey` / `ScheduleKeyDeletion` of a trail's key
//! is a finding within the event's invocation; the trail moves to the configured key when that
//! is another, usable one.

use crate::Clients;
use crate::trail::{
    HomeTrail, describe_trails, list_trail_arns, non_empty, read_home_trail, trail_exempt, trail_named_in,
};
use aws_sdk_kms::types::KeyState;
use logmend_core::aws::AwsError;
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, State, Trigger,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};
use logmend_core::resource_policy::{self, Principal, Request};
use serde_json::{Value, json};

pub static SPEC: ControlSpec = ControlSpec {
    id: "cloudtrail-encryption",
    security_hub: &["CloudTrail.2"],
    severity: logmend_core::control::Severity::Medium,
    resource_type: "AWS::CloudTrail::Trail",
    triggers: &[
        Trigger { event_source: "cloudtrail.amazonaws.com", event_names: &["CreateTrail", "UpdateTrail"] },
        Trigger {
            event_source: "kms.amazonaws.com",
            event_names: &["DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy"],
        },
    ],
    compliant_when: "the trail has a KmsKeyId whose key is enabled and whose policy lets cloudtrail.amazonaws.com call kms:GenerateDataKey* for the trail and kms:DescribeKey",
    fix: "with LOGMEND_TRAIL_KMS_KEY set and its key policy right: UpdateTrail KmsKeyId from the trail's home region; a key policy is never written (the statements to add are reported)",
    reads: &[
        Permission::any("cloudtrail:GetTrail"),
        Permission::any("cloudtrail:DescribeTrails"),
        Permission::any("cloudtrail:ListTrails"),
        Permission::any("cloudtrail:ListTags"),
        Permission::any("kms:DescribeKey"),
        Permission::any("kms:GetKeyPolicy"),
    ],
    writes: &[Permission::any("cloudtrail:UpdateTrail")],
};

pub struct CloudtrailEncryption;

/// A trail, or a key whose trails an event does not name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncryptionRef {
    Trail(String),
    Key(String),
}

impl std::fmt::Display for EncryptionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncryptionRef::Trail(t) | EncryptionRef::Key(t) => f.write_str(t),
        }
    }
}

/// A key as CloudTrail needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyView {
    pub arn: String,
    pub state: String,
    /// What the policy is missing for this trail; empty: CloudTrail can use it.
    pub missing: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionFinding {
    pub trail_arn: String,
    /// The key to switch the trail to, when logmend may.
    pub use_key: Option<String>,
}

/// The statements AWS's CloudTrail guide gives, for one trail.
pub fn statements_for(trail_arn: &str, partition: &str, account: &str) -> [Value; 2] {
    [
        json!({
            "Sid": "Allow CloudTrail to encrypt logs",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceArn": trail_arn},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": format!("arn:{partition}:cloudtrail:*:{account}:trail/*")}
            }
        }),
        json!({
            "Sid": "Allow CloudTrail to describe key",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey",
            "Resource": "*"
        }),
    ]
}

/// Which of the two statements the key policy lacks for the trail (evaluated, not compared as
/// text: any statement that grants the same requests will do).
pub fn missing_statements(policy: &Value, key_arn: &str, trail: &HomeTrail) -> Vec<Value> {
    let context = [
        ("aws:SourceArn", trail.arn.as_str()),
        ("aws:SourceAccount", trail.account.as_str()),
        ("kms:EncryptionContext:aws:cloudtrail:arn", trail.arn.as_str()),
    ];
    let [encrypt, describe] = statements_for(&trail.arn, &trail.partition, &trail.account);
    [("kms:GenerateDataKey", encrypt), ("kms:DescribeKey", describe)]
        .into_iter()
        .filter(|(action, _)| {
            let req = Request {
                principal: Principal::Service("cloudtrail.amazonaws.com"),
                action,
                resource: key_arn,
                context: &context,
            };
            !resource_policy::allows(policy, &req)
        })
        .map(|(_, s)| s)
        .collect()
}

/// DescribeKey and GetKeyPolicy; `None` when the key does not exist here.
async fn read_key(cx: &Context<'_, Clients>, key: &str, trail: &HomeTrail) -> Result<Option<KeyView>, ControlError> {
    let described = match cx.clients.kms.describe_key().key_id(key).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => return Ok(None),
        Err(e) => return Err(AwsError::from_sdk("kms:DescribeKey", key, e).into()),
    };
    let Some(meta) = described.key_metadata() else { return Ok(None) };
    let arn = meta.arn().unwrap_or(key).to_owned();
    let state = meta.key_state().map_or("Unknown", KeyState::as_str).to_owned();
    let policy = cx
        .clients
        .kms
        .get_key_policy()
        .key_id(&arn)
        .policy_name("default")
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("kms:GetKeyPolicy", &arn, e))?;
    let doc: Value = policy.policy().and_then(|p| serde_json::from_str(p).ok()).unwrap_or(Value::Null);
    let missing = missing_statements(&doc, &arn, trail);
    Ok(Some(KeyView { arn, state, missing }))
}

fn usable(k: &KeyView) -> bool {
    k.state == "Enabled" && k.missing.is_empty()
}

fn to_add(k: &KeyView) -> String {
    format!("add to the key policy of {}: {}", k.arn, Value::Array(k.missing.clone()))
}

impl Control for CloudtrailEncryption {
    type Clients = Clients;
    type Target = EncryptionRef;
    type Finding = EncryptionFinding;
    type Step = EncryptionFinding;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<EncryptionRef>, EventError> {
        if event.event_source == "kms.amazonaws.com" {
            let key = event
                .request_parameters
                .str("keyId")
                .ok_or(EventError::MissingField { field: "detail.requestParameters.keyId" })?;
            return Ok(vec![EncryptionRef::Key(key.to_owned())]);
        }
        Ok(vec![EncryptionRef::Trail(trail_named_in(event)?)])
    }

    /// A key's trails: those it encrypts, and, when it is the configured key (its policy may
    /// just have been fixed), the unencrypted ones of this region.
    async fn expand(
        &self,
        cx: &Context<'_, Clients>,
        target: EncryptionRef,
    ) -> Result<Vec<EncryptionRef>, ControlError> {
        let EncryptionRef::Key(key) = target else { return Ok(vec![target]) };
        let arn = match cx.clients.kms.describe_key().key_id(&key).send().await {
            Ok(out) => out.key_metadata().and_then(|m| m.arn()).unwrap_or(&key).to_owned(),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => return Ok(vec![]),
            Err(e) => return Err(AwsError::from_sdk("kms:DescribeKey", &key, e).into()),
        };
        let configured = match &cx.config.trail_kms_key {
            Some(c) if c == &arn || c == &key => true,
            Some(c) if c.contains("alias/") => cx
                .clients
                .kms
                .describe_key()
                .key_id(c)
                .send()
                .await
                .ok()
                .and_then(|o| o.key_metadata().and_then(|m| m.arn()).map(|a| a == arn))
                .unwrap_or(false),
            _ => false,
        };
        Ok(describe_trails(cx, false)
            .await?
            .iter()
            .filter(|t| match non_empty(t.kms_key_id()) {
                Some(k) => k == arn,
                None => configured,
            })
            .filter_map(|t| t.trail_arn().map(|a| EncryptionRef::Trail(a.to_owned())))
            .collect())
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<EncryptionRef>, ControlError> {
        Ok(list_trail_arns(cx).await?.into_iter().map(EncryptionRef::Trail).collect())
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        target: &EncryptionRef,
    ) -> Result<Checked<EncryptionFinding>, ControlError> {
        let EncryptionRef::Trail(name) = target else {
            return Ok(Checked {
                resource: target.to_string(),
                state: State::Skipped("a key stands for its trails".into()),
            });
        };
        let trail = match read_home_trail(cx, name).await? {
            Ok(t) => t,
            Err(skip) => return Ok(Checked { resource: skip.resource, state: State::Skipped(skip.reason) }),
        };
        let current = match non_empty(trail.trail.kms_key_id()) {
            Some(key) => match read_key(cx, key, &trail).await {
                Ok(view) => Some(view.ok_or_else(|| format!("its key {key} no longer exists"))),
                // A key of another account whose policy does not let this account read it.
                Err(ControlError::Aws(e)) if e.code_or_kind() == "AccessDeniedException" => {
                    return Ok(Checked {
                        resource: trail.arn,
                        state: State::Compliant(format!("encrypted with {key}, a key this account cannot read")),
                    });
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        let problem = match &current {
            Some(Ok(k)) if usable(k) => {
                return Ok(Checked {
                    resource: trail.arn,
                    state: State::Compliant(format!("encrypted with {}", k.arn)),
                });
            }
            Some(Ok(k)) if k.state != "Enabled" => {
                format!("its key {} is {}: CloudTrail cannot encrypt, so it delivers no log files", k.arn, k.state)
            }
            Some(Ok(k)) => format!("its key's policy does not let CloudTrail use it; {}", to_add(k)),
            Some(Err(gone)) => gone.clone(),
            None => "its log files are not encrypted with SSE-KMS".to_owned(),
        };
        if trail_exempt(cx, &trail.arn).await? {
            let reason = format!("tagged {}=true", cx.config.exempt_tag);
            return Ok(Checked { resource: trail.arn, state: State::Skipped(reason) });
        }
        let mut reason = format!("trail {}: {problem}", trail.name);
        let mut use_key = None;
        match &cx.config.trail_kms_key {
            None => reason.push_str("; set LOGMEND_TRAIL_KMS_KEY to the key logmend should use"),
            Some(configured) => match read_key(cx, configured, &trail).await? {
                None => {
                    reason.push_str(&format!("; LOGMEND_TRAIL_KMS_KEY {configured} does not exist in {}", cx.region))
                }
                Some(k) if current.as_ref().is_some_and(|c| c.as_ref().is_ok_and(|c| c.arn == k.arn)) => {}
                Some(k) if k.state != "Enabled" => {
                    reason.push_str(&format!("; LOGMEND_TRAIL_KMS_KEY {} is {}", k.arn, k.state));
                }
                Some(k) if !k.missing.is_empty() => {
                    reason.push_str(&format!("; before logmend can use it, {}", to_add(&k)))
                }
                Some(k) => use_key = Some(k.arn),
            },
        }
        Ok(Checked {
            resource: trail.arn.clone(),
            state: State::Noncompliant { reason, finding: EncryptionFinding { trail_arn: trail.arn, use_key } },
        })
    }

    fn plan(&self, _config: &Config, f: &EncryptionFinding) -> Vec<EncryptionFinding> {
        f.use_key.iter().map(|_| f.clone()).collect()
    }

    fn describe(&self, step: &EncryptionFinding) -> Change {
        Change::new("cloudtrail:UpdateTrail", format!("KmsKeyId={}", step.use_key.as_deref().unwrap_or_default()))
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        _f: &EncryptionFinding,
        plan: &[EncryptionFinding],
    ) -> Result<Applied, ApplyError> {
        for step in plan {
            let Some(key) = &step.use_key else { continue };
            cx.clients.cloudtrail.update_trail().name(&step.trail_arn).kms_key_id(key).send().await.map_err(|e| {
                ApplyError {
                    done: vec![],
                    error: AwsError::from_sdk("cloudtrail:UpdateTrail", &step.trail_arn, e).into(),
                }
            })?;
        }
        Ok(Applied::Fixed("log files encrypted with the configured KMS key".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail() -> HomeTrail {
        let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main".to_owned();
        HomeTrail {
            trail: aws_sdk_cloudtrail::types::Trail::builder().trail_arn(&arn).build(),
            arn,
            name: "main".into(),
            partition: "aws".into(),
            account: "123456789012".into(),
            home: "us-east-1".into(),
        }
    }

    #[test]
    fn the_guides_statements_satisfy_the_check_and_a_root_only_policy_lacks_both() {
        let t = trail();
        let key = "arn:aws:kms:us-east-1:123456789012:key/k";
        let root_only = json!({"Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]});
        assert_eq!(missing_statements(&root_only, key, &t).len(), 2);
        let mut with = root_only.clone();
        with["Statement"].as_array_mut().unwrap().extend(statements_for(&t.arn, "aws", "123456789012"));
        assert!(missing_statements(&with, key, &t).is_empty());
        // Another trail's ARN in aws:SourceArn does not let this one encrypt.
        let other = statements_for("arn:aws:cloudtrail:us-east-1:123456789012:trail/other", "aws", "123456789012");
        let doc = json!({"Statement": other});
        assert_eq!(missing_statements(&doc, key, &t).len(), 1, "only DescribeKey is granted");
    }
}
