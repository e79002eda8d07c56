//! The network and edge log controls end to end against the emulator, one test per path of
//! issue 16: not compliant → fixed → a second run writes nothing, audit writes nothing, a
//! foreign bucket statement survives the merge, a failing flow log is flagged, and CloudFront
//! and CLOUDFRONT-scope web ACLs are handled from us-east-1 only.

use aws_sdk_ec2::types::{FlowLogsResourceType, LogDestinationType, TrafficType};
use aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum;
use aws_sdk_wafv2::types::Scope;
use logmend::Logmend;
use logmend::decision::{Decision, Mode, Verdict};
use logmend_integration::{
    ACCOUNT, AwsClients, Emulator, config_for, create_distribution, create_load_balancer, create_vpc, create_web_acl,
    one, sample_event,
};
use serde_json::{Value, json};

const LOG_BUCKET: &str = "logmend-logs-123456789012-us-east-1";

fn app(emulator: &Emulator, region: &str, mode: Mode, control: &str) -> Logmend {
    logmend::app(config_for(mode, &[control]), emulator.clients(region))
}

fn apis(d: &Decision) -> Vec<&str> {
    d.changes.iter().map(|c| c.api).collect()
}

fn vpc_event(vpc: &str) -> Value {
    let mut event = sample_event("ec2/create-vpc.json");
    event["detail"]["responseElements"]["vpc"]["vpcId"] = vpc.into();
    event
}

async fn bucket_policy(c: &AwsClients, bucket: &str) -> Value {
    let out = c.s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
    serde_json::from_str(out.policy().unwrap()).unwrap()
}

fn sids(policy: &Value) -> Vec<String> {
    policy["Statement"].as_array().unwrap().iter().filter_map(|s| s["Sid"].as_str().map(str::to_owned)).collect()
}

/// The fix, then the same event again: the second evaluation is compliant with no write.
async fn fixed_then_quiet(emulator: &Emulator, app: &Logmend, event: &Value, control: &str) -> Decision {
    let fixed = one(app, event).await;
    assert_eq!(fixed.verdict, Verdict::Fixed, "{fixed:?}");
    emulator.assert_calls_declared(control);
    emulator.recorder_reset();
    let again = one(app, event).await;
    assert_eq!(again.verdict, Verdict::Compliant, "{again:?}");
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    fixed
}

#[tokio::test]
async fn a_new_vpc_gets_a_delivering_flow_log_to_logmends_bucket_once() {
    // GIVEN a VPC without flow logs
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let (vpc, _) = create_vpc(&c).await;
    emulator.recorder_reset();
    // WHEN its CreateVpc event arrives in remediate mode
    let fixer = app(&emulator, "us-east-1", Mode::Remediate, "vpc-flow-logs");
    let fixed = fixed_then_quiet(&emulator, &fixer, &vpc_event(&vpc), "vpc-flow-logs").await;
    // THEN the bucket was made first, then the flow log to it
    assert_eq!(apis(&fixed), ["s3:CreateBucket", "ec2:CreateFlowLogs"]);
    let logs = c.ec2.describe_flow_logs().send().await.unwrap();
    let fl = &logs.flow_logs()[0];
    assert_eq!(fl.log_destination(), Some(format!("arn:aws:s3:::{LOG_BUCKET}").as_str()));
    assert_eq!(fl.traffic_type(), Some(&TrafficType::All));
    // AND it delivers: the bucket policy lets the log delivery service write (the emulator checks)
    assert_eq!(fl.deliver_logs_status(), Some("SUCCESS"));
    let ownership = c.s3.get_bucket_ownership_controls().bucket(LOG_BUCKET).send().await.unwrap();
    let rule = &ownership.ownership_controls().unwrap().rules()[0];
    assert_eq!(rule.object_ownership().as_str(), "BucketOwnerEnforced");
    let bpa = c.s3.get_public_access_block().bucket(LOG_BUCKET).send().await.unwrap();
    assert_eq!(bpa.public_access_block_configuration().unwrap().block_public_policy(), Some(true));
}

#[tokio::test]
async fn audit_mode_reports_the_flow_log_it_would_create_and_writes_nothing() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let (vpc, _) = create_vpc(&c).await;
    emulator.recorder_reset();
    let auditor = app(&emulator, "us-east-1", Mode::Audit, "vpc-flow-logs");
    let d = one(&auditor, &vpc_event(&vpc)).await;
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert_eq!(d.reason, "the VPC has no flow log");
    assert_eq!(apis(&d), ["s3:CreateBucket", "ec2:CreateFlowLogs"]);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_failing_flow_log_is_flagged_with_its_error_and_kept_beside_logmends() {
    // GIVEN someone's flow log to a bucket whose policy does not let the service write
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let (vpc, _) = create_vpc(&c).await;
    emulator.create_bucket("their-flow-logs");
    c.ec2
        .create_flow_logs()
        .resource_type(FlowLogsResourceType::Vpc)
        .resource_ids(&vpc)
        .traffic_type(TrafficType::Reject)
        .log_destination_type(LogDestinationType::S3)
        .log_destination("arn:aws:s3:::their-flow-logs")
        .send()
        .await
        .unwrap();
    // WHEN the sweep looks at it (and at the region's default VPC)
    let auditor = app(&emulator, "us-east-1", Mode::Audit, "vpc-flow-logs");
    let report = auditor.sweep(&["vpc-flow-logs"], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(report.evaluations.len(), 2);
    let ours = |e: &&logmend::controls::Evaluation| e.decision.resource.ends_with(&format!("vpc/{vpc}"));
    let d = &report.evaluations.iter().find(ours).unwrap().decision;
    // THEN it is noncompliant, and the reason names the flow log's delivery error
    assert_eq!(d.verdict, Verdict::Noncompliant, "{d:?}");
    assert!(d.reason.contains("to arn:aws:s3:::their-flow-logs fails to deliver: Access error"), "{}", d.reason);
    // AND the fix adds logmend's own flow log and leaves theirs alone
    let fixer = app(&emulator, "us-east-1", Mode::Remediate, "vpc-flow-logs");
    let fixed = fixer.sweep(&["vpc-flow-logs"], 4, Some(ACCOUNT), |_| {}).await;
    let d = &fixed.evaluations.iter().find(ours).unwrap().decision;
    assert_eq!(d.verdict, Verdict::Fixed, "{d:?}");
    let filter = aws_sdk_ec2::types::Filter::builder().name("resource-id").values(&vpc).build();
    let logs = c.ec2.describe_flow_logs().filter(filter).send().await.unwrap();
    let destinations: Vec<&str> = logs.flow_logs().iter().filter_map(|f| f.log_destination()).collect();
    assert_eq!(destinations, ["arn:aws:s3:::their-flow-logs", &format!("arn:aws:s3:::{LOG_BUCKET}")]);
    // AND a DeleteFlowLogs event, which names no VPC, re-checks every VPC of the region
    let recheck = fixer.handle_event(&sample_event("ec2/delete-flow-logs.json")).await.unwrap();
    assert_eq!(recheck.len(), 2);
    assert!(recheck.iter().all(|e| e.decision.verdict == Verdict::Compliant), "{recheck:?}");
}

#[tokio::test]
async fn the_bucket_policy_merge_keeps_a_foreign_statement() {
    // GIVEN logmend's bucket name already made, with a statement someone else wrote
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let (vpc, _) = create_vpc(&c).await;
    emulator.create_bucket(LOG_BUCKET);
    let theirs = json!({"Sid": "AuditorsRead", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:role/auditor"}, "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{LOG_BUCKET}/*")});
    let doc = json!({"Version": "2012-10-17", "Statement": [theirs.clone()]});
    c.s3.put_bucket_policy().bucket(LOG_BUCKET).policy(doc.to_string()).send().await.unwrap();
    // WHEN the flow log fix runs
    let fixer = app(&emulator, "us-east-1", Mode::Remediate, "vpc-flow-logs");
    let fixed = one(&fixer, &vpc_event(&vpc)).await;
    assert_eq!(fixed.verdict, Verdict::Fixed, "{fixed:?}");
    // THEN only the policy was changed on the bucket, and their statement is still there, as it was
    assert_eq!(apis(&fixed), ["s3:PutBucketPolicy", "ec2:CreateFlowLogs"]);
    let policy = bucket_policy(&c, LOG_BUCKET).await;
    assert!(policy["Statement"].as_array().unwrap().contains(&theirs), "{policy}");
    let sids = sids(&policy);
    for sid in [
        "LogmendDenyInsecureTransport",
        "LogmendLogDeliveryAclCheck",
        "LogmendLogDeliveryWrite",
        "LogmendElbLogDelivery",
    ] {
        assert!(sids.iter().any(|s| s == sid), "{sid} missing: {sids:?}");
    }
}

#[tokio::test]
async fn an_application_load_balancer_gets_access_and_connection_logs_once() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let (_, subnets) = create_vpc(&c).await;
    let arn = create_load_balancer(&c, "web", LoadBalancerTypeEnum::Application, &subnets).await;
    let mut event = sample_event("elasticloadbalancing/create-load-balancer.json");
    event["detail"]["responseElements"]["loadBalancers"][0]["loadBalancerArn"] = arn.clone().into();
    emulator.recorder_reset();
    let fixer = app(&emulator, "us-east-1", Mode::Remediate, "elb-access-logs");
    let fixed = fixed_then_quiet(&emulator, &fixer, &event, "elb-access-logs").await;
    assert_eq!(apis(&fixed), ["s3:CreateBucket", "elasticloadbalancing:ModifyLoadBalancerAttributes"]);
    let attrs = c.elbv2.describe_load_balancer_attributes().load_balancer_arn(&arn).send().await.unwrap();
    let get =
        |k: &str| attrs.attributes().iter().find(|a| a.key() == Some(k)).and_then(|a| a.value()).unwrap_or_default();
    assert_eq!(get("access_logs.s3.enabled"), "true");
    assert_eq!(get("access_logs.s3.bucket"), LOG_BUCKET);
    assert_eq!(get("access_logs.s3.prefix"), "elb");
    assert_eq!(get("connection_logs.s3.enabled"), "true");
    // The regional ELB account of us-east-1 may write under elb/.
    let policy = bucket_policy(&c, LOG_BUCKET).await;
    let elb = policy["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == "LogmendElbLogDelivery").unwrap();
    assert_eq!(elb["Principal"]["AWS"], "arn:aws:iam::127311923021:root");
    // AND its own ModifyLoadBalancerAttributes event (the v2 shape, by ARN) ends compliant
    let mut modified = sample_event("elasticloadbalancing/modify-load-balancer-attributes.json");
    modified["detail"]["requestParameters"]["loadBalancerArn"] = arn.into();
    assert_eq!(one(&fixer, &modified).await.verdict, Verdict::Compliant);
}

#[tokio::test]
async fn a_classic_load_balancer_is_told_apart_by_name_and_fixed() {
    use aws_sdk_elasticloadbalancing::types::Listener;
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let listener = Listener::builder().protocol("HTTP").load_balancer_port(80).instance_port(8080).build().unwrap();
    c.elb
        .create_load_balancer()
        .load_balancer_name("legacy-web")
        .listeners(listener)
        .availability_zones("us-east-1a")
        .send()
        .await
        .unwrap();
    emulator.recorder_reset();
    let event = sample_event("elasticloadbalancing/modify-load-balancer-attributes-classic.json");
    let auditor = app(&emulator, "us-east-1", Mode::Audit, "elb-access-logs");
    let audited = one(&auditor, &event).await;
    assert_eq!(audited.verdict, Verdict::Noncompliant, "{audited:?}");
    assert_eq!(audited.resource, "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/legacy-web");
    let fixer = app(&emulator, "us-east-1", Mode::Remediate, "elb-access-logs");
    fixed_then_quiet(&emulator, &fixer, &event, "elb-access-logs").await;
    let attrs = c.elb.describe_load_balancer_attributes().load_balancer_name("legacy-web").send().await.unwrap();
    let log = attrs.load_balancer_attributes().unwrap().access_log().unwrap();
    assert!(log.enabled());
    assert_eq!((log.s3_bucket_name(), log.s3_bucket_prefix()), (Some(LOG_BUCKET), Some("elb")));
}

#[tokio::test]
async fn a_network_load_balancer_without_tls_listeners_is_skipped() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let (_, subnets) = create_vpc(&c).await;
    create_load_balancer(&c, "tcp", LoadBalancerTypeEnum::Network, &subnets).await;
    let fixer = app(&emulator, "us-east-1", Mode::Remediate, "elb-access-logs");
    emulator.recorder_reset();
    let report = fixer.sweep(&["elb-access-logs"], 4, Some(ACCOUNT), |_| {}).await;
    let d = &report.evaluations[0].decision;
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert!(d.reason.contains("no TLS listener"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_regional_web_acl_logs_to_logmends_log_group_once() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let arn = create_web_acl(&c, "app", Scope::Regional).await;
    let mut event = sample_event("wafv2/create-web-acl.json");
    event["detail"]["responseElements"]["summary"]["aRN"] = arn.clone().into();
    emulator.recorder_reset();
    let fixer = app(&emulator, "us-east-1", Mode::Remediate, "wafv2-logging");
    let fixed = fixed_then_quiet(&emulator, &fixer, &event, "wafv2-logging").await;
    assert_eq!(apis(&fixed), ["logs:CreateLogGroup", "logs:PutResourcePolicy", "wafv2:PutLoggingConfiguration"]);
    let logging = c.wafv2.get_logging_configuration().resource_arn(&arn).send().await.unwrap();
    assert_eq!(
        logging.logging_configuration().unwrap().log_destination_configs(),
        ["arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-logmend"]
    );
    // The one resource policy logmend owns lets the log delivery service write to the group.
    let policies = c.logs.describe_resource_policies().send().await.unwrap();
    let ours = policies.resource_policies().iter().find(|p| p.policy_name() == Some("logmend-log-delivery")).unwrap();
    assert!(ours.policy_document().unwrap().contains("aws-waf-logs-logmend:*"));
    let group = c.logs.describe_log_groups().log_group_name_prefix("aws-waf-logs-logmend").send().await.unwrap();
    assert_eq!(group.log_groups()[0].retention_in_days(), Some(365));
    // AND DeleteLoggingConfiguration brings it back
    c.wafv2.delete_logging_configuration().resource_arn(&arn).send().await.unwrap();
    let mut deleted = sample_event("wafv2/delete-logging-configuration.json");
    deleted["detail"]["requestParameters"]["resourceArn"] = arn.into();
    let again = one(&fixer, &deleted).await;
    assert_eq!((again.verdict, apis(&again)), (Verdict::Fixed, vec!["wafv2:PutLoggingConfiguration"]), "{again:?}");
    // AND when logmend's resource policy goes, only the policy is written back: the ACL logs
    // there already, and a log group without it receives nothing
    c.logs.delete_resource_policy().policy_name("logmend-log-delivery").send().await.unwrap();
    let repaired = one(&fixer, &event).await;
    assert_eq!((repaired.verdict, apis(&repaired)), (Verdict::Fixed, vec!["logs:PutResourcePolicy"]), "{repaired:?}");
}

#[tokio::test]
async fn a_cloudfront_scope_web_acl_is_handled_from_us_east_1_only() {
    // GIVEN a CLOUDFRONT-scope web ACL (it lives in us-east-1)
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let arn = create_web_acl(&c, "cdn", Scope::Cloudfront).await;
    let mut event = sample_event("wafv2/put-logging-configuration.json");
    event["detail"]["requestParameters"]["loggingConfiguration"]["resourceArn"] = arn.clone().into();
    // WHEN another region's function sees it (its sweep, or an event naming it)
    let away = app(&emulator, "eu-west-1", Mode::Remediate, "wafv2-logging");
    emulator.recorder_reset();
    let swept = away.sweep(&["wafv2-logging"], 4, Some(ACCOUNT), |_| {}).await;
    assert!(swept.evaluations.is_empty(), "eu-west-1 lists regional web ACLs only: {:?}", swept.evaluations);
    let mut elsewhere = event.clone();
    elsewhere["region"] = "eu-west-1".into();
    let d = one(&away, &elsewhere).await;
    // THEN it is skipped there, with no write
    assert_eq!(d.verdict, Verdict::Skipped, "{d:?}");
    assert!(d.reason.contains("from us-east-1 only"), "{}", d.reason);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    // AND us-east-1 fixes it
    let home = app(&emulator, "us-east-1", Mode::Remediate, "wafv2-logging");
    let swept = home.sweep(&["wafv2-logging"], 4, Some(ACCOUNT), |_| {}).await;
    assert_eq!(swept.evaluations.len(), 1);
    assert_eq!(swept.evaluations[0].decision.verdict, Verdict::Fixed, "{:?}", swept.evaluations[0].decision);
    assert_eq!(one(&home, &event).await.verdict, Verdict::Compliant);
}

#[tokio::test]
async fn a_distribution_gets_standard_logging_to_its_own_acl_bucket_from_us_east_1_only() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let id = create_distribution(&c, "site").await;
    let mut event = sample_event("cloudfront/create-distribution.json");
    event["detail"]["responseElements"]["distribution"]["id"] = id.clone().into();
    // Another region's function skips it, and its sweep lists nothing.
    let away = app(&emulator, "eu-west-1", Mode::Remediate, "cloudfront-logging");
    emulator.recorder_reset();
    assert!(away.sweep(&["cloudfront-logging"], 4, Some(ACCOUNT), |_| {}).await.evaluations.is_empty());
    let mut elsewhere = event.clone();
    elsewhere["region"] = "eu-west-1".into();
    assert_eq!(one(&away, &elsewhere).await.verdict, Verdict::Skipped);
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
    // us-east-1 fixes it: the ACL-enabled bucket of its own, then Logging with the ETag.
    let fixer = app(&emulator, "us-east-1", Mode::Remediate, "cloudfront-logging");
    let fixed = fixed_then_quiet(&emulator, &fixer, &event, "cloudfront-logging").await;
    assert_eq!(apis(&fixed), ["s3:CreateBucket", "cloudfront:UpdateDistribution"]);
    let got = c.cloudfront.get_distribution_config().id(&id).send().await.unwrap();
    let logging = got.distribution_config().unwrap().logging().unwrap();
    assert!(logging.enabled());
    assert_eq!(logging.bucket(), "logmend-cloudfront-logs-123456789012.s3.amazonaws.com");
    let ownership =
        c.s3.get_bucket_ownership_controls().bucket("logmend-cloudfront-logs-123456789012").send().await.unwrap();
    assert_eq!(ownership.ownership_controls().unwrap().rules()[0].object_ownership().as_str(), "BucketOwnerPreferred");
    // AND its own UpdateDistribution event ends compliant
    let mut updated = sample_event("cloudfront/update-distribution.json");
    updated["detail"]["requestParameters"]["id"] = id.clone().into();
    updated["detail"]["responseElements"]["distribution"]["id"] = id.into();
    assert_eq!(one(&fixer, &updated).await.verdict, Verdict::Compliant);
}

#[tokio::test]
async fn a_vpc_gets_resolver_query_logging_and_a_disassociation_is_undone_with_the_same_config() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let (vpc, _) = create_vpc(&c).await;
    emulator.recorder_reset();
    let control = "route53-resolver-query-logs";
    let fixer = app(&emulator, "us-east-1", Mode::Remediate, control);
    let fixed = fixed_then_quiet(&emulator, &fixer, &vpc_event(&vpc), control).await;
    assert_eq!(
        apis(&fixed),
        [
            "s3:CreateBucket",
            "route53resolver:CreateResolverQueryLogConfig",
            "route53resolver:AssociateResolverQueryLogConfig"
        ]
    );
    let configs = c.resolver.list_resolver_query_log_configs().send().await.unwrap();
    let config = &configs.resolver_query_log_configs()[0];
    assert_eq!(config.destination_arn(), Some(format!("arn:aws:s3:::{LOG_BUCKET}").as_str()));
    // WHEN someone disassociates the VPC
    let config_id = config.id().unwrap().to_owned();
    c.resolver
        .disassociate_resolver_query_log_config()
        .resolver_query_log_config_id(&config_id)
        .resource_id(&vpc)
        .send()
        .await
        .unwrap();
    let mut event = sample_event("route53resolver/disassociate-resolver-query-log-config.json");
    event["detail"]["requestParameters"]["resourceId"] = vpc.into();
    event["detail"]["requestParameters"]["resolverQueryLogConfigId"] = config_id.into();
    // THEN it is associated again with the same configuration, nothing else made
    let again = one(&fixer, &event).await;
    assert_eq!(
        (again.verdict, apis(&again)),
        (Verdict::Fixed, vec!["route53resolver:AssociateResolverQueryLogConfig"])
    );
    assert_eq!(
        c.resolver.list_resolver_query_log_configs().send().await.unwrap().resolver_query_log_configs().len(),
        1
    );
}

#[tokio::test]
async fn an_exempt_vpc_is_left_alone_by_both_vpc_controls() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let (vpc, _) = create_vpc(&c).await;
    let tag = aws_sdk_ec2::types::Tag::builder().key("logmend:exempt").value("true").build();
    c.ec2.create_tags().resources(&vpc).tags(tag).send().await.unwrap();
    emulator.recorder_reset();
    let config = config_for(Mode::Remediate, &["vpc-flow-logs", "route53-resolver-query-logs"]);
    let both = logmend::app(config, c.clone());
    let out = both.handle_event(&vpc_event(&vpc)).await.unwrap();
    assert_eq!(out.len(), 2);
    for e in &out {
        assert_eq!(e.decision.verdict, Verdict::Skipped, "{:?}", e.decision);
    }
    assert_eq!(emulator.mutating_calls(), Vec::<String>::new());
}

fn app_with(emulator: &Emulator, control: &str, configure: impl FnOnce(&mut logmend::Config)) -> Logmend {
    let mut config = config_for(Mode::Remediate, &[control]);
    configure(&mut config);
    logmend::app(config, emulator.clients("us-east-1"))
}

#[tokio::test]
async fn the_other_destinations_waf_to_its_bucket_resolver_to_its_log_group() {
    use logmend::config::LogDestination;
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    // WAF to S3: the bucket must be named aws-waf-logs-… (the emulator refuses any other)
    let arn = create_web_acl(&c, "app", Scope::Regional).await;
    let mut event = sample_event("wafv2/create-web-acl.json");
    event["detail"]["responseElements"]["summary"]["aRN"] = arn.clone().into();
    let waf = app_with(&emulator, "wafv2-logging", |c| c.waf_log_destination = LogDestination::S3);
    emulator.recorder_reset();
    fixed_then_quiet(&emulator, &waf, &event, "wafv2-logging").await;
    let logging = c.wafv2.get_logging_configuration().resource_arn(&arn).send().await.unwrap();
    let bucket = "aws-waf-logs-logmend-123456789012-us-east-1";
    assert_eq!(logging.logging_configuration().unwrap().log_destination_configs(), [format!("arn:aws:s3:::{bucket}")]);
    let sids = sids(&bucket_policy(&c, bucket).await);
    assert!(
        sids.contains(&"LogmendLogDeliveryWrite".to_owned()) && !sids.contains(&"LogmendElbLogDelivery".to_owned())
    );
    // Resolver to CloudWatch Logs: its group, with retention and the shared resource policy
    let (vpc, _) = create_vpc(&c).await;
    let resolver =
        app_with(&emulator, "route53-resolver-query-logs", |c| c.resolver_log_destination = LogDestination::Logs);
    emulator.recorder_reset();
    let fixed = fixed_then_quiet(&emulator, &resolver, &vpc_event(&vpc), "route53-resolver-query-logs").await;
    assert_eq!(apis(&fixed)[..2], ["logs:CreateLogGroup", "logs:PutResourcePolicy"]);
    let configs = c.resolver.list_resolver_query_log_configs().send().await.unwrap();
    assert_eq!(
        configs.resolver_query_log_configs()[0].destination_arn(),
        Some("arn:aws:logs:us-east-1:123456789012:log-group:/aws/route53resolver/logmend")
    );
}

#[tokio::test]
async fn cloudfront_logging_v2_is_a_vended_delivery_to_a_log_group() {
    use logmend::config::CloudFrontLogging;
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let id = create_distribution(&c, "site").await;
    let mut event = sample_event("cloudfront/create-distribution.json");
    event["detail"]["responseElements"]["distribution"]["id"] = id.clone().into();
    let fixer = app_with(&emulator, "cloudfront-logging", |c| c.cloudfront_logging = CloudFrontLogging::V2);
    emulator.recorder_reset();
    let fixed = fixed_then_quiet(&emulator, &fixer, &event, "cloudfront-logging").await;
    assert_eq!(apis(&fixed), ["logs:CreateLogGroup", "logs:PutResourcePolicy", "logs:CreateDelivery"]);
    let deliveries = c.logs.describe_deliveries().send().await.unwrap();
    assert_eq!(deliveries.deliveries()[0].delivery_source_name(), Some(format!("logmend-cf-{id}").as_str()));
    // No bucket and no ACL: legacy logging stays off.
    let got = c.cloudfront.get_distribution_config().id(&id).send().await.unwrap();
    assert!(!got.distribution_config().unwrap().logging().is_some_and(|l| l.enabled()));
}

#[tokio::test]
async fn mq_and_waf_share_logmends_one_resource_policy_and_keep_each_others_statements() {
    let emulator = Emulator::start();
    let c = emulator.clients("us-east-1");
    let broker = logmend_integration::create_broker(&c, "orders", "ACTIVEMQ", false, false).await;
    let mq = app(&emulator, "us-east-1", Mode::Remediate, "mq-broker-logs");
    let d = one(&mq, &logmend_integration::broker_event("mq/create-broker-activemq.json", &broker)).await;
    assert!(apis(&d).contains(&"logs:PutResourcePolicy"), "{d:?}");
    let arn = create_web_acl(&c, "app", Scope::Regional).await;
    let mut event = sample_event("wafv2/create-web-acl.json");
    event["detail"]["responseElements"]["summary"]["aRN"] = arn.into();
    let waf = app(&emulator, "us-east-1", Mode::Remediate, "wafv2-logging");
    assert_eq!(one(&waf, &event).await.verdict, Verdict::Fixed);
    let policies = c.logs.describe_resource_policies().send().await.unwrap();
    let names: Vec<&str> = policies.resource_policies().iter().filter_map(|p| p.policy_name()).collect();
    assert_eq!(names, ["logmend-log-delivery"], "one policy of the account's ten");
    let doc: Value = serde_json::from_str(policies.resource_policies()[0].policy_document().unwrap()).unwrap();
    assert_eq!(sids(&doc), ["AmazonMQBrokerLogsToCloudWatchLogs", "LogmendLogDelivery"]);
}
