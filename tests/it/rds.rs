//! `rds-cluster-audit-logs` and `rds-instance-log-exports` against the emulator (with its
//! default-parameter-group, ModifyDBCluster-exports and engine-versions patches).

use logmend::decision::{Mode, Verdict};
use logmend::{Config, Decision, Logmend};
use logmend_integration::{
    DB_PASSWORD, Emulator, config, create_aurora_cluster, create_cluster_parameter_group, create_db_instance,
    sample_event,
};

const LOGMEND_GROUP: &str = "logmend-aurora-mysql8-0-audit";

/// The fix of a MySQL or MariaDB instance on its default option and parameter groups.
const MYSQL_DEFAULT_GROUP_FIX: [&str; 5] = [
    "rds:CreateOptionGroup",
    "rds:ModifyOptionGroup",
    "rds:CopyDBParameterGroup",
    "rds:ModifyDBParameterGroup",
    "rds:ModifyDBInstance",
];

fn app(emulator: &Emulator, cfg: Config) -> Logmend {
    logmend::app(cfg, emulator.clients("us-east-1"))
}

async fn handle_all(app: &Logmend, event: &str) -> Vec<Decision> {
    app.handle_event(&sample_event(event)).await.unwrap().into_iter().map(|e| e.decision).collect()
}

async fn handle(app: &Logmend, event: &str) -> Decision {
    let mut out = handle_all(app, event).await;
    assert_eq!(out.len(), 1, "{out:?}");
    out.remove(0)
}

/// (exports, parameter group, members' parameter group status)
async fn cluster_state(emulator: &Emulator, id: &str) -> (Vec<String>, String, Vec<String>) {
    let out = emulator.clients("us-east-1").rds.describe_db_clusters().db_cluster_identifier(id).send().await.unwrap();
    let c = &out.db_clusters()[0];
    (
        c.enabled_cloudwatch_logs_exports().to_vec(),
        c.db_cluster_parameter_group().unwrap_or_default().to_owned(),
        c.db_cluster_members()
            .iter()
            .filter_map(|m| m.db_cluster_parameter_group_status().map(str::to_owned))
            .collect(),
    )
}

async fn audit_parameters(emulator: &Emulator, group: &str) -> (String, String) {
    let out = emulator
        .clients("us-east-1")
        .rds
        .describe_db_cluster_parameters()
        .db_cluster_parameter_group_name(group)
        .send()
        .await
        .unwrap();
    let get = |name: &str| {
        out.parameters()
            .iter()
            .find(|p| p.parameter_name() == Some(name))
            .and_then(|p| p.parameter_value())
            .unwrap_or_default()
            .to_owned()
    };
    (get("server_audit_logging"), get("server_audit_events"))
}

/// A custom aurora-mysql8.0 cluster parameter group with audit logging on.
async fn audit_ready_group(c: &logmend_integration::AwsClients, name: &str) {
    create_cluster_parameter_group(c, name, &[("server_audit_logging", "1"), ("server_audit_events", "CONNECT")]).await;
}

async fn instance_exports(emulator: &Emulator, id: &str) -> Vec<String> {
    let out =
        emulator.clients("us-east-1").rds.describe_db_instances().db_instance_identifier(id).send().await.unwrap();
    out.db_instances()[0].enabled_cloudwatch_logs_exports().to_vec()
}

#[tokio::test]
async fn aurora_mysql_on_the_default_group_gets_a_copied_group_and_is_pending_until_reboot() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_aurora_cluster(&c, "orders-aurora", "aurora-mysql", None, &["error"], true).await;
    emulator.recorder_reset();
    let app = app(&emulator, config(Mode::Remediate));

    let d = handle(&app, "rds/create-db-cluster-aurora-mysql.json").await;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert_eq!(d.resource, "arn:aws:rds:us-east-1:123456789012:cluster:orders-aurora");
    assert!(d.reason.contains("applies when the cluster's instances reboot (orders-aurora-1;"), "{}", d.reason);
    let changes: Vec<(&str, &str)> = d.changes.iter().map(|c| (c.api, c.detail.as_str())).collect();
    assert_eq!(
        changes,
        [
            ("rds:CopyDBClusterParameterGroup", "default.aurora-mysql8.0 -> logmend-aurora-mysql8-0-audit"),
            (
                "rds:ModifyDBClusterParameterGroup",
                "logmend-aurora-mysql8-0-audit: server_audit_logging=1 server_audit_events=CONNECT,QUERY_DCL,QUERY_DDL"
            ),
            (
                "rds:ModifyDBCluster",
                "orders-aurora CloudwatchLogsExportConfiguration.EnableLogTypes=audit DBClusterParameterGroupName=logmend-aurora-mysql8-0-audit"
            ),
        ]
    );
    let (exports, group, members) = cluster_state(&emulator, "orders-aurora").await;
    assert_eq!(exports, ["error", "audit"], "the export already there is kept");
    assert_eq!(group, LOGMEND_GROUP);
    assert_eq!(members, ["pending-reboot"]);
    assert_eq!(audit_parameters(&emulator, LOGMEND_GROUP).await, ("1".into(), "CONNECT,QUERY_DCL,QUERY_DDL".into()));
    assert_eq!(
        emulator.mutating_calls(),
        ["rds:CopyDBClusterParameterGroup", "rds:ModifyDBClusterParameterGroup", "rds:ModifyDBCluster"]
    );

    // logmend's own ModifyDBCluster comes back as an event: pending, no write.
    emulator.recorder_reset();
    let d = handle(&app, "rds/modify-db-cluster.json").await;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert!(d.reason.contains("orders-aurora-1"), "names the instance to reboot: {}", d.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());

    // Someone reboots the instance; the next look finds the cluster compliant.
    c.rds.reboot_db_instance().db_instance_identifier("orders-aurora-1").send().await.unwrap();
    let d = handle(&app, "rds/modify-db-cluster.json").await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
}

#[tokio::test]
async fn a_second_cluster_on_the_default_group_reuses_logmends_copy() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_aurora_cluster(&c, "billing-aurora", "aurora-mysql", None, &[], false).await;
    create_aurora_cluster(&c, "orders-aurora", "aurora-mysql", None, &[], false).await;
    let app = app(&emulator, config(Mode::Remediate));
    let first = app.handle_event(&logmend_integration::sample_event("rds/create-db-cluster-aurora-mysql.json")).await;
    assert_eq!(first.unwrap()[0].decision.verdict, Verdict::Fixed, "no instance waits for a reboot");
    emulator.recorder_reset();
    let mut event = sample_event("rds/create-db-cluster-aurora-mysql.json");
    event["detail"]["responseElements"]["dBClusterIdentifier"] = "billing-aurora".into();
    let d = app.handle_event(&event).await.unwrap().remove(0).decision;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(emulator.mutating_calls(), ["rds:ModifyDBCluster"], "the copy is made once");
    assert_eq!(cluster_state(&emulator, "billing-aurora").await.1, LOGMEND_GROUP);
}

#[tokio::test]
async fn aurora_mysql_on_a_custom_group_gets_the_parameters_and_the_export_fixed() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_cluster_parameter_group(&c, "app-aurora-mysql8", &[("server_audit_events", "QUERY_DML")]).await;
    create_aurora_cluster(&c, "orders-aurora", "aurora-mysql", Some("app-aurora-mysql8"), &[], true).await;
    emulator.recorder_reset();
    let d = handle(&app(&emulator, config(Mode::Remediate)), "rds/modify-db-cluster.json").await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.reason, "`audit` exported; audit parameters set in app-aurora-mysql8");
    assert_eq!(emulator.mutating_calls(), ["rds:ModifyDBClusterParameterGroup", "rds:ModifyDBCluster"]);
    assert_eq!(
        audit_parameters(&emulator, "app-aurora-mysql8").await,
        ("1".into(), "QUERY_DML".into()),
        "the account's own event list is kept"
    );
    let (exports, group, members) = cluster_state(&emulator, "orders-aurora").await;
    assert_eq!(
        (exports, group, members),
        (vec!["audit".to_owned()], "app-aurora-mysql8".to_owned(), vec!["in-sync".to_owned()])
    );
}

#[tokio::test]
async fn a_compliant_cluster_and_a_second_run_make_no_write() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    audit_ready_group(&c, "app-aurora-mysql8").await;
    create_aurora_cluster(&c, "orders-aurora", "aurora-mysql", Some("app-aurora-mysql8"), &["audit"], true).await;
    emulator.recorder_reset();
    let app = app(&emulator, config(Mode::Remediate));
    let d = handle(&app, "rds/modify-db-cluster.json").await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(emulator.recorded_calls(), ["rds:DescribeDBClusters", "rds:DescribeDBClusterParameters"]);
    let d = handle(&app, "rds/restore-db-cluster-from-snapshot.json").await;
    assert_eq!(d.verdict, Verdict::Compliant);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn audit_mode_writes_nothing_and_lists_every_planned_change() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_aurora_cluster(&c, "orders-aurora", "aurora-mysql", None, &[], true).await;
    create_db_instance(&c, "shop-mysql", "mysql", "8.0.39", &[]).await;
    emulator.recorder_reset();
    let app = app(&emulator, config(Mode::Audit));
    let d = handle(&app, "rds/create-db-cluster-aurora-mysql.json").await;
    assert_eq!(d.verdict, Verdict::Noncompliant);
    assert_eq!(d.changes.len(), 3, "{:?}", d.changes);
    assert!(
        d.reason.contains("`audit` log is not exported") && d.reason.contains("server_audit_logging=0"),
        "{}",
        d.reason
    );
    let d = handle(&app, "rds/create-db-instance-mysql.json").await;
    assert_eq!(d.verdict, Verdict::Noncompliant);
    let apis: Vec<&str> = d.changes.iter().map(|c| c.api).collect();
    assert_eq!(apis, MYSQL_DEFAULT_GROUP_FIX);
    assert_eq!(
        d.changes[4].detail,
        "shop-mysql CloudwatchLogsExportConfiguration.EnableLogTypes=audit,error,general,slowquery \
         OptionGroupName=logmend-mysql-8-0-audit DBParameterGroupName=logmend-mysql8-0-logs ApplyImmediately=true"
    );
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    assert_eq!(cluster_state(&emulator, "orders-aurora").await.1, "default.aurora-mysql8.0");
}

#[tokio::test]
async fn aurora_postgresql_gets_the_postgresql_export_only() {
    let emulator = Emulator::start();
    create_aurora_cluster(&emulator.clients("us-east-1"), "ledger-pg", "aurora-postgresql", None, &[], true).await;
    emulator.recorder_reset();
    let d = handle(&app(&emulator, config(Mode::Remediate)), "rds/create-db-cluster-aurora-postgresql.json").await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(emulator.mutating_calls(), ["rds:ModifyDBCluster"]);
    assert_eq!(cluster_state(&emulator, "ledger-pg").await.0, ["postgresql"]);
}

#[tokio::test]
async fn a_parameter_group_change_rechecks_every_cluster_that_uses_it() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    audit_ready_group(&c, "app-aurora-mysql8").await;
    create_aurora_cluster(&c, "orders-aurora", "aurora-mysql", Some("app-aurora-mysql8"), &["audit"], false).await;
    create_aurora_cluster(&c, "billing-aurora", "aurora-mysql", Some("app-aurora-mysql8"), &["audit"], false).await;
    create_aurora_cluster(&c, "other-aurora", "aurora-mysql", None, &[], false).await;
    // Someone switches audit logging off in the shared group.
    c.rds
        .modify_db_cluster_parameter_group()
        .db_cluster_parameter_group_name("app-aurora-mysql8")
        .parameters(
            aws_sdk_rds::types::Parameter::builder()
                .parameter_name("server_audit_logging")
                .parameter_value("0")
                .apply_method(aws_sdk_rds::types::ApplyMethod::Immediate)
                .build(),
        )
        .send()
        .await
        .unwrap();
    emulator.recorder_reset();
    let decisions =
        handle_all(&app(&emulator, config(Mode::Remediate)), "rds/modify-db-cluster-parameter-group.json").await;
    let mut resources: Vec<&str> = decisions.iter().map(|d| d.resource.as_str()).collect();
    resources.sort();
    assert_eq!(
        resources,
        [
            "arn:aws:rds:us-east-1:123456789012:cluster:billing-aurora",
            "arn:aws:rds:us-east-1:123456789012:cluster:orders-aurora"
        ],
        "every cluster on the group, and only those"
    );
    let mut verdicts: Vec<Verdict> = decisions.iter().map(|d| d.verdict).collect();
    verdicts.sort();
    assert_eq!(
        verdicts,
        [Verdict::Compliant, Verdict::Fixed],
        "the first fix sets the shared group; the second finds it right"
    );
    assert_eq!(audit_parameters(&emulator, "app-aurora-mysql8").await.0, "1");
    assert_eq!(emulator.mutating_calls(), ["rds:ModifyDBClusterParameterGroup"]);
}

#[tokio::test]
async fn mysql_and_postgresql_instances_get_their_engines_log_types() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_db_instance(&c, "reports-pg", "postgres", "16.4", &[]).await;
    emulator.recorder_reset();
    let app = app(&emulator, config(Mode::Remediate));
    let d = handle(&app, "rds/create-db-instance-postgres.json").await;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(d.reason, "postgresql, upgrade exported to CloudWatch Logs");
    assert_eq!(instance_exports(&emulator, "reports-pg").await, ["postgresql", "upgrade"]);
    assert_eq!(emulator.mutating_calls(), ["rds:ModifyDBInstance"], "one write, none for the engine version lookup");

    emulator.recorder_reset();
    let mut event = sample_event("rds/modify-db-instance.json");
    event["detail"]["requestParameters"]["dBInstanceIdentifier"] = "reports-pg".into();
    event["detail"]["responseElements"]["dBInstanceIdentifier"] = "reports-pg".into();
    let d = app.handle_event(&event).await.unwrap().remove(0).decision;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(
        emulator.recorded_calls(),
        ["rds:DescribeDBInstances"],
        "a compliant PostgreSQL instance costs one read"
    );
}

#[tokio::test]
async fn log_types_an_engine_version_does_not_offer_are_left_out() {
    let emulator = Emulator::start();
    create_db_instance(&emulator.clients("us-east-1"), "ops-sql", "sqlserver-ex", "15.00.4415.2.v1", &[]).await;
    let mut event = sample_event("rds/create-db-instance-postgres.json");
    event["detail"]["responseElements"]["dBInstanceIdentifier"] = "ops-sql".into();
    let app = app(&emulator, config(Mode::Remediate));
    let d = app.handle_event(&event).await.unwrap().remove(0).decision;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    assert_eq!(instance_exports(&emulator, "ops-sql").await, ["error"]);
    let again = app.handle_event(&event).await.unwrap().remove(0).decision;
    assert_eq!(again.verdict, Verdict::Compliant);
    assert!(again.reason.contains("agent not offered by sqlserver-ex"), "{}", again.reason);
}

#[tokio::test]
async fn an_aurora_member_instance_and_a_failed_call_are_skipped() {
    let emulator = Emulator::start();
    create_aurora_cluster(&emulator.clients("us-east-1"), "orders-aurora", "aurora-mysql", None, &[], true).await;
    let mut event = sample_event("rds/create-db-instance-aurora-member.json");
    event["detail"]["responseElements"]["dBInstanceIdentifier"] = "orders-aurora-1".into();
    emulator.recorder_reset();
    let app = app(&emulator, config(Mode::Remediate));
    let d = app.handle_event(&event).await.unwrap().remove(0).decision;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert!(d.reason.contains("member of cluster orders-aurora"), "{}", d.reason);
    let d = handle(&app, "rds/create-db-cluster-failed.json").await;
    assert_eq!(d.verdict, Verdict::Skipped);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn master_user_passwords_appear_nowhere_in_the_output() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_aurora_cluster(&c, "orders-aurora", "aurora-mysql", None, &[], false).await;
    create_db_instance(&c, "shop-mysql", "mysql", "8.0.39", &[]).await;
    for (file, sample_secret) in [
        ("rds/create-db-cluster-aurora-mysql.json", "Example-Unmasked-Master-Passw0rd-4410"),
        ("rds/create-db-instance-mysql.json", "Example-Unmasked-Instance-Passw0rd-9902"),
    ] {
        let mut ours = sample_event(file);
        ours["detail"]["requestParameters"]["masterUserPassword"] = DB_PASSWORD.into();
        for (event, secret) in [(sample_event(file), sample_secret), (ours, DB_PASSWORD)] {
            for mode in [Mode::Audit, Mode::Remediate] {
                let out = app(&emulator, config(mode)).handle_event(&event).await.unwrap();
                let json = serde_json::to_string(&out.iter().map(|e| &e.decision).collect::<Vec<_>>()).unwrap();
                let printed = format!("{out:?} {json}");
                assert!(!printed.contains(secret), "{file}: {printed}");
            }
        }
    }
}

// ---- MySQL and MariaDB: the export, the audit plugin and the log parameters ----

/// The event of `rds/<file>` naming instance `id`.
fn instance_event(file: &str, id: &str) -> serde_json::Value {
    let mut event = sample_event(file);
    event["detail"]["requestParameters"]["dBInstanceIdentifier"] = id.into();
    if event["detail"]["responseElements"].is_object() {
        event["detail"]["responseElements"]["dBInstanceIdentifier"] = id.into();
    }
    event
}

async fn one_instance(app: &Logmend, file: &str, id: &str) -> Decision {
    let mut out = app.handle_event(&instance_event(file, id)).await.unwrap();
    assert_eq!(out.len(), 1, "{out:?}");
    out.remove(0).decision
}

/// (option group and its status, whether it has the plugin, parameter group and its status)
async fn instance_groups(emulator: &Emulator, id: &str) -> (String, String, bool, String, String) {
    let c = emulator.clients("us-east-1");
    let out = c.rds.describe_db_instances().db_instance_identifier(id).send().await.unwrap();
    let db = &out.db_instances()[0];
    let og = &db.option_group_memberships()[0];
    let og_name = og.option_group_name().unwrap().to_owned();
    let pg = &db.db_parameter_groups()[0];
    let groups = c.rds.describe_option_groups().option_group_name(&og_name).send().await.unwrap();
    let plugin =
        groups.option_groups_list()[0].options().iter().any(|o| o.option_name() == Some("MARIADB_AUDIT_PLUGIN"));
    (
        og_name,
        og.status().unwrap_or_default().to_owned(),
        plugin,
        pg.db_parameter_group_name().unwrap().to_owned(),
        pg.parameter_apply_status().unwrap_or_default().to_owned(),
    )
}

/// The log parameters set in a DB parameter group, as `name=value`, sorted.
async fn log_parameters(emulator: &Emulator, group: &str) -> Vec<String> {
    let c = emulator.clients("us-east-1");
    let out = c.rds.describe_db_parameters().db_parameter_group_name(group).send().await.unwrap();
    let mut set: Vec<String> = out
        .parameters()
        .iter()
        .filter(|p| matches!(p.parameter_name(), Some("general_log" | "slow_query_log" | "log_output")))
        .map(|p| format!("{}={}", p.parameter_name().unwrap(), p.parameter_value().unwrap_or_default()))
        .collect();
    set.sort();
    set
}

const LOG_PARAMETERS_SET: [&str; 3] = ["general_log=1", "log_output=FILE", "slow_query_log=1"];

/// MySQL or MariaDB on its defaults: logmend's groups made, set and attached, the exports on;
/// pending until the reboot, then compliant; no second write anywhere.
async fn default_groups_path(engine: &str, version: &str, option_group: &str, parameter_group: &str) {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let id = format!("shop-{engine}");
    create_db_instance(&c, &id, engine, version, &["error"]).await;
    let app = app(&emulator, config(Mode::Remediate));

    emulator.recorder_reset();
    let d = one_instance(&app, "rds/create-db-instance-mysql.json", &id).await;
    emulator.assert_calls_declared("rds-instance-log-exports");
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    let apis: Vec<&str> = d.changes.iter().map(|c| c.api).collect();
    assert_eq!(apis, MYSQL_DEFAULT_GROUP_FIX);
    assert!(d.reason.contains(&format!("{parameter_group} applies when {id} reboots")), "{}", d.reason);
    let mut exports = instance_exports(&emulator, &id).await;
    exports.sort();
    assert_eq!(exports, ["audit", "error", "general", "slowquery"]);
    let (og, og_status, plugin, pg, pg_status) = instance_groups(&emulator, &id).await;
    assert_eq!(
        (og.as_str(), og_status.as_str(), plugin),
        (option_group, "in-sync", true),
        "the plugin needs no reboot"
    );
    assert_eq!((pg.as_str(), pg_status.as_str()), (parameter_group, "pending-reboot"));
    assert_eq!(log_parameters(&emulator, parameter_group).await, LOG_PARAMETERS_SET);

    // logmend's own ModifyDBInstance comes back: pending, no write.
    emulator.recorder_reset();
    let d = one_instance(&app, "rds/modify-db-instance.json", &id).await;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    // After the reboot the logs arrive: compliant, in three reads.
    c.rds.reboot_db_instance().db_instance_identifier(&id).send().await.unwrap();
    emulator.recorder_reset();
    let d = one_instance(&app, "rds/modify-db-instance.json", &id).await;
    assert_eq!(d.verdict, Verdict::Compliant, "{d:?}");
    assert_eq!(
        emulator.recorded_calls(),
        ["rds:DescribeDBInstances", "rds:DescribeOptionGroups", "rds:DescribeDBParameters"]
    );
}

#[tokio::test]
async fn mysql_on_the_default_groups_gets_the_audit_plugin_the_log_parameters_and_the_exports() {
    default_groups_path("mysql", "8.0.39", "logmend-mysql-8-0-audit", "logmend-mysql8-0-logs").await;
}

#[tokio::test]
async fn mariadb_on_the_default_groups_gets_the_same() {
    default_groups_path("mariadb", "10.6.16", "logmend-mariadb-10-6-audit", "logmend-mariadb10-6-logs").await;
}

/// A custom option group and DB parameter group of MySQL 8.0.
async fn custom_groups(c: &logmend_integration::AwsClients, options: &str, parameters: &str) {
    c.rds
        .create_option_group()
        .option_group_name(options)
        .engine_name("mysql")
        .major_engine_version("8.0")
        .option_group_description("the application's own")
        .send()
        .await
        .unwrap();
    c.rds
        .create_db_parameter_group()
        .db_parameter_group_name(parameters)
        .db_parameter_group_family("mysql8.0")
        .description("the application's own")
        .send()
        .await
        .unwrap();
}

async fn instance_on(c: &logmend_integration::AwsClients, id: &str, options: &str, parameters: &str, exempt: bool) {
    let mut create = c
        .rds
        .create_db_instance()
        .db_instance_identifier(id)
        .engine("mysql")
        .engine_version("8.0.39")
        .db_instance_class("db.t3.medium")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password(DB_PASSWORD)
        .option_group_name(options)
        .db_parameter_group_name(parameters);
    if exempt {
        create = create.tags(aws_sdk_rds::types::Tag::builder().key("logmend:exempt").value("true").build());
    }
    create.send().await.unwrap();
}

#[tokio::test]
async fn custom_option_and_parameter_groups_are_set_in_place_and_fixed_at_once() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    custom_groups(&c, "shop-options", "shop-params").await;
    instance_on(&c, "shop-mysql", "shop-options", "shop-params", false).await;
    let app = app(&emulator, config(Mode::Remediate));
    let d = one_instance(&app, "rds/create-db-instance-mysql.json", "shop-mysql").await;
    assert_eq!(d.verdict, Verdict::Fixed, "dynamic parameters and the plugin apply at once: {d:?}");
    let apis: Vec<&str> = d.changes.iter().map(|c| c.api).collect();
    assert_eq!(apis, ["rds:ModifyOptionGroup", "rds:ModifyDBParameterGroup", "rds:ModifyDBInstance"]);
    let (og, _, plugin, pg, pg_status) = instance_groups(&emulator, "shop-mysql").await;
    assert_eq!(
        (og.as_str(), plugin, pg.as_str(), pg_status.as_str()),
        ("shop-options", true, "shop-params", "in-sync")
    );
    assert_eq!(log_parameters(&emulator, "shop-params").await, LOG_PARAMETERS_SET);
    emulator.recorder_reset();
    assert_eq!(one_instance(&app, "rds/modify-db-instance.json", "shop-mysql").await.verdict, Verdict::Compliant);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn an_exempt_instance_sharing_groups_is_never_changed_through_them() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    custom_groups(&c, "shared-options", "shared-params").await;
    instance_on(&c, "legacy-mysql", "shared-options", "shared-params", true).await;
    instance_on(&c, "shop-mysql", "shared-options", "shared-params", false).await;
    let app = app(&emulator, config(Mode::Remediate));
    emulator.recorder_reset();
    let report = app.sweep(&["rds-instance-log-exports"], 4, None, |_| {}).await;
    emulator.assert_calls_declared("rds-instance-log-exports");
    let by_id = |id: &str| report.evaluations.iter().find(|e| e.decision.resource.ends_with(id)).unwrap();
    assert_eq!(by_id("legacy-mysql").decision.verdict, Verdict::Skipped);
    let d = &by_id("shop-mysql").decision;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert!(d.reason.contains("logmend-shared-params-logs applies when shop-mysql reboots"), "{}", d.reason);
    for group in ["shared-options", "shared-params"] {
        let said = format!("{group} is left as it is: exempt instance legacy-mysql shares it");
        assert!(d.reason.contains(&said), "{}", d.reason);
    }
    // The shared groups are as they were; the non-exempt instance has logmend's copies.
    let shared = c.rds.describe_option_groups().option_group_name("shared-options").send().await.unwrap();
    assert!(shared.option_groups_list()[0].options().is_empty(), "the shared option group is unchanged");
    assert_eq!(log_parameters(&emulator, "shared-params").await, Vec::<String>::new());
    let (og, _, plugin, pg, _) = instance_groups(&emulator, "shop-mysql").await;
    assert_eq!(
        (og.as_str(), plugin, pg.as_str()),
        ("logmend-shared-options-audit", true, "logmend-shared-params-logs")
    );
    let (og, _, plugin, pg, _) = instance_groups(&emulator, "legacy-mysql").await;
    assert_eq!((og.as_str(), plugin, pg.as_str()), ("shared-options", false, "shared-params"));
    // A second sweep writes nothing.
    emulator.recorder_reset();
    app.sweep(&["rds-instance-log-exports"], 4, None, |_| {}).await;
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn an_exempt_cluster_sharing_a_parameter_group_keeps_it_unchanged_when_the_sweep_fixes_the_other() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    create_cluster_parameter_group(&c, "shared-aurora", &[]).await;
    create_aurora_cluster(&c, "orders-aurora", "aurora-mysql", Some("shared-aurora"), &["audit"], true).await;
    create_aurora_cluster(&c, "legacy-aurora", "aurora-mysql", Some("shared-aurora"), &["audit"], true).await;
    let tag = aws_sdk_rds::types::Tag::builder().key("logmend:exempt").value("true").build();
    let arn = format!("arn:aws:rds:us-east-1:{}:cluster:legacy-aurora", logmend_integration::ACCOUNT);
    c.rds.add_tags_to_resource().resource_name(arn).tags(tag).send().await.unwrap();
    let app = app(&emulator, config(Mode::Remediate));
    emulator.recorder_reset();
    let report = app.sweep(&["rds-cluster-audit-logs"], 4, None, |_| {}).await;
    emulator.assert_calls_declared("rds-cluster-audit-logs");
    let by_id = |id: &str| report.evaluations.iter().find(|e| e.decision.resource.ends_with(id)).unwrap();
    assert_eq!(by_id("legacy-aurora").decision.verdict, Verdict::Skipped);
    let d = &by_id("orders-aurora").decision;
    assert_eq!(d.verdict, Verdict::Pending, "{d:?}");
    assert!(
        d.reason.contains("shared-aurora is left as it is: exempt cluster legacy-aurora shares it"),
        "{}",
        d.reason
    );
    // The shared group is unchanged; the fixed cluster is on logmend's copy of it.
    assert_eq!(audit_parameters(&emulator, "shared-aurora").await, ("".to_owned(), "".to_owned()));
    assert_eq!(cluster_state(&emulator, "orders-aurora").await.1, "logmend-shared-aurora-audit");
    assert_eq!(cluster_state(&emulator, "legacy-aurora").await.1, "shared-aurora");
    assert_eq!(audit_parameters(&emulator, "logmend-shared-aurora-audit").await.0, "1");
    emulator.recorder_reset();
    app.sweep(&["rds-cluster-audit-logs"], 4, None, |_| {}).await;
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new(), "a second sweep writes nothing");
}
