"""The ``ctc`` command: global options and the commands, each defined with its unit.

Spec problems are printed as ``path:line:col: message`` on stderr with exit
status 1 (never a traceback); usage errors exit with status 2.
"""

from __future__ import annotations

import os

import click

from ctc import __version__
from ctc.cli_errors import quiet_spark_logs
from ctc.cli_help import CommandsWithExamples
from ctc.dsl.errors import VERBOSE_ENV


@click.group(cls=CommandsWithExamples, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ctc")
@click.option(
    "--verbose",
    is_flag=True,
    help="Show Spark's and the JVM's start-up output and log, and report errors in full "
    "(Python tracebacks, Java stack traces).",
)
@click.option(
    "--driver-memory",
    metavar="SIZE",
    help="Spark driver heap, e.g. 1536m or 4g (default 1536m; env CTC_DRIVER_MEMORY).",
)
@click.option(
    "--shuffle-partitions",
    type=click.IntRange(1),
    help="Spark SQL shuffle partitions (default: the number of cores, at least 2; "
    "env CTC_SHUFFLE_PARTITIONS).",
)
def main(verbose: bool, driver_memory: str | None, shuffle_partitions: int | None) -> None:
    """Coat Tail Capital: crypto market anomaly detectors as YAML specs, compiled to Spark SQL.

    `ctc COMMAND --help` tells more of each command.
    """
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
    else:
        quiet_spark_logs()
    if driver_memory:
        os.environ["CTC_DRIVER_MEMORY"] = driver_memory
    if shuffle_partitions:
        os.environ["CTC_SHUFFLE_PARTITIONS"] = str(shuffle_partitions)


def _register() -> None:
    """Every command, from the unit it belongs to."""
    from ctc.compiler.cli import compile_command, validate_command
    from ctc.demo import demo_command
    from ctc.deploy.cli import deploy_command
    from ctc.ingest.cli import ingest
    from ctc.ingest.known_wallets_cli import labels_command
    from ctc.review.alert_cli import alert_command
    from ctc.review.cli import diff_command, sweep_command
    from ctc.runtime.cli import backtest_command, run_command, test_command
    from ctc.serve.cli import serve_command
    from ctc.simulate import simulate_command

    for command in (
        validate_command,
        compile_command,
        simulate_command,
        backtest_command,
        test_command,
        demo_command,
        ingest,
        labels_command,
        run_command,
        serve_command,
        diff_command,
        sweep_command,
        alert_command,
        deploy_command,
    ):
        main.add_command(command)


_register()
