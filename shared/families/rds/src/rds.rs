//! What the two RDS controls share: reading an RDS status and an RDS tag list.

use crate::Clients;
use logmend_core::control::{Context, Readiness, is_exempt};

/// RDS statuses (RDS User Guide, "Viewing Amazon RDS DB instance status" and "Viewing DB
/// cluster status"). Unknown statuses count as transitional: a later look decides.
pub fn readiness(status: &str) -> Readiness {
    match status {
        "available" | "storage-optimization" => Readiness::Ready,
        "stopped"
        | "stopping"
        | "deleting"
        | "failed"
        | "inaccessible-encryption-credentials"
        | "inaccessible-encryption-credentials-recoverable"
        | "restore-error" => Readiness::Inactive,
        s if s.starts_with("incompatible-") => Readiness::Inactive,
        _ => Readiness::NotYet,
    }
}

pub fn exempt(cx: &Context<'_, Clients>, tags: &[aws_sdk_rds::types::Tag]) -> bool {
    is_exempt(cx.config, tags.iter().filter_map(|t| Some((t.key()?, t.value()?))))
}

/// Parameters to set at once (all that logmend sets are dynamic).
pub fn immediate_parameters<'a>(
    parameters: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<aws_sdk_rds::types::Parameter> {
    parameters
        .into_iter()
        .map(|(name, value)| {
            aws_sdk_rds::types::Parameter::builder()
                .parameter_name(name)
                .parameter_value(value)
                .apply_method(aws_sdk_rds::types::ApplyMethod::Immediate)
                .build()
        })
        .collect()
}

/// The tag logmend puts on the groups it makes.
pub fn managed_by_tag() -> aws_sdk_rds::types::Tag {
    aws_sdk_rds::types::Tag::builder()
        .key(logmend_core::control::MANAGED_BY_TAG.0)
        .value(logmend_core::control::MANAGED_BY_TAG.1)
        .build()
}

/// The name of logmend's copy of a group: `logmend-<base>-<purpose>`, as RDS group names must
/// be (letters, digits and single hyphens, starting with a letter, at most 255 characters).
pub fn logmend_copy_name(base: &str, purpose: &str) -> String {
    let mut name: String = format!("logmend-{base}-{purpose}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    if name.len() > 255 {
        let keep = 255 - purpose.len() - 1;
        name = format!("{}-{purpose}", name[..keep].trim_end_matches('-'));
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_names_are_valid_rds_group_names() {
        assert_eq!(logmend_copy_name("mysql8.0", "logs"), "logmend-mysql8-0-logs");
        assert_eq!(logmend_copy_name("default:mysql-8-0", "audit"), "logmend-default-mysql-8-0-audit");
        assert_eq!(logmend_copy_name("Shared_App", "audit"), "logmend-shared-app-audit");
        let long = logmend_copy_name(&"a".repeat(300), "logs");
        assert!(long.len() <= 255 && long.ends_with("-logs"), "{long}");
    }

    #[test]
    fn statuses_are_ready_transitional_or_inactive() {
        assert_eq!(readiness("available"), Readiness::Ready);
        for s in ["creating", "modifying", "backing-up", "rebooting", "upgrading", "starting", "something-new"] {
            assert_eq!(readiness(s), Readiness::NotYet, "{s}");
        }
        for s in ["stopped", "deleting", "failed", "incompatible-parameters"] {
            assert_eq!(readiness(s), Readiness::Inactive, "{s}");
        }
    }
}
