"""Events per second of the small tier in Spark batch mode over simulated trades.

Run: .venv/bin/python bench/backtest.py [--hours 48] [--tps 1.0]
The default, 48 simulated hours at 1 trade/s per stream (6 streams), is about 1.06M trades.
Prints the rate of the whole back-test (read JSON, clean, dedupe, all three detectors,
collect alerts) and, for reference, the bare read + parse + count rate of the same file.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Print the back-test figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hours", type=float, default=48.0)
    ap.add_argument("--tps", type=float, default=1.0)
    args = ap.parse_args()

    from ctc.compiler import compile_paths
    from ctc.events import TRADE_EVENT_FIELDS
    from ctc.runtime.backtest import run_backtest
    from ctc.runtime.sources import ddl
    from ctc.runtime.spark import get_spark
    from ctc.simulate import simulate

    with tempfile.TemporaryDirectory(prefix="ctc-bench-") as tmp:
        data = Path(tmp) / "trades.jsonl"
        t = time.perf_counter()
        sim = simulate(args.hours, data, seed=11, trades_per_second=args.tps)
        print(
            f"simulated trades:          {sim.trades:,} in {time.perf_counter() - t:.1f} s",
            file=sys.stderr,
        )
        spark = get_spark("ctc-bench-backtest")
        plans = [p for p in compile_paths([ROOT / "detectors"]) if p.tier == "small"]
        # warm-up: JVM, code generation
        spark.read.schema(ddl(TRADE_EVENT_FIELDS)).json(str(data)).limit(1000).count()

        t = time.perf_counter()
        n = spark.read.schema(ddl(TRADE_EVENT_FIELDS)).json(str(data)).count()
        bare = time.perf_counter() - t

        t = time.perf_counter()
        result = run_backtest(spark, plans, data)
        total = time.perf_counter() - t

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"trades:                    {n:,}")
    print(f"detectors:                 {', '.join(p.module for p in plans)} (small tier)")
    print(f"alerts:                    {len(result.alerts)}")
    print(f"bare read+parse+count:     {bare:.1f} s = {n / bare:,.0f} events/s")
    print(f"small-tier back-test:      {total:.1f} s = {n / total:,.0f} events/s")
    for module, s in result.per_plan_seconds.items():
        print(f"  {module} alerts query:     {s:.1f} s")
    print(f"ratio back-test/bare:      {bare / total:.2f}")
    print(f"driver peak RSS (python):  {peak:,.0f} MiB (the JVM is a separate process)")


if __name__ == "__main__":
    main()
