//! The emulator harness: each test starts its own fidelity-patched moto server
//! (tests/emulator/launcher.py, from the project venv that `make` creates) on a free loopback
//! port, so tests share no state and each has its own recorder. If the server cannot start,
//! the test fails and says why; it never skips.

pub mod template;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use base64::Engine as _;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const ACCOUNT: &str = "123456789012";

/// Every SDK client the tests set resources up with, for one region. `logmend::app` takes it
/// (through `ClientSet`), each family getting its own clients out of it, so a mock put in a
/// field (`AwsClients { rds: mocked, ..offline_clients() }`) is the client the control calls.
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub region: String,
    pub sdk: SdkConfig,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub iam: aws_sdk_iam::Client,
    pub mq: aws_sdk_mq::Client,
    pub rds: aws_sdk_rds::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    pub s3: aws_sdk_s3::Client,
    pub kms: aws_sdk_kms::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sns: aws_sdk_sns::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub elb: aws_sdk_elasticloadbalancing::Client,
    pub wafv2: aws_sdk_wafv2::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub resolver: aws_sdk_route53resolver::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub config: aws_sdk_config::Client,
    pub guardduty: aws_sdk_guardduty::Client,
    pub firehose: aws_sdk_firehose::Client,
    pub securityhub: aws_sdk_securityhub::Client,
}

impl AwsClients {
    pub fn new(conf: &SdkConfig) -> Self {
        Self {
            region: conf.region().map(|r| r.to_string()).unwrap_or_default(),
            sdk: conf.clone(),
            cloudtrail: aws_sdk_cloudtrail::Client::new(conf),
            logs: aws_sdk_cloudwatchlogs::Client::new(conf),
            iam: aws_sdk_iam::Client::new(conf),
            mq: aws_sdk_mq::Client::new(conf),
            rds: aws_sdk_rds::Client::new(conf),
            sqs: aws_sdk_sqs::Client::new(conf),
            tagging: aws_sdk_resourcegroupstagging::Client::new(conf),
            s3: logmend::cloudtrail::s3_client(conf),
            kms: aws_sdk_kms::Client::new(conf),
            cloudwatch: aws_sdk_cloudwatch::Client::new(conf),
            sns: aws_sdk_sns::Client::new(conf),
            ec2: aws_sdk_ec2::Client::new(conf),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(conf),
            elb: aws_sdk_elasticloadbalancing::Client::new(conf),
            wafv2: aws_sdk_wafv2::Client::new(conf),
            cloudfront: aws_sdk_cloudfront::Client::new(conf),
            resolver: aws_sdk_route53resolver::Client::new(conf),
            sfn: aws_sdk_sfn::Client::new(conf),
            ecs: aws_sdk_ecs::Client::new(conf),
            lambda: aws_sdk_lambda::Client::new(conf),
            ssm: aws_sdk_ssm::Client::new(conf),
            config: aws_sdk_config::Client::new(conf),
            guardduty: aws_sdk_guardduty::Client::new(conf),
            firehose: aws_sdk_firehose::Client::new(conf),
            securityhub: aws_sdk_securityhub::Client::new(conf),
        }
    }
}

impl From<AwsClients> for logmend::ClientSet {
    fn from(c: AwsClients) -> Self {
        logmend::ClientSet::new(&c.sdk)
            .with(logmend::logs::Clients { logs: c.logs.clone(), tagging: c.tagging.clone() })
            .with(logmend::cloudtrail::Clients {
                cloudtrail: c.cloudtrail.clone(),
                logs: c.logs.clone(),
                iam: c.iam.clone(),
                s3: c.s3.clone(),
                kms: c.kms,
            })
            .with(logmend::alarms::Clients {
                cloudtrail: c.cloudtrail.clone(),
                logs: c.logs.clone(),
                cloudwatch: c.cloudwatch,
                sns: c.sns,
            })
            .with(logmend::network::Clients {
                ec2: c.ec2,
                elbv2: c.elbv2,
                elb: c.elb,
                wafv2: c.wafv2,
                cloudfront: c.cloudfront,
                resolver: c.resolver,
                s3: c.s3.clone(),
                logs: c.logs.clone(),
            })
            .with(logmend::workload::Clients {
                sfn: c.sfn,
                ecs: c.ecs,
                lambda: c.lambda,
                iam: c.iam.clone(),
                logs: c.logs.clone(),
            })
            .with(logmend::account::Clients {
                config: c.config,
                guardduty: c.guardduty,
                firehose: c.firehose,
                ssm: c.ssm,
                logs: c.logs.clone(),
                iam: c.iam.clone(),
                s3: c.s3.clone(),
            })
            .with(logmend::mq::Clients { mq: c.mq, logs: c.logs })
            .with(logmend::rds::Clients { rds: c.rds })
    }
}
/// The ARN a Lambda context would give, in the sample events' account.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:logmend-test";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// A sample event from `events/`.
pub fn sample_event(rel: &str) -> Value {
    let path = repo_root().join("events").join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[derive(Debug, Clone, Default)]
pub struct EmulatorOptions {
    /// Seconds after CreateRole/PutRolePolicy during which CloudTrail refuses the role.
    pub iam_propagation_seconds: f64,
    /// Seconds an MQ broker stays REBOOT_IN_PROGRESS after RebootBroker.
    pub mq_reboot_seconds: f64,
    /// Seconds a new DB cluster stays `creating` (moto: only in CreateDBCluster's own answer).
    pub rds_create_seconds: f64,
    /// Milliseconds every request takes (AWS's service time; 0: moto's own pace).
    pub service_ms: f64,
    /// `LOGMEND_EMULATOR_QUOTAS`: "aws" (the published API rate quotas), a JSON file, or off.
    pub quotas: Option<String>,
}

pub struct Emulator {
    child: Child,
    _stdin: ChildStdin,
    pub endpoint: String,
    port: u16,
    dir: PathBuf,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl Emulator {
    pub fn start() -> Self {
        Self::start_with(EmulatorOptions::default())
    }

    pub fn start_with(options: EmulatorOptions) -> Self {
        let root = repo_root();
        let python = root.join(".venv/bin/python");
        assert!(
            python.exists(),
            "the emulator's Python venv is missing ({}): run `make venv` (or `make test`, which creates it)",
            python.display()
        );
        let dir = std::env::temp_dir().join(format!(
            "logmend-emulator-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("create the emulator's temp dir");
        let stderr = std::fs::File::create(dir.join("server.log")).expect("create server.log");
        let mut child = Command::new(&python)
            .arg(root.join("tests/emulator/launcher.py"))
            .args(["--host", "127.0.0.1", "--port", "0", "--exit-on-stdin-eof"])
            .current_dir(&dir)
            .env("MOTO_RECORDER_FILEPATH", dir.join("recording.jsonl"))
            .env("LOGMEND_EMULATOR_IAM_PROPAGATION_SECONDS", options.iam_propagation_seconds.to_string())
            .env("LOGMEND_EMULATOR_MQ_REBOOT_SECONDS", options.mq_reboot_seconds.to_string())
            .env("LOGMEND_EMULATOR_RDS_CREATE_SECONDS", options.rds_create_seconds.to_string())
            .env("LOGMEND_EMULATOR_SERVICE_MS", options.service_ms.to_string())
            .env("LOGMEND_EMULATOR_QUOTAS", options.quotas.as_deref().unwrap_or("off"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the emulator with {}: {e}", python.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let port = line.trim().strip_prefix("LISTENING ").and_then(|p| p.parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            panic!("the emulator did not start (first line {line:?}); its log:\n{log}");
        };
        let emulator = Self { child, _stdin: stdin, endpoint: format!("http://127.0.0.1:{port}"), port, dir };
        emulator.recorder_start();
        // The recorder creates its file on the first call; an empty one makes "no call" readable.
        emulator.recorder_reset();
        emulator
    }

    /// SDK config for a region, pointed at this emulator, with fast retries.
    pub fn sdk_config(&self, region: &str) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_iam::config::SharedCredentialsProvider::new(
                aws_sdk_iam::config::Credentials::new("testing", "testing", None, None, "logmend-tests"),
            ))
            .retry_config(
                aws_config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(10)),
            )
            .build()
    }

    pub fn clients(&self, region: &str) -> AwsClients {
        AwsClients::new(&self.sdk_config(region))
    }

    /// Environment for running the `logmend` binary against this emulator.
    pub fn cli_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
        ]
    }

    /// One HTTP/1.1 request to the emulator (control endpoints and S3 set-up only).
    pub fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the emulator");
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send to the emulator");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read from the emulator");
        let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
        (status, body)
    }

    /// CloudTrail needs its bucket to exist (as AWS does).
    pub fn create_bucket(&self, name: &str) {
        let (status, body) = self.http("PUT", &format!("/{name}"), "");
        assert_eq!(status, 200, "create bucket {name}: {body}");
    }

    /// The pending SNS subscriptions and their tokens: what SNS would have emailed or posted
    /// (the launcher's `sns_subscriptions_wait_for_confirmation`).
    pub fn sns_confirmations(&self) -> Vec<Value> {
        let (status, body) = self.http("GET", "/logmend-emulator/sns-confirmations", "");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("sns confirmations JSON")
    }

    pub fn patches(&self) -> Value {
        let (_, body) = self.http("GET", "/logmend-emulator/patches", "");
        serde_json::from_str(&body).expect("patches JSON")
    }

    fn recorder_start(&self) {
        let (status, body) = self.http("POST", "/moto-api/recorder/start-recording", "");
        assert_eq!(status, 200, "start the recorder: {body}");
    }

    /// Forget what was recorded so far (before a measured step).
    pub fn recorder_reset(&self) {
        let (status, body) = self.http("POST", "/moto-api/recorder/reset-recording", "");
        assert_eq!(status, 200, "reset the recorder: {body}");
    }

    /// Every AWS call since the last reset, as `service:Action` (retries count as calls).
    pub fn recorded_calls(&self) -> Vec<String> {
        let (status, body) = self.http("GET", "/moto-api/recorder/download-recording", "");
        assert_eq!(status, 200, "download the recording: {body}");
        body.lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| call_name(&serde_json::from_str(l).ok()?))
            .collect()
    }

    /// Recorded calls that can change something (everything but Describe/Get/List reads).
    pub fn mutating_calls(&self) -> Vec<String> {
        self.recorded_calls().into_iter().filter(|c| is_mutating(c)).collect()
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn is_mutating(call: &str) -> bool {
    let action = call.split_once(':').map_or(call, |(_, a)| a);
    !["Describe", "Get", "List", "Lookup"].iter().any(|p| action.starts_with(p))
}

fn header<'a>(entry: &'a Value, name: &str) -> Option<&'a str> {
    entry["headers"].as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_str())
}

/// `service:Action` of one recorded request: the service from the SigV4 credential scope, the
/// action from `X-Amz-Target` (JSON protocols) or the `Action` form field (query protocols).
fn call_name(entry: &Value) -> Option<String> {
    let auth = header(entry, "Authorization").unwrap_or_default();
    let service = auth.split("Credential=").nth(1).and_then(|c| c.split('/').nth(3)).unwrap_or("unsigned").to_owned();
    if let Some(target) = header(entry, "X-Amz-Target") {
        return Some(format!("{service}:{}", target.rsplit('.').next()?));
    }
    let raw = entry["body"].as_str().unwrap_or_default();
    let body = if entry["body_encoded"].as_bool() == Some(true) {
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(raw).ok()?).ok()?
    } else {
        raw.to_owned()
    };
    if let Some(action) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        return Some(format!("{service}:{action}"));
    }
    let (method, url) = (entry["method"].as_str()?, entry["url"].as_str()?);
    // Smithy RPC v2 CBOR (CloudWatch): POST /service/<Service>/operation/<Operation>.
    if let Some((_, operation)) = url.split_once("/operation/") {
        return Some(format!("{service}:{}", operation.split('?').next().unwrap_or(operation)));
    }
    Some(match rest_action(&service, method, url) {
        Some(action) => format!("{service}:{action}"),
        None => format!("{service}:{method} {url}"),
    })
}

/// The action of a REST-protocol request, from its method and path.
fn rest_action(service: &str, method: &str, url: &str) -> Option<&'static str> {
    let path = url.split("://").nth(1).map_or(url, |rest| rest.find('/').map_or("", |i| &rest[i..]));
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (service, method, segments.as_slice()) {
        ("mq", "GET", ["v1", "brokers"]) => Some("ListBrokers"),
        ("mq", "POST", ["v1", "brokers"]) => Some("CreateBroker"),
        ("mq", "GET", ["v1", "brokers", _]) => Some("DescribeBroker"),
        ("mq", "PUT", ["v1", "brokers", _]) => Some("UpdateBroker"),
        ("mq", "DELETE", ["v1", "brokers", _]) => Some("DeleteBroker"),
        ("mq", "POST", ["v1", "brokers", _, "reboot"]) => Some("RebootBroker"),
        ("mq", "GET", ["v1", "tags", ..]) => Some("ListTags"),
        ("mq", "POST", ["v1", "tags", ..]) => Some("CreateTags"),
        ("s3", ..) => s3_action(method, &segments, url.split_once('?').map_or("", |(_, q)| q)),
        // CloudFront's REST routes: /2020-05-31/distribution[/ID[/config]], /2020-05-31/tagging.
        ("cloudfront", "GET", [_, "distribution"]) => Some("ListDistributions"),
        ("cloudfront", "POST", [_, "distribution"]) => Some("CreateDistribution"),
        ("cloudfront", "GET", [_, "distribution", _]) => Some("GetDistribution"),
        ("cloudfront", "GET", [_, "distribution", _, "config"]) => Some("GetDistributionConfig"),
        ("cloudfront", "PUT", [_, "distribution", _, "config"]) => Some("UpdateDistribution"),
        ("cloudfront", "GET", [_, "tagging"]) => Some("ListTagsForResource"),
        // GuardDuty's REST routes: /detector[/ID], /tags/ARN.
        // Lambda's REST routes: /2015-03-31/functions[/NAME[/configuration]].
        ("lambda", "GET", [_, "functions"]) => Some("ListFunctions"),
        ("lambda", "POST", [_, "functions"]) => Some("CreateFunction"),
        ("lambda", "GET", [_, "functions", _]) => Some("GetFunction"),
        ("lambda", "PUT", [_, "functions", _, "configuration"]) => Some("UpdateFunctionConfiguration"),
        ("guardduty", "GET", ["detector"]) => Some("ListDetectors"),
        ("guardduty", "POST", ["detector"]) => Some("CreateDetector"),
        ("guardduty", "GET", ["detector", _]) => Some("GetDetector"),
        ("guardduty", "POST", ["detector", _]) => Some("UpdateDetector"),
        ("guardduty", "DELETE", ["detector", _]) => Some("DeleteDetector"),
        ("guardduty", "GET", ["tags", ..]) => Some("ListTagsForResource"),
        ("guardduty", "POST", ["tags", ..]) => Some("TagResource"),
        // Security Hub's REST routes: /findings/import, /findings, /accounts.
        ("securityhub", "POST", ["findings", "import"]) => Some("BatchImportFindings"),
        ("securityhub", "POST", ["findings"]) => Some("GetFindings"),
        ("securityhub", "POST", ["accounts"]) => Some("EnableSecurityHub"),
        _ => None,
    }
}

/// The IAM action of a path-style S3 request: the bucket sub-resource in the query names it
/// (S3 API Reference; IAM's names, as the policies declare them).
fn s3_action(method: &str, segments: &[&str], query: &str) -> Option<&'static str> {
    let sub =
        query.split('&').map(|kv| kv.split('=').next().unwrap_or_default()).find(|k| !k.is_empty() && *k != "x-id");
    let object = segments.len() > 1;
    Some(match (method, sub, object) {
        // ListBuckets' own parameters (bucket-region, continuation-token, …) name no sub-resource.
        ("GET", _, false) if segments.iter().all(|s| s.is_empty()) => "ListAllMyBuckets",
        ("PUT", None, false) => "CreateBucket",
        ("DELETE", None, false) => "DeleteBucket",
        ("HEAD" | "GET", None, false) | ("GET", Some("list-type"), false) => "ListBucket",
        ("PUT", None, true) => "PutObject",
        ("GET" | "HEAD", None, true) => "GetObject",
        ("GET", Some("location"), _) => "GetBucketLocation",
        ("GET", Some("tagging"), false) => "GetBucketTagging",
        ("PUT", Some("tagging"), false) => "PutBucketTagging",
        ("GET", Some("policy"), _) => "GetBucketPolicy",
        ("PUT", Some("policy"), _) => "PutBucketPolicy",
        ("DELETE", Some("policy"), _) => "DeleteBucketPolicy",
        ("GET", Some("publicAccessBlock"), _) => "GetBucketPublicAccessBlock",
        ("PUT" | "DELETE", Some("publicAccessBlock"), _) => "PutBucketPublicAccessBlock",
        ("GET", Some("versioning"), _) => "GetBucketVersioning",
        ("PUT", Some("versioning"), _) => "PutBucketVersioning",
        ("GET", Some("object-lock"), _) => "GetBucketObjectLockConfiguration",
        ("PUT", Some("object-lock"), _) => "PutBucketObjectLockConfiguration",
        ("GET", Some("lifecycle"), _) => "GetLifecycleConfiguration",
        ("PUT" | "DELETE", Some("lifecycle"), _) => "PutLifecycleConfiguration",
        ("GET", Some("logging"), _) => "GetBucketLogging",
        ("PUT", Some("logging"), _) => "PutBucketLogging",
        ("GET", Some("encryption"), _) => "GetEncryptionConfiguration",
        ("PUT", Some("encryption"), _) => "PutEncryptionConfiguration",
        ("GET", Some("acl"), _) => "GetBucketAcl",
        ("PUT", Some("acl"), _) => "PutBucketAcl",
        ("GET", Some("ownershipControls"), _) => "GetBucketOwnershipControls",
        ("PUT", Some("ownershipControls"), _) => "PutBucketOwnershipControls",
        ("GET", Some("requestPayment"), _) => "GetBucketRequestPayment",
        ("PUT", Some("requestPayment"), _) => "PutBucketRequestPayment",
        _ => return None,
    })
}

/// The one decision an event leads to (a test of a single control and resource).
pub async fn one(app: &logmend::Logmend, event: &Value) -> logmend::Decision {
    let mut out = app.handle_event(event).await.unwrap();
    assert_eq!(out.len(), 1, "{out:?}");
    out.remove(0).decision
}

/// Wait until `f` is true or the time is up; for the emulator's own clock, not for logmend.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A trail with no CloudWatch Logs delivery, and its bucket.
pub async fn create_trail(emulator: &Emulator, clients: &AwsClients, name: &str, multi_region: bool) -> String {
    let bucket = format!("{}-logs", name.to_lowercase());
    emulator.create_bucket(&bucket);
    // CloudTrail refuses a bucket whose policy does not let it write (as AWS does).
    let policy =
        cloudtrail_bucket_policy(&bucket, &format!("arn:aws:cloudtrail:{}:{ACCOUNT}:trail/{name}", clients.region));
    clients.s3.put_bucket_policy().bucket(&bucket).policy(policy.to_string()).send().await.expect("bucket policy");
    let out = clients
        .cloudtrail
        .create_trail()
        .name(name)
        .s3_bucket_name(bucket)
        .is_multi_region_trail(multi_region)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!("create trail {name}: {}", aws_smithy_types::error::display::DisplayErrorContext(&e))
        });
    out.trail_arn().expect("trail ARN").to_owned()
}

/// The policy AWS's CloudTrail guide gives a trail's bucket ("Amazon S3 bucket policy for
/// CloudTrail"), as a person setting a trail up writes it.
pub fn cloudtrail_bucket_policy(bucket: &str, trail_arn: &str) -> Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": format!("arn:aws:s3:::{bucket}"),
         "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
        {"Sid": "AWSCloudTrailWrite20150319", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*"),
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail_arn}}}
    ]})
}

/// Delete a bucket and what is in it (moto writes the server access logs it is sent, as S3
/// does): a test's next case starts from no bucket. A bucket already gone is fine.
pub async fn delete_bucket_and_contents(clients: &AwsClients, bucket: &str) {
    let Ok(listed) = clients.s3.list_objects_v2().bucket(bucket).send().await else { return };
    for object in listed.contents() {
        if let Some(key) = object.key() {
            clients.s3.delete_object().bucket(bucket).key(key).send().await.expect("delete a log object");
        }
    }
    clients.s3.delete_bucket().bucket(bucket).send().await.expect("delete the emptied bucket");
}

/// Clients with a fast IAM-propagation backoff, for a test config.
pub fn config(mode: logmend::Mode) -> logmend::Config {
    let mut c = logmend::Config::new(mode);
    c.iam_propagation_first_backoff = Duration::from_millis(250);
    c
}

/// [`config`] with only these controls enabled (`LOGMEND_CONTROLS`): a test of one control
/// is not also a test of every other control the same event triggers.
pub fn config_for(mode: logmend::Mode, controls: &[&str]) -> logmend::Config {
    let mut c = config(mode);
    c.controls = Some(controls.iter().map(|s| s.to_string()).collect());
    c
}

/// The AWS error code of an SDK call, or `<succeeded>`.
pub fn code<T, E>(
    r: Result<T, aws_sdk_iam::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>>,
) -> String
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match r {
        Ok(_) => "<succeeded>".into(),
        Err(e) => logmend::aws::AwsError::from_sdk("test", "", e).code_or_kind(),
    }
}

/// A running single-instance broker with the given log flags; its id. The user's password is
/// `BROKER_PASSWORD`, which the secrets tests look for in logmend's output.
pub async fn create_broker(clients: &AwsClients, name: &str, engine: &str, general: bool, audit: bool) -> String {
    use aws_sdk_mq::types::{DeploymentMode, EngineType, Logs, User};
    let mut logs = Logs::builder().general(general);
    if engine == "ACTIVEMQ" {
        logs = logs.audit(audit);
    }
    let out = clients
        .mq
        .create_broker()
        .broker_name(name)
        .engine_type(EngineType::from(engine))
        .engine_version(if engine == "ACTIVEMQ" { "5.18" } else { "3.13" })
        .host_instance_type("mq.m5.large")
        .deployment_mode(DeploymentMode::SingleInstance)
        .publicly_accessible(false)
        .auto_minor_version_upgrade(true)
        .logs(logs.build())
        .users(User::builder().username("admin").password(BROKER_PASSWORD).build())
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!("create broker {name}: {}", aws_smithy_types::error::display::DisplayErrorContext(&e))
        });
    out.broker_id().expect("broker id").to_owned()
}

pub const BROKER_PASSWORD: &str = "Sup3r-Secret-Broker-Passw0rd";

/// A sample event from `events/` with the broker id the emulator gave (moto's ids are random).
pub fn broker_event(rel: &str, broker_id: &str) -> Value {
    let mut event = sample_event(rel);
    let detail = &mut event["detail"];
    if detail["responseElements"]["brokerId"].is_string() {
        detail["responseElements"]["brokerId"] = broker_id.into();
        detail["responseElements"]["brokerArn"] = format!("arn:aws:mq:us-east-1:{ACCOUNT}:broker:{broker_id}").into();
    }
    if detail["requestParameters"]["broker-id"].is_string() {
        detail["requestParameters"]["broker-id"] = broker_id.into();
    }
    event
}

/// Clients pointed at a closed port, with no retries: the base for `aws-smithy-mocks` tests,
/// which replace the clients they mock (`AwsClients { mq: …, ..offline_clients() }`), so an
/// unexpected call fails at once instead of reaching anything.
pub fn offline_clients() -> AwsClients {
    AwsClients::new(&logmend::aws::offline_sdk_config("us-east-1"))
}

pub const DB_PASSWORD: &str = "Sup3r-Secret-Database-Passw0rd";

/// An Aurora cluster (on its family's default parameter group unless `group` names one), with
/// one member instance `<id>-1` when `with_instance`.
pub async fn create_aurora_cluster(
    clients: &AwsClients,
    id: &str,
    engine: &str,
    group: Option<&str>,
    exports: &[&str],
    with_instance: bool,
) {
    let version = if engine == "aurora-mysql" { "8.0.mysql_aurora.3.05.2" } else { "16.4" };
    let mut create = clients
        .rds
        .create_db_cluster()
        .db_cluster_identifier(id)
        .engine(engine)
        .engine_version(version)
        .master_username("admin")
        .master_user_password(DB_PASSWORD)
        .set_db_cluster_parameter_group_name(group.map(str::to_owned));
    for e in exports {
        create = create.enable_cloudwatch_logs_exports(*e);
    }
    create.send().await.unwrap_or_else(|e| {
        panic!("create cluster {id}: {}", aws_smithy_types::error::display::DisplayErrorContext(&e))
    });
    if with_instance {
        clients
            .rds
            .create_db_instance()
            .db_instance_identifier(format!("{id}-1"))
            .db_cluster_identifier(id)
            .engine(engine)
            .db_instance_class("db.r6g.large")
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!("create instance {id}-1: {}", aws_smithy_types::error::display::DisplayErrorContext(&e))
            });
    }
}

/// A custom cluster parameter group of the aurora-mysql8.0 family with the given parameters.
pub async fn create_cluster_parameter_group(clients: &AwsClients, name: &str, parameters: &[(&str, &str)]) {
    clients
        .rds
        .create_db_cluster_parameter_group()
        .db_cluster_parameter_group_name(name)
        .db_parameter_group_family("aurora-mysql8.0")
        .description("the application's own")
        .send()
        .await
        .unwrap();
    if parameters.is_empty() {
        return;
    }
    let params = parameters.iter().map(|(k, v)| {
        aws_sdk_rds::types::Parameter::builder()
            .parameter_name(*k)
            .parameter_value(*v)
            .apply_method(aws_sdk_rds::types::ApplyMethod::Immediate)
            .build()
    });
    clients
        .rds
        .modify_db_cluster_parameter_group()
        .db_cluster_parameter_group_name(name)
        .set_parameters(Some(params.collect()))
        .send()
        .await
        .unwrap();
}

/// A stand-alone RDS instance.
pub async fn create_db_instance(clients: &AwsClients, id: &str, engine: &str, version: &str, exports: &[&str]) {
    let mut create = clients
        .rds
        .create_db_instance()
        .db_instance_identifier(id)
        .engine(engine)
        .engine_version(version)
        .db_instance_class("db.t3.medium")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password(DB_PASSWORD);
    for e in exports {
        create = create.enable_cloudwatch_logs_exports(*e);
    }
    create.send().await.unwrap_or_else(|e| {
        panic!("create instance {id}: {}", aws_smithy_types::error::display::DisplayErrorContext(&e))
    });
}

impl Emulator {
    /// Replace the emulator's fault rules (tests/emulator/launcher.py, "Fault injection").
    pub fn inject(&self, rules: Value) {
        let (status, body) = self.http("POST", "/logmend-emulator/faults", &rules.to_string());
        assert_eq!(status, 200, "set fault rules: {body}");
    }

    /// The fault rules, each with `fired`: how often it answered instead of the emulator.
    pub fn fault_rules(&self) -> Vec<Value> {
        let (_, body) = self.http("GET", "/logmend-emulator/faults", "");
        serde_json::from_str(&body).unwrap_or_default()
    }

    /// Wait until no request is held by a "timeout" fault: each is served when its stall ends,
    /// after its client gave up, and would otherwise land in the next test case.
    pub fn settle(&self) {
        let idle = || {
            let (_, body) = self.http("GET", "/logmend-emulator/stalled", "");
            serde_json::from_str::<Value>(&body).ok().and_then(|v| v["stalled"].as_u64()) == Some(0)
        };
        assert!(wait_until(Duration::from_secs(30), idle), "requests still stalled after 30 s");
    }

    /// Clients whose every attempt gives up after `read_timeout` (for injected timeouts).
    pub fn clients_with_timeout(&self, region: &str, read_timeout: Duration) -> AwsClients {
        let conf = self
            .sdk_config(region)
            .into_builder()
            .timeout_config(aws_config::timeout::TimeoutConfig::builder().read_timeout(read_timeout).build())
            .build();
        AwsClients::new(&conf)
    }
}

/// Remove logmend's copy of the aurora-mysql8.0 default group, and the clusters that use it,
/// so the next fix must copy it again (it is one per account and region).
pub async fn delete_logmend_aurora_group(clients: &AwsClients) {
    const GROUP: &str = "logmend-aurora-mysql8-0-audit";
    if let Ok(out) = clients.rds.describe_db_clusters().send().await {
        for cl in out.db_clusters().iter().filter(|c| c.db_cluster_parameter_group() == Some(GROUP)) {
            let id = cl.db_cluster_identifier().unwrap_or_default();
            clients.rds.delete_db_instance().db_instance_identifier(format!("{id}-1")).send().await.ok();
            clients.rds.delete_db_cluster().db_cluster_identifier(id).skip_final_snapshot(true).send().await.ok();
        }
    }
    clients.rds.delete_db_cluster_parameter_group().db_cluster_parameter_group_name(GROUP).send().await.ok();
}

/// Remove every stand-alone instance and logmend's option and DB parameter groups for MySQL
/// 8.0, so the next fix must make them again (they are one per account and region).
pub async fn delete_logmend_instance_groups(clients: &AwsClients) {
    if let Ok(out) = clients.rds.describe_db_instances().send().await {
        for db in out.db_instances().iter().filter(|d| d.db_cluster_identifier().is_none()) {
            let id = db.db_instance_identifier().unwrap_or_default();
            clients.rds.delete_db_instance().db_instance_identifier(id).skip_final_snapshot(true).send().await.ok();
        }
    }
    clients.rds.delete_option_group().option_group_name("logmend-mysql-8-0-audit").send().await.ok();
    clients.rds.delete_db_parameter_group().db_parameter_group_name("logmend-mysql8-0-logs").send().await.ok();
}

impl Emulator {
    /// Every call recorded since the last reset is an action `control` declares (its reads and
    /// writes), so the template's role and `logmend policy` allow exactly what it does.
    pub fn assert_calls_declared(&self, control: &str) {
        let spec = logmend::spec(control).unwrap_or_else(|e| panic!("{e}"));
        // CloudWatch signs as `monitoring`; its IAM actions are `cloudwatch:`.
        let declared: std::collections::BTreeSet<String> =
            spec.reads.iter().chain(spec.writes).map(|p| p.action.replacen("cloudwatch:", "monitoring:", 1)).collect();
        let calls: std::collections::BTreeSet<String> = self.recorded_calls().into_iter().collect();
        let undeclared: Vec<&String> = calls.difference(&declared).collect();
        assert!(undeclared.is_empty(), "{control} called undeclared actions: {undeclared:?}");
    }
}

/// A VPC with two subnets in two zones (what a load balancer needs); its id and the subnets'.
pub async fn create_vpc(clients: &AwsClients) -> (String, Vec<String>) {
    let vpc = clients.ec2.create_vpc().cidr_block("10.0.0.0/16").send().await.unwrap();
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).unwrap().to_owned();
    let mut subnets = Vec::new();
    for (i, zone) in ["a", "b"].iter().enumerate() {
        let subnet = clients
            .ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(format!("10.0.{i}.0/24"))
            .availability_zone(format!("{}{zone}", clients.region))
            .send()
            .await
            .unwrap();
        subnets.push(subnet.subnet().and_then(|s| s.subnet_id()).unwrap().to_owned());
    }
    (vpc_id, subnets)
}

/// An Application (or Network) Load Balancer in the subnets; its ARN.
pub async fn create_load_balancer(
    clients: &AwsClients,
    name: &str,
    kind: aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum,
    subnets: &[String],
) -> String {
    let out = clients
        .elbv2
        .create_load_balancer()
        .name(name)
        .r#type(kind)
        .set_subnets(Some(subnets.to_vec()))
        .send()
        .await
        .unwrap();
    out.load_balancers()[0].load_balancer_arn().unwrap().to_owned()
}

/// A WAFv2 web ACL of the scope (CLOUDFRONT only in us-east-1); its ARN.
pub async fn create_web_acl(clients: &AwsClients, name: &str, scope: aws_sdk_wafv2::types::Scope) -> String {
    use aws_sdk_wafv2::types::{DefaultAction, VisibilityConfig};
    let visibility = VisibilityConfig::builder()
        .sampled_requests_enabled(true)
        .cloud_watch_metrics_enabled(true)
        .metric_name(name)
        .build()
        .unwrap();
    let out = clients
        .wafv2
        .create_web_acl()
        .name(name)
        .scope(scope)
        .default_action(DefaultAction::builder().allow(aws_sdk_wafv2::types::AllowAction::builder().build()).build())
        .visibility_config(visibility)
        .send()
        .await
        .unwrap();
    out.summary().and_then(|s| s.arn()).unwrap().to_owned()
}

/// A CloudFront distribution with one S3 origin and logging off; its id.
pub async fn create_distribution(clients: &AwsClients, reference: &str) -> String {
    use aws_sdk_cloudfront::types::{
        DefaultCacheBehavior, DistributionConfig, Origin, Origins, S3OriginConfig, ViewerProtocolPolicy,
    };
    let origin = Origin::builder()
        .id("site")
        .domain_name("site.s3.amazonaws.com")
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .unwrap();
    let behavior = DefaultCacheBehavior::builder()
        .target_origin_id("site")
        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
        .cache_policy_id("658327ea-f89d-4fab-a63d-7e88639e58f6")
        .build()
        .unwrap();
    let config = DistributionConfig::builder()
        .caller_reference(reference)
        .comment("logmend test")
        .enabled(true)
        .origins(Origins::builder().quantity(1).items(origin).build().unwrap())
        .default_cache_behavior(behavior)
        .build()
        .unwrap();
    let out = clients.cloudfront.create_distribution().distribution_config(config).send().await.unwrap();
    out.distribution().unwrap().id().to_owned()
}
