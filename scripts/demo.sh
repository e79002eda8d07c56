#!/usr/bin/env bash
# make demo: logmend against the local emulator. Non-compliant resources before, fixed after.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
logmend="$root/target/debug/logmend"
python="$root/.venv/bin/python"
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; }

step "starting the AWS emulator (moto $("$python" -c 'import moto; print(moto.__version__)'), fidelity-patched)"
(cd "$work" && MOTO_RECORDER_FILEPATH="$work/recording" exec "$python" "$root/tests/emulator/launcher.py" --port 0 >"$work/port" 2>"$work/server.log") &
server_pid=$!
for _ in $(seq 1 300); do grep -q LISTENING "$work/port" 2>/dev/null && break; sleep 0.1; done
grep -q LISTENING "$work/port" || { echo "emulator did not start:"; cat "$work/server.log"; exit 1; }
port=$(awk '{print $2}' "$work/port")
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo \
       AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true RUST_LOG=warn
echo "listening on $AWS_ENDPOINT_URL"

step "creating resources: trails without CloudWatch Logs delivery, validation, encryption or a locked store, log groups with short or no retention, MQ brokers with logs off, Aurora clusters and RDS instances without log exports, a VPC without flow logs or DNS query logs, a load balancer and a web ACL that log nothing"
"$python" "$root/scripts/demo_resources.py" create

# The trails' KMS key (its policy lets CloudTrail in) is named; MFA delete and Object Lock, which
# only a bucket's owner can set, are shown on their own at the end.
# The CIS alarms reach the security team by email (pending until someone confirms).
export LOGMEND_TRAIL_KMS_KEY=alias/logmend-demo-trails LOGMEND_TRAIL_BUCKET_DELETION_PROTECTION=off \
       LOGMEND_ALARM_EMAIL=security@example.com
echo "LOGMEND_TRAIL_KMS_KEY=$LOGMEND_TRAIL_KMS_KEY LOGMEND_TRAIL_BUCKET_DELETION_PROTECTION=$LOGMEND_TRAIL_BUCKET_DELETION_PROTECTION LOGMEND_ALARM_EMAIL=$LOGMEND_ALARM_EMAIL"

step "the controls"
show "logmend controls"
"$logmend" controls

step "before: audit scan (writes nothing; exit 1 = noncompliant found)"
show "logmend scan --format table"
set +e; "$logmend" scan --format table; status=$?; set -e
echo "exit status: $status"
[ "$status" -eq 1 ] || { echo "expected exit 1"; exit 1; }

step "fix: the same checks, with --fix"
show "logmend scan --fix --format table"
"$logmend" scan --fix --format table

step "the buckets that pass made for network logs get access logging (deployed, their CreateBucket events do this at once)"
show "logmend scan --control s3-access-logging --fix --format table"
"$logmend" scan --control s3-access-logging --fix --format table

step "after: audit scan again (exit 0 = nothing left to fix; the alarm email waits for confirmation: pending)"
show "logmend scan --format table"
"$logmend" scan --format table
echo "exit status: 0"
show "logmend scan --quiet --format html --output target/logmend-report.html"
"$logmend" scan --quiet --format html --output "$root/target/logmend-report.html"
echo "the report: $root/target/logmend-report.html (one self-contained page: open it in a browser)"

step "what the resources look like now (broker logs and the MySQL parameter groups wait for a reboot: pending; the network logs go to logmend-logs-ACCOUNT-REGION and the log group aws-waf-logs-logmend)"
"$python" "$root/scripts/demo_resources.py" show

step "the maintenance window comes (here: a reboot): the pending logs apply and a scan finds them on"
"$python" "$root/scripts/demo_resources.py" reboot
show "logmend scan --control mq-broker-logs --control rds-cluster-audit-logs --control rds-instance-log-exports --format table"
"$logmend" scan --control mq-broker-logs --control rds-cluster-audit-logs --control rds-instance-log-exports --format table

step "the CIS alarms wait for a person: the security team confirms SNS's email, and the alarms reach someone"
"$python" "$root/scripts/demo_resources.py" confirm-subscriptions
show "logmend scan --control cis-metric-alarms --format table"
"$logmend" scan --control cis-metric-alarms --format table

step "a flag is not delivery: someone deletes a trail's delivery role, the ARNs stay, CloudTrail reports the error"
"$python" "$root/scripts/demo_resources.py" break-delivery
show "logmend scan --control cloudtrail-cloudwatch-logs --fix --format table"
"$logmend" scan --control cloudtrail-cloudwatch-logs --fix --format table

step "what only a bucket's owner can do: with LOGMEND_TRAIL_BUCKET_DELETION_PROTECTION=required (the default), a trail bucket without MFA delete or Object Lock is reported, never changed"
show "LOGMEND_TRAIL_BUCKET_DELETION_PROTECTION=required logmend scan --control cloudtrail-bucket-protection --format table"
set +e; LOGMEND_TRAIL_BUCKET_DELETION_PROTECTION=required "$logmend" scan --control cloudtrail-bucket-protection --format table; status=$?; set -e
echo "exit status: $status (noncompliant: the reason says who can fix it)"

step "an attacker's move: the only multi-region trail is deleted; with LOGMEND_BASELINE_TRAIL, logmend creates one with a locked store"
"$python" "$root/scripts/demo_resources.py" delete-multi-region-trail
show "LOGMEND_BASELINE_TRAIL=logmend-baseline logmend scan --control cloudtrail-logging --fix --format table"
LOGMEND_BASELINE_TRAIL=logmend-baseline "$logmend" scan --control cloudtrail-logging --fix --format table
show "logmend scan --control cloudtrail-logging --control cloudtrail-log-file-validation --control cloudtrail-bucket-protection --format table"
"$logmend" scan --control cloudtrail-logging --control cloudtrail-log-file-validation --control cloudtrail-bucket-protection --format table

step "log archiving (opt-in): with LOGMEND_LOG_ARCHIVE_PREFIXES=/app/, every /app/ group (the exempt one aside) is subscribed to a Firehose stream into the log bucket, so a deleted group loses nothing"
show "LOGMEND_LOG_ARCHIVE_PREFIXES=/app/ logmend scan --control log-archive --fix --format table"
LOGMEND_LOG_ARCHIVE_PREFIXES=/app/ "$logmend" scan --control log-archive --fix --format table
"$python" "$root/scripts/demo_resources.py" log-to-archive
show "LOGMEND_LOG_ARCHIVE_PREFIXES=/app/ logmend scan --control log-archive --format table"
LOGMEND_LOG_ARCHIVE_PREFIXES=/app/ "$logmend" scan --control log-archive --format table
