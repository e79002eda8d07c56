//! The CloudTrail facts more than one family reads: the parts of a trail ARN, an emptied
//! field, and whether a trail's event selectors log all management events, read and write
//! (the trail CIS and Security Hub mean for CloudTrail.1/.3 and for the CloudWatch.1-14
//! alarms). Pure functions over the CloudTrail SDK's types, so a family that needs them links
//! no other family's clients.

use aws_sdk_cloudtrail::types::{AdvancedEventSelector, EventSelector, ReadWriteType};

/// The parts of a CloudTrail ARN: `arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME`.
pub struct TrailArn<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
}

pub fn parse_trail_arn(arn: &str) -> Option<TrailArn<'_>> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "cloudtrail", region, account, rest] if rest.starts_with("trail/") => {
            Some(TrailArn { partition, region, account })
        }
        _ => None,
    }
}

/// The partition a region is in (the bucket and trail ARNs logmend writes carry it).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("cn-") {
        "aws-cn"
    } else {
        "aws"
    }
}

/// moto stores an emptied ARN as `""`, which the SDK returns as `Some("")`: that is unset.
pub fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

/// A trail's selectors, as GetEventSelectors gives them.
#[derive(Debug, Clone, PartialEq)]
pub enum Selectors {
    Basic(Vec<EventSelector>),
    Advanced(Vec<AdvancedEventSelector>),
}

impl Selectors {
    /// What GetEventSelectors answers: advanced selectors when the trail has them, else basic.
    pub fn of(out: &aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput) -> Self {
        if out.advanced_event_selectors().is_empty() {
            Selectors::Basic(out.event_selectors().to_vec())
        } else {
            Selectors::Advanced(out.advanced_event_selectors().to_vec())
        }
    }
}

fn basic_logs_all_management(s: &EventSelector) -> bool {
    s.include_management_events() != Some(false) && s.read_write_type().is_none_or(|t| *t == ReadWriteType::All)
}

pub fn is_management(s: &AdvancedEventSelector) -> bool {
    s.field_selectors().iter().any(|f| f.field() == "eventCategory" && f.equals().iter().any(|v| v == "Management"))
}

fn advanced_logs_all_management(s: &AdvancedEventSelector) -> bool {
    is_management(s) && !s.field_selectors().iter().any(|f| f.field() == "readOnly")
}

/// Whether the selectors log management events, read and write.
pub fn logs_all_management(selectors: &Selectors) -> bool {
    match selectors {
        Selectors::Basic(b) => b.iter().any(basic_logs_all_management),
        Selectors::Advanced(a) => a.iter().any(advanced_logs_all_management),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_arns_split_into_partition_region_and_account() {
        let a = parse_trail_arn("arn:aws-us-gov:cloudtrail:us-gov-west-1:123456789012:trail/x").unwrap();
        assert_eq!((a.partition, a.region, a.account), ("aws-us-gov", "us-gov-west-1", "123456789012"));
        assert!(parse_trail_arn("arn:aws:s3:::bucket").is_none());
        assert_eq!(non_empty(Some(" ")), None);
    }
}
