//! `guardduty-enabled` (Security Hub GuardDuty.1): a GuardDuty detector is enabled in this
//! account and region, with the protection plans `LOGMEND_GUARDDUTY_FEATURES` names (none by
//! default: each plan is billed by the volume it analyses). DeleteDetector and
//! UpdateDetector(enable=false) are answered at once.
//!
//! A region has at most one detector (GuardDuty API Reference, CreateDetector: "you can have
//! only one detector per account per Region"). Plans someone else turned on are kept: logmend
//! only adds the ones its setting names. A detector tagged with the exempt tag is left alone.

use crate::Clients;
use aws_sdk_guardduty::types::{DetectorFeature, DetectorFeatureConfiguration, DetectorStatus, FeatureStatus};
use logmend_core::aws::{AwsError, partition_of};
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, MANAGED_BY_TAG, Permission, State,
    Trigger, is_exempt,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

pub static SPEC: ControlSpec = ControlSpec {
    id: "guardduty-enabled",
    security_hub: &["GuardDuty.1"],
    severity: logmend_core::control::Severity::High,
    resource_type: "AWS::GuardDuty::Detector",
    triggers: &[Trigger {
        event_source: "guardduty.amazonaws.com",
        event_names: &["CreateDetector", "DeleteDetector", "UpdateDetector"],
    }],
    compliant_when: "the region's GuardDuty detector is ENABLED, with every protection plan LOGMEND_GUARDDUTY_FEATURES names",
    fix: "CreateDetector (enabled, tagged managed-by=logmend, the plans the setting names) when there is none; UpdateDetector enable=true and the missing plans ENABLED, others' plans kept",
    reads: &[Permission::any("guardduty:ListDetectors"), Permission::any("guardduty:GetDetector")],
    writes: &[
        Permission::any("guardduty:CreateDetector"),
        Permission::any("guardduty:TagResource"),
        Permission::on(
            "guardduty:UpdateDetector",
            "arn:${AWS::Partition}:guardduty:${AWS::Region}:${AWS::AccountId}:detector/*",
        ),
        // GuardDuty makes its service-linked role on the first CreateDetector.
        Permission::on(
            "iam:CreateServiceLinkedRole",
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/guardduty.amazonaws.com/*",
        ),
    ],
};

pub struct GuardDutyEnabled;

#[derive(Debug, Clone, PartialEq)]
pub enum DetectorFinding {
    Create { features: Vec<String> },
    Update { detector_id: String, enable: bool, features: Vec<String> },
}

fn feature_configs(names: &[String]) -> Vec<DetectorFeatureConfiguration> {
    names
        .iter()
        .map(|n| {
            DetectorFeatureConfiguration::builder()
                .name(DetectorFeature::from(n.as_str()))
                .status(FeatureStatus::Enabled)
                .build()
        })
        .collect()
}

impl Control for GuardDutyEnabled {
    type Clients = Clients;
    type Target = String;
    type Finding = DetectorFinding;
    type Step = DetectorFinding;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    /// One detector per account and region: every event is about the region's.
    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<String>, EventError> {
        Ok(vec![event.region.clone()])
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<String>, ControlError> {
        Ok(vec![cx.region.to_owned()])
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        _region: &String,
    ) -> Result<Checked<DetectorFinding>, ControlError> {
        let partition = partition_of(cx.region);
        let account = cx.account.unwrap_or_default();
        let detectors = cx
            .clients
            .guardduty
            .list_detectors()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("guardduty:ListDetectors", cx.region, e))?;
        let wanted = &cx.config.guardduty_features;
        let Some(id) = detectors.detector_ids().first() else {
            return Ok(Checked {
                resource: format!("arn:{partition}:guardduty:{}:{account}:detector/*", cx.region),
                state: State::Noncompliant {
                    reason: format!("GuardDuty in {}: no detector", cx.region),
                    finding: DetectorFinding::Create { features: wanted.clone() },
                },
            });
        };
        let resource = format!("arn:{partition}:guardduty:{}:{account}:detector/{id}", cx.region);
        let detector = cx
            .clients
            .guardduty
            .get_detector()
            .detector_id(id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("guardduty:GetDetector", id, e))?;
        let tags = detector.tags().into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str()));
        if is_exempt(cx.config, tags) {
            return Ok(Checked { resource, state: State::Skipped(format!("tagged {}=true", cx.config.exempt_tag)) });
        }
        let enabled = detector.status() == Some(&DetectorStatus::Enabled);
        let missing: Vec<String> = wanted
            .iter()
            .filter(|name| {
                !detector.features().iter().any(|f| {
                    f.name().map(|n| n.as_str()) == Some(name.as_str()) && f.status() == Some(&FeatureStatus::Enabled)
                })
            })
            .cloned()
            .collect();
        if enabled && missing.is_empty() {
            let plans = if wanted.is_empty() { String::new() } else { format!(", with {}", wanted.join(", ")) };
            return Ok(Checked { resource, state: State::Compliant(format!("detector {id} is enabled{plans}")) });
        }
        let mut problems = Vec::new();
        if !enabled {
            problems.push(format!("detector {id} is disabled"));
        }
        if !missing.is_empty() {
            problems.push(format!("protection plans {} are off", missing.join(", ")));
        }
        Ok(Checked {
            resource,
            state: State::Noncompliant {
                reason: format!("GuardDuty in {}: {}", cx.region, problems.join("; ")),
                finding: DetectorFinding::Update { detector_id: id.clone(), enable: !enabled, features: missing },
            },
        })
    }

    fn plan(&self, _config: &Config, f: &DetectorFinding) -> Vec<DetectorFinding> {
        vec![f.clone()]
    }

    fn describe(&self, step: &DetectorFinding) -> Change {
        let plans = |features: &[String]| {
            if features.is_empty() { String::new() } else { format!(", {} ENABLED", features.join(", ")) }
        };
        match step {
            DetectorFinding::Create { features } => Change::new(
                "guardduty:CreateDetector",
                format!("enable=true, tag managed-by=logmend{}", plans(features)),
            ),
            DetectorFinding::Update { detector_id, enable, features } => Change::new(
                "guardduty:UpdateDetector",
                format!("{detector_id}:{}{}", if *enable { " enable=true" } else { "" }, plans(features)),
            ),
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        _f: &DetectorFinding,
        plan: &[DetectorFinding],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            let sent = match step {
                DetectorFinding::Create { features } => cx
                    .clients
                    .guardduty
                    .create_detector()
                    .enable(true)
                    .set_features(Some(feature_configs(features)).filter(|f| !f.is_empty()))
                    .tags(MANAGED_BY_TAG.0, MANAGED_BY_TAG.1)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| AwsError::from_sdk("guardduty:CreateDetector", cx.region, e)),
                DetectorFinding::Update { detector_id, features, .. } => cx
                    .clients
                    .guardduty
                    .update_detector()
                    .detector_id(detector_id)
                    .enable(true)
                    .set_features(Some(feature_configs(features)).filter(|f| !f.is_empty()))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| AwsError::from_sdk("guardduty:UpdateDetector", detector_id, e)),
            };
            if let Err(error) = sent {
                return Err(ApplyError { done, error: error.into() });
            }
            done.push(self.describe(step));
        }
        Ok(Applied::Fixed("GuardDuty's detector is enabled".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_names_only_the_plans_it_turns_on() {
        let update = DetectorFinding::Update {
            detector_id: "d1".into(),
            enable: false,
            features: vec!["S3_DATA_EVENTS".into()],
        };
        let change = GuardDutyEnabled.describe(&update);
        assert_eq!(change.api, "guardduty:UpdateDetector");
        assert!(
            change.detail.contains("S3_DATA_EVENTS ENABLED") && !change.detail.contains("enable=true"),
            "{change:?}"
        );
        let configs = feature_configs(&["RDS_LOGIN_EVENTS".into()]);
        assert_eq!(configs[0].name(), Some(&DetectorFeature::RdsLoginEvents));
        for api in ["guardduty:CreateDetector", "guardduty:UpdateDetector"] {
            assert!(SPEC.writes.iter().any(|p| p.action == api), "{api} is declared");
        }
    }
}
