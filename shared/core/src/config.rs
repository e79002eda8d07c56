//! Settings from `LOGMEND_*` variables, validated once at start-up.
//!
//! [`Config::from_vars`] takes a lookup function so tests never touch the process environment
//! (`set_var` is unsafe in edition 2024). Every bad variable is reported at once, by name.

use crate::decision::Mode;
use std::time::Duration;

/// Retention values CloudWatch Logs accepts (PutRetentionPolicy `retentionInDays`).
pub const VALID_RETENTION_DAYS: [i32; 22] =
    [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// The smallest valid retention at or above `minimum`, or `None` above the largest (3653).
pub fn valid_retention_at_least(minimum: i32) -> Option<i32> {
    VALID_RETENTION_DAYS.iter().copied().find(|&d| d >= minimum)
}

/// The values Aurora MySQL's `server_audit_events` accepts (Aurora User Guide, "Using
/// Advanced Auditing with an Amazon Aurora MySQL DB cluster").
pub const AURORA_AUDIT_EVENTS: [&str; 7] =
    ["CONNECT", "QUERY", "QUERY_DCL", "QUERY_DDL", "QUERY_DML", "QUERY_DML_NO_SELECT", "TABLE"];

/// CloudTrail's trail-name rules (CloudTrail API Reference, CreateTrail `Name`).
pub fn is_trail_name(name: &str) -> bool {
    (3..=128).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !name.contains("..")
        && !name.contains("._")
        && !name.contains("_.")
        && !name.contains("-.")
        && !name.contains(".-")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MqReboot {
    Never,
    Now,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    /// The minimum retention asked for (`LOGMEND_RETENTION_DAYS`).
    pub retention_minimum_days: i32,
    /// What logmend sets: the smallest valid value at or above the minimum.
    pub retention_days: i32,
    /// The controls to run (`LOGMEND_CONTROLS`); `None` is all. Ids are checked against
    /// the registry by whoever knows it: the CLI refuses an unknown one, a function ignores
    /// the ids of other functions' controls (the template's pattern admits only real ids).
    pub controls: Option<Vec<String>>,
    pub mq_reboot: MqReboot,
    pub exempt_tag: String,
    /// What Aurora MySQL's `server_audit_events` is set to when logmend sets it
    /// (`LOGMEND_AURORA_AUDIT_EVENTS`), comma-separated.
    pub aurora_audit_events: String,
    /// The function's own queue (`LOGMEND_QUEUE_URL`): where `deferred` events wait to be
    /// checked again and where the sweep puts the resources it lists. Unset outside Lambda,
    /// where a deferred decision is only reported.
    pub queue_url: Option<String>,
    /// How many checks an event gets in all, the first included (`LOGMEND_RECHECK_MAX_ATTEMPTS`).
    pub recheck_max_attempts: u32,
    /// How long a deferred event waits before its next check (`LOGMEND_RECHECK_DELAY_SECONDS`,
    /// at most SQS's 900).
    pub recheck_delay_seconds: i32,
    /// How long UpdateTrail is retried while a new delivery role propagates through IAM.
    pub iam_propagation_timeout: Duration,
    /// First pause between those retries; it doubles up to 16 s.
    pub iam_propagation_first_backoff: Duration,
    /// The multi-region trail logmend creates where no trail logs every region's management
    /// events (`LOGMEND_BASELINE_TRAIL`); `None`, the default, creates none: a trail costs
    /// money and its bucket is a decision.
    pub baseline_trail: Option<String>,
    /// The one region that creates the baseline trail (`LOGMEND_BASELINE_TRAIL_REGION`), so
    /// the regions of a StackSet do not each create one.
    pub baseline_trail_region: String,
    /// The KMS key trails are encrypted with (`LOGMEND_TRAIL_KMS_KEY`, a key ARN or an alias);
    /// `None`: unencrypted trails are reported, never changed.
    pub trail_kms_key: Option<String>,
    /// Days after which a trail bucket's log files expire (`LOGMEND_TRAIL_LOG_EXPIRATION_DAYS`);
    /// `None`: logmend adds no lifecycle rule.
    pub trail_log_expiration_days: Option<i32>,
    /// Days logmend's access-log buckets keep server access logs
    /// (`LOGMEND_ACCESS_LOG_RETENTION_DAYS`; 0 keeps them forever).
    pub access_log_retention_days: i32,
    /// Whether a trail bucket without MFA delete or Object Lock is noncompliant
    /// (`LOGMEND_TRAIL_BUCKET_DELETION_PROTECTION`: required, the default, or off).
    pub trail_bucket_deletion_protection: bool,
    /// The SNS topic the CIS alarms notify (`LOGMEND_ALARM_TOPIC_ARN`, someone's existing
    /// topic); `None`: logmend's own `logmend-security-alarms`.
    pub alarm_topic_arn: Option<String>,
    /// Who the alarms reach: `LOGMEND_ALARM_EMAIL` (email addresses) and
    /// `LOGMEND_ALARM_SUBSCRIPTION` (`protocol:endpoint`), subscribed to the topic.
    pub alarm_subscribers: Vec<Subscriber>,
    /// The namespace of the CIS metrics (`LOGMEND_ALARM_NAMESPACE`).
    pub alarm_namespace: String,
    /// The KMS key logmend's log bucket is encrypted with (`LOGMEND_LOG_BUCKET_KMS_KEY`, a key
    /// ARN); `None`: SSE-S3. ELB access logs take SSE-S3 only, so they get a bucket of their own.
    pub log_bucket_kms_key: Option<String>,
    /// Days after which delivered network logs expire (`LOGMEND_LOG_BUCKET_EXPIRATION_DAYS`);
    /// `None`, the default, keeps them.
    pub log_bucket_expiration_days: Option<i32>,
    /// What a VPC flow log logmend creates captures (`LOGMEND_FLOW_LOG_TRAFFIC`: ALL, the
    /// default, or REJECT, the least EC2.6 accepts).
    pub flow_log_traffic: FlowLogTraffic,
    /// Where web ACL logs go (`LOGMEND_WAF_LOG_DESTINATION`: logs, the default, or s3).
    pub waf_log_destination: LogDestination,
    /// Where Resolver query logs go (`LOGMEND_RESOLVER_LOG_DESTINATION`: s3, the default, or logs).
    pub resolver_log_destination: LogDestination,
    /// Which CloudFront logging logmend turns on (`LOGMEND_CLOUDFRONT_LOGGING`: legacy, the
    /// default and the one CloudFront.5 counts, or v2).
    pub cloudfront_logging: CloudFrontLogging,
    /// Which S3 data events a multi-region trail must log (`LOGMEND_S3_DATA_EVENTS`: off, the
    /// default, because data events are billed per event; write for S3.22, read for S3.23, all).
    pub s3_data_events: S3DataEvents,
    /// The least a state machine logs (`LOGMEND_STATES_LOG_LEVEL`: ERROR, the default, or ALL).
    pub states_log_level: StatesLogLevel,
    /// Whether logmend adds the log-delivery actions to a state machine's role that lacks them
    /// (`LOGMEND_STATES_ROLE_POLICY`: report, the default, or attach).
    pub states_role_policy: RolePolicy,
    /// The one region whose Config recorder records global resource types such as IAM
    /// (`LOGMEND_CONFIG_GLOBAL_REGION`, us-east-1 by default): recorded in every region they
    /// would be billed and stored once per region.
    pub config_global_region: String,
    /// GuardDuty protection plans each detector must have on (`LOGMEND_GUARDDUTY_FEATURES`:
    /// a comma-separated list of feature names, none by default: each is billed).
    pub guardduty_features: Vec<String>,
    /// The KMS key Session Manager's log group is encrypted with (`LOGMEND_SESSION_LOG_KMS_KEY`,
    /// a key ARN; a multi-Region key `mrk-…` serves every region). None: CloudWatch Logs'
    /// own encryption, and the preferences do not ask for a KMS-encrypted group.
    pub session_log_kms_key: Option<String>,
    /// The log groups whose events are archived to the log bucket through logmend's Firehose
    /// stream (`LOGMEND_LOG_ARCHIVE_PREFIXES`: comma-separated name prefixes, `*` for every
    /// group). Empty, the default, archives nothing: Firehose bills per GB it delivers.
    pub log_archive_prefixes: Vec<String>,
    /// Whether every decision is also sent to Security Hub as an ASFF finding
    /// (`LOGMEND_SECURITY_HUB`: off, the default, or on; Security Hub bills per finding ingested).
    pub security_hub: bool,
    /// The SNS topic told of each `fixed` and `failed` decision (`LOGMEND_NOTIFY_TOPIC_ARN`);
    /// `None`, the default, tells no one.
    pub notify_topic_arn: Option<String>,
}

/// Log groups that are never archived, whatever the prefixes say: logmend's own (its decisions
/// would be archived by the function that writes them) and Firehose's error logs (the archive
/// stream's own failures would be sent through the stream that failed).
pub const NEVER_ARCHIVED: [&str; 2] = ["/logmend/", "/aws/kinesisfirehose/"];

/// The GuardDuty features `LOGMEND_GUARDDUTY_FEATURES` may name (GuardDuty API Reference,
/// DetectorFeatureConfiguration: the names UpdateDetector accepts).
pub const GUARDDUTY_FEATURES: [&str; 7] = [
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "EBS_MALWARE_PROTECTION",
    "RDS_LOGIN_EVENTS",
    "EKS_RUNTIME_MONITORING",
    "LAMBDA_NETWORK_LOGS",
    "RUNTIME_MONITORING",
];

/// A region's shape: `us-east-1`, `us-gov-west-1`, `ap-southeast-4`.
fn is_region_name(v: &str) -> bool {
    v.len() <= 32
        && v.split('-').count() >= 3
        && v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A Step Functions logging level logmend sets, ordered as Step Functions ranks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatesLogLevel {
    Error,
    All,
}

impl StatesLogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            StatesLogLevel::Error => "ERROR",
            StatesLogLevel::All => "ALL",
        }
    }
}

/// What logmend does about a customer's role that lacks what a log delivery needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolePolicy {
    /// Say which actions are missing; the role is not changed.
    Report,
    /// Add them as an inline policy of logmend's name.
    Attach,
}

/// The S3 object-level events logmend keeps a trail logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3DataEvents {
    Off,
    Write,
    Read,
    All,
}

impl S3DataEvents {
    pub fn as_str(self) -> &'static str {
        match self {
            S3DataEvents::Off => "off",
            S3DataEvents::Write => "write",
            S3DataEvents::Read => "read",
            S3DataEvents::All => "all",
        }
    }
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowLogTraffic {
    All,
    Reject,
}

impl FlowLogTraffic {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowLogTraffic::All => "ALL",
            FlowLogTraffic::Reject => "REJECT",
        }
    }
}

/// A log destination logmend makes: its S3 log bucket or a CloudWatch Logs group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogDestination {
    S3,
    Logs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudFrontLogging {
    /// Standard logging (legacy) to an S3 bucket with ACLs enabled: what CloudFront.5 checks.
    Legacy,
    /// Standard logging v2: CloudWatch Logs vended delivery of ACCESS_LOGS to a log group.
    V2,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    pub protocol: String,
    pub endpoint: String,
}

/// The SNS protocols an alarm subscription may use. `firehose` is left out: it needs a
/// subscription role logmend does not make (SNS API Reference, Subscribe).
pub const SUBSCRIPTION_PROTOCOLS: [&str; 8] =
    ["email", "email-json", "http", "https", "sqs", "lambda", "sms", "application"];

impl std::fmt::Display for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.protocol, self.endpoint)
    }
}

/// `LOGMEND_ALARM_SUBSCRIPTION`: comma-separated `protocol:endpoint` (`https:https://…`,
/// `sqs:arn:aws:sqs:…`); an endpoint is checked as its protocol needs.
pub fn parse_subscriptions(value: &str) -> Result<Vec<Subscriber>, String> {
    let mut out = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((protocol, endpoint)) = part.split_once(':') else {
            return Err(format!("{part:?} is not protocol:endpoint (https:https://example.com/hook)"));
        };
        let ok = match protocol {
            "email" | "email-json" => is_email(endpoint),
            "http" => endpoint.starts_with("http://"),
            "https" => endpoint.starts_with("https://"),
            "sqs" => endpoint.starts_with("arn:") && endpoint.contains(":sqs:"),
            "lambda" => endpoint.starts_with("arn:") && endpoint.contains(":lambda:"),
            "application" => endpoint.starts_with("arn:") && endpoint.contains(":sns:"),
            "sms" => {
                endpoint.starts_with('+') && endpoint.len() > 4 && endpoint[1..].chars().all(|c| c.is_ascii_digit())
            }
            _ => {
                return Err(format!(
                    "{protocol:?} is not an SNS protocol logmend subscribes with; valid: {}",
                    SUBSCRIPTION_PROTOCOLS.join(", ")
                ));
            }
        };
        if !ok {
            return Err(format!("{endpoint:?} is not an endpoint of protocol {protocol}"));
        }
        let s = Subscriber { protocol: protocol.to_owned(), endpoint: endpoint.to_owned() };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

fn is_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    }) && !s.contains(char::is_whitespace)
        && !s.contains(',')
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  {}", .problems.join("\n  "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl Config {
    /// Defaults for everything but the mode, which has none on purpose.
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            retention_minimum_days: 365,
            retention_days: 365,
            controls: None,
            mq_reboot: MqReboot::Never,
            exempt_tag: "logmend:exempt".into(),
            aurora_audit_events: "CONNECT,QUERY_DCL,QUERY_DDL".into(),
            queue_url: None,
            recheck_max_attempts: 5,
            recheck_delay_seconds: 300,
            iam_propagation_timeout: Duration::from_secs(120),
            iam_propagation_first_backoff: Duration::from_secs(1),
            baseline_trail: None,
            baseline_trail_region: "us-east-1".into(),
            trail_kms_key: None,
            trail_log_expiration_days: None,
            access_log_retention_days: 365,
            trail_bucket_deletion_protection: true,
            alarm_topic_arn: None,
            alarm_subscribers: Vec::new(),
            alarm_namespace: "LogMetrics".into(),
            log_bucket_kms_key: None,
            log_bucket_expiration_days: None,
            flow_log_traffic: FlowLogTraffic::All,
            s3_data_events: S3DataEvents::Off,
            states_log_level: StatesLogLevel::Error,
            config_global_region: "us-east-1".into(),
            guardduty_features: Vec::new(),
            session_log_kms_key: None,
            log_archive_prefixes: Vec::new(),
            security_hub: false,
            notify_topic_arn: None,
            states_role_policy: RolePolicy::Report,
            waf_log_destination: LogDestination::Logs,
            resolver_log_destination: LogDestination::S3,
            cloudfront_logging: CloudFrontLogging::Legacy,
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// `LOGMEND_MODE` is required; the rest default as DESIGN.md says. A set but empty
    /// variable counts as a bad value, not as unset: it is usually a template mistake.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let mode = match var("LOGMEND_MODE") {
            None => {
                problems.push("LOGMEND_MODE is not set; use audit or remediate".to_owned());
                Mode::Audit
            }
            Some(v) => v.parse().unwrap_or_else(|e| {
                problems.push(format!("LOGMEND_MODE: {e}"));
                Mode::Audit
            }),
        };
        let mut config = Config::new(mode);

        if let Some(v) = var("LOGMEND_RETENTION_DAYS") {
            match v.trim().parse::<i32>() {
                Ok(days) if days >= 1 => match valid_retention_at_least(days) {
                    Some(valid) => {
                        config.retention_minimum_days = days;
                        config.retention_days = valid;
                    }
                    None => problems.push(format!(
                        "LOGMEND_RETENTION_DAYS: {days} is above the longest retention CloudWatch Logs offers (3653 days)"
                    )),
                },
                _ => problems.push(format!("LOGMEND_RETENTION_DAYS: {v:?} is not a whole number of days from 1 to 3653")),
            }
        }
        if let Some(v) = var("LOGMEND_CONTROLS") {
            match parse_controls(&v) {
                Ok(list) => config.controls = list,
                Err(e) => problems.push(format!("LOGMEND_CONTROLS: {e}")),
            }
        }
        if let Some(v) = var("LOGMEND_MQ_REBOOT") {
            match v.as_str() {
                "never" => config.mq_reboot = MqReboot::Never,
                "now" => config.mq_reboot = MqReboot::Now,
                other => problems.push(format!("LOGMEND_MQ_REBOOT: {other:?} is not one of never, now")),
            }
        }
        if let Some(v) = var("LOGMEND_EXEMPT_TAG") {
            if v.trim().is_empty() || v.len() > 128 {
                problems.push(format!("LOGMEND_EXEMPT_TAG: {v:?} is not a tag key (1 to 128 characters)"));
            } else {
                config.exempt_tag = v;
            }
        }
        if let Some(v) = var("LOGMEND_AURORA_AUDIT_EVENTS") {
            let events: Vec<String> = v.split(',').map(|e| e.trim().to_ascii_uppercase()).collect();
            match events.iter().find(|e| !AURORA_AUDIT_EVENTS.contains(&e.as_str())) {
                Some(bad) => problems.push(format!(
                    "LOGMEND_AURORA_AUDIT_EVENTS: {bad:?} is not an Aurora MySQL audit event; valid: {}",
                    AURORA_AUDIT_EVENTS.join(", ")
                )),
                None => config.aurora_audit_events = events.join(","),
            }
        }
        if let Some(v) = var("LOGMEND_QUEUE_URL") {
            if v.starts_with("https://") || v.starts_with("http://") {
                config.queue_url = Some(v);
            } else {
                problems.push(format!("LOGMEND_QUEUE_URL: {v:?} is not an SQS queue URL"));
            }
        }
        if let Some(v) = var("LOGMEND_RECHECK_MAX_ATTEMPTS") {
            match v.trim().parse::<u32>() {
                Ok(n) if (1..=50).contains(&n) => config.recheck_max_attempts = n,
                _ => {
                    problems.push(format!("LOGMEND_RECHECK_MAX_ATTEMPTS: {v:?} is not a number of checks from 1 to 50"))
                }
            }
        }
        if let Some(v) = var("LOGMEND_RECHECK_DELAY_SECONDS") {
            match v.trim().parse::<i32>() {
                Ok(n) if (0..=900).contains(&n) => config.recheck_delay_seconds = n,
                _ => problems.push(format!(
                    "LOGMEND_RECHECK_DELAY_SECONDS: {v:?} is not a number of seconds from 0 to 900 (the SQS maximum delay)"
                )),
            }
        }
        if let Some(v) = var("LOGMEND_IAM_PROPAGATION_TIMEOUT_SECONDS") {
            match v.trim().parse::<u64>() {
                Ok(s) if s <= 600 => config.iam_propagation_timeout = Duration::from_secs(s),
                _ => problems.push(format!(
                    "LOGMEND_IAM_PROPAGATION_TIMEOUT_SECONDS: {v:?} is not a number of seconds from 0 to 600"
                )),
            }
        }
        // These four are off when empty: an empty template parameter is how a stack says "none".
        if let Some(v) = var("LOGMEND_BASELINE_TRAIL").filter(|v| !v.is_empty()) {
            if is_trail_name(&v) {
                config.baseline_trail = Some(v);
            } else {
                problems.push(format!(
                    "LOGMEND_BASELINE_TRAIL: {v:?} is not a trail name (3 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit)"
                ));
            }
        }
        if let Some(v) = var("LOGMEND_BASELINE_TRAIL_REGION").filter(|v| !v.is_empty()) {
            if is_region_name(&v) {
                config.baseline_trail_region = v;
            } else {
                problems.push(format!("LOGMEND_BASELINE_TRAIL_REGION: {v:?} is not a region name (us-east-1)"));
            }
        }
        if let Some(v) = var("LOGMEND_TRAIL_KMS_KEY").filter(|v| !v.is_empty()) {
            let key_arn = v.starts_with("arn:") && v.split(':').nth(2) == Some("kms") && v.contains(":key/");
            let alias = v.starts_with("alias/") || (v.starts_with("arn:") && v.contains(":alias/"));
            if key_arn || alias {
                config.trail_kms_key = Some(v);
            } else {
                problems.push(format!(
                    "LOGMEND_TRAIL_KMS_KEY: {v:?} is neither a KMS key ARN nor an alias (alias/NAME or its ARN); a bare key id would be read in each region as that region's key"
                ));
            }
        }
        if let Some(v) = var("LOGMEND_TRAIL_LOG_EXPIRATION_DAYS").filter(|v| !v.is_empty()) {
            match v.trim().parse::<i32>() {
                Ok(d) if (1..=36_500).contains(&d) => config.trail_log_expiration_days = Some(d),
                _ => problems
                    .push(format!("LOGMEND_TRAIL_LOG_EXPIRATION_DAYS: {v:?} is not a number of days from 1 to 36500")),
            }
        }
        if let Some(v) = var("LOGMEND_ACCESS_LOG_RETENTION_DAYS") {
            match v.trim().parse::<i32>() {
                Ok(d) if (0..=36_500).contains(&d) => config.access_log_retention_days = d,
                _ => problems.push(format!(
                    "LOGMEND_ACCESS_LOG_RETENTION_DAYS: {v:?} is not a number of days from 0 (keep forever) to 36500"
                )),
            }
        }
        if let Some(v) = var("LOGMEND_TRAIL_BUCKET_DELETION_PROTECTION") {
            match v.as_str() {
                "required" => config.trail_bucket_deletion_protection = true,
                "off" => config.trail_bucket_deletion_protection = false,
                other => problems
                    .push(format!("LOGMEND_TRAIL_BUCKET_DELETION_PROTECTION: {other:?} is not one of required, off")),
            }
        }
        if let Some(v) = var("LOGMEND_ALARM_TOPIC_ARN").filter(|v| !v.is_empty()) {
            if is_sns_topic_arn(&v) {
                config.alarm_topic_arn = Some(v);
            } else {
                problems.push(format!(
                    "LOGMEND_ALARM_TOPIC_ARN: {v:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
                ));
            }
        }
        if let Some(v) = var("LOGMEND_ALARM_EMAIL").filter(|v| !v.is_empty()) {
            match v.split(',').map(str::trim).filter(|e| !e.is_empty()).find(|e| !is_email(e)) {
                Some(bad) => problems.push(format!("LOGMEND_ALARM_EMAIL: {bad:?} is not an email address")),
                None => {
                    for e in v.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                        let s = Subscriber { protocol: "email".into(), endpoint: e.to_owned() };
                        if !config.alarm_subscribers.contains(&s) {
                            config.alarm_subscribers.push(s);
                        }
                    }
                }
            }
        }
        if let Some(v) = var("LOGMEND_ALARM_SUBSCRIPTION").filter(|v| !v.is_empty()) {
            match parse_subscriptions(&v) {
                Ok(list) => {
                    for s in list {
                        if !config.alarm_subscribers.contains(&s) {
                            config.alarm_subscribers.push(s);
                        }
                    }
                }
                Err(e) => problems.push(format!("LOGMEND_ALARM_SUBSCRIPTION: {e}")),
            }
        }
        if let Some(v) = var("LOGMEND_ALARM_NAMESPACE") {
            // CloudWatch: 1-255 characters, not starting with a colon, no "AWS/" prefix (AWS's own).
            if v.is_empty() || v.len() > 255 || v.starts_with(':') || v.starts_with("AWS/") {
                problems.push(format!(
                    "LOGMEND_ALARM_NAMESPACE: {v:?} is not a custom metric namespace (1 to 255 characters, not AWS/...)"
                ));
            } else {
                config.alarm_namespace = v;
            }
        }
        if let Some(v) = var("LOGMEND_LOG_BUCKET_KMS_KEY").filter(|v| !v.is_empty()) {
            // A key ARN: the bucket is made in each region, and a bare id or alias would name a
            // different key (or none) in each.
            if v.starts_with("arn:") && v.contains(":kms:") && v.contains(":key/") {
                config.log_bucket_kms_key = Some(v);
            } else {
                problems.push(format!(
                    "LOGMEND_LOG_BUCKET_KMS_KEY: {v:?} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"
                ));
            }
        }
        if let Some(v) = var("LOGMEND_LOG_BUCKET_EXPIRATION_DAYS").filter(|v| !v.is_empty()) {
            match v.parse::<i32>() {
                Ok(days) if (1..=36500).contains(&days) => config.log_bucket_expiration_days = Some(days),
                _ => problems
                    .push(format!("LOGMEND_LOG_BUCKET_EXPIRATION_DAYS: {v:?} is not a number of days from 1 to 36500")),
            }
        }
        if let Some(v) = var("LOGMEND_FLOW_LOG_TRAFFIC") {
            match v.as_str() {
                "ALL" => config.flow_log_traffic = FlowLogTraffic::All,
                "REJECT" => config.flow_log_traffic = FlowLogTraffic::Reject,
                other => problems.push(format!("LOGMEND_FLOW_LOG_TRAFFIC: {other:?} is not one of ALL, REJECT")),
            }
        }
        for (name, slot) in [
            ("LOGMEND_WAF_LOG_DESTINATION", &mut config.waf_log_destination),
            ("LOGMEND_RESOLVER_LOG_DESTINATION", &mut config.resolver_log_destination),
        ] {
            if let Some(v) = var(name) {
                match v.as_str() {
                    "s3" => *slot = LogDestination::S3,
                    "logs" => *slot = LogDestination::Logs,
                    other => problems.push(format!("{name}: {other:?} is not one of s3, logs")),
                }
            }
        }
        if let Some(v) = var("LOGMEND_CLOUDFRONT_LOGGING") {
            match v.as_str() {
                "legacy" => config.cloudfront_logging = CloudFrontLogging::Legacy,
                "v2" => config.cloudfront_logging = CloudFrontLogging::V2,
                other => problems.push(format!("LOGMEND_CLOUDFRONT_LOGGING: {other:?} is not one of legacy, v2")),
            }
        }
        if let Some(v) = var("LOGMEND_S3_DATA_EVENTS") {
            match v.as_str() {
                "off" => config.s3_data_events = S3DataEvents::Off,
                "write" => config.s3_data_events = S3DataEvents::Write,
                "read" => config.s3_data_events = S3DataEvents::Read,
                "all" => config.s3_data_events = S3DataEvents::All,
                other => {
                    problems.push(format!("LOGMEND_S3_DATA_EVENTS: {other:?} is not one of off, write, read, all"))
                }
            }
        }
        if let Some(v) = var("LOGMEND_STATES_LOG_LEVEL") {
            match v.as_str() {
                "ERROR" => config.states_log_level = StatesLogLevel::Error,
                "ALL" => config.states_log_level = StatesLogLevel::All,
                other => problems.push(format!("LOGMEND_STATES_LOG_LEVEL: {other:?} is not one of ERROR, ALL")),
            }
        }
        if let Some(v) = var("LOGMEND_STATES_ROLE_POLICY") {
            match v.as_str() {
                "report" => config.states_role_policy = RolePolicy::Report,
                "attach" => config.states_role_policy = RolePolicy::Attach,
                other => problems.push(format!("LOGMEND_STATES_ROLE_POLICY: {other:?} is not one of report, attach")),
            }
        }
        if let Some(v) = var("LOGMEND_CONFIG_GLOBAL_REGION").filter(|v| !v.is_empty()) {
            if is_region_name(&v) {
                config.config_global_region = v;
            } else {
                problems.push(format!("LOGMEND_CONFIG_GLOBAL_REGION: {v:?} is not a region name (us-east-1)"));
            }
        }
        if let Some(v) = var("LOGMEND_GUARDDUTY_FEATURES") {
            for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if GUARDDUTY_FEATURES.contains(&name) {
                    if !config.guardduty_features.iter().any(|f| f == name) {
                        config.guardduty_features.push(name.to_owned());
                    }
                } else {
                    problems.push(format!(
                        "LOGMEND_GUARDDUTY_FEATURES: {name:?} is not one of {}",
                        GUARDDUTY_FEATURES.join(", ")
                    ));
                }
            }
        }
        if let Some(v) = var("LOGMEND_SESSION_LOG_KMS_KEY").filter(|v| !v.is_empty()) {
            if v.starts_with("arn:") && v.contains(":kms:") && v.contains(":key/") {
                config.session_log_kms_key = Some(v);
            } else {
                problems.push(format!(
                    "LOGMEND_SESSION_LOG_KMS_KEY: {v:?} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"
                ));
            }
        }
        if let Some(v) = var("LOGMEND_LOG_ARCHIVE_PREFIXES") {
            for prefix in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if let Some(never) = NEVER_ARCHIVED.iter().find(|n| prefix.starts_with(**n)) {
                    problems.push(format!(
                        "LOGMEND_LOG_ARCHIVE_PREFIXES: {prefix:?} is under {never}, which is never archived"
                    ));
                } else if prefix.len() > 512 || prefix.contains('*') && prefix != "*" {
                    problems.push(format!(
                        "LOGMEND_LOG_ARCHIVE_PREFIXES: {prefix:?} is not a log group name prefix (or * for every group)"
                    ));
                } else if !config.log_archive_prefixes.iter().any(|p| p == prefix) {
                    config.log_archive_prefixes.push(prefix.to_owned());
                }
            }
        }
        if let Some(v) = var("LOGMEND_SECURITY_HUB") {
            match v.as_str() {
                "on" => config.security_hub = true,
                "off" | "" => config.security_hub = false,
                other => problems.push(format!("LOGMEND_SECURITY_HUB: {other:?} is not one of on, off")),
            }
        }
        if let Some(v) = var("LOGMEND_NOTIFY_TOPIC_ARN").filter(|v| !v.is_empty()) {
            if is_sns_topic_arn(&v) {
                config.notify_topic_arn = Some(v);
            } else {
                problems.push(format!(
                    "LOGMEND_NOTIFY_TOPIC_ARN: {v:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
                ));
            }
        }
        if problems.is_empty() { Ok(config) } else { Err(ConfigError { problems }) }
    }

    /// Whether `LOGMEND_LOG_ARCHIVE_PREFIXES` asks for this log group to be archived.
    pub fn archives(&self, log_group: &str) -> bool {
        !NEVER_ARCHIVED.iter().any(|n| log_group.starts_with(n))
            && self.log_archive_prefixes.iter().any(|p| p == "*" || log_group.starts_with(p.as_str()))
    }

    /// What start-up should say about the settings it was given (e.g. a rounded retention).
    pub fn notices(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.retention_days != self.retention_minimum_days {
            notes.push(format!(
                "LOGMEND_RETENTION_DAYS={} is not a retention CloudWatch Logs offers; using {} days, the next valid value above it",
                self.retention_minimum_days, self.retention_days
            ));
        }
        notes
    }

    pub fn log_notices(&self) {
        for notice in self.notices() {
            tracing::warn!("{notice}");
        }
    }

    pub fn is_enabled(&self, id: &str) -> bool {
        self.controls.as_ref().is_none_or(|list| list.iter().any(|c| c == id))
    }
}

fn is_sns_topic_arn(v: &str) -> bool {
    let parts: Vec<&str> = v.split(':').collect();
    matches!(parts.as_slice(), ["arn", _, "sns", region, account, name]
        if !region.is_empty() && account.len() == 12 && !name.is_empty())
}

/// Whether `id` is spelled as a control id is: lowercase letters, digits and dashes.
pub fn is_control_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `all` (`None`), or a comma-separated list of control ids, each spelled as one.
pub fn parse_controls(value: &str) -> Result<Option<Vec<String>>, String> {
    if value.trim() == "all" {
        return Ok(None);
    }
    let mut out: Vec<String> = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if !is_control_id(part) {
            return Err(format!(
                "{part:?} is not a control id (lowercase letters, digits and dashes; logmend controls lists them)"
            ));
        }
        if !out.iter().any(|c| c == part) {
            out.push(part.to_owned());
        }
    }
    if out.is_empty() {
        return Err("no control named; use all or a comma-separated list of control ids".into());
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn mode_is_required_and_the_rest_default() {
        let err = Config::from_vars(vars(&[])).unwrap_err();
        assert!(err.to_string().contains("LOGMEND_MODE is not set"), "{err}");
        let c = Config::from_vars(vars(&[("LOGMEND_MODE", "audit")])).unwrap();
        assert_eq!(c.mode, Mode::Audit);
        assert_eq!(c.retention_days, 365);
        assert_eq!(c.controls, None);
        assert_eq!(c.mq_reboot, MqReboot::Never);
        assert_eq!(c.exempt_tag, "logmend:exempt");
    }

    #[test]
    fn every_bad_variable_is_named_at_once() {
        let err = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "fix"),
            ("LOGMEND_RETENTION_DAYS", "a year"),
            ("LOGMEND_CONTROLS", "cloudtrail-cloudwatch-logs,No Such"),
            ("LOGMEND_MQ_REBOOT", "sometimes"),
            ("LOGMEND_EXEMPT_TAG", ""),
            ("LOGMEND_AURORA_AUDIT_EVENTS", "CONNECT,SELECT"),
        ]))
        .unwrap_err();
        let text = err.to_string();
        for name in [
            "LOGMEND_MODE",
            "LOGMEND_RETENTION_DAYS",
            "LOGMEND_CONTROLS",
            "LOGMEND_MQ_REBOOT",
            "LOGMEND_EXEMPT_TAG",
            "LOGMEND_AURORA_AUDIT_EVENTS",
        ] {
            assert!(text.contains(name), "{name} missing from: {text}");
        }
        assert!(text.contains("\"No Such\" is not a control id"), "{text}");
        assert_eq!(err.problems.len(), 6);
        assert!(text.contains("\"SELECT\" is not an Aurora MySQL audit event"), "{text}");
    }

    #[test]
    fn the_network_settings_are_read_and_bad_ones_named() {
        let c = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            (
                "LOGMEND_LOG_BUCKET_KMS_KEY",
                "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            ),
            ("LOGMEND_LOG_BUCKET_EXPIRATION_DAYS", "400"),
            ("LOGMEND_FLOW_LOG_TRAFFIC", "REJECT"),
            ("LOGMEND_WAF_LOG_DESTINATION", "s3"),
            ("LOGMEND_RESOLVER_LOG_DESTINATION", "logs"),
            ("LOGMEND_CLOUDFRONT_LOGGING", "v2"),
        ]))
        .unwrap();
        assert!(c.log_bucket_kms_key.is_some());
        assert_eq!(c.log_bucket_expiration_days, Some(400));
        assert_eq!(c.flow_log_traffic, FlowLogTraffic::Reject);
        assert_eq!((c.waf_log_destination, c.resolver_log_destination), (LogDestination::S3, LogDestination::Logs));
        assert_eq!(c.cloudfront_logging, CloudFrontLogging::V2);
        let defaults =
            Config::from_vars(vars(&[("LOGMEND_MODE", "audit"), ("LOGMEND_LOG_BUCKET_EXPIRATION_DAYS", "")]));
        assert_eq!(defaults.unwrap().log_bucket_expiration_days, None, "empty: logs kept");
        let err = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            ("LOGMEND_LOG_BUCKET_KMS_KEY", "alias/logs"),
            ("LOGMEND_LOG_BUCKET_EXPIRATION_DAYS", "0"),
            ("LOGMEND_FLOW_LOG_TRAFFIC", "all"),
            ("LOGMEND_WAF_LOG_DESTINATION", "firehose"),
            ("LOGMEND_RESOLVER_LOG_DESTINATION", "S3"),
            ("LOGMEND_CLOUDFRONT_LOGGING", "standard"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 6, "{err}");
        assert!(err.to_string().contains("LOGMEND_FLOW_LOG_TRAFFIC: \"all\" is not one of ALL, REJECT"), "{err}");
    }

    #[test]
    fn the_s3_and_workload_settings_are_read_and_bad_ones_named() {
        let c = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            ("LOGMEND_S3_DATA_EVENTS", "write"),
            ("LOGMEND_STATES_LOG_LEVEL", "ALL"),
            ("LOGMEND_STATES_ROLE_POLICY", "attach"),
        ]))
        .unwrap();
        assert_eq!(c.s3_data_events, S3DataEvents::Write);
        assert_eq!((c.states_log_level, c.states_role_policy), (StatesLogLevel::All, RolePolicy::Attach));
        let defaults = Config::from_vars(vars(&[("LOGMEND_MODE", "audit")])).unwrap();
        assert_eq!(defaults.s3_data_events, S3DataEvents::Off, "data events cost money: off unless asked");
        assert_eq!(
            (defaults.states_log_level, defaults.states_role_policy),
            (StatesLogLevel::Error, RolePolicy::Report)
        );
        let err = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            ("LOGMEND_S3_DATA_EVENTS", "on"),
            ("LOGMEND_STATES_LOG_LEVEL", "error"),
            ("LOGMEND_STATES_ROLE_POLICY", "widen"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(
            err.to_string().contains("LOGMEND_S3_DATA_EVENTS: \"on\" is not one of off, write, read, all"),
            "{err}"
        );
    }

    #[test]
    fn the_account_settings_are_read_and_bad_ones_named() {
        let c = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            ("LOGMEND_CONFIG_GLOBAL_REGION", "eu-west-1"),
            ("LOGMEND_GUARDDUTY_FEATURES", "S3_DATA_EVENTS, RDS_LOGIN_EVENTS,S3_DATA_EVENTS"),
        ]))
        .unwrap();
        assert_eq!(c.config_global_region, "eu-west-1");
        assert_eq!(c.guardduty_features, ["S3_DATA_EVENTS", "RDS_LOGIN_EVENTS"], "once each, in order");
        let defaults =
            Config::from_vars(vars(&[("LOGMEND_MODE", "audit"), ("LOGMEND_GUARDDUTY_FEATURES", "")])).unwrap();
        assert_eq!(defaults.config_global_region, "us-east-1");
        assert!(defaults.guardduty_features.is_empty(), "protection plans are billed: none unless asked");
        assert_eq!(defaults.session_log_kms_key, None);
        assert!(defaults.log_archive_prefixes.is_empty(), "Firehose is billed: nothing archived unless asked");
        assert!(!defaults.archives("/aws/lambda/app"));
        let key = "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab";
        let with_key =
            Config::from_vars(vars(&[("LOGMEND_MODE", "audit"), ("LOGMEND_SESSION_LOG_KMS_KEY", key)])).unwrap();
        assert_eq!(with_key.session_log_kms_key.as_deref(), Some(key));
        let alias = Config::from_vars(vars(&[("LOGMEND_MODE", "audit"), ("LOGMEND_SESSION_LOG_KMS_KEY", "alias/ssm")]));
        assert!(
            alias.unwrap_err().to_string().contains("LOGMEND_SESSION_LOG_KMS_KEY: \"alias/ssm\" is not a KMS key ARN")
        );
        let err = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            ("LOGMEND_CONFIG_GLOBAL_REGION", "Europe"),
            ("LOGMEND_GUARDDUTY_FEATURES", "s3_data_events,MALWARE"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(
            err.to_string().contains("LOGMEND_GUARDDUTY_FEATURES: \"MALWARE\" is not one of S3_DATA_EVENTS"),
            "{err}"
        );
    }

    #[test]
    fn the_cloudtrail_settings_are_checked_and_empty_means_off() {
        let c = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            ("LOGMEND_BASELINE_TRAIL", "org-baseline"),
            ("LOGMEND_TRAIL_KMS_KEY", "alias/cloudtrail"),
            ("LOGMEND_TRAIL_LOG_EXPIRATION_DAYS", "2555"),
            ("LOGMEND_ACCESS_LOG_RETENTION_DAYS", "0"),
            ("LOGMEND_TRAIL_BUCKET_DELETION_PROTECTION", "off"),
        ]))
        .unwrap();
        assert_eq!(c.baseline_trail.as_deref(), Some("org-baseline"));
        assert_eq!(c.trail_kms_key.as_deref(), Some("alias/cloudtrail"));
        assert_eq!((c.trail_log_expiration_days, c.access_log_retention_days), (Some(2555), 0));
        assert!(!c.trail_bucket_deletion_protection);
        let off = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            ("LOGMEND_BASELINE_TRAIL", ""),
            ("LOGMEND_TRAIL_KMS_KEY", ""),
        ]))
        .unwrap();
        assert_eq!((off.baseline_trail, off.trail_kms_key), (None, None));
        let err = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            ("LOGMEND_BASELINE_TRAIL", "-bad name"),
            ("LOGMEND_BASELINE_TRAIL_REGION", "Mars"),
            ("LOGMEND_TRAIL_KMS_KEY", "1234abcd-12ab-34cd-56ef-1234567890ab"),
            ("LOGMEND_TRAIL_LOG_EXPIRATION_DAYS", "0"),
            ("LOGMEND_ACCESS_LOG_RETENTION_DAYS", "-1"),
            ("LOGMEND_TRAIL_BUCKET_DELETION_PROTECTION", "maybe"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 6, "{err}");
        assert!(err.to_string().contains("a bare key id"), "{err}");
        assert!(is_trail_name("a.b-c_1") && !is_trail_name("ab") && !is_trail_name("a..b") && !is_trail_name("ab-"));
    }

    #[test]
    fn the_alarm_settings_are_checked() {
        let c = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            ("LOGMEND_ALARM_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:security"),
            ("LOGMEND_ALARM_EMAIL", "sec@example.com, oncall@example.com"),
            (
                "LOGMEND_ALARM_SUBSCRIPTION",
                "https:https://hooks.example.com/a?b=c,sqs:arn:aws:sqs:eu-west-1:123456789012:q",
            ),
            ("LOGMEND_ALARM_NAMESPACE", "CISBenchmark"),
        ]))
        .unwrap();
        assert_eq!(c.alarm_topic_arn.as_deref(), Some("arn:aws:sns:eu-west-1:123456789012:security"));
        let subs: Vec<String> = c.alarm_subscribers.iter().map(ToString::to_string).collect();
        assert_eq!(
            subs,
            [
                "email:sec@example.com",
                "email:oncall@example.com",
                "https:https://hooks.example.com/a?b=c",
                "sqs:arn:aws:sqs:eu-west-1:123456789012:q"
            ]
        );
        assert_eq!(c.alarm_namespace, "CISBenchmark");
        let err = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            ("LOGMEND_ALARM_TOPIC_ARN", "security"),
            ("LOGMEND_ALARM_EMAIL", "not an address"),
            ("LOGMEND_ALARM_SUBSCRIPTION", "pigeon:coop"),
            ("LOGMEND_ALARM_NAMESPACE", "AWS/Logs"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 4, "{err}");
        assert!(err.to_string().contains("\"pigeon\" is not an SNS protocol"), "{err}");
        assert!(parse_subscriptions("https:http://plain").is_err());
        assert_eq!(Config::new(Mode::Audit).alarm_namespace, "LogMetrics");
    }

    #[test]
    fn retention_rounds_up_to_a_valid_value_and_says_so() {
        let c = Config::from_vars(vars(&[("LOGMEND_MODE", "remediate"), ("LOGMEND_RETENTION_DAYS", "200")])).unwrap();
        assert_eq!((c.retention_minimum_days, c.retention_days), (200, 365));
        assert!(c.notices()[0].contains("using 365 days"));
        let c = Config::from_vars(vars(&[("LOGMEND_MODE", "remediate"), ("LOGMEND_RETENTION_DAYS", "400")])).unwrap();
        assert!(c.notices().is_empty());
        assert!(Config::from_vars(vars(&[("LOGMEND_MODE", "audit"), ("LOGMEND_RETENTION_DAYS", "4000")])).is_err());
        assert!(Config::from_vars(vars(&[("LOGMEND_MODE", "audit"), ("LOGMEND_RETENTION_DAYS", "0")])).is_err());
    }

    #[test]
    fn valid_retention_picks_the_smallest_value_at_or_above() {
        assert_eq!(valid_retention_at_least(1), Some(1));
        assert_eq!(valid_retention_at_least(2), Some(3));
        assert_eq!(valid_retention_at_least(365), Some(365));
        assert_eq!(valid_retention_at_least(366), Some(400));
        assert_eq!(valid_retention_at_least(3653), Some(3653));
        assert_eq!(valid_retention_at_least(3654), None);
    }

    #[test]
    fn security_hub_and_notifications_are_off_unless_asked_and_checked() {
        let c = Config::from_vars(vars(&[("LOGMEND_MODE", "audit")])).unwrap();
        assert!(!c.security_hub, "Security Hub bills per finding: off unless asked");
        assert!(c.notify_topic_arn.is_none());
        let c = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            ("LOGMEND_SECURITY_HUB", "on"),
            ("LOGMEND_NOTIFY_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:ops"),
        ]))
        .unwrap();
        assert!(c.security_hub);
        assert_eq!(c.notify_topic_arn.as_deref(), Some("arn:aws:sns:eu-west-1:123456789012:ops"));
        let err = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            ("LOGMEND_SECURITY_HUB", "yes"),
            ("LOGMEND_NOTIFY_TOPIC_ARN", "ops"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("LOGMEND_SECURITY_HUB: \"yes\" is not one of on, off"), "{err}");
        assert!(err.contains("LOGMEND_NOTIFY_TOPIC_ARN: \"ops\" is not an SNS topic ARN"), "{err}");
    }

    #[test]
    fn log_archive_prefixes_never_reach_logmends_own_or_firehoses_groups() {
        let c = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            ("LOGMEND_LOG_ARCHIVE_PREFIXES", "/aws/lambda/, /app/ ,/aws/lambda/"),
        ]))
        .unwrap();
        assert_eq!(c.log_archive_prefixes, ["/aws/lambda/", "/app/"], "once each, in order");
        assert!(c.archives("/app/orders") && c.archives("/aws/lambda/pay"));
        assert!(!c.archives("/other"));
        let every =
            Config::from_vars(vars(&[("LOGMEND_MODE", "audit"), ("LOGMEND_LOG_ARCHIVE_PREFIXES", "*")])).unwrap();
        assert!(every.archives("anything"));
        assert!(!every.archives("/logmend/stack/account-logs"), "logmend's own decisions");
        assert!(!every.archives("/aws/kinesisfirehose/logmend-log-archive"), "Firehose's error log");
        let err = Config::from_vars(vars(&[
            ("LOGMEND_MODE", "audit"),
            ("LOGMEND_LOG_ARCHIVE_PREFIXES", "/logmend/x,/app/*"),
        ]))
        .unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        assert!(err.to_string().contains("\"/logmend/x\" is under /logmend/, which is never archived"), "{err}");
        assert!(err.to_string().contains("\"/app/*\" is not a log group name prefix"), "{err}");
    }
}
