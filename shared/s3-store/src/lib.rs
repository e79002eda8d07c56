//! The S3 side of a log store, shared by the CloudTrail and network families without linking
//! either family's other clients: reading a bucket's policy, Block Public Access, encryption
//! and location, and the writes that make a bucket logmend creates safe before anything is
//! delivered to it. Every write tolerates "already so".

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
};
use logmend_core::aws::AwsError;
use logmend_core::control::{MANAGED_BY_TAG, Permission};
use logmend_core::resource_policy::{self, Answer, Principal, Request};
use serde_json::{Value, json};

pub const TLS_SID: &str = "LogmendDenyInsecureTransport";

/// Path-style addressing when an endpoint is set (an emulator at `127.0.0.1:PORT` has no
/// `BUCKET.` host names); AWS itself gets virtual-hosted addressing, as it asks.
pub fn client(sdk: &aws_config::SdkConfig) -> Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(sdk.endpoint_url().is_some()).build();
    Client::from_conf(conf)
}

/// What an S3 error code means where the SDK models no error type: S3 answers "not
/// configured" with a 404 code per sub-resource (S3 API Reference, "Error responses").
pub fn code_of<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.as_service_error().and_then(|s| s.code())
}

/// `Ok(None)` when S3 answers with `absent` (no policy, no block, no lock configuration).
pub fn unless_absent<T, E>(
    sent: Result<T, SdkError<E, HttpResponse>>,
    absent: &[&str],
    action: &'static str,
    bucket: &str,
) -> Result<Option<T>, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match sent {
        Ok(v) => Ok(Some(v)),
        Err(e) if code_of(&e).is_some_and(|c| absent.contains(&c)) => Ok(None),
        Err(e) => Err(AwsError::from_sdk(action, bucket, e)),
    }
}

/// logmend's log bucket in a region (SSE-S3, no Object Lock, logmend's policy merged into):
/// S3 server access logs (s3-access-logging, which also sets its expiry), AWS Config's
/// history and snapshots under `config/` (config-recorder) and archived log events under
/// `archive/` (log-archive) go there.
pub fn log_bucket_name(account: &str, region: &str) -> String {
    format!("logmend-access-logs-{account}-{region}")
}

/// The log bucket in a policy resource (CloudFormation's `!Sub` fills it in).
pub const LOG_BUCKET_ARN: &str = "arn:${AWS::Partition}:s3:::logmend-access-logs-${AWS::AccountId}-${AWS::Region}";

/// What [`create_log_bucket`] calls, for the specs of the controls that use it.
pub const LOG_BUCKET_CREATE: [Permission; 4] = [
    Permission::on("s3:CreateBucket", LOG_BUCKET_ARN),
    Permission::on("s3:PutBucketPublicAccessBlock", LOG_BUCKET_ARN),
    Permission::on("s3:PutEncryptionConfiguration", LOG_BUCKET_ARN),
    Permission::on("s3:PutBucketTagging", LOG_BUCKET_ARN),
];

pub fn bucket_arn(partition: &str, bucket: &str) -> String {
    format!("arn:{partition}:s3:::{bucket}")
}

/// Where the bucket is, asked as `account` (its expected owner): `Err(reason)` when it is gone
/// or another account's.
pub async fn bucket_region(
    s3: &Client,
    bucket: &str,
    account: Option<&str>,
) -> Result<Result<String, String>, AwsError> {
    match s3.get_bucket_location().bucket(bucket).set_expected_bucket_owner(account.map(str::to_owned)).send().await {
        // An empty constraint is us-east-1, `EU` is eu-west-1 (S3 API Reference, GetBucketLocation).
        Ok(out) => Ok(Ok(match out.location_constraint() {
            None => "us-east-1".to_owned(),
            Some(BucketLocationConstraint::Eu) => "eu-west-1".to_owned(),
            Some(c) if c.as_str().is_empty() => "us-east-1".to_owned(),
            Some(c) => c.as_str().to_owned(),
        })),
        Err(e) if code_of(&e) == Some("NoSuchBucket") => Ok(Err("the bucket no longer exists".into())),
        Err(e) if code_of(&e) == Some("AccessDenied") && account.is_some() => Ok(Err(format!(
            "the bucket is not account {}'s (S3 refused it as expected owner); its own account evaluates it",
            account.unwrap_or_default()
        ))),
        Err(e) => Err(AwsError::from_sdk("s3:GetBucketLocation", bucket, e)),
    }
}

/// The bucket's tags; none when it has no tag set.
pub async fn bucket_tags(s3: &Client, bucket: &str) -> Result<Vec<(String, String)>, AwsError> {
    let sent = s3.get_bucket_tagging().bucket(bucket).send().await;
    let tags = unless_absent(sent, &["NoSuchTagSet"], "s3:GetBucketTagging", bucket)?;
    Ok(tags
        .map(|t| t.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect())
        .unwrap_or_default())
}

/// The bucket policy as JSON; `None`: the bucket has none.
pub async fn read_policy(s3: &Client, bucket: &str) -> Result<Option<Value>, AwsError> {
    let sent = s3.get_bucket_policy().bucket(bucket).send().await;
    let Some(out) = unless_absent(sent, &["NoSuchBucketPolicy"], "s3:GetBucketPolicy", bucket)? else {
        return Ok(None);
    };
    // A policy S3 accepted is JSON; one that is not is treated as granting nothing.
    Ok(out.policy().and_then(|p| serde_json::from_str(p).ok()))
}

pub async fn put_policy(s3: &Client, bucket: &str, doc: &Value) -> Result<(), AwsError> {
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(doc.to_string())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("s3:PutBucketPolicy", bucket, e))
}

/// Which of the four Block Public Access settings are off.
pub async fn public_access_gaps(s3: &Client, bucket: &str) -> Result<Vec<&'static str>, AwsError> {
    let sent = s3.get_public_access_block().bucket(bucket).send().await;
    let got = unless_absent(sent, &["NoSuchPublicAccessBlockConfiguration"], "s3:GetBucketPublicAccessBlock", bucket)?;
    let conf = got
        .and_then(|o| o.public_access_block_configuration().cloned())
        .unwrap_or_else(|| PublicAccessBlockConfiguration::builder().build());
    Ok([
        ("BlockPublicAcls", conf.block_public_acls()),
        ("IgnorePublicAcls", conf.ignore_public_acls()),
        ("BlockPublicPolicy", conf.block_public_policy()),
        ("RestrictPublicBuckets", conf.restrict_public_buckets()),
    ]
    .into_iter()
    .filter(|(_, on)| *on != Some(true))
    .map(|(name, _)| name)
    .collect())
}

pub async fn block_public_access(s3: &Client, bucket: &str) -> Result<(), AwsError> {
    let all = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(all)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("s3:PutBucketPublicAccessBlock", bucket, e))
}

/// Whether the policy refuses every request that is not over TLS, on the bucket and its objects.
pub fn denies_insecure_transport(doc: Option<&Value>, partition: &str, bucket: &str) -> bool {
    let Some(doc) = doc else { return false };
    let arn = bucket_arn(partition, bucket);
    let context = [("aws:SecureTransport", "false")];
    [(format!("{arn}/AWSLogs/probe"), "s3:GetObject"), (arn, "s3:ListBucket")].iter().all(|(resource, action)| {
        let req = Request { principal: Principal::Anyone, action, resource, context: &context };
        matches!(resource_policy::evaluate(doc, &req), Answer::Denied(_))
    })
}

pub fn tls_deny_statement(partition: &str, bucket: &str) -> Value {
    let arn = bucket_arn(partition, bucket);
    json!({
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn.clone(), format!("{arn}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    })
}

/// CreateBucket in `region`; "already yours" is success.
pub async fn create_bucket(s3: &Client, region: &str, bucket: &str, object_lock: bool) -> Result<(), AwsError> {
    let mut create = s3.create_bucket().bucket(bucket).set_object_lock_enabled_for_bucket(object_lock.then_some(true));
    // us-east-1 takes no location constraint (S3 API Reference, CreateBucket).
    if region != "us-east-1" {
        let conf =
            CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build();
        create = create.create_bucket_configuration(conf);
    }
    logmend_core::aws::created_or_existing(
        create.send().await,
        |e| e.is_bucket_already_owned_by_you(),
        "s3:CreateBucket",
        bucket,
    )
}

/// A bucket's default encryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// SSE-S3 (AES256): the only one that ELB access logs and S3 server access logs accept.
    S3,
    /// SSE-KMS with this key (ARN, id or alias).
    Kms(String),
}

/// PutBucketEncryption with `encryption` as the default.
pub async fn encrypt(s3: &Client, bucket: &str, encryption: &Encryption) -> Result<(), AwsError> {
    let default = match encryption {
        Encryption::S3 => ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256),
        Encryption::Kms(key) => {
            ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms).kms_master_key_id(key)
        }
    }
    .build()
    .expect("algorithm is set");
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(default)
        .bucket_key_enabled(matches!(encryption, Encryption::Kms(_)))
        .build();
    let sse = ServerSideEncryptionConfiguration::builder().rules(rule).build().expect("rules are set");
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(sse)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("s3:PutEncryptionConfiguration", bucket, e))
}

/// The bucket's default encryption; `None`: none is configured.
pub async fn encryption(s3: &Client, bucket: &str) -> Result<Option<Encryption>, AwsError> {
    let sent = s3.get_bucket_encryption().bucket(bucket).send().await;
    let got = unless_absent(
        sent,
        &["ServerSideEncryptionConfigurationNotFoundError"],
        "s3:GetEncryptionConfiguration",
        bucket,
    )?;
    let conf = got.and_then(|o| o.server_side_encryption_configuration().cloned());
    let first = conf.as_ref().and_then(|c| c.rules().iter().find_map(|r| r.apply_server_side_encryption_by_default()));
    Ok(first.map(|d| match d.sse_algorithm() {
        ServerSideEncryption::Aes256 => Encryption::S3,
        _ => Encryption::Kms(d.kms_master_key_id().unwrap_or("aws/s3").to_owned()),
    }))
}

/// The managed-by tag, so a person can tell logmend's bucket from theirs.
pub async fn tag_managed(s3: &Client, bucket: &str) -> Result<(), AwsError> {
    let tag = Tag::builder().key(MANAGED_BY_TAG.0).value(MANAGED_BY_TAG.1).build().expect("key and value are set");
    s3.put_bucket_tagging()
        .bucket(bucket)
        .tagging(Tagging::builder().tag_set(tag).build().expect("tag set is set"))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("s3:PutBucketTagging", bucket, e))
}

/// logmend's log bucket made from nothing, as each control that delivers to it makes it:
/// Block Public Access, SSE-S3 (S3 server access logs take no other), the managed-by tag.
/// No Object Lock: access-log targets must not have it. The policy is the caller's.
pub async fn create_log_bucket(s3: &Client, region: &str, bucket: &str) -> Result<(), AwsError> {
    create_bucket(s3, region, bucket, false).await?;
    block_public_access(s3, bucket).await?;
    encrypt(s3, bucket, &Encryption::S3).await?;
    tag_managed(s3, bucket).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_statement_denies_plain_requests_on_bucket_and_objects() {
        assert!(!denies_insecure_transport(None, "aws", "logs"));
        let doc = json!({"Statement": [tls_deny_statement("aws", "logs")]});
        assert!(denies_insecure_transport(Some(&doc), "aws", "logs"));
        let objects_only = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": "arn:aws:s3:::logs/*", "Condition": {"Bool": {"aws:SecureTransport": false}}}]});
        assert!(!denies_insecure_transport(Some(&objects_only), "aws", "logs"), "the bucket itself is open");
    }
}
