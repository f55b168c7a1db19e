"""Fetch missing trades from an exchange's REST history, as events with the stream's own ids.

* Binance spot ``GET /api/v3/historicalTrades?symbol=&fromId=&limit=`` (USD-M:
  ``/fapi/v1/historicalTrades``) for ``@trade`` ids; ``/api/v3/aggTrades?fromId=`` (USD-M:
  ``/fapi/v1/aggTrades``) for ``@aggTrade`` ids. Rows come oldest first from ``fromId``.
* Coinbase ``GET /products/{id}/trades?after=N&limit=`` gives the trades with ids below N,
  newest first (``after`` walks back); ``before=N`` the page just above N.

The events carry the same ``event_id`` as the stream's (``binance:BTCUSDT:<t>``,
``binance:BTCUSDT:a<a>``, ``coinbase:BTC-USD:<trade_id>``), so landing a trade twice is
harmless: the quality gate keeps the first. Requests run in a worker thread (urllib).
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from ctc.ingest.history_client import fetch_json
from ctc.ingest.normalise_binance import BinanceNormaliser
from ctc.ingest.normalise_coinbase import coinbase_trade_event
from ctc.ingest.symbols import SymbolMapper
from ctc.ingest.timestamps import utc_now_iso
from ctc.ingest.trade_event import TradeEvent

HistoryKind = Literal["binance-spot", "binance-usdm", "coinbase"]

#: Public REST base URL per connector name.
REST_BASE_URLS: Final[Mapping[str, str]] = {
    "binance": "https://api.binance.com",
    "binance-futures": "https://fapi.binance.com",
    "binanceus": "https://api.binance.us",
    "coinbase": "https://api.exchange.coinbase.com",
    "coinbase-advanced": "https://api.exchange.coinbase.com",
}

#: The largest page each history endpoint returns.
PAGE: Final = 1000

#: At most this many pages are fetched for one gap or one catch-up (1,000 trades each).
MAX_PAGES: Final = 50

_BINANCE_PATHS: Final = {
    ("binance-spot", "t"): "/api/v3/historicalTrades",
    ("binance-spot", "a"): "/api/v3/aggTrades",
    ("binance-usdm", "t"): "/fapi/v1/historicalTrades",
    ("binance-usdm", "a"): "/fapi/v1/aggTrades",
}


class HistoryUnavailable(RuntimeError):
    """The history endpoint could not be asked or gave an answer that is not trades."""


@dataclass(frozen=True)
class HistorySource:
    """Where a feed's REST trade history lives: ``kind`` of API and its base URL."""

    kind: HistoryKind
    base_url: str
    exchange: str
    symbols: SymbolMapper

    @classmethod
    def for_connector(
        cls, connector: str, base_url: str | None = None, symbols: SymbolMapper | None = None
    ) -> HistorySource:
        """The history of a connector (``binance``, ``binance-futures``, ``coinbase`` …)."""
        kind: HistoryKind = (
            "binance-usdm"
            if connector == "binance-futures"
            else "coinbase"
            if connector.startswith("coinbase")
            else "binance-spot"
        )
        exchange = "coinbase" if kind == "coinbase" else connector
        url = base_url or REST_BASE_URLS[connector]
        return cls(kind, url.rstrip("/"), exchange, symbols or SymbolMapper())


def _get(url: str) -> Any:
    try:
        return fetch_json(url, attempts=3, timeout=10.0)
    except RuntimeError as exc:
        raise HistoryUnavailable(str(exc)) from exc


def _binance_rows(
    source: HistorySource, market: str, id_kind: str, from_id: int, limit: int
) -> list[dict[str, Any]]:
    path = _BINANCE_PATHS[(source.kind, id_kind)]
    query = urllib.parse.urlencode({"symbol": market, "fromId": from_id, "limit": limit})
    page = _get(f"{source.base_url}{path}?{query}")
    if not isinstance(page, list):
        raise HistoryUnavailable(f"{path} answered {str(page)[:200]}")
    return page


def _binance_event(
    source: HistorySource, market: str, id_kind: str, row: Mapping[str, Any], at: str
) -> tuple[int, TradeEvent]:
    normaliser = BinanceNormaliser(source.exchange, source.symbols)
    if id_kind == "a":
        return int(row["a"]), normaliser.from_rest_agg_trade(market, row, at)
    return int(row["id"]), normaliser.from_rest_trade(market, row, at)


def _coinbase_page(source: HistorySource, market: str, cursor: str, value: int) -> list[Any]:
    query = urllib.parse.urlencode({cursor: value, "limit": PAGE})
    path = f"/products/{urllib.parse.quote(market)}/trades"
    page = _get(f"{source.base_url}{path}?{query}")
    if not isinstance(page, list):
        raise HistoryUnavailable(f"{path} answered {str(page)[:200]}")
    return page


def fetch_range(
    source: HistorySource, market: str, id_kind: str, first: int, last: int
) -> list[TradeEvent]:
    """The trades with ids ``first..last`` (inclusive) that the history returns, in id order.

    Raises :class:`HistoryUnavailable` when it cannot be asked."""
    at = utc_now_iso()
    found: dict[int, TradeEvent] = {}
    if source.kind == "coinbase":
        after = last + 1
        for _ in range(MAX_PAGES):
            page = _coinbase_page(source, market, "after", after)
            ids = [int(r["trade_id"]) for r in page]
            for row, trade_id in zip(page, ids, strict=True):
                if first <= trade_id <= last:
                    found[trade_id] = coinbase_trade_event(
                        row, at, source.symbols, source.exchange, product=market
                    )
            if not ids or min(ids) <= first or min(ids) >= after:
                break
            after = min(ids)
    else:
        from_id = first
        for _ in range(MAX_PAGES):
            page = _binance_rows(source, market, id_kind, from_id, min(PAGE, last - from_id + 1))
            rows = [_binance_event(source, market, id_kind, r, at) for r in page]
            for trade_id, event in rows:
                if first <= trade_id <= last:
                    found[trade_id] = event
            if not rows or rows[-1][0] >= last or rows[-1][0] < from_id:
                break
            from_id = rows[-1][0] + 1
    return [found[k] for k in sorted(found)]


def fetch_after(source: HistorySource, market: str, id_kind: str, last: int) -> list[TradeEvent]:
    """The trades after id ``last`` that the history has now (at most ``MAX_PAGES`` pages),
    in id order: what a connection missed between its last trade and a reconnect."""
    at = utc_now_iso()
    found: dict[int, TradeEvent] = {}
    cursor = last
    for _ in range(MAX_PAGES):
        if source.kind == "coinbase":
            page = _coinbase_page(source, market, "before", cursor)
            rows = [
                (
                    int(r["trade_id"]),
                    coinbase_trade_event(r, at, source.symbols, source.exchange, product=market),
                )
                for r in page
            ]
        else:
            page = _binance_rows(source, market, id_kind, cursor + 1, PAGE)
            rows = [_binance_event(source, market, id_kind, r, at) for r in page]
        newer = [(i, e) for i, e in rows if i > cursor]
        found.update(newer)
        if len(page) < PAGE or not newer:
            break
        cursor = max(i for i, _ in newer)
    return [found[k] for k in sorted(found)]


async def fetch_range_async(
    source: HistorySource, market: str, id_kind: str, first: int, last: int
) -> list[TradeEvent]:
    """:func:`fetch_range` in a worker thread."""
    return await asyncio.to_thread(fetch_range, source, market, id_kind, first, last)


async def fetch_after_async(
    source: HistorySource, market: str, id_kind: str, last: int
) -> list[TradeEvent]:
    """:func:`fetch_after` in a worker thread."""
    return await asyncio.to_thread(fetch_after, source, market, id_kind, last)
