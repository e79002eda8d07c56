"""make bench: cold start, memory, zip size, per-event cost and sweep speed, with Cloud Custodian
beside logmend on the same emulator. Writes bench/results.md and prints it.

Everything runs against the project's fidelity-patched emulator (tests/emulator/launcher.py).
The Lambda binaries are measured natively (x86_64, the release profile they ship with) under a
minimal Lambda Runtime API served here: the shipped arm64 build cannot run on this machine, and
both are the same code with the same profile. Figures are medians of several runs.

Usage: bench.py [--quick]   (--quick: 1,000 log groups only, 3 runs: for trying it out)
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import botocore.config

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import demo_resources  # noqa: E402  (the CloudTrail bucket policy AWS's guide gives)

RELEASE = ROOT / "target" / "release"
PYTHON = ROOT / ".venv" / "bin" / "python"
CUSTODIAN = ROOT / ".venv-bench" / "bin" / "custodian"
# One function per family (shared/src/lib.rs FAMILIES); each also runs its family's sweep.
FUNCTIONS = sorted(p.name for p in (ROOT / "functions").iterdir() if p.is_dir())
ACCOUNT = "123456789012"


# ------------------------------------------------------------------------------------------
# The emulator
# ------------------------------------------------------------------------------------------


class Emulator:
    """The project's emulator. service_ms and quotas: AWS's pace (LOGMEND_EMULATOR_SERVICE_MS,
    LOGMEND_EMULATOR_QUOTAS); the defaults are moto's own pace."""

    def __init__(self, service_ms: float = 0, quotas: str = "off") -> None:
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="logmend-bench-"))
        self.service_ms = service_ms
        self.quotas = quotas
        env = dict(os.environ, MOTO_RECORDER_FILEPATH=str(self.dir / "recording.jsonl"),
                   LOGMEND_EMULATOR_SERVICE_MS=str(service_ms), LOGMEND_EMULATOR_QUOTAS=quotas)
        self.proc = subprocess.Popen(
            [str(PYTHON), str(ROOT / "tests/emulator/launcher.py"), "--port", "0", "--exit-on-stdin-eof"],
            cwd=self.dir, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(self.dir / "server.log", "w"), text=True,
        )
        line = self.proc.stdout.readline()
        self.port = int(line.split()[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.post("/moto-api/recorder/start-recording")
        self.post("/moto-api/recorder/reset-recording")

    def post(self, path: str, body: bytes = b"") -> bytes:
        req = urllib.request.Request(self.endpoint + path, data=body, method="POST")
        return urllib.request.urlopen(req).read()

    def reset(self) -> None:
        """Forget every resource (moto's reset), keep recording."""
        self.post("/moto-api/reset")
        self.post("/moto-api/recorder/start-recording")

    def pace(self) -> dict:
        """Requests served and throttled per call since the last pace_reset, and the quotas."""
        return json.loads(urllib.request.urlopen(self.endpoint + "/logmend-emulator/pace").read())

    def pace_reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(self.endpoint + "/logmend-emulator/pace", method="DELETE")).read()

    def calls(self) -> list[str]:
        data = urllib.request.urlopen(self.endpoint + "/moto-api/recorder/download-recording").read().decode()
        out = []
        for line in data.splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
            target = headers.get("x-amz-target")
            body = entry.get("body") or ""
            if entry.get("body_encoded"):
                import base64

                body = base64.b64decode(body).decode("utf-8", "replace")
            if target:
                out.append(target.rsplit(".", 1)[-1])
            elif "Action=" in body:
                out.append(body.split("Action=", 1)[1].split("&", 1)[0])
            else:
                out.append(f"{entry.get('method')} {entry.get('url')}")
        return out

    def env(self) -> dict:
        return dict(
            os.environ, AWS_ENDPOINT_URL=self.endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
            AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
            AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", RUST_LOG="warn",
        )

    def client(self, service: str):
        # Set-up and checks are not what is measured: with the quotas on they retry patiently.
        config = botocore.config.Config(retries={"max_attempts": 20, "mode": "standard"}, max_pool_connections=64)
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="bench", aws_secret_access_key="bench", config=config)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


def is_write(action: str) -> bool:
    return not action.startswith(("Describe", "Get", "List", "GET "))


# ------------------------------------------------------------------------------------------
# Resources
# ------------------------------------------------------------------------------------------


def sample(rel: str) -> dict:
    return json.loads((ROOT / "events" / rel).read_text())


def make_trail(emu: Emulator, name: str) -> str:
    s3 = emu.client("s3")
    s3.create_bucket(Bucket=f"{name}-logs")
    # CloudTrail checks the bucket's policy at CreateTrail (the emulator's patch does too).
    s3.put_bucket_policy(Bucket=f"{name}-logs", Policy=json.dumps(demo_resources.cloudtrail_bucket_policy(name)))
    return emu.client("cloudtrail").create_trail(Name=name, S3BucketName=f"{name}-logs")["TrailARN"]


def make_broker(emu: Emulator, name: str, logs_on: bool) -> str:
    return emu.client("mq").create_broker(
        BrokerName=name, EngineType="ACTIVEMQ", EngineVersion="5.18", HostInstanceType="mq.m5.large",
        DeploymentMode="SINGLE_INSTANCE", PubliclyAccessible=False, AutoMinorVersionUpgrade=True,
        Logs={"General": logs_on, "Audit": logs_on}, Users=[{"Username": "admin", "Password": "bench-password-1"}],
    )["BrokerId"]


def mq_policy(emu: Emulator) -> None:
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "mq.amazonaws.com"},
           "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "arn:aws:logs:*:*:log-group:/aws/amazonmq/*"}]}
    emu.client("logs").put_resource_policy(policyName="AmazonMQ-logs", policyDocument=json.dumps(doc))


def event_for(control: str, emu: Emulator, n: int, compliant: bool) -> dict:
    """A fresh resource for one control, compliant or not, and the event that names it."""
    if control == "log-group-retention":
        name = f"/bench/{n}"
        emu.client("logs").create_log_group(logGroupName=name)
        if compliant:
            emu.client("logs").put_retention_policy(logGroupName=name, retentionInDays=365)
        e = sample("logs/create-log-group.json")
        e["detail"]["requestParameters"]["logGroupName"] = name
        return e
    if control == "cloudtrail-cloudwatch-logs":
        arn = make_trail(emu, f"bench-{n}")
        if compliant:
            subprocess.run([str(RELEASE / "logmend"), "scan", "--fix", "--control", control], env=emu.env(),
                           capture_output=True, check=False)
        e = sample("cloudtrail/update-trail-without-cloudwatch.json")
        e["detail"]["responseElements"]["trailARN"] = arn
        e["detail"]["requestParameters"]["name"] = arn
        return e
    if control == "mq-broker-logs":
        if compliant:
            mq_policy(emu)
        bid = make_broker(emu, f"bench-{n}", compliant)
        e = sample("mq/create-broker-activemq.json")
        e["detail"]["responseElements"]["brokerId"] = bid
        return e
    if control == "rds-cluster-audit-logs":
        rds = emu.client("rds")
        cid = f"bench-{n}"
        kwargs = {}
        if compliant:
            group = f"bench-pg-{n}"
            rds.create_db_cluster_parameter_group(DBClusterParameterGroupName=group, DBParameterGroupFamily="aurora-mysql8.0",
                                                  Description="bench")
            rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName=group, Parameters=[
                {"ParameterName": "server_audit_logging", "ParameterValue": "1", "ApplyMethod": "immediate"},
                {"ParameterName": "server_audit_events", "ParameterValue": "CONNECT", "ApplyMethod": "immediate"}])
            kwargs = {"DBClusterParameterGroupName": group, "EnableCloudwatchLogsExports": ["audit"]}
        rds.create_db_cluster(DBClusterIdentifier=cid, Engine="aurora-mysql", EngineVersion="8.0.mysql_aurora.3.05.2",
                              MasterUsername="admin", MasterUserPassword="bench-password-1", **kwargs)
        e = sample("rds/create-db-cluster-aurora-mysql.json")
        e["detail"]["responseElements"]["dBClusterIdentifier"] = cid
        return e
    if control == "rds-instance-log-exports":
        iid = f"bench-{n}"
        emu.client("rds").create_db_instance(
            DBInstanceIdentifier=iid, Engine="postgres", EngineVersion="16.4", DBInstanceClass="db.t3.medium",
            AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="bench-password-1",
            EnableCloudwatchLogsExports=["postgresql", "upgrade"] if compliant else [])
        e = sample("rds/create-db-instance-postgres.json")
        e["detail"]["responseElements"]["dBInstanceIdentifier"] = iid
        return e
    raise ValueError(control)


CONTROLS = ["mq-broker-logs", "rds-cluster-audit-logs", "rds-instance-log-exports", "cloudtrail-cloudwatch-logs",
            "log-group-retention"]
# The event each function's cold start is measured with: a compliant resource of one of its
# controls where event_for makes one, otherwise a sample event of its family (its resource
# absent here: the function reads it once and finds it gone).
FUNCTION_EVENT = {"mq-broker-logs": "mq-broker-logs", "rds-audit-logs": "rds-instance-log-exports",
                  "trail-cloudwatch": "cloudtrail-cloudwatch-logs", "log-retention": "log-group-retention",
                  "cis-alarms": "logs/delete-metric-filter.json", "network-logs": "ec2/create-vpc.json",
                  "workload-logs": "lambda/create-function.json",
                  "account-logs": "config/stop-configuration-recorder.json"}


def function_event(function: str, emu: Emulator, n: int) -> dict:
    what = FUNCTION_EVENT[function]
    return sample(what) if what.endswith(".json") else event_for(what, emu, n, compliant=True)


# ------------------------------------------------------------------------------------------
# A minimal Lambda Runtime API
# ------------------------------------------------------------------------------------------


class RuntimeApi:
    """Serves one event: records when /next is first asked for, and the response."""

    def __init__(self, event: dict) -> None:
        self.event = json.dumps(event).encode()
        self.first_next: float | None = None
        self.answered = threading.Event()
        self.second_next = threading.Event()
        self.response: bytes | None = None
        self.error: bytes | None = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                if not self.path.endswith("/invocation/next"):
                    self.send_error(404)
                    return
                if api.first_next is None:
                    api.first_next = time.perf_counter()
                    deadline = int((time.time() + 300) * 1000)
                    self.send_response(200)
                    self.send_header("Lambda-Runtime-Aws-Request-Id", "bench-1")
                    self.send_header("Lambda-Runtime-Deadline-Ms", str(deadline))
                    self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                     f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:logmend-bench")
                    self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                    self.send_header("Content-Length", str(len(api.event)))
                    self.end_headers()
                    self.wfile.write(api.event)
                else:
                    api.second_next.set()
                    time.sleep(30)  # held: the process is measured and killed meanwhile

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.path.endswith("/response"):
                    api.response = body
                else:
                    api.error = body
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                api.answered.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def peak_rss_kib(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def binary(function: str) -> pathlib.Path:
    """A function's release binary, or the bare baseline (an example of logmend-core)."""
    return RELEASE / "examples" / function if function == "bare_lambda" else RELEASE / function


def cold_start(function: str, event: dict, emu: Emulator, rust_log: str | None = None):
    """(init ms: spawn to first /next, 0.0, peak RSS KiB, stderr)."""
    api = RuntimeApi(event)
    env = emu.env()
    env.update(AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{api.server.server_port}", LOGMEND_MODE="audit",
               AWS_LAMBDA_FUNCTION_NAME=f"logmend-{function}", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
               AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_LOG_STREAM_NAME="bench",
               AWS_LAMBDA_LOG_GROUP_NAME="/bench")
    if rust_log:
        env["RUST_LOG"] = rust_log
    err = tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen([str(binary(function))], env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        if not api.answered.wait(120):
            raise RuntimeError(f"{function}: no response")
        api.second_next.wait(10)
        rss = peak_rss_kib(proc.pid)
        if api.error:
            raise RuntimeError(f"{function}: error response {api.error[:300]!r}")
        return (api.first_next - started) * 1000, 0.0, rss, ""
    finally:
        proc.kill()
        proc.wait()
        api.close()
        err.seek(0)
        cold_start.stderr = err.read().decode("utf-8", "replace")


# ------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def measure_cold_starts(emu: Emulator, runs: int) -> list[dict]:
    rows = []
    for function in FUNCTIONS:
        inits, rsss = [], []
        for i in range(runs):
            event = function_event(function, emu, 10_000 + i * 10 + FUNCTIONS.index(function))
            init_ms, _, rss, _ = cold_start(function, event, emu)
            inits.append(init_ms)
            rsss.append(rss)
        rows.append({"function": function, "init_ms": med(inits), "init_max_ms": max(inits),
                     "peak_rss_mb": med(rsss) / 1024})
    return rows


def zip_sizes() -> dict:
    out = {}
    for f in FUNCTIONS:
        z = ROOT / "target" / "lambda" / f"{f}.zip"
        b = ROOT / "target" / "lambda" / f / "bootstrap"
        out[f] = (z.stat().st_size if z.exists() else None, b.stat().st_size if b.exists() else None)
    return out


def measure_events(emu: Emulator, runs: int) -> list[dict]:
    rows = []
    n = 20_000
    for control in CONTROLS:
        for compliant in (True, False):
            times, reads, writes = [], [], []
            for _ in range(runs):
                n += 1
                event = event_for(control, emu, n, compliant)
                path = emu.dir / "event.json"
                path.write_text(json.dumps(event))
                emu.post("/moto-api/recorder/reset-recording")
                started = time.perf_counter()
                subprocess.run([str(RELEASE / "logmend"), "handle", str(path), "--fix"], env=emu.env(),
                               capture_output=True, check=False)
                times.append((time.perf_counter() - started) * 1000)
                calls = emu.calls()
                reads.append(sum(1 for c in calls if not is_write(c)))
                writes.append(sum(1 for c in calls if is_write(c)))
            rows.append({"control": control, "resource": "compliant" if compliant else "non-compliant",
                         "ms": med(times), "reads": med(reads), "writes": med(writes)})
    return rows


# The same decision as logmend's: retention absent or below 365, and not exempt by tag.
POLICY = """policies:
  - name: log-group-retention
    resource: aws.log-group
    filters:
      - "tag:logmend:exempt": absent
      - or:
          - type: value
            key: retentionInDays
            value: absent
          - type: value
            key: retentionInDays
            value: 365
            op: lt
    actions:
      - type: retention
        days: 365
"""


def patiently(call, **kwargs):
    """A set-up call, retried for as long as the quotas throttle it: 32 threads making 10,000
    groups against a 5 a second quota outlast any fixed number of attempts."""
    import botocore.exceptions

    delay = 0.5
    while True:
        try:
            return call(**kwargs)
        except botocore.exceptions.ClientError as e:
            if e.response.get("Error", {}).get("Code") not in ("ThrottlingException", "Throttling",
                                                                  "TooManyRequestsException"):
                raise
        time.sleep(delay)
        delay = min(delay * 2, 10.0)


def populate(emu: Emulator, count: int) -> None:
    """count log groups, 9 in 10 never expiring; made 32 at a time (at 25 ms a call, one after
    the other would take minutes), then the emulator's pace counters start from zero."""
    import concurrent.futures

    logs = emu.client("logs")

    def make(i: int) -> None:
        name = f"/app/service-{i:05d}"
        patiently(logs.create_log_group, logGroupName=name)
        if i % 10 == 0:
            patiently(logs.put_retention_policy, logGroupName=name, retentionInDays=3653)  # compliant already

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        list(pool.map(make, range(count)))
    emu.pace_reset()


def proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a running process has used."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Timed:
    """Wall time of a command, its own CPU time, the emulator's CPU time meanwhile, and the
    calls the emulator served and throttled meanwhile (its pace counters)."""

    def __init__(self, cmd: list[str], emu: Emulator, env: dict | None = None, run=None) -> None:
        import resource

        emu.pace_reset()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        emu_before = proc_cpu_s(emu.proc.pid)
        started = time.perf_counter()
        if run is not None:
            self.proc = run()
        else:
            self.proc = subprocess.run(cmd, env=env or emu.env(), capture_output=True, text=True, check=False)
        self.wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        self.emulator_cpu = proc_cpu_s(emu.proc.pid) - emu_before
        pace = emu.pace()
        self.served = pace["served"]
        self.throttled = sum(pace["throttled"].values())
        self.calls = sum(self.served.values())
        self.quotas = pace["quotas"]
        self.failed = 0
        self.unfixed = 0

    def verdicts(self) -> dict:
        out: dict[str, int] = {}
        for line in self.proc.stdout.splitlines():
            try:
                verdict = json.loads(line).get("verdict")
            except (ValueError, AttributeError):
                continue
            if verdict:
                out[verdict] = out.get(verdict, 0) + 1
        return out

    def quota_floor(self) -> float:
        """The least time AWS's quotas allow for the calls made: per bucket, the calls beyond its
        burst at its refill rate; the slowest bucket bounds the run."""
        floor = 0.0
        for q in self.quotas:
            matching = {c: n for c, n in self.served.items()
                        if c.split(":", 1)[0] == q["service"] and fnmatch.fnmatchcase(c.split(":", 1)[1], q["action"])}
            groups = [[n] for n in matching.values()] if q["per_action"] else [list(matching.values())]
            for g in groups:
                floor = max(floor, max(0.0, sum(g) - q["burst"]) / q["rate"])
        return floor

    def service_floor(self, service_ms: float, concurrency: int) -> float:
        """calls × service time ÷ concurrency."""
        return self.calls * service_ms / 1000 / concurrency


def fixed_count(emu: Emulator) -> int:
    logs = emu.client("logs")
    n = 0
    for page in logs.get_paginator("describe_log_groups").paginate():
        n += sum(1 for g in page["logGroups"] if g.get("retentionInDays", 0) >= 365)
    return n


# logmend's --concurrency for the CLI sweep (its default), and Cloud Custodian's: its retention
# action and its describe pages are made one after the other.
LOGMEND_CONCURRENCY = 8
CUSTODIAN_CONCURRENCY = 1


def run_fanout(emu: Emulator, function: str, fix: bool, concurrency: int) -> subprocess.CompletedProcess:
    """The deployed path: the function's schedule event lists the log groups onto its queue, then
    `concurrency` copies of the function (the event source mapping's maximum concurrency) take
    batches of ten from it until it is empty, as Lambda's SQS poller hands them out."""
    sqs = emu.client("sqs")
    # The template's visibility timeout (6 × the functions' 180 s timeout, template.rs): with 30 s
    # a batch slowed by throttling came back to another copy while still in flight, and its
    # groups were written twice.
    url = sqs.create_queue(QueueName=f"bench-sweep-{time.time_ns()}",
                           Attributes={"VisibilityTimeout": "1080"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    emu.pace_reset()
    api = QueueRuntime(sqs, url, arn)
    env = emu.env()
    env.update(AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{api.server.server_port}",
               LOGMEND_MODE="remediate" if fix else "audit", LOGMEND_QUEUE_URL=url,
               AWS_LAMBDA_FUNCTION_NAME=f"logmend-{function}", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
               AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_LOG_STREAM_NAME="bench",
               AWS_LAMBDA_LOG_GROUP_NAME="/bench")
    # Files, not pipes: five copies printing thousands of decisions would fill a pipe no one
    # reads until the end, and block.
    outs_f = [tempfile.TemporaryFile() for _ in range(concurrency)]
    errs = [tempfile.TemporaryFile() for _ in range(concurrency)]
    procs = [subprocess.Popen([str(RELEASE / function)], env=env, stdout=out, stderr=err)
             for out, err in zip(outs_f, errs)]
    outs = []
    try:
        # A copy that exits (a Lambda function never returns from its loop) would hold its
        # batch forever: say why instead of waiting.
        while not api.done.wait(1):
            for proc, err in zip(procs, errs):
                if proc.poll() is not None:
                    err.seek(0)
                    tail = err.read().decode("utf-8", "replace")[-2000:]
                    raise RuntimeError(f"a copy of {function} exited ({proc.returncode}): {tail}")
    finally:
        for proc in procs:
            proc.kill()
        for proc, out in zip(procs, outs_f):
            proc.wait()
            out.seek(0)
            outs.append(out.read().decode("utf-8", "replace"))
        api.close()
    return subprocess.CompletedProcess(["fan-out"], 0, "".join(outs), "")


class QueueRuntime:
    """A Lambda Runtime API for several copies of one function: the first /next gets the
    schedule event, the others SQS events of up to ten messages from the queue; a response's
    batchItemFailures stay on the queue (visible again after the visibility timeout), the rest
    are deleted. Done once the schedule's invocation has answered and the queue is empty."""

    def __init__(self, sqs, url: str, arn: str) -> None:
        self.sqs, self.url, self.arn = sqs, url, arn
        self.lock = threading.Lock()
        self.scheduled_sent = False
        self.scheduled_done = threading.Event()
        self.done = threading.Event()
        self.in_flight: dict[str, list[dict]] = {}
        self.next_id = 0
        self.invocations = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                event, request_id = api.next_event()
                if event is None:
                    time.sleep(3600)
                    return
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int((time.time() + 900) * 1000)))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:logmend-bench")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                request_id = self.path.split("/invocation/", 1)[1].split("/", 1)[0]
                api.answered(request_id, body if self.path.endswith("/response") else None)
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next_event(self):
        with self.lock:
            self.next_id += 1
            request_id = f"bench-{self.next_id}"
            if not self.scheduled_sent:
                self.scheduled_sent = True
                self.in_flight[request_id] = []
                return ({"version": "0", "id": "bench-sweep", "detail-type": "Scheduled Event",
                         "source": "aws.events", "account": ACCOUNT, "time": "2026-12-03T00:00:00Z",
                         "region": "us-east-1", "resources": [], "detail": {}}, request_id)
        while True:
            self.scheduled_done.wait()
            got = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           AttributeNames=["All"]).get("Messages", [])
            if got:
                break
            with self.lock:
                if not self.in_flight:
                    attrs = self.sqs.get_queue_attributes(
                        QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages",
                                                           "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
                    if attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
                        self.done.set()
                        return None, request_id
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs", "eventSourceARN": self.arn, "awsRegion": "us-east-1"} for m in got]
        with self.lock:
            self.in_flight[request_id] = records
            self.invocations += 1
        return {"Records": records}, request_id

    def answered(self, request_id: str, body: bytes | None) -> None:
        with self.lock:
            records = self.in_flight.pop(request_id, [])
        if request_id == "bench-1":
            self.scheduled_done.set()
            return
        failed = set()
        if body is None:
            failed = {r["messageId"] for r in records}
        else:
            try:
                failed = {f["itemIdentifier"] for f in json.loads(body).get("batchItemFailures", [])}
            except (ValueError, AttributeError):
                pass
        done = [r for r in records if r["messageId"] not in failed]
        for i in range(0, len(done), 10):
            self.sqs.delete_message_batch(QueueUrl=self.url, Entries=[
                {"Id": str(j), "ReceiptHandle": r["receiptHandle"]} for j, r in enumerate(done[i:i + 10])])

    def close(self) -> None:
        self.server.shutdown()


# (label, service ms, quotas): AWS's pace without its quotas, then with them.
PACES = [("25 ms, no quotas", 25.0, "off"), ("25 ms, AWS quotas", 25.0, "aws")]
SWEEP_FUNCTION = "log-retention"
FANOUT_CONCURRENCY = 5  # the template's SweepConcurrency default
# What `make bench` runs; the others are variants on request (--tools).
DEFAULT_TOOLS = {"logmend scan", "logmend fan-out", "Cloud Custodian"}


def measure_sweeps(sizes: list[int], paces=PACES, tools_wanted: set[str] | None = None,
                   passes=("audit", "fix")) -> list[dict]:
    rows = []
    work = pathlib.Path(tempfile.mkdtemp(prefix="logmend-c7n-"))
    (work / "policy.yml").write_text(POLICY)
    custodian = [str(CUSTODIAN), "run", "--cache-period", "0", "-s", str(work / "out"), "--region", "us-east-1"]
    scan = [str(RELEASE / "logmend"), "scan", "--quiet", "--control", "log-group-retention",
            "--concurrency", str(LOGMEND_CONCURRENCY)]
    for label, service_ms, quotas in paces:
        emu = Emulator(service_ms, quotas)
        try:
            for size in sizes:
                to_fix = size - (size + 9) // 10
                for fix in (p == "fix" for p in passes):
                    tools = {
                        "logmend scan": lambda: Timed(scan + (["--fix"] if fix else []), emu),
                        # Not the default: what twice the concurrency buys where no quota binds.
                        "logmend scan --concurrency 16": lambda: Timed(
                            scan[:-1] + ["16"] + (["--fix"] if fix else []), emu),
                        "logmend fan-out": lambda: Timed(
                            [], emu, run=lambda: run_fanout(emu, SWEEP_FUNCTION, fix, FANOUT_CONCURRENCY)),
                        # Not the default: twice the event source mapping's maximum concurrency.
                        "logmend fan-out of 10 copies": lambda: Timed(
                            [], emu, run=lambda: run_fanout(emu, SWEEP_FUNCTION, fix, 10)),
                        "Cloud Custodian": lambda: Timed(
                            custodian + ([] if fix else ["--dryrun"]) + [str(work / "policy.yml")], emu),
                    }
                    tools = {k: v for k, v in tools.items()
                             if k in (tools_wanted or set()) or tools_wanted is None and k in DEFAULT_TOOLS}
                    runs = {}
                    for tool, measure in tools.items():
                        emu.reset()
                        populate(emu, size)
                        t = measure()
                        if tool != "Cloud Custodian":
                            t.failed = t.verdicts().get("failed", 0)
                        elif t.proc.returncode != 0:
                            t.failed = -1  # Custodian's run itself failed: its stderr says why
                            t.stderr_tail = t.proc.stderr[-500:]
                        if fix:
                            t.unfixed = size - fixed_count(emu)
                        runs[tool] = t
                    rows.append({"pace": label, "service_ms": service_ms, "groups": size, "to_fix": to_fix,
                                 "pass": "fix" if fix else "audit", "runs": runs})
                    print(f"  {label}, {size} groups, {'fix' if fix else 'audit'}: "
                          + ", ".join(f"{k} {v.wall:.1f} s" for k, v in runs.items()), file=sys.stderr, flush=True)
        finally:
            emu.close()
    shutil.rmtree(work, ignore_errors=True)
    return rows


# ------------------------------------------------------------------------------------------
# The report
# ------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((int(l.split()[1]) // 1024 // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} × {cpu}, {mem} GiB, {platform.system()} {platform.release()}, {rustc}, "
            f"commit {commit}, {datetime.date.today().isoformat()}")


def measure_every_family(service_ms: float = 25.0, quotas: str = "aws") -> list[dict]:
    """make demo's resources (every family's controls non-compliant), at AWS's pace: the audit
    scan, the fix, and a second fix that must write nothing."""
    emu = Emulator(service_ms, quotas)
    try:
        env = emu.env()
        env.update(LOGMEND_TRAIL_KMS_KEY="alias/logmend-demo-trails", LOGMEND_TRAIL_BUCKET_DELETION_PROTECTION="off",
                   LOGMEND_ALARM_EMAIL="security@example.com")
        made = subprocess.run([str(PYTHON), str(ROOT / "scripts" / "demo_resources.py"), "create"], env=env,
                              capture_output=True, text=True)
        if made.returncode != 0:
            raise RuntimeError(f"demo_resources.py create: {made.stderr[-500:]}")
        rows = []
        for label, extra in (("audit", []), ("fix", ["--fix"]), ("fix again", ["--fix"])):
            t = Timed([str(RELEASE / "logmend"), "scan", "--quiet", "--concurrency", str(LOGMEND_CONCURRENCY)] + extra,
                      emu, env=env)
            verdicts = t.verdicts()
            writes = sum(n for call, n in t.served.items() if is_write(call.split(":", 1)[1]))
            controls = {json.loads(l).get("control") for l in t.proc.stdout.splitlines() if l.startswith("{")}
            rows.append({"pass": label, "t": t, "verdicts": verdicts, "writes": writes, "controls": len(controls)})
            print(f"  every family, {label}: {t.wall:.1f} s, {verdicts}", file=sys.stderr, flush=True)
        return rows
    finally:
        emu.close()


def measure_init_breakdown(emu: Emulator, runs: int) -> list[dict]:
    """Each function's init in parts: its own debug line ("initialised": settings, SDK
    configuration, clients) inside the spawn-to-first-/next time measured outside; the rest is
    process start, the Tokio runtime, the tracing subscriber and the runtime client."""
    rows = []
    for function in FUNCTIONS + ["bare_lambda"]:
        parts: dict[str, list[float]] = {"total": [], "config": [], "sdk_config": [], "clients": []}
        for i in range(runs):
            event = function_event(function if function != "bare_lambda" else "log-retention", emu, 30_000 + i * 10
                                   + (FUNCTIONS.index(function) if function in FUNCTIONS else 9))
            init_ms, _, _, _ = cold_start(function, event, emu, rust_log="warn,logmend_core=debug")
            stderr = cold_start.stderr
            parts["total"].append(init_ms)
            for line in stderr.splitlines():
                try:
                    fields = json.loads(line).get("fields", {})
                except ValueError:
                    continue
                if fields.get("message") == "initialised":
                    for k in ("config", "sdk_config", "clients"):
                        parts[k].append(fields[f"{k}_us"] / 1000)
        row = {"function": function, **{k: med(v) if v else None for k, v in parts.items()}}
        known = sum(row[k] for k in ("config", "sdk_config", "clients") if row[k] is not None)
        row["rest"] = row["total"] - known
        rows.append(row)
    return rows


def fmt_s(v: float) -> str:
    return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"


def report(cold, zips, events, sweeps, breakdown, families, runs) -> str:
    lines = ["# logmend benchmarks", "", f"Machine: {machine()}.", "",
             f"`make bench` (bench/bench.py). Medians of {runs} runs unless said. The emulator is "
             "moto 5.2.5 with the project's patches, on the same machine. Where a table says "
             "\"25 ms\" every request took 25 ms of service time (LOGMEND_EMULATOR_SERVICE_MS), "
             "served on its own thread; \"AWS quotas\" adds the published per-account API rate "
             "quotas as token buckets (LOGMEND_EMULATOR_QUOTAS=aws; README, \"Testing against the "
             "emulator\").", ""]
    lines += ["## Lambda functions", "",
              "Cold start: spawn of the release binary (x86_64, the shipped profile) to its first "
              "`/next` request on a local Runtime API; peak RSS (VmHWM) after one invocation of an "
              "event of its family. Zip: the arm64 release zip from `make build`. Targets: init ≤ 8 ms, "
              "peak RSS ≤ 12 MB, zip ≤ 2.5 MB (but the EC2 family, network-logs).", "",
              "| function | init (ms) | init, slowest (ms) | peak RSS (MB) | arm64 binary (MB) | arm64 zip (MB) |",
              "|---|---:|---:|---:|---:|---:|"]
    for row in cold:
        z, b = zips.get(row["function"], (None, None))
        fmt = lambda v: f"{v / 1e6:.2f}" if v else "not built"
        lines.append(f"| {row['function']} | {row['init_ms']:.1f} | {row['init_max_ms']:.1f} | "
                     f"{row['peak_rss_mb']:.1f} | {fmt(b)} | {fmt(z)} |")
    if breakdown:
        lines += ["", "### Where the init goes", "",
                  "Medians, ms. config: the LOGMEND_* settings; SDK config: `aws_config` defaults (region, "
                  "credentials chain, retry, timeouts); clients: the family's SDK clients, the queue's, "
                  "STS and the outputs', each bound control; rest: process start, the Tokio runtime, the "
                  "tracing subscriber and lambda_runtime up to its first `/next`. `bare_lambda` "
                  "(shared/core/examples) is lambda_runtime with one SDK client from the default "
                  "configuration and nothing else.", "",
                  "| function | total | config | SDK config | clients | rest |", "|---|---:|---:|---:|---:|---:|"]
        for r in breakdown:
            f = lambda v: "" if v is None else f"{v:.2f}"
            lines.append(f"| {r['function']} | {r['total']:.2f} | {f(r['config'])} | {f(r['sdk_config'])} | "
                         f"{f(r['clients'])} | {r['rest']:.2f} |")
    lines += ["", "## Per event", "",
              "`logmend handle EVENT --fix` (release build; the time includes process start), AWS "
              "calls counted by the emulator's recorder, at moto's own pace.", "",
              "| control | resource | wall (ms) | reads | writes |", "|---|---|---:|---:|---:|"]
    for r in events:
        lines.append(f"| {r['control']} | {r['resource']} | {r['ms']:.0f} | {r['reads']:.0f} | {r['writes']:.0f} |")
    if sweeps:
        version = subprocess.run([str(CUSTODIAN), 'version'], capture_output=True, text=True).stdout.strip()
        lines += ["", "## Sweep: log group retention, logmend and Cloud Custodian", "",
                  "The same population (9 in 10 groups never expire), the same emulator. logmend scan: "
                  f"`logmend scan [--fix] --control log-group-retention --concurrency {LOGMEND_CONCURRENCY}`. "
                  f"logmend fan-out: the deployed path, the `{SWEEP_FUNCTION}` function's schedule event "
                  f"queueing every group on SQS, then {FANOUT_CONCURRENCY} copies of the function (the "
                  "template's SweepConcurrency) evaluating batches of ten from the queue, as the event "
                  f"source mapping hands them out (bench/bench.py, QueueRuntime). Cloud Custodian {version}: "
                  "`custodian run [--dryrun] --cache-period 0` of an `aws.log-group` policy with the "
                  "`retention` action (POLICY). After each fix every group is checked.", "",
                  "calls: requests the emulator served (throttled ones not counted); throttled: requests it "
                  "refused with the service's throttling error. Quota floor: per API bucket, the calls "
                  "beyond its burst at its refill rate (PutRetentionPolicy 5 a second, DescribeLogGroups "
                  "10); service floor: calls × 25 ms ÷ the tool's concurrency (Cloud Custodian's calls "
                  "are one after the other). failed: decisions the tool reported failed; unfixed: groups "
                  "still under 365 days after a fix.", ""]
        for pace in dict.fromkeys(r["pace"] for r in sweeps):
            lines += [f"### {pace}", "",
                      "| groups | pass | tool | wall (s) | calls | throttled | failed | unfixed | quota floor (s) | service floor (s) | wall ÷ floor | Custodian ÷ this |",
                      "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for r in (r for r in sweeps if r["pace"] == pace):
                c7n = r["runs"].get("Cloud Custodian")
                for tool, t in r["runs"].items():
                    conc = CUSTODIAN_CONCURRENCY if tool == "Cloud Custodian" else (
                        16 if "16" in tool else 10 if "10 copies" in tool else
                        LOGMEND_CONCURRENCY if tool == "logmend scan" else FANOUT_CONCURRENCY)
                    qf, sf = t.quota_floor(), t.service_floor(r["service_ms"], conc)
                    floor = max(qf, sf)
                    failed = "run failed" if t.failed < 0 else f"{t.failed:,}"
                    unfixed = f"{t.unfixed:,}" if r["pass"] == "fix" else ""
                    ratio = "" if tool == "Cloud Custodian" or c7n is None else f"{c7n.wall / t.wall:.1f}×"
                    lines.append(f"| {r['groups']:,} | {r['pass']} | {tool} | {fmt_s(t.wall)} | {t.calls:,} | "
                                 f"{t.throttled:,} | {failed} | {unfixed} | {fmt_s(qf)} | {fmt_s(sf)} | "
                                 f"{t.wall / floor:.2f} | {ratio} |" if floor else
                                 f"| {r['groups']:,} | {r['pass']} | {tool} | {fmt_s(t.wall)} | {t.calls:,} | "
                                 f"{t.throttled:,} | {failed} | {unfixed} | | | | {ratio} |")
            lines.append("")
    if families:
        lines += ["## Every family at AWS's pace", "",
                  "`make demo`'s resources (scripts/demo_resources.py: every family's controls have "
                  f"non-compliant resources), 25 ms and AWS quotas, `logmend scan [--fix] --concurrency "
                  f"{LOGMEND_CONCURRENCY}` over every control: the audit, the fix, and a second fix.", "",
                  "| pass | wall (s) | controls | decisions | verdicts | calls | writes | throttled |",
                  "|---|---:|---:|---:|---|---:|---:|---:|"]
        for r in families:
            t = r["t"]
            v = ", ".join(f"{k} {n}" for k, n in sorted(r["verdicts"].items()))
            lines.append(f"| {r['pass']} | {t.wall:.1f} | {r['controls']} | {sum(r['verdicts'].values())} | {v} | "
                         f"{t.calls:,} | {r['writes']:,} | {t.throttled:,} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=["functions", "sweeps", "families"], action="append",
                        help="measure only these parts (repeatable); the others are left out of the report")
    parser.add_argument("--sizes", default=None, help="log groups per sweep, comma-separated (default 1000,10000)")
    parser.add_argument("--paces", default=None, help="which paces: no-quotas, quotas, or both (default)")
    parser.add_argument("--tools", default=None,
                        help="which sweep tools, comma-separated: logmend scan, logmend fan-out, Cloud Custodian; "
                             "variants: logmend scan --concurrency 16, logmend fan-out of 10 copies")
    parser.add_argument("--passes", default="audit,fix", help="which sweep passes: audit, fix or both")
    parser.add_argument("--notes", default=str(ROOT / "bench" / "notes.md"),
                        help="appended to the results (what bounds a missed target)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args()
    runs = 3 if args.quick else 7
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else ([1_000] if args.quick else [1_000, 10_000])
    paces = PACES if not args.paces else [p for p in PACES if (p[2] == "aws") == (args.paces == "quotas")]
    only = set(args.only or ["functions", "sweeps", "families"])
    # Each part's measurements are kept (target/bench/PART.pickle), so a part measured again
    # (--only) is reported beside the others' last measurements.
    import pickle

    kept = ROOT / "target" / "bench"
    kept.mkdir(parents=True, exist_ok=True)

    def last(part: str, default):
        path = kept / f"{part}.pickle"
        return pickle.loads(path.read_bytes()) if path.exists() else default

    cold, events, breakdown = last("functions", ([], [], []))
    sweeps, families = last("sweeps", []), last("families", [])
    if "functions" in only:
        emu = Emulator()
        try:
            cold = measure_cold_starts(emu, runs)
            breakdown = measure_init_breakdown(emu, runs)
            events = measure_events(emu, 3 if args.quick else 5)
        finally:
            emu.close()
    if "sweeps" in only:
        tools = set(args.tools.split(",")) if args.tools else None
        measured = measure_sweeps(sizes, paces, tools, tuple(args.passes.split(",")))
        # A run of some tools, sizes or paces replaces only those runs of the kept results.
        for row in measured:
            same = next((r for r in sweeps if (r["pace"], r["groups"], r["pass"]) == (row["pace"], row["groups"], row["pass"])), None)
            if same is None:
                sweeps.append(row)
            else:
                same["runs"].update(row["runs"])
        order = {label: i for i, (label, _, _) in enumerate(PACES)}
        sweeps.sort(key=lambda r: (order.get(r["pace"], 9), r["groups"], r["pass"] != "audit"))
    if "families" in only:
        families = measure_every_family()
    for part, value in (("functions", (cold, events, breakdown)), ("sweeps", sweeps), ("families", families)):
        if part in only:
            for row in (sweeps if part == "sweeps" else []):
                for t in row["runs"].values():
                    t.proc.stdout = ""  # the decisions are counted already; thousands of lines
            (kept / f"{part}.pickle").write_bytes(pickle.dumps(value))
    text = report(cold, zip_sizes(), events, sweeps, breakdown, families, runs)
    notes = pathlib.Path(args.notes)
    if notes.exists():
        text += "\n" + notes.read_text()
    pathlib.Path(args.out).write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
