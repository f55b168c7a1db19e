"""A small, independent parser of the real recordings in ../shared/data/real into unified events.

It is for tests only and shares no code with ``ctc.ingest``: the connectors and this parser
must agree on the recorded messages, each on its own.

Mapping (see PROVENANCE.md beside the recordings):

* hftbacktest (Binance spot ``@trade``, gzip lines ``<ns> <json>``): ``event_id``
  ``binance:<SYMBOL>:<t>``, time ``T`` (ms), side ``sell`` if ``m`` (buyer is maker) else
  ``buy``; ``ingestion_timestamp`` is the recorder's receive time (its clock runs ~1.25 s
  behind the exchange, so do not read latency from it).
* cryptofeed Binance / Binance.US ``@aggTrade`` (``<s>: <json>`` lines): ``event_id``
  ``<exchange>:<SYMBOL>:a<a>`` (aggregate trade id); exchange ``binance`` or ``binanceus``.
* Coinbase Exchange ``match`` (``COINBASE.ws.*.0``): ``side`` is the maker's side, the taker's
  is the opposite; ``last_match`` (a replay of the last trade before subscribing) is skipped.
* Coinbase Advanced Trade ``market_trades`` (zstd JSONL, ``recv`` lines whose ``data`` is a
  JSON string): ``side`` is the maker's side too, so the taker's is the opposite. The
  ``snapshot`` trades (recent trades sent on subscribing) are kept unless asked otherwise.

Symbols: ``BASE-QUOTE``; for BTC, ETH and SOL a USD quote is written as USDT (the project
treats Coinbase ``BTC-USD`` as ``BTC-USDT``, as the simulator does), other pairs keep their
quote (``SKL-USD``, ``ETH-BTC``). ``quote_volume`` is ``float(Decimal(price) * Decimal(size))``.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"

FIELDS = (
    "event_id",
    "exchange",
    "symbol",
    "market",
    "instrument",
    "price",
    "quantity",
    "quote_volume",
    "side",
    "timestamp",
    "ingestion_timestamp",
)
_QUOTES = ("USDT", "BUSD", "USDC", "USD", "BTC", "ETH", "BNB", "EUR", "GBP")
_USD_AS_USDT = frozenset({"BTC", "ETH", "SOL"})
_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]00:?00)?$")

Event = dict[str, Any]


def real_dir() -> Path:
    """The recordings folder, or skip the calling test when it is absent."""
    if not REAL.is_dir():
        pytest.skip(f"real recordings not found at {REAL} (../shared beside the project)")
    return REAL


def canonical(base: str, quote: str) -> str:
    """``BTC``/``USD`` -> ``BTC-USDT``; other pairs kept (``ETH-BTC``, ``SKL-USD``)."""
    base, quote = base.upper(), quote.upper()
    if quote == "USD" and base in _USD_AS_USDT:
        quote = "USDT"
    return f"{base}-{quote}"


def binance_symbol(market: str) -> str:
    """``BTCUSDT``, ``BTCUSD`` (Binance.US) -> ``BTC-USDT``; ``ETHBTC`` -> ``ETH-BTC``."""
    m = market.upper()
    for q in _QUOTES:
        if m.endswith(q) and len(m) > len(q):
            return canonical(m[: -len(q)], q)
    return m


def coinbase_symbol(product_id: str) -> str:
    """``BTC-USD`` -> ``BTC-USDT``; ``SKL-BTC`` stays."""
    base, _, quote = product_id.partition("-")
    return canonical(base, quote) if quote else product_id.upper()


def iso_from_ms(ms: int) -> str:
    """Epoch milliseconds as ISO 8601 UTC with milliseconds and ``Z``."""
    dt = datetime.fromtimestamp(ms / 1000, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso_from_seconds(seconds: float) -> str:
    """Epoch seconds (float) as ISO 8601 UTC with microseconds and ``Z``."""
    us = round(seconds * 1_000_000)
    dt = datetime.fromtimestamp(us // 1_000_000, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{us % 1_000_000:06d}Z"


def iso_normalise(text: str) -> str:
    """Coinbase times (1-9 fraction digits, ``Z``) as ISO with exactly 6 digits and ``Z``."""
    m = _ISO.match(text.strip())
    if not m:
        raise ValueError(f"unexpected time: {text!r}")
    frac = ((m.group(2) or "") + "000000")[:6]  # truncate nanoseconds to micros
    return f"{m.group(1)}.{frac}Z"


def _event(
    *,
    event_id: str,
    exchange: str,
    symbol: str,
    market: str,
    price: str,
    quantity: str,
    side: str,
    timestamp: str,
    ingestion_timestamp: str,
) -> Event:
    return {
        "event_id": event_id,
        "exchange": exchange,
        "symbol": symbol,
        "market": market,
        "instrument": "spot",  # every recording here is of a spot market
        "price": float(price),
        "quantity": float(quantity),
        "quote_volume": float(Decimal(price) * Decimal(quantity)),
        "side": side,
        "timestamp": timestamp,
        "ingestion_timestamp": ingestion_timestamp,
    }


def parse_hftbacktest(path: Path) -> list[Event]:
    """Binance spot ``@trade`` messages of an hftbacktest recording (gzip ``<ns> <json>``)."""
    out: list[Event] = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            local_ns, _, frame = line.partition(" ")
            if '"e":"trade"' not in frame:
                continue
            data = json.loads(frame).get("data", {})
            if data.get("e") != "trade":
                continue
            market = data["s"]
            out.append(
                _event(
                    event_id=f"binance:{market}:{data['t']}",
                    exchange="binance",
                    symbol=binance_symbol(market),
                    market=market,
                    price=data["p"],
                    quantity=data["q"],
                    side="sell" if data["m"] else "buy",
                    timestamp=iso_from_ms(int(data["T"])),
                    ingestion_timestamp=iso_from_ms(int(local_ns) // 1_000_000),
                )
            )
    return out


def _cryptofeed_frames(path: Path) -> Iterator[tuple[float, dict[str, Any]]]:
    """(receive time, frame) of the received frames of a cryptofeed raw ``.0`` recording."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            head, sep, body = line.partition(": ")
            if not sep:
                continue
            try:
                received = float(head)  # sent frames and REST lines have a URL prefix
            except ValueError:
                continue
            try:
                frame = json.loads(body)
            except json.JSONDecodeError:
                continue
            if isinstance(frame, dict):
                yield received, frame


def parse_cryptofeed_binance(path: Path) -> list[Event]:
    """Binance / Binance.US ``@aggTrade`` messages of a cryptofeed raw recording."""
    exchange = "binanceus" if "BINANCE_US" in path.name.upper() else "binance"
    out: list[Event] = []
    for received, frame in _cryptofeed_frames(path):
        data = frame.get("data", frame)
        if not isinstance(data, dict) or data.get("e") != "aggTrade":
            continue
        market = data["s"]
        out.append(
            _event(
                event_id=f"{exchange}:{market}:a{data['a']}",
                exchange=exchange,
                symbol=binance_symbol(market),
                market=market,
                price=data["p"],
                quantity=data["q"],
                side="sell" if data["m"] else "buy",
                timestamp=iso_from_ms(int(data["T"])),
                ingestion_timestamp=iso_from_seconds(received),
            )
        )
    return out


def _taker(maker_side: str) -> str:
    return "sell" if maker_side.lower() == "buy" else "buy"


def parse_coinbase_matches(path: Path) -> list[Event]:
    """Coinbase Exchange ``match`` messages of a cryptofeed raw recording (no ``last_match``)."""
    out: list[Event] = []
    for received, frame in _cryptofeed_frames(path):
        if frame.get("type") != "match":
            continue
        product = frame["product_id"]
        out.append(
            _event(
                event_id=f"coinbase:{product}:{frame['trade_id']}",
                exchange="coinbase",
                symbol=coinbase_symbol(product),
                market=product,
                price=frame["price"],
                quantity=frame["size"],
                side=_taker(frame["side"]),
                timestamp=iso_normalise(frame["time"]),
                ingestion_timestamp=iso_from_seconds(received),
            )
        )
    return out


def parse_coinbase_advanced(path: Path, *, include_snapshot: bool = True) -> list[Event]:
    """Coinbase Advanced Trade ``market_trades`` of a cryptofeed v3 zstd JSONL recording."""
    import zstandard

    out: list[Event] = []
    with path.open("rb") as raw:
        reader = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8")
        for line in reader:
            if not line.strip():
                continue
            rec = json.loads(line)
            if rec.get("t") != "recv" or "market_trades" not in rec.get("data", ""):
                continue
            msg = json.loads(rec["data"])
            if msg.get("channel") != "market_trades":
                continue
            for ev in msg.get("events", []):
                if ev.get("type") == "snapshot" and not include_snapshot:
                    continue
                for t in ev.get("trades", []):
                    product = t["product_id"]
                    out.append(
                        _event(
                            event_id=f"coinbase:{product}:{t['trade_id']}",
                            exchange="coinbase",
                            symbol=coinbase_symbol(product),
                            market=product,
                            price=t["price"],
                            quantity=t["size"],
                            side=_taker(t["side"]),
                            timestamp=iso_normalise(t["time"]),
                            ingestion_timestamp=iso_from_seconds(float(rec["ts"])),
                        )
                    )
    return out


def hftbacktest_events(
    root: Path | None = None, markets: Sequence[str] = ("btcusdt", "ethusdt")
) -> list[Event]:
    """The hftbacktest Binance spot trades of the given markets (default BTC and ETH)."""
    base = (root or real_dir()) / "hftbacktest" / "spot"
    events: list[Event] = []
    for m in markets:
        events.extend(parse_hftbacktest(base / f"{m}_20240808.gz"))
    return events


def cryptofeed_events(root: Path | None = None) -> list[Event]:
    """All trades of the cryptofeed recordings: Binance, Binance.US, Coinbase (both shapes)."""
    base = (root or real_dir()) / "cryptofeed"
    events: list[Event] = []
    events.extend(parse_cryptofeed_binance(base / "BINANCE-ee25be.0"))
    events.extend(parse_cryptofeed_binance(base / "BINANCE_US-63b290.0"))
    events.extend(parse_coinbase_matches(base / "COINBASE.ws.28.0"))
    events.extend(parse_coinbase_advanced(base / "COINBASE.jsonl.zst"))
    return events


def sort_events(events: Iterable[Event]) -> list[Event]:
    """Events in timestamp order (stable; ISO strings of one precision sort as times)."""
    return sorted(events, key=lambda e: datetime.fromisoformat(e["timestamp"]))


def write_jsonl(events: Iterable[Event], out: Path) -> Path:
    """Write events as JSON lines, fields in the unified order."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for e in events:
            fh.write(json.dumps({k: e[k] for k in FIELDS}, separators=(",", ":")) + "\n")
    return out
