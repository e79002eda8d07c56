//! Cluster and instance states the emulator never shows (its databases are `available` at
//! once), through `aws-smithy-mocks` rules on the real SDK clients.

use aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput;
use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
use aws_sdk_rds::types::{DbCluster, DbInstance};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use logmend::Logmend;
use logmend::decision::{Mode, Verdict};
use logmend_integration::AwsClients;
use logmend_integration::{config, offline_clients, sample_event};

fn with_rds(rds: aws_sdk_rds::Client) -> Logmend {
    logmend::app(config(Mode::Remediate), AwsClients { rds, ..offline_clients() })
}

fn cluster(status: &str) -> DbCluster {
    cluster_of("aurora-mysql", status)
}

fn cluster_of(engine: &str, status: &str) -> DbCluster {
    DbCluster::builder()
        .db_cluster_identifier("orders-aurora")
        .db_cluster_arn("arn:aws:rds:us-east-1:123456789012:cluster:orders-aurora")
        .engine(engine)
        .status(status)
        .db_cluster_parameter_group("default.aurora-mysql8.0")
        .build()
}

#[tokio::test]
async fn mocked_clusters_being_created_or_modified_are_deferred_stopped_ones_skipped() {
    for (status, verdict) in [
        ("creating", Verdict::Deferred),
        ("modifying", Verdict::Deferred),
        ("backing-up", Verdict::Deferred),
        ("stopped", Verdict::Skipped),
        ("deleting", Verdict::Skipped),
    ] {
        let s = status.to_owned();
        let describe = mock!(aws_sdk_rds::Client::describe_db_clusters)
            .then_output(move || DescribeDbClustersOutput::builder().db_clusters(cluster(&s)).build());
        let modify = mock!(aws_sdk_rds::Client::modify_db_cluster)
            .then_output(|| aws_sdk_rds::operation::modify_db_cluster::ModifyDbClusterOutput::builder().build());
        let app = with_rds(mock_client!(aws_sdk_rds, RuleMode::MatchAny, [&describe, &modify]));
        let out = app.handle_event(&sample_event("rds/create-db-cluster-aurora-mysql.json")).await.unwrap();
        let d = &out[0].decision;
        assert_eq!(d.verdict, verdict, "{status}: {d:?}");
        assert!(d.reason.contains(status), "{}", d.reason);
        assert!(!out[0].retry);
        assert_eq!(modify.num_calls(), 0, "{status}");
    }
}

#[tokio::test]
async fn mocked_instance_being_created_is_deferred_with_its_status() {
    let describe = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
        DescribeDbInstancesOutput::builder()
            .db_instances(
                DbInstance::builder()
                    .db_instance_identifier("shop-mysql")
                    .db_instance_arn("arn:aws:rds:us-east-1:123456789012:db:shop-mysql")
                    .engine("mysql")
                    .db_instance_status("creating")
                    .build(),
            )
            .build()
    });
    let app = with_rds(mock_client!(aws_sdk_rds, RuleMode::MatchAny, [&describe]));
    let out = app.handle_event(&sample_event("rds/create-db-instance-mysql.json")).await.unwrap();
    let d = &out[0].decision;
    assert_eq!(d.verdict, Verdict::Deferred, "{d:?}");
    assert_eq!(d.reason, "instance is creating; checked again when it is available");
}

#[tokio::test]
async fn mocked_cluster_modified_by_someone_else_meanwhile_fails_retryably_with_the_code() {
    let describe = mock!(aws_sdk_rds::Client::describe_db_clusters).then_output(|| {
        DescribeDbClustersOutput::builder().db_clusters(cluster_of("aurora-postgresql", "available")).build()
    });
    let modify = mock!(aws_sdk_rds::Client::modify_db_cluster).then_error(|| {
        aws_sdk_rds::operation::modify_db_cluster::ModifyDBClusterError::InvalidDbClusterStateFault(
            aws_sdk_rds::types::error::InvalidDbClusterStateFault::builder()
                .meta(
                    aws_smithy_types::error::ErrorMetadata::builder()
                        .code("InvalidDBClusterStateFault")
                        .message("DB cluster is not available for modification with status modifying")
                        .build(),
                )
                .build(),
        )
    });
    let app = with_rds(mock_client!(aws_sdk_rds, RuleMode::MatchAny, [&describe, &modify]));
    let out = app.handle_event(&sample_event("rds/create-db-cluster-aurora-postgresql.json")).await.unwrap();
    let d = &out[0].decision;
    assert_eq!(d.verdict, Verdict::Failed, "{d:?}");
    assert_eq!(d.error_code.as_deref(), Some("InvalidDBClusterStateFault"));
    assert!(d.reason.contains("rds:ModifyDBCluster on ledger-pg"), "{}", d.reason);
    assert!(out[0].retry, "the cluster is busy with another change: a later try succeeds");
}
