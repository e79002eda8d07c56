"""Resources for `make demo`, made with boto3 (the emulator's own dependency), so the demo
shows logmend acting on resources it did not create."""

import json
import time
import sys

import boto3

TRAILS = [("org-audit", True), ("payments-audit", False)]
# name, retention (None: never expire), tags
LOG_GROUPS = [
    ("/app/payments", None, {}),
    ("/app/checkout", 30, {}),
    ("/app/ledger", 3653, {}),
    ("/app/scratch", None, {"logmend:exempt": "true"}),
]
# name, engine, general, audit
BROKERS = [
    ("orders", "ACTIVEMQ", False, False),
    ("events-bus", "RABBITMQ", False, False),
]

# id, engine, version (Aurora clusters on their default parameter group, with one instance)
CLUSTERS = [("orders-aurora", "aurora-mysql", "8.0.mysql_aurora.3.05.2"), ("ledger-pg", "aurora-postgresql", "16.4")]
INSTANCES = [("shop-mysql", "mysql", "8.0.39"), ("reports-pg", "postgres", "16.4")]


ACCOUNT = "123456789012"


def cloudtrail_bucket_policy(trail: str) -> dict:
    """The bucket policy AWS's CloudTrail guide gives (CloudTrail checks it at CreateTrail)."""
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{trail}"
    bucket = f"arn:aws:s3:::{trail}-logs"
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": bucket, "Condition": {"StringEquals": {"aws:SourceArn": arn}}},
        {"Sid": "AWSCloudTrailWrite20150319", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"{bucket}/AWSLogs/{ACCOUNT}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": arn}}},
    ]}


TRAIL_KEY_ALIAS = "alias/logmend-demo-trails"


def trail_key_policy() -> dict:
    """The key policy AWS's CloudTrail guide gives ("Configure AWS KMS key policies for CloudTrail")."""
    arns = [f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{name}" for name, _ in TRAILS]
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Allow CloudTrail to encrypt logs", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceArn": arns},
                       "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"}}},
        {"Sid": "Allow CloudTrail to describe key", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:DescribeKey", "Resource": "*"},
    ]}


def delete_multi_region_trail() -> None:
    """Someone deletes the only multi-region trail."""
    boto3.client("cloudtrail").delete_trail(Name="org-audit")
    print("  deleted trail org-audit: no trail logs every region any more")


def broker_ids() -> dict:
    mq = boto3.client("mq")
    return {b["BrokerName"]: b["BrokerId"] for b in mq.list_brokers()["BrokerSummaries"]}


def create() -> None:
    s3 = boto3.client("s3")
    cloudtrail = boto3.client("cloudtrail")
    for name, multi_region in TRAILS:
        s3.create_bucket(Bucket=f"{name}-logs")
        s3.put_bucket_policy(Bucket=f"{name}-logs", Policy=json.dumps(cloudtrail_bucket_policy(name)))
        cloudtrail.create_trail(Name=name, S3BucketName=f"{name}-logs", IsMultiRegionTrail=multi_region)
        print(f"  trail {name} (multi-region: {multi_region}) -> s3://{name}-logs, no CloudWatch Logs, unencrypted, its bucket open to non-TLS requests")
    kms = boto3.client("kms")
    key = kms.create_key(Policy=json.dumps(trail_key_policy()), Description="logmend demo: trail encryption")["KeyMetadata"]
    kms.create_alias(AliasName=TRAIL_KEY_ALIAS, TargetKeyId=key["KeyId"])
    print(f"  KMS key {TRAIL_KEY_ALIAS}: its policy lets CloudTrail encrypt for both trails")
    logs = boto3.client("logs")
    for name, retention, tags in LOG_GROUPS:
        logs.create_log_group(logGroupName=name, tags=tags)
        if retention:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
        print(f"  log group {name}: retention {retention or 'never expire'}{' (exempt)' if tags else ''}")
    mq = boto3.client("mq")
    for name, engine, general, audit in BROKERS:
        logs_setting = {"General": general} | ({"Audit": audit} if engine == "ACTIVEMQ" else {})
        mq.create_broker(
            BrokerName=name, EngineType=engine, EngineVersion="5.18" if engine == "ACTIVEMQ" else "3.13",
            HostInstanceType="mq.m5.large", DeploymentMode="SINGLE_INSTANCE", PubliclyAccessible=False,
            AutoMinorVersionUpgrade=True, Logs=logs_setting,
            Users=[{"Username": "admin", "Password": "demo-password-never-printed"}],
        )
        print(f"  {engine} broker {name}: logs {logs_setting}")
    rds = boto3.client("rds")
    for cid, engine, version in CLUSTERS:
        rds.create_db_cluster(DBClusterIdentifier=cid, Engine=engine, EngineVersion=version,
                              MasterUsername="admin", MasterUserPassword="demo-password-never-printed")
        rds.create_db_instance(DBInstanceIdentifier=f"{cid}-1", DBClusterIdentifier=cid, Engine=engine,
                               DBInstanceClass="db.r6g.large")
        print(f"  {engine} cluster {cid} (+ instance {cid}-1): default parameter group, no log exports")
    for iid, engine, version in INSTANCES:
        rds.create_db_instance(DBInstanceIdentifier=iid, Engine=engine, EngineVersion=version, DBInstanceClass="db.t3.medium",
                               AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="demo-password-never-printed")
        print(f"  {engine} instance {iid}: no log exports")
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "shop"}]}])["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
               for i, z in enumerate("ab")]
    print(f"  VPC shop {vpc}: no flow logs, DNS queries not logged (the region's default VPC neither)")
    boto3.client("elbv2").create_load_balancer(Name="shop-web", Subnets=subnets, Type="application")
    print("  load balancer shop-web (application): access and connection logs off")
    boto3.client("wafv2").create_web_acl(
        Name="shop-waf", Scope="REGIONAL", DefaultAction={"Allow": {}},
        VisibilityConfig={"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "shop-waf"})
    print("  web ACL shop-waf (REGIONAL): no logging configuration")


def show_network() -> None:
    ec2 = boto3.client("ec2")
    resolver = boto3.client("route53resolver")
    for vpc in ec2.describe_vpcs()["Vpcs"]:
        vid = vpc["VpcId"]
        flow = [(f["TrafficType"], f.get("LogDestination"), f["DeliverLogsStatus"])
                for f in ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vid]}])["FlowLogs"]]
        assoc = [a["ResolverQueryLogConfigId"] for a in resolver.list_resolver_query_log_config_associations(
            Filters=[{"Name": "ResourceId", "Values": [vid]}])["ResolverQueryLogConfigAssociations"]]
        print(f"  VPC {vid}: flow logs {flow}; query logging {assoc}")
    elbv2 = boto3.client("elbv2")
    for lb in elbv2.describe_load_balancers()["LoadBalancers"]:
        attrs = {a["Key"]: a["Value"] for a in elbv2.describe_load_balancer_attributes(
            LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"] if "_logs.s3." in a["Key"]}
        print(f"  load balancer {lb['LoadBalancerName']}: {attrs}")
    wafv2 = boto3.client("wafv2")
    for acl in wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"]:
        conf = wafv2.get_logging_configuration(ResourceArn=acl["ARN"])["LoggingConfiguration"]
        print(f"  web ACL {acl['Name']}: logs to {conf['LogDestinationConfigs']}")
    bucket = f"logmend-logs-{ACCOUNT}-us-east-1"
    sids = [st.get("Sid") for st in json.loads(boto3.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]]
    print(f"  bucket {bucket}: policy {sids}")


def reboot() -> None:
    mq = boto3.client("mq")
    for name, broker_id in broker_ids().items():
        mq.reboot_broker(BrokerId=broker_id)
        print(f"  rebooted broker {name} ({broker_id})")
    rds = boto3.client("rds")
    for cid, _, _ in CLUSTERS:
        rds.reboot_db_instance(DBInstanceIdentifier=f"{cid}-1")
        print(f"  rebooted DB instance {cid}-1")
    for iid, _, _ in INSTANCES:
        rds.reboot_db_instance(DBInstanceIdentifier=iid)
        print(f"  rebooted DB instance {iid}")


def break_delivery() -> None:
    """Someone deletes the org-audit trail's delivery role: the trail keeps both ARNs."""
    iam = boto3.client("iam")
    role = "LogmendTrail-us-east-1-org-audit"
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=name)
    iam.delete_role(RoleName=role)
    status = boto3.client("cloudtrail").get_trail_status(Name="org-audit")
    print(f"  deleted role {role}; GetTrailStatus: {status.get('LatestCloudWatchLogsDeliveryError')}")


def confirm_subscriptions() -> None:
    """Click the links SNS would have emailed: the emulator's mailbox holds the tokens."""
    import os
    import urllib.request

    url = os.environ["AWS_ENDPOINT_URL"] + "/logmend-emulator/sns-confirmations"
    sns = boto3.client("sns")
    for pending in json.load(urllib.request.urlopen(url)):
        sns.confirm_subscription(TopicArn=pending["topic_arn"], Token=pending["token"])
        print(f"  {pending['endpoint']} confirmed its subscription to {pending['topic_arn']}")


def show() -> None:
    cloudtrail = boto3.client("cloudtrail")
    logs = boto3.client("logs")
    iam = boto3.client("iam")
    for name, _ in TRAILS:
        trail = cloudtrail.get_trail(Name=name)["Trail"]
        print(f"  trail {name}")
        print(f"    CloudWatchLogsLogGroupArn: {trail.get('CloudWatchLogsLogGroupArn')}")
        print(f"    CloudWatchLogsRoleArn:     {trail.get('CloudWatchLogsRoleArn')}")
        group = logs.describe_log_groups(logGroupNamePrefix=f"/aws/cloudtrail/{name}")["logGroups"][0]
        print(f"    log group {group['logGroupName']}: retention {group.get('retentionInDays')} days")
        role_name = trail["CloudWatchLogsRoleArn"].rsplit("/", 1)[-1]
        doc = iam.get_role_policy(RoleName=role_name, PolicyName="logmend-cloudtrail-delivery")["PolicyDocument"]
        stmt = doc["Statement"][0]
        print(f"    role {role_name}: {', '.join(stmt['Action'])} on {stmt['Resource']}")
        print(f"    KmsKeyId: {trail.get('KmsKeyId')}; LogFileValidationEnabled: {trail.get('LogFileValidationEnabled')}")
        s3 = boto3.client("s3")
        bucket = trail["S3BucketName"]
        sids = [st.get("Sid") for st in json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]]
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        target = s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled", {})
        print(f"    bucket {bucket}: policy {sids}; public access blocked {all(block.values())}; versioning {versioning}")
        print(f"      access logs -> s3://{target.get('TargetBucket')}/{target.get('TargetPrefix')}")
    for name, _, _ in LOG_GROUPS:
        group = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
        print(f"  log group {name}: retention {group.get('retentionInDays', 'never expire')}")
    mq = boto3.client("mq")
    for name, broker_id in broker_ids().items():
        b = mq.describe_broker(BrokerId=broker_id)
        logs_now = {k: v for k, v in b["Logs"].items() if k in ("General", "Audit")}
        print(f"  broker {name} ({b['EngineType']}, {b['BrokerState']}): logs {logs_now}, pending {b['Logs'].get('Pending', {})}")
    rds = boto3.client("rds")
    for cid, _, _ in CLUSTERS:
        c = rds.describe_db_clusters(DBClusterIdentifier=cid)["DBClusters"][0]
        members = ", ".join(f"{m['DBInstanceIdentifier']} {m['DBClusterParameterGroupStatus']}" for m in c["DBClusterMembers"])
        print(f"  cluster {cid}: exports {c.get('EnabledCloudwatchLogsExports', [])}, parameter group {c['DBClusterParameterGroup']} ({members})")
    for iid, _, _ in INSTANCES:
        i = rds.describe_db_instances(DBInstanceIdentifier=iid)["DBInstances"][0]
        og = ", ".join(f"{m['OptionGroupName']} {m['Status']}" for m in i.get("OptionGroupMemberships", []))
        pg = ", ".join(f"{g['DBParameterGroupName']} {g['ParameterApplyStatus']}" for g in i.get("DBParameterGroups", []))
        print(f"  instance {iid}: exports {i.get('EnabledCloudwatchLogsExports', [])}, option group {og}, parameter group {pg}")
    filters = logs.describe_metric_filters(logGroupName="/aws/cloudtrail/org-audit")["metricFilters"]
    alarms = boto3.client("cloudwatch").describe_alarms(AlarmNamePrefix="logmend-cis-")["MetricAlarms"]
    print(f"  CIS: {len(filters)} metric filters on /aws/cloudtrail/org-audit, {len(alarms)} alarms -> "
          f"{sorted({a for alarm in alarms for a in alarm['AlarmActions']})}")
    for topic in boto3.client("sns").list_topics()["Topics"]:
        subs = boto3.client("sns").list_subscriptions_by_topic(TopicArn=topic["TopicArn"])["Subscriptions"]
        print(f"  topic {topic['TopicArn']}: {[(x['Endpoint'], x['SubscriptionArn'].split(':')[0]) for x in subs]}")
    for p in logs.describe_resource_policies()["resourcePolicies"]:
        stmt = json.loads(p["policyDocument"])["Statement"][0]
        print(f"  resource policy {p['policyName']}: {stmt['Principal']['Service']} may {', '.join(stmt['Action'])} on {stmt['Resource']}")
    show_network()


def log_to_archive():
    """An application writes a line; the archive's subscription carries it to the log bucket."""
    logs = boto3.client("logs")
    account = boto3.client("sts").get_caller_identity()["Account"]
    bucket = f"logmend-access-logs-{account}-{boto3.session.Session().region_name}"
    logs.create_log_stream(logGroupName="/app/payments", logStreamName="web-1")
    logs.put_log_events(logGroupName="/app/payments", logStreamName="web-1",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": "payment 42 settled"}])
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix="archive/logs/").get("Contents", [])]
    print(f"  /app/payments wrote one line; s3://{bucket}/archive/logs/ now holds {len(keys)} object(s): {keys}")
    if not keys:
        sys.exit("the archived line did not reach the bucket")


if __name__ == "__main__":
    {"create": create, "show": show, "reboot": reboot, "break-delivery": break_delivery,
     "delete-multi-region-trail": delete_multi_region_trail, "confirm-subscriptions": confirm_subscriptions,
     "log-to-archive": log_to_archive}[sys.argv[1]]()
