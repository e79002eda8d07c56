"""Start moto's server with the patches that make it act as AWS does where logmend depends on it.

moto 5.2.5 differs from AWS in ways that would let a wrong remediator pass its tests (see
DESIGN.md, "Where moto 5.2.5 is not AWS"). Each patch below is named after the AWS behaviour it
restores, cites the AWS documentation for it, and is covered by a test in
tests/it/emulator_fidelity.rs that shows the emulator now behaves as AWS does.

Usage: launcher.py [--host 127.0.0.1] [--port 0] [--exit-on-stdin-eof]
  Prints "LISTENING <port>" on stdout once the socket is bound, then serves until SIGTERM, or
  with --exit-on-stdin-eof until its stdin closes (the test harness holds it open, so a test
  process that dies never leaves an orphaned server).

Settings (environment):
  LOGMEND_EMULATOR_IAM_PROPAGATION_SECONDS  seconds after CreateRole / PutRolePolicy during which
                                            CloudTrail refuses the role as AWS does while IAM
                                            propagates (default 0: off).
  LOGMEND_EMULATOR_MQ_REBOOT_SECONDS        seconds a broker stays REBOOT_IN_PROGRESS after RebootBroker
                                            before its pending changes apply (default 0: at once).
  LOGMEND_EMULATOR_SERVICE_MS               milliseconds every request takes, served on its own
                                            thread ("aws": 25; default 0).
  LOGMEND_EMULATOR_QUOTAS                   "aws": AWS's published per-account, per-region API rate
                                            quotas, answered with each service's throttling error;
                                            a path: a JSON table of them; "off" (default).
  MOTO_RECORDER_FILEPATH                    where moto's recorder writes (give each server its own).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import signal
import sys
import threading
import time
from typing import Any
from urllib.parse import unquote

PATCHES: list[str] = []


def patch(fn):
    """Register a patch by name so the server can list what it changed (GET /logmend-emulator/patches)."""
    PATCHES.append(fn.__name__)
    return fn


def _seconds_setting(name: str) -> float:
    raw = os.environ.get(name, "0")
    try:
        return float(raw)
    except ValueError:
        sys.exit(f"{name}: not a number: {raw!r}")


def iam_propagation_seconds() -> float:
    return _seconds_setting("LOGMEND_EMULATOR_IAM_PROPAGATION_SECONDS")


def mq_reboot_seconds() -> float:
    return _seconds_setting("LOGMEND_EMULATOR_MQ_REBOOT_SECONDS")


def rds_create_seconds() -> float:
    return _seconds_setting("LOGMEND_EMULATOR_RDS_CREATE_SECONDS")


# --------------------------------------------------------------------------------------------
# CloudWatch Logs
# --------------------------------------------------------------------------------------------

VALID_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                        1827, 2192, 2557, 2922, 3288, 3653]


@patch
def put_retention_policy_rejects_invalid_days():
    """AWS: PutRetentionPolicy accepts only the listed retentionInDays values and answers any other
    with InvalidParameterException (CloudWatch Logs API Reference, PutRetentionPolicy:
    "Possible values are: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
    1827, 2192, 2557, 2922, 3288, and 3653"). moto stores any number."""
    from moto.logs.exceptions import InvalidParameterException
    from moto.logs.models import LogsBackend

    original = LogsBackend.put_retention_policy

    def put_retention_policy(self, log_group_name, retention_in_days):
        if int(retention_in_days) not in VALID_RETENTION_DAYS:
            raise InvalidParameterException(
                constraint="Member must satisfy enum value set: "
                + str(VALID_RETENTION_DAYS),
                parameter="retentionInDays",
                value=retention_in_days,
            )
        return original(self, log_group_name, retention_in_days)

    LogsBackend.put_retention_policy = put_retention_policy


# --------------------------------------------------------------------------------------------
# SQS
# --------------------------------------------------------------------------------------------


@patch
def put_metric_filter_replaces_the_filter_of_that_name():
    """AWS: PutMetricFilter "creates or updates a metric filter": a filter of the same name on the
    same log group is replaced (CloudWatch Logs API Reference, PutMetricFilter). moto appends a
    second filter of that name."""
    from moto.logs.metric_filters import MetricFilters

    original = MetricFilters.add_filter

    def add_filter(self, filter_name, filter_pattern, log_group_name, metric_transformations):
        self.metric_filters = [f for f in self.metric_filters
                               if not (f["filterName"] == filter_name and f["logGroupName"] == log_group_name)]
        return original(self, filter_name, filter_pattern, log_group_name, metric_transformations)

    MetricFilters.add_filter = add_filter


@patch
def sqs_visibility_from_the_wall_clock():
    """AWS: a SendMessage or ReceiveMessage call takes the same time whatever the queue's depth
    (SQS Developer Guide, "Amazon SQS quotas": standard queues take a nearly unlimited number of
    calls). moto recomputes every message's visibility and delay from datetime arithmetic on
    each call, and each SendMessage reads all queue attributes, so a sweep that queues 3,000
    resources spent minutes in moto. Visibility and delay are read from the wall clock in epoch
    milliseconds, as moto stores them; what they mean is unchanged."""
    import time as _time

    from moto.sqs.models import Message

    def visible(self) -> bool:
        return _time.time() * 1000.0 > self.visible_at

    def delayed(self) -> bool:
        return _time.time() * 1000.0 < self.delayed_until

    Message.visible = property(visible)
    Message.delayed = property(delayed)


@patch
def tagging_api_types_log_groups_as_log_group():
    """AWS: the Resource Groups Tagging API names a resource type by its service and the resource
    part of its ARN, so log groups (arn:aws:logs:…:log-group:NAME) are `logs:log-group`, the value
    ResourceTypeFilters takes (Resource Groups Tagging API Reference, GetResources,
    ResourceTypeFilters: "service[:resourceType]"). moto types them `logs:loggroup`, so a
    `logs:log-group` filter finds nothing."""
    from moto.core.resource_tagging import TaggedResource
    from moto.logs.models import LogsBackend

    def iter_tagged_resources(self):
        for group in self.groups.values():
            yield TaggedResource(arn=group.arn, tags=self.tagger.get_tag_dict_for_resource(group.arn),
                                 resource_type="logs:log-group")

    LogsBackend.iter_tagged_resources = iter_tagged_resources


# --------------------------------------------------------------------------------------------
# IAM: remember when a role and its inline policies were last changed, for propagation.
# --------------------------------------------------------------------------------------------

_iam_changed_at: dict[tuple[str, str], float] = {}
_iam_lock = threading.Lock()


def _touch_role(account_id: str, role_name: str) -> None:
    with _iam_lock:
        _iam_changed_at[(account_id, role_name)] = time.monotonic()


def _role_age_seconds(account_id: str, role_name: str) -> float:
    with _iam_lock:
        changed = _iam_changed_at.get((account_id, role_name))
    return float("inf") if changed is None else time.monotonic() - changed


@patch
def iam_changes_propagate_with_delay():
    """AWS: IAM is eventually consistent; a new role or policy may not be usable by another service
    for a while ("Changes that I make are not always immediately visible", IAM User Guide,
    Troubleshooting IAM). CloudTrail refuses such a role with InvalidCloudWatchLogsRoleArnException
    or InvalidCloudWatchLogsLogGroupArnException ("Access denied") for up to about two minutes.
    moto makes every change usable at once. With LOGMEND_EMULATOR_IAM_PROPAGATION_SECONDS > 0 the
    CloudTrail patch below refuses roles changed less than that long ago."""
    from moto.iam.models import IAMBackend

    create_role = IAMBackend.create_role
    put_role_policy = IAMBackend.put_role_policy
    update_assume = IAMBackend.update_assume_role_policy

    def create_role_stamped(self, role_name, *args, **kwargs):
        role = create_role(self, role_name, *args, **kwargs)
        _touch_role(self.account_id, role_name)
        return role

    def put_role_policy_stamped(self, role_name, *args, **kwargs):
        out = put_role_policy(self, role_name, *args, **kwargs)
        _touch_role(self.account_id, role_name)
        return out

    def update_assume_stamped(self, role_name, *args, **kwargs):
        out = update_assume(self, role_name, *args, **kwargs)
        _touch_role(self.account_id, role_name)
        return out

    IAMBackend.create_role = create_role_stamped
    IAMBackend.put_role_policy = put_role_policy_stamped
    IAMBackend.update_assume_role_policy = update_assume_stamped


# --------------------------------------------------------------------------------------------
# CloudTrail
# --------------------------------------------------------------------------------------------


def _cloudtrail_error(code: str, message: str):
    from moto.core.exceptions import JsonRESTError

    class CloudTrailError(JsonRESTError):
        def __init__(self):
            super().__init__(code, message)
            self.code = 400

    return CloudTrailError()


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _trusts_cloudtrail(assume_role_policy_document: str) -> bool:
    try:
        doc = json.loads(unquote(assume_role_policy_document))
    except ValueError:
        return False
    for stmt in _as_list(doc.get("Statement")):
        if stmt.get("Effect") != "Allow":
            continue
        principals = _as_list((stmt.get("Principal") or {}).get("Service"))
        actions = _as_list(stmt.get("Action"))
        if "cloudtrail.amazonaws.com" in principals and (
            "sts:AssumeRole" in actions or "sts:*" in actions or "*" in actions
        ):
            return True
    return False


def _role_can_write_log_group(role, log_group_arn: str) -> bool:
    """True when an inline policy of the role allows CreateLogStream and PutLogEvents on the
    group's log streams (what CloudTrail needs to deliver)."""
    stream_arn = log_group_arn.removesuffix(":*") + ":log-stream:x"
    needed = {"logs:CreateLogStream", "logs:PutLogEvents"}
    granted: set[str] = set()
    for document in role.policies.values():
        try:
            doc = json.loads(unquote(document)) if isinstance(document, str) else document
        except ValueError:
            continue
        for stmt in _as_list(doc.get("Statement")):
            if stmt.get("Effect") != "Allow":
                continue
            if not any(fnmatch.fnmatchcase(stream_arn, r) for r in _as_list(stmt.get("Resource"))):
                continue
            for action in _as_list(stmt.get("Action")):
                for want in needed:
                    if fnmatch.fnmatchcase(want, action):
                        granted.add(want)
    return granted == needed


def _validate_cloudwatch_logs_delivery(account_id: str, log_group_arn: str | None, role_arn: str | None):
    """What CloudTrail checks before it accepts CloudWatchLogsLogGroupArn / CloudWatchLogsRoleArn
    (CloudTrail API Reference, CreateTrail/UpdateTrail errors)."""
    from moto.iam.models import iam_backends
    from moto.logs.models import logs_backends

    if not log_group_arn and not role_arn:
        return
    if log_group_arn and not role_arn:
        raise _cloudtrail_error(
            "InvalidCloudWatchLogsRoleArnException",
            "You must specify a role ARN when you specify a log group ARN.",
        )
    if role_arn and not log_group_arn:
        raise _cloudtrail_error(
            "InvalidCloudWatchLogsLogGroupArnException",
            "You must specify a log group ARN when you specify a role ARN.",
        )
    # arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*
    parts = log_group_arn.split(":", 6)
    if len(parts) != 7 or parts[2] != "logs" or parts[5] != "log-group":
        raise _cloudtrail_error("InvalidCloudWatchLogsLogGroupArnException",
                                f"Log group ARN is not valid: {log_group_arn}")
    region, group_account, name = parts[3], parts[4], parts[6].removesuffix(":*")
    groups = logs_backends[group_account][region].groups
    if name not in groups:
        raise _cloudtrail_error("InvalidCloudWatchLogsLogGroupArnException",
                                f"Log group does not exist: {log_group_arn}")

    partition = role_arn.split(":")[1] if role_arn.count(":") >= 5 else "aws"
    role = next((r for r in iam_backends[account_id][partition].roles.values() if r.arn == role_arn), None)
    delay = iam_propagation_seconds()
    if role is None or not _trusts_cloudtrail(role.assume_role_policy_document) or (
        delay > 0 and _role_age_seconds(account_id, role.name) < delay
    ):
        raise _cloudtrail_error(
            "InvalidCloudWatchLogsRoleArnException",
            "Access denied. Verify in IAM that the role exists and that CloudTrail can assume it.",
        )
    if not _role_can_write_log_group(role, log_group_arn):
        raise _cloudtrail_error(
            "InvalidCloudWatchLogsLogGroupArnException",
            "Access denied. Verify in IAM that the role has adequate permissions.",
        )


def _home_trail(backend, name_or_arn: str):
    """Find a trail visible from this backend's region: its own, or a multi-region trail whose
    home is another region (a shadow trail)."""
    from moto.cloudtrail.models import cloudtrail_backends

    try:
        return backend.get_trail_local(name_or_arn)
    except Exception as not_here:
        for other in cloudtrail_backends[backend.account_id].values():
            if other is backend:
                continue
            for trail in other.trails.values():
                if trail.is_multi_region and name_or_arn in (trail.trail_name, trail.arn):
                    return trail
        raise not_here


@patch
def get_trail_finds_multi_region_trails_from_any_region_with_home_region():
    """AWS: GetTrail, called in any region a multi-region trail covers, returns that trail with its
    HomeRegion (CloudTrail API Reference, Trail.HomeRegion: "The Region in which the trail was
    created"). moto omits HomeRegion and finds trails only in the region that created them."""
    from moto.cloudtrail.models import CloudTrailBackend
    from moto.cloudtrail.responses import CloudTrailResponse

    CloudTrailBackend.get_trail_local = CloudTrailBackend.get_trail

    def get_trail(self, name_or_arn):
        return _home_trail(self, name_or_arn)

    def get_trail_response(self):
        trail = self.cloudtrail_backend.get_trail(self._get_param("Name"))
        return json.dumps({"Trail": trail.description(include_region=True)})

    CloudTrailBackend.get_trail = get_trail
    CloudTrailResponse.get_trail = get_trail_response


@patch
def update_trail_only_in_home_region():
    """AWS: "UpdateTrail must be called from the Region in which the trail was created; otherwise,
    an InvalidHomeRegionException is thrown" (CloudTrail API Reference, UpdateTrail). The same
    holds for StartLogging, StopLogging, PutEventSelectors and DeleteTrail."""
    from moto.cloudtrail.models import CloudTrailBackend

    def home_only(method_name: str, name_param: str):
        original = getattr(CloudTrailBackend, method_name)

        def guarded(self, *args, **kwargs):
            name = kwargs.get(name_param, args[0] if args else None)
            trail = _home_trail(self, name)
            if trail.region_name != self.region_name:
                raise _cloudtrail_error(
                    "InvalidHomeRegionException",
                    f"This operation must be called from the trail's home region, {trail.region_name}.",
                )
            return original(self, *args, **kwargs)

        setattr(CloudTrailBackend, method_name, guarded)

    home_only("update_trail", "name")
    home_only("start_logging", "name")
    home_only("stop_logging", "name")
    home_only("put_event_selectors", "trail_name")


@patch
def create_trail_rejects_existing_name():
    """AWS: CreateTrail with the name of an existing trail fails with
    TrailAlreadyExistsException (CloudTrail API Reference, CreateTrail errors). moto overwrites."""
    from moto.cloudtrail.models import CloudTrailBackend, cloudtrail_backends

    original = CloudTrailBackend.create_trail

    def create_trail(self, name, *args, **kwargs):
        for backend in cloudtrail_backends[self.account_id].values():
            if name in backend.trails:
                raise _cloudtrail_error(
                    "TrailAlreadyExistsException",
                    f"Trail {name} already exists for customer: {self.account_id}",
                )
        return original(self, name, *args, **kwargs)

    CloudTrailBackend.create_trail = create_trail


@patch
def trail_cloudwatch_logs_arns_are_validated_and_empty_clears():
    """AWS: CreateTrail/UpdateTrail check that the log group exists and that CloudTrail can assume
    the role and write to the group, failing with InvalidCloudWatchLogsLogGroupArnException or
    InvalidCloudWatchLogsRoleArnException (CloudTrail API Reference, UpdateTrail errors; CloudTrail
    User Guide, "Sending events to CloudWatch Logs"). An empty string for both ARNs turns delivery
    off, and the trail then has no such ARNs. moto accepts any ARN and stores "" as a value."""
    from moto.cloudtrail.responses import CloudTrailResponse

    original_update = CloudTrailResponse.update_trail
    original_create = CloudTrailResponse.create_trail

    def _checked(self, original, is_update: bool):
        group = self._get_param("CloudWatchLogsLogGroupArn")
        role = self._get_param("CloudWatchLogsRoleArn")
        clearing = group == "" and role == ""
        if group is not None or role is not None:
            if not clearing:
                _validate_cloudwatch_logs_delivery(self.current_account, group or None, role or None)
        out = original(self)
        if clearing and is_update:
            trail = self.cloudtrail_backend.get_trail(self._get_param("Name"))
            trail.cw_log_group_arn = None
            trail.cw_role_arn = None
            out = json.dumps(trail.description())
        return out

    CloudTrailResponse.update_trail = lambda self: _checked(self, original_update, True)
    CloudTrailResponse.create_trail = lambda self: _checked(self, original_create, False)

@patch
def kms_key_state_changes_accept_key_arns():
    """AWS: DisableKey, EnableKey, ScheduleKeyDeletion and CancelKeyDeletion take a key id or a
    key ARN (AWS KMS API Reference, KeyId). moto looks the ARN up as an id and fails with 500."""
    from moto.kms.models import KmsBackend

    for name in ("disable_key", "enable_key", "cancel_key_deletion", "schedule_key_deletion"):
        original = getattr(KmsBackend, name)

        def by_id(self, key_id, *args, _original=original, **kwargs):
            return _original(self, self.get_key_id(key_id), *args, **kwargs)

        setattr(KmsBackend, name, by_id)


def _key_policy_lets_cloudtrail_encrypt(policy: str, trail_arn: str) -> bool:
    """Whether a key policy lets CloudTrail call kms:GenerateDataKey* for this trail: the
    principal, the action and the two conditions AWS's statement carries."""
    doc = json.loads(policy or "{}")
    for stmt in _as_list(doc.get("Statement")):
        if stmt.get("Effect") != "Allow":
            continue
        principal = stmt.get("Principal")
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if not (principal == "*" or "cloudtrail.amazonaws.com" in services):
            continue
        if not any(fnmatch.fnmatchcase("kms:GenerateDataKey", a) for a in _as_list(stmt.get("Action"))):
            continue
        ok = True
        for op, keys in (stmt.get("Condition") or {}).items():
            for key, values in keys.items():
                if key.lower() in ("kms:encryptioncontext:aws:cloudtrail:arn", "aws:sourcearn"):
                    match = fnmatch.fnmatchcase if op in ("StringLike", "ArnLike") else (lambda a, b: a == b)
                    ok = ok and any(match(trail_arn, v) for v in _as_list(values))
        if ok:
            return True
    return False


@patch
def trail_kms_keys_are_checked():
    """AWS: CreateTrail/UpdateTrail resolve KmsKeyId (key id, key ARN, alias or alias ARN) in the
    trail's region: an unknown key fails with KmsKeyNotFoundException, a disabled or
    pending-deletion one with KmsException, one whose policy does not let
    cloudtrail.amazonaws.com call kms:GenerateDataKey* for the trail with
    InsufficientEncryptionPolicyException; the trail then holds the key's ARN (CloudTrail API
    Reference, UpdateTrail errors; CloudTrail User Guide, "Configure AWS KMS key policies for
    CloudTrail"). moto stores any string."""
    from moto.cloudtrail.responses import CloudTrailResponse
    from moto.kms.models import kms_backends

    def checked(original):
        def handler(self):
            key_id = self._get_param("KmsKeyId")
            if not key_id:
                return original(self)
            backend = kms_backends[self.current_account][self.region]
            try:
                key = backend.describe_key(key_id)
            except Exception:
                raise _cloudtrail_error("KmsKeyNotFoundException", f"KMS key {key_id} does not exist in {self.region}.")
            if key.key_state != "Enabled":
                raise _cloudtrail_error("KmsException", f"KMS key {key.arn} is {key.key_state}.")
            name = self._get_param("Name")
            trail_arn = name if name.startswith("arn:") else f"arn:aws:cloudtrail:{self.region}:{self.current_account}:trail/{name}"
            if not _key_policy_lets_cloudtrail_encrypt(key.policy, trail_arn):
                raise _cloudtrail_error("InsufficientEncryptionPolicyException",
                                        "Insufficient permissions to access S3 bucket or KMS key.")
            out = original(self)
            trail = self.cloudtrail_backend.get_trail(name)
            trail.kms_key_id = key.arn
            answer = json.loads(out)
            answer["KmsKeyId"] = key.arn
            return json.dumps(answer)
        return handler

    CloudTrailResponse.update_trail = checked(CloudTrailResponse.update_trail)
    CloudTrailResponse.create_trail = checked(CloudTrailResponse.create_trail)


def _bucket_lets_cloudtrail_write(account_id: str, bucket_name: str, prefix: str | None, trail_arn: str) -> bool:
    """Whether the bucket policy allows cloudtrail.amazonaws.com s3:GetBucketAcl on the bucket and
    s3:PutObject under [prefix/]AWSLogs/ACCOUNT/, with any aws:SourceArn condition naming the trail."""
    from moto.s3.models import s3_backends

    bucket = s3_backends[account_id]["aws"].buckets.get(bucket_name)
    if bucket is None or not bucket.policy:
        return False
    doc = json.loads(bucket.policy)
    key = f"{bucket_name}/{prefix.strip('/') + '/' if prefix else ''}AWSLogs/{account_id}/CloudTrail/probe"

    def allows(action: str, resource: str) -> bool:
        for stmt in _as_list(doc.get("Statement")):
            principal = stmt.get("Principal")
            services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
            if stmt.get("Effect") != "Allow" or not (principal == "*" or "cloudtrail.amazonaws.com" in services):
                continue
            if not any(fnmatch.fnmatchcase(action, a) for a in _as_list(stmt.get("Action"))):
                continue
            if not any(fnmatch.fnmatchcase(resource, r.split(":::", 1)[-1]) for r in _as_list(stmt.get("Resource"))):
                continue
            arns = [v for op, keys in (stmt.get("Condition") or {}).items() for k, vals in keys.items()
                    if k.lower() == "aws:sourcearn" for v in _as_list(vals)]
            if arns and not any(fnmatch.fnmatchcase(trail_arn, a) for a in arns):
                continue
            return True
        return False

    return allows("s3:GetBucketAcl", bucket_name) and allows("s3:PutObject", key)


@patch
def trail_buckets_must_let_cloudtrail_write():
    """AWS: CreateTrail and UpdateTrail with an S3 bucket check its policy, failing with
    InsufficientS3BucketPolicyException when CloudTrail may not call s3:GetBucketAcl and
    s3:PutObject under AWSLogs/ACCOUNT/ (CloudTrail API Reference, CreateTrail errors; CloudTrail
    User Guide, "Amazon S3 bucket policy for CloudTrail"). moto checks only that the bucket exists."""
    from moto.cloudtrail.responses import CloudTrailResponse

    def checked(original, creating: bool):
        def handler(self):
            bucket = self._get_param("S3BucketName")
            if bucket:
                name = self._get_param("Name")
                trail_arn = name if name.startswith("arn:") else f"arn:aws:cloudtrail:{self.region}:{self.current_account}:trail/{name}"
                prefix = self._get_param("S3KeyPrefix")
                if not _bucket_lets_cloudtrail_write(self.current_account, bucket, prefix, trail_arn):
                    raise _cloudtrail_error("InsufficientS3BucketPolicyException",
                                            f"Incorrect S3 bucket policy is detected for bucket: {bucket}")
            return original(self)
        return handler

    CloudTrailResponse.update_trail = checked(CloudTrailResponse.update_trail, False)
    CloudTrailResponse.create_trail = checked(CloudTrailResponse.create_trail, True)


@patch
def get_trail_status_reports_cloudwatch_logs_delivery_errors():
    """AWS: GetTrailStatus returns LatestCloudWatchLogsDeliveryError, "any CloudWatch Logs error
    that CloudTrail encountered when attempting to deliver logs to CloudWatch Logs", and
    LatestCloudWatchLogsDeliveryTime, the last delivery (CloudTrail API Reference,
    GetTrailStatus). A trail whose delivery role was deleted, lost its trust or its policy, or
    whose log group was deleted keeps both ARNs and reports the error at its next delivery.
    moto returns neither field. Here every GetTrailStatus is a delivery attempt: the trail's
    ARNs are checked as CloudTrail checks them on UpdateTrail, now."""
    from moto.cloudtrail.responses import CloudTrailResponse

    original = CloudTrailResponse.get_trail_status

    def get_trail_status(self):
        out = json.loads(original(self))
        trail = self.cloudtrail_backend.get_trail(self._get_param("Name"))
        group, role = trail.cw_log_group_arn or None, trail.cw_role_arn or None
        if group and role:
            try:
                _validate_cloudwatch_logs_delivery(trail.account_id, group, role)
                out["LatestCloudWatchLogsDeliveryTime"] = int(time.time())
                trail._cw_last_delivery = out["LatestCloudWatchLogsDeliveryTime"]
            except Exception as e:  # the validation's CloudTrail error: its message is the error
                out["LatestCloudWatchLogsDeliveryError"] = getattr(e, "message", None) or str(e)
                if getattr(trail, "_cw_last_delivery", None):
                    out["LatestCloudWatchLogsDeliveryTime"] = trail._cw_last_delivery
        return json.dumps(out)

    CloudTrailResponse.get_trail_status = get_trail_status


DEFAULT_EVENT_SELECTORS = [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
                            "ExcludeManagementEventSources": []}]


@patch
def new_trails_log_management_events_and_selector_kinds_replace_each_other():
    """AWS: a trail created without event selectors logs all management events, read and write
    (GetEventSelectors answers one basic selector, ReadWriteType All, IncludeManagementEvents
    true: CloudTrail User Guide, "Logging management events"). PutEventSelectors with basic
    selectors replaces the advanced ones and the other way round ("you can use either advanced
    or basic event selectors, but not both": CloudTrail API Reference, PutEventSelectors). moto
    starts trails with no selectors and keeps advanced selectors beside basic ones."""
    from moto.cloudtrail.models import Trail

    init = Trail.__init__

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.event_selectors = json.loads(json.dumps(DEFAULT_EVENT_SELECTORS))

    def put_event_selectors(self, event_selectors, advanced_event_selectors):
        if event_selectors:
            self.event_selectors, self.advanced_event_selectors = event_selectors, []
        elif advanced_event_selectors:
            self.event_selectors, self.advanced_event_selectors = [], advanced_event_selectors

    Trail.__init__ = __init__
    Trail.put_event_selectors = put_event_selectors


# --------------------------------------------------------------------------------------------
# AWS Step Functions
# --------------------------------------------------------------------------------------------

# What a state machine's role must allow for CloudWatch Logs delivery (Step Functions Developer
# Guide, "IAM policies for logging to CloudWatch Logs").
SFN_LOG_DELIVERY_ACTIONS = [
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
]


def _role_documents(role) -> list[dict]:
    """The role's inline policies and the default versions of its attached managed ones."""
    docs = []
    raw = list(role.policies.values())
    for managed in role.managed_policies.values():
        raw.extend(v.document for v in managed.versions if v.is_default)
    for document in raw:
        try:
            docs.append(json.loads(unquote(document)) if isinstance(document, str) else document)
        except ValueError:
            continue
    return docs


def _role_allows(role, action: str) -> bool:
    """IAM's answer for an identity policy on Resource "*": some Allow, no Deny."""
    return _role_allows_on(role, action, "*")


@patch
def step_functions_updates_need_definition_or_role_and_logging_checks_the_role():
    """AWS: UpdateStateMachine needs `definition` or `roleArn`, else MissingRequiredParameter
    (Step Functions API Reference, UpdateStateMachine). With a logging level other than OFF,
    Step Functions sets up the CloudWatch Logs delivery as the state machine's role: a role whose
    policies do not allow the delivery actions gets AccessDeniedException "The state machine IAM
    Role is not authorized to access the Log Destination" (Developer Guide, "IAM policies for
    logging to CloudWatch Logs"), on CreateStateMachine as on UpdateStateMachine. moto checks
    neither."""
    from moto.core.exceptions import AWSError
    from moto.iam.models import iam_backends
    from moto.stepfunctions.responses import StepFunctionResponse

    class MissingRequiredParameter(AWSError):
        TYPE = "MissingRequiredParameter"
        STATUS = 400

    class AccessDeniedException(AWSError):
        TYPE = "AccessDeniedException"
        STATUS = 400

    def check_logging(self, role_arn):
        logging = self._get_param("loggingConfiguration") or {}
        if logging.get("level", "OFF") == "OFF":
            return
        partition = role_arn.split(":")[1] if role_arn and role_arn.count(":") >= 5 else "aws"
        roles = iam_backends[self.current_account][partition].roles.values()
        role = next((r for r in roles if r.arn == role_arn), None)
        if role is None or not all(_role_allows(role, a) for a in SFN_LOG_DELIVERY_ACTIONS):
            raise AccessDeniedException("The state machine IAM Role is not authorized to access the Log Destination")

    create, update = StepFunctionResponse.create_state_machine, StepFunctionResponse.update_state_machine

    def create_state_machine(self):
        check_logging(self, self._get_param("roleArn"))
        return create(self)

    def update_state_machine(self):
        if not self._get_param("definition") and not self._get_param("roleArn"):
            raise MissingRequiredParameter("Either the definition or the roleArn must be specified")
        role_arn = self._get_param("roleArn")
        if not role_arn:
            arn = self._get_param("stateMachineArn")
            role_arn = self.stepfunction_backend.describe_state_machine(arn).roleArn
        check_logging(self, role_arn)
        return update(self)

    StepFunctionResponse.create_state_machine = create_state_machine
    StepFunctionResponse.update_state_machine = update_state_machine


# --------------------------------------------------------------------------------------------
# Amazon S3
# --------------------------------------------------------------------------------------------

# Checks on the raw request, before moto sees it: (environ) -> (status, code, message) or None.
_REQUEST_CHECKS: list = []
# Protocols moto does not serve, translated: (environ, app, start_response) -> body or None.
_REQUEST_TRANSLATORS: list = []


def _is_public_statement(statement: dict) -> bool:
    """S3's reading of "public" for a policy statement: an Allow to everyone ("*") that no
    fixed-value condition narrows (S3 User Guide, "The meaning of 'public'")."""
    if statement.get("Effect") != "Allow":
        return False
    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS")))
    narrowing = {"aws:sourcearn", "aws:sourceaccount", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip",
                 "aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:userid"}
    conditions = statement.get("Condition") or {}
    narrowed = any(key.lower() in narrowing for keys in conditions.values() if isinstance(keys, dict) for key in keys)
    return everyone and not narrowed


@patch
def s3_block_public_policy_refuses_public_policies():
    """AWS: with the bucket's BlockPublicPolicy on, PutBucketPolicy with a public policy fails
    with 403 AccessDenied (S3 User Guide, "Blocking public access to your Amazon S3 storage",
    BlockPublicPolicy). moto stores any policy."""
    from moto.s3.exceptions import S3AccessDeniedError
    from moto.s3.models import S3Backend

    original = S3Backend.put_bucket_policy

    def put_bucket_policy(self, bucket_name, policy):
        block = self.get_bucket(bucket_name).public_access_block
        if block is not None and block.block_public_policy:
            doc = json.loads(policy)
            if any(_is_public_statement(s) for s in _as_list(doc.get("Statement"))):
                raise S3AccessDeniedError()
        return original(self, bucket_name, policy)

    S3Backend.put_bucket_policy = put_bucket_policy


@patch
def get_bucket_versioning_answers_versioning_configuration():
    """AWS: GetBucketVersioning answers `<VersioningConfiguration>` with `Status` (and
    `MfaDelete`) once versioning was ever set, an empty one before (S3 API Reference,
    GetBucketVersioning). moto names the root `GetBucketVersioningResponse`, which the Rust SDK
    refuses to parse."""
    from moto.s3.responses import S3Response

    def get_bucket_versioning(self):
        status = self.backend.get_bucket_versioning(self.bucket_name)
        inner = f"<Status>{status}</Status>" if status else ""
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{inner}</VersioningConfiguration>')
        return 200, {"Content-Type": "application/xml"}, body

    S3Response.get_bucket_versioning = get_bucket_versioning


@patch
def s3_request_payment_is_stored_and_answered():
    """AWS: PutBucketRequestPayment sets who pays for requests and downloads (`BucketOwner` or
    `Requester`); GetBucketRequestPayment answers `<RequestPaymentConfiguration>` with `Payer`,
    `BucketOwner` until it was set (S3 API Reference, GetBucketRequestPayment). A bucket with
    Requester Pays cannot receive server access logs (S3 API Reference, LoggingEnabled). moto
    has neither call: the GET listed the bucket's objects, the PUT was ignored."""
    import re
    from moto.s3.responses import S3Response

    get, put = S3Response._bucket_response_get, S3Response._bucket_response_put

    def _bucket_response_get(self, bucket_name, querystring):
        if "requestPayment" not in querystring:
            return get(self, bucket_name, querystring)
        bucket = self.backend.get_bucket(bucket_name)
        payer = getattr(bucket, "logmend_payer", "BucketOwner")
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<RequestPaymentConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                f"<Payer>{payer}</Payer></RequestPaymentConfiguration>")
        return 200, {"Content-Type": "application/xml"}, body

    def _bucket_response_put(self, request, bucket_name, querystring):
        if "requestPayment" not in querystring:
            return put(self, request, bucket_name, querystring)
        bucket = self.backend.get_bucket(bucket_name)
        body = self.body.decode() if isinstance(self.body, bytes) else (self.body or "")
        found = re.search(r"<Payer>\s*(BucketOwner|Requester)\s*</Payer>", body)
        if not found:
            from moto.s3.exceptions import MalformedXML
            raise MalformedXML()
        bucket.logmend_payer = found.group(1)
        return 200, {}, ""

    S3Response._bucket_response_get = _bucket_response_get
    S3Response._bucket_response_put = _bucket_response_put


def _only_without_tls(statement: dict) -> bool:
    """A statement that applies only to requests without TLS (`aws:SecureTransport` false)."""
    for op, keys in (statement.get("Condition") or {}).items():
        if op in ("Bool", "BoolIfExists") and isinstance(keys, dict):
            for key, value in keys.items():
                if key.lower() == "aws:securetransport" and str(_as_list(value)[0]).lower() == "false":
                    return True
    return False


@patch
def s3_object_requests_count_as_tls():
    """AWS: a Deny conditioned on `aws:SecureTransport` false refuses only requests made without
    TLS (IAM User Guide, "AWS global condition context keys"); the SDK always uses TLS with AWS.
    moto ignores conditions, so such a Deny refused every object request. The emulator listens
    on plain HTTP on loopback, so its requests stand for TLS ones: those statements are left out
    of moto's evaluation."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self, action, resource):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        doc = json.loads(self.policy)
        kept = [st for st in _as_list(doc.get("Statement")) if not _only_without_tls(st)]
        if not kept:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**doc, "Statement": kept})).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission


@patch
def s3_expected_bucket_owner_is_checked():
    """AWS: a request with `x-amz-expected-bucket-owner` naming another account than the
    bucket's fails with 403 AccessDenied (S3 User Guide, "Verifying bucket ownership with bucket
    owner condition"). moto ignores the header. Every emulator bucket is the default account's."""
    from moto.core import DEFAULT_ACCOUNT_ID

    def check(environ):
        expected = environ.get("HTTP_X_AMZ_EXPECTED_BUCKET_OWNER")
        if expected and expected != DEFAULT_ACCOUNT_ID:
            return 403, "AccessDenied", "Access Denied"
        return None

    _REQUEST_CHECKS.append(check)


def request_checking(app):
    """Answer a request that a check refuses as S3 would (REST-XML), else pass it on."""

    def wrapped(environ, start_response):
        from werkzeug.wrappers import Response

        for check in _REQUEST_CHECKS:
            refused = check(environ)
            if refused:
                status, code, message = refused
                body = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>logmend</RequestId></Error>"
                return Response(body, status=status, mimetype="application/xml")(environ, start_response)
        for translate in _REQUEST_TRANSLATORS:
            answered = translate(environ, app, start_response)
            if answered is not None:
                return answered
        return app(environ, start_response)

    return wrapped


# --------------------------------------------------------------------------------------------
# CloudWatch over rpc-v2-cbor
# --------------------------------------------------------------------------------------------

# Smithy RPC v2 CBOR: POST /service/<ServiceName>/operation/<Operation>, header
# `smithy-protocol: rpc-v2-cbor`, CBOR request and response bodies, timestamps as CBOR tag 1
# (epoch seconds), blobs as byte strings, errors as a CBOR map with `__type`
# ("namespace#Code") and `message` (Smithy, "RPC v2 CBOR protocol"). The current Rust
# aws-sdk-cloudwatch speaks only this; moto serves CloudWatch's JSON protocol
# (`X-Amz-Target: GraniteServiceVersion20100801.<Operation>`), so the adapter translates.
_CBOR_PREFIX = "/service/"
_CLOUDWATCH_SERVICE = "GraniteServiceVersion20100801"
_CLOUDWATCH_NAMESPACE = "com.amazonaws.cloudwatch"
_cloudwatch_model = None


def _cloudwatch_shapes() -> dict:
    """botocore's CloudWatch model (moto depends on botocore): which members are timestamps and
    blobs, so JSON numbers and strings become CBOR's tag 1 and byte strings."""
    global _cloudwatch_model
    if _cloudwatch_model is None:
        import botocore.loaders

        _cloudwatch_model = botocore.loaders.Loader().load_service_model("cloudwatch", "service-2")
    return _cloudwatch_model


def _typed(value, shape_name: str, to_cbor: bool):
    """A JSON value (to CBOR) or a CBOR-decoded value (to JSON), converted by its shape."""
    import base64
    import datetime

    shape = _cloudwatch_shapes()["shapes"].get(shape_name, {})
    kind = shape.get("type")
    if value is None:
        return None
    if kind == "structure" and isinstance(value, dict):
        members = shape.get("members", {})
        return {k: _typed(v, members[k]["shape"], to_cbor) if k in members else v for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_typed(v, shape["member"]["shape"], to_cbor) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _typed(v, shape["value"]["shape"], to_cbor) for k, v in value.items()}
    if kind == "timestamp":
        if to_cbor:
            if isinstance(value, (int, float)):
                return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
            if isinstance(value, str):
                return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return value
        return value.timestamp() if isinstance(value, datetime.datetime) else value
    if kind == "blob":
        if to_cbor:
            return base64.b64decode(value) if isinstance(value, str) else value
        return base64.b64encode(value).decode() if isinstance(value, (bytes, bytearray)) else value
    return value


def _cbor_response(status: int, payload: dict):
    import cbor2
    from werkzeug.wrappers import Response

    body = cbor2.dumps(payload, datetime_as_timestamp=True)
    return Response(body, status=status, headers={"smithy-protocol": "rpc-v2-cbor"}, content_type="application/cbor")


def _cbor_error(status: int, code: str, message: str):
    return _cbor_response(status, {"__type": f"{_CLOUDWATCH_NAMESPACE}#{code}", "message": message})


@patch
def cloudwatch_speaks_rpc_v2_cbor():
    """AWS: CloudWatch serves the Smithy RPC v2 CBOR protocol (besides query and JSON), which the
    current Rust aws-sdk-cloudwatch uses exclusively (CloudWatch API Reference; Smithy, "RPC v2
    CBOR protocol"). moto answers 404. The request is decoded, given to moto's JSON handler and
    the answer (or its error) encoded back; timestamps and blobs follow the operation's shapes."""
    _REQUEST_TRANSLATORS.append(_translate_cbor)


@patch
def describe_alarms_paginates():
    """AWS: DescribeAlarms returns at most MaxRecords (1-100, default 50) alarms and a NextToken
    for the rest (CloudWatch API Reference, DescribeAlarms). moto returns every alarm at once."""
    from moto.core.responses import ActionResult
    from moto.cloudwatch.responses import CloudWatchResponse

    original = CloudWatchResponse.describe_alarms

    def describe_alarms(self):
        result = original(self).result
        limit = int(self._get_param("MaxRecords") or 50)
        start = int(self._get_param("NextToken") or 0)
        alarms = sorted(result["MetricAlarms"], key=lambda a: a.name) + sorted(result["CompositeAlarms"], key=lambda a: a.name)
        page = alarms[start:start + limit]
        out = {"MetricAlarms": [a for a in page if a.rule is None], "CompositeAlarms": [a for a in page if a.rule is not None]}
        if start + limit < len(alarms):
            out["NextToken"] = str(start + limit)
        return ActionResult(out)

    CloudWatchResponse.describe_alarms = describe_alarms


def _translate_cbor(environ, app, start_response):
    """Answer an rpc-v2-cbor CloudWatch request through moto's JSON protocol; None if not one."""
    import io

    import cbor2

    path = environ.get("PATH_INFO", "")
    if not path.startswith(_CBOR_PREFIX):
        return None
    parts = path[len(_CBOR_PREFIX):].split("/")
    if len(parts) != 3 or parts[1] != "operation":
        return None
    service, _, operation = parts
    if service != _CLOUDWATCH_SERVICE:
        return _cbor_error(404, "UnknownOperationException", f"service {service} is not served over rpc-v2-cbor here")(environ, start_response)
    operations = _cloudwatch_shapes()["operations"]
    if operation not in operations:
        return _cbor_error(404, "UnknownOperationException", f"no operation {operation}")(environ, start_response)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        request = cbor2.loads(raw) if raw else {}
    except Exception as e:  # a malformed body is the client's fault, as in AWS
        return _cbor_error(400, "SerializationException", f"the body is not CBOR: {e}")(environ, start_response)
    op = operations[operation]
    if "input" in op:
        request = _typed(request, op["input"]["shape"], to_cbor=False)
    body = json.dumps(request or {}).encode()
    inner = dict(environ)
    inner.update({
        "PATH_INFO": "/", "REQUEST_METHOD": "POST", "QUERY_STRING": "",
        "CONTENT_TYPE": "application/x-amz-json-1.0", "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_AMZ_TARGET": f"{_CLOUDWATCH_SERVICE}.{operation}", "wsgi.input": io.BytesIO(body),
    })
    captured = {}

    def capture(status, headers, exc_info=None):
        captured["status"] = int(status.split(" ", 1)[0])
        return lambda data: None

    answer = b"".join(app(inner, capture))
    status = captured.get("status", 500)
    try:
        payload = json.loads(answer) if answer.strip() else {}
    except ValueError:
        payload = {"message": answer.decode("utf-8", "replace")}
    if status >= 400:
        code = str(payload.get("__type") or payload.get("code") or "InternalFailure").rsplit("#", 1)[-1]
        message = payload.get("message") or payload.get("Message") or ""
        return _cbor_error(status, code, message)(environ, start_response)
    if "output" in op:
        payload = _typed(payload, op["output"]["shape"], to_cbor=True)
    return _cbor_response(status, payload)(environ, start_response)


# --------------------------------------------------------------------------------------------
# SNS
# --------------------------------------------------------------------------------------------

# Protocols whose endpoint must confirm before SNS delivers to it (SNS Developer Guide,
# "Subscribing to an Amazon SNS topic": email, email-json, http and https subscriptions are
# pending until confirmed; SQS, Lambda, SMS and application endpoints are confirmed at once).
_SNS_CONFIRMED_BY_HAND = ("email", "email-json", "http", "https")


def _sns_pending(subscription) -> bool:
    return getattr(subscription, "logmend_token", None) is not None


@patch
def sns_subscriptions_wait_for_confirmation():
    """AWS: an email, email-json, http or https subscription stays pending until its endpoint
    confirms with the token SNS sent it (ConfirmSubscription with TopicArn and Token). Until then
    ListSubscriptionsByTopic shows its SubscriptionArn as `PendingConfirmation`, Subscribe
    answers `pending confirmation` (unless ReturnSubscriptionArn is true),
    GetSubscriptionAttributes says PendingConfirmation `true`, and GetTopicAttributes counts it
    in SubscriptionsPending, the confirmed ones in SubscriptionsConfirmed (SNS API Reference,
    Subscribe, ConfirmSubscription, GetTopicAttributes). moto confirms every subscription at once,
    counts none, and its ConfirmSubscription checks no token. The tokens SNS would mail are listed
    at GET /logmend-emulator/sns-confirmations, the tests' mailbox."""
    import secrets

    from moto.core.responses import ActionResult
    from moto.sns.exceptions import SNSInvalidParameter
    from moto.sns.models import SNSBackend, Subscription, Topic
    from moto.sns.responses import SNSResponse

    original_subscribe = SNSBackend.subscribe

    def subscribe(self, topic_arn, endpoint, protocol):
        existing = self._find_subscription(topic_arn, endpoint, protocol)
        subscription = original_subscribe(self, topic_arn, endpoint, protocol)
        if existing is None and protocol in _SNS_CONFIRMED_BY_HAND:
            subscription.logmend_token = secrets.token_hex(32)
            subscription.attributes["PendingConfirmation"] = "true"
            subscription.attributes["ConfirmationWasAuthenticated"] = "false"
        return subscription

    SNSBackend.subscribe = subscribe

    def listed_arn(self):
        return "PendingConfirmation" if _sns_pending(self) else self.arn

    Subscription.SubscriptionArn = property(listed_arn)

    def counted(pending: bool):
        def count(self):
            subs = self.sns_backend._get_topic_subscriptions(self)
            return str(sum(1 for s in subs if _sns_pending(s) == pending))

        return property(count, lambda self, value: None)

    Topic.subscriptions_pending = counted(True)
    Topic.subscriptions_confimed = counted(False)

    original_response_subscribe = SNSResponse.subscribe

    def response_subscribe(self):
        result = original_response_subscribe(self)
        arn = result.result.get("SubscriptionArn") if isinstance(result.result, dict) else None
        subscription = self.backend.subscriptions.get(arn) if arn else None
        returns_arn = str(self._get_param("ReturnSubscriptionArn") or "").lower() == "true"
        if subscription is not None and _sns_pending(subscription) and not returns_arn:
            return ActionResult({"SubscriptionArn": "pending confirmation"})
        return result

    SNSResponse.subscribe = response_subscribe

    def confirm_subscription(self):
        topic_arn = self._get_param("TopicArn")
        token = self._get_param("Token")
        self.backend.get_topic(topic_arn)  # NotFound for an unknown topic
        for subscription in self.backend.subscriptions.values():
            if subscription.topic.arn == topic_arn and token and getattr(subscription, "logmend_token", None) == token:
                subscription.logmend_token = None
                subscription.attributes["PendingConfirmation"] = "false"
                subscription.attributes["ConfirmationWasAuthenticated"] = "true"
                return ActionResult({"SubscriptionArn": subscription.arn})
        raise SNSInvalidParameter("Invalid token")

    SNSResponse.confirm_subscription = confirm_subscription


def sns_confirmations() -> list[dict]:
    """The pending subscriptions and the tokens SNS would have sent their endpoints."""
    from moto.sns.models import sns_backends

    out = []
    for account, regions in sns_backends.items():
        for region, backend in regions.items():
            for s in backend.subscriptions.values():
                if _sns_pending(s):
                    out.append({"account": account, "region": region, "topic_arn": s.topic.arn,
                                "protocol": s.protocol, "endpoint": s.endpoint, "token": s.logmend_token})
    return out


# --------------------------------------------------------------------------------------------
# Amazon MQ
# --------------------------------------------------------------------------------------------

_MQ_LOG_TYPES = ("General", "Audit")


def _mq_bad_request(message: str):
    from moto.mq.exceptions import BadRequestException

    err = BadRequestException(message)
    err.code = "BadRequestException"
    return err


def _reject_rabbitmq_audit(engine_type: str | None, logs: dict | None) -> None:
    if (engine_type or "").upper() == "RABBITMQ" and (logs or {}).get("Audit"):
        raise _mq_bad_request("Audit logs are not supported for RabbitMQ brokers.")


@patch
def rabbitmq_brokers_reject_audit_logs():
    """AWS: audit logging exists only for ActiveMQ; Logs.Audit "Does not apply to RabbitMQ
    brokers" (Amazon MQ REST API Reference, Logs), and CreateBroker/UpdateBroker asking for it on
    a RabbitMQ broker fail with BadRequestException. moto stores it."""
    from moto.mq.models import MQBackend

    create = MQBackend.create_broker
    update = MQBackend.update_broker

    def create_broker(self, *args, **kwargs):
        _reject_rabbitmq_audit(kwargs.get("engine_type"), kwargs.get("logs"))
        return create(self, *args, **kwargs)

    def update_broker(self, *args, **kwargs):
        broker = self.describe_broker(kwargs["broker_id"])
        _reject_rabbitmq_audit(broker.engine_type, kwargs.get("logs"))
        return update(self, *args, **kwargs)

    MQBackend.create_broker = create_broker
    MQBackend.update_broker = update_broker


@patch
def update_broker_logs_wait_for_reboot():
    """AWS: a log change made with UpdateBroker does not apply at once. DescribeBroker shows it in
    Logs.Pending ("The list of information about logs pending to be deployed for the specified
    broker", Amazon MQ REST API Reference, LogsSummary) until the broker reboots or its
    maintenance window comes ("Amazon MQ applies the changes ... after the broker is rebooted",
    Amazon MQ Developer Guide, editing broker preferences). UpdateBroker changes only the log
    types it names. While a reboot runs the broker is REBOOT_IN_PROGRESS
    (LOGMEND_EMULATOR_MQ_REBOOT_SECONDS). moto replaces the whole Logs object at once."""
    from moto.mq.models import Broker, MQBackend

    def update(self, *args, **kwargs):
        logs = kwargs.pop("logs", None)
        original_update(self, *args, logs=None, **kwargs)
        if not logs:
            return
        pending = dict(self.logs.get("Pending") or {})
        for key in _MQ_LOG_TYPES:
            if key not in logs or logs[key] is None:
                continue
            wanted = bool(logs[key])
            if bool(self.logs.get(key, False)) == wanted:
                pending.pop(key, None)
            else:
                pending[key] = wanted
        if pending:
            self.logs["Pending"] = pending
        else:
            self.logs.pop("Pending", None)

    def finish_reboot(self):
        for key, value in (self.logs.pop("Pending", None) or {}).items():
            self.logs[key] = value
        self.state = "RUNNING"
        self._reboot_done_at = None

    def reboot(self):
        delay = mq_reboot_seconds()
        if delay > 0:
            self.state = "REBOOT_IN_PROGRESS"
            self._reboot_done_at = time.monotonic() + delay
        else:
            finish_reboot(self)

    original_update = Broker.update
    describe = MQBackend.describe_broker

    def describe_broker(self, broker_id):
        broker = describe(self, broker_id)
        done_at = getattr(broker, "_reboot_done_at", None)
        if done_at is not None and time.monotonic() >= done_at:
            finish_reboot(broker)
        return broker

    Broker.update = update
    Broker.reboot = reboot
    MQBackend.describe_broker = describe_broker


# --------------------------------------------------------------------------------------------

# --------------------------------------------------------------------------------------------
# RDS and Aurora
# --------------------------------------------------------------------------------------------


def aurora_parameter_group_family(engine: str, engine_version: str | None) -> str | None:
    """The DB cluster parameter group family of an Aurora engine version, as AWS names it
    (aurora-mysql 8.0.mysql_aurora.3.x -> aurora-mysql8.0; aurora-postgresql 16.4 ->
    aurora-postgresql16)."""
    version = engine_version or {"aurora-mysql": "8.0.mysql_aurora.3.05.2", "aurora-postgresql": "16.4"}.get(engine, "")
    if engine == "aurora-mysql":
        return "aurora-mysql" + ".".join(version.split(".")[:2])
    if engine == "aurora-postgresql":
        major = version.split(".")[0]
        return "aurora-postgresql" + (version[:3] if major == "9" else major)
    return None


# Engine defaults of the parameters logmend reads (Aurora User Guide, "Aurora MySQL parameters";
# server_audit_logging is OFF and server_audit_events empty unless set).
AURORA_DEFAULT_PARAMETERS = {
    "aurora-mysql": [
        {"ParameterName": "server_audit_logging", "ParameterValue": "0", "Source": "engine-default",
         "ApplyType": "dynamic", "DataType": "boolean", "IsModifiable": True},
        {"ParameterName": "server_audit_events", "ParameterValue": "", "Source": "engine-default",
         "ApplyType": "dynamic", "DataType": "list", "IsModifiable": True},
    ],
}


def _ensure_default_cluster_parameter_group(backend, family: str):
    from moto.rds.models import DBClusterParameterGroup

    name = f"default.{family}"
    if name not in backend.db_cluster_parameter_groups:
        group = DBClusterParameterGroup(
            backend=backend, db_cluster_parameter_group_name=name,
            description=f"Default cluster parameter group for {family}", db_parameter_group_family=family,
        )
        for p in AURORA_DEFAULT_PARAMETERS.get(family.rstrip("0123456789."), []):
            group.parameters[p["ParameterName"]] = {k: v for k, v in p.items() if k != "ParameterName"}
        backend.db_cluster_parameter_groups[name] = group
    return name


@patch
def default_cluster_parameter_groups_exist_and_refuse_changes():
    """AWS: a cluster created without a DB cluster parameter group uses its family's default group,
    `default.aurora-mysql8.0`, `default.aurora-postgresql16`, …, which DescribeDBClusterParameterGroups
    lists and DescribeDBClusterParameters reads (server_audit_logging=0); "You can't modify the
    parameter settings of a default parameter group" (Aurora User Guide, "Parameter groups for
    Amazon Aurora"): ModifyDBClusterParameterGroup on it fails with InvalidParameterValue.
    moto names the group `default.aurora8.0` and cannot describe it."""
    from moto.rds.exceptions import InvalidParameterValue
    from moto.rds.models import DBCluster, RDSBackend

    original_init = DBCluster.__init__

    def init(self, backend, *args, **kwargs):
        original_init(self, backend, *args, **kwargs)
        family = aurora_parameter_group_family(self.engine, getattr(self, "engine_version", None))
        if family and not kwargs.get("db_cluster_parameter_group_name"):
            self.parameter_group = _ensure_default_cluster_parameter_group(backend, family)

    modify = RDSBackend.modify_db_cluster_parameter_group

    def modify_db_cluster_parameter_group(self, db_cluster_parameter_group_name, *args, **kwargs):
        if db_cluster_parameter_group_name.startswith("default."):
            raise InvalidParameterValue("Cannot modify a default parameter group.")
        return modify(self, db_cluster_parameter_group_name, *args, **kwargs)

    DBCluster.__init__ = init
    RDSBackend.modify_db_cluster_parameter_group = modify_db_cluster_parameter_group


def _log_types_config(kwargs: dict) -> dict:
    for key in ("cloudwatch_logs_export_configuration", "CloudwatchLogsExportConfiguration"):
        if kwargs.get(key):
            return kwargs.pop(key)
    return {}


@patch
def db_clusters_stay_creating_for_a_while():
    """AWS: a new DB cluster is `creating` until it is available, which takes minutes (RDS User
    Guide, "Viewing DB cluster status": creating, "The DB cluster is being created"). moto says
    `creating` only in CreateDBCluster's own answer and `available` from the first describe on.
    Here it stays `creating` for LOGMEND_EMULATOR_RDS_CREATE_SECONDS (default 0: moto's way)."""
    from moto.rds.models import DBCluster

    init = DBCluster.__init__
    status = DBCluster.status

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        delay = rds_create_seconds()
        self._creating_until = time.monotonic() + delay if delay > 0 else 0

    def get_status(self):
        if self._status == "creating" and getattr(self, "_creating_until", 0) > 0:
            if time.monotonic() < self._creating_until:
                return "creating"
            self._status = "available"
        return status.fget(self)

    DBCluster.__init__ = __init__
    DBCluster.status = property(get_status, status.fset)


@patch
def modify_db_cluster_exports_log_types_and_knows_missing_clusters():
    """AWS: ModifyDBCluster with CloudwatchLogsExportConfiguration enables (EnableLogTypes) and
    disables (DisableLogTypes) log exports and keeps the others; the change applies at once
    (RDS API Reference, ModifyDBCluster, CloudwatchLogsExportConfiguration and ApplyImmediately).
    A cluster that does not exist: DBClusterNotFoundFault. Attaching another DB cluster parameter
    group leaves each member instance `pending-reboot` until it reboots (Aurora User Guide,
    "Associating a DB cluster parameter group"). moto ignores the export configuration, answers
    a missing cluster with HTTP 500, and keeps members in-sync."""
    from moto.rds.exceptions import DBClusterNotFoundError
    from moto.rds.models import DBCluster, RDSBackend

    modify = RDSBackend.modify_db_cluster

    def modify_db_cluster(self, kwargs):
        cluster_id = kwargs["db_cluster_identifier"]
        if cluster_id not in self.clusters:
            raise DBClusterNotFoundError(cluster_id)
        cluster = self.clusters[cluster_id]
        exports = _log_types_config(kwargs)
        old_group = cluster.parameter_group
        result = modify(self, kwargs)
        cluster = self.clusters[kwargs.get("new_db_cluster_identifier") or cluster_id]
        for t in exports.get("DisableLogTypes") or []:
            if t in cluster.enabled_cloudwatch_logs_exports:
                cluster.enabled_cloudwatch_logs_exports.remove(t)
        for t in exports.get("EnableLogTypes") or []:
            if t not in cluster.enabled_cloudwatch_logs_exports:
                cluster.enabled_cloudwatch_logs_exports.append(t)
        if cluster.parameter_group != old_group:
            cluster._pending_reboot = {m.db_instance_identifier for m in cluster.members}
        result.enabled_cloudwatch_logs_exports = list(cluster.enabled_cloudwatch_logs_exports)
        return result

    def db_cluster_members(self):
        pending = getattr(self, "_pending_reboot", set())
        return [
            {
                "DBInstanceIdentifier": m.db_instance_identifier,
                "IsClusterWriter": m.is_cluster_writer,
                "DBClusterParameterGroupStatus": "pending-reboot" if m.db_instance_identifier in pending else "in-sync",
                "PromotionTier": m.promotion_tier,
            }
            for m in self.members
        ]

    reboot = RDSBackend.reboot_db_instance

    def reboot_db_instance(self, db_instance_identifier):
        for cluster in self.clusters.values():
            getattr(cluster, "_pending_reboot", set()).discard(db_instance_identifier)
        return reboot(self, db_instance_identifier)

    RDSBackend.modify_db_cluster = modify_db_cluster
    RDSBackend.reboot_db_instance = reboot_db_instance
    DBCluster.db_cluster_members = property(db_cluster_members)


def _rds_error(code: str, message: str):
    from moto.rds.exceptions import RDSClientError

    return RDSClientError(code, message)


def _default_option_group(backend, engine: str, version: str):
    """default:<engine>-<major> as RDS makes it for every engine major version: no options."""
    from moto.rds.models import OptionGroup

    parts = version.split(".")
    major = parts[0] if engine.startswith(("sqlserver", "oracle")) or len(parts) < 2 else ".".join(parts[:2])
    name = f"default:{engine}-{major.replace('.', '-')}"
    if name not in backend.option_groups:
        group = OptionGroup(backend, option_group_name=name, engine_name=engine, major_engine_version=major,
                            option_group_description=f"Default option group for {engine} {major}")
        backend.option_groups[name] = group
    return name


@patch
def default_db_parameter_and_option_groups_exist_and_refuse_changes():
    """AWS: every DB instance starts on its engine's default DB parameter group
    (`default.mysql8.0`) and default option group (`default:mysql-8-0`, no options); both can be
    described and neither can be modified ("You can't modify the parameter settings of a default
    DB parameter group"; "you can't modify the default option group": RDS User Guide, "Working
    with parameter groups" and "Working with option groups"). moto makes the default parameter
    group only on the instance's first describe and lets it be modified, and has no default
    option groups at all."""
    from moto.rds.models import RDSBackend

    create = RDSBackend.create_db_instance

    def create_db_instance(self, db_kwargs):
        database = create(self, db_kwargs)
        if not database.db_cluster_identifier:
            database.db_parameter_groups()  # moto's lazy default group, made now
            if database.option_group_name.startswith("default:"):
                database.option_group_name = _default_option_group(self, database.engine, database.engine_version)
        return database

    modify_pg = RDSBackend.modify_db_parameter_group

    def modify_db_parameter_group(self, db_parameter_group_name, db_parameter_group_parameters):
        if db_parameter_group_name.startswith("default."):
            raise _rds_error("InvalidParameterValue",
                             f"The parameter group {db_parameter_group_name} is a default group and cannot be modified.")
        return modify_pg(self, db_parameter_group_name, db_parameter_group_parameters)

    modify_og = RDSBackend.modify_option_group

    def modify_option_group(self, option_group_name, options_to_include=None, options_to_remove=None):
        if option_group_name.startswith("default:"):
            raise _rds_error("InvalidParameterValue", "Default option groups cannot be modified.")
        return modify_og(self, option_group_name, options_to_include, options_to_remove)

    RDSBackend.create_db_instance = create_db_instance
    RDSBackend.modify_db_parameter_group = modify_db_parameter_group
    RDSBackend.modify_option_group = modify_option_group


@patch
def copy_option_group_copies_the_options():
    """AWS: CopyOptionGroup makes a new option group with the source's engine, version and
    options (RDS API Reference, CopyOptionGroup); OptionGroupAlreadyExistsFault if the target
    exists. moto does not implement the action."""
    from moto.rds.models import OptionGroup
    from moto.rds.responses import RDSResponse
    from moto.core.responses import ActionResult

    def copy_option_group(self):
        source_name = (self.params.get("SourceOptionGroupIdentifier") or "").split(":og:")[-1].lower()
        target_name = self.params.get("TargetOptionGroupIdentifier") or ""
        groups = self.backend.option_groups
        if source_name not in groups:
            raise _rds_error("OptionGroupNotFoundFault", f"Specified OptionGroupName: {source_name} not found.")
        if target_name.lower() in groups:
            raise _rds_error("OptionGroupAlreadyExistsFault", f"An option group named {target_name} already exists.")
        source = groups[source_name]
        target = OptionGroup(self.backend, option_group_name=target_name, engine_name=source.engine_name,
                             major_engine_version=source.major_engine_version,
                             option_group_description=self.params.get("TargetOptionGroupDescription"),
                             tags=self.params.get("Tags") or [])
        target._options = {k: list(v) for k, v in source._options.items()}
        groups[target.name] = target
        return ActionResult({"OptionGroup": target})

    RDSResponse.copy_option_group = copy_option_group


@patch
def db_instance_group_changes_wait_as_in_aws():
    """AWS: ModifyDBInstance with another DBParameterGroupName attaches it at once, but its
    parameters apply only after a reboot: DBParameterGroups[].ParameterApplyStatus is
    `pending-reboot` until RebootDBInstance. Another OptionGroupName applies at the next
    maintenance window unless ApplyImmediately is set; meanwhile OptionGroupMemberships lists the
    new group `pending-apply` and the old one `pending-removal` (RDS API Reference,
    ModifyDBInstance, DBParameterGroupName and OptionGroupName). moto switches both at once and
    says in-sync. A group that does not exist: DBParameterGroupNotFound / OptionGroupNotFoundFault."""
    from moto.rds.models import DBInstance, RDSBackend

    modify = RDSBackend.modify_db_instance

    def modify_db_instance(self, db_instance_identifier, db_kwargs):
        database = self.describe_db_instances(db_instance_identifier)[0]
        old_pg = database.db_parameter_group_name or database.db_parameter_groups()[0].name
        old_og = database.option_group_name
        new_og = db_kwargs.pop("option_group_name", None)
        if new_og and new_og.lower() not in self.option_groups:
            raise _rds_error("OptionGroupNotFoundFault", f"Specified OptionGroupName: {new_og} not found.")
        result = modify(self, db_instance_identifier, db_kwargs)
        new_pg = db_kwargs.get("db_parameter_group_name")
        if new_pg and new_pg != old_pg:
            database._pending_reboot = True
        if new_og and new_og.lower() != (old_og or "").lower():
            if db_kwargs.get("apply_immediately"):
                database.option_group_name = new_og.lower()
                database._pending_option_group = None
            else:
                database._pending_option_group = new_og.lower()
        return result

    def db_parameter_group_status_list(self):
        groups = self.db_parameter_groups()
        for group in groups:
            group.ParameterApplyStatus = "pending-reboot" if getattr(self, "_pending_reboot", False) else "in-sync"
        return groups

    def option_group_memberships(self):
        pending = getattr(self, "_pending_option_group", None)
        if pending:
            return [{"OptionGroupName": pending, "Status": "pending-apply"},
                    {"OptionGroupName": self.option_group_name, "Status": "pending-removal"}]
        return [{"OptionGroupName": self.option_group_name, "Status": "in-sync"}]

    reboot = RDSBackend.reboot_db_instance

    def reboot_db_instance(self, db_instance_identifier):
        database = reboot(self, db_instance_identifier)
        database._pending_reboot = False
        return database

    RDSBackend.modify_db_instance = modify_db_instance
    RDSBackend.reboot_db_instance = reboot_db_instance
    DBInstance.db_parameter_group_status_list = property(db_parameter_group_status_list)
    DBInstance.option_group_memberships = property(option_group_memberships)


# ExportableLogTypes by engine (RDS User Guide, "Publishing database logs to Amazon CloudWatch
# Logs", per engine; SQL Server Express has no SQL Server Agent, so no `agent` log).
EXPORTABLE_LOG_TYPES = {
    "mysql": ["audit", "error", "general", "slowquery", "iam-db-auth-error"],
    "mariadb": ["audit", "error", "general", "slowquery", "iam-db-auth-error"],
    "postgres": ["postgresql", "upgrade", "iam-db-auth-error"],
    "oracle-ee": ["alert", "audit", "listener", "trace", "oemagent"],
    "oracle-se2": ["alert", "audit", "listener", "trace", "oemagent"],
    "sqlserver-ee": ["agent", "error"],
    "sqlserver-se": ["agent", "error"],
    "sqlserver-web": ["agent", "error"],
    "sqlserver-ex": ["error"],
    "aurora-mysql": ["audit", "error", "general", "slowquery", "iam-db-auth-error", "instance"],
    "aurora-postgresql": ["postgresql", "instance", "iam-db-auth-error"],
}


@patch
def describe_db_engine_versions_lists_exportable_log_types():
    """AWS: DescribeDBEngineVersions returns, per engine version, ExportableLogTypes: the log types
    it can publish to CloudWatch Logs (RDS API Reference, DBEngineVersion). SQL Server Express,
    for one, offers `error` but not `agent`. moto does not implement the action."""
    from moto.rds.responses import RDSResponse
    from moto.core.responses import ActionResult

    def describe_db_engine_versions(self):
        engine = self._get_param("Engine")
        version = self._get_param("EngineVersion") or "default"
        engines = [engine] if engine else sorted(EXPORTABLE_LOG_TYPES)
        found = [
            {"Engine": e, "EngineVersion": version, "DBParameterGroupFamily": e,
             "ExportableLogTypes": EXPORTABLE_LOG_TYPES[e], "SupportsLogExportsToCloudwatchLogs": True}
            for e in engines if e in EXPORTABLE_LOG_TYPES
        ]
        return ActionResult({"DBEngineVersions": found})

    RDSResponse.describe_db_engine_versions = describe_db_engine_versions



# --------------------------------------------------------------------------------------------
# Fault injection (not a fidelity patch: the reliability tests' way to make AWS fail on cue)
# --------------------------------------------------------------------------------------------
#
# POST /logmend-emulator/faults with a JSON list of rules replaces the rules; GET lists them
# with how often each fired. A rule: {"action": "mq:UpdateBroker" | "*", "fault": F,
# "times": N (-1: always), "after_writes": K (fire only once K mutating calls succeeded),
# "body_contains": S (only requests whose body holds S: one resource's calls)}.
# F: throttle | http-429 | http-500 | http-503 | reset | timeout | not-found | access-denied.
# Each error is written in the service's own protocol (JSON, query XML, REST-JSON), with the
# code AWS uses there, so the Rust SDK parses it as it would AWS's.

_fault_rules: list[dict] = []
_fault_lock = threading.Lock()
_writes_seen = 0
# Requests a "timeout" fault is holding: each is still served once its stall ends, after the
# client gave up on it, as a slow AWS answer would be.
_stalled = 0

_MQ_ROUTES = [
    ("GET", ("v1", "brokers"), "ListBrokers"),
    ("POST", ("v1", "brokers"), "CreateBroker"),
    ("GET", ("v1", "brokers", None), "DescribeBroker"),
    ("PUT", ("v1", "brokers", None), "UpdateBroker"),
    ("DELETE", ("v1", "brokers", None), "DeleteBroker"),
    ("POST", ("v1", "brokers", None, "reboot"), "RebootBroker"),
]

THROTTLE_CODE = {"iam": "Throttling", "rds": "Throttling", "mq": "TooManyRequestsException", "s3": "SlowDown",
                 "monitoring": "Throttling", "ec2": "RequestLimitExceeded", "elasticloadbalancing": "Throttling",
                 "cloudfront": "Throttling"}
NOT_FOUND_CODE = {
    "mq": ("NotFoundException", 404),
    "cloudtrail": ("TrailNotFoundException", 400),
    "logs": ("ResourceNotFoundException", 400),
    "iam": ("NoSuchEntity", 404),
    "sqs": ("AWS.SimpleQueueService.NonExistentQueue", 400),
    "s3": ("NoSuchBucket", 404),
    "kms": ("NotFoundException", 400),
    "ec2": ("InvalidVpcID.NotFound", 400),
    "elasticloadbalancing": ("LoadBalancerNotFound", 400),
    "wafv2": ("WAFNonexistentItemException", 400),
    "route53resolver": ("ResourceNotFoundException", 400),
    "cloudfront": ("NoSuchDistribution", 404),
}
RDS_NOT_FOUND = {"Instance": "DBInstanceNotFound", "ParameterGroup": "DBParameterGroupNotFound", "Cluster": "DBClusterNotFoundFault"}


def _credential_scope(environ) -> list[str]:
    """A SigV4 request's credential scope: [access key, date, region, service, "aws4_request"]
    (empty when unsigned)."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" not in auth:
        return []
    return auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")


def _buffered_body(environ) -> bytes:
    """Read the request body and put it back, so the app behind can read it again."""
    import io

    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _request_call(environ, body: bytes) -> tuple[str, str, str]:
    """(service, action, protocol) of a request, as the recorder parsing in the harness does."""
    scope = _credential_scope(environ)
    service = scope[3] if len(scope) > 3 else "unsigned"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1], "json"
    path = environ.get("PATH_INFO", "")
    if path.startswith(_CBOR_PREFIX) and "/operation/" in path:
        return service, path.rsplit("/", 1)[-1], "rpc-v2-cbor"
    text = body.decode("utf-8", "replace")
    for kv in text.split("&"):
        if kv.startswith("Action="):
            return service, kv[len("Action="):], "query"
    segments = tuple(p for p in environ.get("PATH_INFO", "").split("/") if p)
    if service == "s3":
        return service, _s3_action(environ.get("REQUEST_METHOD", ""), segments, environ.get("QUERY_STRING", "")), "rest-xml"
    if service == "securityhub":
        action = {("POST", ("findings", "import")): "BatchImportFindings", ("POST", ("findings",)): "GetFindings",
                  ("POST", ("accounts",)): "EnableSecurityHub"}.get((environ.get("REQUEST_METHOD"), segments))
        if action:
            return service, action, "rest-json"
    for method, route, action in _MQ_ROUTES:
        if method == environ.get("REQUEST_METHOD") and len(route) == len(segments) and all(
            r is None or r == s for r, s in zip(route, segments)
        ):
            return service, action, "rest-json"
    return service, f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}", "rest-json"


_S3_SUBRESOURCES = {
    "location": ("GetBucketLocation", None, None), "tagging": ("GetBucketTagging", "PutBucketTagging", None),
    "policy": ("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"),
    "publicAccessBlock": ("GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock", "PutBucketPublicAccessBlock"),
    "versioning": ("GetBucketVersioning", "PutBucketVersioning", None),
    "object-lock": ("GetBucketObjectLockConfiguration", "PutBucketObjectLockConfiguration", None),
    "lifecycle": ("GetLifecycleConfiguration", "PutLifecycleConfiguration", "PutLifecycleConfiguration"),
    "logging": ("GetBucketLogging", "PutBucketLogging", None),
    "encryption": ("GetEncryptionConfiguration", "PutEncryptionConfiguration", None),
    "acl": ("GetBucketAcl", "PutBucketAcl", None),
    "ownershipControls": ("GetBucketOwnershipControls", "PutBucketOwnershipControls", None),
}


def _s3_action(method: str, segments: tuple, query: str) -> str:
    """The IAM action of a path-style S3 request, as the harness's recorder names it."""
    keys = [kv.split("=", 1)[0] for kv in query.split("&") if kv and not kv.startswith("x-id")]
    for key in keys:
        if key in _S3_SUBRESOURCES:
            get, put, delete = _S3_SUBRESOURCES[key]
            return {"GET": get, "PUT": put, "DELETE": delete}.get(method) or f"{method} ?{key}"
    if len(segments) == 1:
        return {"PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(method, "ListBucket")
    return {"PUT": "PutObject", "DELETE": "DeleteObject"}.get(method, "GetObject")


def _is_write(action: str) -> bool:
    return not action.startswith(("Describe", "Get", "List", "Lookup", "Receive"))


def _error_response(service: str, action: str, protocol: str, status: int, code: str | None, message: str):
    from werkzeug.wrappers import Response

    if protocol == "query" and service == "ec2":
        # EC2's own query dialect (ec2Query): <Response><Errors><Error>…
        body = (f"<Response><Errors><Error><Code>{code or 'Unknown'}</Code><Message>{message}</Message></Error>"
                f"</Errors><RequestID>logmend-fault</RequestID></Response>")
        return Response(body, status=status, mimetype="text/xml")
    if protocol == "query":
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code or 'Unknown'}</Code>"
                f"<Message>{message}</Message></Error><RequestId>logmend-fault</RequestId></ErrorResponse>")
        return Response(body, status=status, mimetype="text/xml")
    if protocol == "rpc-v2-cbor":
        return _cbor_error(status, code or "UnknownError", message)
    if protocol == "rest-xml":
        body = f"<Error><Code>{code or 'Unknown'}</Code><Message>{message}</Message><RequestId>logmend-fault</RequestId></Error>"
        return Response(body, status=status, mimetype="application/xml")
    headers = {"x-amzn-ErrorType": code} if code else {}
    payload = {"message": message}
    if code and protocol == "json":
        payload["__type"] = code
    return Response(json.dumps(payload), status=status, headers=headers, mimetype="application/x-amz-json-1.1")


def _fault_for(service: str, action: str, body: bytes = b""):
    call = f"{service}:{action}"
    with _fault_lock:
        for rule in _fault_rules:
            if rule.get("action", "*") not in ("*", call):
                continue
            # One resource's calls only: the request body names it (a log group, a broker id).
            if "body_contains" in rule and rule["body_contains"].encode() not in body:
                continue
            if _writes_seen < rule.get("after_writes", 0):
                continue
            if rule.get("times", -1) == 0:
                continue
            if rule.get("times", -1) > 0:
                rule["times"] -= 1
            rule["fired"] = rule.get("fired", 0) + 1
            return rule
    return None


def _not_found_code(service: str, action: str) -> tuple[str, int]:
    if service == "rds":
        for word, code in RDS_NOT_FOUND.items():
            if word in action:
                return code, 404
        return "DBClusterNotFoundFault", 404
    return NOT_FOUND_CODE.get(service, ("ResourceNotFoundException", 404))


def fault_injecting(app):
    """Wrap the emulator's WSGI app with the fault rules above."""
    global _writes_seen

    def wrapped(environ, start_response):
        global _writes_seen, _stalled
        from werkzeug.wrappers import Response

        path = environ.get("PATH_INFO", "")
        if path == "/logmend-emulator/faults":
            global _fault_rules
            if environ.get("REQUEST_METHOD") == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                rules = json.loads(environ["wsgi.input"].read(length) or b"[]")
                with _fault_lock:
                    _fault_rules = rules
                    _writes_seen = 0
            with _fault_lock:
                body = json.dumps(_fault_rules)
            return Response(body, mimetype="application/json")(environ, start_response)
        if path == "/logmend-emulator/stalled":
            with _fault_lock:
                body = json.dumps({"stalled": _stalled})
            return Response(body, mimetype="application/json")(environ, start_response)
        if not _fault_rules or path.startswith(("/moto-api", "/logmend-emulator")):
            return app(environ, start_response)

        body = _buffered_body(environ)
        service, action, protocol = _request_call(environ, body)
        rule = _fault_for(service, action, body)
        if rule is None:
            status_holder = {}

            def recording_start_response(status, headers, exc_info=None):
                status_holder["status"] = int(status.split(" ", 1)[0])
                return start_response(status, headers, exc_info)

            result = app(environ, recording_start_response)
            if _is_write(action) and status_holder.get("status", 500) < 400:
                with _fault_lock:
                    _writes_seen += 1
            return result
        fault = rule["fault"]
        if fault == "failed-findings":
            return _failed_findings(environ, app, start_response, rule)
        if fault == "reset":
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                import socket as _socket

                try:
                    sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    sock.shutdown(_socket.SHUT_RDWR)
                except OSError:
                    pass
            raise ConnectionResetError("logmend fault: connection reset")
        if fault == "timeout":
            with _fault_lock:
                _stalled += 1
            try:
                time.sleep(float(rule.get("seconds", 5)))
                return app(environ, start_response)
            finally:
                with _fault_lock:
                    _stalled -= 1
        if fault == "throttle":
            resp = _throttle_response(service, action, protocol)
        elif fault == "http-429":
            resp = _error_response(service, action, protocol, 429, None, "Too Many Requests")
        elif fault == "http-500":
            resp = _error_response(service, action, protocol, 500, "InternalFailure", "internal error")
        elif fault == "http-503":
            resp = _error_response(service, action, protocol, 503, "ServiceUnavailable", "service unavailable")
        elif fault == "not-found":
            code, status = _not_found_code(service, action)
            resp = _error_response(service, action, protocol, status, code, "the resource does not exist (deleted)")
        elif fault == "access-denied":
            code = "AccessDenied" if protocol in ("query", "rest-xml") else "AccessDeniedException"
            resp = _error_response(service, action, protocol, 403, code, "not authorized (logmend fault)")
        elif fault == "propagation":
            resp = _error_response(service, action, protocol, 400, "InvalidCloudWatchLogsRoleArnException",
                                   "Access denied. Verify in IAM that the role exists and that CloudTrail can assume it.")
        else:
            resp = _error_response(service, action, protocol, 400, "UnknownFault", fault)
        return resp(environ, start_response)

    return wrapped


# --------------------------------------------------------------------------------------------
# Network and edge logs
# --------------------------------------------------------------------------------------------


def _waf_destination_name(arn: str) -> str:
    """The name part of a WAF logging destination: log group, bucket or Firehose stream."""
    if ":log-group:" in arn:
        return arn.split(":log-group:", 1)[1].split(":", 1)[0]
    if arn.startswith("arn:") and ":s3:::" in arn:
        return arn.split(":::", 1)[1].split("/", 1)[0]
    return arn.rsplit("/", 1)[-1]


@patch
def waf_logging_destinations_need_the_aws_waf_logs_prefix():
    """AWS: a web ACL's logging destination (a CloudWatch Logs log group, an S3 bucket or a Data
    Firehose stream) must have a name that starts with `aws-waf-logs-` (AWS WAF Developer Guide,
    "Logging destinations"); PutLoggingConfiguration with any other fails with
    WAFInvalidParameterException. moto stores any destination."""
    from moto.wafv2.exceptions import WAFv2ClientError
    from moto.wafv2.models import WAFV2Backend

    original = WAFV2Backend.put_logging_configuration

    def put_logging_configuration(self, arn, log_destination_configs, *args, **kwargs):
        for destination in log_destination_configs or []:
            if not _waf_destination_name(destination).startswith("aws-waf-logs-"):
                raise WAFv2ClientError(
                    "WAFInvalidParameterException",
                    f"Error reason: The ARN isn't valid. A valid ARN begins with arn: and includes other "
                    f"information separated by colons or slashes., field: LOG_DESTINATION, parameter: {destination}",
                )
        return original(self, arn, log_destination_configs, *args, **kwargs)

    WAFV2Backend.put_logging_configuration = put_logging_configuration


@patch
def resolver_query_log_configs_can_be_disassociated_and_deleted():
    """AWS: DisassociateResolverQueryLogConfig removes a VPC's association (ResourceNotFoundException
    when there is none) and DeleteResolverQueryLogConfig deletes a configuration, refused with
    InvalidRequestException while VPCs are associated with it (Route 53 Resolver API Reference).
    moto 5.2.5 has neither API."""
    import json as _json

    from moto.route53resolver.exceptions import InvalidRequestException, ResourceNotFoundException
    from moto.route53resolver.models import Route53ResolverBackend
    from moto.route53resolver.responses import Route53ResolverResponse

    def disassociate(self, config_id: str, resource_id: str):
        for key, a in list(self.resolver_query_log_config_associations.items()):
            if a.resolver_query_log_config_id == config_id and a.resource_id == resource_id:
                del self.resolver_query_log_config_associations[key]
                self.resolver_query_log_configs[config_id].association_count -= 1
                a.status = "DELETING"
                return a
        raise ResourceNotFoundException(
            f"The query logging configuration '{config_id}' is not associated with '{resource_id}'")

    def delete(self, config_id: str):
        config = self.resolver_query_log_configs.get(config_id)
        if config is None:
            raise ResourceNotFoundException(f"Resolver query log config with ID '{config_id}' does not exist")
        if any(a.resolver_query_log_config_id == config_id for a in self.resolver_query_log_config_associations.values()):
            raise InvalidRequestException(
                f"The query logging configuration '{config_id}' is associated with VPCs; disassociate them first")
        del self.resolver_query_log_configs[config_id]
        config.status = "DELETING"
        return config

    def disassociate_response(self):
        a = self.route53resolver_backend.disassociate_resolver_query_log_config(
            self._get_param("ResolverQueryLogConfigId"), self._get_param("ResourceId"))
        return _json.dumps({"ResolverQueryLogConfigAssociation": a.description()})

    def delete_response(self):
        c = self.route53resolver_backend.delete_resolver_query_log_config(self._get_param("ResolverQueryLogConfigId"))
        return _json.dumps({"ResolverQueryLogConfig": c.description()})

    Route53ResolverBackend.disassociate_resolver_query_log_config = disassociate
    Route53ResolverBackend.delete_resolver_query_log_config = delete
    Route53ResolverResponse.disassociate_resolver_query_log_config = disassociate_response
    Route53ResolverResponse.delete_resolver_query_log_config = delete_response


@patch
def elbv2_attributes_say_access_logs_are_off():
    """AWS: DescribeLoadBalancerAttributes returns every attribute of the load balancer's type,
    `access_logs.s3.enabled` = `false` among them until logging is turned on (ELB API Reference,
    LoadBalancerAttribute). moto leaves that key out ("for TF compatibility")."""
    from moto.elbv2.models import FakeLoadBalancer

    original = FakeLoadBalancer.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.attrs.setdefault("access_logs.s3.enabled", "false")
        if self.type == "application":
            self.attrs.setdefault("connection_logs.s3.enabled", "false")
            self.attrs.setdefault("connection_logs.s3.bucket", "")
            self.attrs.setdefault("connection_logs.s3.prefix", "")

    FakeLoadBalancer.__init__ = __init__


def _bucket_policy_allows(account_id: str, bucket_name: str, service: str, action: str, resource: str,
                          context: dict) -> bool:
    """Whether some Allow statement of the bucket's policy lets `service` make `action` on
    `resource` (a "bucket/key" path), its conditions holding in `context` (lower-case keys)."""
    from moto.s3.models import s3_backends

    bucket = s3_backends[account_id]["aws"].buckets.get(bucket_name)
    if bucket is None or not bucket.policy:
        return False
    for stmt in _as_list(json.loads(bucket.policy).get("Statement")):
        principal = stmt.get("Principal")
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if stmt.get("Effect") != "Allow" or not (principal == "*" or service in services):
            continue
        if not any(fnmatch.fnmatchcase(action, a) for a in _as_list(stmt.get("Action"))):
            continue
        if not any(fnmatch.fnmatchcase(resource, r.split(":::", 1)[-1]) for r in _as_list(stmt.get("Resource"))):
            continue
        conditions_hold = True
        for op, keys in (stmt.get("Condition") or {}).items():
            for k, vals in keys.items():
                actual = context.get(k.lower())
                like = op.startswith("ArnLike") or op.startswith("StringLike")
                ok = actual is not None and any(fnmatch.fnmatchcase(actual, v) if like else actual == v
                                                for v in _as_list(vals))
                conditions_hold = conditions_hold and ok
        if conditions_hold:
            return True
    return False


def _bucket_lets_log_delivery_write(account_id: str, region: str, bucket_arn: str) -> bool:
    """Whether the bucket policy allows delivery.logs.amazonaws.com s3:PutObject under
    AWSLogs/ACCOUNT/ (with the bucket-owner-full-control ACL and this account as source)."""
    path = bucket_arn.split(":::", 1)[-1]
    name = path.split("/", 1)[0]
    prefix = path[len(name):].strip("/")
    key = f"{name}/{prefix + '/' if prefix else ''}AWSLogs/{account_id}/vpcflowlogs/probe.log.gz"
    context = {"aws:sourceaccount": account_id, "s3:x-amz-acl": "bucket-owner-full-control",
               "aws:sourcearn": f"arn:aws:logs:{region}:{account_id}:delivery-source:probe"}
    return _bucket_policy_allows(account_id, name, "delivery.logs.amazonaws.com", "s3:PutObject", key, context)


@patch
def flow_logs_to_s3_fail_when_the_bucket_refuses_delivery():
    """AWS: a flow log to S3 is delivered by the log delivery service, which the bucket policy must
    let write under AWSLogs/ACCOUNT/ (VPC User Guide, "Permissions for flow logs to Amazon S3");
    while it may not, DescribeFlowLogs reports DeliverLogsStatus FAILED with an access error.
    moto reports SUCCESS for any existing bucket."""
    from moto.ec2.models.flow_logs import FlowLogs

    def status(self):
        if self.log_destination_type == "s3" and self.log_destination:
            backend = self.ec2_backend
            if not _bucket_lets_log_delivery_write(backend.account_id, backend.region_name, self.log_destination):
                return "FAILED"
        return self.__dict__.get("_logmend_status", "SUCCESS")

    def set_status(self, value):
        self.__dict__["_logmend_status"] = value

    def error(self):
        if status(self) == "FAILED" and self.log_destination_type == "s3":
            return "Access error"
        return self.__dict__.get("_logmend_error")

    def set_error(self, value):
        self.__dict__["_logmend_error"] = value

    FlowLogs.deliver_logs_status = property(status, set_status)
    FlowLogs.deliver_logs_error_message = property(error, set_error)


def apply_all() -> None:
    for name in list(PATCHES):
        globals()[name]()



def _bucket_lets_config_deliver(account_id: str, bucket_name: str, prefix: str | None) -> bool:
    """Whether config.amazonaws.com may s3:GetBucketAcl the bucket and s3:PutObject under
    [prefix/]AWSLogs/ACCOUNT/Config/ with the bucket-owner-full-control ACL (AWS Config
    Developer Guide, "Permissions for the Amazon S3 Bucket for the AWS Config Delivery Channel")."""
    context = {"aws:sourceaccount": account_id, "s3:x-amz-acl": "bucket-owner-full-control"}
    key = f"{bucket_name}/{prefix.strip('/') + '/' if prefix else ''}AWSLogs/{account_id}/Config/probe.json.gz"
    return (_bucket_policy_allows(account_id, bucket_name, "config.amazonaws.com", "s3:GetBucketAcl", bucket_name, context)
            and _bucket_policy_allows(account_id, bucket_name, "config.amazonaws.com", "s3:PutObject", key, context))


@patch
def config_delivery_channels_need_a_bucket_config_may_write_and_report_their_status():
    """AWS: PutDeliveryChannel checks that the bucket exists (NoSuchBucketException) and that
    Config may write to it (InsufficientDeliveryPolicyException) (AWS Config API Reference,
    PutDeliveryChannel errors); DescribeDeliveryChannelStatus answers each channel's last
    snapshot, history and stream delivery: Success, or Failure with the error code. moto
    assumes any bucket and policy, and DescribeDeliveryChannelStatus is not implemented. Here a
    channel's status is what its next delivery would meet: the bucket and its policy now."""
    from moto.core.exceptions import JsonRESTError
    from moto.config.responses import ConfigResponse
    from moto.s3.models import s3_backends

    class ConfigError(JsonRESTError):
        code = 400

        def __init__(self, error: str, message: str):
            super().__init__(error, message)

    def bucket_problem(account_id: str, name: str, prefix: str | None):
        if s3_backends[account_id]["aws"].buckets.get(name) is None:
            return "NoSuchBucket", f"Cannot find a S3 bucket with the name {name}."
        if not _bucket_lets_config_deliver(account_id, name, prefix):
            return "AccessDenied", "Access Denied"
        return None

    original_put = ConfigResponse.put_delivery_channel

    def put_delivery_channel(self):
        channel = self._get_param("DeliveryChannel") or {}
        name = channel.get("s3BucketName")
        if name:
            problem = bucket_problem(self.current_account, name, channel.get("s3KeyPrefix"))
            if problem and problem[0] == "NoSuchBucket":
                raise ConfigError("NoSuchBucketException", problem[1])
            if problem:
                raise ConfigError("InsufficientDeliveryPolicyException",
                                  f"Insufficient delivery policy to s3 bucket: {name}, unable to write to bucket, provided s3 key prefix is '{channel.get('s3KeyPrefix') or 'null'}'.")
        return original_put(self)

    def describe_delivery_channel_status(self):
        names = self._get_param("DeliveryChannelNames") or []
        channels = self.config_backend.describe_delivery_channels(names)
        now = time.time()
        statuses = []
        for ch in channels:
            problem = bucket_problem(self.current_account, ch["s3BucketName"], ch.get("s3KeyPrefix"))
            # DeliveryStatus is spelled Success | Failure | Not_Applicable (API Reference, ConfigExportDeliveryInfo).
            info = ({"lastStatus": "Success", "lastAttemptTime": now, "lastSuccessfulTime": now} if problem is None
                    else {"lastStatus": "Failure", "lastErrorCode": problem[0], "lastErrorMessage": problem[1],
                          "lastAttemptTime": now})
            statuses.append({"name": ch["name"], "configSnapshotDeliveryInfo": info,
                             "configHistoryDeliveryInfo": info,
                             "configStreamDeliveryInfo": {"lastStatus": "Not_Applicable"}})
        return json.dumps({"DeliveryChannelsStatus": statuses})

    ConfigResponse.put_delivery_channel = put_delivery_channel
    ConfigResponse.describe_delivery_channel_status = describe_delivery_channel_status

@patch
def guardduty_update_detector_changes_only_the_features_it_names():
    """AWS: UpdateDetector's `features` "provides the features that will be updated for the
    detector" (GuardDuty API Reference, UpdateDetector): a plan left out keeps its status.
    moto replaces the detector's whole feature list with the request's."""
    from moto.guardduty.models import Detector

    original = Detector.update

    def update(self, enable, finding_publishing_frequency, data_sources, features):
        if features is not None:
            merged = {f.get("name"): f for f in (self.features or [])}
            merged.update({f.get("name"): f for f in features})
            features = list(merged.values())
        return original(self, enable, finding_publishing_frequency, data_sources, features)

    Detector.update = update


@patch
def ecs_task_definitions_by_family_mean_the_latest_active_revision():
    """AWS: DescribeTaskDefinition with a family and no revision answers "the latest ACTIVE
    revision" (ECS API Reference, DescribeTaskDefinition), ClientException when the family has
    none; ListTaskDefinitionFamilies with `status` ACTIVE lists only families with an active
    revision, INACTIVE only those with none. moto answers the last revision even when it is
    INACTIVE, and ignores `status`."""
    from moto.ecs.exceptions import TaskDefinitionNotFoundException
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.ecs.responses import EC2ContainerServiceResponse
    from moto.core.responses import ActionResult

    original_describe = EC2ContainerServiceBackend.describe_task_definition

    def describe_task_definition(self, task_definition_str):
        name = task_definition_str.split("/")[-1]
        if ":" not in name:
            revisions = self.task_definitions.get(name) or {}
            active = [r for r, d in revisions.items() if d.status == "ACTIVE"]
            if not active:
                raise TaskDefinitionNotFoundException()
            return revisions[max(active)]
        return original_describe(self, task_definition_str)

    def list_task_definition_families(self):
        prefix = self._get_param("familyPrefix")
        status = self._get_param("status") or "ALL"
        families = []
        for family, revisions in self.ecs_backend.task_definitions.items():
            if prefix is not None and not family.startswith(prefix):
                continue
            has_active = any(d.status == "ACTIVE" for d in revisions.values())
            if status == "ALL" or (status == "ACTIVE") == has_active:
                families.append(family)
        return ActionResult({"families": families})

    EC2ContainerServiceBackend.describe_task_definition = describe_task_definition
    EC2ContainerServiceResponse.list_task_definition_families = list_task_definition_families


@patch
def ssm_document_versions_are_listed():
    """AWS: ListDocumentVersions lists a document's versions, each with `IsDefaultVersion` (SSM API
    Reference); InvalidDocument for a document that does not exist. moto does not implement it."""
    from moto.ssm.responses import SimpleSystemManagerResponse

    def list_document_versions(self):
        documents = self.ssm_backend._get_documents(self._get_param("Name"))
        versions = [
            {"Name": d.name, "DocumentVersion": v, "VersionName": d.version_name,
             "CreatedDate": d.created_date.timestamp(), "IsDefaultVersion": v == documents.default_version,
             "DocumentFormat": d.document_format, "Status": d.status}
            for v, d in sorted(documents.versions.items(), key=lambda kv: int(kv[0]))
        ]
        return json.dumps({"DocumentVersions": [{k: x for k, x in v.items() if x is not None} for v in versions]})

    SimpleSystemManagerResponse.list_document_versions = list_document_versions


@patch
def logs_associate_kms_key_encrypts_an_existing_group():
    """AWS: AssociateKmsKey sets a log group's KMS key (DescribeLogGroups then shows `kmsKeyId`);
    ResourceNotFoundException for a missing group, InvalidParameterException for a key that does
    not exist (CloudWatch Logs API Reference). moto does not implement it."""
    from moto.kms.models import kms_backends
    from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException
    from moto.logs.responses import LogsResponse

    def associate_kms_key(self):
        name, key = self._get_param("logGroupName"), self._get_param("kmsKeyId")
        group = self.logs_backend.groups.get(name)
        if group is None:
            raise ResourceNotFoundException()
        key_id = key.rsplit("/", 1)[-1]
        if key_id not in kms_backends[self.current_account][self.region].keys:
            raise InvalidParameterException(f"Specified KMS key {key} does not exist.")
        group.kms_key_id = key
        return ""

    LogsResponse.associate_kms_key = associate_kms_key


def _conditions_hold(condition: dict | None, context: dict[str, str]) -> bool:
    """StringEquals / StringLike / ArnLike / ArnEquals of a trust statement, on the request's
    context keys (IAM User Guide, condition operators); a key the request lacks fails."""
    for operator, tests in (condition or {}).items():
        like = operator in ("StringLike", "ArnLike")
        for key, wanted in tests.items():
            value = context.get(key)
            if value is None:
                return False
            if not any(fnmatch.fnmatchcase(value, w) if like else value == w for w in _as_list(wanted)):
                return False
    return True


def _role_trusts(role, services: set[str], context: dict[str, str]) -> bool:
    try:
        doc = json.loads(unquote(role.assume_role_policy_document))
    except ValueError:
        return False
    for stmt in _as_list(doc.get("Statement")):
        if stmt.get("Effect") != "Allow":
            continue
        if not services & set(_as_list((stmt.get("Principal") or {}).get("Service"))):
            continue
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in _as_list(stmt.get("Action"))):
            continue
        if _conditions_hold(stmt.get("Condition"), context):
            return True
    return False


def _role_allows_on(role, action: str, resource: str) -> bool:
    """IAM's answer for the role's identity policies on one action and resource."""
    allowed = False
    for doc in _role_documents(role):
        for stmt in _as_list(doc.get("Statement")):
            if not any(fnmatch.fnmatchcase(resource, r) for r in _as_list(stmt.get("Resource"))):
                continue
            if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _as_list(stmt.get("Action"))):
                continue
            if stmt.get("Effect") == "Deny":
                return False
            allowed = allowed or stmt.get("Effect") == "Allow"
    return allowed


def _role_by_arn(account_id: str, role_arn: str | None):
    from moto.iam.models import iam_backends

    if not role_arn or role_arn.count(":") < 5:
        return None
    partition = role_arn.split(":")[1]
    return next((r for r in iam_backends[account_id][partition].roles.values() if r.arn == role_arn), None)


def _propagated(account_id: str, role) -> bool:
    delay = iam_propagation_seconds()
    return delay <= 0 or _role_age_seconds(account_id, role.name) >= delay


@patch
def logs_subscription_filters_to_firehose_check_the_role_and_the_stream():
    """AWS: PutSubscriptionFilter to a Firehose stream sends a test message as the given role, so
    a stream that is not ACTIVE, or a role that does not trust logs.amazonaws.com (with its
    aws:SourceArn condition met by the log group), is not allowed firehose:PutRecord on the
    stream, or has not propagated yet, gets InvalidParameterException "Could not deliver test
    message to specified Firehose stream" (CloudWatch Logs User Guide, "Subscription filters with
    Amazon Data Firehose"). A filter of an existing name is updated even when the group has its
    two (API Reference: "If you are updating an existing filter, you must specify the correct
    name"). moto checks only that the stream exists, and refuses the update at two filters."""
    from moto.firehose import firehose_backends
    from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException
    from moto.logs.models import LogsBackend

    original = LogsBackend.put_subscription_filter

    def put_subscription_filter(self, log_group_name, filter_name, filter_pattern, destination_arn, role_arn):
        group = self.groups.get(log_group_name)
        if group is None:
            raise ResourceNotFoundException()
        if ":firehose:" in (destination_arn or ""):
            stream = firehose_backends[self.account_id][self.region_name].lookup_name_from_arn(destination_arn)
            role = _role_by_arn(self.account_id, role_arn)
            group_arn = f"arn:{destination_arn.split(':')[1]}:logs:{self.region_name}:{self.account_id}:log-group:{log_group_name}"
            context = {"aws:SourceArn": group_arn, "aws:SourceAccount": self.account_id}
            services = {"logs.amazonaws.com", f"logs.{self.region_name}.amazonaws.com"}
            if (
                stream is None
                or stream.delivery_stream_status != "ACTIVE"
                or role is None
                or not _role_trusts(role, services, context)
                or not _role_allows_on(role, "firehose:PutRecord", destination_arn)
                or not _propagated(self.account_id, role)
            ):
                raise InvalidParameterException(
                    "Could not deliver test message to specified Firehose stream. Check if the given Firehose "
                    "stream is in ACTIVE state."
                )
        existing = group.subscription_filters.get(filter_name)
        if existing is not None:
            existing.update(filter_pattern, destination_arn, role_arn)
            return
        return original(self, log_group_name, filter_name, filter_pattern, destination_arn, role_arn)

    LogsBackend.put_subscription_filter = put_subscription_filter


@patch
def firehose_streams_assume_their_delivery_role():
    """AWS: CreateDeliveryStream assumes the destination's role at once; a role that does not
    exist, does not trust firehose.amazonaws.com (its sts:ExternalId condition met by the
    account), or has not propagated yet gets InvalidArgumentException "Firehose is unable to
    assume role …" (Firehose Developer Guide, "Grant Firehose access to an Amazon S3
    destination"; the error is the API's). moto stores any role ARN."""
    from moto.firehose.exceptions import InvalidArgumentException
    from moto.firehose.models import FirehoseBackend

    original = FirehoseBackend.create_delivery_stream

    def create_delivery_stream(self, region, delivery_stream_name, *args, **kwargs):
        # moto's response passes them positionally: type, Kinesis source, encryption, S3, ExtendedS3, …
        for config in args[3:5]:
            if not config:
                continue
            role_arn = config.get("RoleARN")
            role = _role_by_arn(self.account_id, role_arn)
            context = {"sts:ExternalId": self.account_id, "aws:SourceAccount": self.account_id}
            if role is None or not _role_trusts(role, {"firehose.amazonaws.com"}, context) or not _propagated(
                self.account_id, role
            ):
                raise InvalidArgumentException(
                    f"Firehose is unable to assume role {role_arn}. Please check the role provided."
                )
        return original(self, region, delivery_stream_name, *args, **kwargs)

    FirehoseBackend.create_delivery_stream = create_delivery_stream


@patch
def firehose_s3_descriptions_carry_their_defaults():
    """AWS: DescribeDeliveryStream answers every S3 and ExtendedS3 destination with its
    CompressionFormat (UNCOMPRESSED unless set), BufferingHints (5 MiB, 300 s) and
    EncryptionConfiguration (NoEncryption), required members of S3DestinationDescription
    (Firehose API Reference). moto echoes only what CreateDeliveryStream was given, which the
    SDK refuses to read."""
    from moto.firehose.models import FirehoseBackend

    original = FirehoseBackend.describe_delivery_stream
    defaults = {
        "CompressionFormat": "UNCOMPRESSED",
        "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
        "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
    }

    def describe_delivery_stream(self, delivery_stream_name):
        result = original(self, delivery_stream_name)
        for destination in result["DeliveryStreamDescription"].get("Destinations", []):
            for key in ("S3DestinationDescription", "ExtendedS3DestinationDescription"):
                if key in destination:
                    destination[key] = {**defaults, **destination[key]}
        return result

    FirehoseBackend.describe_delivery_stream = describe_delivery_stream


@patch
def lambda_functions_have_a_logging_config():
    """AWS: every function's configuration has `LoggingConfig`: `LogFormat` (Text by default) and
    `LogGroup` (`/aws/lambda/<name>` unless set), and with JSON `ApplicationLogLevel` and
    `SystemLogLevel` (INFO by default); CreateFunction and UpdateFunctionConfiguration take it
    (Lambda API Reference, LoggingConfig). moto neither stores nor returns it."""
    from moto.awslambda.models import LambdaFunction

    original_init = LambdaFunction.__init__
    original_get = LambdaFunction.get_configuration
    original_update = LambdaFunction.update_configuration

    def __init__(self, account_id, spec, *args, **kwargs):
        original_init(self, account_id, spec, *args, **kwargs)
        self._logmend_logging = dict(spec.get("LoggingConfig") or {})

    def logging_config(self):
        wanted = getattr(self, "_logmend_logging", {})
        fmt = wanted.get("LogFormat") or "Text"
        out = {"LogFormat": fmt, "LogGroup": wanted.get("LogGroup") or f"/aws/lambda/{self.function_name}"}
        if fmt == "JSON":
            out["ApplicationLogLevel"] = wanted.get("ApplicationLogLevel") or "INFO"
            out["SystemLogLevel"] = wanted.get("SystemLogLevel") or "INFO"
        return out

    def get_configuration(self, *args, **kwargs):
        config = original_get(self, *args, **kwargs)
        config["LoggingConfig"] = logging_config(self)
        return config

    def update_configuration(self, config_updates):
        if "LoggingConfig" in config_updates:
            merged = dict(getattr(self, "_logmend_logging", {}))
            merged.update(config_updates["LoggingConfig"] or {})
            self._logmend_logging = merged
        return original_update(self, config_updates)

    LambdaFunction.__init__ = __init__
    LambdaFunction.get_configuration = get_configuration
    LambdaFunction.update_configuration = update_configuration


_SNS_DELIVERY_STATUS_ATTRIBUTES = tuple(
    f"{protocol}{kind}"
    for protocol in ("Application", "HTTP", "Lambda", "SQS", "Firehose")
    for kind in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn")
)


@patch
def sns_topics_answer_their_delivery_status_attributes():
    """AWS: SetTopicAttributes takes the delivery status attributes (`<Protocol>SuccessFeedbackRoleArn`,
    `…SuccessFeedbackSampleRate`, `…FailureFeedbackRoleArn` for Application, HTTP, Lambda, SQS and
    Firehose) and GetTopicAttributes answers them (SNS API Reference, SetTopicAttributes). moto
    stores them under other names and never answers them."""
    from moto.sns.responses import SNSResponse

    original_set = SNSResponse.set_topic_attributes
    original_get = SNSResponse.get_topic_attributes

    def set_topic_attributes(self):
        name = self._get_param("AttributeName")
        if name in _SNS_DELIVERY_STATUS_ATTRIBUTES:
            topic = self.backend.get_topic(self._get_param("TopicArn"))
            status = getattr(topic, "_logmend_delivery_status", {})
            value = self._get_param("AttributeValue") or ""
            if value:
                status[name] = value
            else:
                status.pop(name, None)
            topic._logmend_delivery_status = status
            from moto.core.responses import EmptyResult
            return EmptyResult()
        return original_set(self)

    def get_topic_attributes(self):
        result = original_get(self)
        topic = self.backend.get_topic(self._get_param("TopicArn"))
        result.result["Attributes"].update(getattr(topic, "_logmend_delivery_status", {}))
        return result

    SNSResponse.set_topic_attributes = set_topic_attributes
    SNSResponse.get_topic_attributes = get_topic_attributes


def _securityhub_error(code: str, message: str):
    # The HTTP status comes from the error's shape in the service model (401 for
    # InvalidAccessException, 400 for InvalidInputException).
    from moto.securityhub.exceptions import SecurityHubClientError

    return SecurityHubClientError(code, message)


# ASFF's required attributes (Security Hub User Guide, "Required top-level attributes in ASFF").
_ASFF_REQUIRED = ("AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn", "Resources",
                  "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt")


@patch
def securityhub_imports_check_the_hub_the_limits_the_product_and_updated_at():
    """AWS (Security Hub Partner Guide, "Guidelines for using the BatchImportFindings API";
    API Reference, BatchImportFindings): the account must have Security Hub enabled
    (InvalidAccessException); a batch takes at most 100 findings (InvalidInputException for
    the call) and each finding at most 240 KB; a finding missing a required ASFF attribute,
    or on a product other than the caller's own `product/ACCOUNT/default`, or about another
    account, fails alone in FailedFindings; an update whose UpdatedAt is not later than the
    stored finding's is ignored. moto takes any batch, any finding with Resources, and merges
    every update."""
    from moto.securityhub.models import SecurityHubBackend, Finding

    def batch_import_findings(self, findings):
        if not self.enabled:
            raise _securityhub_error("InvalidAccessException",
                                     f"Account {self.account_id} is not subscribed to AWS Security Hub")
        if len(findings) > 100:
            raise _securityhub_error("InvalidInputException",
                                     "Invalid parameter 'Findings'. data.Findings should NOT have more than 100 items")
        own_product = f"arn:aws:securityhub:{self.region_name}:{self.account_id}:product/{self.account_id}/default"
        failed, success = [], 0
        for data in findings:
            fid = data.get("Id", "")
            missing = [k for k in _ASFF_REQUIRED if data.get(k) in (None, "", [])]
            problem = None
            if missing:
                problem = ("InvalidInput", f"Finding is missing required attributes: {', '.join(missing)}")
            elif len(json.dumps(data)) > 240 * 1024:
                problem = ("InvalidInput", "Finding size exceeds 240 KB")
            elif data["ProductArn"] != own_product:
                problem = ("AccessDeniedException", f"Not authorized to import findings for product {data['ProductArn']}")
            elif data["AwsAccountId"] != self.account_id:
                problem = ("AccessDeniedException", f"Not authorized to import findings for account {data['AwsAccountId']}")
            if problem:
                failed.append({"Id": fid, "ErrorCode": problem[0], "ErrorMessage": problem[1]})
                continue
            existing = next((f for f in self.findings if f.id == fid), None)
            if existing is None:
                self.findings.append(Finding(fid, data))
            elif data["UpdatedAt"] > existing.data.get("UpdatedAt", ""):
                # ASFF timestamps are RFC 3339 in UTC; logmend's (and most) sort as text.
                existing.data = dict(data)
            success += 1
        return len(failed), success, failed

    SecurityHubBackend.batch_import_findings = batch_import_findings


def _failed_findings(environ, app, start_response, rule):
    """The `failed-findings` fault: the first `count` findings of a BatchImportFindings call come
    back in FailedFindings with `code` (InternalException by default) and are not stored; the
    rest go to the emulator, as one batch of AWS's would fail finding by finding."""
    import io
    from werkzeug.wrappers import Response

    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    count = int(rule.get("count", 1))
    dropped, kept = body.get("Findings", [])[:count], body.get("Findings", [])[count:]
    data = json.dumps({**body, "Findings": kept}).encode()
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    captured = {}

    def capture(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = headers
        return lambda _chunk: None

    answer = json.loads(b"".join(app(environ, capture)) or b"{}")
    code = rule.get("code", "InternalException")
    answer["FailedFindings"] = [{"Id": f.get("Id", ""), "ErrorCode": code, "ErrorMessage": "logmend fault"}
                                for f in dropped] + answer.get("FailedFindings", [])
    answer["FailedCount"] = len(answer["FailedFindings"])
    return Response(json.dumps(answer), status=int(captured.get("status", "200").split()[0]),
                    mimetype="application/json")(environ, start_response)


# --------------------------------------------------------------------------------------------
# AWS's pace: service time and API rate quotas (settings; both off unless asked for)
# --------------------------------------------------------------------------------------------
#
# moto answers in microseconds, one request at a time under Python's lock; AWS answers in tens
# of milliseconds, many at once, and throttles each account's calls per region and action. A
# remediator's design (how it overlaps calls, how it stays under a quota without failing) only
# shows against the second, so the benchmark can ask for it:
#
#   LOGMEND_EMULATOR_SERVICE_MS  every request takes this long before it is answered (a sleep,
#                                which releases the interpreter lock: requests are served on
#                                their own threads and overlap as on AWS). "aws" is
#                                AWS_SERVICE_MS. Default 0.
#   LOGMEND_EMULATOR_QUOTAS      "aws": the per-account, per-region token buckets of
#                                AWS_QUOTAS, each answering with its service's own throttling
#                                error; a path: a JSON file of the same shape; "off" (default).
#
# GET /logmend-emulator/pace tells the settings and, per call, how many requests were served and
# how many throttled.

# AWS publishes no latency for its control-plane APIs. 25 ms is the figure issue 19 gives for a
# describe or put call made from inside the region: one TLS request's round trip plus the
# service's own work, as the SDKs' per-call metrics show it.
AWS_SERVICE_MS = 25.0

# (service, action pattern, refill per second, bucket size, per_action, source). per_action: each
# action has its own bucket (EC2 "evaluates each API individually"); otherwise the service's
# actions share one. The first matching row wins. Actions no row names are not throttled: their
# service publishes no rate for them (IAM, the Resource Groups Tagging API).
AWS_QUOTAS: list[tuple[str, str, float, float, bool, str]] = [
    # CloudWatch Logs User Guide, "CloudWatch Logs quotas": PutRetentionPolicy 5 TPS and
    # DescribeLogGroups 10 TPS per account per Region (a TPS quota: a bucket of one second).
    ("logs", "PutRetentionPolicy", 5, 5, True, "CloudWatch Logs quotas"),
    ("logs", "DeleteRetentionPolicy", 5, 5, True, "CloudWatch Logs quotas"),
    ("logs", "DescribeLogGroups", 10, 10, True, "CloudWatch Logs quotas"),
    # RDS User Guide, "Request throttling for the Amazon RDS API": "By default, you can make up
    # to 300 requests in a burst and a sustained 12 requests per second."
    ("rds", "*", 12, 300, False, "Request throttling for the Amazon RDS API"),
    # EC2 Developer Guide, "Request throttling for the Amazon EC2 API", request token bucket
    # sizes and refill rates: non-mutating actions 100 and 20 a second; mutating actions 200
    # and 5 a second. Each API has its own bucket.
    ("ec2", "Describe*", 20, 100, True, "Request throttling for the Amazon EC2 API"),
    ("ec2", "*", 5, 200, True, "Request throttling for the Amazon EC2 API"),
]


def service_ms() -> float:
    raw = os.environ.get("LOGMEND_EMULATOR_SERVICE_MS", "0")
    if raw == "aws":
        return AWS_SERVICE_MS
    try:
        value = float(raw)
    except ValueError:
        sys.exit(f"LOGMEND_EMULATOR_SERVICE_MS: not a number of milliseconds nor 'aws': {raw!r}")
    if value < 0:
        sys.exit(f"LOGMEND_EMULATOR_SERVICE_MS: negative: {raw!r}")
    return value


def quota_table() -> list[tuple[str, str, float, float, bool, str]]:
    raw = os.environ.get("LOGMEND_EMULATOR_QUOTAS", "off")
    if raw == "off":
        return []
    if raw == "aws":
        return AWS_QUOTAS
    try:
        rows = json.load(open(raw))
        return [(r["service"], r["action"], float(r["rate"]), float(r["burst"]), bool(r.get("per_action", True)),
                 r.get("source", raw)) for r in rows]
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"LOGMEND_EMULATOR_QUOTAS: not 'off', 'aws' nor a readable JSON list of "
                 f"{{service, action, rate, burst, per_action}} rows ({raw}): {e}")


THROTTLE_CODE.update({"logs": "ThrottlingException", "tagging": "ThrottledException"})


def _throttle_response(service: str, action: str, protocol: str):
    """The service's own throttling error: EC2's RequestLimitExceeded is a 503, MQ's a 429, S3's
    SlowDown a 503; the others are 400s (each service's "Common errors" page)."""
    code = THROTTLE_CODE.get(service, "ThrottlingException")
    status = 429 if service == "mq" else 503 if service in ("s3", "ec2") else 400
    return _error_response(service, action, protocol, status, code, "Rate exceeded")


def _request_account_region(environ) -> tuple[str, str]:
    """The account (from the access key, as moto maps it) and region of a signed request."""
    scope = _credential_scope(environ)
    if not scope:
        return "", ""
    from moto.iam.models import get_account_id_from

    return get_account_id_from(scope[0]), scope[2] if len(scope) > 2 else ""


class Pace:
    """Token buckets and counters, shared by the server's threads."""

    def __init__(self, service_ms: float, quotas: list) -> None:
        self.service_s = service_ms / 1000
        self.quotas = quotas
        self.lock = threading.Lock()
        self.buckets: dict[tuple, list[float]] = {}  # key → [tokens, last refill]
        self.served: dict[str, int] = {}
        self.throttled: dict[str, int] = {}

    def _row(self, service: str, action: str):
        for row in self.quotas:
            if row[0] == service and fnmatch.fnmatchcase(action, row[1]):
                return row
        return None

    def admit(self, account: str, region: str, service: str, action: str) -> bool:
        call = f"{service}:{action}"
        row = self._row(service, action)
        with self.lock:
            if row is not None:
                _, pattern, rate, burst, per_action, _ = row
                key = (account, region, service, action if per_action else pattern)
                now = time.monotonic()
                bucket = self.buckets.setdefault(key, [burst, now])
                bucket[0] = min(burst, bucket[0] + (now - bucket[1]) * rate)
                bucket[1] = now
                if bucket[0] < 1:
                    self.throttled[call] = self.throttled.get(call, 0) + 1
                    return False
                bucket[0] -= 1
            self.served[call] = self.served.get(call, 0) + 1
            return True

    def state(self) -> dict:
        with self.lock:
            return {"service_ms": self.service_s * 1000,
                    "quotas": [{"service": r[0], "action": r[1], "rate": r[2], "burst": r[3], "per_action": r[4],
                                "source": r[5]} for r in self.quotas],
                    "served": dict(self.served), "throttled": dict(self.throttled)}

    def reset(self) -> None:
        with self.lock:
            self.buckets.clear()
            self.served.clear()
            self.throttled.clear()


def aws_paced(app, pace: Pace):
    """Wrap the emulator's WSGI app: the quota decides at arrival, then the request takes its
    service time (a throttled one too: its answer still crosses the network)."""

    def wrapped(environ, start_response):
        from werkzeug.wrappers import Response

        path = environ.get("PATH_INFO", "")
        if path == "/logmend-emulator/pace":
            if environ.get("REQUEST_METHOD") == "DELETE":
                pace.reset()
            return Response(json.dumps(pace.state()), mimetype="application/json")(environ, start_response)
        if path.startswith(("/moto-api", "/logmend-emulator")):
            return app(environ, start_response)
        if not pace.quotas and not pace.service_s:
            return app(environ, start_response)
        body = _buffered_body(environ)
        service, action, protocol = _request_call(environ, body)
        account, region = _request_account_region(environ)
        admitted = pace.admit(account, region, service, action)
        if pace.service_s:
            time.sleep(pace.service_s)
        if not admitted:
            return _throttle_response(service, action, protocol)(environ, start_response)
        return app(environ, start_response)

    return wrapped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when stdin closes (the parent process has gone)")
    args = parser.parse_args(argv)

    iam_propagation_seconds()  # fail fast on a bad setting
    mq_reboot_seconds()
    pace = Pace(service_ms(), quota_table())
    apply_all()

    from werkzeug.serving import make_server
    from werkzeug.wrappers import Response

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    moto_app = aws_paced(fault_injecting(request_checking(DomainDispatcherApplication(create_backend_app))), pace)

    def app(environ, start_response):
        if environ.get("PATH_INFO") == "/logmend-emulator/sns-confirmations":
            return Response(json.dumps(sns_confirmations()), mimetype="application/json")(environ, start_response)
        if environ.get("PATH_INFO") == "/logmend-emulator/patches":
            body = json.dumps({"patches": PATCHES,
                               "iam_propagation_seconds": iam_propagation_seconds(),
                               "mq_reboot_seconds": mq_reboot_seconds()})
            return Response(body, mimetype="application/json")(environ, start_response)
        return moto_app(environ, start_response)

    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    print(f"LISTENING {server.port}", flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def watch_stdin():
        # The parent holds our stdin open; EOF means it has gone, so go too.
        try:
            while sys.stdin.read(1):
                pass
        except Exception:
            pass
        stop()

    if args.exit_on_stdin_eof:
        threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()

