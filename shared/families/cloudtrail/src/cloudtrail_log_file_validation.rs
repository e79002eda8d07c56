//! `cloudtrail-log-file-validation` (Security Hub CloudTrail.4): every trail writes digest
//! files, so a log file changed or deleted in its bucket can be told from one CloudTrail wrote
//! (CloudTrail User Guide, "Validating CloudTrail log file integrity"). The fix is one
//! UpdateTrail with `EnableLogFileValidation`, from the trail's home region; it changes
//! nothing else of the trail.

use crate::Clients;
use crate::trail::{list_trail_arns, read_home_trail, trail_exempt, trail_named_in};
use logmend_core::aws::AwsError;
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, State, Trigger,
};
use logmend_core::decision::Change;
use logmend_core::event::{ApiCallEvent, EventError};

pub static SPEC: ControlSpec = ControlSpec {
    id: "cloudtrail-log-file-validation",
    security_hub: &["CloudTrail.4"],
    severity: logmend_core::control::Severity::Low,
    resource_type: "AWS::CloudTrail::Trail",
    triggers: &[Trigger { event_source: "cloudtrail.amazonaws.com", event_names: &["CreateTrail", "UpdateTrail"] }],
    compliant_when: "the trail has LogFileValidationEnabled",
    fix: "UpdateTrail EnableLogFileValidation=true from the trail's home region (nothing else of the trail changes)",
    reads: &[
        Permission::any("cloudtrail:GetTrail"),
        Permission::any("cloudtrail:ListTrails"),
        Permission::any("cloudtrail:ListTags"),
    ],
    writes: &[Permission::any("cloudtrail:UpdateTrail")],
};

pub struct CloudtrailLogFileValidation;

/// A trail by name or ARN.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrailName(pub String);

impl std::fmt::Display for TrailName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The trail whose validation is off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationOff {
    pub trail_arn: String,
}

impl Control for CloudtrailLogFileValidation {
    type Clients = Clients;
    type Target = TrailName;
    type Finding = ValidationOff;
    type Step = ValidationOff;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<TrailName>, EventError> {
        Ok(vec![TrailName(trail_named_in(event)?)])
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<TrailName>, ControlError> {
        Ok(list_trail_arns(cx).await?.into_iter().map(TrailName).collect())
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        target: &TrailName,
    ) -> Result<Checked<ValidationOff>, ControlError> {
        let trail = match read_home_trail(cx, &target.0).await? {
            Ok(t) => t,
            Err(skip) => return Ok(Checked { resource: skip.resource, state: State::Skipped(skip.reason) }),
        };
        if trail.trail.log_file_validation_enabled() == Some(true) {
            return Ok(Checked { resource: trail.arn, state: State::Compliant("log file validation on".into()) });
        }
        if trail_exempt(cx, &trail.arn).await? {
            let reason = format!("tagged {}=true", cx.config.exempt_tag);
            return Ok(Checked { resource: trail.arn, state: State::Skipped(reason) });
        }
        Ok(Checked {
            resource: trail.arn.clone(),
            state: State::Noncompliant {
                reason: format!("trail {} writes no digest files (log file validation off)", trail.name),
                finding: ValidationOff { trail_arn: trail.arn },
            },
        })
    }

    fn plan(&self, _config: &Config, f: &ValidationOff) -> Vec<ValidationOff> {
        vec![f.clone()]
    }

    fn describe(&self, _step: &ValidationOff) -> Change {
        Change::new("cloudtrail:UpdateTrail", "EnableLogFileValidation=true".to_owned())
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        _f: &ValidationOff,
        plan: &[ValidationOff],
    ) -> Result<Applied, ApplyError> {
        for step in plan {
            cx.clients
                .cloudtrail
                .update_trail()
                .name(&step.trail_arn)
                .enable_log_file_validation(true)
                .send()
                .await
                .map_err(|e| ApplyError {
                    done: vec![],
                    error: AwsError::from_sdk("cloudtrail:UpdateTrail", &step.trail_arn, e).into(),
                })?;
        }
        Ok(Applied::Fixed("log file validation on: CloudTrail writes a digest file every hour".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logmend_core::decision::Mode;

    #[test]
    fn the_fix_is_one_declared_update_trail() {
        let f = ValidationOff { trail_arn: "arn:aws:cloudtrail:eu-west-1:1:trail/main".into() };
        let steps = CloudtrailLogFileValidation.plan(&Config::new(Mode::Remediate), &f);
        assert_eq!(steps.len(), 1);
        let api = CloudtrailLogFileValidation.describe(&steps[0]).api;
        assert!(SPEC.writes.iter().any(|p| p.action == api));
    }
}
