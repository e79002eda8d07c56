//! The exact IAM-propagation error codes of UpdateTrail, which the emulator can only
//! approximate: `aws-smithy-mocks` rules on the real SDK clients.

use aws_sdk_cloudtrail::operation::update_trail::{UpdateTrailError, UpdateTrailOutput};
use aws_sdk_cloudtrail::types::error::{
    InsufficientDependencyServiceAccessPermissionException, InvalidCloudWatchLogsLogGroupArnException,
    InvalidCloudWatchLogsRoleArnException,
};
use aws_sdk_iam::operation::get_role::GetRoleError;
use aws_sdk_iam::types::error::NoSuchEntityException;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend_integration::AwsClients;
use logmend_integration::{config_for, offline_clients, sample_event};
use std::time::Duration;

const TRAIL_ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-audit";

fn meta(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code(code)
        .message("Access denied. Verify in IAM that the role has adequate permissions.")
        .build()
}

fn role_not_propagated() -> UpdateTrailError {
    UpdateTrailError::InvalidCloudWatchLogsRoleArnException(
        InvalidCloudWatchLogsRoleArnException::builder().meta(meta("InvalidCloudWatchLogsRoleArnException")).build(),
    )
}

fn policy_not_propagated() -> UpdateTrailError {
    UpdateTrailError::InvalidCloudWatchLogsLogGroupArnException(
        InvalidCloudWatchLogsLogGroupArnException::builder()
            .meta(meta("InvalidCloudWatchLogsLogGroupArnException"))
            .build(),
    )
}

/// Clients where the trail lacks delivery and nothing of the fix exists; `update_trail` is
/// the rule under test.
fn clients(update_trail: &Rule) -> AwsClients {
    let get_trail = mock!(aws_sdk_cloudtrail::Client::get_trail).then_output(|| {
        aws_sdk_cloudtrail::operation::get_trail::GetTrailOutput::builder()
            .trail(
                aws_sdk_cloudtrail::types::Trail::builder()
                    .name("org-audit")
                    .trail_arn(TRAIL_ARN)
                    .home_region("us-east-1")
                    .build(),
            )
            .build()
    });
    let list_tags = mock!(aws_sdk_cloudtrail::Client::list_tags)
        .then_output(|| aws_sdk_cloudtrail::operation::list_tags::ListTagsOutput::builder().build());
    let describe_groups = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups).then_output(|| {
        aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput::builder().build()
    });
    let create_group = mock!(aws_sdk_cloudwatchlogs::Client::create_log_group)
        .then_output(|| aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupOutput::builder().build());
    let retention = mock!(aws_sdk_cloudwatchlogs::Client::put_retention_policy).then_output(|| {
        aws_sdk_cloudwatchlogs::operation::put_retention_policy::PutRetentionPolicyOutput::builder().build()
    });
    let get_role = mock!(aws_sdk_iam::Client::get_role).then_error(|| {
        GetRoleError::NoSuchEntityException(
            NoSuchEntityException::builder().meta(ErrorMetadata::builder().code("NoSuchEntity").build()).build(),
        )
    });
    let create_role = mock!(aws_sdk_iam::Client::create_role)
        .then_output(|| aws_sdk_iam::operation::create_role::CreateRoleOutput::builder().build());
    let put_policy = mock!(aws_sdk_iam::Client::put_role_policy)
        .then_output(|| aws_sdk_iam::operation::put_role_policy::PutRolePolicyOutput::builder().build());
    AwsClients {
        region: "us-east-1".into(),
        cloudtrail: mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, [&get_trail, &list_tags, update_trail]),
        logs: mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&describe_groups, &create_group, &retention]),
        iam: mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&get_role, &create_role, &put_policy]),
        ..offline_clients()
    }
}

fn app(clients: AwsClients, timeout: Duration) -> Logmend {
    let mut cfg = config_for(Mode::Remediate, &["cloudtrail-cloudwatch-logs"]);
    cfg.iam_propagation_timeout = timeout;
    cfg.iam_propagation_first_backoff = Duration::from_millis(5);
    logmend::app(cfg, clients)
}

#[tokio::test]
async fn mocked_both_propagation_codes_are_retried_until_update_trail_succeeds() {
    let update = mock!(aws_sdk_cloudtrail::Client::update_trail)
        .sequence()
        .error(role_not_propagated)
        .times(2)
        .error(policy_not_propagated)
        .output(|| UpdateTrailOutput::builder().build())
        .build();
    let app = app(clients(&update), Duration::from_secs(30));
    let out = app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    assert_eq!(out[0].decision.verdict, Verdict::Fixed, "{:?}", out[0].decision);
    assert_eq!(update.num_calls(), 4);
}

#[tokio::test]
async fn mocked_propagation_that_never_ends_is_a_retryable_failure_naming_the_code() {
    let update =
        mock!(aws_sdk_cloudtrail::Client::update_trail).sequence().error(policy_not_propagated).repeatedly().build();
    let app = app(clients(&update), Duration::from_millis(100));
    let out = app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    let d = &out[0].decision;
    assert_eq!(d.verdict, Verdict::Failed);
    assert_eq!(d.error_code.as_deref(), Some("InvalidCloudWatchLogsLogGroupArnException"));
    assert!(d.reason.contains(TRAIL_ARN) && d.reason.contains("IAM propagation"), "{}", d.reason);
    assert!(out[0].retry);
    assert!(update.num_calls() >= 2, "{} calls", update.num_calls());
}

#[tokio::test]
async fn mocked_other_update_trail_errors_are_not_retried_as_propagation() {
    let update = mock!(aws_sdk_cloudtrail::Client::update_trail).then_error(|| {
        UpdateTrailError::InsufficientDependencyServiceAccessPermissionException(
            InsufficientDependencyServiceAccessPermissionException::builder()
                .meta(ErrorMetadata::builder().code("InsufficientDependencyServiceAccessPermissionException").build())
                .build(),
        )
    });
    let app = app(clients(&update), Duration::from_secs(30));
    let out = app.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    let d = &out[0].decision;
    assert_eq!(d.verdict, Verdict::Failed);
    assert_eq!(d.error_code.as_deref(), Some("InsufficientDependencyServiceAccessPermissionException"));
    assert_eq!(update.num_calls(), 1);
    assert!(!out[0].retry, "a permission error does not go away by retrying");
}

/// The propagation errors are told by their modelled type, not by a code string a test could
/// misspell the same way as the code: a modelled error whose metadata carries no code at all is
/// still retried, and an unmodelled error carrying the code's text is not.
#[tokio::test]
async fn mocked_errors_are_matched_by_their_modelled_type() {
    let uncoded = || {
        UpdateTrailError::InvalidCloudWatchLogsRoleArnException(
            InvalidCloudWatchLogsRoleArnException::builder().meta(ErrorMetadata::builder().build()).build(),
        )
    };
    let update = mock!(aws_sdk_cloudtrail::Client::update_trail)
        .sequence()
        .error(uncoded)
        .output(|| UpdateTrailOutput::builder().build())
        .build();
    let out = app(clients(&update), Duration::from_secs(30))
        .handle_event(&sample_event("cloudtrail/create-trail.json"))
        .await
        .unwrap();
    assert_eq!(out[0].decision.verdict, Verdict::Fixed, "{:?}", out[0].decision);
    assert_eq!(update.num_calls(), 2, "retried once");

    let lookalike = || UpdateTrailError::generic(meta("InvalidCloudWatchLogsRoleArnException"));
    let update = mock!(aws_sdk_cloudtrail::Client::update_trail).sequence().error(lookalike).repeatedly().build();
    let out = app(clients(&update), Duration::from_secs(30))
        .handle_event(&sample_event("cloudtrail/create-trail.json"))
        .await
        .unwrap();
    assert_eq!(out[0].decision.verdict, Verdict::Failed, "{:?}", out[0].decision);
    assert_eq!(update.num_calls(), 1, "not a modelled propagation error: no propagation retry");
}

/// A trail delivering through logmend's intact role and group while GetTrailStatus still shows
/// an error, last delivered `delivered_secs_ago` seconds ago. Every write is absent from the
/// mocks: any write fails the test.
fn intact_delivery_with_an_old_error(delivered_secs_ago: i64) -> AwsClients {
    use aws_sdk_cloudtrail::operation::{get_trail::GetTrailOutput, get_trail_status::GetTrailStatusOutput};
    const GROUP_ARN: &str = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/cloudtrail/org-audit:*";
    const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/logmend/LogmendTrail-us-east-1-org-audit";
    let get_trail = mock!(aws_sdk_cloudtrail::Client::get_trail).then_output(|| {
        let trail = aws_sdk_cloudtrail::types::Trail::builder()
            .name("org-audit")
            .trail_arn(TRAIL_ARN)
            .home_region("us-east-1")
            .cloud_watch_logs_log_group_arn(GROUP_ARN)
            .cloud_watch_logs_role_arn(ROLE_ARN)
            .build();
        GetTrailOutput::builder().trail(trail).build()
    });
    let status = mock!(aws_sdk_cloudtrail::Client::get_trail_status).then_output(move || {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        GetTrailStatusOutput::builder()
            .latest_cloud_watch_logs_delivery_error("Access denied. Verify in IAM that the role exists.")
            .latest_cloud_watch_logs_delivery_time(aws_smithy_types::DateTime::from_secs(now - delivered_secs_ago))
            .build()
    });
    let list_tags = mock!(aws_sdk_cloudtrail::Client::list_tags)
        .then_output(|| aws_sdk_cloudtrail::operation::list_tags::ListTagsOutput::builder().build());
    let describe_groups = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups).then_output(|| {
        let group = aws_sdk_cloudwatchlogs::types::LogGroup::builder()
            .log_group_name("/aws/cloudtrail/org-audit")
            .retention_in_days(365)
            .build();
        aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput::builder()
            .log_groups(group)
            .build()
    });
    let get_role = mock!(aws_sdk_iam::Client::get_role).then_output(|| {
        let trust = logmend::cloudtrail::cloudtrail_cloudwatch_logs::TrailDeliveryRole::trust_policy().to_string();
        let role = aws_sdk_iam::types::Role::builder()
            .path("/logmend/")
            .role_name("LogmendTrail-us-east-1-org-audit")
            .role_id("AROAEXAMPLE")
            .arn(ROLE_ARN)
            .create_date(aws_smithy_types::DateTime::from_secs(0))
            .assume_role_policy_document(urlencoding::encode(&trust).into_owned())
            .build()
            .unwrap();
        aws_sdk_iam::operation::get_role::GetRoleOutput::builder().role(role).build()
    });
    let get_policy = mock!(aws_sdk_iam::Client::get_role_policy).then_output(|| {
        let policy = logmend::cloudtrail::cloudtrail_cloudwatch_logs::TrailDeliveryRole::delivery_policy(GROUP_ARN);
        aws_sdk_iam::operation::get_role_policy::GetRolePolicyOutput::builder()
            .role_name("LogmendTrail-us-east-1-org-audit")
            .policy_name("logmend-cloudtrail-delivery")
            .policy_document(urlencoding::encode(&policy.to_string()).into_owned())
            .build()
            .unwrap()
    });
    AwsClients {
        region: "us-east-1".into(),
        cloudtrail: mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, [&get_trail, &status, &list_tags]),
        logs: mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&describe_groups]),
        iam: mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&get_role, &get_policy]),
        ..offline_clients()
    }
}

/// GetTrailStatus does not date its error: with every piece intact, a recent delivery means the
/// error is an old one (`compliant`); without one, the error may be current (`pending`, until
/// CloudTrail's next delivery). Neither writes (the mocks hold no write).
#[tokio::test]
async fn mocked_an_old_delivery_error_with_intact_pieces_is_weighed_against_the_last_delivery() {
    let event = sample_event("cloudtrail/update-trail-with-cloudwatch.json");
    let recent = app(intact_delivery_with_an_old_error(120), Duration::from_secs(1));
    let d = &recent.handle_event(&event).await.unwrap()[0].decision;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert!(d.reason.contains("delivered within the last hour") && d.reason.contains("earlier error"), "{}", d.reason);
    let stale = app(intact_delivery_with_an_old_error(7200), Duration::from_secs(1));
    let d = &stale.handle_event(&event).await.unwrap()[0].decision;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert!(d.reason.contains("clears at its next delivery"), "{}", d.reason);
}
