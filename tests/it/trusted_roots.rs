//! The functions' HTTPS client trusts Amazon Trust Services' roots alone; the CLI's trusts the
//! system store. A local HTTPS server whose certificate comes from a test CA (trusted by the
//! system store here, through SSL_CERT_FILE) tells the two apart: a real TLS handshake each.

use logmend::aws::{ClientSettings, TrustedRoots, load_sdk_config};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn openssl(dir: &Path, args: &[&str]) {
    let status =
        Command::new("openssl").args(args).current_dir(dir).stderr(Stdio::null()).status().expect("openssl runs");
    assert!(status.success(), "openssl {args:?} failed");
}

/// A test CA, a `localhost` certificate it signed, and a Python HTTPS server answering every
/// POST with STS's GetCallerIdentity response. Returns the server and its port.
fn https_server(dir: &Path) -> (Child, u16) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=logmend test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
        ],
    );
    std::fs::write(dir.join("leaf.ext"), "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    );
    let server = r#"
import http.server, ssl, sys
BODY = b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/t</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>'
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200); self.send_header("content-type", "text/xml"); self.send_header("content-length", str(len(BODY))); self.end_headers(); self.wfile.write(BODY)
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain("leaf.pem", "leaf.key")
s.socket = ctx.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;
    let mut child = Command::new("python3")
        .args(["-c", server])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim().parse().expect("the server prints its port"))
}

async fn caller_account(roots: TrustedRoots, port: u16) -> Result<String, String> {
    let settings = ClientSettings {
        region: Some("us-east-1".into()),
        endpoint_url: Some(format!("https://localhost:{port}")),
        trusted_roots: roots,
        ..Default::default()
    };
    let sdk = load_sdk_config(&settings)
        .await
        .into_builder()
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let sts = aws_sdk_sts::Client::new(&sdk);
    sts.get_caller_identity()
        .send()
        .await
        .map(|o| o.account().unwrap_or_default().to_owned())
        .map_err(|e| aws_smithy_types::error::display::DisplayErrorContext(&e).to_string())
}

/// `cargo test` runs every test of this binary in one process, and the system store is read once
/// per process (rustls-native-certs): so the handshakes run in a process of their own, started
/// from this test binary with SSL_CERT_FILE naming the test CA.
#[test]
fn functions_trust_amazon_trust_services_alone_and_the_cli_the_system_store() {
    let dir = std::env::temp_dir().join(format!("logmend-trusted-roots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut server, port) = https_server(&dir);
    let output = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([
            "--exact",
            "trusted_roots::handshakes_in_their_own_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SSL_CERT_FILE", dir.join("ca.pem"))
        .env(PORT_VARIABLE, port.to_string())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the test binary runs");
    server.kill().ok();
    server.wait().ok();
    std::fs::remove_dir_all(&dir).ok();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the handshakes failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

const PORT_VARIABLE: &str = "LOGMEND_TRUSTED_ROOTS_TEST_PORT";

#[tokio::test]
#[ignore = "started in its own process by functions_trust_amazon_trust_services_alone_and_the_cli_the_system_store"]
async fn handshakes_in_their_own_process() {
    let port: u16 = std::env::var(PORT_VARIABLE)
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{PORT_VARIABLE} names the test server's port"));
    let system = caller_account(TrustedRoots::System, port).await;
    let amazon = caller_account(TrustedRoots::AmazonTrustServices, port).await;
    assert_eq!(system, Ok("123456789012".to_owned()), "the system store (with the test CA) completes the handshake");
    let refused = amazon.expect_err("a certificate outside Amazon Trust Services is refused");
    assert!(refused.contains("UnknownIssuer"), "refused for its issuer, not something else: {refused}");
}
