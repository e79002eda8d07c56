//! logmend's RDS family: Aurora cluster audit logs (RDS.34) and instance log exports (RDS.9).
//! Its function is `rds-audit-logs`; it links the RDS client only.

pub(crate) mod rds;
pub mod rds_cluster_audit_logs;
pub mod rds_instance_log_exports;

use logmend_core::registry::{ControlDef, Family};

/// The family's clients, made once per region.
#[derive(Clone, Debug)]
pub struct Clients {
    pub rds: aws_sdk_rds::Client,
}

impl logmend_core::control::FamilyClients for Clients {
    fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self { rds: aws_sdk_rds::Client::new(sdk) }
    }
}

pub static CONTROLS: &[&dyn ControlDef] =
    &[&rds_cluster_audit_logs::RdsClusterAuditLogs, &rds_instance_log_exports::RdsInstanceLogExports];

pub static FAMILY: Family =
    Family { name: "rds", function: "rds-audit-logs", title: "RDS and Aurora logs", controls: CONTROLS };
