"""Carry out a deployment against AWS, or with ``dry_run`` print it and change nothing.

Order: build the job bundle and the API package; check the EMR application (its release
is ADR 0001's); choose the checkpoint (ctc.deploy.checkpoint); upload the bundle
(``jobs/<version>/`` and the batch workflow's ``jobs/current/``); stop the running stream
job and wait until it has stopped; start the new one; record ``jobs/deployed.json``;
update the API function's code; upload the dashboard and invalidate CloudFront.
A dry run still reads (the application, the deployed version, the running job) unless
``offline``; it writes nothing.
"""

from __future__ import annotations

import io
import json
import mimetypes
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from ctc.deploy.artifact import PIP_PLATFORM, Bundle, build_api_package, build_job_bundle
from ctc.deploy.checkpoint import CheckpointChoice, choose_checkpoint
from ctc.deploy.entrypoint import JOBS, command_exists
from ctc.deploy.job import (
    DEPLOYED_KEY,
    JOBS_PREFIX,
    STREAM_JOB_NAME,
    StreamSizing,
    checkpoint_uri,
    start_job_run_request,
)
from ctc.deploy.names import DeployNames
from ctc.deploy.release import check_release

#: Job run states of a stream that is (or is about to be) running.
LIVE_STATES = ("SUBMITTED", "PENDING", "SCHEDULED", "RUNNING", "QUEUED")
#: The batch steps of the daily workflow (infra/modules/batch).
BATCH_STEPS = ("history", "batch", "quality", "catalog")


@dataclass
class DeployOptions:
    """What to deploy and how."""

    detectors: Path
    tier: str = "small"
    python_env: str = "pip"
    new_checkpoint: bool = False
    stream: bool = True
    api: bool = True
    dashboard: bool = True
    dry_run: bool = False
    offline: bool = False
    sizing: StreamSizing = field(default_factory=StreamSizing)
    #: seconds to wait for the old stream job to stop
    stop_timeout: float = 600.0
    endpoint_url: str | None = None
    static_dir: Path = Path(__file__).resolve().parent.parent / "serve" / "static"


@dataclass
class Report:
    """What a deployment did (or would do)."""

    version: str = ""
    checkpoint: str = ""
    job_run_id: str | None = None
    steps: list[str] = field(default_factory=list)


class Deployer:
    """One deployment: ``run()`` performs (or prints) every step in order."""

    def __init__(self, names: DeployNames, options: DeployOptions, say: Callable[[str], None]):
        self.names = names
        self.options = options
        self.say = say
        self.report = Report()
        self._clients: dict[str, Any] = {}

    # -- plumbing --------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A boto3 client of the deployment's region (and test endpoint, if any)."""
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(
                service, region_name=self.names.region, endpoint_url=self.options.endpoint_url
            )
        return self._clients[service]

    def act(self, title: str, details: list[str], do: Callable[[], Any]) -> Any:
        """Print a step; run it unless this is a dry run."""
        n = len(self.report.steps) + 1
        verb = "would" if self.options.dry_run else "now"
        self.say(f"[{n}] {title}" + (f"  ({verb})" if self.options.dry_run else ""))
        for line in details:
            self.say(f"      {line}")
        self.report.steps.append(title)
        return None if self.options.dry_run else do()

    def note(self, text: str) -> None:
        """Print a fact the plan depends on (not a step)."""
        self.say(f"    - {text}")

    def _reads(self) -> bool:
        return not (self.options.dry_run and self.options.offline)

    # -- the deployment --------------------------------------------------------------

    def run(self) -> Report:
        """Deploy (or print the plan)."""
        o, names = self.options, self.names
        mode = "dry run: nothing is changed" if o.dry_run else "deploying"
        self.say(f"ctc deploy ({mode}) to {names.region}, tier {o.tier}")
        if o.dry_run and o.offline:
            self.say("    - offline: AWS is not read; the plan assumes nothing is deployed yet")
        with tempfile.TemporaryDirectory(prefix="ctc-deploy-") as tmp:
            work = Path(tmp)
            if o.stream:
                self._stream(work)
            if o.api:
                self._api(work)
            if o.dashboard:
                self._dashboard()
        self.say(f"{'planned' if o.dry_run else 'done'}: {len(self.report.steps)} steps")
        return self.report

    # -- stream ----------------------------------------------------------------------

    def _stream(self, work: Path) -> None:
        o, names = self.options, self.names
        bundle = build_job_bundle(o.detectors, work, o.python_env, install=not o.dry_run)
        self.report.version = bundle.version
        size = bundle.path.stat().st_size / 1e6
        self.say(f"built job bundle {bundle.version} ({size:.1f} MB, python env {o.python_env})")
        if o.python_env == "pip":
            reqs = bundle.manifest["requirements"]
            assert isinstance(reqs, list)
            self.note(
                ("the dry run skips " if o.dry_run else "bundled ")
                + f"pip install --platform {PIP_PLATFORM[0]} --python-version {PIP_PLATFORM[1]} "
                + f"--only-binary=:all: of {len(reqs)} requirements (no pyspark): "
                + ", ".join(reqs)
            )
        missing = [s for s in BATCH_STEPS if not command_exists(JOBS[s])]
        if missing:
            self.note(
                "daily batch steps this build cannot run yet (the workflow's runs of them fail "
                "with a message saying so; the schedule is off by default): "
                + ", ".join(f"{s} (ctc {' '.join(JOBS[s])})" for s in missing)
            )
        if self._reads():
            app = self.client("emr-serverless").get_application(applicationId=names.application_id)
            check_release(app["application"]["releaseLabel"])
            self.note(
                f"EMR application {names.application_id}: {app['application']['releaseLabel']}, "
                f"{app['application']['state']}"
            )
        deployed = self._deployed() if self._reads() else None
        choice = self._choose(deployed, work)
        checkpoint = checkpoint_uri(names, choice.generation)
        self.report.checkpoint = checkpoint
        self.note(f"checkpoint {checkpoint}: {choice.reason}")
        self._upload_bundle(bundle)
        live = self._live_runs() if self._reads() else []
        for run_id in live:
            self.act(
                f"stop the running stream job {run_id}",
                ["emr-serverless cancel-job-run, then wait until it is CANCELLED"],
                partial(self._cancel, run_id),
            )
        request = start_job_run_request(names, bundle.version, checkpoint, o.tier, o.sizing)
        run_id = self.act(
            "start the stream job (StartJobRun, mode STREAMING)",
            _describe_request(request),
            lambda: self.client("emr-serverless").start_job_run(**request)["jobRunId"],
        )
        self.report.job_run_id = run_id
        record = {
            "version": bundle.version,
            "generation": choice.generation,
            "checkpoint": checkpoint,
            "tier": o.tier,
            "job_run_id": run_id,
            "ctc_version": bundle.manifest.get("ctc_version"),
            "git_commit": bundle.manifest.get("git_commit"),
            "deployed_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        }
        self.act(
            f"record the deployment in s3://{names.artifacts_bucket}/{DEPLOYED_KEY}",
            [],
            lambda: self.client("s3").put_object(
                Bucket=names.artifacts_bucket,
                Key=DEPLOYED_KEY,
                Body=json.dumps(record, indent=2).encode(),
                ContentType="application/json",
            ),
        )

    def _deployed(self) -> dict[str, Any] | None:
        s3 = self.client("s3")
        try:
            body = s3.get_object(Bucket=self.names.artifacts_bucket, Key=DEPLOYED_KEY)["Body"]
        except s3.exceptions.NoSuchKey:
            return None
        data = json.loads(body.read())
        return data if isinstance(data, dict) else None

    def _choose(self, deployed: dict[str, Any] | None, work: Path) -> CheckpointChoice:
        old = None
        if deployed is not None and not self.options.new_checkpoint:
            self.note(f"deployed: version {deployed.get('version')}, tier {deployed.get('tier')}")
            old = self._old_detectors(str(deployed.get("version")), work / "deployed")
        return choose_checkpoint(
            deployed, old, self.options.detectors, self.options.tier, self.options.new_checkpoint
        )

    def _old_detectors(self, version: str, into: Path) -> Path | None:
        key = f"{JOBS_PREFIX}/{version}/ctc-job.tar.gz"
        s3 = self.client("s3")
        try:
            data = s3.get_object(Bucket=self.names.artifacts_bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("detectors/")]
            tar.extractall(into, members=members, filter="data")
        return into / "detectors"

    def _upload_bundle(self, bundle: Bundle) -> None:
        names = self.names
        entry = Path(__file__).with_name("entrypoint.py")
        for folder in (bundle.version, "current"):
            prefix = f"{JOBS_PREFIX}/{folder}"
            self.act(
                f"upload the job bundle to s3://{names.artifacts_bucket}/{prefix}/",
                [f"ctc-job.tar.gz ({bundle.path.stat().st_size:,} bytes)", "entrypoint.py"],
                partial(
                    self._put_files, prefix, {"ctc-job.tar.gz": bundle.path, "entrypoint.py": entry}
                ),
            )

    def _put_files(self, prefix: str, files: dict[str, Path]) -> None:
        for name, path in files.items():
            self.client("s3").upload_file(
                str(path), self.names.artifacts_bucket, f"{prefix}/{name}"
            )

    def _live_runs(self) -> list[str]:
        emr = self.client("emr-serverless")
        found = []
        pages = emr.get_paginator("list_job_runs").paginate(
            applicationId=self.names.application_id, states=list(LIVE_STATES)
        )
        try:
            for page in pages:
                found += [r["id"] for r in page["jobRuns"] if r.get("name") == STREAM_JOB_NAME]
        except emr.exceptions.ResourceNotFoundException:
            # the application exists (get_application answered): moto says this of an
            # application without job runs
            return []
        if found:
            self.note(f"running stream job(s): {', '.join(found)}")
        return found

    def _cancel(self, run_id: str) -> None:
        emr = self.client("emr-serverless")
        app = self.names.application_id
        emr.cancel_job_run(applicationId=app, jobRunId=run_id)
        deadline = time.monotonic() + self.options.stop_timeout
        while True:
            state = emr.get_job_run(applicationId=app, jobRunId=run_id)["jobRun"]["state"]
            if state not in LIVE_STATES and state != "CANCELLING":
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the stream job {run_id} is still {state} after "
                    f"{self.options.stop_timeout:.0f} s; nothing new was started"
                )
            time.sleep(5)

    # -- API and dashboard ----------------------------------------------------------

    def _api(self, work: Path) -> None:
        names = self.names
        package = build_api_package(work)
        key = f"api/{package.version}.zip"
        self.say(f"built API package {package.version} ({package.path.stat().st_size:,} bytes)")
        self.act(
            f"upload the API package to s3://{names.artifacts_bucket}/{key}",
            [],
            lambda: self.client("s3").upload_file(str(package.path), names.artifacts_bucket, key),
        )
        self.act(
            f"update the code of Lambda {names.api_function_name}",
            [
                f"handler {package.manifest['handler']} (set by Terraform)",
                f"code s3://{names.artifacts_bucket}/{key}",
            ],
            lambda: self._update_function(key),
        )

    def _update_function(self, key: str) -> None:
        lam = self.client("lambda")
        lam.update_function_code(
            FunctionName=self.names.api_function_name,
            S3Bucket=self.names.artifacts_bucket,
            S3Key=key,
        )
        lam.get_waiter("function_updated").wait(
            FunctionName=self.names.api_function_name, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
        )

    def _dashboard(self) -> None:
        names, static = self.names, self.options.static_dir
        files = [p for p in sorted(static.rglob("*")) if p.is_file()]
        if not files:
            raise ValueError(f"no dashboard build in {static} (scripts/build-dashboard.sh)")
        self.act(
            f"upload the dashboard ({len(files)} files from {static}) to s3://{names.dashboard_bucket}/",
            [],
            lambda: self._put_site(files),
        )
        self.act(
            f"invalidate CloudFront distribution {names.dashboard_distribution_id} (/*)",
            [],
            lambda: self.client("cloudfront").create_invalidation(
                DistributionId=names.dashboard_distribution_id,
                InvalidationBatch={
                    "Paths": {"Quantity": 1, "Items": ["/*"]},
                    "CallerReference": f"ctc-{time.time_ns()}",
                },
            ),
        )

    def _put_site(self, files: list[Path]) -> None:
        s3 = self.client("s3")
        for path in files:
            key = path.relative_to(self.options.static_dir).as_posix()
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            cache = (
                "no-cache" if path.name == "index.html" else "public, max-age=31536000, immutable"
            )
            s3.upload_file(
                str(path),
                self.names.dashboard_bucket,
                key,
                ExtraArgs={"ContentType": kind, "CacheControl": cache},
            )


def _describe_request(request: dict[str, Any]) -> list[str]:
    """Every parameter of a StartJobRun request, one per line."""
    driver = request["jobDriver"]["sparkSubmit"]
    lines = [
        f"application {request['applicationId']}, role {request['executionRoleArn']}",
        f"name {request['name']}, mode {request['mode']}, retry {request['retryPolicy']}",
        f"entryPoint {driver['entryPoint']}",
        "entryPointArguments:",
    ]
    lines += [f"  {a}" for a in _pairs(driver["entryPointArguments"])]
    lines.append("sparkSubmitParameters:")
    lines += [f"  {p}" for p in _conf_items(driver["sparkSubmitParameters"])]
    monitoring = request["configurationOverrides"]["monitoringConfiguration"]
    lines.append(
        f"logs: {monitoring['s3MonitoringConfiguration']['logUri']}, CloudWatch "
        f"{monitoring['cloudWatchLoggingConfiguration']['logGroupName']}"
    )
    return lines


def _pairs(args: list[str]) -> Iterator[str]:
    i = 0
    while i < len(args):
        if args[i].startswith("--") and i + 1 < len(args) and not args[i + 1].startswith("--"):
            yield f"{args[i]} {args[i + 1]}"
            i += 2
        else:
            yield args[i]
            i += 1


def _conf_items(params: str) -> list[str]:
    return [f"--conf {item.strip()}" for item in params.split("--conf") if item.strip()]
