"""``ctc deploy``: the command (docs/deploy.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import click

from ctc.cli_errors import reports_errors
from ctc.cli_options import detectors_option
from ctc.deploy.names import DeployNames
from ctc.tiers import TIERS


def _name_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """One ``--<name>`` flag per deployment name, overriding the Terraform output."""
    for f in reversed(fields(DeployNames)):
        flag = "--" + f.name.replace("_", "-")
        help_text = (
            "Comma list of jars; overrides the output emr_jars."
            if f.name == "emr_jars"
            else f"Overrides the Terraform output for {f.name}."
        )
        fn = click.option(flag, f.name, default=None, metavar="TEXT", help=help_text)(fn)
    return fn


@click.command("deploy")
@click.option(
    "--outputs",
    "outputs_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="`terraform output -json` of the environment, saved to a file.",
)
@detectors_option("The detectors folder to ship.")
@click.option(
    "--tier",
    type=click.Choice(TIERS),
    default="small",
    show_default=True,
    help="Detectors the stream job runs.",
)
@click.option(
    "--python-env",
    type=click.Choice(["pip", "image"]),
    default="pip",
    show_default=True,
    help="pip: bundle the dependencies, built by pip for EMR's platform; image: they are "
    "in a custom EMR image (Terraform's emr_image_uri).",
)
@click.option(
    "--new-checkpoint",
    is_flag=True,
    help="Start the stream from a fresh checkpoint (needed after a breaking change; the "
    "state restarts empty).",
)
@click.option(
    "--trigger-seconds",
    type=click.FloatRange(1),
    default=60.0,
    show_default=True,
    help="Seconds between the stream's micro-batches (alert latency against S3 and Glue "
    "requests per hour: docs/deploy.md, costs).",
)
@click.option("--stream/--no-stream", default=True, help="Deploy the stream job.")
@click.option("--api/--no-api", default=True, help="Update the API's Lambda code.")
@click.option("--dashboard/--no-dashboard", default=True, help="Upload the dashboard.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print every step and every spark-submit parameter; change nothing (AWS is read).",
)
@click.option(
    "--offline", is_flag=True, help="With --dry-run: do not read AWS either (a first deployment)."
)
@click.option(
    "--endpoint-url", default=None, help="AWS endpoint for every service (moto, LocalStack)."
)
@_name_options
@reports_errors
def deploy_command(
    outputs_file: Path | None,
    detectors_dir: Path,
    tier: str,
    python_env: str,
    new_checkpoint: bool,
    trigger_seconds: float,
    stream: bool,
    api: bool,
    dashboard: bool,
    dry_run: bool,
    offline: bool,
    endpoint_url: str | None,
    **overrides: str | None,
) -> None:
    """Ship the detectors to AWS: the EMR Serverless stream job, the API, the dashboard.

    Builds the job bundle (ctc, its dependencies without pyspark, the detectors and their
    reference data, the entry point), uploads it, then stops the running stream job and
    starts the new one: from the same checkpoint when every change is compatible (the
    review's classification), else only with --new-checkpoint. Updates the API function's
    code and uploads the dashboard. Names come from --outputs and the flags.

    \b
    Typical use:
      terraform -chdir=infra/envs/dev output -json > ctc-outputs.json
      ctc deploy --outputs ctc-outputs.json --dry-run
      ctc deploy --outputs ctc-outputs.json
    """
    from ctc.cli_errors import fail
    from ctc.deploy.deployer import Deployer, DeployOptions
    from ctc.deploy.job import StreamSizing
    from ctc.deploy.names import read_outputs, resolve_names

    if offline and not dry_run:
        fail("--offline needs --dry-run (a deployment reads and writes AWS)", 2)
    outputs = read_outputs(outputs_file) if outputs_file else {}
    names = resolve_names(outputs, overrides)
    options = DeployOptions(
        detectors=detectors_dir,
        tier=tier,
        python_env=python_env,
        new_checkpoint=new_checkpoint,
        stream=stream,
        api=api,
        dashboard=dashboard,
        dry_run=dry_run,
        offline=offline,
        endpoint_url=endpoint_url,
        sizing=StreamSizing(trigger_seconds=trigger_seconds),
    )
    Deployer(names, options, click.echo).run()
