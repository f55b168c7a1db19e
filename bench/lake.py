"""Time to append trade rows to the local lake (pyiceberg, SQLite catalog).

Run: .venv/bin/python bench/lake.py [--rows 100000] [--repeat 5]
Prints the seconds of LocalLake.append of N raw_trades rows (fresh batch key each run; the
first run also creates the table's first data files), and of a replayed key (a no-op).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ctc.sinks.lake.local import LocalLake
from ctc.sinks.lake.tables import ensure_core_tables


def trades(n: int, seed: int = 0) -> pa.Table:
    """N raw_trades rows over 4 symbols and 2 days, with microsecond timestamps."""
    start = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z in µs
    step = 2 * 86_400_000_000 // n
    symbols = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT"]
    ts = pa.array([start + i * step + 1 for i in range(n)], pa.timestamp("us", tz="UTC"))
    price = pa.array([100.0 + (i % 997) * 0.01 for i in range(n)])
    qty = pa.array([0.001 * (1 + (i % 50)) for i in range(n)])
    return pa.table(
        {
            "event_id": [f"e{seed}-{i}" for i in range(n)],
            "exchange": ["binance" if i % 2 else "coinbase" for i in range(n)],
            "symbol": [symbols[i % 4] for i in range(n)],
            "market": ["BTCUSDT"] * n,
            "price": price,
            "quantity": qty,
            "quote_volume": pc.multiply(price, qty),
            "side": ["buy" if i % 3 else "sell" for i in range(n)],
            "timestamp": ts,
            "ingestion_timestamp": ts,
            "is_late": [False] * n,
            "quote_warning": [False] * n,
        }
    )


def main() -> None:
    """Print the append figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        lake = LocalLake(Path(tmp) / "warehouse")
        ensure_core_tables(lake)
        rows = trades(args.rows)
        times = []
        for i in range(args.repeat):
            t = time.perf_counter()
            assert lake.append("raw_trades", rows, f"bench:{i}")
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        assert not lake.append("raw_trades", rows, "bench:0")
        replay = time.perf_counter() - t
        total = lake.read("raw_trades").num_rows
    print(
        f"append {args.rows} raw_trades rows: first {times[0]:.3f} s, "
        f"median {statistics.median(times):.3f} s, best {min(times):.3f} s "
        f"({args.rows / statistics.median(times):,.0f} rows/s); "
        f"replayed batch key (no-op) {replay:.3f} s; {total} rows in table"
    )


if __name__ == "__main__":
    main()
