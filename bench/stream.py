"""Figures of `ctc run` (the streaming runtime), each against a bare baseline of the same run.

Run: .venv/bin/python bench/stream.py [--copies 16] [--max-files 8] [--live-seconds 120]
     [--ladder] [--live-specs small|all] [--skip cold,warm,tiers,fixed,live]

Input: the real Binance BTCUSDT recording in ../shared/data/real, copied 16 times 6
minutes apart, as binance and as coinbase, in 64 files (bench/inputs.py); 8 files a
micro-batch, so batches of about 39k trades. Prints:

  * bare source: the same files read by a streaming query (text source, from_json,
    count in foreachBatch), same micro-batches;
  * the small tier sustained (quality gate, three detectors, hot store, lake, state),
    and its ratio to the bare source (target >= 0.5), each the first run of its kind in
    the JVM; issue 8's lean micro-batch shape (parse, filter, dedupe, one cache, two
    small collects; nothing written) run the same way, after the bare source in a fresh
    JVM of its own, as the reference of what a micro-batch can reach here cold (with
    ``--ladder`` also the steps from the gate alone towards the small tier: the gate,
    + the rows back into Spark, + two simple jobs, each the same way); then
    both again in the now warm JVM (what a long-running query sustains
    once the JIT has compiled both: the bare source gains more), and beside them two
    references in the warm JVM: the lean shape and the runtime's quality gate alone,
    each as a ratio to the warm bare source;
  * every streaming detector of the large tier against the whale detector alone
    (target >= 0.5);
  * the fixed cost: `ctc run --until-idle` over 10 events, as a whole process;
  * latency, live: a feeder lands about 200 trades/s in 4 files a second, a whale
    every 3 s and a coinbase premium now and then, and `ctc run --trigger-seconds 0.5`
    runs: whale alerts from file landing to row in the hot store (target p99 <= 2 s),
    spread window alerts from window end (target p99 <= watermark 15 s + 3 s); the
    small tier, or with ``--live-specs all`` every streaming detector;
  * peak memory of the driver (Python) and the JVM, summed (target <= 3 GiB).
Speed and memory are printed, never asserted: these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inputs import publish_real_copies

ROOT = Path(__file__).resolve().parents[1]
DET = ROOT / "detectors"
SMALL = [DET / "volume-anomaly.yaml", DET / "whale.yaml", DET / "spread-calculator.yaml"]


def _options(work: Path, until_idle: bool, max_files: int | None = None, trigger: float = 1.0):  # type: ignore[no-untyped-def]
    from ctc.runtime.stream import RunOptions

    return RunOptions(
        landing=work / "landing",
        checkpoint=work / "ckpt",
        store_url=f"sqlite:///{work / 'alerts.db'}",
        lake=str(work / "lake"),
        quality=DET / "quality.yaml",
        status_path=work / "status.json",
        until_idle=until_idle,
        trigger_seconds=trigger,
        max_files_per_trigger=max_files,
    )


def _bare_rate(spark: Any, landing: Path, max_files: int) -> tuple[int, float]:
    """The bare source: parse every line, count the trades (issue 8's baseline)."""
    from pyspark.sql import functions as F

    from ctc.events import TRADE_EVENT_FIELDS
    from ctc.runtime.sources import ddl

    total = [0]

    def count(df: Any, _bid: int) -> None:
        total[0] += (
            df.select(F.from_json("value", ddl(TRADE_EVENT_FIELDS)).alias("t"))
            .where("t.event_id IS NOT NULL")
            .count()
        )

    seconds = _stream_seconds(spark, landing, max_files, count)
    return total[0], seconds


def _stream_seconds(spark: Any, landing: Path, max_files: int, each: Any) -> float:
    """Seconds of a text-source streaming query over ``landing`` (``max_files`` a batch,
    until every file is read) whose ``foreachBatch`` is ``each``."""
    with tempfile.TemporaryDirectory() as ck:
        t = time.perf_counter()
        q = (
            spark.readStream.format("text")
            .option("maxFilesPerTrigger", str(max_files))
            .load(str(landing))
            .writeStream.foreachBatch(each)
            .option("checkpointLocation", ck)
            .trigger(availableNow=True)
            .start()
        )
        q.awaitTermination()
        return time.perf_counter() - t


def _lean_rate(spark: Any, landing: Path, max_files: int) -> tuple[int, float]:
    """Issue 8's reference shape of a lean micro-batch (not a detector, and nothing
    written): parse, validity filter, in-batch dedupe, one ``cache()``, one collect of
    60 s per-key partial aggregates and one of the rows over $100K, the windows' sums
    kept in Python between batches."""
    from pyspark.sql import functions as F

    from ctc.events import TRADE_EVENT_FIELDS
    from ctc.runtime.sources import ddl

    schema = ddl(TRADE_EVENT_FIELDS)
    windows: dict[tuple[str, str, Any], list[float]] = {}
    whales: list[Any] = []
    total = [0]

    def each(df: Any, _bid: int) -> None:
        rows = (
            df.select(F.from_json("value", schema).alias("t"))
            .select("t.*")
            .where("event_id IS NOT NULL AND price > 0 AND quantity > 0")
            .dropDuplicates(["event_id"])
            .cache()
        )
        parts = (
            rows.groupBy("symbol", "exchange", F.window("timestamp", "60 seconds").alias("w"))
            .agg(F.sum("quote_volume").alias("v"), F.count(F.lit(1)).alias("n"))
            .collect()
        )
        for r in parts:
            acc = windows.setdefault((r.symbol, r.exchange, r.w.start), [0.0, 0.0])
            acc[0] += r.v
            acc[1] += r.n
            total[0] += r.n
        whales.extend(rows.where("quote_volume > 100000").collect())
        rows.unpersist()

    seconds = _stream_seconds(spark, landing, max_files, each)
    return total[0], seconds


#: The steps of the cold ladder (``--ladder``), each adding to the one before it, up to
#: the small tier: where a cold run loses against the bare source.
LADDER = {
    "gate": "the quality gate alone (parse, every check, rows to the driver, dedupe)",
    "back": "+ the passed rows sent back into Spark and counted",
    "aggs": "+ two simple jobs over them (60 s sum per key, rows over $100K)",
}


def _gate_rate(spark: Any, landing: Path, max_files: int, then: str = "gate") -> tuple[int, float]:
    """The runtime's quality gate alone (``stream_gate.gate_batch``: parse, every check,
    the rows to the driver as Arrow, the dedupe there), no detector, nothing written;
    compiled (Spark's defaults), as in a bounded run. ``then``: a later step of
    :data:`LADDER` run after it in each micro-batch, with a micro-batch's detector
    settings (``detect_levels.batch_settings``)."""
    from pyspark.sql import functions as F

    from ctc.runtime.dedupe import SeenIds
    from ctc.runtime.detect_levels import batch_settings, settings_kept
    from ctc.runtime.quality import check_columns
    from ctc.runtime.quality_rules import load_rules
    from ctc.runtime.stream_gate import gate_batch

    rules = load_rules(DET / "quality.yaml")
    columns = check_columns(rules)
    seen = SeenIds(rules.dedupe_within.seconds * 1_000_000)
    total = [0]

    def each(df: Any, batch_id: int) -> None:
        raw = df.select(
            "value",
            F.lit(None).cast("string").alias("source_file"),
            F.monotonically_increasing_id().alias("_order"),
        )
        now_us = int(time.time() * 1_000_000)
        gated = gate_batch(raw, rules, seen, now_us, batch_id, columns)
        total[0] += gated.metrics["processed"]
        rows = gated.frame(df.sparkSession) if then != "gate" else None
        if rows is None:
            return
        with settings_kept(df.sparkSession):
            batch_settings(df.sparkSession)
            if then == "back":
                rows.count()
                return
            window = F.window("timestamp", "60 seconds")
            rows.groupBy("symbol", "exchange", window).agg(F.sum("quote_volume")).toArrow()
            rows.where("quote_volume > 100000").toArrow()

    seconds = _stream_seconds(spark, landing, max_files, each)
    return total[0], seconds


def _run(spark: Any, specs: list[Path], work: Path, max_files: int) -> tuple[int, float, int]:
    from ctc.compiler import compile_paths
    from ctc.runtime.stream import StreamRunner

    plans = compile_paths(specs, with_dependencies=True)
    t = time.perf_counter()
    runner = StreamRunner(spark, plans, _options(work, True, max_files))
    runner.run()
    return runner.totals.processed, time.perf_counter() - t, runner.totals.batches


def _fixed_cost(work: Path) -> float:
    """`ctc run --tier small --until-idle` over 10 events, as a whole process (JVM start
    and compile included)."""
    landing = work / "landing"
    landing.mkdir(parents=True)
    now = datetime.now(UTC)
    lines = [
        json.dumps(
            {
                "event_id": f"fixed:{i}",
                "exchange": "binance",
                "symbol": "BTC-USDT",
                "market": "BTCUSDT",
                "price": 60000.0,
                "quantity": 0.01,
                "quote_volume": 600.0,
                "side": "buy",
                "timestamp": now.isoformat().replace("+00:00", "Z"),
                "ingestion_timestamp": now.isoformat().replace("+00:00", "Z"),
            }
        )
        for i in range(10)
    ]
    (landing / "ten.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    t = time.perf_counter()
    subprocess.run(
        [
            str(Path(sys.executable).parent / "ctc"),
            "run",
            "--tier",
            "small",
            "--detectors",
            str(DET),
            "--landing",
            str(landing),
            "--checkpoint",
            str(work / "ckpt"),
            "--store",
            f"sqlite:///{work / 'alerts.db'}",
            "--lake",
            str(work / "lake"),
            "--status",
            str(work / "status.json"),
            "--until-idle",
        ],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - t


def _live(
    spark: Any, work: Path, seconds: float, rate: int, specs: list[Path]
) -> dict[str, list[float]]:
    """About ``rate`` trades/s stamped 'now' land in 4 files a second; ``specs`` run;
    measure latency."""
    from ctc.compiler import compile_paths
    from ctc.runtime.stream import StreamRunner

    landing = work / "landing"
    landing.mkdir(parents=True)
    rng = random.Random(1)
    landed: dict[str, float] = {}  # whale event_id -> landing wall time
    stop = threading.Event()
    per_file = max(1, rate // 4)

    def feed() -> None:
        seq = 0
        premium_until = 0.0
        next_whale = time.time() + 3.0
        while not stop.is_set():
            now = time.time()
            if rng.random() < 0.015:
                premium_until = now + 30  # coinbase trades 1.5 % higher for 30 s
            lines: list[dict[str, Any]] = []
            for i in range(per_file):
                ts = now - rng.random() * 0.25
                ex = "binance" if i % 2 else "coinbase"
                price = 60000.0 * (1.015 if ex == "coinbase" and ts < premium_until else 1.0)
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
            wid = ""
            if now >= next_whale:
                next_whale = now + 3.0
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
            name = f"live-{seq:09d}.jsonl"
            tmp = landing / f".{name}.tmp"
            tmp.write_text("".join(json.dumps(x) + "\n" for x in lines))
            tmp.rename(landing / name)
            if wid:
                landed[wid] = time.time()
            time.sleep(max(0.0, 0.25 - (time.time() - now)))

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
            time.sleep(0.02)

    plans = compile_paths(specs, with_dependencies=True)
    runner = StreamRunner(spark, plans, _options(work, False, trigger=0.5))
    runner_thread = threading.Thread(target=runner.run, daemon=True)
    runner_thread.start()
    time.sleep(5)  # query start
    threads = [
        threading.Thread(target=feed, daemon=True),
        threading.Thread(target=poll, daemon=True),
    ]
    for th in threads:
        th.start()
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


def _jvm_peak_mib(spark: Any) -> int:
    pid = spark._jvm.java.lang.ProcessHandle.current().pid()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def _cold_reference(step: str, copies: int, max_files: int) -> None:
    """Print a reference against the bare source, both cold: first after the bare source
    in a fresh JVM, as the small tier runs in :func:`main`. ``step``: ``lean`` (issue
    8's lean micro-batch shape) or a step of :data:`LADDER`."""
    from ctc.runtime.spark import get_spark

    spark = get_spark(f"ctc-bench-cold-{step}")
    with tempfile.TemporaryDirectory(prefix="ctc-bench-cold-") as tmp:
        base = Path(tmp)
        for name in ("bare", step):
            publish_real_copies(base / name / "landing", copies=copies)
        n_bare, t_bare = _bare_rate(spark, base / "bare" / "landing", max_files)
        if step == "lean":
            n, t = _lean_rate(spark, base / step / "landing", max_files)
            label = "lean micro-batch (issue 8's shape)"
        else:
            n, t = _gate_rate(spark, base / step / "landing", max_files, then=step)
            label = LADDER[step]
    bare, rate = n_bare / t_bare, n / t
    print(
        f"  reference, cold:          {label} {rate:,.0f} events/s, bare {bare:,.0f} "
        f"events/s, in a fresh JVM: ratio {rate / bare:.2f}"
    )


def _cold_in_process(step: str, copies: int, max_files: int) -> str:
    """:func:`_cold_reference` run by this script in a process (a JVM) of its own."""
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--cold-reference",
            step,
            "--copies",
            str(copies),
            "--max-files",
            str(max_files),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.rstrip()


def main() -> None:
    """Print the streaming figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--copies", type=int, default=16, help="copies of the 5-minute recording")
    ap.add_argument("--max-files", type=int, default=8, help="files per micro-batch")
    ap.add_argument("--live-seconds", type=float, default=120.0)
    ap.add_argument("--live-rate", type=int, default=200, help="trades per second, live")
    ap.add_argument(
        "--live-specs",
        choices=["small", "all"],
        default="small",
        help="the detectors of the live phase: the small tier, or every streaming detector",
    )
    ap.add_argument(
        "--skip", default="", help="comma list of phases to skip: cold,warm,tiers,fixed,live"
    )
    ap.add_argument(
        "--ladder",
        action="store_true",
        help="also the cold ladder: the gate alone, + the rows back into Spark, + two simple "
        "jobs, each after the bare source in a fresh JVM (where a cold run loses)",
    )
    ap.add_argument(
        "--cold-reference",
        choices=["lean", *LADDER],
        help="only one cold reference against the bare source, in this process's fresh JVM "
        "(the bench runs it so, in a process of its own)",
    )
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if args.cold_reference:
        _cold_reference(args.cold_reference, args.copies, args.max_files)
        return

    from ctc.runtime.spark import get_spark

    spark = get_spark("ctc-bench-stream")
    out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ctc-bench-stream-") as tmp:
        base = Path(tmp)
        for name in ("bare", "small", "bare2", "small2", "lean", "gate", "whale", "all"):
            n, files = publish_real_copies(base / name / "landing", copies=args.copies)
        out.append(
            f"input:                      {n:,} real trades in {files} files, "
            f"{args.max_files} files a micro-batch"
        )
        n_bare, t_bare = _bare_rate(spark, base / "bare" / "landing", args.max_files)
        bare = n_bare / t_bare
        out.append(f"bare source:                {bare:,.0f} events/s ({t_bare:.1f} s)")
        n_small, t_small, batches = _run(spark, SMALL, base / "small", args.max_files)
        small = n_small / t_small
        out.append(
            f"small tier:                 {small:,.0f} events/s "
            f"({t_small:.1f} s, {batches} batches)"
        )
        out.append(f"ratio small tier / bare:    {small / bare:.2f}   (target >= 0.5)")
        if "cold" not in skip:
            # issue 8's lean shape as the small tier ran: first after the bare source in
            # a JVM of its own (the small tier's figure above is the same order)
            out.append(_cold_in_process("lean", args.copies, args.max_files))
            for step in LADDER if args.ladder else ():
                out.append(_cold_in_process(step, args.copies, args.max_files))
        if "warm" not in skip:
            # both again in the same JVM, now warm: what a long-running query sustains
            n_bare2, t_bare2 = _bare_rate(spark, base / "bare2" / "landing", args.max_files)
            n_small2, t_small2, _ = _run(spark, SMALL, base / "small2", args.max_files)
            bare2, small2 = n_bare2 / t_bare2, n_small2 / t_small2
            out.append(
                f"again, warm JVM:            bare {bare2:,.0f} events/s ({t_bare2:.1f} s), "
                f"small tier {small2:,.0f} events/s ({t_small2:.1f} s), "
                f"ratio {small2 / bare2:.2f}"
            )
            # what a micro-batch can reach here: issue 8's lean reference shape, and the
            # runtime's gate alone (every later step of the small tier costs on top of it)
            n_lean, t_lean = _lean_rate(spark, base / "lean" / "landing", args.max_files)
            n_gate, t_gate = _gate_rate(spark, base / "gate" / "landing", args.max_files)
            out.append(
                f"  references, warm:         lean micro-batch (issue 8's shape) "
                f"{n_lean / t_lean:,.0f} events/s, ratio {(n_lean / t_lean) / bare2:.2f}; "
                f"the gate alone {n_gate / t_gate:,.0f} events/s, "
                f"ratio {(n_gate / t_gate) / bare2:.2f}"
            )
        print("\n".join(out), flush=True)
        if "tiers" not in skip:
            n1, t1, _ = _run(spark, [DET / "whale.yaml"], base / "whale", args.max_files)
            n_all, t_all, _ = _run(spark, [DET], base / "all", args.max_files)
            line = (
                f"whale alone:                {n1 / t1:,.0f} events/s ({t1:.1f} s)\n"
                f"every streaming detector:   {n_all / t_all:,.0f} events/s ({t_all:.1f} s)\n"
                f"ratio all / whale alone:    {(n_all / t_all) / (n1 / t1):.2f}   (target >= 0.5)"
            )
            print(line, flush=True)
            out.append(line)
        if "fixed" not in skip:
            line = f"fixed cost, 10 events:      {_fixed_cost(base / 'fixed'):.1f} s whole process"
            print(line, flush=True)
            out.append(line)
        if "live" not in skip:
            specs = SMALL if args.live_specs == "small" else [DET]
            live = _live(spark, base / "live", args.live_seconds, args.live_rate, specs)
            for kind, xs in live.items():
                label = (
                    "whale, landing → hot store"
                    if kind == "whale"
                    else "spread, window end → store"
                )
                target = "(target p99 <= 2 s)" if kind == "whale" else "(target p99 <= 18 s)"
                if xs:
                    line = (
                        f"latency {label}: p50 {statistics.median(xs):.2f} s, "
                        f"p99 {_pct(xs, 99):.2f} s, {len(xs)} alerts {target}"
                    )
                else:
                    line = f"latency {label}: no alerts"
                print(line, flush=True)
                out.append(line)
        jvm = _jvm_peak_mib(spark)
    driver = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    line = (
        f"peak memory:                driver {driver:,} MiB + JVM {jvm:,} MiB = "
        f"{driver + jvm:,} MiB   (target <= 3,072)"
    )
    print(line, flush=True)


if __name__ == "__main__":
    main()
