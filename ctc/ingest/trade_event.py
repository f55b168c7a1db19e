"""Build and serialise unified trade events (fields from :data:`ctc.events.TRADE_EVENT_FIELDS`)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ctc.events import TRADE_EVENT_FIELDS

#: A unified trade event: a dict keyed exactly by ``TRADE_EVENT_FIELDS``, times as ISO strings.
TradeEvent = dict[str, Any]

_FIELD_NAMES = tuple(TRADE_EVENT_FIELDS)


def make_trade_event(
    *,
    exchange: str,
    market: str,
    symbol: str,
    instrument: str,
    trade_id: str,
    price: str,
    quantity: str,
    side: str,
    timestamp: str,
    ingestion_timestamp: str,
) -> TradeEvent:
    """Assemble one event; ``quote_volume`` is ``price × quantity`` computed in Decimal."""
    dec_price = Decimal(price)
    dec_qty = Decimal(quantity)
    if side not in ("buy", "sell"):
        raise ValueError(f"side must be buy or sell, got {side!r}")
    event: TradeEvent = {
        "event_id": f"{exchange}:{market}:{trade_id}",
        "exchange": exchange,
        "symbol": symbol,
        "market": market,
        "instrument": instrument,
        "price": float(dec_price),
        "quantity": float(dec_qty),
        "quote_volume": float(dec_price * dec_qty),
        "side": side,
        "timestamp": timestamp,
        "ingestion_timestamp": ingestion_timestamp,
    }
    return event


def event_to_json(event: TradeEvent) -> str:
    """One compact JSON line (no newline) with the fields in schema order."""
    return json.dumps({name: event[name] for name in _FIELD_NAMES}, separators=(",", ":"))


def event_partition_key(event: TradeEvent) -> str:
    """Kinesis partition key: ``f"{symbol}|{exchange}"``."""
    return f"{event['symbol']}|{event['exchange']}"
