"""Normalise Coinbase trade messages: Exchange ``matches`` and Advanced Trade ``market_trades``.

Side: in both feeds ``side`` is the MAKER's side, so the taker side is the opposite.
For Exchange ``match``/``last_match`` Coinbase documents this. For Advanced Trade
``market_trades`` the recording (cryptofeed/COINBASE.jsonl.zst) shows the same: all 49 trades
printed at the best ask are labelled ``SELL`` and 26 of 27 at the best bid ``BUY``, judged
against the preceding ``ticker`` best bid/ask; a taker-side label would be the reverse.
See docs/ingest.md.

Duplicates: ``last_match`` (Exchange) and the ``snapshot`` event (Advanced Trade) replay trades
already seen on every (re)subscribe, so both normalisers remember the last trade id per product
and drop ids at or below it. Advanced Trade lists trades newest first inside an event; they are
emitted oldest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctc.ingest.symbols import SymbolMapper
from ctc.ingest.timestamps import normalise_iso
from ctc.ingest.trade_event import TradeEvent, make_trade_event

EXCHANGE = "coinbase"


def taker_side_from_maker_side(maker_side: str) -> str:
    """Coinbase maker side (``buy``/``BUY``) → taker side (``sell``)."""
    side = maker_side.lower()
    if side == "buy":
        return "sell"
    if side == "sell":
        return "buy"
    raise ValueError(f"unknown Coinbase side {maker_side!r}")


def coinbase_trade_event(
    trade: Mapping[str, Any],
    received_at: str,
    symbols: SymbolMapper,
    exchange: str = EXCHANGE,
    product: str | None = None,
) -> TradeEvent:
    """One Coinbase trade as an event: a ``match``, an Advanced Trade ``market_trades`` trade
    or a REST ``/products/{id}/trades`` row (which has no ``product_id``: pass ``product``).
    All three carry ``trade_id``, ``price``, ``size``, the maker's ``side`` and ``time``."""
    market = str(product or trade["product_id"])
    return make_trade_event(
        exchange=exchange,
        market=market,
        symbol=symbols.canonical(exchange, market),
        instrument="spot",
        trade_id=str(int(trade["trade_id"])),
        price=str(trade["price"]),
        quantity=str(trade["size"]),
        side=taker_side_from_maker_side(str(trade["side"])),
        timestamp=normalise_iso(str(trade["time"])),
        ingestion_timestamp=received_at,
    )


class _TradeIdGate:
    """Remembers the highest trade id seen per product and rejects ids at or below it."""

    def __init__(self) -> None:
        self.last_id: dict[str, int] = {}
        self.duplicates = 0

    def admit(self, product: str, trade_id: int) -> bool:
        """True (and remember it) if ``trade_id`` is newer than any seen for ``product``."""
        last = self.last_id.get(product)
        if last is not None and trade_id <= last:
            self.duplicates += 1
            return False
        self.last_id[product] = trade_id
        return True


class CoinbaseMatchesNormaliser:
    """Coinbase Exchange ``matches`` channel: ``match`` and ``last_match`` messages."""

    def __init__(self, symbols: SymbolMapper | None = None, exchange: str = EXCHANGE) -> None:
        self.exchange = exchange
        self.symbols = symbols or SymbolMapper()
        self._gate = _TradeIdGate()

    @property
    def duplicates(self) -> int:
        """How many replayed trades were dropped as already seen."""
        return self._gate.duplicates

    def __call__(self, message: Any, received_at: str) -> list[TradeEvent]:
        """Normalise one decoded frame; other message types give ``[]``."""
        if not isinstance(message, Mapping) or message.get("type") not in ("match", "last_match"):
            return []
        product = str(message["product_id"])
        trade_id = int(message["trade_id"])
        if not self._gate.admit(product, trade_id):
            return []
        return [coinbase_trade_event(message, received_at, self.symbols, self.exchange)]


class CoinbaseAdvancedTradesNormaliser:
    """Coinbase Advanced Trade ``market_trades`` channel (``snapshot`` and ``update`` events)."""

    def __init__(self, symbols: SymbolMapper | None = None, exchange: str = EXCHANGE) -> None:
        self.exchange = exchange
        self.symbols = symbols or SymbolMapper()
        self._gate = _TradeIdGate()

    @property
    def duplicates(self) -> int:
        """How many replayed trades were dropped as already seen."""
        return self._gate.duplicates

    def __call__(self, message: Any, received_at: str) -> list[TradeEvent]:
        """Normalise one decoded frame; other channels give ``[]``."""
        if not isinstance(message, Mapping) or message.get("channel") != "market_trades":
            return []
        out: list[TradeEvent] = []
        for event in message.get("events") or ():
            trades = sorted(event.get("trades") or (), key=lambda t: int(t["trade_id"]))
            for trade in trades:
                product = str(trade["product_id"])
                trade_id = int(trade["trade_id"])
                if not self._gate.admit(product, trade_id):
                    continue
                out.append(coinbase_trade_event(trade, received_at, self.symbols, self.exchange))
        return out
