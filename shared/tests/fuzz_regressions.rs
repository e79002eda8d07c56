//! Every input in fuzz/regressions/ (crashes `make fuzz` ever found, and hand-made hard
//! cases) goes through what the fuzz target exercises: the parser, every control's reading of
//! the event, and the handler with clients whose every call is refused. None may panic.

use logmend::aws::offline_sdk_config;
use logmend::decision::Mode;
use logmend::event::ApiCallEvent;
use logmend::{ClientSet, Config};
use serde_json::Value;
use std::path::Path;

#[tokio::test]
async fn every_kept_fuzz_input_is_handled_without_a_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let app = logmend::app(Config::new(Mode::Remediate), ClientSet::new(&offline_sdk_config("us-east-1")));
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "README.md") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let _ = ApiCallEvent::from_slice(&data);
        if let Ok(value) = serde_json::from_slice::<Value>(&data) {
            if let Ok(event) = ApiCallEvent::from_value(&value) {
                for control in logmend::all_controls() {
                    let _ = control.named_targets(&event);
                }
            }
            let _ = app.handle_checked(&value, 1, Some("123456789012")).await;
        }
        seen += 1;
    }
    assert!(seen >= 3, "fuzz/regressions/ holds the hand-made cases at least");
}
