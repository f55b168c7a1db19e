"""The ``ctc`` command: a thin layer over ctc.dsl, ctc.compiler and ctc.runtime.

Spec problems are printed as ``path:line:col: message`` on stderr with exit
status 1 (never a traceback); usage errors exit with status 2.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from ctc import __version__
from ctc.dsl.errors import VERBOSE_ENV, SpecErrors, escape_controls
from ctc.dsl.errors import verbose as is_verbose

F = TypeVar("F", bound=Callable[..., Any])

_PATHS = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)


_DETECTORS = click.option(
    "--detectors",
    "detectors_dir",
    default="detectors",
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The detectors folder (specs, tiers/, quality.yaml).",
)


def _fail(message: str) -> NoReturn:
    """Print ``ctc: error: message`` as one line (control characters escaped); exit 1."""
    click.echo(f"ctc: error: {escape_controls(message.strip())[:2000]}", err=True)
    sys.exit(1)


#: "[ERROR_CLASS] message" or "org.apache.…Exception: message" in a Java error's text.
_JAVA_LINE = re.compile(r"(?:^|: )((?:\[[A-Z][A-Z0-9_.]+\]|[\w$.]+(?:Exception|Error): ).*)")


def _spark_message(exc: BaseException) -> str:
    """One line for a Spark (pyspark or py4j) error: its error class and message, no stack."""
    get_message = getattr(exc, "getMessage", None)
    text = str(get_message() if callable(get_message) else exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    if lines[0].startswith("An error occurred while calling"):  # py4j: the Java error follows
        for line in lines[1:]:
            if line.startswith("at ") or line.startswith("..."):
                continue
            m = _JAVA_LINE.search(line)
            if m:
                return m.group(1)
    return lines[0]


def _quiet_spark_logs() -> None:
    """Stop pyspark from logging each SQL error with its Java stack trace (ctc reports it as
    one line). The loggers are created here with a level above CRITICAL; pyspark reuses them."""
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 10)


def reports_errors(fn: F) -> F:
    """Turn spec errors and runtime failures into one line each and exit status 1.

    Spark errors become ``ctc: error: Spark: <message>`` without the Java stack trace, and
    unexpected errors ``ctc: error: internal error: …``; ``ctc --verbose`` keeps the full
    traceback (and Java stack trace) of both.
    """

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SpecErrors as exc:
            for err in exc.errors:
                click.echo(str(err), err=True)
            n = len(exc.errors)
            click.echo(f"ctc: {n} problem{'s' if n != 1 else ''} found", err=True)
            sys.exit(1)
        except (OSError, ValueError) as exc:
            if type(exc).__module__.startswith(("pyspark", "py4j")):
                _spark_failure(exc)
            if is_verbose():
                raise
            _fail(str(exc))
        except Exception as exc:
            if type(exc).__module__.startswith(("pyspark", "py4j")):
                _spark_failure(exc)
            if is_verbose():
                raise
            _fail(
                f"internal error: {type(exc).__name__}: {exc} (ctc --verbose shows the traceback)"
            )

    return wrapper  # type: ignore[return-value]


def _spark_failure(exc: BaseException) -> NoReturn:
    """Report a Spark error: one line, or with --verbose the full trace first."""
    if is_verbose():
        import traceback

        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    _fail(f"Spark: {_spark_message(exc)}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ctc")
@click.option(
    "--verbose",
    is_flag=True,
    help="Report errors in full: Python tracebacks, Java stack traces and Spark's logs.",
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
        _quiet_spark_logs()
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


def _summary_table(alerts: list[dict[str, Any]], plans: Sequence[Any]) -> str:
    order = ["critical", "high", "medium", "low"]
    counts = Counter((a["module_id"], a["alert_type"], a["severity"]) for a in alerts)
    lines = [
        f"{'module':8} {'detector':20} {'alert type':22} "
        + " ".join(f"{s:>8}" for s in order)
        + f" {'total':>7}"
    ]
    for p in plans:
        types = [r.type for r in p.alert_rules]
        for t in types:
            row = [counts.get((p.module, t, s), 0) for s in order]
            lines.append(
                f"{p.module:8} {p.name:20} {t:22} "
                + " ".join(f"{n:>8}" for n in row)
                + f" {sum(row):>7}"
            )
    lines.append(f"{'':52}{'':>{9 * len(order)}} {len(alerts):>6}")
    return "\n".join(lines)


@main.command()
@_PATHS
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Unified trade events as JSON lines (a file or a folder of files).",
)
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
@click.option(
    "--quality",
    default=None,
    help="Quality rules (a quality.yaml), or 'any' to accept every symbol and exchange "
    "[default: quality.yaml beside the first spec, else 'any'].",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/cache/gated"),
    show_default=True,
    help="Keep the gated input here as Parquet, keyed by the content of the input and the "
    "quality rules; the next back-test of the same input reads it instead of the JSON.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Gate the input in memory; neither read nor write the cache.",
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
) -> None:
    """Run detectors in Spark batch mode over recorded or simulated trades.

    The input passes the same quality gate as the stream (as one batch) first. The gated
    input is cached (--cache), so a second back-test of the same input skips the JSON.
    """
    from ctc.compiler import compile_paths
    from ctc.runtime.backtest import run_backtest, stderr_progress
    from ctc.runtime.quality import load_rules
    from ctc.runtime.spark import get_spark

    plans = compile_paths(list(paths))
    first = paths[0] if paths[0].is_dir() else paths[0].parent
    rules_path = Path(quality) if quality and quality != "any" else first / "quality.yaml"
    rules = None if quality == "any" or not rules_path.exists() else load_rules(rules_path)
    stderr_progress(
        f"{len(plans)} detectors compiled; quality rules: "
        f"{rules.path if rules else 'any symbol and exchange'}; starting Spark"
    )
    result = run_backtest(
        get_spark("ctc-backtest"),
        plans,
        input_path,
        stderr_progress,
        rules,
        cache_dir=None if no_cache else cache_dir,
    )
    if fmt == "json":
        text = "".join(
            json.dumps({**a, "detected_at": a["detected_at"].isoformat().replace("+00:00", "Z")})
            + "\n"
            for a in result.alerts
        )
    else:
        c = result.counts
        text = (
            f"input: {c.read} records, {c.used} used, {c.rejected} rejected, "
            f"{c.duplicates} duplicates dropped\n\n"
            + _summary_table(result.alerts, result.plans)
            + f"\n\n{len(result.alerts)} alerts in {result.seconds:.1f} s\n"
        )
    if out_file:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text, encoding="utf-8")
        stderr_progress(f"wrote {out_file}")
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


def _truth_report(truth: list[dict[str, Any]], alerts: list[dict[str, Any]]) -> str:
    """How many injected anomalies the detectors found (an alert of the matching type in time)."""
    from datetime import datetime, timedelta

    kinds = {
        "volume_spike": ("volume_spike", 60),
        "whale_trade": ("whale_trade", 0),
        "spread_divergence": ("spread_divergence", 30),
    }
    lines = []
    for kind, (atype, pad) in kinds.items():
        injected = [a for a in truth if a["kind"] == kind]
        found = 0
        for a in injected:
            start = datetime.fromisoformat(a["start"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(a["end"].replace("Z", "+00:00")) + timedelta(seconds=pad)
            if any(
                x["alert_type"] == atype
                and x["symbol"] == a["symbol"]
                and start <= x["detected_at"] <= end + timedelta(seconds=pad)
                for x in alerts
            ):
                found += 1
        lines.append(f"  {kind:18} injected {len(injected):3}   found {found:3}")
    return "\n".join(lines)


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
    and serves the dashboard over the run's hot store (Ctrl-C stops it).
    """
    import shutil
    from datetime import datetime

    from ctc.compiler import compile_paths
    from ctc.runtime.landing import publish_file
    from ctc.runtime.spark import get_spark
    from ctc.runtime.stream import RunOptions, StreamRunner, stderr_say
    from ctc.simulate import simulate
    from ctc.sinks.stores.factory import open_store

    for part in ("landing", "checkpoint", "lake", "alerts.db", "status.json"):
        target = workdir / part
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    for extra in workdir.glob("alerts.db-*"):
        extra.unlink()
    workdir.mkdir(parents=True, exist_ok=True)
    trades = workdir / "trades.jsonl"
    stderr_say(f"simulating {hours:g} h of trades into {trades}")
    sim = simulate(hours, trades, seed=seed)
    files = publish_file(trades, workdir / "landing", seconds_per_file=900)
    stderr_say(
        f"{sim.trades} trades, {len(sim.anomalies)} injected anomalies; "
        f"{len(files)} files landed in {workdir / 'landing'}"
    )
    plans = compile_paths([detectors_dir])
    store_url = f"sqlite:///{workdir / 'alerts.db'}"
    options = RunOptions(
        landing=workdir / "landing",
        checkpoint=workdir / "checkpoint",
        store_url=store_url,
        lake=str(workdir / "lake"),
        quality=detectors_dir / "quality.yaml",
        status_path=workdir / "status.json",
        until_idle=True,
        max_files_per_trigger=2,
    )
    stderr_say(f"{len(plans)} detectors compiled; starting Spark (local) for `ctc run`")
    started = time.perf_counter()
    spark = get_spark("ctc-demo")
    spark_seconds = time.perf_counter() - started
    runner = StreamRunner(spark, plans, options, stderr_say)
    totals = runner.run()
    run_seconds = time.perf_counter() - started

    store = open_store(store_url)
    alerts: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = store.query_alerts(limit=200, cursor=cursor)
        alerts += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    for a in alerts:
        a["detected_at"] = datetime.fromisoformat(str(a["detected_at"]).replace("Z", "+00:00"))
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    top = sorted(alerts, key=lambda a: (rank[a["severity"]], a["detected_at"]))[:15]
    click.echo(f"\nAlerts in the hot store ({len(alerts)}; the 15 most severe):")
    for a in top:
        click.echo(
            f"  {a['detected_at']:%Y-%m-%d %H:%M:%S}  {a['severity']:8} "
            f"{a['alert_type']:18} {a['message']}"
        )
    click.echo("\nSummary per detector and severity:\n" + _summary_table(alerts, runner.plans))
    truth = json.loads(sim.truth_path.read_text(encoding="utf-8"))["anomalies"]
    click.echo("\nInjected anomalies found by the detectors:\n" + _truth_report(truth, alerts))
    click.echo(
        f"\n{totals.batches} micro-batches: {totals.processed} trades, {totals.passed} "
        f"passed the quality gate, {totals.failed} dead letters, {totals.duplicates} "
        "duplicates"
    )
    click.echo(
        f"`ctc run` took {run_seconds:.1f} s ({spark_seconds:.1f} s of it starting Spark) for "
        f"{totals.processed} trades in {totals.batches} micro-batches"
    )
    click.echo(
        f"hot store: {workdir / 'alerts.db'}   lake: {workdir / 'lake'}   "
        f"status: {workdir / 'status.json'}"
    )
    if serve:
        store.close()
        _serve_dashboard(store_url, port)


def _serve_dashboard(store_url: str, port: int) -> None:
    """Serve the API and the dashboard over ``store_url`` on 127.0.0.1 until Ctrl-C: `ctc
    serve` in a fresh process (its gunicorn forks workers, which this process, with a
    JVM gateway and its threads, should not do)."""
    import subprocess

    click.echo(
        f"\ndashboard: http://127.0.0.1:{port}/   (API: http://127.0.0.1:{port}/api/alerts)"
        "\nCtrl-C stops the server."
    )
    sys.stdout.flush()  # the server blocks: show the address now, even when piped
    cmd = [sys.executable, "-m", "ctc.serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--store", store_url, "--app", "ctc", "--quiet"]
    proc = subprocess.Popen(cmd)
    try:
        code = proc.wait()
    except KeyboardInterrupt:  # the terminal sent SIGINT to both processes
        code = proc.wait()
        click.echo("stopped")
        return
    if code != 0:
        _fail(f"cannot serve the dashboard on 127.0.0.1:{port} (try --port)")


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
    "--checkpoint",
    default="var/checkpoint",
    show_default=True,
    help="Checkpoint and state of this application, a folder or a URI (file://, s3:// on "
    "EMR); a restart resumes from it.",
)
@click.option(
    "--store",
    "store_url",
    default="sqlite:///var/ctc/alerts.db",
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
    help="Process what is in the landing folder, close every open window, stop.",
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
    checkpoint: str,
    store_url: str,
    lake: str,
    quality: Path | None,
    status_path: Path,
    source: str | None,
    cloudwatch_namespace: str | None,
    until_idle: bool,
    trigger_seconds: float,
    max_files_per_trigger: int | None,
) -> None:
    """Run every detector of a tier (or the given specs) as one Spark streaming application.

    Reads JSON-lines files from the landing folder, passes them through the quality gate
    once, runs every compiled detector, and writes all alerts through one sink: the hot
    store and the lake. Stop with Ctrl-C; a restart resumes from the checkpoint.
    """
    from ctc.compiler import compile_paths
    from ctc.runtime.spark import get_spark
    from ctc.runtime.stream import RunOptions, StreamRunner, stderr_say
    from ctc.sinks.lake.factory import parse_lake_url

    target = parse_lake_url(lake)  # a bad URL fails here, before Spark starts
    specs = list(paths) or tier_specs(detectors_dir, tier)
    plans = compile_paths(specs, with_dependencies=True)
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
    )
    stderr_say(f"{len(plans)} detectors compiled; starting Spark; reading {landing}")
    spark = get_spark("ctc-run", conf=target.spark_conf())
    runner = StreamRunner(spark, plans, options, stderr_say)
    totals = runner.run()
    per_module = ", ".join(f"{k} {v}" for k, v in sorted(totals.by_module.items()))
    click.echo(
        f"{totals.batches} micro-batches: {totals.processed} records, {totals.passed} "
        f"passed, {totals.failed} dead letters, {totals.duplicates} duplicates; "
        f"{totals.alerts} alerts ({per_module})"
    )
    click.echo(f"hot store: {store_url}; lake: {lake}; status: {status_path}")


def _register_optional() -> None:
    """Commands that live with their units: simulate, ingest and serve."""
    from ctc.ingest.cli import ingest
    from ctc.serve.cli import serve_command
    from ctc.simulate import simulate_command

    main.add_command(simulate_command)
    main.add_command(ingest)
    main.add_command(serve_command)


_register_optional()
