"""Binance REST ``GET /api/v3/aggTrades`` paging (urllib, stdlib only).

Binance allows at most one hour between ``startTime`` and ``endTime``, so the range is walked
in ≤1 h windows; a full page (``limit`` rows) continues inside the window with
``fromId = last a + 1`` (time parameters omitted, rows past the window end discarded), a
short page closes the window and the next starts at ``window end + 1 ms``. The range is
half-open: trades with ``from <= T < to``.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, Final

log = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://api.binance.com"
WINDOW_MS: Final = 3_600_000
MAX_LIMIT: Final = 1000


@dataclass
class AggTradeCursor:
    """Where paging resumes: window start, optional ``fromId`` inside it, last id emitted."""

    next_start_ms: int
    from_id: int | None = None
    last_id: int | None = None
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AggTradeCursor:
        """Inverse of :meth:`to_dict`."""
        return cls(
            next_start_ms=int(data["next_start_ms"]),
            from_id=None if data.get("from_id") is None else int(data["from_id"]),
            last_id=None if data.get("last_id") is None else int(data["last_id"]),
            done=bool(data.get("done", False)),
        )


def fetch_json(url: str, *, timeout: float = 30.0, attempts: int = 5) -> Any:
    """GET ``url`` and decode JSON; retries 429/418/5xx and network errors with backoff."""
    delay = 0.5
    for attempt in range(1, attempts + 1):
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "ctc-ingest"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            retryable = exc.code in (418, 429) or exc.code >= 500
            if not retryable or attempt == attempts:
                body = exc.read().decode("utf-8", "replace")[:300]
                raise RuntimeError(f"GET {url} failed: HTTP {exc.code} {body}") from exc
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
            wait = float(retry_after) if retry_after and retry_after.isdigit() else delay
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if attempt == attempts:
                raise RuntimeError(f"GET {url} failed: {exc}") from exc
            wait = delay
        log.warning("GET %s failed (attempt %d); retrying in %.1fs", url, attempt, wait)
        time.sleep(wait)
        delay = min(delay * 2, 30.0)
    raise AssertionError("unreachable")


def iter_agg_trade_pages(
    symbol: str,
    end_ms: int,
    cursor: AggTradeCursor,
    *,
    base_url: str = DEFAULT_BASE_URL,
    limit: int = MAX_LIMIT,
    path: str = "/api/v3/aggTrades",
) -> Iterator[tuple[list[dict[str, Any]], AggTradeCursor]]:
    """Yield ``(rows, cursor after these rows)`` until ``end_ms``; rows are in id order.

    ``path``: ``/api/v3/aggTrades`` (spot) or ``/fapi/v1/aggTrades`` (USD-M futures)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1..{MAX_LIMIT}")
    state = AggTradeCursor(**cursor.to_dict())
    endpoint = base_url.rstrip("/") + path
    while not state.done and state.next_start_ms < end_ms:
        window_end = min(state.next_start_ms + WINDOW_MS, end_ms) - 1  # inclusive
        params: dict[str, Any] = {"symbol": symbol.upper(), "limit": limit}
        if state.from_id is None:
            params.update(startTime=state.next_start_ms, endTime=window_end)
        else:
            params["fromId"] = state.from_id
        page = fetch_json(f"{endpoint}?{urllib.parse.urlencode(params)}")
        if not isinstance(page, list):
            raise RuntimeError(f"unexpected aggTrades response: {str(page)[:200]}")
        rows = [
            r
            for r in page
            if int(r["T"]) <= window_end and (state.last_id is None or int(r["a"]) > state.last_id)
        ]
        past_window = any(int(r["T"]) > window_end for r in page)
        if rows:
            state.last_id = int(rows[-1]["a"])
        if len(page) >= limit and not past_window:
            state.from_id = int(page[-1]["a"]) + 1
        else:
            state.from_id = None
            state.next_start_ms = window_end + 1
        if state.next_start_ms >= end_ms and state.from_id is None:
            state.done = True
        yield rows, AggTradeCursor(**state.to_dict())
