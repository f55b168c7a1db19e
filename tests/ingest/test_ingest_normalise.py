"""Normaliser unit tests on literal exchange messages (shapes from PROVENANCE.md examples)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from ctc.events import TRADE_EVENT_FIELDS
from ctc.ingest.normalise_binance import BinanceNormaliser
from ctc.ingest.normalise_coinbase import (
    CoinbaseAdvancedTradesNormaliser,
    CoinbaseMatchesNormaliser,
)
from ctc.ingest.timestamps import iso_from_epoch_ms, normalise_iso, parse_time_arg

RECV = "2026-01-01T00:00:00.000001Z"
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.(\d{3}|\d{6})Z$")

BINANCE_TRADE = {
    "stream": "btcusdt@trade",
    "data": {
        "e": "trade",
        "E": 1723161255343,
        "s": "BTCUSDT",
        "t": 3735683259,
        "p": "61837.63000000",
        "q": "0.02000000",
        "T": 1723161255342,
        "m": True,
        "M": True,
    },
}
BINANCE_AGG = {
    "stream": "btcusdt@aggTrade",
    "data": {
        "e": "aggTrade",
        "E": 1617566591315,
        "s": "BTCUSDT",
        "a": 665076760,
        "p": "58001.03000000",
        "q": "0.08620500",
        "f": 745522877,
        "l": 745522877,
        "T": 1617566591314,
        "m": False,
        "M": True,
    },
}
BINANCE_FUTURES_TRADE = {
    "stream": "btcusdt@trade",
    "data": {
        "e": "trade",
        "E": 1723161255343,
        "T": 1723161255342,
        "s": "BTCUSDT",
        "t": 5000000001,
        "p": "0.1",
        "q": "0.2",
        "X": "MARKET",
        "m": False,
    },
}
COINBASE_MATCH = {
    "type": "match",
    "trade_id": 280232,
    "maker_order_id": "2a0d",
    "taker_order_id": "3c82",
    "side": "sell",
    "size": "985",
    "price": "0.00001305",
    "product_id": "SKL-BTC",
    "sequence": 177100030,
    "time": "2021-04-17T16:43:37.089723Z",
}


def test_binance_trade_fields_and_side() -> None:
    (event,) = BinanceNormaliser()(BINANCE_TRADE, RECV)
    assert list(event) == list(TRADE_EVENT_FIELDS)
    assert event["event_id"] == "binance:BTCUSDT:3735683259"
    assert event["symbol"] == "BTC-USDT" and event["market"] == "BTCUSDT"
    assert event["side"] == "sell"  # m=true: buyer was maker, taker sold
    assert event["timestamp"] == "2024-08-08T23:54:15.342Z"
    assert event["ingestion_timestamp"] == RECV
    assert event["quote_volume"] == float(Decimal("61837.63") * Decimal("0.02"))


def test_binance_agg_trade_id_prefix_and_buy_side() -> None:
    (event,) = BinanceNormaliser()(BINANCE_AGG, RECV)
    assert event["event_id"] == "binance:BTCUSDT:a665076760"
    assert event["side"] == "buy"
    assert event["timestamp"] == "2021-04-04T20:03:11.314Z"


def test_binance_bare_payload_and_futures_shape() -> None:
    normaliser = BinanceNormaliser("binance-futures")
    (event,) = normaliser(BINANCE_FUTURES_TRADE["data"], RECV)
    assert event["event_id"] == "binance-futures:BTCUSDT:5000000001"
    assert event["side"] == "buy"
    assert event["quote_volume"] == 0.02  # exact decimal product, not 0.1*0.2 in binary
    assert 0.1 * 0.2 != 0.02


@pytest.mark.parametrize(
    "message",
    [
        {"result": None, "id": 1},
        {"stream": "btcusdt@bookTicker", "data": {"u": 1, "s": "BTCUSDT", "b": "1"}},
        {"stream": "btcusdt@depth@100ms", "data": {"e": "depthUpdate", "s": "BTCUSDT"}},
        [1, 2],
    ],
)
def test_binance_ignores_non_trades(message: object) -> None:
    assert BinanceNormaliser()(message, RECV) == []


def test_coinbase_match_taker_side_is_opposite_of_maker() -> None:
    (event,) = CoinbaseMatchesNormaliser()(COINBASE_MATCH, RECV)
    assert event["event_id"] == "coinbase:SKL-BTC:280232"
    assert event["side"] == "buy"  # maker sold, so the taker bought
    assert event["symbol"] == "SKL-BTC"
    assert event["timestamp"] == "2021-04-17T16:43:37.089723Z"


def test_coinbase_last_match_replayed_is_dropped() -> None:
    normaliser = CoinbaseMatchesNormaliser()
    last = {**COINBASE_MATCH, "type": "last_match", "trade_id": 280231, "side": "buy"}
    assert [e["side"] for e in normaliser(last, RECV)] == ["sell"]
    assert len(normaliser(COINBASE_MATCH, RECV)) == 1
    # a re-subscribe replays the last match: no new event
    assert normaliser({**COINBASE_MATCH, "type": "last_match"}, RECV) == []
    assert normaliser.duplicates == 1
    # other products are independent
    assert len(normaliser({**COINBASE_MATCH, "product_id": "SKL-USD"}, RECV)) == 1


def test_coinbase_advanced_snapshot_order_and_dedupe() -> None:
    def frame(kind: str, ids: list[int], side: str = "SELL") -> dict[str, object]:
        trades = [
            {
                "product_id": "BTC-USD",
                "trade_id": str(i),
                "price": "65083.67",
                "size": "0.01",
                "time": "2026-08-09T21:05:48.167634Z",
                "side": side,
            }
            for i in ids
        ]
        return {
            "channel": "market_trades",
            "timestamp": "2026-08-09T21:05:48.251397169Z",
            "sequence_num": 9,
            "events": [{"type": kind, "trades": trades}],
        }

    normaliser = CoinbaseAdvancedTradesNormaliser()
    first = normaliser(frame("snapshot", [103, 102, 101]), RECV)  # newest first on the wire
    assert [e["event_id"] for e in first] == [
        "coinbase:BTC-USD:101",
        "coinbase:BTC-USD:102",
        "coinbase:BTC-USD:103",
    ]
    assert {e["side"] for e in first} == {"buy"}  # SELL is the maker side
    assert first[0]["symbol"] == "BTC-USDT" and first[0]["market"] == "BTC-USD"
    # a re-subscribe snapshot overlaps: only the unseen trade comes out
    again = normaliser(frame("snapshot", [104, 103, 102], side="BUY"), RECV)
    assert [e["event_id"] for e in again] == ["coinbase:BTC-USD:104"]
    assert again[0]["side"] == "sell"
    assert normaliser({"channel": "heartbeats", "events": []}, RECV) == []


def test_timestamp_helpers() -> None:
    assert iso_from_epoch_ms(1723161255342) == "2024-08-08T23:54:15.342Z"
    assert normalise_iso("2026-08-09T21:06:12.15207Z") == "2026-08-09T21:06:12.152070Z"
    assert normalise_iso("2026-08-09T21:05:48.251397169Z") == "2026-08-09T21:05:48.251397Z"
    assert ISO_Z.match(normalise_iso("2021-04-17T16:43:37Z"))
    assert parse_time_arg("2024-08-08T23:54:15.342Z") == 1723161255342
    assert parse_time_arg("1723161255342") == 1723161255342
