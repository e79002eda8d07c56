//! logmend's CloudTrail family: every region covered by a logging multi-region trail
//! (CloudTrail.1/.3), each trail logging management events, validated (CloudTrail.4),
//! encrypted (CloudTrail.2) and delivered to CloudWatch Logs (CloudTrail.5), and its S3 store
//! locked down (CloudTrail.6) and access-logged (CloudTrail.7); and the S3 logs a trail and S3
//! itself keep: server access logs on every bucket (S3.9) and S3 data events in a multi-region
//! trail (S3.22/.23, opt-in). Its function is `trail-cloudwatch`; it links the CloudTrail,
//! CloudWatch Logs, IAM, S3 and KMS clients only.

pub mod access_logs;
pub mod baseline;
pub mod bucket;
pub mod cloudtrail_bucket_access_logging;
pub mod cloudtrail_bucket_protection;
pub mod cloudtrail_cloudwatch_logs;
pub mod cloudtrail_encryption;
pub mod cloudtrail_log_file_validation;
pub mod cloudtrail_logging;
pub mod s3_access_logging;
pub mod s3_data_events;
pub mod trail;

use logmend_core::registry::{ControlDef, Family};

/// The family's clients, made once per region.
#[derive(Clone, Debug)]
pub struct Clients {
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub iam: aws_sdk_iam::Client,
    pub s3: aws_sdk_s3::Client,
    pub kms: aws_sdk_kms::Client,
}

impl logmend_core::control::FamilyClients for Clients {
    fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            cloudtrail: aws_sdk_cloudtrail::Client::new(sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(sdk),
            iam: aws_sdk_iam::Client::new(sdk),
            s3: s3_client(sdk),
            kms: aws_sdk_kms::Client::new(sdk),
        }
    }
}

pub use logmend_s3_store::client as s3_client;

pub static CONTROLS: &[&dyn ControlDef] = &[
    &cloudtrail_cloudwatch_logs::CloudtrailCloudwatchLogs,
    &cloudtrail_log_file_validation::CloudtrailLogFileValidation,
    &cloudtrail_logging::CloudtrailLogging,
    &cloudtrail_bucket_protection::CloudtrailBucketProtection,
    &cloudtrail_encryption::CloudtrailEncryption,
    &cloudtrail_bucket_access_logging::CloudtrailBucketAccessLogging,
    &s3_access_logging::S3AccessLogging,
    &s3_data_events::S3DataEventsControl,
];

pub static FAMILY: Family =
    Family { name: "cloudtrail", function: "trail-cloudwatch", title: "CloudTrail and its store", controls: CONTROLS };
