//! SDK configuration (one `SdkConfig` every client is made from) and one error type for every
//! AWS call. Each family's clients live in its own crate ([`crate::control::FamilyClients`]).

use aws_config::retry::{RetryConfig, RetryMode};
use aws_config::{AppName, BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::time::Duration;

/// Attempts per AWS call, the first included. The SDK's standard retry backs off
/// exponentially with jitter on throttling, 5xx, timeouts and connection errors.
pub const MAX_ATTEMPTS: u32 = 5;

/// Each attempt gives up when the connection is not made, or the answer has not come, in
/// time: a stalled connection is retried like any transport error instead of holding the
/// function until Lambda's own timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the clients point and how they retry. The CLI and tests set an endpoint (an
/// emulator); Lambda sets nothing and gets the region and credentials of its environment.
#[derive(Debug, Clone, Default)]
pub struct ClientSettings {
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    /// Initial backoff of the SDK's retry (default 1 s); tests shorten it.
    pub initial_backoff: Option<Duration>,
    /// Adaptive retry: a client-side rate limiter that slows down when AWS throttles. Right
    /// for the sweep's bursts of thousands of calls; events keep the standard mode.
    pub adaptive_retry: bool,
    pub trusted_roots: TrustedRoots,
}

/// The certificate authorities the HTTPS client trusts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TrustedRoots {
    /// The system's store, as the SDK's default client does: the CLI's, so a machine behind a
    /// TLS-inspecting proxy with its own CA keeps working.
    #[default]
    System,
    /// Amazon Trust Services' roots, compiled in (`amazon_trust_services.pem`): the Lambda
    /// functions'. AWS moved its service endpoints' certificates to Amazon Trust Services from
    /// 2018, S3's last, in June 2022 ("Amazon S3 and Amazon CloudFront migrating service
    /// certificates to Amazon Trust Services", AWS Storage Blog). The system store costs a
    /// function's init the read and parse of every root it holds (about 150), once for the
    /// SDK configuration and again for each client built from it: 5 of its 11 ms here.
    AmazonTrustServices,
}

const AMAZON_TRUST_SERVICES_PEM: &[u8] = include_bytes!("amazon_trust_services.pem");

/// The SDK's own default HTTPS client (rustls on aws-lc, the proxy from the environment;
/// aws-smithy-runtime's `default_https_client`) with Amazon Trust Services' roots alone.
fn amazon_trust_services_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig};
    let trust = TrustStore::empty().with_native_roots(false).with_pem_certificate(AMAZON_TRUST_SERVICES_PEM);
    let tls = TlsContext::builder().with_trust_store(trust).build().expect("a trust store without server names builds");
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc)).tls_context(tls.clone());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// The retry of a listing read one page after another: the client's own settings in the
/// standard mode. A client-side rate limiter gains a sequential listing nothing (it makes one
/// call at a time), and the adaptive mode's, throttled before it has measured a rate, starts
/// again from its floor of half a call a second and grows back slowly (aws-smithy-runtime's
/// `ClientRateLimiter`: `MIN_FILL_RATE` 0.5, the measured rate updated each half second, then a
/// cubic rise): against DescribeLogGroups' 10 a second, one throttle on the eleventh of 20
/// pages made a 0.5 s listing take 5 s. The standard mode backs off the throttled page alone.
pub fn sequential_listing_retry(client: Option<&RetryConfig>) -> RetryConfig {
    client
        .cloned()
        .unwrap_or_else(|| RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .with_retry_mode(RetryMode::Standard)
}

/// Load one `SdkConfig`; every client is made from it, so they share retry, credentials and
/// the `logmend` app name, which makes logmend's own calls recognisable in CloudTrail.
pub async fn load_sdk_config(settings: &ClientSettings) -> SdkConfig {
    let mut retry = if settings.adaptive_retry { RetryConfig::adaptive() } else { RetryConfig::standard() }
        .with_max_attempts(MAX_ATTEMPTS);
    if let Some(backoff) = settings.initial_backoff {
        retry = retry.with_initial_backoff(backoff);
    }
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeouts)
        .app_name(AppName::new("logmend").expect("static app name is valid"));
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if settings.trusted_roots == TrustedRoots::AmazonTrustServices {
        loader = loader.http_client(amazon_trust_services_client());
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    loader.load().await
}

/// A configuration whose every call is refused at once (a closed loopback port, static
/// credentials, no retry): for the fuzzer and for tests that must make no real call.
pub fn offline_sdk_config(region: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(aws_sdk_sqs::config::SharedCredentialsProvider::new(
            aws_sdk_sqs::config::Credentials::new("offline", "offline", None, None, "logmend-offline"),
        ))
        .retry_config(RetryConfig::disabled())
        .build()
}

/// Why an AWS call failed, in the terms a decision and a retry need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// AWS answered with an error code.
    Service,
    /// Timeout, connection refused or reset, or an unreadable response.
    Transport,
    /// The request could not be built (a bug or a bad setting); never retried.
    Construction,
}

/// A failed AWS call, naming the action, the resource and the AWS error code.
#[derive(Debug, thiserror::Error)]
#[error("{action} on {resource} failed: {}{detail}", .code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
pub struct AwsError {
    /// The IAM action of the call, e.g. `cloudtrail:UpdateTrail`.
    pub action: &'static str,
    pub resource: String,
    pub code: Option<String>,
    pub status: Option<u16>,
    pub kind: AwsErrorKind,
    /// The message, or for transport errors the whole error chain.
    pub detail: String,
}

impl AwsError {
    pub fn from_sdk<E>(action: &'static str, resource: impl Into<String>, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let resource = resource.into();
        let status = err.raw_response().map(|r| r.status().as_u16());
        match &err {
            SdkError::ServiceError(ctx) => Self {
                action,
                resource,
                code: ctx.err().code().map(str::to_owned),
                status,
                kind: AwsErrorKind::Service,
                detail: ctx
                    .err()
                    .message()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("HTTP {}", status.unwrap_or(0))),
            },
            SdkError::ConstructionFailure(_) => Self {
                action,
                resource,
                code: None,
                status,
                kind: AwsErrorKind::Construction,
                detail: DisplayErrorContext(&err).to_string(),
            },
            _ => Self {
                action,
                resource,
                code: None,
                status,
                kind: AwsErrorKind::Transport,
                detail: DisplayErrorContext(&err).to_string(),
            },
        }
    }

    /// The code for a decision: the AWS error code, or what kind of failure it was.
    pub fn code_or_kind(&self) -> String {
        match (&self.code, self.kind) {
            (Some(c), _) => c.clone(),
            (None, AwsErrorKind::Transport) => "TransportError".into(),
            (None, AwsErrorKind::Construction) => "RequestConstructionError".into(),
            (None, AwsErrorKind::Service) => format!("HTTP{}", self.status.unwrap_or(0)),
        }
    }

    /// Whether running the event again later can help: throttling, 5xx and transport
    /// failures can; an access denial or a validation error will not change by waiting.
    /// (The SDK has already retried these with backoff; this decides about the event.)
    pub fn is_transient(&self) -> bool {
        match self.kind {
            AwsErrorKind::Transport => true,
            AwsErrorKind::Construction => false,
            AwsErrorKind::Service => {
                matches!(self.status, Some(429) | Some(500..=599))
                    || self.code.as_deref().is_some_and(|c| is_throttling_code(c) || is_busy_code(c))
            }
        }
    }
}

/// A create whose modelled "already exists" error (`already`) means another evaluation made
/// the same thing a moment ago, or a run cut short made it: that is success, so every create
/// step can be repeated.
pub fn created_or_existing<T, E>(
    sent: Result<T, SdkError<E, HttpResponse>>,
    already: impl FnOnce(&E) -> bool,
    action: &'static str,
    resource: &str,
) -> Result<(), AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match sent {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(already) => Ok(()),
        Err(e) => Err(AwsError::from_sdk(action, resource, e)),
    }
}

/// The resource is busy with another change (a cluster `modifying`, a concurrent policy
/// update); the same request succeeds once that change is done.
fn is_busy_code(code: &str) -> bool {
    matches!(code, "InvalidDBClusterStateFault" | "InvalidDBInstanceState" | "OperationAbortedException")
}

fn is_throttling_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottledException"
            | "TooManyRequestsException"
            | "ProvisionedThroughputExceededException"
            | "TransactionInProgressException"
            | "RequestLimitExceeded"
            | "BandwidthLimitExceeded"
            | "RequestThrottled"
            | "SlowDown"
            | "PriorRequestNotComplete"
            | "EC2ThrottledException"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "InternalFailure"
            | "InternalError"
    )
}

/// The partition a region is in (the ARNs logmend writes carry it).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("cn-") {
        "aws-cn"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: &str, status: u16) -> AwsError {
        AwsError {
            action: "logs:PutRetentionPolicy",
            resource: "/aws/x".into(),
            code: Some(code.into()),
            status: Some(status),
            kind: AwsErrorKind::Service,
            detail: "m".into(),
        }
    }

    #[test]
    fn throttling_and_server_errors_are_transient_denials_are_not() {
        assert!(service("ThrottlingException", 400).is_transient());
        assert!(service("Throttling", 400).is_transient());
        assert!(service("Whatever", 429).is_transient());
        assert!(service("InternalFailure", 500).is_transient());
        assert!(!service("AccessDenied", 403).is_transient());
        assert!(!service("InvalidParameterException", 400).is_transient());
        assert!(service("InvalidDBClusterStateFault", 400).is_transient(), "busy, not wrong");
    }

    #[test]
    fn message_names_action_resource_and_code() {
        assert_eq!(
            service("AccessDenied", 403).to_string(),
            "logs:PutRetentionPolicy on /aws/x failed: AccessDenied: m"
        );
    }
}
