//! logmend keeps an AWS account's activity logging switched on.
//!
//! EventBridge forwards CloudTrail API events to small Lambda functions; each re-reads the
//! resource named in the event, decides, and (in remediate mode) fixes it. The CLI and the
//! scheduled sweep run the very same code. See DESIGN.md beside the repository.

pub mod aws;
pub mod config;
pub mod controls;
pub mod decision;
pub mod deployment;
pub mod event;
pub mod handler;
pub mod policy;
pub mod recheck;
pub mod sweep;
pub mod telemetry;

pub use config::Config;
pub use controls::ControlId;
pub use decision::{Decision, Mode, Verdict};
pub use handler::{HandlerError, Logmend};
