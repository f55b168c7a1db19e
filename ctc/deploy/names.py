"""What ``ctc deploy`` deploys to: names read from ``terraform output -json`` saved to a
file, each overridable by a flag. Nothing is a constant in code."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final

#: Terraform output name → DeployNames field (infra/envs/dev/outputs.tf).
OUTPUT_KEYS: Final = {
    "region": "region",
    "app": "app",
    "metrics_namespace": "metrics_namespace",
    "emr_application_id": "application_id",
    "emr_job_role_arn": "job_role_arn",
    "emr_jars": "emr_jars",
    "emr_log_group": "log_group",
    "artifacts_bucket": "artifacts_bucket",
    "checkpoints_bucket": "checkpoints_bucket",
    "lake_warehouse": "lake_warehouse",
    "glue_database": "glue_database",
    "stream_name": "stream_name",
    "store_prefix": "store_prefix",
    "api_function_name": "api_function_name",
    "dashboard_bucket": "dashboard_bucket",
    "dashboard_distribution_id": "dashboard_distribution_id",
}


@dataclass(frozen=True)
class DeployNames:
    """The AWS names a deployment needs (see :data:`OUTPUT_KEYS`)."""

    region: str
    app: str
    metrics_namespace: str
    application_id: str
    job_role_arn: str
    emr_jars: tuple[str, ...]
    log_group: str
    artifacts_bucket: str
    checkpoints_bucket: str
    lake_warehouse: str
    glue_database: str
    stream_name: str
    store_prefix: str
    api_function_name: str
    dashboard_bucket: str
    dashboard_distribution_id: str


def read_outputs(path: Path) -> dict[str, Any]:
    """The values of a ``terraform output -json`` file (``{name: {"value": …}}``), or of a
    plain ``{name: value}`` JSON object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected the object of `terraform output -json`")
    return {k: v["value"] if isinstance(v, dict) and "value" in v else v for k, v in data.items()}


def resolve_names(outputs: Mapping[str, Any], overrides: Mapping[str, Any]) -> DeployNames:
    """DeployNames from Terraform ``outputs`` with ``overrides`` (field → value, None = not
    given) on top; ValueError naming every missing one and its output and flag."""
    values: dict[str, Any] = {}
    for output, name in OUTPUT_KEYS.items():
        if output in outputs and outputs[output] not in (None, ""):
            values[name] = outputs[output]
    values.update({k: v for k, v in overrides.items() if v not in (None, "", ())})
    missing = [f.name for f in fields(DeployNames) if f.name not in values]
    if missing:
        flags = ", ".join(
            f"{n} (output {_output_of(n)}, flag --{n.replace('_', '-')})" for n in missing
        )
        raise ValueError(f"missing deployment names: {flags}")
    jars = values["emr_jars"]
    values["emr_jars"] = tuple(jars.split(",") if isinstance(jars, str) else jars)
    for f in fields(DeployNames):
        if f.name != "emr_jars" and not isinstance(values[f.name], str):
            raise ValueError(f"{f.name}: expected a string, got {values[f.name]!r}")
    return DeployNames(**values)


def _output_of(name: str) -> str:
    return next(o for o, n in OUTPUT_KEYS.items() if n == name)
