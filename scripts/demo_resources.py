"""Resources for `make demo`, made with boto3 (the emulator's own dependency), so the demo
shows logmend acting on resources it did not create."""

import json
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


def create() -> None:
    s3 = boto3.client("s3")
    cloudtrail = boto3.client("cloudtrail")
    for name, multi_region in TRAILS:
        s3.create_bucket(Bucket=f"{name}-logs")
        cloudtrail.create_trail(Name=name, S3BucketName=f"{name}-logs", IsMultiRegionTrail=multi_region)
        print(f"  trail {name} (multi-region: {multi_region}) -> s3://{name}-logs, no CloudWatch Logs")
    logs = boto3.client("logs")
    for name, retention, tags in LOG_GROUPS:
        logs.create_log_group(logGroupName=name, tags=tags)
        if retention:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
        print(f"  log group {name}: retention {retention or 'never expire'}{' (exempt)' if tags else ''}")


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
    for name, _, _ in LOG_GROUPS:
        group = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
        print(f"  log group {name}: retention {group.get('retentionInDays', 'never expire')}")


if __name__ == "__main__":
    {"create": create, "show": show}[sys.argv[1]]()
