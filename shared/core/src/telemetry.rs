//! Tracing set-up: JSON lines on stderr, filtered by `RUST_LOG` (default `info`), no ANSI and
//! no timestamps (CloudWatch Logs adds its own). Decisions are not tracing events: they are
//! printed on stdout by [`crate::Decision::emit`], so they stay plain JSON objects.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

/// The functions' tracing. `RUST_LOG` is a list of `target=level` directives (or a bare level),
/// read by `Targets` rather than `EnvFilter`: EnvFilter's span and field matching brings the
/// regex engine into every function (its code and its start-up) for a syntax a Lambda log
/// level does not need.
pub fn init() {
    let setting = std::env::var("RUST_LOG").ok();
    let (filter, refused) = function_filter(setting.as_deref());
    init_json(filter);
    if let Some(error) = refused {
        tracing::warn!(rust_log = setting.as_deref().unwrap_or_default(), %error, "RUST_LOG is not a list of target=level directives; logging at info");
    }
}

/// `RUST_LOG`'s filter, or `info` (and why the setting was refused, to log once tracing is up).
fn function_filter(setting: Option<&str>) -> (Targets, Option<String>) {
    let info = || Targets::new().with_default(tracing::Level::INFO);
    match setting.map(str::trim).filter(|s| !s.is_empty()) {
        None => (info(), None),
        Some(s) => match s.parse::<Targets>() {
            Ok(targets) => (targets, None),
            Err(e) => (info(), Some(e.to_string())),
        },
    }
}

fn json_layer() -> impl Layer<Registry> {
    tracing_subscriber::fmt::layer()
        .json()
        .with_ansi(false)
        .without_time()
        .with_current_span(false)
        .with_target(false)
        .with_writer(std::io::stderr)
}

/// JSON lines on stderr, behind the functions' `Targets` or the CLI's `EnvFilter`.
fn init_json(filter: impl tracing_subscriber::layer::Filter<Registry> + Send + Sync + 'static) {
    let _ = Registry::default().with(json_layer().with_filter(filter)).try_init();
}

/// The CLI's tracing: for a person at a terminal, plain lines, and the SDK's own warnings
/// (the instance-metadata probe's, among others) left out unless `RUST_LOG` asks for them;
/// piped or redirected, the same JSON lines as in Lambda.
pub fn init_cli() {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(
            "warn,aws_config=off,aws_smithy_runtime=off,aws_smithy_runtime_api=off,aws_runtime=off,aws_sdk_sts=off",
        )
    });
    if std::io::stderr().is_terminal() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .without_time()
            .with_target(false)
            .with_writer(std::io::stderr)
            .try_init();
    } else {
        init_json(filter);
    }
}

#[cfg(test)]
mod tests {
    use super::function_filter;
    use tracing::Level;

    #[test]
    fn rust_log_directives_set_each_targets_level_and_the_default() {
        let (targets, refused) = function_filter(Some("warn,logmend_core=debug"));
        assert_eq!(refused, None);
        assert!(targets.would_enable("logmend_core::handler", &Level::DEBUG));
        assert!(!targets.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(targets.would_enable("aws_smithy_runtime", &Level::WARN));
    }

    #[test]
    fn no_or_empty_rust_log_is_info() {
        for setting in [None, Some(""), Some("  ")] {
            let (targets, refused) = function_filter(setting);
            assert_eq!(refused, None);
            assert!(targets.would_enable("logmend_core", &Level::INFO));
            assert!(!targets.would_enable("logmend_core", &Level::DEBUG));
        }
    }

    #[test]
    fn a_rust_log_that_is_not_directives_is_refused_with_its_reason_and_info_kept() {
        let (targets, refused) = function_filter(Some("logmend_core=loud"));
        assert!(refused.is_some_and(|e| !e.is_empty()));
        assert!(targets.would_enable("logmend_core", &Level::INFO));
        assert!(!targets.would_enable("logmend_core", &Level::DEBUG));
    }
}
