//! Tracing set-up: JSON lines on stderr, filtered by `RUST_LOG` (default `info`), no ANSI and
//! no timestamps (CloudWatch Logs adds its own). Decisions are not tracing events: they are
//! printed on stdout by [`crate::Decision::emit`], so they stay plain JSON objects.

use tracing_subscriber::EnvFilter;

pub fn init() {
    init_json(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")));
}

fn init_json(filter: EnvFilter) {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_ansi(false)
        .without_time()
        .with_current_span(false)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
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
