"""Test helpers: real-data location, free ports, and an independent parse of the recordings.

The parse is deliberately simple and uses no ctc.ingest code: it is the reference the
connector output is compared with.
"""

from __future__ import annotations

import gzip
import io
import json
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

REAL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def real_file(relative: str) -> Path:
    """A file under the real data directory, or skip the test with the reason."""
    path = REAL_DATA / relative
    if not path.is_file():
        pytest.skip(
            f"real recording {relative} not found under {REAL_DATA} "
            "(expected ../shared/data/real beside the project root)"
        )
    return path


@dataclass(frozen=True)
class RawTrade:
    """One trade as written in the recording."""

    event_id: str
    market: str
    trade_id: int
    price: str
    size: str
    raw_side: str  # Binance: "m=True"/"m=False"; Coinbase: the recorded side field
    time: str  # Binance: T in ms as text; Coinbase: the recorded time


def _frames(path: Path) -> list[str]:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return [line.split(" ", 1)[1] for line in fh if line[:1].isdigit()]
    if path.name.endswith(".zst"):
        import zstandard

        with open(path, "rb") as fh:
            text = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(fh), "utf-8")
            rows = [json.loads(line) for line in text]
        return [r["data"] for r in rows if r.get("t") == "recv"]
    frames = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            head, sep, body = line.partition(": ")
            if sep and head.replace(".", "", 1).isdigit() and body.startswith("{"):
                frames.append(body)
    return frames


def raw_trades(path: Path) -> list[RawTrade]:
    """Every trade in the file, in file order (Advanced Trade: as listed in each frame)."""
    exchange = "binanceus" if "BINANCE_US" in path.name else "binance"
    out: list[RawTrade] = []
    for frame in _frames(path):
        msg = json.loads(frame)
        data = msg.get("data") if "stream" in msg else None
        if data is not None and data.get("e") == "trade":
            out.append(
                RawTrade(
                    f"{exchange}:{data['s']}:{data['t']}",
                    data["s"],
                    data["t"],
                    data["p"],
                    data["q"],
                    f"m={data['m']}",
                    str(data["T"]),
                )
            )
        elif data is not None and data.get("e") == "aggTrade":
            out.append(
                RawTrade(
                    f"{exchange}:{data['s']}:a{data['a']}",
                    data["s"],
                    data["a"],
                    data["p"],
                    data["q"],
                    f"m={data['m']}",
                    str(data["T"]),
                )
            )
        elif msg.get("type") in ("match", "last_match"):
            out.append(
                RawTrade(
                    f"coinbase:{msg['product_id']}:{msg['trade_id']}",
                    msg["product_id"],
                    int(msg["trade_id"]),
                    msg["price"],
                    msg["size"],
                    msg["side"],
                    msg["time"],
                )
            )
        elif msg.get("channel") == "market_trades":
            for event in msg["events"]:
                for t in event["trades"]:
                    out.append(
                        RawTrade(
                            f"coinbase:{t['product_id']}:{t['trade_id']}",
                            t["product_id"],
                            int(t["trade_id"]),
                            t["price"],
                            t["size"],
                            t["side"],
                            t["time"],
                        )
                    )
    return out
