//! Tracing set-up: JSON lines on stderr, filtered by `RUST_LOG` (default `info`), no ANSI and
//! no timestamps (CloudWatch Logs adds its own). Decisions are not tracing events: they are
//! printed on stdout by [`crate::Decision::emit`], so they stay plain JSON objects.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
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
