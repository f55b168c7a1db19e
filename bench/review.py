"""Figures of `ctc diff --input` (review with back-test impact), as a user runs it.

Run: .venv/bin/python bench/review.py [--trades 1000000] [--skip real,simulated]

The change is issue 11's example: `whale_usd` in detectors/whale.yaml from 100000 to
250000. It is reviewed as a whole `ctc diff` process (JVM start, compile, gate, both
back-tests) over:

  * the real recordings: the hftbacktest BTCUSDT and ETHUSDT trades in ../shared/data/real,
    turned into unified events with `ctc ingest --replay` (skipped without ../shared);
  * simulated trades (`ctc simulate`, about --trades of them).

Each input is reviewed three times: with an empty cache; again (the gated input and both
versions' alerts kept: a reviewer's second look, or a CI job with a kept cache); and with
a new head, whale_usd 300000 (a pull request's next commit: the gated input and the base's
alerts kept, the new head's affected detectors run). Target: under 30 s on 2 cores.
Speed is printed, never asserted.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CTC = str(Path(sys.executable).parent / "ctc")
REAL = ROOT.parent / "shared" / "data" / "real" / "hftbacktest" / "spot"


def _versions(work: Path, *values: int) -> list[Path]:
    """The detectors as they are, then one copy per ``values`` with that whale_usd."""
    base = work / "base"
    shutil.copytree(ROOT / "detectors", base)
    out = [base]
    for value in values:
        head = work / f"head-{value}"
        shutil.copytree(ROOT / "detectors", head)
        spec = head / "whale.yaml"
        text = spec.read_text(encoding="utf-8")
        assert "whale_usd: 100000 " in text
        spec.write_text(text.replace("whale_usd: 100000 ", f"whale_usd: {value} "), "utf-8")
        out.append(head)
    return out


def _diff(base: Path, head: Path, data: Path, cache: Path) -> tuple[float, str]:
    t = time.perf_counter()
    done = subprocess.run(
        [CTC, "diff", "--input", str(data), "--cache", str(cache), str(base), str(head)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t
    if done.returncode != 1:
        raise SystemExit(f"ctc diff exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds, done.stdout


def _lines(path: Path) -> int:
    files = [path] if path.is_file() else sorted(path.glob("*.jsonl"))
    return sum(sum(1 for _ in f.open("rb")) for f in files)


def main() -> None:
    """Print the review figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trades", type=int, default=1_000_000, help="simulated trades, about")
    ap.add_argument("--skip", default="", help="comma list of inputs to skip: real,simulated")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    with tempfile.TemporaryDirectory(prefix="ctc-bench-review-") as tmp:
        work = Path(tmp)
        base, head, later = _versions(work, 250000, 300000)
        inputs: list[tuple[str, Path]] = []
        if "real" not in skip:
            if REAL.is_dir():
                real = work / "real"
                replay = [a for f in sorted(REAL.glob("*.gz")) for a in ("--replay", str(f))]
                subprocess.run(
                    [CTC, "ingest", *replay, "--sink", f"landing:{real}"],
                    check=True,
                    capture_output=True,
                )
                inputs.append(("real recordings (hftbacktest BTC+ETH)", real))
            else:
                print(f"real recordings: skipped, {REAL} not found", flush=True)
        if "simulated" not in skip:
            sim = work / "simulated.jsonl"
            tps = max(0.1, args.trades / (3 * 3600 * 6))
            subprocess.run(
                [CTC, "simulate", "--hours", "3", "--tps", f"{tps:.3f}", "--out", str(sim)],
                check=True,
                capture_output=True,
            )
            inputs.append(("simulated", sim))
        for label, data in inputs:
            cache = work / f"cache-{data.name}"
            n = _lines(data)
            first, out = _diff(base, head, data, cache)
            second, _ = _diff(base, head, data, cache)
            third, _ = _diff(base, later, data, cache)
            impact = [ln for ln in out.splitlines() if ln.startswith("    whale_trade/")]
            print(
                f"{label}, {n:,} trades: ctc diff --input {first:.1f} s first (empty cache); "
                f"{second:.1f} s again (gated input and both versions' alerts kept); "
                f"{third:.1f} s for a new head, whale_usd 300000 (gated input and the base's "
                "alerts kept)   (target < 30 s)",
                flush=True,
            )
            for line in impact:
                print(f"    {line.strip()}", flush=True)


if __name__ == "__main__":
    main()
