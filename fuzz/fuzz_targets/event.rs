//! Any bytes as an EventBridge event: the parser, every control's reading of the event, and
//! the Lambda entry's handling (with clients whose every call is refused at once, so the
//! evaluation paths run to their `failed` decisions). A panic anywhere is a finding.

#![no_main]

use libfuzzer_sys::fuzz_target;
use logmend::decision::Mode;
use logmend::event::ApiCallEvent;
use logmend::{ClientSet, Config, Logmend};
use serde_json::Value;
use std::sync::OnceLock;

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: Logmend,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let conf = logmend::aws::offline_sdk_config("us-east-1");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let app = logmend::app(Config::new(Mode::Remediate), ClientSet::new(&conf));
        Harness { runtime, app }
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = ApiCallEvent::from_slice(data);
    let Ok(value) = serde_json::from_slice::<Value>(data) else { return };
    if let Ok(event) = ApiCallEvent::from_value(&value) {
        for control in logmend::all_controls() {
            let _ = control.named_targets(&event);
        }
    }
    let h = harness();
    let _ = h.runtime.block_on(h.app.handle_checked(&value, 1, Some("123456789012")));
});
