"""The commands that run detectors in Spark: ``ctc backtest`` (batch, over recorded
trades), ``ctc test`` (each detector's fixtures) and ``ctc run`` (the streaming
application)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ctc.cli_errors import fail, reports_errors
from ctc.cli_options import (
    DEFAULT_STORE_URL,
    cache_option,
    detectors_option,
    input_option,
    quality_option,
    spec_paths_argument,
)
from ctc.plural import plural
from ctc.report import alerts_json_lines, input_counts_line, summary_table
from ctc.tiers import TIERS, tier_specs


@click.command("backtest")
@spec_paths_argument
@input_option("Unified trade events as JSON lines (a file or a folder of files).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: a summary per detector and severity; json: one alert record per line.",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the output here instead of stdout.",
)
@quality_option()
@cache_option
@click.option(
    "--no-cache",
    is_flag=True,
    help="Gate the input in memory; neither read nor write the cache.",
)
@click.option(
    "--chain-input",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="On-chain events as JSON lines (a file, or a folder such as a landing folder's "
    "_chain) for the detectors that read chain_events; not cached.",
)
@reports_errors
def backtest_command(
    paths: Sequence[Path],
    input_path: Path,
    fmt: str,
    out_file: Path | None,
    quality: str | None,
    cache_dir: Path,
    no_cache: bool,
    chain_input: Path | None,
) -> None:
    """Run detectors in Spark batch mode over recorded or simulated trades.

    The input passes the same quality gate as the stream (as one batch) first. The gated
    input is cached (--cache), so a second back-test of the same input skips the JSON.
    An input of which no record passes is an error (exit 1); one of which most are
    rejected, or an empty one, gets a warning.
    """
    from ctc.compiler import compile_paths
    from ctc.progress import Progress
    from ctc.runtime.backtest import run_backtest
    from ctc.runtime.input_verdict import judge_input
    from ctc.runtime.quality_rules import rules_beside
    from ctc.runtime.spark import get_spark

    plans = compile_paths(list(paths))
    rules = rules_beside(paths[0], quality)
    progress = Progress()
    progress.note(
        f"{plural(len(plans), 'detector')} compiled; quality rules: "
        f"{rules.path if rules else 'any symbol and exchange'}"
    )
    result = run_backtest(
        lambda: get_spark("ctc-backtest"),
        plans,
        input_path,
        progress,
        rules,
        cache_dir=None if no_cache else cache_dir,
        chain_input=chain_input,
    )
    progress.close()
    if result.chain_counts is not None:
        cc = result.chain_counts
        progress.note(
            input_counts_line("on-chain input", cc.read, cc.used, cc.rejected, cc.duplicates)
        )
    c = result.counts
    verdict = judge_input(str(input_path), c.read, c.used, c.rejected, result.rejected_by_rule)
    if verdict.kind == "error":
        fail(verdict.message)
    if verdict.kind in ("warn", "empty"):
        progress.note(f"warning: {verdict.message}")
    if fmt == "json":
        text = alerts_json_lines(result.alerts)
    else:
        text = (
            input_counts_line("input", c.read, c.used, c.rejected, c.duplicates)
            + "\n\n"
            + summary_table(result.alerts, result.plans)
            + f"\n\n{plural(len(result.alerts), 'alert')} in {result.seconds:.1f} s\n"
        )
    if out_file:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text, encoding="utf-8")
        progress.note(f"wrote {out_file}")
    else:
        click.echo(text, nl=False)


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@reports_errors
def test_command(paths: Sequence[Path]) -> None:
    """Run each detector's fixtures (detectors/fixtures/<spec>/*.yaml); default: detectors/."""
    from ctc.dsl.load import spec_files
    from ctc.runtime.fixtures import run_fixtures
    from ctc.runtime.spark import get_spark

    files = spec_files(list(paths) or [Path("detectors")])
    results = run_fixtures(get_spark("ctc-test"), files)
    failed = 0
    for r in results:
        click.echo(f"{'PASS' if r.passed else 'FAIL'}  {r.name}  ({plural(r.alerts, 'alert')})")
        for p in r.problems:
            click.echo(f"      {p}")
        failed += not r.passed
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed or not results:
        if not results:
            click.echo("ctc: no fixtures found", err=True)
        sys.exit(1)


@click.command("run")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--tier",
    type=click.Choice(TIERS),
    default="small",
    show_default=True,
    help="Detectors to run, when no spec PATHS are given.",
)
@detectors_option()
@click.option(
    "--landing",
    default="var/landing",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of JSON-lines files of unified trade events (the file source).",
)
@click.option(
    "--chain-landing",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of on-chain event files (ctc ingest --chain) [default: LANDING/_chain].",
)
@click.option(
    "--checkpoint",
    default="var/checkpoint",
    show_default=True,
    help="Checkpoint and state of this application, a folder or a URI (file://, s3:// on "
    "EMR); a restart resumes from it.",
)
@click.option(
    "--store",
    "store_url",
    default=DEFAULT_STORE_URL,
    show_default=True,
    help="Hot store: sqlite:///FILE or dynamodb://PREFIX?region=R.",
)
@click.option(
    "--lake",
    default="var/lake",
    show_default=True,
    help="Lake: a warehouse folder (pyiceberg, SQLite catalog), "
    "glue://DATABASE?warehouse=s3://BUCKET/PREFIX (Spark's Iceberg catalog on AWS Glue; "
    "needs the Iceberg jars), hadoop://DATABASE?warehouse=URI, or 'none'.",
)
@click.option(
    "--quality",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Quality rules [default: DETECTORS/quality.yaml].",
)
@click.option(
    "--status",
    "status_path",
    default="var/ctc/status.json",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where the last micro-batch's metrics are written.",
)
@click.option(
    "--source",
    default=None,
    help="Instead of --landing: kinesis:STREAM?region=R or kafka:HOSTS/TOPIC (on EMR).",
)
@click.option(
    "--cloudwatch",
    "cloudwatch_namespace",
    default=None,
    help="Also publish each micro-batch's metrics to this CloudWatch namespace.",
)
@click.option(
    "--until-idle",
    is_flag=True,
    help="Process what is in the landing folder, close every open window, stop (the "
    "folder must exist).",
)
@click.option(
    "--batch",
    is_flag=True,
    help="Instead of the stream: run the batch detectors (mode: batch; MOD-011) "
    "for one day (--date) from the lake into the hot store and the lake, idempotent per "
    "day; the daily step the AWS schedule runs. The tier defaults to large.",
)
@click.option(
    "--date",
    "day",
    default=None,
    metavar="YYYY-MM-DD",
    help="With --batch: the UTC day [default: two days ago, the latest whose 24-hour "
    "horizons have passed].",
)
@click.option("--trigger-seconds", default=2.0, show_default=True, type=float)
@click.option(
    "--max-files-per-trigger",
    default=None,
    type=int,
    help="Bound each micro-batch to this many files.",
)
@reports_errors
def run_command(
    paths: Sequence[Path],
    tier: str,
    detectors_dir: Path,
    landing: Path,
    chain_landing: Path | None,
    checkpoint: str,
    store_url: str,
    lake: str,
    quality: Path | None,
    status_path: Path,
    source: str | None,
    cloudwatch_namespace: str | None,
    until_idle: bool,
    batch: bool,
    day: str | None,
    trigger_seconds: float,
    max_files_per_trigger: int | None,
) -> None:
    """Run every detector of a tier (or the given specs) as one Spark streaming application.

    Reads JSON-lines files from the landing folder, passes them through the quality gate
    once, runs every compiled detector, and writes all alerts through one sink: the hot
    store and the lake. Stop with Ctrl-C; a restart resumes from the checkpoint. Ends
    with the totals and, for each detector without alerts that cannot fire on the trades
    read, why; exits 1 when no record passed the quality gate.

    With --batch, runs the batch detectors for one day from the lake instead
    (docs/runtime.md, "Daily batch").
    """
    if batch:
        from click.core import ParameterSource

        from ctc.progress import Progress
        from ctc.runtime.daily import run_daily_command

        ctx = click.get_current_context()
        default_tier = ctx.get_parameter_source("tier") is ParameterSource.DEFAULT
        specs = list(paths) or tier_specs(detectors_dir, "large" if default_tier else tier)
        progress = Progress()
        lines = run_daily_command(specs, day, store_url, lake, progress.note)
        progress.close()
        click.echo("\n".join(lines))
        return
    if day is not None:
        raise click.UsageError("--date goes with --batch")
    from ctc.compiler import compile_paths
    from ctc.progress import Progress
    from ctc.runtime.run_summary import check_landing, input_verdict, summary_lines
    from ctc.runtime.spark import get_spark
    from ctc.runtime.stream import RunOptions, StreamRunner
    from ctc.sinks.lake.factory import parse_lake_url, preload_lake

    target = parse_lake_url(lake)  # a bad URL fails here, before Spark starts
    specs = list(paths) or tier_specs(detectors_dir, tier)
    plans = compile_paths(specs, with_dependencies=True)
    progress = Progress()
    folder = Path(source.removeprefix("landing:")) if source else landing
    is_folder = not source or source.startswith("landing:")
    note = check_landing(folder, until_idle) if is_folder else None
    if note:
        progress.note(note)
    options = RunOptions(
        landing=landing,
        checkpoint=checkpoint,
        store_url=store_url,
        lake=lake,
        quality=quality or detectors_dir / "quality.yaml",
        status_path=status_path,
        until_idle=until_idle,
        trigger_seconds=trigger_seconds,
        max_files_per_trigger=max_files_per_trigger,
        source=source,
        cloudwatch_namespace=cloudwatch_namespace,
        chain_landing=chain_landing,
    )
    progress.note(
        f"{plural(len(plans), 'detector')} compiled; starting Spark; reading {source or landing}"
    )
    progress.stage("starting Spark")
    preload_lake(lake)  # while the JVM starts
    spark = get_spark("ctc-run", conf=target.spark_conf())
    runner = StreamRunner(spark, plans, options, progress, progress)
    runner.run()
    progress.close()
    click.echo("\n".join(summary_lines(runner)))
    click.echo(f"hot store: {store_url}; lake: {lake}; status: {status_path}")
    verdict = input_verdict(runner, str(folder))
    if verdict.kind == "error":
        fail(verdict.message)
    if verdict.kind == "warn":
        progress.note(f"warning: {verdict.message}")
    if not runner.totals.processed and until_idle and note is None:
        progress.note(f"no new records in {folder}: every file was read by an earlier run")
