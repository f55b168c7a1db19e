"""Normalise Binance ``@trade`` / ``@aggTrade`` messages (spot and USD-M futures).

``m`` is "buyer is maker": true means the buyer rested on the book, so the taker SOLD.
Futures messages carry ``X`` (order type) and lack ``M``; they are handled the same way, and
their events say ``instrument: perpetual`` (from the exchange name, ``binance-futures``).
Event ids: ``binance:BTCUSDT:3735683259`` for trades, ``binance:BTCUSDT:a665076760``
for aggregate trades (the ``a`` prefix keeps the two id spaces apart).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctc.ingest.instruments import instrument_for
from ctc.ingest.symbols import SymbolMapper
from ctc.ingest.timestamps import iso_from_epoch_ms
from ctc.ingest.trade_event import TradeEvent, make_trade_event


def taker_side_from_buyer_maker(buyer_is_maker: bool) -> str:
    """Binance ``m`` → taker side: buyer maker means the taker sold."""
    return "sell" if buyer_is_maker else "buy"


class BinanceNormaliser:
    """Turns one decoded Binance frame (combined-stream envelope or bare payload) into events."""

    def __init__(self, exchange: str = "binance", symbols: SymbolMapper | None = None) -> None:
        self.exchange = exchange
        self.instrument = instrument_for(exchange)
        self.symbols = symbols or SymbolMapper()

    def __call__(self, message: Any, received_at: str) -> list[TradeEvent]:
        """Normalise a frame; non-trade frames (depth, bookTicker, acks) give ``[]``."""
        if not isinstance(message, Mapping):
            return []
        data = message.get("data", message) if "stream" in message else message
        if not isinstance(data, Mapping):
            return []
        kind = data.get("e")
        if kind == "trade":
            return [self._event(data, f"{data['t']}", received_at)]
        if kind == "aggTrade":
            return [self._event(data, f"a{data['a']}", received_at)]
        return []

    def from_rest_agg_trade(
        self, market: str, row: Mapping[str, Any], received_at: str
    ) -> TradeEvent:
        """Normalise one REST ``/api/v3/aggTrades`` row (same letters, no ``s``/``e``)."""
        return self._event({**row, "s": market}, f"a{row['a']}", received_at)

    def from_rest_trade(self, market: str, row: Mapping[str, Any], received_at: str) -> TradeEvent:
        """Normalise one REST ``historicalTrades`` row (``id``, ``price``, ``qty``, ``time``,
        ``isBuyerMaker``) with the stream's own event id (``t`` is ``id``)."""
        data = {
            "s": market,
            "p": row["price"],
            "q": row["qty"],
            "T": row["time"],
            "m": row["isBuyerMaker"],
        }
        return self._event(data, f"{row['id']}", received_at)

    def _event(self, data: Mapping[str, Any], trade_id: str, received_at: str) -> TradeEvent:
        market = str(data["s"]).upper()
        return make_trade_event(
            exchange=self.exchange,
            market=market,
            symbol=self.symbols.canonical(self.exchange, market),
            instrument=self.instrument,
            trade_id=trade_id,
            price=str(data["p"]),
            quantity=str(data["q"]),
            side=taker_side_from_buyer_maker(bool(data["m"])),
            timestamp=iso_from_epoch_ms(int(data["T"])),
            ingestion_timestamp=received_at,
        )
