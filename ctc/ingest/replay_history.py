"""The REST trade history of a recording, answered the way the exchanges answer it.

The replay server serves these next to its websocket, from the same recording, so that a
replayed connection that loses trades can backfill them as a live one would:

* ``GET /api/v3/historicalTrades`` and ``/fapi/v1/historicalTrades`` (``symbol``,
  ``fromId``, ``limit``): Binance trades from ``fromId`` up, oldest first (no ``fromId``:
  the latest ``limit``);
* ``GET /api/v3/aggTrades`` and ``/fapi/v1/aggTrades`` with ``fromId``: aggregate trades;
* ``GET /products/{id}/trades`` (``after``, ``before``, ``limit``): Coinbase trades newest
  first, ``after=N`` the ones below N, ``before=N`` the page just above N.

Only trades the replay has already passed are served (the exchange's "now" is the replay
position); an endpoint of the other exchange, or of the other Binance market (``/fapi``
for a spot recording), answers 404.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

from ctc.ingest.recordings import Recording

MAX_LIMIT: Final = 1000
_DEFAULT_LIMIT: Final = 500


@dataclass
class _Series:
    """One market's trades in id order: ids, the frame index of each, and the REST rows."""

    ids: list[int] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, trade_id: int, position: int, row: dict[str, Any]) -> None:
        if self.ids and trade_id <= self.ids[-1]:
            return  # a repeat (Coinbase last_match, snapshot overlap)
        self.ids.append(trade_id)
        self.positions.append(position)
        self.rows.append(row)

    def upto(self, position: int) -> int:
        """How many of the trades were sent before frame ``position``."""
        return bisect.bisect_left(self.positions, position)


def _binance_trade_row(data: Mapping[str, Any]) -> dict[str, Any]:
    row = {
        "id": int(data["t"]),
        "price": data["p"],
        "qty": data["q"],
        "quoteQty": str(Decimal(str(data["p"])) * Decimal(str(data["q"]))),
        "time": int(data["T"]),
        "isBuyerMaker": bool(data["m"]),
    }
    if "M" in data:
        row["isBestMatch"] = bool(data["M"])
    return row


def _binance_agg_row(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("e", "E", "s")}


def _coinbase_row(trade: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "time": trade["time"],
        "trade_id": int(trade["trade_id"]),
        "price": trade["price"],
        "size": trade["size"],
        "side": str(trade["side"]).lower(),
    }


class ReplayHistory:
    """The trades of a recording, indexed for the REST history endpoints."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self._series: dict[tuple[str, str], _Series] = {}
        for position, frame in enumerate(recording.frames):
            if recording.protocol == "binance":
                kind = frame.channel.partition("@")[2]
                if kind not in ("trade", "aggTrade"):
                    continue
                data = json.loads(frame.text)["data"]
                if kind == "trade":
                    self._add(
                        str(data["s"]), "t", int(data["t"]), position, _binance_trade_row(data)
                    )
                else:
                    self._add(str(data["s"]), "a", int(data["a"]), position, _binance_agg_row(data))
            elif frame.channel == "matches" and frame.product:
                msg = json.loads(frame.text)
                self._add(frame.product, "t", int(msg["trade_id"]), position, _coinbase_row(msg))
            elif frame.channel == "market_trades":
                for event in json.loads(frame.text).get("events", ()):
                    for trade in sorted(event.get("trades", ()), key=lambda t: int(t["trade_id"])):
                        self._add(
                            str(trade["product_id"]),
                            "t",
                            int(trade["trade_id"]),
                            position,
                            _coinbase_row(trade),
                        )

    def _add(self, market: str, kind: str, trade_id: int, pos: int, row: dict[str, Any]) -> None:
        self._series.setdefault((market.upper(), kind), _Series()).add(trade_id, pos, row)

    def answer(self, target: str, position: int) -> tuple[int, Any]:
        """``(HTTP status, JSON body)`` for a request target, with trades up to frame
        ``position`` (the replay's "now")."""
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path.rstrip("/")
        try:
            limit = min(int(query.get("limit", _DEFAULT_LIMIT)), MAX_LIMIT)
            if self.recording.protocol == "binance":
                return self._binance(path, query, limit, position)
            if path.startswith("/products/") and path.endswith("/trades"):
                product = unquote(path.removeprefix("/products/").removesuffix("/trades"))
                return self._coinbase(product, query, limit, position)
        except (ValueError, KeyError) as exc:
            return 400, {"code": -1100, "msg": f"bad parameter: {exc}"}
        return 404, {"message": f"no such endpoint {parts.path}"}

    def _binance(
        self, path: str, query: Mapping[str, str], limit: int, position: int
    ) -> tuple[int, Any]:
        prefix = "/fapi/v1/" if self.recording.instrument == "perpetual" else "/api/v3/"
        if path not in (prefix + "historicalTrades", prefix + "aggTrades"):
            return 404, {"code": -1, "msg": f"no such endpoint {path}"}
        kind = "t" if path.endswith("historicalTrades") else "a"
        series = self._series.get((query["symbol"].upper(), kind), _Series())
        end = series.upto(position)
        if "fromId" in query:
            start = bisect.bisect_left(series.ids, int(query["fromId"]), 0, end)
        else:
            start = max(0, end - limit)
        return 200, series.rows[start : min(end, start + limit)]

    def _coinbase(
        self, product: str, query: Mapping[str, str], limit: int, position: int
    ) -> tuple[int, Any]:
        series = self._series.get((product.upper(), "t"))
        if series is None:
            return 404, {"message": "NotFound"}
        end = series.upto(position)
        if "before" in query:  # the page just above N
            start = bisect.bisect_right(series.ids, int(query["before"]), 0, end)
            stop = min(end, start + limit)
        else:
            stop = (
                bisect.bisect_left(series.ids, int(query["after"]), 0, end)
                if ("after" in query)
                else end
            )
            start = max(0, stop - limit)
        return 200, list(reversed(series.rows[start:stop]))
