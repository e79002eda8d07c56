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

#[cfg(test)]
mod tests {
    use super::*;

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
