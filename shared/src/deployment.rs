//! The Lambda functions logmend deploys and the controls each hosts: one table for the
//! functions' mains, the template's roles (tests/it/template.rs holds them equal) and the docs.

use crate::controls::ControlId;

#[derive(Debug)]
pub struct FunctionSpec {
    /// The binary, its `functions/` folder and its `target/lambda/<name>/` build directory.
    pub name: &'static str,
    pub controls: &'static [ControlId],
    /// Run by the daily schedule over every resource, rather than by events.
    pub scheduled: bool,
}

pub const MQ_BROKER_LOGS: FunctionSpec =
    FunctionSpec { name: "mq-broker-logs", controls: &[ControlId::MqBrokerLogs], scheduled: false };
pub const RDS_AUDIT_LOGS: FunctionSpec = FunctionSpec {
    name: "rds-audit-logs",
    controls: &[ControlId::RdsClusterAuditLogs, ControlId::RdsInstanceLogExports],
    scheduled: false,
};
pub const TRAIL_CLOUDWATCH: FunctionSpec =
    FunctionSpec { name: "trail-cloudwatch", controls: &[ControlId::CloudtrailCloudwatchLogs], scheduled: false };
pub const LOG_RETENTION: FunctionSpec =
    FunctionSpec { name: "log-retention", controls: &[ControlId::LogGroupRetention], scheduled: false };
pub const SWEEP: FunctionSpec = FunctionSpec { name: "sweep", controls: &ControlId::ALL, scheduled: true };

pub const FUNCTIONS: [&FunctionSpec; 5] = [&MQ_BROKER_LOGS, &RDS_AUDIT_LOGS, &TRAIL_CLOUDWATCH, &LOG_RETENTION, &SWEEP];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_has_exactly_one_event_function_and_the_sweep() {
        for id in ControlId::ALL {
            let hosts: Vec<&str> =
                FUNCTIONS.iter().filter(|f| !f.scheduled && f.controls.contains(&id)).map(|f| f.name).collect();
            assert_eq!(hosts.len(), 1, "{id}: {hosts:?}");
            assert!(SWEEP.controls.contains(&id));
        }
    }
}
