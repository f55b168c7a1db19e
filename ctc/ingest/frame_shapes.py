"""What a recorded frame is, by its shape: a trade (and of which instrument), another known
message, or of an unknown shape (counted and reported, never replayed).

Binance USD-M futures trades come on the same stream names as spot (``btcusdt@trade``);
they differ by shape: spot ``trade``/``aggTrade`` payloads carry ``M``, USD-M ones do not
(their ``trade`` payloads carry ``X``, the order type, instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

Shape = Literal["spot-trade", "perpetual-trade", "trade", "other", "control", "unknown"]

_BINANCE_TRADE_KEYS: Final = {
    "trade": ("s", "t", "p", "q", "T", "m"),
    "aggTrade": ("s", "a", "p", "q", "T", "m"),
}
_COINBASE_TRADE_KEYS: Final = ("trade_id", "price", "size", "side", "time", "product_id")


def binance_shape(payload: Any) -> Shape:
    """A Binance combined-stream frame: ``spot-trade`` / ``perpetual-trade`` (a complete
    ``trade`` or ``aggTrade`` payload with / without ``M``), ``other`` (any other stream),
    ``control`` (a ``{"result":…,"id":…}`` reply or a REST depth snapshot, not replayed) or
    ``unknown``."""
    if not isinstance(payload, Mapping):
        return "unknown"
    if "id" in payload and ("result" in payload or "error" in payload):
        return "control"
    if "lastUpdateId" in payload:
        return "control"  # a REST depth snapshot the recorder fetched beside the stream
    stream, data = payload.get("stream"), payload.get("data")
    if not isinstance(stream, str) or not isinstance(data, Mapping):
        return "unknown"
    keys = _BINANCE_TRADE_KEYS.get(str(data.get("e")))
    if keys is None:
        return "other"
    if not all(k in data for k in keys):
        return "unknown"
    return "spot-trade" if "M" in data else "perpetual-trade"


def coinbase_exchange_shape(payload: Any) -> Shape:
    """A Coinbase Exchange frame: ``trade`` (a complete ``match``/``last_match``), ``other``
    (a message with a ``type``) or ``unknown``."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("type"), str):
        return "unknown"
    if payload["type"] not in ("match", "last_match"):
        return "other"
    return "trade" if all(k in payload for k in _COINBASE_TRADE_KEYS) else "unknown"


def coinbase_advanced_shape(payload: Any) -> Shape:
    """A Coinbase Advanced Trade frame: ``trade`` (``market_trades`` whose trades are all
    complete), ``other`` (another channel) or ``unknown``."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("channel"), str):
        return "unknown"
    if payload["channel"] != "market_trades":
        return "other"
    events = payload.get("events")
    if not isinstance(events, list):
        return "unknown"
    for event in events:
        trades = event.get("trades") if isinstance(event, Mapping) else None
        if not isinstance(trades, list):
            return "unknown"
        for trade in trades:
            if not isinstance(trade, Mapping) or not all(k in trade for k in _COINBASE_TRADE_KEYS):
                return "unknown"
    return "trade"


SHAPE_OF: Final = {
    "binance": binance_shape,
    "coinbase-exchange": coinbase_exchange_shape,
    "coinbase-advanced": coinbase_advanced_shape,
}
