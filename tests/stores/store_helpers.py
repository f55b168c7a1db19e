"""Helpers for the store tests: alert records and paging through a query."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ctc.sinks.stores.base import AlertStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """The canonical store text of a UTC datetime."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_alert(
    n: int,
    *,
    alert_type: str = "volume_spike",
    symbol: str = "BTC-USDT",
    seconds: float | None = None,
    alert_id: str | None = None,
    ttl_epoch: int | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    """A stored alert record number ``n`` (detected n seconds after T0 unless
    ``seconds``): the base record and its provenance."""
    at = T0 + timedelta(seconds=n if seconds is None else seconds)
    return {
        "alert_id": alert_id or f"a{n:06d}",
        "alert_type": alert_type,
        "module_id": "MOD-001",
        "symbol": symbol,
        "exchange": "binance",
        "severity": "medium",
        "detected_at": iso(at),
        "message": message or f"alert {n}",
        "ttl_epoch": int(at.timestamp()) + 86_400 if ttl_epoch is None else ttl_epoch,
        "details": json.dumps({"z_score": 2.5 + n / 1000, "n": n}),
        "spec_version": f"{n:016x}",
        "ctc_version": "0.1.0",
    }


def order_key(alert: dict[str, Any]) -> tuple[str, str]:
    """The store order, to sort expected lists with ``reverse=True``."""
    return (alert["detected_at"], alert["alert_id"])


def all_pages(store: AlertStore, limit: int, **filters: Any) -> list[list[dict[str, Any]]]:
    """Every page of a query, following cursors until next_cursor is None."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        page = store.query_alerts(limit=limit, cursor=cursor, **filters)
        pages.append(page.items)
        if page.next_cursor is None:
            return pages
        assert page.items, "a page with a next cursor must not be empty"
        cursor = page.next_cursor
        assert len(pages) < 10_000
