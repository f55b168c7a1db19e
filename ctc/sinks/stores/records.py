"""Normalising the records the hot stores keep: alerts, market rows, timestamps.

Both stores call these before writing, so a record reads back the same from either:
``detected_at`` becomes the canonical ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (fixed width, so
text order is time order), ``details`` a JSON string and ``ttl_epoch`` an int.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ctc.events import ALERT_TTL_SECONDS, STORED_ALERT_FIELDS

#: The alert columns: the base alert record, then its provenance (ctc.events).
ALERT_COLUMNS: tuple[str, ...] = tuple(STORED_ALERT_FIELDS)

#: The named fields of a market row (others are kept as extras).
MARKET_COLUMNS: tuple[str, ...] = ("symbol", "exchange", "price", "volume_1h", "updated_at")


def iso_utc(value: str | datetime) -> str:
    """The canonical UTC text of a timestamp: ``2026-01-01T00:00:01.000000Z``.

    Accepts an aware or naive (taken as UTC) datetime or any ISO 8601 string that
    ``datetime.fromisoformat`` reads (``Z`` included); raises ValueError otherwise.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from exc
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _epoch_of(detected_at: str) -> int:
    return int(
        datetime.strptime(detected_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
    )


def normalise_alert(alert: Mapping[str, Any]) -> dict[str, Any]:
    """The alert as the stores keep it: every base and provenance field (None when
    absent), canonical ``detected_at``, ``details`` as a JSON string, ``ttl_epoch`` as an
    int (detected_at + 24 h when absent). Other keys are dropped. Raises ValueError when
    ``alert_id`` or ``detected_at`` is missing.
    """
    alert_id = alert.get("alert_id")
    if not isinstance(alert_id, str) or not alert_id:
        raise ValueError(f"alert without a string alert_id: {dict(alert)!r}")
    if alert.get("detected_at") is None:
        raise ValueError(f"alert {alert_id} has no detected_at")
    record = {name: alert.get(name) for name in ALERT_COLUMNS}
    detected_at = iso_utc(alert["detected_at"])
    record["detected_at"] = detected_at
    details = record["details"]
    if details is not None and not isinstance(details, str):
        record["details"] = json.dumps(details, default=str, ensure_ascii=False)
    ttl = record["ttl_epoch"]
    record["ttl_epoch"] = _epoch_of(detected_at) + ALERT_TTL_SECONDS if ttl is None else int(ttl)
    return record


def normalise_market(row: Mapping[str, Any]) -> dict[str, Any]:
    """A market row with ``symbol`` and ``exchange`` required, ``updated_at`` canonical and
    non-finite numbers turned into None; other keys are kept as they are."""
    symbol, exchange = row.get("symbol"), row.get("exchange")
    if not isinstance(symbol, str) or not symbol or not isinstance(exchange, str) or not exchange:
        raise ValueError(f"market row without symbol and exchange: {dict(row)!r}")
    out = dict(row)
    if out.get("updated_at") is not None:
        out["updated_at"] = iso_utc(out["updated_at"])
    for key, value in out.items():
        if isinstance(value, float) and not math.isfinite(value):
            out[key] = None
    for name in MARKET_COLUMNS:
        out.setdefault(name, None)
    return out


#: The named fields of a chart-series row (others, numbers, are kept as extras).
WINDOW_COLUMNS: tuple[str, ...] = ("symbol", "exchange", "window_start", "value")

#: Seconds a series row stays in the hot store after ``window_start`` (like alerts).
WINDOW_TTL_SECONDS = ALERT_TTL_SECONDS


def check_kind(kind: str) -> str:
    """``kind`` if it is a non-empty string without ``#``; ValueError otherwise."""
    if not isinstance(kind, str) or not kind or "#" in kind:
        raise ValueError(f"series kind must be a non-empty string without '#', got {kind!r}")
    return kind


def _finite_or_none(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"series field {name} must be a number, got {value!r}")
    number = float(value)
    return number if math.isfinite(number) else None


def _extra_value(value: Any, name: str) -> float | str | None:
    if isinstance(value, str):
        return value
    return _finite_or_none(value, name)


def normalise_window(row: Mapping[str, Any]) -> dict[str, Any]:
    """A chart-series row as the stores keep it.

    Required: ``symbol`` (non-empty str), ``window_start`` (any ISO 8601 form or a
    datetime; becomes the canonical UTC text) and ``value`` (a number). ``exchange`` is
    a str or None (cross-exchange series: None, keyed as ``""``). Every other key is an
    extra: a number (kept as a float; non-finite ones, ``value`` included, become None),
    a string (kept) or None; ``kind`` and ``ttl_epoch`` keys are not extras.
    Also adds ``ttl_epoch`` (window_start + 24 h) unless given.
    """
    symbol = row.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise ValueError(f"series row without a symbol: {dict(row)!r}")
    exchange = row.get("exchange")
    if exchange == "":
        exchange = None
    if exchange is not None and not isinstance(exchange, str):
        raise ValueError(f"series row exchange must be a string or None: {dict(row)!r}")
    if row.get("window_start") is None:
        raise ValueError(f"series row without window_start: {dict(row)!r}")
    if "value" not in row:
        raise ValueError(f"series row without value: {dict(row)!r}")
    window_start = iso_utc(row["window_start"])
    out: dict[str, Any] = {
        "symbol": symbol,
        "exchange": exchange,
        "window_start": window_start,
        "value": _finite_or_none(row["value"], "value"),
    }
    for key, value in row.items():
        if key in out or key in ("ttl_epoch", "kind"):
            continue
        out[str(key)] = _extra_value(value, str(key))
    ttl = row.get("ttl_epoch")
    out["ttl_epoch"] = _epoch_of(window_start) + WINDOW_TTL_SECONDS if ttl is None else int(ttl)
    return out


def check_limit(limit: int) -> int:
    """``limit`` if it is a positive int; ValueError otherwise."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    return limit
