//! Integration tests against the fidelity-patched local AWS emulator (tests/emulator).

mod account;
mod cis_alarms;
mod cli;
mod cloudtrail;
mod cloudtrail_access_logging;
mod cloudtrail_baseline;
mod cloudtrail_bucket;
mod cloudtrail_encryption;
mod cloudtrail_logging;
mod cloudtrail_mocks;
mod cloudtrail_validation;
mod dependencies;
mod emulator_fidelity;
mod fanout;
mod faults;
mod log_retention;
mod mq;
mod mq_mocks;
mod network;
mod rds;
mod rds_mocks;
mod recheck;
mod reliability;
mod s3;
mod template;
mod workload;
