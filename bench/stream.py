"""Figures of `ctc run` (the streaming runtime) on simulated data, local mode.

Run: .venv/bin/python bench/stream.py [--hours 2] [--tps 4] [--live-seconds 150]

Prints:
  * bare source rate: the same landing files read + parsed + counted by a streaming query;
  * sustained rate of the small tier (quality gate, three detectors, hot store, lake);
  * the rate with one detector (whale) against all three;
  * latency, in a live phase where a feeder lands a file every second with trades stamped
    at wall-clock time: whale alerts from file landing to row in the hot store, and
    spread (window) alerts from window end to row in the hot store;
  * peak memory of the driver (Python) and of the JVM.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DET = ROOT / "detectors"
SMALL = [DET / "volume-anomaly.yaml", DET / "whale.yaml", DET / "spread-calculator.yaml"]


def _options(work: Path, until_idle: bool, max_files: int | None = None):  # type: ignore[no-untyped-def]
    from ctc.runtime.stream import RunOptions

    return RunOptions(
        landing=work / "landing",
        checkpoint=work / "ckpt",
        store_url=f"sqlite:///{work / 'alerts.db'}",
        lake=work / "lake",
        quality=DET / "quality.yaml",
        status_path=work / "status.json",
        until_idle=until_idle,
        trigger_seconds=1.0,
        max_files_per_trigger=max_files,
    )


def _bare_rate(spark, landing: Path, max_files: int) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    from pyspark.sql import functions as F

    from ctc.events import TRADE_EVENT_FIELDS
    from ctc.runtime.sources import ddl

    total = [0]

    def count(df, _bid):  # type: ignore[no-untyped-def]
        total[0] += (
            df.select(F.from_json("value", ddl(TRADE_EVENT_FIELDS)).alias("t"))
            .where("t.event_id IS NOT NULL")
            .count()
        )

    with tempfile.TemporaryDirectory() as ck:
        t = time.perf_counter()
        q = (
            spark.readStream.format("text")
            .option("maxFilesPerTrigger", str(max_files))
            .load(str(landing))
            .writeStream.foreachBatch(count)
            .option("checkpointLocation", ck)
            .trigger(availableNow=True)
            .start()
        )
        q.awaitTermination()
        return total[0], time.perf_counter() - t


def _run(spark, specs, work: Path, max_files: int) -> tuple[int, float, int]:  # type: ignore[no-untyped-def]
    from ctc.compiler import compile_paths
    from ctc.runtime.stream import StreamRunner

    plans = compile_paths(specs, with_dependencies=True)
    t = time.perf_counter()
    runner = StreamRunner(spark, plans, _options(work, True, max_files))
    runner.run()
    return runner.totals.processed, time.perf_counter() - t, runner.totals.batches


def _live(spark, work: Path, seconds: float) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    """Trades stamped 'now' land every second; measure alert latency."""
    from ctc.compiler import compile_paths
    from ctc.runtime.stream import StreamRunner

    landing = work / "landing"
    landing.mkdir(parents=True)
    rng = random.Random(1)
    landed: dict[str, float] = {}  # whale event_id -> landing wall time
    stop = threading.Event()

    def feed() -> None:
        seq = 0
        offset_until = 0.0
        while not stop.is_set():
            now = time.time()
            lines = []
            if rng.random() < 0.06:
                offset_until = now + 30  # coinbase trades 1.5 % higher for 30 s
            for i in range(40):
                ts = now - rng.random()
                ex = "binance" if i % 2 else "coinbase"
                price = 60000.0 * (1.015 if ex == "coinbase" and ts < offset_until else 1.0)
                qty = round(rng.uniform(0.001, 0.3), 6)
                seq += 1
                lines.append(
                    {
                        "event_id": f"live:{seq}",
                        "exchange": ex,
                        "symbol": "BTC-USDT",
                        "market": "BTCUSDT",
                        "price": price,
                        "quantity": qty,
                        "quote_volume": price * qty,
                        "side": "buy",
                        "timestamp": datetime.fromtimestamp(ts, UTC)
                        .isoformat()
                        .replace("+00:00", "Z"),
                        "ingestion_timestamp": datetime.fromtimestamp(now, UTC)
                        .isoformat()
                        .replace("+00:00", "Z"),
                    }
                )
            if rng.random() < 0.2:
                seq += 1
                wid = f"live:{seq}"
                lines.append(
                    {
                        **lines[0],
                        "event_id": wid,
                        "quantity": 3.0,
                        "quote_volume": 3.0 * lines[0]["price"],
                    }
                )
            else:
                wid = ""
            name = f"live-{seq:09d}.jsonl"
            tmp = landing / f".{name}.tmp"
            tmp.write_text("".join(json.dumps(x) + "\n" for x in lines))
            tmp.rename(landing / name)
            if wid:
                landed[wid] = time.time()
            time.sleep(max(0.0, 1.0 - (time.time() - now)))

    seen: dict[str, float] = {}

    def poll() -> None:
        db = work / "alerts.db"
        while not stop.is_set():
            if db.exists():
                try:
                    con = sqlite3.connect(db)
                    for (aid,) in con.execute("SELECT alert_id FROM alerts"):
                        seen.setdefault(aid, time.time())
                    con.close()
                except sqlite3.Error:
                    pass
            time.sleep(0.1)

    plans = compile_paths(SMALL[1:], with_dependencies=True)  # whale + spread
    runner = StreamRunner(spark, plans, _options(work, False))
    threads = [
        threading.Thread(target=feed, daemon=True),
        threading.Thread(target=poll, daemon=True),
    ]
    for th in threads:
        th.start()
    runner_thread = threading.Thread(target=runner.run, daemon=True)
    runner_thread.start()
    time.sleep(seconds)
    stop.set()
    runner.stop()
    runner_thread.join(timeout=120)
    con = sqlite3.connect(work / "alerts.db")
    whale, window = [], []
    for aid, atype, det in con.execute("SELECT alert_id, alert_type, details FROM alerts"):
        d = json.loads(det)
        if aid not in seen:
            continue
        if atype == "whale_trade" and d.get("event_id") in landed:
            whale.append(seen[aid] - landed[d["event_id"]])
        elif atype == "spread_divergence":
            end = datetime.fromisoformat(d["window_end"].replace("Z", "+00:00")).timestamp()
            window.append(seen[aid] - end)
    con.close()
    return {"whale": whale, "window": window}


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def main() -> None:
    """Print the streaming figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--tps", type=float, default=4.0)
    ap.add_argument("--files", type=int, default=12, help="landing files for the replay phase")
    ap.add_argument("--max-files", type=int, default=2, help="files per micro-batch")
    ap.add_argument("--live-seconds", type=float, default=150.0)
    args = ap.parse_args()

    from ctc.runtime.landing import publish_file
    from ctc.runtime.spark import get_spark
    from ctc.simulate import simulate

    spark = get_spark("ctc-bench-stream")
    with tempfile.TemporaryDirectory(prefix="ctc-bench-stream-") as tmp:
        base = Path(tmp)
        trades = base / "trades.jsonl"
        sim = simulate(args.hours, trades, seed=21, trades_per_second=args.tps)
        seconds_per_file = max(60, int(args.hours * 3600 / args.files))
        for name in ("all", "one"):
            publish_file(trades, base / name / "landing", seconds_per_file)
        n_bare, t_bare = _bare_rate(spark, base / "all" / "landing", args.max_files)
        n_all, t_all, batches = _run(spark, SMALL, base / "all", args.max_files)
        n_one, t_one, _ = _run(spark, [DET / "whale.yaml"], base / "one", args.max_files)
        live = _live(spark, base / "live", args.live_seconds)
        jvm_pid = spark._jvm.java.lang.ProcessHandle.current().pid()  # type: ignore[union-attr]
        hwm = 0
        for line in Path(f"/proc/{jvm_pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) // 1024
    driver = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"simulated trades:                 {sim.trades:,} ({args.hours:g} h at {args.tps:g}/s "
        f"per stream, {batches} micro-batches of {args.max_files} files)"
    )
    print(f"bare source (read+parse+count):   {n_bare / t_bare:,.0f} events/s ({t_bare:.1f} s)")
    print(
        f"small tier, sustained:            {n_all / t_all:,.0f} events/s ({t_all:.1f} s, "
        f"gate + 3 detectors + hot store + lake)"
    )
    print(f"ratio small tier / bare source:   {n_all / t_all / (n_bare / t_bare):.2f}")
    print(f"one detector (whale):             {n_one / t_one:,.0f} events/s ({t_one:.1f} s)")
    print(f"all three / one detector:         {(n_all / t_all) / (n_one / t_one):.2f}")
    for kind, xs in live.items():
        label = (
            "whale: landing → hot store" if kind == "whale" else "spread window: end → hot store"
        )
        if xs:
            print(
                f"latency {label}: p50 {statistics.median(xs):.2f} s, p99 {_pct(xs, 99):.2f} s "
                f"({len(xs)} alerts)"
            )
        else:
            print(f"latency {label}: no alerts in the live phase")
    print(f"peak memory:                      driver {driver:,} MiB, JVM {hwm:,} MiB")


if __name__ == "__main__":
    main()
