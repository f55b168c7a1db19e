"""Back-tests of the small tier in Spark batch mode: first run, cached second run, memory.

Run: .venv/bin/python bench/backtest.py [--hours 48] [--tps 1.0] [--real [--copies 64]]
The default input, 48 simulated hours at 1 trade/s per stream (6 streams), is about 1.06M
trades; --real writes the Binance recording of ../shared copied with shifted times
(bench/inputs.py; 64 copies, binance and coinbase, about 1.25M trades).

Prints, from one run over one input:
- the bare JSON read rate (read + count in this process's warm JVM, best of 3);
- the first back-test (gate into a new cache entry, all three detectors, collect alerts)
  in the same JVM, its rate and its ratio to the bare rate (goal: >= 0.5);
- the bare JSON parse rate too (every field parsed, written nowhere: a count alone
  parses almost nothing), as a second, stricter baseline;
- a second back-test of the same input as a whole `ctc backtest` process (Python start,
  compile, cache hit: every detector's alerts are kept, so no JVM starts) and a second
  back-test with one detector changed (whale_usd 100000 -> 250000 + round: the gated input and
  the two other detectors' alerts from the cache, the JVM started, the whale detector
  run), each against a bare Spark read-and-count process, all as subprocesses,
  --rounds times each, interleaved (goal: second <= bare);
- the peak RSS of the driver (Python) plus the JVM, summed, for this process and for
  each subprocess (goal: <= 3 GiB).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL = [
    ROOT / "detectors" / n for n in ("volume-anomaly.yaml", "whale.yaml", "spread-calculator.yaml")
]

#: The bare read-and-count process: the same Spark session settings as ctc, nothing else.
BARE = """
import sys
from ctc.events import TRADE_EVENT_FIELDS
from ctc.runtime.sources import ddl
from ctc.runtime.spark import get_spark
spark = get_spark("ctc-bench-bare")
print(spark.read.schema(ddl(TRADE_EVENT_FIELDS)).json(sys.argv[1]).count())
"""


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc)."""
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def _hwm_mib(pid: int) -> float:
    """Peak resident set (VmHWM) of ``pid`` in MiB; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakRss:
    """Peak RSS of a process and of its JVM (the descendant named java), sampled while it runs.

    VmHWM only grows, so the last sample of each process before it exits is its peak.
    A descendant counts once two samples (50 ms apart) have seen it: a child forked to run
    a command (Python's subprocess, the JVM's ``jspawnhelper`` for Hadoop's shell calls)
    shows its parent's pages as its own RSS until it execs, and counting those moments
    added the parent's size a second time (a back-test's driver of 560 MiB once read as
    1,635 MiB, with one such child sampled).
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peaks: dict[int, float] = {}
        self.names: dict[int, str] = {}
        self.seen: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for p in [self.pid, *_children(self.pid)]:
            hwm = _hwm_mib(p)
            if hwm:
                self.seen[p] = self.seen.get(p, 0) + 1
                self.peaks[p] = max(self.peaks.get(p, 0.0), hwm)
                # the JVM starts as spark-submit's shell, then execs java
                with contextlib.suppress(OSError):
                    self.names[p] = Path(f"/proc/{p}/comm").read_text().strip()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.05)

    def start(self) -> PeakRss:
        self._thread.start()
        return self

    def stop(self) -> PeakRss:
        self._sample()
        self._stop.set()
        self._thread.join()
        return self

    def _kept(self) -> dict[int, float]:
        """The peaks of the process and of the descendants that lived past one sample."""
        return {p: v for p, v in self.peaks.items() if p == self.pid or self.seen[p] > 1}

    @property
    def python_mib(self) -> float:
        """The driver: every process of the tree but the JVM (the launcher shell is tiny)."""
        return sum(v for p, v in self._kept().items() if self.names.get(p) != "java")

    @property
    def jvm_mib(self) -> float:
        return sum(v for p, v in self._kept().items() if self.names.get(p) == "java")


def _timed_process(cmd: list[str], cwd: Path) -> tuple[float, float, float, str]:
    """(seconds, python MiB, JVM MiB, stderr) of one whole process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rss = PeakRss(proc.pid).start()
    _out, err = proc.communicate()
    seconds = time.perf_counter() - t
    rss.stop()
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return seconds, rss.python_mib, rss.jvm_mib, err


def _write_input(args: argparse.Namespace, data: Path) -> str:
    """Write the bench input to ``data``; return "<trades> <description>"."""
    if args.real:
        sys.path.insert(0, str(ROOT / "bench"))
        from inputs import write_jsonl

        trades = write_jsonl(data, args.copies)
        return f"{trades} real BTCUSDT recording x {args.copies} copies x 2 exchanges"
    from ctc.simulate import simulate

    trades = simulate(args.hours, data, seed=11, trades_per_second=args.tps).trades
    return f"{trades} simulated, {args.hours:g} h at {args.tps:g} trades/s per stream"


def main() -> None:
    """Print the back-test figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--hours", type=float, default=48.0, help="simulated hours (default input)")
    ap.add_argument("--tps", type=float, default=1.0, help="simulated trades/s per stream")
    ap.add_argument("--real", action="store_true", help="the real Binance recording, copied")
    ap.add_argument("--copies", type=int, default=64, help="copies of the recording (--real)")
    ap.add_argument("--rounds", type=int, default=2, help="runs of each whole process")
    ap.add_argument("--write-only", help=argparse.SUPPRESS)
    args = ap.parse_args()

    from ctc.compiler import compile_paths
    from ctc.events import TRADE_EVENT_FIELDS
    from ctc.runtime.backtest import run_backtest
    from ctc.runtime.quality import load_rules
    from ctc.runtime.sources import ddl
    from ctc.runtime.spark import get_spark

    if args.write_only:
        print(_write_input(args, Path(args.write_only)))
        return

    with tempfile.TemporaryDirectory(prefix="ctc-bench-") as tmp:
        data = Path(tmp) / "trades.jsonl"
        cache = Path(tmp) / "cache"
        t = time.perf_counter()
        # in a child process, so this process's peak RSS is the back-test's alone
        argv = [sys.executable, __file__, *sys.argv[1:], "--write-only", str(data)]
        trades, what = subprocess.run(
            argv, check=True, capture_output=True, text=True
        ).stdout.split(" ", 1)
        size_mib = data.stat().st_size / 2**20
        print(
            f"input: {int(trades):,} trades ({what.strip()}), {size_mib:,.0f} MiB, "
            f"written in {time.perf_counter() - t:.1f} s",
            file=sys.stderr,
        )

        rss = PeakRss(os.getpid()).start()
        spark = get_spark("ctc-bench-backtest")
        plans = compile_paths(SMALL)
        rules = load_rules(ROOT / "detectors" / "quality.yaml")
        schema = ddl(TRADE_EVENT_FIELDS)
        # warm-up: JVM, code generation
        spark.read.schema(schema).json(str(data)).limit(1000).count()

        bares = []
        for _ in range(3):
            t = time.perf_counter()
            n = spark.read.schema(schema).json(str(data)).count()
            bares.append(time.perf_counter() - t)
        bare = min(bares)
        parses = []
        for _ in range(2):
            t = time.perf_counter()
            spark.read.schema(schema).json(str(data)).write.format("noop").mode("overwrite").save()
            parses.append(time.perf_counter() - t)
        parse = min(parses)

        result = run_backtest(spark, plans, data, rules=rules, cache_dir=cache)
        first = result.seconds
        assert not result.cache_hit
        spark.stop()
        rss.stop()

        def changed_specs(r: int) -> list[str]:
            """The small tier with whale_usd changed (to a new value each round, so the
            whale detector's alerts are never in the cache yet)."""
            folder = Path(tmp) / f"changed-{r}"
            folder.mkdir()
            for spec in SMALL:
                text = spec.read_text(encoding="utf-8")
                if spec.name == "whale.yaml":
                    assert "whale_usd: 100000 " in text
                    text = text.replace("whale_usd: 100000 ", f"whale_usd: {250000 + r} ")
                (folder / spec.name).write_text(text, encoding="utf-8")
            return [str(folder / spec.name) for spec in SMALL]

        rounds: dict[str, list[tuple[float, float, float]]] = {
            "bare": [],
            "second": [],
            "changed": [],
        }
        cmds = {
            "bare": [sys.executable, "-c", BARE, str(data)],
            "second": [
                str(Path(sys.executable).parent / "ctc"),
                "backtest",
                *map(str, SMALL),
                "--input",
                str(data),
                "--cache",
                str(cache),
            ],
        }
        for r in range(args.rounds):
            cmds["changed"] = [
                str(Path(sys.executable).parent / "ctc"),
                "backtest",
                *changed_specs(r),
                "--quality",
                str(ROOT / "detectors" / "quality.yaml"),
                "--input",
                str(data),
                "--cache",
                str(cache),
            ]
            for name, cmd in cmds.items():
                seconds, py, jvm, err = _timed_process(cmd, ROOT)
                if name != "bare" and "from cache" not in err:
                    sys.exit(f"bench: the {name} back-test did not hit the cache:\n{err[-3000:]}")
                rounds[name].append((seconds, py, jvm))

    print(f"trades:                      {n:,}")
    print(f"detectors:                   {', '.join(p.module for p in plans)} (small tier)")
    print(f"alerts:                      {len(result.alerts)}")
    print(
        f"counts:                      {result.counts.read:,} read = {result.counts.used:,} used "
        f"+ {result.counts.rejected:,} rejected + {result.counts.duplicates:,} duplicates"
    )
    print(
        f"bare JSON read+count:        {bare:.2f} s = {n / bare:,.0f} events/s "
        f"(best of {', '.join(f'{b:.2f}' for b in bares)} s)"
    )
    print(f"first back-test:             {first:.2f} s = {n / first:,.0f} events/s")
    print(f"  gate into cache + counts:  {result.gate_seconds:.2f} s")
    for module, s in result.per_plan_seconds.items():
        print(f"  {module} alerts query:     {s:.2f} s")
    print(f"ratio first back-test/bare:  {bare / first:.2f} (goal >= 0.50)")
    print(
        f"bare JSON parse, all fields: {parse:.2f} s = {n / parse:,.0f} events/s; "
        f"first back-test/parse: {parse / first:.2f}"
    )
    bare_p = [r[0] for r in rounds["bare"]]
    second_p = [r[0] for r in rounds["second"]]
    print(
        f"bare read+count process:     {statistics.median(bare_p):.1f} s median "
        f"({', '.join(f'{s:.1f}' for s in bare_p)})"
    )
    print(
        f"second back-test process:    {statistics.median(second_p):.1f} s median "
        f"({', '.join(f'{s:.1f}' for s in second_p)}), cache hit"
    )
    ratio = statistics.median(second_p) / statistics.median(bare_p)
    print(f"second/bare process:         {ratio:.2f} (goal <= 1.00)")
    changed_p = [r[0] for r in rounds["changed"]]
    print(
        f"changed-whale process:       {statistics.median(changed_p):.1f} s median "
        f"({', '.join(f'{s:.1f}' for s in changed_p)}), gated input and 2 detectors cached"
    )
    ratio = statistics.median(changed_p) / statistics.median(bare_p)
    print(f"changed-whale/bare process:  {ratio:.2f}")
    print(
        f"peak RSS, this process:      {rss.python_mib + rss.jvm_mib:,.0f} MiB = python "
        f"{rss.python_mib:,.0f} + JVM {rss.jvm_mib:,.0f} (goal <= 3072)"
    )
    for name in ("bare", "second", "changed"):
        worst = max(rounds[name], key=lambda r: r[1] + r[2])
        print(
            f"peak RSS, {name + ' process:':19s} {worst[1] + worst[2]:,.0f} MiB = python "
            f"{worst[1]:,.0f} + JVM {worst[2]:,.0f}"
        )


if __name__ == "__main__":
    main()
