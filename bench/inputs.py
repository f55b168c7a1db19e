"""Bench inputs built from the real Binance recording in ../shared/data/real.

The 5-minute BTCUSDT recording (9,757 trades) is copied ``copies`` times, each copy
shifted ``gap_minutes`` later than the one before, once as binance and once as
coinbase (same prices, so the spread detector sees both sides). Each copy of each
exchange is split into ``parts`` files. Files are published atomically into the landing
folder in event-time order with strictly increasing modification times, as producers
must (docs/runtime.md), so Spark's file source reads them in that order.

The defaults (16 copies, 2 exchanges, 2 parts) give 312,224 trades in 64 files; read
8 files a micro-batch, that is 8 batches of about 39k trades.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from ctc.ingest.timestamps import iso_from_epoch_ms

ROOT = Path(__file__).resolve().parents[1]
RECORDING = (
    ROOT.parent / "shared" / "data" / "real" / "hftbacktest" / "spot" / "btcusdt_20240808.gz"
)


def require_recording() -> Path:
    """The recording's path, or exit with a clear reason when ../shared is absent."""
    if not RECORDING.is_file():
        sys.exit(
            f"bench: the real recording is missing: {RECORDING} (../shared beside the project)"
        )
    return RECORDING


def recorded_trades() -> list[dict[str, Any]]:
    """The recording's trades: (trade id, time ms, price, quantity, taker side)."""
    out = []
    with gzip.open(require_recording(), "rt", encoding="utf-8") as fh:
        for line in fh:
            _, _, frame = line.partition(" ")
            if '"e":"trade"' not in frame:
                continue
            d = json.loads(frame)["data"]
            out.append(
                {
                    "t": d["t"],
                    "T": int(d["T"]),
                    "p": float(d["p"]),
                    "q": float(d["q"]),
                    "side": "sell" if d["m"] else "buy",
                }
            )
    out.sort(key=lambda r: (r["T"], r["t"]))
    return out


def events(copies: int, gap_minutes: float, exchanges: tuple[str, ...]) -> list[dict[str, Any]]:
    """Unified trade events: the recording copied, shifted and re-labelled, in time order."""
    trades = recorded_trades()
    gap_ms = int(gap_minutes * 60_000)
    out = []
    for k in range(copies):
        for ex in exchanges:
            for r in trades:
                ts = r["T"] + k * gap_ms
                out.append(
                    {
                        "event_id": f"{ex}:BTCUSDT:{k}-{r['t']}",
                        "exchange": ex,
                        "symbol": "BTC-USDT",
                        "market": "BTCUSDT" if ex == "binance" else "BTC-USD",
                        "price": r["p"],
                        "quantity": r["q"],
                        "quote_volume": r["p"] * r["q"],
                        "side": r["side"],
                        "timestamp": iso_from_epoch_ms(ts),
                        "ingestion_timestamp": iso_from_epoch_ms(ts + 50),
                        "_k": k,
                        "_ms": ts,
                    }
                )
    out.sort(key=lambda e: (e["_ms"], e["exchange"]))
    return out


def publish_real_copies(
    landing: Path,
    copies: int = 16,
    gap_minutes: float = 6.0,
    exchanges: tuple[str, ...] = ("binance", "coinbase"),
    parts: int = 2,
) -> tuple[int, int]:
    """Write the copies as JSON-lines files into ``landing``; return (trades, files)."""
    landing.mkdir(parents=True, exist_ok=True)
    evs = events(copies, gap_minutes, exchanges)
    groups: dict[tuple[int, str, int], list[str]] = {}
    span = max(e["_ms"] for e in evs if e["_k"] == 0) - min(e["_ms"] for e in evs if e["_k"] == 0)
    starts = {k: min(e["_ms"] for e in evs if e["_k"] == k) for k in range(copies)}
    for e in evs:
        k = e.pop("_k")
        ms = e.pop("_ms")
        part = min(parts - 1, int((ms - starts[k]) * parts / (span + 1)))
        groups.setdefault((k, e["exchange"], part), []).append(json.dumps(e))
    # event-time order: copy, then part, then exchange
    keys = sorted(groups, key=lambda g: (g[0], g[2], g[1]))
    t0 = time.time() - len(keys)
    for i, key in enumerate(keys):
        name = f"trades-{i:06d}.jsonl"
        tmp = landing / f".{name}.tmp"
        tmp.write_text("\n".join(groups[key]) + "\n", encoding="utf-8")
        tmp.rename(landing / name)
        os.utime(landing / name, (t0 + i, t0 + i))
    return len(evs), len(keys)


def write_jsonl(path: Path, copies: int, gap_minutes: float = 6.0) -> int:
    """All copies (binance and coinbase) as one JSON-lines file; return the trade count."""
    evs = events(copies, gap_minutes, ("binance", "coinbase"))
    with path.open("w", encoding="utf-8") as fh:
        for e in evs:
            e.pop("_k")
            e.pop("_ms")
            fh.write(json.dumps(e) + "\n")
    return len(evs)
