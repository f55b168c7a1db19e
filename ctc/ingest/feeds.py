"""Feed definitions: where to connect, what to subscribe, which normaliser reads the frames."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ctc.ingest.backfill import HistorySource
from ctc.ingest.normalise_binance import BinanceNormaliser
from ctc.ingest.normalise_coinbase import (
    CoinbaseAdvancedTradesNormaliser,
    CoinbaseMatchesNormaliser,
)
from ctc.ingest.symbols import SymbolMapper
from ctc.ingest.trade_event import TradeEvent

BINANCE_SPOT_URL: Final = "wss://stream.binance.com:9443/stream"
BINANCE_FUTURES_URL: Final = "wss://fstream.binance.com/stream"
BINANCE_US_URL: Final = "wss://stream.binance.us:9443/stream"
COINBASE_EXCHANGE_URL: Final = "wss://ws-feed.exchange.coinbase.com"
COINBASE_ADVANCED_URL: Final = "wss://advanced-trade-ws.coinbase.com"

#: Connector names accepted by ``ctc ingest --exchanges``.
CONNECTORS: Final = ("binance", "binance-futures", "binanceus", "coinbase", "coinbase-advanced")

Normaliser = Callable[[Any, str], list[TradeEvent]]


@dataclass
class FeedSpec:
    """One websocket connection: URL, subscribe frames and the normaliser for its messages.

    ``end_of_stream_reason``: a close reason that means "no more data" (replay only); any other
    close triggers a reconnect. ``history``: the REST trade history that fills sequence gaps
    (None: gaps are still found and recorded, not filled).
    """

    name: str
    url: str
    subscribe_messages: list[dict[str, Any]]
    normaliser: Normaliser
    end_of_stream_reason: str | None = None
    markets: list[str] = field(default_factory=list)
    history: HistorySource | None = None

    @property
    def exchange(self) -> str:
        """The ``exchange`` of this feed's events (both Coinbase feeds say ``coinbase``)."""
        return str(getattr(self.normaliser, "exchange", self.name))

    @property
    def duplicates(self) -> int:
        """Replayed trades the normaliser dropped as already seen (0 if it does not dedupe)."""
        return int(getattr(self.normaliser, "duplicates", 0))


def binance_feed(
    streams: Iterable[tuple[str, str]],
    *,
    exchange: str = "binance",
    url: str | None = None,
    symbols: SymbolMapper | None = None,
) -> FeedSpec:
    """A Binance combined-stream feed for ``(market, kind)`` pairs, kind ``trade``/``aggTrade``."""
    pairs = list(dict.fromkeys((m.upper(), k) for m, k in streams))
    for _, kind in pairs:
        if kind not in ("trade", "aggTrade"):
            raise ValueError(f"Binance stream kind must be trade or aggTrade, got {kind!r}")
    default_url = {"binance-futures": BINANCE_FUTURES_URL, "binanceus": BINANCE_US_URL}.get(
        exchange, BINANCE_SPOT_URL
    )
    params = [f"{m.lower()}@{k}" for m, k in pairs]
    return FeedSpec(
        name=exchange,
        url=url or default_url,
        subscribe_messages=[{"method": "SUBSCRIBE", "params": params, "id": 1}],
        normaliser=BinanceNormaliser(exchange, symbols),
        markets=list(dict.fromkeys(m for m, _ in pairs)),
    )


def coinbase_matches_feed(
    products: Sequence[str], *, url: str | None = None, symbols: SymbolMapper | None = None
) -> FeedSpec:
    """A Coinbase Exchange feed on the ``matches`` channel (plus ``heartbeat`` to stay alive)."""
    ids = list(dict.fromkeys(p.upper() for p in products))
    return FeedSpec(
        name="coinbase",
        url=url or COINBASE_EXCHANGE_URL,
        subscribe_messages=[
            {"type": "subscribe", "product_ids": ids, "channels": ["matches", "heartbeat"]}
        ],
        normaliser=CoinbaseMatchesNormaliser(symbols),
        markets=ids,
    )


def coinbase_advanced_feed(
    products: Sequence[str], *, url: str | None = None, symbols: SymbolMapper | None = None
) -> FeedSpec:
    """A Coinbase Advanced Trade feed on ``market_trades`` (plus ``heartbeats``)."""
    ids = list(dict.fromkeys(p.upper() for p in products))
    return FeedSpec(
        name="coinbase-advanced",
        url=url or COINBASE_ADVANCED_URL,
        subscribe_messages=[
            {"type": "subscribe", "product_ids": ids, "channel": "market_trades"},
            {"type": "subscribe", "product_ids": ids, "channel": "heartbeats"},
        ],
        normaliser=CoinbaseAdvancedTradesNormaliser(symbols),
        markets=ids,
    )


def build_feed(
    connector: str,
    wanted: Sequence[str],
    *,
    url: str | None = None,
    symbols: SymbolMapper | None = None,
    binance_kind: str = "trade",
) -> FeedSpec:
    """The feed for one ``--exchanges`` entry and the ``--symbols`` list (btc, ETH-USDT…)."""
    mapper = symbols or SymbolMapper()
    if connector in ("binance", "binance-futures", "binanceus"):
        markets = [mapper.market_for(connector, w) for w in wanted]
        return binance_feed(
            [(m, binance_kind) for m in markets], exchange=connector, url=url, symbols=mapper
        )
    if connector == "coinbase":
        return coinbase_matches_feed(
            [mapper.market_for("coinbase", w) for w in wanted], url=url, symbols=mapper
        )
    if connector == "coinbase-advanced":
        return coinbase_advanced_feed(
            [mapper.market_for("coinbase", w) for w in wanted], url=url, symbols=mapper
        )
    raise ValueError(f"unknown connector {connector!r}; choose from {', '.join(CONNECTORS)}")
