"""The ``ctc`` command: a thin layer over ctc.dsl, ctc.compiler and ctc.runtime.

Spec problems are printed as ``path:line:col: message`` on stderr with exit
status 1 (never a traceback); usage errors exit with status 2.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ctc import __version__
from ctc.cli_errors import fail, quiet_spark_logs, reports_errors
from ctc.cli_options import (
    DEFAULT_STORE_URL,
    cache_option,
    detectors_option,
    input_option,
    quality_option,
)
from ctc.dsl.errors import VERBOSE_ENV
from ctc.report import summary_table

_PATHS = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)


_DETECTORS = detectors_option("The detectors folder (specs, tiers/, quality.yaml).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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

    \b
    Typical use:
      ctc validate detectors/
      ctc compile --explain detectors/whale.yaml
      ctc simulate --hours 3 --out var/trades.jsonl
      ctc backtest detectors/ --input var/trades.jsonl
      ctc test detectors/
    """
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
    else:
        quiet_spark_logs()
    if driver_memory:
        os.environ["CTC_DRIVER_MEMORY"] = driver_memory
    if shuffle_partitions:
        os.environ["CTC_SHUFFLE_PARTITIONS"] = str(shuffle_partitions)


@main.command()
@_PATHS
@reports_errors
def validate(paths: Sequence[Path]) -> None:
    """Check specs (files or folders): YAML, JSON Schema, SQL, columns, functions.

    Starts no JVM. Prints one line per problem as path:line:col: message.
    """
    from ctc.compiler import compile_paths

    plans = compile_paths(list(paths))
    for p in plans:
        click.echo(f"ok  {p.module} {p.name}  ({p.spec_path})")
    click.echo(f"{len(plans)} spec{'s' if len(plans) != 1 else ''} valid")


@main.command("compile")
@_PATHS
@click.option("--explain", is_flag=True, help="Describe each plan for a person.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write <module-name>.sql per detector into this folder.",
)
@reports_errors
def compile_(paths: Sequence[Path], explain: bool, out_dir: Path | None) -> None:
    """Compile specs to Spark SQL plans (no JVM is started).

    Prints the SQL of every stage, or with --explain a readable account of the
    plan: source, stages and their SQL, window and watermark, state and its bound,
    alert rules with severity bands and params, message template, sinks.
    """
    from ctc.compiler import compile_paths
    from ctc.compiler.explain import explain as render

    plans = compile_paths(list(paths))
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        for p in plans:
            target = out_dir / f"{p.name}.sql"
            target.write_text(p.sql_script(), encoding="utf-8")
            click.echo(f"wrote {target}", err=True)
    if explain:
        click.echo("\n".join(render(p) for p in plans), nl=False)
    elif not out_dir:
        click.echo("\n".join(p.sql_script() for p in plans), nl=False)


@main.command()
@_PATHS
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
def backtest(
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
        f"{len(plans)} detectors compiled; quality rules: "
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
            f"on-chain input: {cc.read} records, {cc.used} used, {cc.rejected} rejected, "
            f"{cc.duplicates} duplicates dropped"
        )
    c = result.counts
    verdict = judge_input(str(input_path), c.read, c.used, c.rejected, result.rejected_by_rule)
    if verdict.kind == "error":
        fail(verdict.message)
    if verdict.kind in ("warn", "empty"):
        progress.note(f"warning: {verdict.message}")
    if fmt == "json":
        text = "".join(
            json.dumps({**a, "detected_at": a["detected_at"].isoformat().replace("+00:00", "Z")})
            + "\n"
            for a in result.alerts
        )
    else:
        text = (
            f"input: {c.read} records, {c.used} used, {c.rejected} rejected, "
            f"{c.duplicates} duplicates dropped\n\n"
            + summary_table(result.alerts, result.plans)
            + f"\n\n{len(result.alerts)} alerts in {result.seconds:.1f} s\n"
        )
    if out_file:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text, encoding="utf-8")
        progress.note(f"wrote {out_file}")
    else:
        click.echo(text, nl=False)


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@reports_errors
def test_(paths: Sequence[Path]) -> None:
    """Run each detector's fixtures (detectors/fixtures/<spec>/*.yaml); default: detectors/."""
    from ctc.dsl.load import spec_files
    from ctc.runtime.fixtures import run_fixtures
    from ctc.runtime.spark import get_spark

    files = spec_files(list(paths) or [Path("detectors")])
    results = run_fixtures(get_spark("ctc-test"), files)
    failed = 0
    for r in results:
        click.echo(f"{'PASS' if r.passed else 'FAIL'}  {r.name}  ({r.alerts} alerts)")
        for p in r.problems:
            click.echo(f"      {p}")
        failed += not r.passed
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed or not results:
        if not results:
            click.echo("ctc: no fixtures found", err=True)
        sys.exit(1)


@main.command()
@click.option(
    "--hours", default=3.0, show_default=True, type=float, help="Hours of simulated trades."
)
@click.option("--seed", default=7, show_default=True, type=int)
@_DETECTORS
@click.option(
    "--workdir",
    default="var/demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option(
    "--serve/--no-serve",
    default=True,
    show_default=True,
    help="End by serving the dashboard and API over the run's hot store.",
)
@click.option("--port", default=8000, show_default=True, type=int)
@reports_errors
def demo(
    hours: float, seed: int, detectors_dir: Path, workdir: Path, serve: bool, port: int
) -> None:
    """The main job on the embedded default (local Spark, local files, no internet).

    Simulates trades with injected anomalies and lands them as files in
    WORKDIR/landing, runs every streaming detector over them as one Spark streaming
    application (`ctc run --until-idle`) into the hot store (SQLite) and the lake
    (Iceberg), then prints the alerts, a summary and which injected anomalies were found,
    stops Spark and serves the dashboard over the run's hot store (Ctrl-C stops it).
    """
    from ctc.demo import DemoOptions, run_demo

    run_demo(DemoOptions(hours, seed, detectors_dir, workdir, serve, port))


def tier_specs(detectors_dir: Path, tier: str) -> list[Path]:
    """The spec files of a tier, from detectors/tiers/<tier>.yaml."""
    import yaml

    path = detectors_dir / "tiers" / f"{tier}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [detectors_dir / name for name in data.get("detectors", [])]


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--tier",
    type=click.Choice(["small", "medium", "large"]),
    default="small",
    show_default=True,
    help="Detectors to run, when no spec PATHS are given.",
)
@_DETECTORS
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
    help="Instead of the stream: run the batch detectors (mode: batch; MOD-004, MOD-011) "
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
def run(
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
    from ctc.sinks.lake.factory import parse_lake_url

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
    progress.note(f"{len(plans)} detectors compiled; starting Spark; reading {source or landing}")
    progress.stage("starting Spark")
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


def _register_optional() -> None:
    """Commands that live with their units: simulate, ingest, serve and deploy."""
    from ctc.deploy.cli import deploy_command
    from ctc.ingest.cli import ingest
    from ctc.ingest.labels_cli import labels_command
    from ctc.review.alert_cli import alert_command
    from ctc.review.cli import diff_command, sweep_command
    from ctc.serve.cli import serve_command
    from ctc.simulate import simulate_command

    main.add_command(simulate_command)
    main.add_command(ingest)
    main.add_command(labels_command)
    main.add_command(diff_command)
    main.add_command(sweep_command)
    main.add_command(alert_command)
    main.add_command(serve_command)
    main.add_command(deploy_command)


_register_optional()
