"""The read API over a hot store: pure functions, shared by the Lambda entry point and the
local HTTP server (docs/api.md).

``handle(method, path, query, store)`` returns ``(status, headers, body)`` where ``body``
is a JSON-able value (already cleaned of NaN and infinities). The handler is total: every
input gives a 2xx or 4xx answer; a bad parameter is a 400 naming it, an unknown path or
symbol a 404, a wrong method a 405. Only a store that cannot be reached answers 503
(never 500).

Routes are served both under ``/api`` and at the bare paths of MODULES.md
(``/api/alerts`` and ``/alerts`` are the same); the dashboard uses ``/api``.

The handler knows no detector: the alert types and their labels, the chart series and
the exchanges come from the detector catalog that ``ctc run`` publishes to the store when
it starts (``AlertStore.get_detector_catalog``, written by ctc.runtime.publish), so the
Lambda, which has no specs, answers like ``ctc serve``.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ctc.events import METRICS_FIELDS
from ctc.labels import label_of
from ctc.sinks.stores.base import AlertStore
from ctc.sinks.stores.cursor import decode_cursor

Headers = dict[str, str]
Response = tuple[int, Headers, Any]

#: The runtime's application name in the status table.
DEFAULT_APP = "ctc"
#: /alerts page size: default and maximum.
ALERTS_DEFAULT_LIMIT, ALERTS_MAX_LIMIT = 50, 200
#: /series rows: default and maximum.
SERIES_DEFAULT_LIMIT, SERIES_MAX_LIMIT = 240, 2000
#: A runtime status older than this is reported as "stale".
STALE_AFTER_SECONDS = 120.0
#: /metrics counts at most this many alerts of the last 24 h (then says it is capped).
ANOMALY_COUNT_CAP = 50_000

SYMBOL_RE = re.compile(r"^[A-Z0-9]{1,20}-[A-Z0-9]{1,20}$")
TYPE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
#: A series name (a spec's ``publish.series`` key).
SERIES_RE = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
#: Largest cursor we read (an honest one is < 200 characters).
MAX_CURSOR_LEN = 1024
_ALLOWED = "GET, HEAD, OPTIONS"
_ALERT_PARAMS = frozenset({"type", "symbol", "since", "limit", "cursor"})
_SERIES_PARAMS = frozenset({"since", "limit"})

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")

#: Headers of every API answer (CORS: the data is public and read-only).
BASE_HEADERS: Headers = {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": _ALLOWED,
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
}


class BadParameter(ValueError):
    """A query or path parameter that cannot be used: answered with 400."""

    def __init__(self, parameter: str, message: str) -> None:
        """``parameter``: its name; ``message``: what is wrong, for a person."""
        super().__init__(message)
        self.parameter = parameter
        self.message = message


# -- helpers ------------------------------------------------------------------------------


def _answer(status: int, body: Any, extra: Mapping[str, str] | None = None) -> Response:
    """An answer whose body may still hold non-finite floats (``handle`` and
    ``handle_json`` make it strict)."""
    headers = dict(BASE_HEADERS)
    if extra:
        headers.update(extra)
    return status, headers, body


def _strict(body: Any) -> Any:
    """``body`` itself when it is strict JSON already (checked by the C encoder, far
    cheaper than a walk in Python), else its clean_json copy."""
    try:
        json.dumps(body, allow_nan=False)
    except ValueError:
        return clean_json(body)
    return body


def encode(body: Any) -> bytes:
    """The strict JSON text of a body that may hold non-finite floats (they become null),
    encoded once when it has none (b"" for None)."""
    if body is None:
        return b""
    try:
        return dumps(body)
    except ValueError:
        return dumps(clean_json(body))


def _error(status: int, message: str, parameter: str | None = None, **extra: str) -> Response:
    body: dict[str, Any] = {"error": message, "status": status}
    if parameter is not None:
        body["parameter"] = parameter
    return _answer(status, body, extra or None)


def clean_json(value: Any) -> Any:
    """``value`` with non-finite floats replaced by None, recursively (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value


def dumps(body: Any) -> bytes:
    """The UTF-8 JSON text of a cleaned body (strict: no NaN)."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_time(name: str, text: str) -> str:
    """The canonical store text of an ISO 8601 timestamp parameter (naive = UTC; times
    before 1970 are read as 1970-01-01); BadParameter naming ``name`` otherwise."""
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise BadParameter(
            name, f"{name} must be an ISO 8601 timestamp, e.g. 2026-01-01T00:00:00Z"
        ) from exc
    return _iso(max(moment, _EPOCH))


def _parse_stored_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_limit(text: str | None, default: int, maximum: int) -> int:
    """``limit``: an integer 1..maximum (``default`` when absent)."""
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise BadParameter("limit", f"limit must be an integer from 1 to {maximum}")
    value = int(text)
    if not 1 <= value <= maximum:
        raise BadParameter("limit", f"limit must be an integer from 1 to {maximum}")
    return value


def parse_symbol(text: str, name: str = "symbol") -> str:
    """A trading pair like ``BTC-USDT`` (case-insensitive; returned upper case)."""
    symbol = text.upper()
    if not SYMBOL_RE.fullmatch(symbol):
        raise BadParameter(name, f"{name} must be a pair like BTC-USDT")
    return symbol


def _check_params(query: Mapping[str, str], allowed: frozenset[str]) -> None:
    for key in query:
        if key not in allowed:
            names = ", ".join(sorted(allowed)) or "none"
            shown = key[:50]
            raise BadParameter(shown, f"unknown parameter {shown!r} (allowed: {names})")


def _optional(query: Mapping[str, str], key: str) -> str | None:
    """The value of an optional parameter; an empty value is a 400 (leave it out instead)."""
    value = query.get(key)
    if value is not None and value.strip() == "":
        raise BadParameter(key, f"{key} is empty (leave it out for no {key})")
    return value


def details_object(details: Any) -> dict[str, Any]:
    """An alert's ``details`` (a JSON string in the store) as an object; text that is not a
    JSON object comes back as ``{"raw": text}``. Each text is parsed once per process
    (the last ``_KEPT_DETAILS`` of them): a poll reads the same newest alerts again."""
    if isinstance(details, dict):
        return details
    if details is None:
        return {}
    if isinstance(details, str):
        return dict(_parsed_details(details))  # a copy: the kept one is shared
    return {"raw": str(details)}


#: Parsed details texts kept per process (a few pages of every poller's alerts).
_KEPT_DETAILS = 4096


@lru_cache(maxsize=_KEPT_DETAILS)
def _parsed_details(text: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"raw": text}
    return parsed if isinstance(parsed, dict) else {"raw": text}


def alert_view(alert: Mapping[str, Any]) -> dict[str, Any]:
    """An alert as the API returns it: the base record with ``details`` as an object."""
    out = dict(alert)
    out["details"] = details_object(alert.get("details"))
    return out


# -- endpoints ------------------------------------------------------------------------------


def get_alerts(query: Mapping[str, str], store: AlertStore) -> Response:
    """``GET /alerts``: newest first, filtered by type, symbol and since; paged by cursor."""
    _check_params(query, _ALERT_PARAMS)
    alert_type = _optional(query, "type")
    if alert_type is not None and not TYPE_RE.fullmatch(alert_type):
        raise BadParameter("type", "type must be 1-64 letters, digits or _ . : -")
    symbol_text = _optional(query, "symbol")
    symbol = parse_symbol(symbol_text) if symbol_text is not None else None
    since_text = _optional(query, "since")
    since = parse_time("since", since_text) if since_text is not None else None
    limit = parse_limit(query.get("limit"), ALERTS_DEFAULT_LIMIT, ALERTS_MAX_LIMIT)
    cursor = _optional(query, "cursor")
    if cursor is not None:
        try:
            if len(cursor) > MAX_CURSOR_LEN:
                raise ValueError("too long")
            decode_cursor(cursor)
        except ValueError as exc:
            raise BadParameter("cursor", "cursor must be a next_cursor of a previous page") from exc
    page = store.query_alerts(
        alert_type=alert_type, symbol=symbol, since=since, limit=limit, cursor=cursor
    )
    alerts = [alert_view(a) for a in page.items]
    return _answer(
        200,
        {
            "alerts": alerts,
            "count": len(alerts),
            "has_more": page.next_cursor is not None,
            "next_cursor": page.next_cursor,
        },
    )


def _symbol_known(store: AlertStore, symbol: str) -> bool:
    if store.get_market(symbol):
        return True
    return bool(store.query_alerts(symbol=symbol, limit=1).items)


def _latest_time(rows: list[dict[str, Any]]) -> datetime | None:
    times = [t for t in (_parse_stored_time(r.get("updated_at")) for r in rows) if t]
    return max(times) if times else None


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def published(store: AlertStore, app: str) -> dict[str, Any]:
    """The detector catalog ``ctc run`` published for ``app`` (ctc.runtime.publish), or
    an empty one when no run has published one (a store older than the catalog)."""
    found = store.get_detector_catalog(app)
    return found if isinstance(found, dict) else {}


def _entries(catalog: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """The list ``key`` of a published catalog, without anything that is not an entry."""
    value = catalog.get(key)
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _names(catalog: Mapping[str, Any], key: str) -> list[str]:
    value = catalog.get(key)
    return [str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _series_entry(catalog: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    return next((s for s in _entries(catalog, "series") if s.get("name") == name), None)


def _series_metrics(catalog: Mapping[str, Any], symbol: str, store: AlertStore) -> dict[str, Any]:
    """The latest value of each published series that names a metric (e.g. MOD-003's
    ``spread_pct``), by metric name; None when the symbol has no window of it."""
    out: dict[str, Any] = {}
    for entry in _entries(catalog, "series"):
        metric, name = entry.get("metric"), entry.get("name")
        if not isinstance(metric, str) or not isinstance(name, str) or metric in METRICS_FIELDS:
            continue
        latest = store.get_windows(name, symbol, None, 1)
        out[metric] = _finite(latest[-1].get("value")) if latest else None
    return out


def get_metrics(
    symbol_text: str, query: Mapping[str, str], store: AlertStore, now: datetime, app: str
) -> Response:
    """``GET /metrics/{symbol}``: latest prices, 1 h volume, 24 h anomaly count, last whale,
    and the latest value of each published series that names a metric (the spread). 404
    when the store has neither market rows nor alerts of the symbol."""
    _check_params(query, frozenset())
    symbol = parse_symbol(symbol_text)
    market = store.get_market(symbol)
    if not market and not store.query_alerts(symbol=symbol, limit=1).items:
        return _error(404, f"unknown symbol {symbol}", "symbol")
    prices = {str(r["exchange"]): _finite(r.get("price")) for r in market}
    volumes = {str(r["exchange"]): _finite(r.get("volume_1h")) for r in market}
    market_time = _latest_time(market)
    reference = market_time or now
    since = _iso(reference - timedelta(hours=24))
    by_type, capped = store.count_alerts(symbol, since, ANOMALY_COUNT_CAP)
    whales = store.query_alerts(alert_type="whale_trade", symbol=symbol, limit=1).items
    newest_alert = store.query_alerts(symbol=symbol, limit=1).items
    updated_at = (
        _iso(market_time)
        if market_time
        else (newest_alert[0]["detected_at"] if newest_alert else None)
    )
    body: dict[str, Any] = {
        "symbol": symbol,
        "current_price": prices,
        "volume_1h": volumes,
        "anomaly_count_24h": sum(by_type.values()),
        "anomaly_count_by_type": by_type,
        "anomaly_count_capped": capped,
        "anomaly_window_start": since,
        "last_whale": alert_view(whales[0]) if whales else None,
        "updated_at": updated_at,
    }
    # a published metric is never one of these fields (ctc.compiler.publish checks it)
    body.update(_series_metrics(published(store, app), symbol, store))
    return _answer(200, body)


def get_health(query: Mapping[str, str], store: AlertStore, now: datetime, app: str) -> Response:
    """``GET /health``: the runtime's last micro-batch status, summarised for the dashboard."""
    _check_params(query, frozenset())
    status = store.get_status(app)
    if status is None:
        return _answer(
            200,
            {
                "app": app,
                "job_status": "no data",
                "updated_at": None,
                "age_seconds": None,
                "batch_id": None,
                "source_lag_seconds": None,
                "pending_files": None,
                "query_status": None,
                "quality_score": None,
                "records_processed": None,
                "alerts_total": None,
                "metrics": {},
                "totals": {},
                "gaps": None,
            },
        )
    raw_metrics, raw_totals = status.get("metrics"), status.get("totals")
    metrics: dict[str, Any] = raw_metrics if isinstance(raw_metrics, dict) else {}
    totals: dict[str, Any] = raw_totals if isinstance(raw_totals, dict) else {}
    updated = _parse_stored_time(status.get("updated_at"))
    age = (now - updated).total_seconds() if updated else None
    query_status = status.get("query_status")
    if query_status == "stopped":
        job_status = "stopped"  # a finished run stays finished, however old
    elif age is None or age > STALE_AFTER_SECONDS:
        job_status = "stale"
    else:
        job_status = str(query_status or "running")
    return _answer(
        200,
        {
            "app": app,
            "job_status": job_status,
            "updated_at": _iso(updated) if updated else None,
            "age_seconds": round(age, 1) if age is not None else None,
            "batch_id": status.get("batch_id"),
            "source_lag_seconds": _finite(status.get("source_lag_seconds")),
            "pending_files": status.get("pending_files"),
            "query_status": query_status,
            "quality_score": _finite(metrics.get("quality_score")),
            "records_processed": totals.get("processed"),
            "alerts_total": totals.get("alerts"),
            "metrics": metrics,
            "totals": totals,
            "gaps": status.get("gaps") if isinstance(status.get("gaps"), dict) else None,
        },
    )


def _marker(
    alert: Mapping[str, Any], entry: Mapping[str, Any], per_exchange: bool
) -> dict[str, Any] | None:
    """A chart marker of ``alert`` on the published series ``entry``: placed at the
    alert's ``details.<time column>``, with the value and details it carries."""
    details = details_object(alert.get("details"))
    start = _parse_stored_time(details.get(str(entry.get("time_column") or "window_start")))
    if start is None:
        return None
    marker = {
        "alert_id": alert.get("alert_id"),
        "alert_type": alert.get("alert_type"),
        "window_start": _iso(start),
        "exchange": alert.get("exchange") if per_exchange else None,
        "severity": alert.get("severity"),
        "value": _finite(details.get(str(entry.get("value_column")))),
        "message": alert.get("message"),
    }
    for name in _names(entry, "details"):
        if name in details and name not in marker:
            marker[name] = details[name]
    return marker


def get_series(
    kind: str, symbol_text: str, query: Mapping[str, str], store: AlertStore, app: str
) -> Response:
    """``GET /series/{kind}/{symbol}``: the rows of a published chart series oldest first,
    each marked with the severity of the alert of its window (or None), plus the alert
    markers themselves. 404 for a series no detector publishes, or an unknown symbol."""
    _check_params(query, _SERIES_PARAMS)
    symbol = parse_symbol(symbol_text)
    entry = _series_entry(published(store, app), kind)
    if entry is None:
        return _error(404, f"no detector publishes a series {kind!r}", "kind")
    since_text = _optional(query, "since")
    since = parse_time("since", since_text) if since_text is not None else None
    limit = parse_limit(query.get("limit"), SERIES_DEFAULT_LIMIT, SERIES_MAX_LIMIT)
    rows = store.get_windows(kind, symbol, since, limit)
    if not rows and not _symbol_known(store, symbol):
        return _error(404, f"unknown symbol {symbol}", "symbol")
    first = rows[0]["window_start"] if rows else since
    per_exchange = bool(entry.get("per_exchange"))
    alerts = [
        a
        for kind_ in _names(entry, "markers")
        for a in store.query_alerts(
            alert_type=kind_, symbol=symbol, since=first, limit=ALERTS_MAX_LIMIT
        ).items
    ]
    alerts.sort(key=lambda a: (str(a.get("detected_at")), str(a.get("alert_id"))))
    markers = [m for m in (_marker(a, entry, per_exchange) for a in alerts) if m]
    marked = {(m["window_start"], m["exchange"]): m for m in markers}
    windows = []
    for row in rows:
        hit = marked.get((row["window_start"], row.get("exchange") if per_exchange else None))
        windows.append(
            {
                **row,
                "anomaly": hit["severity"] if hit else None,
                "alert_id": hit["alert_id"] if hit else None,
            }
        )
    return _answer(
        200,
        {
            "symbol": symbol,
            "kind": kind,
            "count": len(windows),
            "windows": windows,
            "markers": markers,
        },
    )


def get_catalog(query: Mapping[str, str], store: AlertStore, app: str) -> Response:
    """``GET /catalog``: what the detectors publish (ctc.runtime.publish.detector_catalog:
    alert types in words, chart series, the quality rules' exchanges and symbols) joined
    with what the stored alerts name, so an alert type no running detector publishes (an
    older run's) is listed too, labelled from its words (ctc.labels)."""
    _check_params(query, frozenset())
    catalog = published(store, app)
    stored = store.catalog()
    alert_types = {
        str(e["type"]): e
        for e in _entries(catalog, "alert_types")
        if isinstance(e.get("type"), str)
    }
    for kind in stored.alert_types:
        alert_types.setdefault(
            kind,
            {
                "type": kind,
                "label": label_of(kind),
                "module": None,
                "detector": None,
                "severities": [],
            },
        )
    return _answer(
        200,
        {
            "symbols": sorted({*_names(catalog, "symbols"), *stored.symbols}),
            "exchanges": sorted({*_names(catalog, "exchanges"), *stored.exchanges}),
            "alert_types": [alert_types[k] for k in sorted(alert_types)],
            "series": _entries(catalog, "series"),
            "detectors": _entries(catalog, "detectors"),
        },
    )


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3 document (ctc/serve/openapi.yaml) as a dict."""
    import yaml

    data = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


# -- routing ------------------------------------------------------------------------------

Route = Callable[[list[str], Mapping[str, str], AlertStore, datetime, str], Response]


def _route(parts: list[str]) -> Route | None:
    """The endpoint of a path (split on '/', without the /api prefix), or None."""
    if parts == ["alerts"]:
        return lambda _p, q, s, _n, _a: get_alerts(q, s)
    if len(parts) == 2 and parts[0] == "metrics" and parts[1]:
        return lambda p, q, s, n, a: get_metrics(p[1], q, s, n, a)
    if parts == ["health"]:
        return lambda _p, q, s, n, a: get_health(q, s, n, a)
    if len(parts) == 3 and parts[0] == "series" and SERIES_RE.fullmatch(parts[1]) and parts[2]:
        return lambda p, q, s, _n, a: get_series(p[1], p[2], q, s, a)
    if parts == ["catalog"]:
        return lambda _p, q, s, _n, a: get_catalog(q, s, a)
    if parts == ["openapi.json"]:
        return lambda _p, _q, _s, _n, _a: _answer(200, openapi_document())
    return None


#: Endpoints whose answer depends on the path, the query and the stored data alone (not
#: on the clock, as /health and /metrics do): an answer of theirs stays right while the
#: store's change token stays the same (ctc.serve.answer_cache).
_CLOCK_FREE = frozenset({"alerts", "series", "catalog", "openapi.json"})


def clock_free(path: str) -> bool:
    """Whether the answer to ``path`` depends on no clock (see ``_CLOCK_FREE``)."""
    parts = _split(path)
    return bool(parts) and parts[0] in _CLOCK_FREE and _route(parts) is not None


def is_api_path(path: str) -> bool:
    """Whether ``path`` names an API endpoint (under /api, or a bare endpoint path)."""
    return path == "/api" or path.startswith("/api/") or _route(_split(path)) is not None


def _split(path: str) -> list[str]:
    text = unquote(path.split("?", 1)[0], errors="replace")
    parts = text.split("/")
    if parts and parts[0] == "":
        parts = parts[1:]
    if parts and parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]  # one trailing slash is allowed
    if parts and parts[0] == "api":
        parts = parts[1:]
    return parts


_STORE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.OperationalError,)
try:  # botocore is a dependency (boto3), but keep the handler importable without it
    from botocore.exceptions import BotoCoreError, ClientError

    _STORE_ERRORS = (*_STORE_ERRORS, BotoCoreError, ClientError)
except ImportError:  # pragma: no cover
    pass


def handle(
    method: str,
    path: str,
    query: Mapping[str, str],
    store: AlertStore,
    *,
    now: datetime | None = None,
    app: str = DEFAULT_APP,
) -> Response:
    """Answer one API request: ``(status, headers, body)``; ``body`` is JSON-able, cleaned
    of NaN and infinities.

    ``path`` may carry the ``/api`` prefix; ``query`` maps each parameter to its (last)
    value. ``now`` (default: the clock) is the reference time of /health and of
    /metrics when the symbol has no market rows.
    """
    status, headers, body = _dispatch(method, path, query, store, now, app)
    return status, headers, _strict(body)


def handle_json(
    method: str,
    path: str,
    query: Mapping[str, str],
    store: AlertStore,
    *,
    now: datetime | None = None,
    app: str = DEFAULT_APP,
) -> tuple[int, Headers, bytes]:
    """``handle``'s answer with its body as strict JSON bytes (b"" for no body), encoded
    once: what the HTTP server and the Lambda send."""
    status, headers, body = _dispatch(method, path, query, store, now, app)
    return status, headers, encode(body)


def _dispatch(
    method: str,
    path: str,
    query: Mapping[str, str],
    store: AlertStore,
    now: datetime | None,
    app: str,
) -> Response:
    """The answer of ``handle``, its body not yet made strict."""
    route = _route(_split(path))
    if route is None:
        return _error(404, f"no such endpoint: {path[:200]}")
    verb = method.upper()
    if verb == "OPTIONS":
        return 204, dict(BASE_HEADERS), None
    if verb not in ("GET", "HEAD"):
        return _error(405, f"method {method[:20]} not allowed", Allow=_ALLOWED)
    moment = now or datetime.now(tz=UTC)
    try:
        return route(_split(path), query, store, moment, app)
    except BadParameter as exc:
        return _error(400, exc.message, exc.parameter)
    except _STORE_ERRORS as exc:
        return _error(503, f"hot store unavailable: {type(exc).__name__}", **{"Retry-After": "5"})
