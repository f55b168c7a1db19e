"""The streaming job run: where its bundle is, its spark-submit parameters, the ``ctc run``
arguments, and the whole ``StartJobRun`` request. Pure: nothing here calls AWS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from ctc.deploy.names import DeployNames

#: Name of the streaming job run (how ctc deploy finds the running one).
STREAM_JOB_NAME: Final = "ctc-stream"
#: Key prefix of the job bundles in the artifacts bucket; ``jobs/current/`` is the copy the
#: daily batch workflow runs.
JOBS_PREFIX: Final = "jobs"
#: Where the deployed state (version, checkpoint, job run) is recorded.
DEPLOYED_KEY: Final = "jobs/deployed.json"


@dataclass(frozen=True)
class StreamSizing:
    """Driver and executors of the streaming job (fixed: no dynamic allocation, so the
    micro-batches' executors and cached state are not taken away between batches)."""

    driver_cores: int = 2
    driver_memory: str = "4g"
    executor_cores: int = 2
    executor_memory: str = "4g"
    executors: int = 2
    #: seconds between micro-batches: each one commits the checkpoint and every lake table
    #: (S3 PUTs, Glue updates), so a long interval is what keeps the stream cheap
    trigger_seconds: float = 60.0


def job_root(bucket: str, version: str) -> str:
    """S3 folder of a job bundle version (``current`` for the batch workflow's copy)."""
    return f"s3://{bucket}/{JOBS_PREFIX}/{version}"


def spark_submit_parameters(root: str, jars: Sequence[str]) -> str:
    """The spark-submit parameters every ctc job run shares: the bundle as ``./job`` on
    the driver and the executors, its ``site/`` on their Python path, the EMR image's jars.
    infra/modules/batch builds the same string for ``jobs/current`` (tests/infra)."""
    return " ".join(
        [
            f"--conf spark.archives={root}/ctc-job.tar.gz#job",
            "--conf spark.emr-serverless.driverEnv.PYTHONPATH=./job/site",
            "--conf spark.executorEnv.PYTHONPATH=./job/site",
            f"--conf spark.jars={','.join(jars)}",
        ]
    )


def stream_parameters(root: str, jars: Sequence[str], sizing: StreamSizing) -> str:
    """The streaming job's spark-submit parameters: the shared ones and its fixed sizing."""
    return " ".join(
        [
            spark_submit_parameters(root, jars),
            f"--conf spark.driver.cores={sizing.driver_cores}",
            f"--conf spark.driver.memory={sizing.driver_memory}",
            f"--conf spark.executor.cores={sizing.executor_cores}",
            f"--conf spark.executor.memory={sizing.executor_memory}",
            f"--conf spark.executor.instances={sizing.executors}",
            "--conf spark.dynamicAllocation.enabled=false",
        ]
    )


def stream_arguments(
    names: DeployNames, checkpoint: str, tier: str, trigger_seconds: float = 60.0
) -> list[str]:
    """The entry point's arguments: ``stream`` and the ``ctc run`` options for AWS."""
    region = names.region
    warehouse = quote(names.lake_warehouse, safe=":/")
    return [
        "stream",
        "--tier",
        tier,
        "--source",
        f"kinesis:{names.stream_name}?region={region}&start=TRIM_HORIZON",
        "--checkpoint",
        checkpoint,
        "--store",
        f"dynamodb://{names.store_prefix}?region={region}",
        "--lake",
        f"glue://{names.glue_database}?warehouse={warehouse}&region={region}&packages=false",
        "--cloudwatch",
        names.metrics_namespace,
        "--trigger-seconds",
        f"{trigger_seconds:g}",
    ]


def checkpoint_uri(names: DeployNames, generation: int) -> str:
    """The stream's checkpoint of a generation: a new generation is a fresh state."""
    return f"s3://{names.checkpoints_bucket}/{names.app}/stream/g{generation}"


def start_job_run_request(
    names: DeployNames,
    version: str,
    checkpoint: str,
    tier: str,
    sizing: StreamSizing,
) -> dict[str, Any]:
    """The ``StartJobRun`` request of the streaming job (mode STREAMING: EMR restarts it on
    failure, from the same checkpoint)."""
    root = job_root(names.artifacts_bucket, version)
    monitoring: dict[str, Any] = {
        "s3MonitoringConfiguration": {"logUri": f"s3://{names.artifacts_bucket}/logs/"},
        "cloudWatchLoggingConfiguration": {
            "enabled": True,
            "logGroupName": names.log_group,
            "logStreamNamePrefix": STREAM_JOB_NAME,
        },
    }
    return {
        "applicationId": names.application_id,
        "executionRoleArn": names.job_role_arn,
        "name": STREAM_JOB_NAME,
        "mode": "STREAMING",
        "retryPolicy": {"maxFailedAttemptsPerHour": 5},
        "jobDriver": {
            "sparkSubmit": {
                "entryPoint": f"{root}/entrypoint.py",
                "entryPointArguments": stream_arguments(
                    names, checkpoint, tier, sizing.trigger_seconds
                ),
                "sparkSubmitParameters": stream_parameters(root, names.emr_jars, sizing),
            }
        },
        "configurationOverrides": {"monitoringConfiguration": monitoring},
        "tags": {"ctc:version": version, "ctc:checkpoint": checkpoint},
    }
