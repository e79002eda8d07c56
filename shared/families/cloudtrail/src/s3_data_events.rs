//! `s3-data-events` (Security Hub S3.22 write, S3.23 read): some multi-region trail that is
//! logging records S3 object-level (data) events for all current and future buckets (AWS Config
//! rules `cloudtrail-all-write-s3-data-event-check` and `…-read-…`, resource type
//! `AWS::::Account`). Opt-in with `LOGMEND_S3_DATA_EVENTS=write|read|all`: data events are
//! billed per event, so `off` (the default) decides nothing.
//!
//! The fix merges into a trail's selectors: PutEventSelectors replaces them all, and a trail has
//! basic or advanced selectors, never both (CloudTrail API Reference, PutEventSelectors). Basic:
//! a selector for `AWS::S3::Object` `arn:<partition>:s3` (every bucket) with the read/write type
//! that is missing and no management events, so the management selector someone set keeps its
//! own type; at most five. Advanced: one selector, `eventCategory = Data`, `resources.type =
//! AWS::S3::Object`, `readOnly` when only one side is asked; logmend's own earlier selector (by
//! name) is replaced, the others kept. Only the trail's home region writes.

use crate::Clients;
use crate::baseline::{baseline_resource, partition_of};
use crate::trail::{describe_trails, parse_trail_arn, trail_exempt};
use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector, AdvancedFieldSelector, DataResource, EventSelector, ReadWriteType, Trail,
};
use logmend_core::aws::AwsError;
use logmend_core::config::{Config, S3DataEvents};
use logmend_core::control::{
    Applied, ApplyError, Checked, Context, Control, ControlError, ControlSpec, Permission, State, Trigger,
};
use logmend_core::decision::{Change, Mode};
use logmend_core::event::{ApiCallEvent, EventError};
use logmend_trail_rules::Selectors;

const MAX_BASIC_SELECTORS: usize = 5;
pub const SELECTOR_NAME: &str = "S3 data events, every bucket (logmend)";
const S3_OBJECT: &str = "AWS::S3::Object";

pub static SPEC: ControlSpec = ControlSpec {
    id: "s3-data-events",
    security_hub: &["S3.22", "S3.23"],
    severity: logmend_core::control::Severity::Medium,
    resource_type: "AWS::::Account",
    triggers: &[Trigger {
        event_source: "cloudtrail.amazonaws.com",
        event_names: &["CreateTrail", "UpdateTrail", "DeleteTrail", "StopLogging", "StartLogging", "PutEventSelectors"],
    }],
    compliant_when: "with LOGMEND_S3_DATA_EVENTS=write|read|all: a multi-region trail that is logging records S3 data events of that kind for every bucket (off, the default: not evaluated; data events are billed per event)",
    fix: "PutEventSelectors on the account's multi-region trail homed in this region (logmend's baseline trail first): every selector kept, one for S3 objects of all buckets added (basic: the missing read/write type, no management events; advanced: eventCategory=Data, resources.type=AWS::S3::Object)",
    reads: &[
        Permission::any("cloudtrail:DescribeTrails"),
        Permission::any("cloudtrail:GetTrailStatus"),
        Permission::any("cloudtrail:GetEventSelectors"),
        Permission::any("cloudtrail:ListTags"),
    ],
    writes: &[Permission::any("cloudtrail:PutEventSelectors")],
};

pub struct S3DataEventsControl;

/// The two sides of S3 data events, as CloudTrail's `readOnly` splits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sides {
    pub write: bool,
    pub read: bool,
}

impl Sides {
    pub fn wanted(setting: S3DataEvents) -> Sides {
        match setting {
            S3DataEvents::Off => Sides::default(),
            S3DataEvents::Write => Sides { write: true, read: false },
            S3DataEvents::Read => Sides { write: false, read: true },
            S3DataEvents::All => Sides { write: true, read: true },
        }
    }

    fn union(self, other: Sides) -> Sides {
        Sides { write: self.write || other.write, read: self.read || other.read }
    }

    /// What of `wanted` is not in `self`.
    fn missing(self, wanted: Sides) -> Sides {
        Sides { write: wanted.write && !self.write, read: wanted.read && !self.read }
    }

    fn none(self) -> bool {
        !self.write && !self.read
    }

    fn name(self) -> &'static str {
        match (self.write, self.read) {
            (true, true) => "read and write",
            (true, false) => "write",
            (false, true) => "read",
            (false, false) => "no",
        }
    }
}

/// Whether a data resource names every bucket's objects: `arn:<partition>:s3` or `…:::`.
fn every_bucket(values: &[String]) -> bool {
    values.iter().any(|v| {
        let v = v.trim_end_matches(":::");
        v.strip_prefix("arn:").and_then(|rest| rest.strip_suffix(":s3")).is_some_and(|p| !p.contains(':'))
    })
}

fn basic_sides(s: &EventSelector) -> Sides {
    let all_s3 = s.data_resources().iter().any(|d| d.r#type() == Some(S3_OBJECT) && every_bucket(d.values()));
    if !all_s3 {
        return Sides::default();
    }
    match s.read_write_type() {
        None | Some(ReadWriteType::All) => Sides { write: true, read: true },
        Some(ReadWriteType::WriteOnly) => Sides { write: true, read: false },
        Some(ReadWriteType::ReadOnly) => Sides { write: false, read: true },
        Some(_) => Sides::default(),
    }
}

/// An advanced selector counts only when nothing narrows it: `eventCategory = Data`,
/// `resources.type = AWS::S3::Object`, optionally `readOnly`, and no other field.
fn advanced_sides(s: &AdvancedEventSelector) -> Sides {
    let mut data = false;
    let mut s3 = false;
    let mut sides = Sides { write: true, read: true };
    for f in s.field_selectors() {
        let only_equals = f.starts_with().is_empty()
            && f.ends_with().is_empty()
            && f.not_equals().is_empty()
            && f.not_starts_with().is_empty()
            && f.not_ends_with().is_empty();
        let is = |v: &str| only_equals && f.equals() == [v.to_owned()];
        match f.field() {
            "eventCategory" if is("Data") => data = true,
            "resources.type" if is(S3_OBJECT) => s3 = true,
            "readOnly" if is("true") => sides = Sides { write: false, read: true },
            "readOnly" if is("false") => sides = Sides { write: true, read: false },
            _ => return Sides::default(),
        }
    }
    if data && s3 { sides } else { Sides::default() }
}

/// The S3 data events the selectors record for every bucket.
pub fn logged_sides(selectors: &Selectors) -> Sides {
    match selectors {
        Selectors::Basic(b) => b.iter().map(basic_sides).fold(Sides::default(), Sides::union),
        Selectors::Advanced(a) => a.iter().map(advanced_sides).fold(Sides::default(), Sides::union),
    }
}

fn read_write_type(sides: Sides) -> ReadWriteType {
    match (sides.write, sides.read) {
        (true, false) => ReadWriteType::WriteOnly,
        (false, true) => ReadWriteType::ReadOnly,
        _ => ReadWriteType::All,
    }
}

fn advanced_selector(sides: Sides) -> AdvancedEventSelector {
    let field = |f: &str, v: &str| AdvancedFieldSelector::builder().field(f).equals(v).build().expect("field is set");
    let mut b = AdvancedEventSelector::builder()
        .name(SELECTOR_NAME)
        .field_selectors(field("eventCategory", "Data"))
        .field_selectors(field("resources.type", S3_OBJECT));
    if sides.write != sides.read {
        b = b.field_selectors(field("readOnly", if sides.read { "true" } else { "false" }));
    }
    b.build().expect("field selectors are set")
}

/// The selectors with S3 data events of `wanted` for every bucket, every other selector kept;
/// `Err`: that cannot be done without dropping someone's selector.
pub fn merged(selectors: &Selectors, wanted: Sides, partition: &str) -> Result<Selectors, String> {
    match selectors {
        Selectors::Basic(basic) => {
            let missing = logged_sides(selectors).missing(wanted);
            if basic.len() >= MAX_BASIC_SELECTORS {
                return Err(format!(
                    "the trail has {MAX_BASIC_SELECTORS} basic selectors; adding one for S3 data events would drop another"
                ));
            }
            let mut out = basic.clone();
            // A trail without selectors logs all management events (CloudTrail User Guide); written
            // alone, the data selector would end that, so the default is written beside it.
            if out.is_empty() {
                out.push(
                    EventSelector::builder()
                        .read_write_type(ReadWriteType::All)
                        .include_management_events(true)
                        .build(),
                );
            }
            let objects = DataResource::builder().r#type(S3_OBJECT).values(format!("arn:{partition}:s3")).build();
            out.push(
                EventSelector::builder()
                    .read_write_type(read_write_type(missing))
                    .include_management_events(false)
                    .data_resources(objects)
                    .build(),
            );
            Ok(Selectors::Basic(out))
        }
        Selectors::Advanced(advanced) => {
            let (own, mut out): (Vec<_>, Vec<_>) =
                advanced.iter().cloned().partition(|s| s.name() == Some(SELECTOR_NAME));
            let had = own.iter().map(advanced_sides).fold(Sides::default(), Sides::union);
            out.push(advanced_selector(had.union(wanted)));
            Ok(Selectors::Advanced(out))
        }
    }
}

/// The selectors to write to a trail; `None`: nothing logmend may write (reported only).
#[derive(Debug, Clone, PartialEq)]
pub struct DataEventsFinding {
    pub put: Option<(String, Selectors)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DataEventsStep {
    PutEventSelectors { trail_arn: String, selectors: Selectors },
}

async fn read_selectors(cx: &Context<'_, Clients>, arn: &str) -> Result<Selectors, ControlError> {
    crate::cloudtrail_logging::read_selectors(cx, arn).await
}

async fn is_logging(cx: &Context<'_, Clients>, arn: &str) -> Result<bool, ControlError> {
    let status = cx
        .clients
        .cloudtrail
        .get_trail_status()
        .name(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudtrail:GetTrailStatus", arn, e))?;
    Ok(status.is_logging() == Some(true))
}

/// The account's multi-region trails, in the order logmend would add the selector to them:
/// logmend's baseline first, then by name.
fn candidates<'t>(cx: &Context<'_, Clients>, trails: &'t [Trail]) -> Vec<&'t Trail> {
    let mut multi: Vec<&Trail> = trails
        .iter()
        .filter(|t| t.is_multi_region_trail() == Some(true))
        .filter(|t| {
            t.trail_arn().and_then(parse_trail_arn).is_some_and(|a| cx.account.is_none_or(|own| own == a.account))
        })
        .collect();
    let baseline = cx.config.baseline_trail.as_deref();
    multi.sort_by_key(|t| (t.name() != baseline || baseline.is_none(), t.name().map(str::to_owned)));
    multi
}

impl Control for S3DataEventsControl {
    type Clients = Clients;
    /// The region whose trails are looked at.
    type Target = String;
    type Finding = DataEventsFinding;
    type Step = DataEventsStep;

    fn spec(&self) -> &'static ControlSpec {
        &SPEC
    }

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
    ) -> Result<Checked<DataEventsFinding>, ControlError> {
        let Some(account) = cx.account else {
            return Ok(Checked {
                resource: format!("the trails of {}", cx.region),
                state: State::Skipped("the account is not known, so neither are its trails".into()),
            });
        };
        let resource = baseline_resource(cx.region, account);
        let wanted = Sides::wanted(cx.config.s3_data_events);
        if wanted.none() {
            return Ok(Checked {
                resource,
                state: State::Skipped(
                    "LOGMEND_S3_DATA_EVENTS is off (data events are billed per event); set write (S3.22), read (S3.23) or all".into(),
                ),
            });
        }
        let trails = describe_trails(cx, true).await?;
        let multi = candidates(cx, &trails);
        let mut fixable = None;
        let mut elsewhere = None;
        for t in &multi {
            let arn = t.trail_arn().unwrap_or_default();
            let selectors = read_selectors(cx, arn).await?;
            let logged = logged_sides(&selectors);
            if logged.missing(wanted).none() && is_logging(cx, arn).await? {
                return Ok(Checked {
                    resource,
                    state: State::Compliant(format!(
                        "trail {arn} logs S3 {} data events for every bucket",
                        wanted.name()
                    )),
                });
            }
            let home = t.home_region().filter(|h| !h.is_empty()).or(parse_trail_arn(arn).map(|a| a.region));
            if home != Some(cx.region) {
                elsewhere.get_or_insert((arn.to_owned(), home.unwrap_or_default().to_owned()));
            } else if fixable.is_none() && !trail_exempt(cx, arn).await? {
                fixable = Some((arn.to_owned(), selectors, logged));
            }
        }
        let gap =
            format!("no multi-region trail that is logging records S3 {} data events for every bucket", wanted.name());
        let Some((trail_arn, selectors, logged)) = fixable else {
            let reason = match (elsewhere, &cx.config.baseline_trail) {
                (Some((arn, home)), _) if cx.config.mode == Mode::Remediate => {
                    return Ok(Checked {
                        resource,
                        state: State::Pending(format!("{gap}; trail {arn}'s home region {home} adds them")),
                    });
                }
                (Some((arn, home)), _) => format!("{gap}; trail {arn} would, from its home region {home}"),
                (None, _) if !multi.is_empty() => format!("{gap}; the account's multi-region trails here are exempt"),
                (None, Some(name)) => {
                    format!("{gap}; no multi-region trail yet: logmend's baseline trail {name} gets them once made")
                }
                (None, None) => format!(
                    "{gap}; the account has no multi-region trail (set LOGMEND_BASELINE_TRAIL to have logmend make one)"
                ),
            };
            let finding = DataEventsFinding { put: None };
            return Ok(Checked { resource, state: State::Noncompliant { reason, finding } });
        };
        let missing = logged.missing(wanted);
        if missing.none() {
            // The selectors are there; the trail is stopped, which cloudtrail-logging restarts.
            let reason =
                format!("{gap}; trail {trail_arn} has the selectors but is not logging (cloudtrail-logging starts it)");
            return Ok(Checked {
                resource,
                state: if cx.config.mode == Mode::Remediate {
                    State::Pending(reason)
                } else {
                    State::Noncompliant { reason, finding: DataEventsFinding { put: None } }
                },
            });
        }
        let reason = format!("{gap}; trail {trail_arn} lacks S3 {} data events", missing.name());
        match merged(&selectors, wanted, partition_of(cx.region)) {
            Ok(selectors) => Ok(Checked {
                resource,
                state: State::Noncompliant { reason, finding: DataEventsFinding { put: Some((trail_arn, selectors)) } },
            }),
            Err(why) => Ok(Checked {
                resource,
                state: State::Noncompliant {
                    reason: format!("{reason}: {why}"),
                    finding: DataEventsFinding { put: None },
                },
            }),
        }
    }

    fn plan(&self, _config: &Config, f: &DataEventsFinding) -> Vec<DataEventsStep> {
        f.put
            .iter()
            .map(|(trail_arn, selectors)| DataEventsStep::PutEventSelectors {
                trail_arn: trail_arn.clone(),
                selectors: selectors.clone(),
            })
            .collect()
    }

    fn describe(&self, step: &DataEventsStep) -> Change {
        let DataEventsStep::PutEventSelectors { trail_arn, selectors } = step;
        let detail = match selectors {
            Selectors::Basic(b) => {
                format!("{trail_arn}: {} basic selector(s), one for AWS::S3::Object in every bucket", b.len())
            }
            Selectors::Advanced(a) => {
                format!("{trail_arn}: {} advanced selector(s), one named {SELECTOR_NAME:?}", a.len())
            }
        };
        Change::new("cloudtrail:PutEventSelectors", detail)
    }

    async fn apply(
        &self,
        cx: &Context<'_, Clients>,
        _f: &DataEventsFinding,
        plan: &[DataEventsStep],
    ) -> Result<Applied, ApplyError> {
        let mut done = Vec::new();
        for step in plan {
            let DataEventsStep::PutEventSelectors { trail_arn, selectors } = step;
            let put = cx.clients.cloudtrail.put_event_selectors().trail_name(trail_arn);
            let put = match selectors {
                Selectors::Basic(b) => put.set_event_selectors(Some(b.clone())),
                Selectors::Advanced(a) => put.set_advanced_event_selectors(Some(a.clone())),
            };
            if let Err(e) = put.send().await {
                let error = AwsError::from_sdk("cloudtrail:PutEventSelectors", trail_arn, e);
                return Err(ApplyError { done, error: error.into() });
            }
            done.push(self.describe(step));
        }
        Ok(Applied::Fixed(format!(
            "S3 {} data events logged for every bucket",
            Sides::wanted(cx.config.s3_data_events).name()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(rw: ReadWriteType, management: bool, values: &[&str]) -> EventSelector {
        let mut b = EventSelector::builder().read_write_type(rw).include_management_events(management);
        if !values.is_empty() {
            let mut d = DataResource::builder().r#type(S3_OBJECT);
            for v in values {
                d = d.values(*v);
            }
            b = b.data_resources(d.build());
        }
        b.build()
    }

    const WRITE: Sides = Sides { write: true, read: false };
    const BOTH: Sides = Sides { write: true, read: true };

    #[test]
    fn only_a_selector_for_every_bucket_counts() {
        let one_bucket = Selectors::Basic(vec![basic(ReadWriteType::All, true, &["arn:aws:s3:::app/"])]);
        assert!(logged_sides(&one_bucket).none());
        let all = Selectors::Basic(vec![basic(ReadWriteType::WriteOnly, false, &["arn:aws:s3"])]);
        assert_eq!(logged_sides(&all), WRITE);
        let all_colons = Selectors::Basic(vec![basic(ReadWriteType::All, false, &["arn:aws-us-gov:s3:::"])]);
        assert_eq!(logged_sides(&all_colons), BOTH);
    }

    #[test]
    fn a_basic_merge_keeps_the_selectors_and_adds_only_the_missing_side() {
        let s = Selectors::Basic(vec![
            basic(ReadWriteType::All, true, &[]),
            basic(ReadWriteType::WriteOnly, false, &["arn:aws:s3"]),
        ]);
        let Ok(Selectors::Basic(m)) = merged(&s, BOTH, "aws") else { panic!() };
        assert_eq!(m.len(), 3);
        assert_eq!(m[2].read_write_type(), Some(&ReadWriteType::ReadOnly), "the write side was there");
        assert_eq!(m[2].include_management_events(), Some(false), "management keeps its own selector's type");
        assert_eq!(logged_sides(&Selectors::Basic(m.clone())), BOTH);
        assert!(crate::cloudtrail_logging::logs_all_management(&Selectors::Basic(m)), "management kept");
        let Ok(Selectors::Basic(from_none)) = merged(&Selectors::Basic(vec![]), WRITE, "aws") else { panic!() };
        assert!(crate::cloudtrail_logging::logs_all_management(&Selectors::Basic(from_none)), "the default kept");
        let full = Selectors::Basic((0..5).map(|_| basic(ReadWriteType::All, true, &[])).collect());
        assert!(merged(&full, WRITE, "aws").unwrap_err().contains("would drop another"));
    }

    #[test]
    fn an_advanced_merge_replaces_only_logmends_selector_and_narrowed_ones_do_not_count() {
        let field = |f: &str, v: &str| AdvancedFieldSelector::builder().field(f).equals(v).build().unwrap();
        let mgmt =
            AdvancedEventSelector::builder().field_selectors(field("eventCategory", "Management")).build().unwrap();
        let narrowed = AdvancedEventSelector::builder()
            .field_selectors(field("eventCategory", "Data"))
            .field_selectors(field("resources.type", S3_OBJECT))
            .field_selectors(
                AdvancedFieldSelector::builder()
                    .field("resources.ARN")
                    .starts_with("arn:aws:s3:::app/")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let s = Selectors::Advanced(vec![mgmt.clone(), narrowed.clone(), advanced_selector(WRITE)]);
        assert_eq!(logged_sides(&s), WRITE, "logmend's write selector; the narrowed one is not every bucket");
        let Ok(Selectors::Advanced(m)) = merged(&s, BOTH, "aws") else { panic!() };
        assert_eq!(m, vec![mgmt, narrowed, advanced_selector(BOTH)]);
        assert_eq!(advanced_selector(BOTH).field_selectors().len(), 2, "no readOnly: both sides");
    }
}
