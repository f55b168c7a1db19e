"""Readers for the raw websocket recordings in ``data/real`` (see PROVENANCE.md).

* hftbacktest ``*.gz``: gzip text, ``<recv ns> <raw JSON frame>`` per line (Binance).
* cryptofeed ``*.0``: ``<recv s float>: <raw JSON frame>``; other lines (URL/connect lines,
  ``<url> <- …`` sent frames, ``<url> -> …`` HTTP responses, ``configuration:``) are skipped.
* cryptofeed v3 ``*.jsonl.zst``: zstd JSON lines; ``t == "recv"`` lines carry the frame in
  ``data``; the header names the exchange and ``connect`` lines the URL.

Every frame keeps its exact text, so a replay sends what the exchange sent.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

_CF_LINE = re.compile(r"^(\d+(?:\.\d+)?): (\{.*)$")
_HFT_LINE = re.compile(r"^(\d+) (\{.*)$")
_BINANCE_STREAM = re.compile(r'^\{"stream":"([^"]+)"')

#: Protocols the replay server speaks.
PROTOCOLS = ("binance", "coinbase-exchange", "coinbase-advanced")

_COINBASE_CHANNEL_OF_TYPE = {
    "match": "matches",
    "last_match": "matches",
    "ticker": "ticker",
    "snapshot": "level2",
    "l2update": "level2",
    "heartbeat": "heartbeat",
    "status": "status",
}


@dataclass(frozen=True)
class Frame:
    """One received websocket frame: receive time (ns), exact text, routing keys.

    ``channel``: Binance stream name (``btcusdt@trade``), Coinbase channel (``matches``),
    or Advanced Trade channel (``market_trades``); ``product`` is the Coinbase product or "".
    """

    recv_ns: int
    text: str
    channel: str
    product: str = ""


@dataclass
class Recording:
    """A loaded recording: protocol, exchange name for events, source URL and frames."""

    path: Path
    protocol: str
    exchange: str
    url: str
    frames: list[Frame] = field(default_factory=list)

    def trade_streams(self) -> list[tuple[str, str]]:
        """Binance ``(MARKET, kind)`` pairs with trade frames, in first-seen order."""
        pairs: dict[tuple[str, str], None] = {}
        for frame in self.frames:
            market, _, kind = frame.channel.partition("@")
            if kind in ("trade", "aggTrade"):
                pairs[(market.upper(), kind)] = None
        return list(pairs)

    def trade_products(self) -> list[str]:
        """Coinbase products with trades, in first-seen order."""
        products: dict[str, None] = {}
        for frame in self.frames:
            if frame.channel == "matches" and frame.product:
                products[frame.product] = None
            elif frame.channel == "market_trades":
                for event in json.loads(frame.text).get("events", ()):
                    for trade in event.get("trades", ()):
                        products[str(trade["product_id"])] = None
        return list(products)


def _iter_gzip_lines(path: Path) -> Iterator[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        yield from fh


def _iter_zstd_lines(path: Path) -> Iterator[str]:
    import zstandard

    with open(path, "rb") as raw:
        reader = zstandard.ZstdDecompressor().stream_reader(raw)
        yield from io.TextIOWrapper(reader, encoding="utf-8")


def _route(protocol: str, text: str) -> tuple[str, str]:
    if protocol == "binance":
        match = _BINANCE_STREAM.match(text)
        return (match.group(1) if match else "", "")
    payload = json.loads(text)
    if protocol == "coinbase-advanced":
        return (str(payload.get("channel", "")), "")
    kind = str(payload.get("type", ""))
    return (_COINBASE_CHANNEL_OF_TYPE.get(kind, kind), str(payload.get("product_id", "")))


def _detect(url: str, first_frame: str) -> tuple[str, str]:
    lowered = url.lower()
    if "coinbase" in lowered:
        if "advanced-trade" in lowered or first_frame.startswith('{"channel"'):
            return "coinbase-advanced", "coinbase"
        return "coinbase-exchange", "coinbase"
    if "binance" in lowered or first_frame.startswith('{"stream"'):
        if "binance.us" in lowered:
            return "binance", "binanceus"
        if "fstream" in lowered:
            return "binance", "binance-futures"
        return "binance", "binance"
    if first_frame.startswith('{"channel"'):
        return "coinbase-advanced", "coinbase"
    return "coinbase-exchange", "coinbase"


def _raw_frames(path: Path) -> tuple[str, list[tuple[int, str]]]:
    """The source URL (or "") and ``(recv_ns, text)`` for every received frame."""
    name = path.name
    frames: list[tuple[int, str]] = []
    url = ""
    if name.endswith(".gz"):
        for line in _iter_gzip_lines(path):
            match = _HFT_LINE.match(line.rstrip("\n"))
            if match:
                frames.append((int(match.group(1)), match.group(2)))
        return "wss://stream.binance.com:9443/stream", frames
    if name.endswith(".zst"):
        for line in _iter_zstd_lines(path):
            record = json.loads(line)
            kind = record.get("t")
            if kind == "recv":
                frames.append((round(float(record["ts"]) * 1e9), str(record["data"])))
            elif kind == "connect" and not url:
                url = str(record.get("addr", ""))
            elif kind == "header" and not url:
                url = str(record.get("exchange", "")).lower()
        return url, frames
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            match = _CF_LINE.match(line)
            if match:
                frames.append((round(float(match.group(1)) * 1e9), match.group(2)))
            elif not url and line.startswith("wss://"):
                url = line.split(" ", 1)[0]
    return url, frames


def load_recording(path: str | Path) -> Recording:
    """Load a recording file (format chosen by its name, protocol by its URL/first frame)."""
    source = Path(path)
    url, raw = _raw_frames(source)
    if not raw:
        raise ValueError(f"{source}: no websocket frames found")
    protocol, exchange = _detect(url, raw[0][1])
    frames = [Frame(ns, text, *_route(protocol, text)) for ns, text in raw]
    return Recording(source, protocol, exchange, url, frames)
