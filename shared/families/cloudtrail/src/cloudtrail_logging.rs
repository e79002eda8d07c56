//! `cloudtrail-logging` (Security Hub CloudTrail.1 and CloudTrail.3, per trail): every trail
//! logs, and logs management events, read and write. `StopLogging` is an attacker's first move;
//! its event starts the trail again within the same invocation.
//!
//! Event selectors: PutEventSelectors replaces every selector of a trail, and a trail has
//! either basic or advanced selectors, never both (CloudTrail API Reference,
//! PutEventSelectors). So the fix merges: the selectors someone set (data events above all)
//! are written back unchanged, and only the management part is made whole: a basic selector
//! that logs management events read-only or write-only, without data resources, becomes
//! `All`; otherwise a management selector is added (basic: at most five). Advanced management
//! selectors (`eventCategory = Management`) are replaced by one without a `readOnly` field;
//! the others are kept.

use crate::Clients;
use crate::baseline::{BaselinePlan, Coverage, baseline_resource, coverage};
use crate::trail::{list_trail_arns, read_home_trail, trail_exempt, trail_named_in};
use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector, EventSelector, ReadWriteType};
use logmend_core::aws::AwsError;
use logmend_core::config::Config;
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, State, Trigger,
};
use logmend_core::decision::Change;
use logmend_core::decision::Mode;
use logmend_core::event::{ApiCallEvent, EventError};
pub use logmend_trail_rules::{Selectors, is_management, logs_all_management};

/// Basic event selectors a trail may have (CloudTrail quotas).
const MAX_BASIC_SELECTORS: usize = 5;
const BASELINE_BUCKET_ARN: &str = "arn:${AWS::Partition}:s3:::logmend-cloudtrail-${AWS::AccountId}-${AWS::Region}";
const MANAGEMENT_SELECTOR_NAME: &str = "Management events, read and write (logmend)";

pub static SPEC: ControlSpec = ControlSpec {
    id: "cloudtrail-logging",
    security_hub: &["CloudTrail.1", "CloudTrail.3"],
    severity: logmend_core::control::Severity::High,
    resource_type: "AWS::CloudTrail::Trail",
    triggers: &[Trigger {
        event_source: "cloudtrail.amazonaws.com",
        event_names: &["CreateTrail", "UpdateTrail", "DeleteTrail", "StopLogging", "StartLogging", "PutEventSelectors"],
    }],
    compliant_when: "the trail is logging (GetTrailStatus IsLogging) and its event selectors include management events, read and write; and some multi-region trail that does so covers the region",
    fix: "StartLogging; PutEventSelectors with every existing selector kept and the management part made read-and-write (a selector added or widened); with LOGMEND_BASELINE_TRAIL, in LOGMEND_BASELINE_TRAIL_REGION, a multi-region trail and its locked bucket where no trail covers the region",
    reads: &[
        Permission::any("cloudtrail:GetTrail"),
        Permission::any("cloudtrail:GetTrailStatus"),
        Permission::any("cloudtrail:GetEventSelectors"),
        Permission::any("cloudtrail:DescribeTrails"),
        Permission::any("cloudtrail:ListTrails"),
        Permission::any("cloudtrail:ListTags"),
    ],
    writes: &[
        Permission::any("cloudtrail:StartLogging"),
        Permission::any("cloudtrail:PutEventSelectors"),
        // The baseline: the trail (its name is a setting) and its bucket, logmend's own only.
        Permission::on(
            "cloudtrail:CreateTrail",
            "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/*",
        ),
        Permission::on("s3:CreateBucket", BASELINE_BUCKET_ARN),
        Permission::on("s3:PutBucketPublicAccessBlock", BASELINE_BUCKET_ARN),
        Permission::on("s3:PutEncryptionConfiguration", BASELINE_BUCKET_ARN),
        Permission::on("s3:PutBucketObjectLockConfiguration", BASELINE_BUCKET_ARN),
        Permission::on("s3:PutBucketTagging", BASELINE_BUCKET_ARN),
        Permission::on("s3:PutBucketPolicy", BASELINE_BUCKET_ARN),
        Permission::on("s3:PutBucketVersioning", BASELINE_BUCKET_ARN),
    ],
};

pub struct CloudtrailLogging;

/// A trail by name or ARN, or the region's baseline: whether some multi-region trail covers
/// it. Untagged, so a queued plain trail name still reads.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum LoggingTarget {
    Trail(String),
    Baseline { baseline: String },
}

impl std::fmt::Display for LoggingTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoggingTarget::Trail(t) => f.write_str(t),
            LoggingTarget::Baseline { baseline } => write!(f, "the multi-region trail of {baseline}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoggingFinding {
    Trail(TrailLogging),
    /// No trail covers the region: the baseline to create, when logmend may.
    Baseline(Option<BaselinePlan>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrailLogging {
    pub trail_arn: String,
    pub stopped: bool,
    /// The selectors to write, when the management part is not whole; `Err`: it cannot be made
    /// whole without dropping someone's selector (the reason).
    pub selectors: Option<Result<Selectors, String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoggingStep {
    StartLogging { trail_arn: String },
    PutEventSelectors { trail_arn: String, selectors: Selectors },
    CreateBaseline(BaselinePlan),
}

fn management_selector() -> AdvancedEventSelector {
    let category =
        AdvancedFieldSelector::builder().field("eventCategory").equals("Management").build().expect("field is set");
    AdvancedEventSelector::builder()
        .name(MANAGEMENT_SELECTOR_NAME)
        .field_selectors(category)
        .build()
        .expect("field selectors are set")
}

/// The selectors with the management part made whole, every other selector kept as it is.
pub fn merged(selectors: &Selectors) -> Result<Selectors, String> {
    match selectors {
        Selectors::Basic(basic) => {
            let mut out = basic.clone();
            // A management-only selector logging one side: widen it rather than add a second.
            if let Some(s) =
                out.iter_mut().find(|s| s.include_management_events() != Some(false) && s.data_resources().is_empty())
            {
                *s = s.clone().to_builder().read_write_type(ReadWriteType::All).include_management_events(true).build();
                return Ok(Selectors::Basic(out));
            }
            if out.len() >= MAX_BASIC_SELECTORS {
                return Err(format!(
                    "the trail has {MAX_BASIC_SELECTORS} basic selectors, none for management events; adding one would drop another"
                ));
            }
            out.push(
                EventSelector::builder().read_write_type(ReadWriteType::All).include_management_events(true).build(),
            );
            Ok(Selectors::Basic(out))
        }
        Selectors::Advanced(advanced) => {
            let mut out: Vec<AdvancedEventSelector> = advanced.iter().filter(|s| !is_management(s)).cloned().collect();
            out.push(management_selector());
            Ok(Selectors::Advanced(out))
        }
    }
}

/// The builder of a basic selector from one, for `merged`.
trait ToBuilder {
    fn to_builder(self) -> aws_sdk_cloudtrail::types::builders::EventSelectorBuilder;
}

impl ToBuilder for EventSelector {
    fn to_builder(self) -> aws_sdk_cloudtrail::types::builders::EventSelectorBuilder {
        EventSelector::builder()
            .set_read_write_type(self.read_write_type().cloned())
            .set_include_management_events(self.include_management_events())
            .set_data_resources(Some(self.data_resources().to_vec()))
            .set_exclude_management_event_sources(Some(self.exclude_management_event_sources().to_vec()))
    }
}

pub async fn read_selectors(cx: &Context<'_, Clients>, trail_arn: &str) -> Result<Selectors, ControlError> {
    let out = cx
        .clients
        .cloudtrail
        .get_event_selectors()
        .trail_name(trail_arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudtrail:GetEventSelectors", trail_arn, e))?;
    Ok(Selectors::of(&out))
}

impl Control for CloudtrailLogging {
    type Clients = Clients;
    type Target = LoggingTarget;
    type Finding = LoggingFinding;
    type Step = LoggingStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

    /// The trail, and, for the events that can leave a region without a covering trail, the
    /// region's baseline (after the trail: a trail started again covers it once more).
    fn targets_in(&self, event: &ApiCallEvent) -> Result<Vec<LoggingTarget>, EventError> {
        let baseline = LoggingTarget::Baseline { baseline: event.region.clone() };
        Ok(match event.event_name.as_str() {
            "DeleteTrail" => vec![baseline],
            // StartLogging and PutEventSelectors (logmend's own, too) may have restored it.
            "StopLogging" | "StartLogging" | "UpdateTrail" | "PutEventSelectors" => {
                vec![LoggingTarget::Trail(trail_named_in(event)?), baseline]
            }
            _ => vec![LoggingTarget::Trail(trail_named_in(event)?)],
        })
    }

    async fn list(&self, cx: &Context<'_, Clients>) -> Result<Vec<LoggingTarget>, ControlError> {
        let mut targets: Vec<LoggingTarget> =
            list_trail_arns(cx).await?.into_iter().map(LoggingTarget::Trail).collect();
        targets.push(LoggingTarget::Baseline { baseline: cx.region.to_owned() });
        Ok(targets)
    }

    async fn check(
        &self,
        cx: &Context<'_, Clients>,
        target: &LoggingTarget,
    ) -> Result<Checked<LoggingFinding>, ControlError> {
        let name = match target {
            LoggingTarget::Trail(name) => name,
            LoggingTarget::Baseline { .. } => return check_baseline(cx).await,
        };
        let trail = match read_home_trail(cx, name).await? {
            Ok(t) => t,
            Err(skip) => return Ok(Checked { resource: skip.resource, state: State::Skipped(skip.reason) }),
        };
        let arn = trail.arn.clone();
        let status = cx
            .clients
            .cloudtrail
            .get_trail_status()
            .name(&arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudtrail:GetTrailStatus", &arn, e))?;
        let stopped = status.is_logging() != Some(true);
        let selectors = read_selectors(cx, &arn).await?;
        let whole = logs_all_management(&selectors);
        if !stopped && whole {
            return Ok(Checked {
                resource: arn,
                state: State::Compliant("logging management events, read and write".into()),
            });
        }
        if trail_exempt(cx, &arn).await? {
            let reason = format!("tagged {}=true", cx.config.exempt_tag);
            return Ok(Checked { resource: arn, state: State::Skipped(reason) });
        }
        let mut problems = Vec::new();
        if stopped {
            problems.push("is not logging".to_owned());
        }
        let selectors = (!whole).then(|| {
            problems.push("does not log management events, read and write".to_owned());
            merged(&selectors)
        });
        if let Some(Err(why)) = &selectors {
            problems.push(why.clone());
        }
        Ok(Checked {
            resource: arn.clone(),
            state: State::Noncompliant {
                reason: format!("trail {} {}", trail.name, problems.join("; ")),
                finding: LoggingFinding::Trail(TrailLogging { trail_arn: arn, stopped, selectors }),
            },
        })
    }

    fn plan(&self, _config: &Config, f: &LoggingFinding) -> Vec<LoggingStep> {
        let f = match f {
            LoggingFinding::Trail(t) => t,
            LoggingFinding::Baseline(plan) => return plan.iter().cloned().map(LoggingStep::CreateBaseline).collect(),
        };
        let mut steps = Vec::new();
        if let Some(Ok(selectors)) = &f.selectors {
            steps.push(LoggingStep::PutEventSelectors { trail_arn: f.trail_arn.clone(), selectors: selectors.clone() });
        }
        if f.stopped {
            steps.push(LoggingStep::StartLogging { trail_arn: f.trail_arn.clone() });
        }
        steps
    }

    fn describe(&self, step: &LoggingStep) -> Change {
        match step {
            LoggingStep::CreateBaseline(plan) => plan.describe(),
            LoggingStep::StartLogging { .. } => {
                Change::new("cloudtrail:StartLogging", "the trail logs again".to_owned())
            }
            LoggingStep::PutEventSelectors { selectors, .. } => {
                let detail = match selectors {
                    Selectors::Basic(b) => {
                        format!("{} basic selector(s), management events ReadWriteType=All", b.len())
                    }
                    Selectors::Advanced(a) => {
                        format!(
                            "{} advanced selector(s), one for all management events ({MANAGEMENT_SELECTOR_NAME})",
                            a.len()
                        )
                    }
                };
                Change::new("cloudtrail:PutEventSelectors", detail)
            }
        }
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        _f: &LoggingFinding,
        plan: &[LoggingStep],
    ) -> Result<Applied, ApplyError> {
        let ct = &cx.clients.cloudtrail;
        let mut done = Vec::new();
        for step in plan {
            let sent = match step {
                LoggingStep::CreateBaseline(plan) => plan.apply(cx).await,
                LoggingStep::StartLogging { trail_arn } => ct
                    .start_logging()
                    .name(trail_arn)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| AwsError::from_sdk("cloudtrail:StartLogging", trail_arn, e)),
                LoggingStep::PutEventSelectors { trail_arn, selectors } => {
                    let put = ct.put_event_selectors().trail_name(trail_arn);
                    let put = match selectors {
                        Selectors::Basic(b) => put.set_event_selectors(Some(b.clone())),
                        Selectors::Advanced(a) => put.set_advanced_event_selectors(Some(a.clone())),
                    };
                    put.send()
                        .await
                        .map(|_| ())
                        .map_err(|e| AwsError::from_sdk("cloudtrail:PutEventSelectors", trail_arn, e))
                }
            };
            if let Err(e) = sent {
                return Err(ApplyError { done, error: e.into() });
            }
            done.push(self.describe(step));
        }
        Ok(Applied::Fixed(match plan.first() {
            Some(LoggingStep::CreateBaseline(p)) => {
                format!(
                    "created trail {}: every region's management events, read and write, into {}",
                    p.trail_name, p.bucket
                )
            }
            _ => "logging management events, read and write".into(),
        }))
    }
}

fn is_baseline_trail(cx: &Context<'_, Clients>, arn: &str) -> bool {
    cx.config.baseline_trail.as_deref().is_some_and(|name| arn.rsplit_once(":trail/").is_some_and(|(_, n)| n == name))
}

/// Whether a multi-region trail covers the region; if none does, the baseline to create (only
/// with LOGMEND_BASELINE_TRAIL, only from LOGMEND_BASELINE_TRAIL_REGION).
async fn check_baseline(cx: &Context<'_, Clients>) -> Result<Checked<LoggingFinding>, ControlError> {
    let Some(account) = cx.account else {
        return Ok(Checked {
            resource: format!("the trails of {}", cx.region),
            state: State::Skipped("the account is not known, so neither is its baseline".into()),
        });
    };
    let resource = baseline_resource(cx.region, account);
    let gap = match coverage(cx).await? {
        Coverage::By(arn) => {
            return Ok(Checked {
                resource,
                state: State::Compliant(format!("trail {arn} logs every region's management events, read and write")),
            });
        }
        // The trail's own check (in the same event or sweep) starts it or widens its selectors;
        // its StartLogging / PutEventSelectors event decides the baseline again.
        // logmend's own baseline trail, made but not started (a run cut short after CreateTrail):
        // start it here, since the DeleteTrail that asked for it decides only the baseline.
        Coverage::Once(arn) if is_baseline_trail(cx, &arn) => {
            return Ok(Checked {
                resource,
                state: State::Noncompliant {
                    reason: format!("baseline trail {arn} was created but is not logging"),
                    finding: LoggingFinding::Trail(TrailLogging { trail_arn: arn, stopped: true, selectors: None }),
                },
            });
        }
        Coverage::Once(arn) if cx.config.mode == Mode::Remediate => {
            return Ok(Checked {
                resource,
                state: State::Pending(format!(
                    "trail {arn} covers every region once its own fix (logging, selectors) is made"
                )),
            });
        }
        Coverage::Once(arn) => {
            format!(
                "no multi-region trail logs this region's management events, read and write (trail {arn} would, once its own finding is fixed)"
            )
        }
        Coverage::None => "no multi-region trail logs this region's management events, read and write".to_owned(),
    };
    let gap = gap.as_str();
    let (reason, plan) = match &cx.config.baseline_trail {
        None => (format!("{gap}; set LOGMEND_BASELINE_TRAIL to have logmend create one"), None),
        Some(name) if cx.region != cx.config.baseline_trail_region => {
            (format!("{gap}; logmend creates trail {name} from {}", cx.config.baseline_trail_region), None)
        }
        Some(name) => match cx.clients.cloudtrail.get_trail().name(name).send().await {
            // The per-trail check starts it and fixes its selectors; a single-region trail of
            // that name is someone's decision.
            Ok(got) if got.trail().is_some() => {
                (format!("{gap}; trail {name} exists but is not a multi-region trail logging management events"), None)
            }
            Ok(_) => (gap.to_owned(), None),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_trail_not_found_exception()) => {
                let days = cx.config.trail_log_expiration_days.unwrap_or(365);
                (gap.to_owned(), Some(BaselinePlan::new(name, cx.region, account, days)))
            }
            Err(e) => return Err(AwsError::from_sdk("cloudtrail:GetTrail", name.as_str(), e).into()),
        },
    };
    Ok(Checked { resource, state: State::Noncompliant { reason, finding: LoggingFinding::Baseline(plan) } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtrail::types::DataResource;

    fn basic(rw: ReadWriteType, management: bool, data: bool) -> EventSelector {
        let mut b = EventSelector::builder().read_write_type(rw).include_management_events(management);
        if data {
            b = b.data_resources(DataResource::builder().r#type("AWS::S3::Object").values("arn:aws:s3").build());
        }
        b.build()
    }

    #[test]
    fn a_read_only_management_selector_is_widened_and_data_selectors_are_kept() {
        let s =
            Selectors::Basic(vec![basic(ReadWriteType::All, false, true), basic(ReadWriteType::ReadOnly, true, false)]);
        assert!(!logs_all_management(&s));
        let Ok(Selectors::Basic(m)) = merged(&s) else { panic!() };
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], basic(ReadWriteType::All, false, true), "the data selector as it was");
        assert!(logs_all_management(&Selectors::Basic(m)));
    }

    #[test]
    fn a_management_selector_is_added_beside_data_selectors_and_five_is_the_limit() {
        let s = Selectors::Basic(vec![basic(ReadWriteType::WriteOnly, false, true)]);
        let Ok(Selectors::Basic(m)) = merged(&s) else { panic!() };
        assert_eq!(m.len(), 2);
        assert!(logs_all_management(&Selectors::Basic(m)));
        let full = Selectors::Basic((0..5).map(|_| basic(ReadWriteType::All, false, true)).collect());
        assert!(merged(&full).unwrap_err().contains("would drop another"));
        assert!(!logs_all_management(&Selectors::Basic(vec![])), "no selector logs nothing");
    }

    #[test]
    fn advanced_management_selectors_are_replaced_and_the_others_kept() {
        let field = |f: &str, v: &str| AdvancedFieldSelector::builder().field(f).equals(v).build().unwrap();
        let read_only_mgmt = AdvancedEventSelector::builder()
            .field_selectors(field("eventCategory", "Management"))
            .field_selectors(field("readOnly", "true"))
            .build()
            .unwrap();
        let data = AdvancedEventSelector::builder()
            .field_selectors(field("eventCategory", "Data"))
            .field_selectors(field("resources.type", "AWS::S3::Object"))
            .build()
            .unwrap();
        let s = Selectors::Advanced(vec![read_only_mgmt, data.clone()]);
        assert!(!logs_all_management(&s));
        let Ok(Selectors::Advanced(m)) = merged(&s) else { panic!() };
        assert_eq!(m, vec![data, management_selector()]);
        assert!(logs_all_management(&Selectors::Advanced(m)));
    }
}
