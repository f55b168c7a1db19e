"""Time to validate and compile every detector spec, with no JVM started.

Run: .venv/bin/python bench/compile.py [--repeat N]
Prints the cold time of a fresh `ctc compile detectors/` process and the warm time of
load + compile in-process (best and median of N runs).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Print the compile figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()

    cold = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "ctc", "compile", str(ROOT / "detectors")],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        cold.append(time.perf_counter() - t)

    t = time.perf_counter()
    from ctc.compiler import compile_paths

    import_s = time.perf_counter() - t
    warm = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        plans = compile_paths([ROOT / "detectors"])
        warm.append(time.perf_counter() - t)
    assert "pyspark" not in sys.modules, "compiling must not import pyspark"
    print(f"specs compiled:                 {len(plans)}")
    print(
        f"cold `ctc compile detectors/`:  best {min(cold):.3f} s, "
        f"median {statistics.median(cold):.3f} s (whole process, Python start included)"
    )
    print(f"import ctc.compiler:            {import_s:.3f} s")
    print(
        f"warm validate + compile, all:   best {min(warm) * 1000:.1f} ms, "
        f"median {statistics.median(warm) * 1000:.1f} ms over {args.repeat} runs"
    )
    print(f"per spec (warm median):         {statistics.median(warm) / len(plans) * 1000:.2f} ms")
    print("JVM started:                    no (pyspark never imported)")


if __name__ == "__main__":
    main()
