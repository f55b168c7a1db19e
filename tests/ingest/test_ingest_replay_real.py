"""Every trade of each real recording arrives normalised exactly once, in order per market,
across forced disconnects — checked against an independent parse of the file."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from ingest_helpers import RawTrade, raw_trades, real_file

from ctc.ingest.metrics import IngestMetrics
from ctc.ingest.pipeline import PipelineConfig
from ctc.ingest.replay import replay_files
from ctc.ingest.sinks import MemorySink
from ctc.ingest.timestamps import iso_from_epoch_ms, normalise_iso
from ctc.ingest.trade_event import TradeEvent

pytestmark = pytest.mark.realdata

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.(\d{3}|\d{6})Z$")

RECORDINGS = [
    "hftbacktest/spot/btcusdt_20240808.gz",
    "hftbacktest/spot/ethusdt_20240808.gz",
    "cryptofeed/BINANCE-ee25be.0",
    "cryptofeed/BINANCE_US-63b290.0",
    "cryptofeed/COINBASE.ws.28.0",
    "cryptofeed/COINBASE.jsonl.zst",
]


def _replay(
    path: Path, drop_after: list[int], **config: int
) -> tuple[list[TradeEvent], IngestMetrics]:
    sink = MemorySink()
    metrics = asyncio.run(
        asyncio.wait_for(
            replay_files([path], sink, drop_after=drop_after, config=PipelineConfig(**config)),
            timeout=60,
        )
    )
    return sink.events, metrics


def _expected_taker_side(raw: RawTrade) -> str:
    if raw.raw_side.startswith("m="):
        return "sell" if raw.raw_side == "m=True" else "buy"
    return "buy" if raw.raw_side.lower() == "sell" else "sell"


@pytest.mark.parametrize("relative", RECORDINGS)
def test_every_trade_exactly_once_across_disconnects(relative: str) -> None:
    path = real_file(relative)
    expected = raw_trades(path)
    assert expected, "independent parse found no trades"
    drops = [1, 2, 7, 40, 90]
    events, metrics = _replay(path, drops)

    ids = [e["event_id"] for e in events]
    assert len(ids) == len(set(ids)), "duplicate events"
    assert set(ids) == {r.event_id for r in expected}
    assert len(events) == len({r.event_id for r in expected})
    assert metrics.received == metrics.written == len(events)
    assert metrics.reconnects >= 3

    # in order per market: file order (Binance, Coinbase matches) or trade-id order
    # (Advanced Trade lists trades newest first inside a frame)
    by_market_out: dict[str, list[str]] = defaultdict(list)
    for e in events:
        by_market_out[e["market"]].append(e["event_id"])
    by_market_raw: dict[str, list[RawTrade]] = defaultdict(list)
    for r in expected:
        by_market_raw[r.market].append(r)
    for market, raws in by_market_raw.items():
        if relative.endswith(".zst"):
            wanted = [
                r.event_id
                for r in sorted({r.trade_id: r for r in raws}.values(), key=lambda r: r.trade_id)
            ]
        else:
            wanted = [r.event_id for r in raws]
        assert by_market_out[market] == wanted, market


@pytest.mark.parametrize("relative", RECORDINGS)
def test_fields_match_raw_recording(relative: str) -> None:
    path = real_file(relative)
    raw_by_id = {r.event_id: r for r in raw_trades(path)}
    events, _ = _replay(path, [])
    for event in events:
        raw = raw_by_id[event["event_id"]]
        assert event["side"] == _expected_taker_side(raw)
        assert event["price"] == float(raw.price)
        assert event["quantity"] == float(raw.size)
        assert event["quote_volume"] == float(Decimal(raw.price) * Decimal(raw.size))
        if raw.raw_side.startswith("m="):
            assert event["timestamp"] == iso_from_epoch_ms(int(raw.time))
        else:
            assert event["timestamp"] == normalise_iso(raw.time)
        assert ISO_Z.match(event["timestamp"]) and ISO_Z.match(event["ingestion_timestamp"])
        assert event["market"] == raw.market


def test_coinbase_last_match_resent_on_resubscribe_is_not_duplicated() -> None:
    path = real_file("cryptofeed/COINBASE.ws.28.0")
    events, metrics = _replay(path, [20, 40, 60])
    assert metrics.duplicates > 0, "the server should have re-sent last_match on re-subscribe"
    assert len(events) == len({e["event_id"] for e in events}) == 107


def test_backpressure_slow_sink_tiny_queue_loses_nothing() -> None:
    path = real_file("cryptofeed/BINANCE-ee25be.0")
    expected = {r.event_id for r in raw_trades(path)}
    metrics = IngestMetrics()
    in_flight: list[int] = []

    class SlowSink(MemorySink):
        async def write(self, events):  # type: ignore[no-untyped-def]
            in_flight.append(metrics.received - metrics.written)
            return await super().write(events)

    sink = SlowSink(delay=0.004)
    asyncio.run(
        asyncio.wait_for(
            replay_files(
                [path],
                sink,
                drop_after=[500],
                metrics=metrics,
                config=PipelineConfig(queue_size=2, batch_size=5),
            ),
            timeout=60,
        )
    )
    assert metrics.received == metrics.written == len(sink.events) == len(expected)
    assert {e["event_id"] for e in sink.events} == expected
    # connectors were held back: never more than queue + one batch + the event being put
    assert max(in_flight) <= 2 + 5 + 1


def test_advanced_trade_side_is_maker_side_per_the_book() -> None:
    """Locks the documented conclusion: in Advanced Trade ``market_trades`` a trade printed at
    the prevailing best ask (a buyer lifting the offer) is labelled SELL, so ``side`` is the
    maker's side and the taker side is its opposite."""
    import io
    import json

    import zstandard

    path = real_file("cryptofeed/COINBASE.jsonl.zst")
    with open(path, "rb") as fh:
        lines = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(fh), "utf-8")
        frames = [
            json.loads(json.loads(line)["data"])
            for line in lines
            if json.loads(line).get("t") == "recv"
        ]
    book: dict[str, tuple[float, float]] = {}
    at_ask: dict[str, str] = {}  # trade id -> recorded side, for update trades at the best ask
    for msg in frames:
        if msg.get("channel") == "ticker":
            for event in msg["events"]:
                for t in event["tickers"]:
                    book[t["product_id"]] = (float(t["best_bid"]), float(t["best_ask"]))
        elif msg.get("channel") == "market_trades":
            for event in msg["events"]:
                for t in event["trades"]:
                    bbo = book.get(t["product_id"])
                    if event["type"] == "update" and bbo and float(t["price"]) >= bbo[1]:
                        at_ask[f"coinbase:{t['product_id']}:{t['trade_id']}"] = t["side"]
    assert len(at_ask) >= 20
    assert sum(side == "SELL" for side in at_ask.values()) >= 0.9 * len(at_ask)
    events, _ = _replay(path, [])
    ours = {e["event_id"]: e["side"] for e in events}
    assert all(ours[i] == "buy" for i, side in at_ask.items() if side == "SELL")
