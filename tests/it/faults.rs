//! Faults injected by the emulator (its fault rules answer in each service's own protocol, or
//! reset the connection, or stall it) on every read and write of every control. Expected:
//! transient faults are retried by the SDK and the fix completes; persistent ones end in a
//! `failed` decision naming the call, the resource and the AWS error code, marked for another
//! try exactly when a retry can help; never a panic, never a half-applied fix called fixed.

use aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum;
use logmend::decision::{Mode, Verdict};
use logmend::{Decision, Logmend};
use logmend_integration::{
    Emulator, EmulatorOptions, broker_event, config_for, create_aurora_cluster, create_broker, create_db_instance,
    create_load_balancer, create_trail, create_vpc, create_web_acl, delete_bucket_and_contents,
    delete_logmend_aurora_group, delete_logmend_instance_groups, sample_event,
};
use serde_json::{Value, json};
use std::time::Duration;

/// The faults, whether a retry can help, and whether the SDK's own retries get past one.
const FAULTS: [(&str, bool, bool); 8] = [
    ("throttle", true, true),
    ("http-429", true, false),
    ("http-500", true, true),
    ("http-503", true, true),
    ("reset", true, true),
    ("timeout", true, true),
    ("not-found", false, false),
    ("access-denied", false, false),
];

/// Each resource is fresh for each fault: `setup(n)` makes the n-th and returns its event.
struct Scenario<'a> {
    control: &'static str,
    emulator: &'a Emulator,
    /// The calls to break, each with the verdict the control gives when nothing breaks.
    calls: &'static [&'static str],
    healthy: &'static [Verdict],
    /// Settings beyond the control's own default ones.
    configure: fn(&mut logmend::Config),
}

async fn run_case(app: &Logmend, event: &Value) -> (Decision, bool) {
    let mut out = app.handle_event(event).await.expect("a fault is a decision, not a handler error");
    assert_eq!(out.len(), 1, "{out:?}");
    let e = out.remove(0);
    (e.decision, e.retry)
}

impl Scenario<'_> {
    /// Every fault, persistent then once, on every call; returns how many cases ran.
    async fn run<F: AsyncFnMut(usize) -> Value>(&self, mut setup: F) -> usize {
        let mut config = config_for(Mode::Remediate, &[self.control]);
        (self.configure)(&mut config);
        let app = logmend::app(config, self.emulator.clients_with_timeout("us-east-1", Duration::from_millis(1500)));
        let mut cases = 0;
        let mut n = 0;
        for call in self.calls {
            for (fault, transient, sdk_recovers) in FAULTS {
                for persistent in [true, false] {
                    if !persistent && !transient {
                        continue; // a denial or a deletion does not go away once
                    }
                    n += 1;
                    let event = setup(n).await;
                    let times = if persistent { -1 } else { 1 };
                    self.emulator.inject(json!([{ "action": call, "fault": fault, "times": times, "seconds": 3 }]));
                    let (d, retry) = run_case(&app, &event).await;
                    let fired = self.emulator.fault_rules()[0]["fired"].as_u64().unwrap_or(0);
                    self.emulator.inject(json!([]));
                    if fault == "timeout" {
                        self.emulator.settle();
                    }
                    let case =
                        format!("{} / {call} / {fault} / {}", self.control, if persistent { "always" } else { "once" });
                    assert!(fired > 0, "{case}: the fault never fired ({d:?})");
                    if fault == "not-found" && matches!(d.verdict, Verdict::Skipped | Verdict::Deferred) {
                        // The resource's own read says it is gone: nothing to fix now (skipped), or
                        // wait for the control that recreates it (deferred, re-checked from the queue).
                        assert!(d.reason.contains("no longer exists") && !retry, "{case}: {d:?}");
                    } else if persistent || !sdk_recovers {
                        assert_eq!(d.verdict, Verdict::Failed, "{case}: {d:?}");
                        assert_eq!(retry, transient, "{case}: retry {retry}: {d:?}");
                        let code = d.error_code.as_deref().unwrap_or_default();
                        assert!(!code.is_empty(), "{case}: no error code: {d:?}");
                        // Errors name IAM's action; CloudWatch signs (and is recorded) as `monitoring`.
                        let action = call.replacen("monitoring:", "cloudwatch:", 1);
                        assert!(d.reason.contains(&action), "{case}: the reason does not name {action}: {}", d.reason);
                        let named = d.reason.contains(code) || code.starts_with("HTTP") || code == "TransportError";
                        assert!(named, "{case}: the reason does not carry the code {code}: {}", d.reason);
                    } else {
                        assert!(
                            self.healthy.contains(&d.verdict),
                            "{case}: the SDK's retry should get past one fault: {d:?}"
                        );
                    }
                    cases += 1;
                }
            }
        }
        cases
    }
}

fn report(control: &str, cases: usize) {
    eprintln!("faults: {control}: {cases} cases");
}

#[tokio::test]
async fn faults_on_log_group_retention() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let scenario = Scenario {
        control: "log-group-retention",
        emulator: &emulator,
        configure: |_| {},
        calls: &["logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:PutRetentionPolicy"],
        healthy: &[Verdict::Fixed],
    };
    let cases = scenario
        .run(async |n| {
            let name = format!("/app/faults-{n}");
            c.logs.create_log_group().log_group_name(&name).send().await.unwrap();
            let mut e = sample_event("logs/create-log-group.json");
            e["detail"]["requestParameters"]["logGroupName"] = name.into();
            e
        })
        .await;
    report(scenario.control, cases);
}

#[tokio::test]
async fn faults_on_cloudtrail_cloudwatch_logs() {
    let emulator = Emulator::start_with(EmulatorOptions::default());
    let c = emulator.clients("us-east-1");
    let scenario = Scenario {
        control: "cloudtrail-cloudwatch-logs",
        emulator: &emulator,
        configure: |_| {},
        calls: &[
            "cloudtrail:GetTrail",
            "logs:CreateLogGroup",
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "cloudtrail:UpdateTrail",
        ],
        healthy: &[Verdict::Fixed],
    };
    let cases = scenario.run(async |n| new_trail_event(&emulator, &c, &format!("faults-{n}")).await).await;
    report(scenario.control, cases);
}

/// A new single-region trail without delivery, and the CreateTrail event that names it.
async fn new_trail_event(emulator: &Emulator, c: &logmend_integration::AwsClients, name: &str) -> Value {
    let arn = create_trail(emulator, c, name, false).await;
    let mut e = sample_event("cloudtrail/create-trail.json");
    e["detail"]["responseElements"]["trailARN"] = arn.into();
    e
}

/// The delivery-health path: a DeleteRole event for a trail whose role logmend made is gone.
#[tokio::test]
async fn faults_on_cloudtrail_delivery_repair() {
    let emulator = Emulator::start_with(EmulatorOptions::default());
    let c = emulator.clients("us-east-1");
    let fixer =
        logmend::app(config_for(Mode::Remediate, &["cloudtrail-cloudwatch-logs"]), emulator.clients("us-east-1"));
    let scenario = Scenario {
        control: "cloudtrail-cloudwatch-logs",
        emulator: &emulator,
        configure: |_| {},
        calls: &[
            "cloudtrail:DescribeTrails",
            "cloudtrail:GetTrailStatus",
            // GetRole's not-found is the finding itself (the role is gone), not a fault.
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "cloudtrail:UpdateTrail",
        ],
        healthy: &[Verdict::Fixed],
    };
    let cases = scenario
        .run(async |n| {
            let name = format!("repair-{n}");
            let created = new_trail_event(&emulator, &c, &name).await;
            let fixed = fixer.handle_event(&created).await.unwrap();
            assert_eq!(fixed[0].decision.verdict, Verdict::Fixed, "{:?}", fixed[0].decision);
            let role = format!("LogmendTrail-us-east-1-{name}");
            c.iam
                .delete_role_policy()
                .role_name(&role)
                .policy_name("logmend-cloudtrail-delivery")
                .send()
                .await
                .unwrap();
            c.iam.delete_role().role_name(&role).send().await.unwrap();
            let mut e = sample_event("iam/delete-role.json");
            e["detail"]["requestParameters"]["roleName"] = role.into();
            e
        })
        .await;
    report("cloudtrail-cloudwatch-logs (delivery repair)", cases);
}

#[tokio::test]
async fn faults_on_mq_broker_logs() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let scenario = Scenario {
        control: "mq-broker-logs",
        emulator: &emulator,
        configure: |_| {},
        calls: &["mq:DescribeBroker", "logs:DescribeResourcePolicies", "logs:PutResourcePolicy", "mq:UpdateBroker"],
        healthy: &[Verdict::Pending],
    };
    let cases = scenario
        .run(async |n| {
            // The resource policy is account-wide: remove it so each case needs it again.
            let _ = c.logs.delete_resource_policy().policy_name("logmend-log-delivery").send().await;
            let id = create_broker(&c, &format!("faults-{n}"), "ACTIVEMQ", false, false).await;
            broker_event("mq/create-broker-activemq.json", &id)
        })
        .await;
    report(scenario.control, cases);
}

#[tokio::test]
async fn faults_on_rds_cluster_audit_logs() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let scenario = Scenario {
        control: "rds-cluster-audit-logs",
        emulator: &emulator,
        configure: |_| {},
        calls: &[
            "rds:DescribeDBClusters",
            "rds:DescribeDBClusterParameters",
            "rds:CopyDBClusterParameterGroup",
            "rds:ModifyDBClusterParameterGroup",
            "rds:ModifyDBCluster",
        ],
        healthy: &[Verdict::Pending],
    };
    let cases = scenario
        .run(async |n| {
            // logmend's copy of the default group is per account: remove it so each case copies.
            delete_logmend_aurora_group(&c).await;
            let id = format!("faults-{n}");
            create_aurora_cluster(&c, &id, "aurora-mysql", None, &[], true).await;
            let mut e = sample_event("rds/create-db-cluster-aurora-mysql.json");
            e["detail"]["responseElements"]["dBClusterIdentifier"] = id.into();
            e
        })
        .await;
    report(scenario.control, cases);
}

#[tokio::test]
async fn faults_on_rds_instance_log_exports() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let scenario = Scenario {
        control: "rds-instance-log-exports",
        emulator: &emulator,
        configure: |_| {},
        calls: &[
            "rds:DescribeDBInstances",
            "rds:DescribeDBEngineVersions",
            "rds:DescribeOptionGroups",
            "rds:DescribeDBParameters",
            "rds:CreateOptionGroup",
            "rds:ModifyOptionGroup",
            "rds:CopyDBParameterGroup",
            "rds:ModifyDBParameterGroup",
            "rds:ModifyDBInstance",
        ],
        // Pending: logmend's parameter group applies at the instance's next reboot.
        healthy: &[Verdict::Pending],
    };
    let cases = scenario
        .run(async |n| {
            // logmend's groups are per account: remove them so each case makes them.
            delete_logmend_instance_groups(&c).await;
            let id = format!("faults-{n}");
            create_db_instance(&c, &id, "mysql", "8.0.39", &[]).await;
            let mut e = sample_event("rds/create-db-instance-mysql.json");
            e["detail"]["responseElements"]["dBInstanceIdentifier"] = id.into();
            e
        })
        .await;
    report(scenario.control, cases);
}

/// A new trail (and its bucket) and the S3 event that names its bucket.
async fn new_trail_bucket_event(
    emulator: &Emulator,
    c: &logmend_integration::AwsClients,
    name: &str,
    rel: &str,
) -> Value {
    create_trail(emulator, c, name, false).await;
    let mut e = sample_event(rel);
    e["detail"]["requestParameters"]["bucketName"] = format!("{name}-logs").into();
    e
}

#[tokio::test]
async fn faults_on_cloudtrail_bucket_protection() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let scenario = Scenario {
        control: "cloudtrail-bucket-protection",
        emulator: &emulator,
        configure: |_| {},
        calls: &[
            "cloudtrail:DescribeTrails",
            "s3:GetBucketPolicy",
            "s3:GetBucketVersioning",
            "s3:PutBucketPolicy",
            "s3:PutBucketPublicAccessBlock",
            "s3:PutBucketVersioning",
        ],
        // MFA delete and Object Lock are left for the owner: noncompliant once the rest is fixed.
        healthy: &[Verdict::Noncompliant],
    };
    let cases = scenario
        .run(async |n| new_trail_bucket_event(&emulator, &c, &format!("faults-{n}"), "s3/put-bucket-policy.json").await)
        .await;
    report(scenario.control, cases);
}

#[tokio::test]
async fn faults_on_cloudtrail_bucket_access_logging() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let scenario = Scenario {
        control: "cloudtrail-bucket-access-logging",
        emulator: &emulator,
        configure: |_| {},
        calls: &["s3:GetBucketLogging", "s3:CreateBucket", "s3:PutBucketPolicy", "s3:PutBucketLogging"],
        healthy: &[Verdict::Fixed],
    };
    let log_bucket = "logmend-access-logs-123456789012-us-east-1";
    let cases = scenario
        .run(async |n| {
            // Each case makes the log bucket again, so its CreateBucket is a call to break.
            logmend_integration::delete_bucket_and_contents(&c, log_bucket).await;
            new_trail_bucket_event(&emulator, &c, &format!("faults-{n}"), "s3/put-bucket-logging-off.json").await
        })
        .await;
    report(scenario.control, cases);
}

#[tokio::test]
async fn faults_on_cloudtrail_encryption() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let scenario = Scenario {
        control: "cloudtrail-encryption",
        emulator: &emulator,
        configure: |c| c.trail_kms_key = Some("alias/faults".into()),
        calls: &["kms:GetKeyPolicy", "cloudtrail:UpdateTrail"],
        healthy: &[Verdict::Fixed],
    };
    // The configured key is `alias/faults-N`, one per case, whose policy names that case's trail.
    let cases = scenario
        .run(async |n| {
            let name = format!("faults-{n}");
            let event = new_trail_event(&emulator, &c, &name).await;
            let arn = event["detail"]["responseElements"]["trailARN"].as_str().unwrap().to_owned();
            let mut statements = vec![json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"})];
            statements.extend(logmend::cloudtrail::cloudtrail_encryption::statements_for(&arn, "aws", "123456789012"));
            let key = c.kms.create_key().policy(json!({"Statement": statements}).to_string()).send().await.unwrap();
            let key = key.key_metadata().unwrap().arn().unwrap().to_owned();
            c.kms.delete_alias().alias_name("alias/faults").send().await.ok();
            c.kms.create_alias().alias_name("alias/faults").target_key_id(key).send().await.unwrap();
            event
        })
        .await;
    report(scenario.control, cases);
}

#[tokio::test]
async fn faults_on_cis_metric_alarms() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    // A CloudTrail.5-compliant trail: multi-region, logging, delivering to its log group.
    let group = "/aws/cloudtrail/org-audit";
    c.logs.create_log_group().log_group_name(group).send().await.unwrap();
    let trail = create_trail(&emulator, &c, "org-audit", true).await;
    let fixer = logmend::app(config_for(Mode::Remediate, &["cloudtrail-cloudwatch-logs"]), c.clone());
    let out = fixer.handle_event(&sample_event("cloudtrail/create-trail.json")).await.unwrap();
    assert_eq!(out[0].decision.verdict, Verdict::Fixed, "{:?}", out[0].decision);
    c.cloudtrail.start_logging().name(&trail).send().await.unwrap();
    let scenario = Scenario {
        control: "cis-metric-alarms",
        emulator: &emulator,
        configure: |c| {
            c.alarm_subscribers =
                vec![logmend::config::Subscriber { protocol: "email".into(), endpoint: "sec@example.com".into() }]
        },
        calls: &[
            "cloudtrail:DescribeTrails",
            "cloudtrail:GetTrailStatus",
            "cloudtrail:GetEventSelectors",
            "sns:GetTopicAttributes",
            "logs:DescribeMetricFilters",
            "monitoring:DescribeAlarms",
            "logs:ListTagsForResource",
            "sns:CreateTopic",
            "logs:PutMetricFilter",
            "monitoring:PutMetricAlarm",
            "sns:Subscribe",
        ],
        healthy: &[Verdict::Pending],
    };
    // Each case starts from nothing of logmend's: no topic, filters or alarms.
    let cases = scenario
        .run(async |_| {
            let topic = "arn:aws:sns:us-east-1:123456789012:logmend-security-alarms";
            let _ = c.sns.delete_topic().topic_arn(topic).send().await;
            let filters = c.logs.describe_metric_filters().log_group_name(group).send().await.unwrap();
            for f in filters.metric_filters() {
                c.logs
                    .delete_metric_filter()
                    .log_group_name(group)
                    .filter_name(f.filter_name().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
            let alarms = c.cloudwatch.describe_alarms().alarm_name_prefix("logmend-cis-").send().await.unwrap();
            let names: Vec<String> =
                alarms.metric_alarms().iter().filter_map(|a| a.alarm_name().map(str::to_owned)).collect();
            if !names.is_empty() {
                c.cloudwatch.delete_alarms().set_alarm_names(Some(names)).send().await.unwrap();
            }
            sample_event("logs/delete-metric-filter.json")
        })
        .await;
    report(scenario.control, cases);
}

const LOG_BUCKET: &str = "logmend-logs-123456789012-us-east-1";

#[tokio::test]
async fn faults_on_vpc_flow_logs() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let scenario = Scenario {
        control: "vpc-flow-logs",
        emulator: &emulator,
        configure: |_| {},
        // Not s3:GetBucketLocation: its not-found (NoSuchBucket) is how a missing bucket is seen.
        calls: &[
            "ec2:DescribeVpcs",
            "ec2:DescribeFlowLogs",
            "s3:CreateBucket",
            "s3:PutBucketPublicAccessBlock",
            "s3:PutBucketOwnershipControls",
            "s3:PutEncryptionConfiguration",
            "s3:PutBucketTagging",
            "s3:GetBucketPolicy",
            "s3:PutBucketPolicy",
            "ec2:CreateFlowLogs",
        ],
        healthy: &[Verdict::Fixed],
    };
    // Each case: a new VPC, and no log bucket yet, so every write of the fix is made.
    let cases = scenario
        .run(async |_| {
            delete_bucket_and_contents(&c, LOG_BUCKET).await;
            let (vpc, _) = create_vpc(&c).await;
            let mut e = sample_event("ec2/create-vpc.json");
            e["detail"]["responseElements"]["vpc"]["vpcId"] = vpc.into();
            e
        })
        .await;
    report(scenario.control, cases);
}

#[tokio::test]
async fn faults_on_elb_access_logs() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let (_, subnets) = create_vpc(&c).await;
    // The bucket is ready (made by a first fix): the load balancer's own calls are broken.
    let first = create_load_balancer(&c, "first", LoadBalancerTypeEnum::Application, &subnets).await;
    let fixer = logmend::app(config_for(Mode::Remediate, &["elb-access-logs"]), c.clone());
    let mut event = sample_event("elasticloadbalancing/create-load-balancer.json");
    event["detail"]["responseElements"]["loadBalancers"][0]["loadBalancerArn"] = first.into();
    assert_eq!(fixer.handle_event(&event).await.unwrap()[0].decision.verdict, Verdict::Fixed);
    let scenario = Scenario {
        control: "elb-access-logs",
        emulator: &emulator,
        configure: |_| {},
        calls: &[
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "s3:GetBucketPolicy",
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
        ],
        healthy: &[Verdict::Fixed],
    };
    let cases = scenario
        .run(async |n| {
            let arn = create_load_balancer(&c, &format!("web-{n}"), LoadBalancerTypeEnum::Application, &subnets).await;
            let mut e = sample_event("elasticloadbalancing/create-load-balancer.json");
            e["detail"]["responseElements"]["loadBalancers"][0]["loadBalancerArn"] = arn.into();
            e
        })
        .await;
    report(scenario.control, cases);
}

#[tokio::test]
async fn faults_on_wafv2_logging() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let scenario = Scenario {
        control: "wafv2-logging",
        emulator: &emulator,
        configure: |_| {},
        // Not wafv2:GetLoggingConfiguration: its not-found (WAFNonexistentItemException) is how
        // WAF says an ACL has no logging configuration.
        calls: &[
            "wafv2:GetWebACL",
            "wafv2:ListTagsForResource",
            "logs:DescribeLogGroups",
            "logs:DescribeResourcePolicies",
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "logs:PutResourcePolicy",
            "wafv2:PutLoggingConfiguration",
        ],
        healthy: &[Verdict::Fixed],
    };
    // Each case: a new web ACL, and none of logmend's log group or resource policy yet.
    let cases = scenario
        .run(async |n| {
            let _ = c.logs.delete_log_group().log_group_name("aws-waf-logs-logmend").send().await;
            let _ = c.logs.delete_resource_policy().policy_name("logmend-log-delivery").send().await;
            let arn = create_web_acl(&c, &format!("app-{n}"), aws_sdk_wafv2::types::Scope::Regional).await;
            let mut e = sample_event("wafv2/create-web-acl.json");
            e["detail"]["responseElements"]["summary"]["aRN"] = arn.into();
            e
        })
        .await;
    report(scenario.control, cases);
}
