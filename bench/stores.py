"""Hot store figures: time to put 10,000 alerts, and to query pages of 200, per store.

    .venv/bin/python bench/stores.py [--alerts 10000] [--page 200]

SQLite in a temporary file; DynamoDB on a moto server (server mode, 127.0.0.1) started
and stopped by this script, so its figures are moto's, not AWS's. Prints; no asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from ctc.sinks.stores.base import AlertStore
from ctc.sinks.stores.dynamodb_store import DynamoDBAlertStore
from ctc.sinks.stores.sqlite_store import SqliteAlertStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TYPES = ("volume_spike", "whale_trade", "spread_divergence", "accumulation_signal")
SYMBOLS = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "DOGE-USDT")


def alerts(n: int) -> list[dict[str, Any]]:
    """``n`` base alert records over 24 h, four types and five symbols."""
    out = []
    for i in range(n):
        at = T0 + timedelta(seconds=i * 86_400 / n)
        out.append(
            {
                "alert_id": f"{i:08x}",
                "alert_type": TYPES[i % len(TYPES)],
                "module_id": "MOD-001",
                "symbol": SYMBOLS[i % len(SYMBOLS)],
                "exchange": "binance",
                "severity": "medium",
                "detected_at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "message": f"volume spike {i}",
                "ttl_epoch": int(at.timestamp()) + 86_400,
                "details": json.dumps({"z_score": 3.1, "window_volume": 12.5 * i}),
            }
        )
    return out


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on a free port of 127.0.0.1; its endpoint URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds taken by ``fn()`` and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bench(name: str, store: AlertStore, records: list[dict[str, Any]], page: int) -> None:
    """Print the put time and the time of a first and a third page of each query shape."""
    put_s, _ = timed(lambda: store.put_alerts(records))
    print(
        f"{name:<10} put {len(records):>6} alerts {put_s:8.3f} s  ({len(records) / put_s:,.0f}/s)"
    )
    for label, filters in [
        ("neither", {}),
        ("type", {"alert_type": "whale_trade"}),
        ("symbol", {"symbol": "ETH-USDT"}),
        ("type+symbol", {"alert_type": "whale_trade", "symbol": "ETH-USDT"}),
    ]:
        first_s, first = timed(partial(store.query_alerts, limit=page, **filters))
        second = store.query_alerts(limit=page, cursor=first.next_cursor, **filters)
        third_s, _ = timed(
            partial(store.query_alerts, limit=page, cursor=second.next_cursor, **filters)
        )
        print(
            f"{name:<10} page of {len(first.items):>3} by {label:<12}"
            f" first {first_s * 1000:7.1f} ms   third {third_s * 1000:7.1f} ms"
        )


def main() -> None:
    """Run both stores and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--page", type=int, default=200)
    args = parser.parse_args()
    records = alerts(args.alerts)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = SqliteAlertStore(Path(tmp) / "hot.db")
        bench("sqlite", sqlite, records, args.page)
        sqlite.close()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with moto_server() as endpoint:
        dynamo = DynamoDBAlertStore("bench", region="us-east-1", endpoint_url=endpoint)
        dynamo.create_tables()
        bench("dynamodb", dynamo, records, args.page)


if __name__ == "__main__":
    main()
