//! logmend's CIS alarms family (Security Hub CloudWatch.1–14). What is here so far: the exact
//! metric filter patterns (`patterns`) and a matcher for CloudWatch Logs' JSON filter syntax
//! (`filter_pattern`) that tests them against CloudTrail records. The control, its clients
//! (CloudWatch over rpc-v2-cbor, CloudWatch Logs, SNS, CloudTrail) and its function are the rest
//! of issue 15; until then this crate is in no function and in no `FAMILIES` list.

pub mod filter_pattern;
pub mod patterns;
