//! logmend-core: what every logmend function and the CLI share — events, decisions, settings,
//! the control trait and the registry machinery, the sweep and the function's queue, the AWS
//! plumbing, the IAM policy and the deployment template built from the registry.
//!
//! The controls live in one crate per service family (`logmend-logs`, `logmend-cloudtrail`,
//! `logmend-mq`, `logmend-rds`, `logmend-alarms`), each with its own SDK clients only, so a
//! function links the core and its family alone. See DESIGN.md beside the repository.
// The template is one serde_json::json! document; its size passes the macro's default limit.
#![recursion_limit = "256"]

pub mod aws;
pub mod config;
pub mod control;
pub mod decision;
pub mod event;
pub mod findings;
pub mod handler;
pub mod metrics;
pub mod outputs;
pub mod policy;
pub mod recheck;
pub mod registry;
pub mod resource_policy;
pub mod sweep;
pub mod telemetry;
pub mod template;

pub use config::Config;
pub use decision::{Decision, Mode, Verdict};
pub use handler::{HandlerError, Logmend};
pub use registry::{ClientSet, ControlDef, Family};
