"""`ctc demo`: the main job on the embedded default (local Spark, local files, no internet).

Simulated trades and on-chain events (transfers, Uniswap swaps) with injected anomalies
are landed as files, every streaming detector of the three tiers runs over them as one
Spark streaming application (`ctc run --until-idle`) into the hot store and the lake, the
daily batch (`ctc run --batch`) runs the batch detectors over the lake for each simulated
day, the alerts are summarised per tier and against the injected ground truth, and the
dashboard is served over the run's hot store, with Spark stopped first (the JVM holds
gigabytes the server does not need).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from ctc.cli_errors import reports_errors
from ctc.cli_options import detectors_option
from ctc.plural import plural
from ctc.progress import Progress
from ctc.report import most_severe, summary_table, tier_lines
from ctc.simulate_chain import FOUND_BY as CHAIN_FOUND_BY

#: Injected anomaly kind → (alert type that finds it, seconds of slack after its end).
_FOUND_BY = {
    "volume_spike": ("volume_spike", 60),
    "whale_trade": ("whale_trade", 0),
    "spread_divergence": ("spread_divergence", 30),
    **{kind: (atype, pad) for kind, (atype, _symbol, pad) in CHAIN_FOUND_BY.items()},
}


@dataclass
class DemoOptions:
    """What `ctc demo` runs: how much to simulate, where, and whether to serve."""

    hours: float
    seed: int
    detectors_dir: Path
    workdir: Path
    serve: bool
    port: int


def truth_report(truth: list[dict[str, Any]], alerts: list[dict[str, Any]]) -> str:
    """How many injected anomalies the detectors found: an alert of the matching type and
    symbol detected from the anomaly's start to its end plus the type's slack."""
    lines = []
    for kind, (atype, pad) in _FOUND_BY.items():
        injected = [a for a in truth if a["kind"] == kind]
        if not injected:
            continue
        found = 0
        for a in injected:
            start = datetime.fromisoformat(a["start"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(a["end"].replace("Z", "+00:00")) + timedelta(seconds=pad)
            if any(
                x["alert_type"] == atype
                and x["symbol"] == a["symbol"]
                and start <= x["detected_at"] <= end
                for x in alerts
            ):
                found += 1
        lines.append(f"  {kind:18} injected {len(injected):3}   found {found:3}")
    return "\n".join(lines)


def _clean(workdir: Path) -> None:
    """Remove the previous demo's landing files, checkpoint, lake, hot store and status."""
    for part in ("landing", "checkpoint", "lake", "alerts.db", "status.json"):
        target = workdir / part
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    for extra in workdir.glob("alerts.db-*"):
        extra.unlink()
    workdir.mkdir(parents=True, exist_ok=True)


def _all_alerts(store: Any) -> list[dict[str, Any]]:
    """Every alert of ``store``, ``detected_at`` as a datetime."""
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
    return alerts


def run_demo(opts: DemoOptions) -> None:
    """Simulate, land, run every streaming detector and the daily batch, report; then
    serve unless told not to."""
    from ctc.compiler import compile_paths
    from ctc.runtime.daily import run_daily
    from ctc.runtime.landing import publish_file
    from ctc.runtime.spark import get_spark, stop_spark
    from ctc.runtime.stream import RunOptions, StreamRunner
    from ctc.simulate import simulate
    from ctc.sinks.lake.factory import preload_lake
    from ctc.sinks.stores.factory import open_store

    progress = Progress()
    workdir = opts.workdir
    _clean(workdir)
    trades = workdir / "trades.jsonl"
    progress.note(f"simulating {opts.hours:g} h of trades into {trades}")
    progress.stage("simulating trades")
    sim = simulate(opts.hours, trades, seed=opts.seed)
    progress.stage("landing the trades as files")
    files = publish_file(trades, workdir / "landing", seconds_per_file=900)
    progress.note(
        f"{plural(sim.trades, 'trade')}, "
        f"{plural(len(sim.anomalies), 'injected anomaly', 'injected anomalies')}; "
        f"{plural(len(files), 'file')} landed in {workdir / 'landing'}"
    )
    from ctc.ingest.known_wallets import ensure_labels

    labels = ensure_labels(opts.detectors_dir)
    if labels is not None:
        progress.note(
            f"known-wallet labels: the {labels.addresses} hand-kept ones into {labels.path} "
            "(`ctc labels load` adds the real label sets)"
        )
    chain = _simulate_chain(opts, sim.start, sim.end, workdir / "landing" / "_chain")
    progress.note(
        f"{chain.events} on-chain events, {len(chain.anomalies)} injected anomalies; "
        f"{len(chain.files)} files landed in {workdir / 'landing' / '_chain'}"
    )
    plans = compile_paths([opts.detectors_dir])
    store_url = f"sqlite:///{workdir / 'alerts.db'}"
    options = RunOptions(
        landing=workdir / "landing",
        checkpoint=workdir / "checkpoint",
        store_url=store_url,
        lake=str(workdir / "lake"),
        quality=opts.detectors_dir / "quality.yaml",
        status_path=workdir / "status.json",
        until_idle=True,
        max_files_per_trigger=2,
    )
    progress.note(
        f"{plural(len(plans), 'detector')} compiled; starting Spark (local) for `ctc run`"
    )
    progress.stage("starting Spark (local)")
    started = time.perf_counter()
    preload_lake(options.lake)  # while the JVM starts
    spark = get_spark("ctc-demo")
    spark_seconds = time.perf_counter() - started
    runner = StreamRunner(spark, plans, options, progress, progress)
    totals = runner.run()
    run_seconds = time.perf_counter() - started
    started = time.perf_counter()
    daily = []
    day = sim.start.date()
    while day <= (sim.end - timedelta(microseconds=1)).date():
        progress.stage(f"daily batch for {day}")
        daily.append(run_daily(spark, plans, day, store_url, options.lake or "none"))
        day += timedelta(days=1)
    daily_seconds = time.perf_counter() - started
    progress.stage("stopping Spark")
    stop_spark(spark)  # the dashboard needs none of the JVM's gigabytes
    progress.close()

    store = open_store(store_url)
    alerts = _all_alerts(store)
    click.echo(f"\nAlerts in the hot store ({len(alerts)}; the 15 most severe):")
    click.echo(most_severe(alerts, 15))
    click.echo("\nSummary per detector and severity:\n" + summary_table(alerts, plans))
    span = (sim.end - sim.start).total_seconds()
    click.echo("\nAlerts per tier (the demo runs all three):\n" + tier_lines(alerts, plans, span))
    truth = json.loads(sim.truth_path.read_text(encoding="utf-8"))["anomalies"]
    truth += list(chain.anomalies)
    click.echo("\nInjected anomalies found by the detectors:\n" + truth_report(truth, alerts))
    click.echo(
        f"\n{plural(totals.batches, 'micro-batch', 'micro-batches')}: "
        f"{plural(totals.processed, 'trade')}, {totals.passed} passed the quality gate, "
        f"{plural(totals.failed, 'dead letter')}, {plural(totals.duplicates, 'duplicate')}"
    )
    click.echo(
        f"`ctc run` took {run_seconds:.1f} s ({spark_seconds:.1f} s of it starting Spark) for "
        f"{plural(totals.processed, 'trade')} in "
        f"{plural(totals.batches, 'micro-batch', 'micro-batches')}"
    )
    click.echo(
        f"the daily batch (`ctc run --batch`) took {daily_seconds:.1f} s for "
        f"{plural(len(daily), 'day')}: "
        + "; ".join(
            f"{d.day} " + ", ".join(f"{p.module} {plural(p.alerts, 'alert')}" for p in d.plans)
            for d in daily
        )
    )
    click.echo(
        f"hot store: {workdir / 'alerts.db'}   lake: {workdir / 'lake'}   "
        f"status: {workdir / 'status.json'}"
    )
    if opts.serve:
        store.close()
        serve_dashboard(store_url, opts.port)


def _simulate_chain(opts: DemoOptions, start: datetime, end: datetime, folder: Path) -> Any:
    """Simulated on-chain events of the trades' span into ``folder`` (the landing folder's
    ``_chain``); the known wallets are those of the hand-kept labels list."""
    import csv

    from ctc.ingest.known_wallets import SEED
    from ctc.simulate_chain import simulate_chain

    with (opts.detectors_dir / SEED).open(encoding="utf-8", newline="") as fh:
        known = [row["address"] for row in csv.DictReader(fh)]
    return simulate_chain(start, end, folder, known, seed=opts.seed)


def serve_dashboard(store_url: str, port: int) -> None:
    """Serve the API and the dashboard over ``store_url`` on 127.0.0.1 until Ctrl-C: `ctc
    serve` in a fresh process (its gunicorn forks workers, which this process, with a
    JVM gateway and its threads behind it, should not do)."""
    cmd = [sys.executable, "-m", "ctc.serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--store", store_url, "--app", "ctc", "--quiet"]
    proc = subprocess.Popen(cmd, preexec_fn=_die_with_parent())
    try:
        if not _listening(proc, port):
            raise OSError(f"cannot serve the dashboard on 127.0.0.1:{port} (try --port)")
        click.echo(
            f"\ndashboard: http://127.0.0.1:{port}/   (API: http://127.0.0.1:{port}/api/alerts)"
            "\nCtrl-C stops the server."
        )
        sys.stdout.flush()  # the server blocks: show the address now, even when piped
        code = proc.wait()
        if code != 0:
            raise OSError(f"the dashboard server on 127.0.0.1:{port} stopped (exit {code})")
    except KeyboardInterrupt:  # Ctrl-C (a terminal sends it to the server too)
        _stop(proc)
        click.echo("stopped")
    finally:
        _stop(proc)  # whatever ends this process ends the server


def _listening(proc: subprocess.Popen[bytes], port: int, timeout: float = 30.0) -> bool:
    """Wait until the server child accepts connections on ``port`` (False: it exited, or
    did not listen within ``timeout`` s)."""
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server child: SIGINT (gunicorn's graceful stop), then SIGKILL."""
    import signal

    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _die_with_parent() -> Callable[[], None] | None:
    """A function for the server child to run before exec, so that the kernel sends it
    SIGTERM when the demo process dies, even by SIGKILL (Linux's PR_SET_PDEATHSIG), and no
    server is left holding the port; None elsewhere. libc is loaded here, in the parent:
    the child runs nothing but the call."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None  # not Linux: Ctrl-C and a normal exit still stop it
    return lambda: libc.prctl(1, signal.SIGTERM)


@click.command("demo")
@click.option(
    "--hours", default=3.0, show_default=True, type=float, help="Hours of simulated trades."
)
@click.option("--seed", default=7, show_default=True, type=int)
@detectors_option()
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
def demo_command(
    hours: float, seed: int, detectors_dir: Path, workdir: Path, serve: bool, port: int
) -> None:
    """The main job on the embedded default (local Spark, local files, no internet).

    Simulates trades with injected anomalies and lands them as files in
    WORKDIR/landing, runs every streaming detector over them as one Spark streaming
    application (`ctc run --until-idle`) into the hot store (SQLite) and the lake
    (Iceberg), then prints the alerts, a summary and which injected anomalies were found,
    stops Spark and serves the dashboard over the run's hot store (Ctrl-C stops it).
    """
    run_demo(DemoOptions(hours, seed, detectors_dir, workdir, serve, port))
