//! Each launcher patch makes the emulator act as AWS does; these tests show it, through the
//! same Rust SDK logmend uses. A logmend test that passed only on moto's own behaviour would
//! prove nothing.

use logmend_integration::{
    Emulator, EmulatorOptions, code, create_aurora_cluster, create_broker, create_db_instance, create_load_balancer,
    create_trail, create_vpc, create_web_acl,
};
use std::collections::BTreeSet;
use std::time::Duration;

/// The patches these tests cover; a new patch without a test fails here.
const COVERED: [&str; 47] = [
    "securityhub_imports_check_the_hub_the_limits_the_product_and_updated_at",
    "firehose_s3_descriptions_carry_their_defaults",
    "logs_subscription_filters_to_firehose_check_the_role_and_the_stream",
    "firehose_streams_assume_their_delivery_role",
    "sns_topics_answer_their_delivery_status_attributes",
    "lambda_functions_have_a_logging_config",
    "ssm_document_versions_are_listed",
    "logs_associate_kms_key_encrypts_an_existing_group",
    "ecs_task_definitions_by_family_mean_the_latest_active_revision",
    "guardduty_update_detector_changes_only_the_features_it_names",
    "config_delivery_channels_need_a_bucket_config_may_write_and_report_their_status",
    "step_functions_updates_need_definition_or_role_and_logging_checks_the_role",
    "s3_request_payment_is_stored_and_answered",
    "waf_logging_destinations_need_the_aws_waf_logs_prefix",
    "resolver_query_log_configs_can_be_disassociated_and_deleted",
    "elbv2_attributes_say_access_logs_are_off",
    "flow_logs_to_s3_fail_when_the_bucket_refuses_delivery",
    "sns_subscriptions_wait_for_confirmation",
    "s3_object_requests_count_as_tls",
    "put_metric_filter_replaces_the_filter_of_that_name",
    "describe_alarms_paginates",
    "cloudwatch_speaks_rpc_v2_cbor",
    "trail_buckets_must_let_cloudtrail_write",
    "kms_key_state_changes_accept_key_arns",
    "trail_kms_keys_are_checked",
    "s3_block_public_policy_refuses_public_policies",
    "s3_expected_bucket_owner_is_checked",
    "get_bucket_versioning_answers_versioning_configuration",
    "new_trails_log_management_events_and_selector_kinds_replace_each_other",
    "default_db_parameter_and_option_groups_exist_and_refuse_changes",
    "copy_option_group_copies_the_options",
    "db_instance_group_changes_wait_as_in_aws",
    "get_trail_status_reports_cloudwatch_logs_delivery_errors",
    "db_clusters_stay_creating_for_a_while",
    "sqs_visibility_from_the_wall_clock",
    "put_retention_policy_rejects_invalid_days",
    "tagging_api_types_log_groups_as_log_group",
    "iam_changes_propagate_with_delay",
    "get_trail_finds_multi_region_trails_from_any_region_with_home_region",
    "update_trail_only_in_home_region",
    "create_trail_rejects_existing_name",
    "trail_cloudwatch_logs_arns_are_validated_and_empty_clears",
    "rabbitmq_brokers_reject_audit_logs",
    "update_broker_logs_wait_for_reboot",
    "default_cluster_parameter_groups_exist_and_refuse_changes",
    "modify_db_cluster_exports_log_types_and_knows_missing_clusters",
    "describe_db_engine_versions_lists_exportable_log_types",
];

#[test]
fn every_patch_is_covered_by_a_test() {
    let emulator = Emulator::start();
    let listed: BTreeSet<String> =
        emulator.patches()["patches"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
    let covered: BTreeSet<String> = COVERED.iter().map(|s| s.to_string()).collect();
    assert_eq!(listed, covered);
}

/// Visibility timeouts, visibility changes and delays still mean what SQS says.
#[tokio::test]
async fn sqs_visibility_from_the_wall_clock() {
    let emulator = Emulator::start();
    let sqs = emulator.clients("us-east-1").sqs;
    let url = sqs.create_queue().queue_name("q").send().await.unwrap().queue_url().unwrap().to_owned();
    sqs.send_message().queue_url(&url).message_body("now").send().await.unwrap();
    sqs.send_message().queue_url(&url).message_body("later").delay_seconds(900).send().await.unwrap();
    let got = sqs.receive_message().queue_url(&url).max_number_of_messages(10).send().await.unwrap();
    let bodies: Vec<&str> = got.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["now"], "the delayed message is not delivered yet");
    let again = sqs.receive_message().queue_url(&url).max_number_of_messages(10).send().await.unwrap();
    assert!(again.messages().is_empty(), "a received message is invisible for the visibility timeout");
    let handle = got.messages()[0].receipt_handle().unwrap();
    sqs.change_message_visibility().queue_url(&url).receipt_handle(handle).visibility_timeout(0).send().await.unwrap();
    let back = sqs.receive_message().queue_url(&url).max_number_of_messages(10).send().await.unwrap();
    assert_eq!(back.messages().len(), 1, "visible again at once after ChangeMessageVisibility(0)");
}

#[tokio::test]
async fn put_retention_policy_rejects_invalid_days() {
    let emulator = Emulator::start();
    let logs = emulator.clients("us-east-1").logs;
    logs.create_log_group().log_group_name("g").send().await.unwrap();
    assert_eq!(
        code(logs.put_retention_policy().log_group_name("g").retention_in_days(200).send().await),
        "InvalidParameterException"
    );
    assert_eq!(
        code(logs.put_retention_policy().log_group_name("g").retention_in_days(400).send().await),
        "<succeeded>"
    );
}

#[tokio::test]
async fn get_trail_finds_multi_region_trails_from_any_region_with_home_region() {
    let emulator = Emulator::start();
    let home = emulator.clients("us-east-1");
    let arn = create_trail(&emulator, &home, "everywhere", true).await;
    create_trail(&emulator, &home, "here-only", false).await;
    let away = emulator.clients("eu-west-1");
    let got = away.cloudtrail.get_trail().name(&arn).send().await.unwrap();
    assert_eq!(got.trail().unwrap().home_region(), Some("us-east-1"));
    let got = home.cloudtrail.get_trail().name("everywhere").send().await.unwrap();
    assert_eq!(got.trail().unwrap().home_region(), Some("us-east-1"));
    assert_eq!(code(away.cloudtrail.get_trail().name("here-only").send().await), "TrailNotFoundException");
}

#[tokio::test]
async fn update_trail_only_in_home_region() {
    let emulator = Emulator::start();
    let home = emulator.clients("us-east-1");
    let arn = create_trail(&emulator, &home, "everywhere", true).await;
    let away = emulator.clients("eu-west-1");
    assert_eq!(
        code(away.cloudtrail.update_trail().name(&arn).enable_log_file_validation(true).send().await),
        "InvalidHomeRegionException"
    );
    assert_eq!(
        code(home.cloudtrail.update_trail().name(&arn).enable_log_file_validation(true).send().await),
        "<succeeded>"
    );
}

#[tokio::test]
async fn create_trail_rejects_existing_name() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, "dup", false).await;
    assert_eq!(
        code(c.cloudtrail.create_trail().name("dup").s3_bucket_name("dup-logs").send().await),
        "TrailAlreadyExistsException"
    );
}

async fn role(
    c: &logmend_integration::AwsClients,
    name: &str,
    trust_service: &str,
    with_policy_on: Option<&str>,
) -> String {
    let trust = serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":trust_service},"Action":"sts:AssumeRole"}]});
    let arn = c
        .iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_owned();
    if let Some(group_arn) = with_policy_on {
        let policy = serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":format!("{}:log-stream:*", group_arn.trim_end_matches(":*"))}]});
        c.iam
            .put_role_policy()
            .role_name(name)
            .policy_name("p")
            .policy_document(policy.to_string())
            .send()
            .await
            .unwrap();
    }
    arn
}

#[tokio::test]
async fn trail_cloudwatch_logs_arns_are_validated_and_empty_clears() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let trail = create_trail(&emulator, &c, "trail-one", false).await;
    let group = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/cloudtrail/trail-one:*";
    let good_role = role(&c, "good", "cloudtrail.amazonaws.com", Some(group)).await;
    let update = |g: &str, r: &str| {
        c.cloudtrail.update_trail().name(&trail).cloud_watch_logs_log_group_arn(g).cloud_watch_logs_role_arn(r).send()
    };

    // The log group does not exist yet.
    assert_eq!(code(update(group, &good_role).await), "InvalidCloudWatchLogsLogGroupArnException");
    c.logs.create_log_group().log_group_name("/aws/cloudtrail/trail-one").send().await.unwrap();
    // A role that does not exist, one CloudTrail cannot assume, one without the permissions.
    assert_eq!(
        code(update(group, "arn:aws:iam::123456789012:role/missing").await),
        "InvalidCloudWatchLogsRoleArnException"
    );
    let ec2_role = role(&c, "ec2", "ec2.amazonaws.com", Some(group)).await;
    assert_eq!(code(update(group, &ec2_role).await), "InvalidCloudWatchLogsRoleArnException");
    let bare_role = role(&c, "bare", "cloudtrail.amazonaws.com", None).await;
    assert_eq!(code(update(group, &bare_role).await), "InvalidCloudWatchLogsLogGroupArnException");
    // The right role works, and empty strings turn delivery off again.
    assert_eq!(code(update(group, &good_role).await), "<succeeded>");
    let t = c.cloudtrail.get_trail().name(&trail).send().await.unwrap();
    assert_eq!(t.trail().unwrap().cloud_watch_logs_role_arn(), Some(good_role.as_str()));
    assert_eq!(code(update("", "").await), "<succeeded>");
    let t = c.cloudtrail.get_trail().name(&trail).send().await.unwrap();
    assert_eq!(t.trail().unwrap().cloud_watch_logs_log_group_arn(), None);
    assert_eq!(t.trail().unwrap().cloud_watch_logs_role_arn(), None);
}

/// A trail whose role or group went away keeps its ARNs; GetTrailStatus says delivery fails.
#[tokio::test]
async fn get_trail_status_reports_cloudwatch_logs_delivery_errors() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let trail = create_trail(&emulator, &c, "trail-three", false).await;
    let status = || c.cloudtrail.get_trail_status().name(&trail).send();
    let without = status().await.unwrap();
    assert_eq!(without.latest_cloud_watch_logs_delivery_error(), None, "no delivery configured, no error");
    assert_eq!(without.latest_cloud_watch_logs_delivery_time(), None);

    let group = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/cloudtrail/trail-three:*";
    c.logs.create_log_group().log_group_name("/aws/cloudtrail/trail-three").send().await.unwrap();
    let good = role(&c, "three", "cloudtrail.amazonaws.com", Some(group)).await;
    c.cloudtrail
        .update_trail()
        .name(&trail)
        .cloud_watch_logs_log_group_arn(group)
        .cloud_watch_logs_role_arn(&good)
        .send()
        .await
        .unwrap();
    let delivering = status().await.unwrap();
    assert_eq!(delivering.latest_cloud_watch_logs_delivery_error(), None);
    assert!(delivering.latest_cloud_watch_logs_delivery_time().is_some());

    // The group goes: the ARNs stay, the status names the error, the last delivery is kept.
    c.logs.delete_log_group().log_group_name("/aws/cloudtrail/trail-three").send().await.unwrap();
    let t = c.cloudtrail.get_trail().name(&trail).send().await.unwrap();
    assert_eq!(t.trail().unwrap().cloud_watch_logs_log_group_arn(), Some(group));
    let broken = status().await.unwrap();
    assert!(broken.latest_cloud_watch_logs_delivery_error().unwrap().contains("Log group does not exist"));
    assert_eq!(broken.latest_cloud_watch_logs_delivery_time(), delivering.latest_cloud_watch_logs_delivery_time());
    // Back, then the role's policy goes.
    c.logs.create_log_group().log_group_name("/aws/cloudtrail/trail-three").send().await.unwrap();
    assert_eq!(status().await.unwrap().latest_cloud_watch_logs_delivery_error(), None);
    c.iam.delete_role_policy().role_name("three").policy_name("p").send().await.unwrap();
    assert!(status().await.unwrap().latest_cloud_watch_logs_delivery_error().unwrap().contains("Access denied"));
}

/// A new cluster is `creating` for the configured time, then `available`.
#[tokio::test]
async fn db_clusters_stay_creating_for_a_while() {
    let emulator = Emulator::start_with(EmulatorOptions { rds_create_seconds: 1.0, ..Default::default() });
    let c = emulator.clients("us-east-1");
    create_aurora_cluster(&c, "slow", "aurora-postgresql", None, &[], false).await;
    let status = || async {
        let out = c.rds.describe_db_clusters().db_cluster_identifier("slow").send().await.unwrap();
        out.db_clusters()[0].status().unwrap_or_default().to_owned()
    };
    assert_eq!(status().await, "creating");
    assert_eq!(status().await, "creating", "not only in the first answer");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(status().await, "available");
}

#[tokio::test]
async fn iam_changes_propagate_with_delay() {
    let emulator = Emulator::start_with(EmulatorOptions { iam_propagation_seconds: 2.0, ..Default::default() });
    let c = emulator.clients("us-east-1");
    let trail = create_trail(&emulator, &c, "trail-two", false).await;
    let group = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/cloudtrail/trail-two:*";
    c.logs.create_log_group().log_group_name("/aws/cloudtrail/trail-two").send().await.unwrap();
    let fresh = role(&c, "fresh", "cloudtrail.amazonaws.com", Some(group)).await;
    let update = || {
        c.cloudtrail
            .update_trail()
            .name(&trail)
            .cloud_watch_logs_log_group_arn(group)
            .cloud_watch_logs_role_arn(&fresh)
            .send()
    };
    assert_eq!(code(update().await), "InvalidCloudWatchLogsRoleArnException");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(code(update().await), "<succeeded>");
}

#[tokio::test]
async fn rabbitmq_brokers_reject_audit_logs() {
    use aws_sdk_mq::types::Logs;
    let emulator = Emulator::start();
    let mq = emulator.clients("us-east-1").mq;
    let id = create_broker(&emulator.clients("us-east-1"), "bus", "RABBITMQ", false, false).await;
    let audit = Logs::builder().audit(true).build();
    assert_eq!(code(mq.update_broker().broker_id(&id).logs(audit).send().await), "BadRequestException");
    let general = Logs::builder().general(true).build();
    assert_eq!(code(mq.update_broker().broker_id(&id).logs(general).send().await), "<succeeded>");
}

#[tokio::test]
async fn update_broker_logs_wait_for_reboot() {
    use aws_sdk_mq::types::Logs;
    let emulator = Emulator::start_with(EmulatorOptions { mq_reboot_seconds: 1.0, ..Default::default() });
    let c = emulator.clients("us-east-1");
    let id = create_broker(&c, "orders", "ACTIVEMQ", true, false).await;
    c.mq.update_broker().broker_id(&id).logs(Logs::builder().audit(true).build()).send().await.unwrap();
    let b = c.mq.describe_broker().broker_id(&id).send().await.unwrap();
    let logs = b.logs().unwrap();
    assert_eq!((logs.general(), logs.audit()), (Some(true), Some(false)), "unnamed types unchanged, named ones wait");
    assert_eq!(logs.pending().and_then(|p| p.audit()), Some(true));
    assert_eq!(logs.pending().and_then(|p| p.general()), None);

    c.mq.reboot_broker().broker_id(&id).send().await.unwrap();
    let b = c.mq.describe_broker().broker_id(&id).send().await.unwrap();
    assert_eq!(b.broker_state().map(|s| s.as_str()), Some("REBOOT_IN_PROGRESS"));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let b = c.mq.describe_broker().broker_id(&id).send().await.unwrap();
    assert_eq!(b.broker_state().map(|s| s.as_str()), Some("RUNNING"));
    let logs = b.logs().unwrap();
    assert_eq!((logs.general(), logs.audit(), logs.pending().is_some()), (Some(true), Some(true), false));
}

#[tokio::test]
async fn default_cluster_parameter_groups_exist_and_refuse_changes() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_aurora_cluster(&c, "orders", "aurora-mysql", None, &[], false).await;
    create_aurora_cluster(&c, "ledger", "aurora-postgresql", None, &[], false).await;
    let clusters = c.rds.describe_db_clusters().send().await.unwrap();
    let groups: Vec<&str> = clusters.db_clusters().iter().filter_map(|c| c.db_cluster_parameter_group()).collect();
    assert_eq!(groups, ["default.aurora-mysql8.0", "default.aurora-postgresql16"]);
    let g =
        c.rds.describe_db_cluster_parameter_groups().db_cluster_parameter_group_name(groups[0]).send().await.unwrap();
    assert_eq!(g.db_cluster_parameter_groups()[0].db_parameter_group_family(), Some("aurora-mysql8.0"));
    let p = c.rds.describe_db_cluster_parameters().db_cluster_parameter_group_name(groups[0]).send().await.unwrap();
    let logging = p.parameters().iter().find(|p| p.parameter_name() == Some("server_audit_logging")).unwrap();
    assert_eq!(logging.parameter_value(), Some("0"));
    let set = aws_sdk_rds::types::Parameter::builder()
        .parameter_name("server_audit_logging")
        .parameter_value("1")
        .apply_method(aws_sdk_rds::types::ApplyMethod::Immediate)
        .build();
    let modify = c.rds.modify_db_cluster_parameter_group().db_cluster_parameter_group_name(groups[0]).parameters(set);
    assert_eq!(code(modify.send().await), "InvalidParameterValue");
}

#[tokio::test]
async fn modify_db_cluster_exports_log_types_and_knows_missing_clusters() {
    use aws_sdk_rds::types::CloudwatchLogsExportConfiguration as Exports;
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_aurora_cluster(&c, "orders", "aurora-mysql", None, &["error"], true).await;
    let enable = Exports::builder().enable_log_types("audit").build();
    c.rds
        .modify_db_cluster()
        .db_cluster_identifier("orders")
        .cloudwatch_logs_export_configuration(enable)
        .send()
        .await
        .unwrap();
    let got = c.rds.describe_db_clusters().db_cluster_identifier("orders").send().await.unwrap();
    assert_eq!(got.db_clusters()[0].enabled_cloudwatch_logs_exports(), ["error", "audit"]);
    let disable = Exports::builder().disable_log_types("error").build();
    c.rds
        .modify_db_cluster()
        .db_cluster_identifier("orders")
        .cloudwatch_logs_export_configuration(disable)
        .send()
        .await
        .unwrap();
    let got = c.rds.describe_db_clusters().db_cluster_identifier("orders").send().await.unwrap();
    assert_eq!(got.db_clusters()[0].enabled_cloudwatch_logs_exports(), ["audit"]);

    c.rds
        .create_db_cluster_parameter_group()
        .db_cluster_parameter_group_name("custom")
        .db_parameter_group_family("aurora-mysql8.0")
        .description("d")
        .send()
        .await
        .unwrap();
    c.rds
        .modify_db_cluster()
        .db_cluster_identifier("orders")
        .db_cluster_parameter_group_name("custom")
        .send()
        .await
        .unwrap();
    let status = |out: &aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput| {
        out.db_clusters()[0].db_cluster_members()[0].db_cluster_parameter_group_status().map(str::to_owned)
    };
    let got = c.rds.describe_db_clusters().db_cluster_identifier("orders").send().await.unwrap();
    assert_eq!(status(&got).as_deref(), Some("pending-reboot"));
    c.rds.reboot_db_instance().db_instance_identifier("orders-1").send().await.unwrap();
    let got = c.rds.describe_db_clusters().db_cluster_identifier("orders").send().await.unwrap();
    assert_eq!(status(&got).as_deref(), Some("in-sync"));

    let missing = c.rds.modify_db_cluster().db_cluster_identifier("nope").deletion_protection(true).send().await;
    assert_eq!(code(missing), "DBClusterNotFoundFault");
}

#[tokio::test]
async fn describe_db_engine_versions_lists_exportable_log_types() {
    let emulator = Emulator::start();
    let rds = emulator.clients("us-east-1").rds;
    let express =
        rds.describe_db_engine_versions().engine("sqlserver-ex").engine_version("15.00").send().await.unwrap();
    assert_eq!(express.db_engine_versions()[0].exportable_log_types(), ["error"]);
    let mysql = rds.describe_db_engine_versions().engine("mysql").send().await.unwrap();
    assert!(mysql.db_engine_versions()[0].exportable_log_types().contains(&"audit".to_owned()));
}

#[tokio::test]
async fn tagging_api_types_log_groups_as_log_group() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    c.logs.create_log_group().log_group_name("/a").tags("logmend:exempt", "true").send().await.unwrap();
    c.logs.create_log_group().log_group_name("/b").tags("team", "x").send().await.unwrap();
    let filter = aws_sdk_resourcegroupstagging::types::TagFilter::builder().key("logmend:exempt").build();
    let out =
        c.tagging.get_resources().resource_type_filters("logs:log-group").tag_filters(filter).send().await.unwrap();
    let arns: Vec<&str> = out.resource_tag_mapping_list().iter().filter_map(|m| m.resource_arn()).collect();
    assert_eq!(arns, ["arn:aws:logs:us-east-1:123456789012:log-group:/a"]);
}

/// A new MySQL instance is on default.mysql8.0 and default:mysql-8-0; both can be read, not changed.
#[tokio::test]
async fn default_db_parameter_and_option_groups_exist_and_refuse_changes() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_db_instance(&c, "fidelity-mysql", "mysql", "8.0.39", &[]).await;
    let groups = c.rds.describe_option_groups().option_group_name("default:mysql-8-0").send().await.unwrap();
    let g = &groups.option_groups_list()[0];
    assert_eq!((g.engine_name(), g.major_engine_version()), (Some("mysql"), Some("8.0")));
    assert!(g.options().is_empty());
    let params = c.rds.describe_db_parameters().db_parameter_group_name("default.mysql8.0").send().await;
    assert!(params.is_ok(), "the default parameter group exists before any describe of the instance");
    let general = aws_sdk_rds::types::Parameter::builder()
        .parameter_name("general_log")
        .parameter_value("1")
        .apply_method(aws_sdk_rds::types::ApplyMethod::Immediate)
        .build();
    let r =
        c.rds.modify_db_parameter_group().db_parameter_group_name("default.mysql8.0").parameters(general).send().await;
    assert_eq!(code(r), "InvalidParameterValue");
    let plugin = aws_sdk_rds::types::OptionConfiguration::builder().option_name("MARIADB_AUDIT_PLUGIN").build();
    let r = c.rds.modify_option_group().option_group_name("default:mysql-8-0").options_to_include(plugin).send().await;
    assert_eq!(code(r), "InvalidParameterValue");
}

#[tokio::test]
async fn copy_option_group_copies_the_options() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    c.rds
        .create_option_group()
        .option_group_name("app-options")
        .engine_name("mysql")
        .major_engine_version("8.0")
        .option_group_description("app")
        .send()
        .await
        .unwrap();
    let plugin = aws_sdk_rds::types::OptionConfiguration::builder().option_name("MARIADB_AUDIT_PLUGIN").build();
    c.rds.modify_option_group().option_group_name("app-options").options_to_include(plugin).send().await.unwrap();
    let copy = || {
        c.rds
            .copy_option_group()
            .source_option_group_identifier("app-options")
            .target_option_group_identifier("app-copy")
            .target_option_group_description("copy")
            .send()
    };
    assert_eq!(code(copy().await), "<succeeded>");
    let out = c.rds.describe_option_groups().option_group_name("app-copy").send().await.unwrap();
    let g = &out.option_groups_list()[0];
    assert_eq!((g.engine_name(), g.major_engine_version()), (Some("mysql"), Some("8.0")));
    assert_eq!(g.options()[0].option_name(), Some("MARIADB_AUDIT_PLUGIN"));
    assert_eq!(code(copy().await), "OptionGroupAlreadyExistsFault");
    let missing = c
        .rds
        .copy_option_group()
        .source_option_group_identifier("nope")
        .target_option_group_identifier("x")
        .target_option_group_description("x")
        .send()
        .await;
    assert_eq!(code(missing), "OptionGroupNotFoundFault");
}

#[tokio::test]
async fn db_instance_group_changes_wait_as_in_aws() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_db_instance(&c, "waits", "mysql", "8.0.39", &[]).await;
    c.rds
        .create_db_parameter_group()
        .db_parameter_group_name("p2")
        .db_parameter_group_family("mysql8.0")
        .description("p")
        .send()
        .await
        .unwrap();
    c.rds
        .create_option_group()
        .option_group_name("o2")
        .engine_name("mysql")
        .major_engine_version("8.0")
        .option_group_description("o")
        .send()
        .await
        .unwrap();
    let state = || async {
        let out = c.rds.describe_db_instances().db_instance_identifier("waits").send().await.unwrap();
        let db = &out.db_instances()[0];
        let og: Vec<(String, String)> = db
            .option_group_memberships()
            .iter()
            .map(|m| (m.option_group_name().unwrap().to_owned(), m.status().unwrap().to_owned()))
            .collect();
        let pg = &db.db_parameter_groups()[0];
        (og, pg.db_parameter_group_name().unwrap().to_owned(), pg.parameter_apply_status().unwrap().to_owned())
    };
    // Without ApplyImmediately the option group waits for the maintenance window.
    c.rds
        .modify_db_instance()
        .db_instance_identifier("waits")
        .option_group_name("o2")
        .db_parameter_group_name("p2")
        .send()
        .await
        .unwrap();
    let (og, pg, status) = state().await;
    assert_eq!(
        og,
        [("o2".to_owned(), "pending-apply".to_owned()), ("default:mysql-8-0".to_owned(), "pending-removal".to_owned())]
    );
    assert_eq!((pg.as_str(), status.as_str()), ("p2", "pending-reboot"));
    c.rds
        .modify_db_instance()
        .db_instance_identifier("waits")
        .option_group_name("o2")
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    assert_eq!(state().await.0, [("o2".to_owned(), "in-sync".to_owned())]);
    c.rds.reboot_db_instance().db_instance_identifier("waits").send().await.unwrap();
    assert_eq!(state().await.2, "in-sync");
    let missing = c.rds.modify_db_instance().db_instance_identifier("waits").option_group_name("nope").send().await;
    assert_eq!(code(missing), "OptionGroupNotFoundFault");
}

#[tokio::test]
async fn new_trails_log_management_events_and_selector_kinds_replace_each_other() {
    use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector, EventSelector, ReadWriteType};
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_trail(&emulator, &c, "selectors", false).await;
    let out = c.cloudtrail.get_event_selectors().trail_name("selectors").send().await.unwrap();
    let s = out.event_selectors();
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].read_write_type(), s[0].include_management_events()), (Some(&ReadWriteType::All), Some(true)));
    let field = AdvancedFieldSelector::builder().field("eventCategory").equals("Management").build().unwrap();
    let advanced = AdvancedEventSelector::builder().field_selectors(field).build().unwrap();
    c.cloudtrail.put_event_selectors().trail_name("selectors").advanced_event_selectors(advanced).send().await.unwrap();
    let out = c.cloudtrail.get_event_selectors().trail_name("selectors").send().await.unwrap();
    assert!(out.event_selectors().is_empty() && out.advanced_event_selectors().len() == 1);
    let basic = EventSelector::builder().read_write_type(ReadWriteType::WriteOnly).build();
    c.cloudtrail.put_event_selectors().trail_name("selectors").event_selectors(basic).send().await.unwrap();
    let out = c.cloudtrail.get_event_selectors().trail_name("selectors").send().await.unwrap();
    assert!(out.advanced_event_selectors().is_empty() && out.event_selectors().len() == 1);
}

/// With BlockPublicPolicy on, S3 refuses a policy that grants everyone access, and takes one
/// whose grant to everyone a fixed-value condition narrows, or a service's grant.
#[tokio::test]
async fn s3_block_public_policy_refuses_public_policies() {
    let emulator = Emulator::start();
    let s3 = emulator.clients("us-east-1").s3;
    s3.create_bucket().bucket("locked").send().await.unwrap();
    let public = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::locked/*"}]});
    assert_eq!(
        code(s3.put_bucket_policy().bucket("locked").policy(public.to_string()).send().await),
        "<succeeded>",
        "no block yet"
    );
    let all = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder().block_public_policy(true).build();
    s3.put_public_access_block().bucket("locked").public_access_block_configuration(all).send().await.unwrap();
    assert_eq!(code(s3.put_bucket_policy().bucket("locked").policy(public.to_string()).send().await), "AccessDenied");
    let narrowed = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::locked/*", "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::locked/*"}]});
    assert_eq!(code(s3.put_bucket_policy().bucket("locked").policy(narrowed.to_string()).send().await), "<succeeded>");
}

/// A request that names another account as the bucket's expected owner is refused.
#[tokio::test]
async fn s3_expected_bucket_owner_is_checked() {
    let emulator = Emulator::start();
    let s3 = emulator.clients("us-east-1").s3;
    s3.create_bucket().bucket("owned").send().await.unwrap();
    let mine = s3.get_bucket_location().bucket("owned").expected_bucket_owner("123456789012").send().await;
    assert_eq!(code(mine), "<succeeded>");
    let theirs = s3.get_bucket_location().bucket("owned").expected_bucket_owner("111122223333").send().await;
    assert_eq!(code(theirs), "AccessDenied");
}

/// GetBucketVersioning parses in the Rust SDK: nothing before versioning is set, then its status.
/// UpdateStateMachine without a definition or role is refused; logging is refused while the
/// state machine's role lacks the delivery actions, and accepted once it has them.
#[tokio::test]
async fn step_functions_updates_need_definition_or_role_and_logging_checks_the_role() {
    use aws_sdk_sfn::types::{CloudWatchLogsLogGroup, LogDestination, LogLevel, LoggingConfiguration};
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let trust = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role =
        c.iam.create_role().role_name("sfn").assume_role_policy_document(trust.to_string()).send().await.unwrap();
    let role_arn = role.role().unwrap().arn().to_owned();
    let definition = r#"{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}"#;
    let sm = c.sfn.create_state_machine().name("m").definition(definition).role_arn(&role_arn).send().await.unwrap();
    let arn = sm.state_machine_arn();
    let destination = LogDestination::builder()
        .cloud_watch_logs_log_group(
            CloudWatchLogsLogGroup::builder()
                .log_group_arn("arn:aws:logs:us-east-1:123456789012:log-group:g:*")
                .build(),
        )
        .build();
    let logging = LoggingConfiguration::builder().level(LogLevel::Error).destinations(destination).build();
    let only_logging =
        c.sfn.update_state_machine().state_machine_arn(arn).logging_configuration(logging.clone()).send().await;
    assert_eq!(code(only_logging), "MissingRequiredParameter");
    let update = || {
        c.sfn
            .update_state_machine()
            .state_machine_arn(arn)
            .definition(definition)
            .logging_configuration(logging.clone())
    };
    let refused = update().send().await;
    assert_eq!(code(refused), "AccessDeniedException");
    let created = c
        .sfn
        .create_state_machine()
        .name("n")
        .definition(definition)
        .role_arn(&role_arn)
        .logging_configuration(logging.clone())
        .send()
        .await;
    assert_eq!(code(created), "AccessDeniedException");
    let grant = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:*Deliver*", "logs:*ResourcePolic*", "logs:DescribeLogGroups"], "Resource": "*"}]});
    c.iam
        .put_role_policy()
        .role_name("sfn")
        .policy_name("logs")
        .policy_document(grant.to_string())
        .send()
        .await
        .unwrap();
    update().send().await.unwrap();
    let level = c.sfn.describe_state_machine().state_machine_arn(arn).send().await.unwrap();
    assert_eq!(level.logging_configuration().unwrap().level(), Some(&LogLevel::Error));
}

/// GetBucketRequestPayment says BucketOwner until Requester Pays is set, then Requester.
#[tokio::test]
async fn s3_request_payment_is_stored_and_answered() {
    use aws_sdk_s3::types::{Payer, RequestPaymentConfiguration};
    let emulator = Emulator::start();
    let s3 = emulator.clients("us-east-1").s3;
    s3.create_bucket().bucket("shared-data").send().await.unwrap();
    let payer = |s3: aws_sdk_s3::Client| async move {
        s3.get_bucket_request_payment().bucket("shared-data").send().await.unwrap().payer().cloned()
    };
    assert_eq!(payer(s3.clone()).await, Some(Payer::BucketOwner));
    let requester = RequestPaymentConfiguration::builder().payer(Payer::Requester).build().unwrap();
    s3.put_bucket_request_payment()
        .bucket("shared-data")
        .request_payment_configuration(requester)
        .send()
        .await
        .unwrap();
    assert_eq!(payer(s3.clone()).await, Some(Payer::Requester));
    assert_eq!(code(s3.get_bucket_request_payment().bucket("no-such-bucket").send().await), "NoSuchBucket");
}

#[tokio::test]
async fn get_bucket_versioning_answers_versioning_configuration() {
    let emulator = Emulator::start();
    let s3 = emulator.clients("us-east-1").s3;
    s3.create_bucket().bucket("versioned").send().await.unwrap();
    assert_eq!(s3.get_bucket_versioning().bucket("versioned").send().await.unwrap().status(), None);
    let on = aws_sdk_s3::types::VersioningConfiguration::builder()
        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
        .build();
    s3.put_bucket_versioning().bucket("versioned").versioning_configuration(on).send().await.unwrap();
    let got = s3.get_bucket_versioning().bucket("versioned").send().await.unwrap();
    assert_eq!(got.status(), Some(&aws_sdk_s3::types::BucketVersioningStatus::Enabled));
}

/// UpdateTrail's KmsKeyId: an unknown key, a disabled key and a key whose policy leaves
/// CloudTrail out are refused as AWS refuses them; a right one is stored as its ARN.
#[tokio::test]
async fn trail_kms_keys_are_checked() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let trail = create_trail(&emulator, &c, "encrypted", false).await;
    let update = |key: &str| c.cloudtrail.update_trail().name("encrypted").kms_key_id(key).send();
    assert_eq!(code(update("alias/nothing").await), "KmsKeyNotFoundException");
    let root = serde_json::json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"});
    let plain =
        c.kms.create_key().policy(serde_json::json!({"Statement": [root.clone()]}).to_string()).send().await.unwrap();
    let plain = plain.key_metadata().unwrap().arn().unwrap().to_owned();
    assert_eq!(code(update(&plain).await), "InsufficientEncryptionPolicyException");
    let mut statements = vec![root];
    statements.extend(logmend::cloudtrail::cloudtrail_encryption::statements_for(&trail, "aws", "123456789012"));
    let right =
        c.kms.create_key().policy(serde_json::json!({"Statement": statements}).to_string()).send().await.unwrap();
    let right = right.key_metadata().unwrap().arn().unwrap().to_owned();
    c.kms.create_alias().alias_name("alias/trails").target_key_id(&right).send().await.unwrap();
    c.kms.disable_key().key_id(&right).send().await.unwrap();
    assert_eq!(code(update("alias/trails").await), "KmsException");
    c.kms.enable_key().key_id(&right).send().await.unwrap();
    assert_eq!(code(update("alias/trails").await), "<succeeded>");
    let got = c.cloudtrail.get_trail().name("encrypted").send().await.unwrap();
    assert_eq!(got.trail().unwrap().kms_key_id(), Some(right.as_str()), "stored as the key's ARN");
}

/// A key's state changes by its ARN as by its id.
#[tokio::test]
async fn kms_key_state_changes_accept_key_arns() {
    let emulator = Emulator::start();
    let kms = emulator.clients("us-east-1").kms;
    let key = kms.create_key().send().await.unwrap();
    let arn = key.key_metadata().unwrap().arn().unwrap().to_owned();
    let state =
        || async { kms.describe_key().key_id(&arn).send().await.unwrap().key_metadata().unwrap().key_state().cloned() };
    assert_eq!(code(kms.disable_key().key_id(&arn).send().await), "<succeeded>");
    assert_eq!(state().await, Some(aws_sdk_kms::types::KeyState::Disabled));
    assert_eq!(code(kms.enable_key().key_id(&arn).send().await), "<succeeded>");
    assert_eq!(code(kms.schedule_key_deletion().key_id(&arn).pending_window_in_days(7).send().await), "<succeeded>");
    assert_eq!(state().await, Some(aws_sdk_kms::types::KeyState::PendingDeletion));
    assert_eq!(code(kms.cancel_key_deletion().key_id(&arn).send().await), "<succeeded>");
}

/// A trail's bucket must let CloudTrail write: none, another trail's and a right policy.
#[tokio::test]
async fn trail_buckets_must_let_cloudtrail_write() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    emulator.create_bucket("bare-logs");
    let create = |name: &'static str| c.cloudtrail.create_trail().name(name).s3_bucket_name("bare-logs").send();
    assert_eq!(code(create("bare").await), "InsufficientS3BucketPolicyException");
    let other = logmend_integration::cloudtrail_bucket_policy(
        "bare-logs",
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/other",
    );
    c.s3.put_bucket_policy().bucket("bare-logs").policy(other.to_string()).send().await.unwrap();
    assert_eq!(code(create("bare").await), "InsufficientS3BucketPolicyException", "aws:SourceArn names another trail");
    let right = logmend_integration::cloudtrail_bucket_policy(
        "bare-logs",
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/bare",
    );
    c.s3.put_bucket_policy().bucket("bare-logs").policy(right.to_string()).send().await.unwrap();
    assert_eq!(code(create("bare").await), "<succeeded>");
}

/// DescribeAlarms pages by MaxRecords (shown in `cloudwatch_speaks_rpc_v2_cbor`, which pages
/// five alarms two at a time).
#[tokio::test]
async fn describe_alarms_paginates() {
    cbor_alarms_round_trip().await;
}

/// The Rust CloudWatch client (rpc-v2-cbor only) against the emulator: an alarm put and read
/// back with its timestamps, DescribeAlarms paginated, and a modelled error.
#[tokio::test]
async fn cloudwatch_speaks_rpc_v2_cbor() {
    cbor_alarms_round_trip().await;
}

async fn cbor_alarms_round_trip() {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
    let emulator = Emulator::start();
    let cw = emulator.clients("us-east-1").cloudwatch;
    for i in 0..5 {
        cw.put_metric_alarm()
            .alarm_name(format!("cis-{i}"))
            .metric_name(format!("Metric{i}"))
            .namespace("LogMetrics")
            .statistic(Statistic::Sum)
            .period(300)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
            .treat_missing_data("notBreaching")
            .alarm_actions("arn:aws:sns:us-east-1:123456789012:alarms")
            .send()
            .await
            .unwrap();
    }
    let one = cw.describe_alarms().alarm_names("cis-3").send().await.unwrap();
    let alarm = &one.metric_alarms()[0];
    assert_eq!(
        (alarm.metric_name(), alarm.threshold(), alarm.actions_enabled()),
        (Some("Metric3"), Some(1.0), Some(true))
    );
    assert_eq!(alarm.alarm_actions(), ["arn:aws:sns:us-east-1:123456789012:alarms"]);
    assert!(alarm.alarm_configuration_updated_timestamp().is_some(), "a CBOR timestamp (tag 1) parses");
    let mut pages = cw.describe_alarms().max_records(2).into_paginator().send();
    let (mut names, mut count) = (Vec::new(), 0);
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        count += 1;
        names.extend(page.metric_alarms().iter().filter_map(|a| a.alarm_name().map(str::to_owned)));
    }
    assert_eq!((names.len(), count), (5, 3), "{names:?}");
    let err = cw
        .set_alarm_state()
        .alarm_name("missing")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("test")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().is_some_and(|e| e.is_resource_not_found()), "{err:?}");
    // The fault rules answer in CBOR too.
    emulator
        .inject(serde_json::json!([{"action": "monitoring:DescribeAlarms", "fault": "access-denied", "times": -1}]));
    assert_eq!(code(cw.describe_alarms().send().await), "AccessDeniedException");
    emulator.inject(serde_json::json!([]));
    assert!(
        emulator.recorded_calls().contains(&"monitoring:PutMetricAlarm".to_owned()),
        "{:?}",
        emulator.recorded_calls()
    );
}

/// PutMetricFilter with an existing name on the same group replaces that filter; the same name
/// on another group is another filter.
#[tokio::test]
async fn put_metric_filter_replaces_the_filter_of_that_name() {
    use aws_sdk_cloudwatchlogs::types::MetricTransformation;
    let emulator = Emulator::start();
    let logs = emulator.clients("us-east-1").logs;
    for group in ["/trail/a", "/trail/b"] {
        logs.create_log_group().log_group_name(group).send().await.unwrap();
    }
    let put = |group: &'static str, pattern: &'static str| {
        let t = MetricTransformation::builder()
            .metric_name("RootUsage")
            .metric_namespace("LogMetrics")
            .metric_value("1")
            .build()
            .unwrap();
        logs.put_metric_filter()
            .log_group_name(group)
            .filter_name("root")
            .filter_pattern(pattern)
            .metric_transformations(t)
            .send()
    };
    put("/trail/a", "{ $.userIdentity.type = \"Root\" }").await.unwrap();
    put("/trail/a", "{ $.eventName = \"ConsoleLogin\" }").await.unwrap();
    put("/trail/b", "{ $.userIdentity.type = \"Root\" }").await.unwrap();
    let a = logs.describe_metric_filters().log_group_name("/trail/a").send().await.unwrap();
    let patterns: Vec<&str> = a.metric_filters().iter().filter_map(|f| f.filter_pattern()).collect();
    assert_eq!(patterns, ["{ $.eventName = \"ConsoleLogin\" }"], "replaced, not appended");
    let b = logs.describe_metric_filters().log_group_name("/trail/b").send().await.unwrap();
    assert_eq!(b.metric_filters().len(), 1);
}

/// A TLS-only Deny does not refuse the (TLS-standing) requests through the emulator; an
/// unconditional Deny still does.
#[tokio::test]
async fn s3_object_requests_count_as_tls() {
    let emulator = Emulator::start();
    let s3 = emulator.clients("us-east-1").s3;
    s3.create_bucket().bucket("tls-only").send().await.unwrap();
    let tls = serde_json::json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::tls-only", "arn:aws:s3:::tls-only/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    s3.put_bucket_policy().bucket("tls-only").policy(tls.to_string()).send().await.unwrap();
    let put_object = || {
        s3.put_object().bucket("tls-only").key("k").body(aws_sdk_s3::primitives::ByteStream::from_static(b"x")).send()
    };
    let put = put_object().await;
    assert_eq!(code(put), "<succeeded>");
    assert_eq!(code(s3.delete_object().bucket("tls-only").key("k").send().await), "<succeeded>");
    let all = serde_json::json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::tls-only/*"}]});
    s3.put_bucket_policy().bucket("tls-only").policy(all.to_string()).send().await.unwrap();
    let put = put_object().await;
    assert_ne!(code(put), "<succeeded>", "an unconditional Deny still refuses");
}

/// Email and https subscriptions wait for their endpoint's confirmation; SQS ones do not; the
/// topic counts each kind; ConfirmSubscription checks the token SNS sent.
#[tokio::test]
async fn sns_subscriptions_wait_for_confirmation() {
    let emulator = Emulator::start();
    let sns = emulator.clients("us-east-1").sns;
    let topic = sns.create_topic().name("alerts").send().await.unwrap().topic_arn().unwrap().to_owned();
    let email = sns.subscribe().topic_arn(&topic).protocol("email").endpoint("a@example.com").send().await.unwrap();
    assert_eq!(email.subscription_arn(), Some("pending confirmation"));
    let https = sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("https")
        .endpoint("https://hooks.example.com/sns")
        .return_subscription_arn(true)
        .send()
        .await
        .unwrap();
    assert!(https.subscription_arn().unwrap().starts_with(&topic), "ReturnSubscriptionArn gives the ARN");
    let sqs = sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint("arn:aws:sqs:us-east-1:123456789012:q")
        .send()
        .await
        .unwrap();
    assert!(sqs.subscription_arn().unwrap().starts_with(&topic));
    let listed = sns.list_subscriptions_by_topic().topic_arn(&topic).send().await.unwrap();
    let arns: Vec<(&str, &str)> =
        listed.subscriptions().iter().map(|s| (s.protocol().unwrap(), s.subscription_arn().unwrap())).collect();
    assert_eq!(arns.iter().filter(|(_, a)| *a == "PendingConfirmation").count(), 2, "{arns:?}");
    let counts = |a: &std::collections::HashMap<String, String>| {
        (a["SubscriptionsPending"].clone(), a["SubscriptionsConfirmed"].clone())
    };
    let attrs = sns.get_topic_attributes().topic_arn(&topic).send().await.unwrap();
    assert_eq!(counts(attrs.attributes().unwrap()), ("2".into(), "1".into()));
    let https_attrs =
        sns.get_subscription_attributes().subscription_arn(https.subscription_arn().unwrap()).send().await.unwrap();
    assert_eq!(https_attrs.attributes().unwrap()["PendingConfirmation"], "true");

    // A wrong token is refused as SNS does; the mailed one confirms.
    let bad = sns.confirm_subscription().topic_arn(&topic).token("not-the-token").send().await;
    assert_eq!(code(bad), "InvalidParameter");
    let mailbox = emulator.sns_confirmations();
    let mail = mailbox.iter().find(|m| m["endpoint"] == "a@example.com").unwrap();
    let confirmed =
        sns.confirm_subscription().topic_arn(&topic).token(mail["token"].as_str().unwrap()).send().await.unwrap();
    assert!(confirmed.subscription_arn().unwrap().starts_with(&topic));
    let attrs = sns.get_topic_attributes().topic_arn(&topic).send().await.unwrap();
    assert_eq!(counts(attrs.attributes().unwrap()), ("1".into(), "2".into()));
    assert_eq!(emulator.sns_confirmations().len(), 1, "only the https endpoint still waits");
}

#[tokio::test]
async fn waf_logging_destinations_need_the_aws_waf_logs_prefix() {
    use aws_sdk_wafv2::types::{LoggingConfiguration, Scope};
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let acl = create_web_acl(&c, "app", Scope::Regional).await;
    let put = |destination: &str| {
        let config =
            LoggingConfiguration::builder().resource_arn(&acl).log_destination_configs(destination).build().unwrap();
        c.wafv2.put_logging_configuration().logging_configuration(config).send()
    };
    assert_eq!(
        code(put("arn:aws:logs:us-east-1:123456789012:log-group:app-logs").await),
        "WAFInvalidParameterException"
    );
    assert_eq!(code(put("arn:aws:s3:::logmend-logs-123456789012-us-east-1").await), "WAFInvalidParameterException");
    assert_eq!(code(put("arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-app").await), "<succeeded>");
    assert_eq!(code(put("arn:aws:s3:::aws-waf-logs-app-bucket").await), "<succeeded>");
}

#[tokio::test]
async fn resolver_query_log_configs_can_be_disassociated_and_deleted() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let (vpc, _) = create_vpc(&c).await;
    let created = c
        .resolver
        .create_resolver_query_log_config()
        .name("q")
        .destination_arn("arn:aws:s3:::dns-logs")
        .creator_request_id("r1")
        .send()
        .await
        .unwrap();
    let id = created.resolver_query_log_config().unwrap().id().unwrap().to_owned();
    c.resolver
        .associate_resolver_query_log_config()
        .resolver_query_log_config_id(&id)
        .resource_id(&vpc)
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(c.resolver.delete_resolver_query_log_config().resolver_query_log_config_id(&id).send().await),
        "InvalidRequestException",
        "still associated"
    );
    let disassociate = || {
        c.resolver.disassociate_resolver_query_log_config().resolver_query_log_config_id(&id).resource_id(&vpc).send()
    };
    assert_eq!(code(disassociate().await), "<succeeded>");
    assert_eq!(code(disassociate().await), "ResourceNotFoundException");
    let left = c.resolver.list_resolver_query_log_config_associations().send().await.unwrap();
    assert!(left.resolver_query_log_config_associations().is_empty());
    assert_eq!(
        code(c.resolver.delete_resolver_query_log_config().resolver_query_log_config_id(&id).send().await),
        "<succeeded>"
    );
    assert!(c.resolver.list_resolver_query_log_configs().send().await.unwrap().resolver_query_log_configs().is_empty());
}

#[tokio::test]
async fn elbv2_attributes_say_access_logs_are_off() {
    use aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum;
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let (_, subnets) = create_vpc(&c).await;
    let arn = create_load_balancer(&c, "web", LoadBalancerTypeEnum::Application, &subnets).await;
    let attrs = c.elbv2.describe_load_balancer_attributes().load_balancer_arn(&arn).send().await.unwrap();
    let get =
        |k: &str| attrs.attributes().iter().find(|a| a.key() == Some(k)).and_then(|a| a.value()).map(str::to_owned);
    assert_eq!(get("access_logs.s3.enabled").as_deref(), Some("false"));
    assert_eq!(get("connection_logs.s3.enabled").as_deref(), Some("false"));
}

#[tokio::test]
async fn flow_logs_to_s3_fail_when_the_bucket_refuses_delivery() {
    use aws_sdk_ec2::types::{FlowLogsResourceType, LogDestinationType, TrafficType};
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let (vpc, _) = create_vpc(&c).await;
    emulator.create_bucket("flow-logs");
    c.ec2
        .create_flow_logs()
        .resource_type(FlowLogsResourceType::Vpc)
        .resource_ids(&vpc)
        .traffic_type(TrafficType::All)
        .log_destination_type(LogDestinationType::S3)
        .log_destination("arn:aws:s3:::flow-logs")
        .send()
        .await
        .unwrap();
    let status = || async {
        let out = c.ec2.describe_flow_logs().send().await.unwrap();
        let fl = &out.flow_logs()[0];
        (fl.deliver_logs_status().map(str::to_owned), fl.deliver_logs_error_message().map(str::to_owned))
    };
    assert_eq!(
        status().await,
        (Some("FAILED".into()), Some("Access error".into())),
        "no policy lets the service write"
    );
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "delivery.logs.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::flow-logs/AWSLogs/123456789012/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012", "s3:x-amz-acl": "bucket-owner-full-control"},
                      "ArnLike": {"aws:SourceArn": "arn:aws:logs:us-east-1:123456789012:*"}}}]});
    c.s3.put_bucket_policy().bucket("flow-logs").policy(policy.to_string()).send().await.unwrap();
    assert_eq!(status().await.0.as_deref(), Some("SUCCESS"), "delivered once the policy lets it");
}

/// PutDeliveryChannel refuses a missing bucket and one Config may not write to, and
/// DescribeDeliveryChannelStatus says whether the last deliveries arrived.
#[tokio::test]
async fn config_delivery_channels_need_a_bucket_config_may_write_and_report_their_status() {
    use aws_sdk_config::types::{DeliveryChannel, DeliveryStatus};
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let channel =
        |bucket: &str| DeliveryChannel::builder().name("default").s3_bucket_name(bucket).s3_key_prefix("cfg").build();
    let missing = c.config.put_delivery_channel().delivery_channel(channel("nowhere")).send().await;
    assert_eq!(code(missing), "NoSuchBucketException");

    // A channel needs a recorder (NoAvailableConfigurationRecorderException), in moto as in AWS.
    let group = aws_sdk_config::types::RecordingGroup::builder().all_supported(true).build();
    let recorder = aws_sdk_config::types::ConfigurationRecorder::builder()
        .name("default")
        .role_arn("arn:aws:iam::123456789012:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig")
        .recording_group(group)
        .build();
    c.config.put_configuration_recorder().configuration_recorder(recorder).send().await.unwrap();
    c.s3.create_bucket().bucket("cfg-bucket").send().await.unwrap();
    let unwritable = c.config.put_delivery_channel().delivery_channel(channel("cfg-bucket")).send().await;
    assert_eq!(code(unwritable), "InsufficientDeliveryPolicyException");

    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": "arn:aws:s3:::cfg-bucket", "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"}}},
        {"Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::cfg-bucket/cfg/AWSLogs/123456789012/Config/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "AWS:SourceAccount": "123456789012"}}}]});
    c.s3.put_bucket_policy().bucket("cfg-bucket").policy(policy.to_string()).send().await.unwrap();
    c.config.put_delivery_channel().delivery_channel(channel("cfg-bucket")).send().await.unwrap();
    let status = |c: aws_sdk_config::Client| async move {
        let got = c.describe_delivery_channel_status().send().await.unwrap();
        let s = got.delivery_channels_status()[0].clone();
        (s.name().unwrap().to_owned(), s.config_history_delivery_info().unwrap().clone())
    };
    let (name, history) = status(c.config.clone()).await;
    assert_eq!(name, "default");
    assert_eq!(history.last_status(), Some(&DeliveryStatus::Success));

    // The policy is taken away after the channel was made: the next delivery fails.
    c.s3.delete_bucket_policy().bucket("cfg-bucket").send().await.unwrap();
    let (_, history) = status(c.config.clone()).await;
    assert_eq!(history.last_status(), Some(&DeliveryStatus::Failure));
    assert_eq!(history.last_error_code(), Some("AccessDenied"));
}

/// UpdateDetector changes the plans it names and keeps the others.
#[tokio::test]
async fn guardduty_update_detector_changes_only_the_features_it_names() {
    use aws_sdk_guardduty::types::{DetectorFeature, DetectorFeatureConfiguration, FeatureStatus};
    let emulator = Emulator::start();
    let gd = emulator.clients("us-east-1").guardduty;
    let plan = |name: DetectorFeature| {
        DetectorFeatureConfiguration::builder().name(name).status(FeatureStatus::Enabled).build()
    };
    let id = gd.create_detector().enable(true).features(plan(DetectorFeature::S3DataEvents)).send().await.unwrap();
    let id = id.detector_id().unwrap();
    gd.update_detector().detector_id(id).features(plan(DetectorFeature::RdsLoginEvents)).send().await.unwrap();
    let got = gd.get_detector().detector_id(id).send().await.unwrap();
    let mut on: Vec<&str> = got
        .features()
        .iter()
        .filter(|f| f.status() == Some(&FeatureStatus::Enabled))
        .filter_map(|f| f.name().map(|n| n.as_str()))
        .collect();
    on.sort();
    assert_eq!(on, ["RDS_LOGIN_EVENTS", "S3_DATA_EVENTS"]);
}

/// DescribeTaskDefinition by family is its latest ACTIVE revision; ListTaskDefinitionFamilies
/// filters by status.
#[tokio::test]
async fn ecs_task_definitions_by_family_mean_the_latest_active_revision() {
    use aws_sdk_ecs::types::{ContainerDefinition, TaskDefinitionFamilyStatus};
    let emulator = Emulator::start();
    let ecs = emulator.clients("us-east-1").ecs;
    let register = |family: &'static str| {
        let container = ContainerDefinition::builder().name("app").image("app:1").memory(128).build();
        ecs.register_task_definition().family(family).container_definitions(container).send()
    };
    register("web").await.unwrap();
    register("web").await.unwrap();
    register("gone").await.unwrap();
    ecs.deregister_task_definition().task_definition("web:2").send().await.unwrap();
    ecs.deregister_task_definition().task_definition("gone:1").send().await.unwrap();
    let web = ecs.describe_task_definition().task_definition("web").send().await.unwrap();
    assert_eq!(web.task_definition().unwrap().revision(), 1, "the latest active, not the latest");
    let web2 = ecs.describe_task_definition().task_definition("web:2").send().await.unwrap();
    assert_eq!(web2.task_definition().unwrap().status().map(|s| s.as_str()), Some("INACTIVE"), "by revision: any");
    assert_eq!(code(ecs.describe_task_definition().task_definition("gone").send().await), "ClientException");
    let families = |status: TaskDefinitionFamilyStatus| {
        let ecs = ecs.clone();
        async move { ecs.list_task_definition_families().status(status).send().await.unwrap().families().to_vec() }
    };
    assert_eq!(families(TaskDefinitionFamilyStatus::Active).await, ["web"]);
    assert_eq!(families(TaskDefinitionFamilyStatus::Inactive).await, ["gone"]);
    let mut all = families(TaskDefinitionFamilyStatus::All).await;
    all.sort();
    assert_eq!(all, ["gone", "web"]);
}

/// ListDocumentVersions lists every version and says which is the default.
#[tokio::test]
async fn ssm_document_versions_are_listed() {
    use aws_sdk_ssm::types::{DocumentFormat, DocumentType};
    let emulator = Emulator::start();
    let ssm = emulator.clients("us-east-1").ssm;
    let content = |n: u8| {
        format!(r#"{{"schemaVersion":"1.0","sessionType":"Standard_Stream","inputs":{{"idleSessionTimeout":"{n}"}}}}"#)
    };
    let doc = "SSM-SessionManagerRunShell";
    ssm.create_document()
        .name(doc)
        .content(content(1))
        .document_type(DocumentType::Session)
        .document_format(DocumentFormat::Json)
        .send()
        .await
        .unwrap();
    ssm.update_document().name(doc).content(content(2)).document_version("$LATEST").send().await.unwrap();
    let got = ssm.list_document_versions().name(doc).send().await.unwrap();
    let versions: Vec<(&str, bool)> =
        got.document_versions().iter().map(|v| (v.document_version().unwrap(), v.is_default_version())).collect();
    assert_eq!(versions, [("1", true), ("2", false)], "UpdateDocument does not move the default");
    assert_eq!(code(ssm.list_document_versions().name("nope").send().await), "InvalidDocument");
}

/// AssociateKmsKey encrypts a group that exists, with a key that exists.
#[tokio::test]
async fn logs_associate_kms_key_encrypts_an_existing_group() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let key = c.kms.create_key().send().await.unwrap().key_metadata().unwrap().arn().unwrap().to_owned();
    assert_eq!(
        code(c.logs.associate_kms_key().log_group_name("/nope").kms_key_id(&key).send().await),
        "ResourceNotFoundException"
    );
    c.logs.create_log_group().log_group_name("/g").send().await.unwrap();
    let missing = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000";
    assert_eq!(
        code(c.logs.associate_kms_key().log_group_name("/g").kms_key_id(missing).send().await),
        "InvalidParameterException"
    );
    c.logs.associate_kms_key().log_group_name("/g").kms_key_id(&key).send().await.unwrap();
    let groups = c.logs.describe_log_groups().log_group_name_prefix("/g").send().await.unwrap();
    assert_eq!(groups.log_groups()[0].kms_key_id(), Some(key.as_str()));
}

/// Every function carries a LoggingConfig, default or given, and an update merges into it.
#[tokio::test]
async fn lambda_functions_have_a_logging_config() {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{ApplicationLogLevel, FunctionCode, LogFormat, LoggingConfig, Runtime};
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role = c.iam.create_role().role_name("fn").assume_role_policy_document(trust.to_string()).send().await.unwrap();
    let code =
        || FunctionCode::builder().zip_file(Blob::new(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec())).build();
    c.lambda
        .create_function()
        .function_name("f")
        .runtime(Runtime::Python312)
        .role(role.role().unwrap().arn())
        .handler("a.b")
        .code(code())
        .send()
        .await
        .unwrap();
    let got = c.lambda.get_function().function_name("f").send().await.unwrap();
    let l = got.configuration().unwrap().logging_config().unwrap().clone();
    assert_eq!((l.log_format(), l.log_group()), (Some(&LogFormat::Text), Some("/aws/lambda/f")));
    assert_eq!(l.application_log_level(), None, "levels only with JSON");
    let json = LoggingConfig::builder().log_format(LogFormat::Json).build();
    c.lambda.update_function_configuration().function_name("f").logging_config(json).send().await.unwrap();
    let got = c.lambda.get_function().function_name("f").send().await.unwrap();
    let l = got.configuration().unwrap().logging_config().unwrap().clone();
    assert_eq!(l.log_format(), Some(&LogFormat::Json));
    assert_eq!(l.application_log_level(), Some(&ApplicationLogLevel::Info));
    assert_eq!(l.log_group(), Some("/aws/lambda/f"));
}

/// Delivery status attributes are stored and answered; an empty value removes one.
#[tokio::test]
async fn sns_topics_answer_their_delivery_status_attributes() {
    let emulator = Emulator::start();
    let sns = emulator.clients("us-east-1").sns;
    let arn = sns.create_topic().name("t").send().await.unwrap().topic_arn().unwrap().to_owned();
    let set = |name: &'static str, value: &'static str| {
        sns.set_topic_attributes().topic_arn(&arn).attribute_name(name).attribute_value(value).send()
    };
    set("SQSFailureFeedbackRoleArn", "arn:aws:iam::123456789012:role/r").await.unwrap();
    set("HTTPSuccessFeedbackSampleRate", "10").await.unwrap();
    let got = sns.get_topic_attributes().topic_arn(&arn).send().await.unwrap();
    let attributes = got.attributes().unwrap();
    assert_eq!(
        attributes.get("SQSFailureFeedbackRoleArn").map(String::as_str),
        Some("arn:aws:iam::123456789012:role/r")
    );
    assert_eq!(attributes.get("HTTPSuccessFeedbackSampleRate").map(String::as_str), Some("10"));
    set("SQSFailureFeedbackRoleArn", "").await.unwrap();
    let got = sns.get_topic_attributes().topic_arn(&arn).send().await.unwrap();
    assert_eq!(got.attributes().unwrap().get("SQSFailureFeedbackRoleArn"), None);
}

async fn archive_role(
    c: &logmend_integration::AwsClients,
    name: &str,
    trust: serde_json::Value,
    policy: serde_json::Value,
) -> String {
    let role = c.iam.create_role().role_name(name).assume_role_policy_document(trust.to_string()).send().await.unwrap();
    c.iam.put_role_policy().role_name(name).policy_name("p").policy_document(policy.to_string()).send().await.unwrap();
    role.role().unwrap().arn().to_owned()
}

async fn create_stream(c: &logmend_integration::AwsClients, name: &str, role_arn: &str) -> Result<(), String> {
    let s3 = aws_sdk_firehose::types::ExtendedS3DestinationConfiguration::builder()
        .role_arn(role_arn)
        .bucket_arn("arn:aws:s3:::archive")
        .build()
        .unwrap();
    c.firehose
        .create_delivery_stream()
        .delivery_stream_name(name)
        .extended_s3_destination_configuration(s3)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("{}", aws_sdk_firehose::error::DisplayErrorContext(e)))
}

/// Firehose assumes the delivery role on creation: a role that does not trust it, or whose
/// ExternalId is another account's, is refused; a trusted one is taken.
#[tokio::test]
async fn firehose_streams_assume_their_delivery_role() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let s3 = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]});
    let trust = |service: &str, account: &str| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service},
            "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": account}}}]})
    };
    let lambda = archive_role(&c, "not-firehose", trust("lambda.amazonaws.com", "123456789012"), s3.clone()).await;
    let other = archive_role(&c, "other-account", trust("firehose.amazonaws.com", "999999999999"), s3.clone()).await;
    let good = archive_role(&c, "firehose", trust("firehose.amazonaws.com", "123456789012"), s3).await;
    for role in [lambda.as_str(), other.as_str(), "arn:aws:iam::123456789012:role/none"] {
        let err = create_stream(&c, "s", role).await.unwrap_err();
        assert!(err.contains("InvalidArgumentException") && err.contains("unable to assume role"), "{role}: {err}");
    }
    create_stream(&c, "s", &good).await.unwrap();
}

/// PutSubscriptionFilter to Firehose sends a test message as the role: the role must trust
/// logs.amazonaws.com for this group and may put into that stream. A filter of an existing name
/// is updated even at the two-filter limit; a third one is refused.
#[tokio::test]
async fn logs_subscription_filters_to_firehose_check_the_role_and_the_stream() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let s3 = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
    let firehose_trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let delivery = archive_role(&c, "delivery", firehose_trust, s3).await;
    create_stream(&c, "archive", &delivery).await.unwrap();
    let stream = "arn:aws:firehose:us-east-1:123456789012:deliverystream/archive";
    let logs_trust = |source: &str| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"},
            "Action": "sts:AssumeRole", "Condition": {"StringLike": {"aws:SourceArn": source}}}]})
    };
    let put = |resource: &str| serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "firehose:PutRecord", "Resource": resource}]});
    let good = archive_role(&c, "good", logs_trust("arn:aws:logs:us-east-1:123456789012:*"), put(stream)).await;
    let elsewhere =
        archive_role(&c, "elsewhere", logs_trust("arn:aws:logs:eu-west-1:123456789012:*"), put(stream)).await;
    let no_put = archive_role(
        &c,
        "no-put",
        logs_trust("arn:aws:logs:us-east-1:123456789012:*"),
        put("arn:aws:firehose:us-east-1:123456789012:deliverystream/other"),
    )
    .await;
    c.logs.create_log_group().log_group_name("/app").send().await.unwrap();
    let subscribe = |name: &'static str, destination: &'static str, role: String| {
        let logs = c.logs.clone();
        async move {
            logs.put_subscription_filter()
                .log_group_name("/app")
                .filter_name(name)
                .filter_pattern("")
                .destination_arn(destination)
                .role_arn(role)
                .send()
                .await
        }
    };
    for role in [elsewhere, no_put] {
        assert_eq!(code(subscribe("a", stream, role).await), "InvalidParameterException");
    }
    let missing = "arn:aws:firehose:us-east-1:123456789012:deliverystream/missing";
    assert_eq!(code(subscribe("a", missing, good.clone()).await), "InvalidParameterException");
    subscribe("a", stream, good.clone()).await.unwrap();
    subscribe("b", stream, good.clone()).await.unwrap();
    subscribe("b", stream, good.clone()).await.expect("an update of an existing filter at the limit");
    assert_eq!(code(subscribe("c", stream, good).await), "LimitExceededException");
}

/// A stream made with nothing but a role and a bucket reads back with Firehose's defaults.
#[tokio::test]
async fn firehose_s3_descriptions_carry_their_defaults() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let s3 = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
    let role = archive_role(&c, "delivery", trust, s3).await;
    create_stream(&c, "plain", &role).await.unwrap();
    let out = c.firehose.describe_delivery_stream().delivery_stream_name("plain").send().await.unwrap();
    let d = &out.delivery_stream_description().unwrap().destinations()[0];
    let ext = d.extended_s3_destination_description().unwrap();
    assert_eq!(ext.compression_format(), &aws_sdk_firehose::types::CompressionFormat::Uncompressed);
    assert_eq!(ext.buffering_hints().and_then(|b| b.interval_in_seconds()), Some(300));
    assert_eq!(d.s3_destination_description().unwrap().bucket_arn(), "arn:aws:s3:::archive");
}

fn asff(
    id: &str,
    product: &str,
    account: &str,
    updated_at: &str,
    status: &str,
) -> aws_sdk_securityhub::types::AwsSecurityFinding {
    use aws_sdk_securityhub::types::*;
    AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(id)
        .product_arn(product)
        .generator_id("g")
        .aws_account_id(account)
        .types("Software and Configuration Checks/AWS Security Best Practices")
        .created_at(updated_at)
        .updated_at(updated_at)
        .severity(Severity::builder().label(SeverityLabel::Low).build())
        .title("t")
        .description("d")
        .resources(Resource::builder().r#type("Other").id("r").build())
        .compliance(Compliance::builder().status(ComplianceStatus::from(status)).build())
        .build()
}

/// Security Hub must be on; a batch holds at most 100; a finding on another product or account
/// fails alone; an update that is not later than the stored one is ignored.
#[tokio::test]
async fn securityhub_imports_check_the_hub_the_limits_the_product_and_updated_at() {
    let emulator = Emulator::start();
    let c = emulator.clients("eu-west-1");
    let own = "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default";
    let import = |findings: Vec<aws_sdk_securityhub::types::AwsSecurityFinding>| {
        c.securityhub.batch_import_findings().set_findings(Some(findings)).send()
    };
    let off = import(vec![asff("a", own, "123456789012", "2026-12-03T00:00:00.000Z", "FAILED")]).await;
    assert_eq!(code(off), "InvalidAccessException");

    c.securityhub.enable_security_hub().send().await.unwrap();
    let many: Vec<_> =
        (0..101).map(|i| asff(&format!("f{i}"), own, "123456789012", "2026-12-03T00:00:00.000Z", "FAILED")).collect();
    assert_eq!(code(import(many).await), "InvalidInputException");

    let other_product = "arn:aws:securityhub:eu-west-1:999999999999:product/999999999999/default";
    let out = import(vec![
        asff("a", own, "123456789012", "2026-12-03T00:00:00.000Z", "FAILED"),
        asff("b", other_product, "123456789012", "2026-12-03T00:00:00.000Z", "FAILED"),
        asff("c", own, "999999999999", "2026-12-03T00:00:00.000Z", "FAILED"),
    ])
    .await
    .unwrap();
    assert_eq!(out.success_count(), Some(1));
    let failed: Vec<(&str, &str)> = out
        .failed_findings()
        .iter()
        .map(|f| (f.id().unwrap_or_default(), f.error_code().unwrap_or_default()))
        .collect();
    assert_eq!(failed, [("b", "AccessDeniedException"), ("c", "AccessDeniedException")]);

    let status = || async {
        let all = c.securityhub.get_findings().send().await.unwrap();
        let f = all.findings().iter().find(|f| f.id() == Some("a")).cloned().unwrap();
        f.compliance().and_then(|c| c.status()).map(|s| s.as_str().to_owned()).unwrap()
    };
    import(vec![asff("a", own, "123456789012", "2026-12-03T00:00:00.000Z", "PASSED")]).await.unwrap();
    assert_eq!(status().await, "FAILED", "an equal UpdatedAt is ignored");
    import(vec![asff("a", own, "123456789012", "2026-12-02T00:00:00.000Z", "PASSED")]).await.unwrap();
    assert_eq!(status().await, "FAILED", "an earlier UpdatedAt is ignored");
    import(vec![asff("a", own, "123456789012", "2026-12-03T00:00:01.000Z", "PASSED")]).await.unwrap();
    assert_eq!(status().await, "PASSED", "a later one updates");
}

/// Clients that never retry: a throttled call comes back as the service's own error.
fn unretried(emulator: &Emulator) -> logmend_integration::AwsClients {
    let sdk = emulator.sdk_config("us-east-1").into_builder().retry_config(aws_config::retry::RetryConfig::disabled());
    logmend_integration::AwsClients::new(&sdk.build())
}

/// AWS's service time: every call takes it, and calls made at once are served at once (each on
/// its own thread), as on AWS, not one after the other.
#[tokio::test]
async fn service_time_is_taken_by_every_call_and_calls_overlap() {
    let emulator = Emulator::start_with(EmulatorOptions { service_ms: 300.0, ..Default::default() });
    let c = emulator.clients("us-east-1");
    let started = std::time::Instant::now();
    c.logs.describe_log_groups().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300), "one call: {:?}", started.elapsed());

    let started = std::time::Instant::now();
    let calls = (0..8).map(|_| c.logs.describe_log_groups().send());
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    let both = started.elapsed();
    assert!(both >= Duration::from_millis(300), "{both:?}");
    // Served one after the other they would take 8 × 300 ms.
    assert!(both < Duration::from_millis(1500), "8 calls at once took {both:?}: not overlapped");
}

/// The published quotas: CloudWatch Logs' PutRetentionPolicy allows 5 a second per account and
/// region, then answers ThrottlingException; another region's bucket is its own, and the bucket
/// refills.
#[tokio::test]
async fn api_quotas_throttle_per_action_account_and_region() {
    let emulator = Emulator::start_with(EmulatorOptions { quotas: Some("aws".into()), ..Default::default() });
    let c = unretried(&emulator);
    for i in 0..8 {
        c.logs.create_log_group().log_group_name(format!("/q/{i}")).send().await.unwrap();
    }
    let put = |i: usize| c.logs.put_retention_policy().log_group_name(format!("/q/{i}")).retention_in_days(365).send();
    let mut codes = Vec::new();
    for i in 0..8 {
        codes.push(code(put(i).await));
    }
    let ok = codes.iter().filter(|c| *c == "<succeeded>").count();
    // The bucket holds 5; the 8 calls take a few milliseconds, which refill at most one more.
    assert!((5..=6).contains(&ok), "{codes:?}");
    assert!(codes.iter().all(|c| c == "<succeeded>" || c == "ThrottlingException"), "{codes:?}");
    assert_eq!(code(c.logs.describe_log_groups().send().await), "<succeeded>", "DescribeLogGroups has its own bucket");

    let west = logmend_integration::AwsClients::new(
        &emulator
            .sdk_config("us-west-2")
            .into_builder()
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build(),
    );
    west.logs.create_log_group().log_group_name("/q/west").send().await.unwrap();
    let west_put = west.logs.put_retention_policy().log_group_name("/q/west").retention_in_days(365).send().await;
    assert_eq!(code(west_put), "<succeeded>", "us-west-2 has its own bucket");

    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(code(put(0).await), "<succeeded>", "the bucket refills at 5 a second");

    let (_, pace) = emulator.http("GET", "/logmend-emulator/pace", "");
    let pace: serde_json::Value = serde_json::from_str(&pace).unwrap();
    assert!(pace["throttled"]["logs:PutRetentionPolicy"].as_u64().unwrap() >= 2, "{pace}");
}

/// Each service throttles with its own error, which the SDK knows for a throttle: RDS
/// `Throttling`, EC2 `RequestLimitExceeded` (an HTTP 503), the Tagging API `ThrottledException`;
/// logmend takes each for a transient failure.
#[tokio::test]
async fn throttling_errors_are_each_services_own() {
    let table = std::env::temp_dir().join(format!("logmend-quotas-{}.json", std::process::id()));
    let rows = serde_json::json!([
        {"service": "rds", "action": "*", "rate": 0.001, "burst": 1, "per_action": false},
        {"service": "ec2", "action": "Describe*", "rate": 0.001, "burst": 1},
        {"service": "tagging", "action": "GetResources", "rate": 0.001, "burst": 1},
    ]);
    std::fs::write(&table, rows.to_string()).unwrap();
    let emulator =
        Emulator::start_with(EmulatorOptions { quotas: Some(table.display().to_string()), ..Default::default() });
    let c = unretried(&emulator);
    async fn twice<T, E, F, Fut>(f: F) -> Result<(), (String, Option<u16>, bool)>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<
                Output = Result<
                    T,
                    aws_sdk_iam::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
                >,
            >,
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        f().await.map_err(|e| (format!("first call: {e:?}"), None, false))?;
        match f().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let e = logmend::aws::AwsError::from_sdk("test", "", e);
                Err((e.code_or_kind(), status, e.is_transient()))
            }
        }
    }

    let rds = twice(|| c.rds.describe_db_instances().send()).await.err();
    assert_eq!(rds, Some(("Throttling".into(), Some(400), true)), "RDS's actions share the account's bucket");
    assert_eq!(code(c.rds.describe_db_clusters().send().await), "Throttling");
    let ec2 = twice(|| c.ec2.describe_vpcs().send()).await.err();
    assert_eq!(ec2, Some(("RequestLimitExceeded".into(), Some(503), true)));
    assert_eq!(code(c.ec2.describe_subnets().send().await), "<succeeded>", "each EC2 API has its own bucket");
    let tagging = twice(|| c.tagging.get_resources().send()).await.err();
    assert_eq!(tagging, Some(("ThrottledException".into(), Some(400), true)));
    let _ = std::fs::remove_file(table);
}
