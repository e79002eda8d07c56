//! The deployed binary, run as Lambda runs it: a local Runtime API (the four routes of the
//! Lambda Developer Guide's "Using the Lambda runtime API for custom runtimes") hands it one
//! CloudTrail event, and its stdout, which Lambda sends to CloudWatch Logs, is read the way
//! CloudWatch reads embedded metric format lines (`logmend_core::metrics::extract`).

use logmend_core::metrics::{ExtractedMetric, extract};
use logmend_integration::{Emulator, sample_event};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// One HTTP/1.1 request off a kept-alive connection: (method, path, body).
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        if header.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}

/// Serve `event` once on `/next`, send what the function answers on `answers`, and hold every
/// later `/next` (the function waits there for its next invocation).
fn runtime_api(listener: TcpListener, event: String, answers: mpsc::Sender<(String, String)>) {
    let mut served = false;
    for stream in listener.incoming().flatten() {
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        while let Some((method, path, body)) = read_request(&mut reader) {
            if method == "GET" && path.ends_with("/runtime/invocation/next") {
                if served {
                    std::thread::sleep(Duration::from_secs(600));
                    return;
                }
                served = true;
                let deadline =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 60_000;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                     Lambda-Runtime-Aws-Request-Id: req-1\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\n\
                     Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:logmend-log-retention\r\n\
                     Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\n\r\n",
                    event.len()
                );
                writer.write_all(head.as_bytes()).unwrap();
                writer.write_all(event.as_bytes()).unwrap();
            } else {
                let _ = answers.send((path, String::from_utf8_lossy(&body).into_owned()));
                writer.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}").unwrap();
            }
        }
    }
}

/// GIVEN a log group that never expires; WHEN the log-retention binary handles its
/// CreateLogGroup event; THEN its stdout holds the decision as one JSON line that CloudWatch
/// turns into `decisions` = 1 in the Logmend namespace, per control and verdict and per
/// verdict, and the invocation succeeds.
#[test]
fn the_functions_decision_lines_are_embedded_metrics() {
    let emulator = Emulator::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let conf = emulator.sdk_config("us-east-1");
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    rt.block_on(logs.create_log_group().log_group_name("/app/payments").send()).unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let api = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    let event = sample_event("logs/create-log-group.json").to_string();
    std::thread::spawn(move || runtime_api(listener, event, tx));

    let mut child = Command::new(env!("CARGO_BIN_EXE_log-retention"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "logmend-log-retention")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/logmend/test/log-retention")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "s")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &emulator.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("LOGMEND_MODE", "remediate")
        .env("LOGMEND_CONTROLS", "log-group-retention")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (path, answer) = rx.recv_timeout(Duration::from_secs(60)).expect("the function answered");
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(path.ends_with("/invocation/req-1/response"), "{path}: {answer}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains("\"_aws\"")).collect();
    assert_eq!(lines.len(), 1, "one decision, one metric line: {stdout}");
    let metrics = extract(lines[0]).unwrap();
    let dims = |m: &ExtractedMetric| m.dimensions.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    let got: Vec<(String, String, String, f64)> =
        metrics.iter().map(|m| (m.namespace.clone(), m.name.clone(), dims(m), m.value)).collect();
    assert_eq!(
        got,
        [
            ("Logmend".into(), "decisions".into(), "control=log-group-retention,verdict=fixed".into(), 1.0),
            ("Logmend".into(), "decisions".into(), "verdict=fixed".into(), 1.0),
        ]
    );
    let decision: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(decision["resource"], "arn:aws:logs:us-east-1:123456789012:log-group:/app/payments");
}
