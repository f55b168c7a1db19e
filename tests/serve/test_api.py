"""The API handler over a real SQLite store filled with realistic alerts (ctc.serve.sample)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from servekit import END

from ctc.events import METRICS_FIELDS
from ctc.serve.handler import dumps, handle, openapi_document
from ctc.sinks.stores.base import AlertStore
from ctc.sinks.stores.sqlite_store import SqliteAlertStore


def get(store: AlertStore, path: str, now: datetime | None = None, **query: str) -> tuple[int, Any]:
    status, headers, body = handle("GET", path, query, store, now=now)
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Content-Type"].startswith("application/json")
    dumps(body)  # strict JSON (no NaN), or this raises
    return status, body


def every_alert(store: AlertStore) -> list[dict[str, Any]]:
    return store.query_alerts(limit=100_000).items


def test_alerts_default_page_newest_first(store: SqliteAlertStore) -> None:
    status, body = get(store, "/api/alerts")
    assert status == 200
    assert body["count"] == 50 == len(body["alerts"])
    assert body["has_more"] is True and body["next_cursor"]
    times = [(a["detected_at"], a["alert_id"]) for a in body["alerts"]]
    assert times == sorted(times, reverse=True)
    first = body["alerts"][0]
    assert isinstance(first["details"], dict) and first["details"]
    assert set(first) >= {"alert_id", "alert_type", "symbol", "severity", "message", "details"}


def test_alerts_cursor_pages_cover_everything_once(store: SqliteAlertStore) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "37"} | ({"cursor": cursor} if cursor else {})
        status, body = get(store, "/alerts", **query)
        assert status == 200
        seen += [a["alert_id"] for a in body["alerts"]]
        if not body["has_more"]:
            assert body["next_cursor"] is None
            break
        cursor = body["next_cursor"]
    assert seen == [a["alert_id"] for a in every_alert(store)]
    assert len(seen) == len(set(seen)) > 100


def test_alerts_filters(store: SqliteAlertStore) -> None:
    everything = every_alert(store)
    since = (END - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, body = get(
        store, "/alerts", type="volume_spike", symbol="eth-usdt", since=since, limit="200"
    )
    assert status == 200
    want = [
        a["alert_id"]
        for a in everything
        if a["alert_type"] == "volume_spike"
        and a["symbol"] == "ETH-USDT"
        and a["detected_at"] >= since.replace("Z", ".000000Z")
    ]
    assert want and [a["alert_id"] for a in body["alerts"]] == want
    assert all(a["details"]["z_score"] for a in body["alerts"])
    status, body = get(store, "/alerts", type="whale_trade", limit="200")
    assert {a["alert_type"] for a in body["alerts"]} == {"whale_trade"}
    assert {"price", "quantity", "side", "quote_volume"} <= set(body["alerts"][0]["details"])
    assert get(store, "/alerts", type="no_such_type")[1]["alerts"] == []
    assert get(store, "/alerts", symbol="XRP-USDT")[1]["count"] == 0


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "-3"}, "limit"),
        ({"limit": ""}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-13-01T00:00:00Z"}, "since"),
        ({"since": "0001-01-01T00:00:00+01:00"}, "since"),
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": "x" * 5000}, "cursor"),
        ({"symbol": "BTC/USDT"}, "symbol"),
        ({"symbol": ""}, "symbol"),
        ({"type": "drop table"}, "type"),
        ({"type": ""}, "type"),
        ({"sort": "asc"}, "sort"),
    ],
)
def test_alerts_bad_parameters_are_400_naming_them(
    store: SqliteAlertStore, query: dict[str, str], parameter: str
) -> None:
    status, body = get(store, "/alerts", **query)
    assert status == 400
    assert body["parameter"] == parameter and body["error"]


def test_alerts_limit_bounds_and_old_since(store: SqliteAlertStore) -> None:
    assert get(store, "/alerts", limit="200")[1]["count"] == 200
    assert get(store, "/alerts", limit="1")[1]["count"] == 1
    status, body = get(store, "/alerts", since="1900-01-01", limit="5")
    assert status == 200 and body["count"] == 5


def test_metrics_of_a_symbol(store: SqliteAlertStore) -> None:
    status, body = get(store, "/api/metrics/BTC-USDT")
    assert status == 200
    market = {r["exchange"]: r for r in store.get_market("BTC-USDT")}
    assert body["current_price"] == {ex: r["price"] for ex, r in market.items()}
    assert body["volume_1h"] == {ex: r["volume_1h"] for ex, r in market.items()}
    # MOD-003 publishes its spread series with metric: spread_pct: the latest window's
    # spread, which in the sample is that of the last prices (rounded to 5 decimals)
    latest = store.get_windows("spread", "BTC-USDT", None, 1)[0]
    assert body["spread_pct"] == latest["value"]
    a, b = market["binance"]["price"], market["coinbase"]["price"]
    assert body["spread_pct"] == pytest.approx((a - b) / b * 100, abs=1e-4)
    assert set(body) == {*METRICS_FIELDS, "spread_pct"}
    newest = max(r["updated_at"] for r in market.values())
    assert body["updated_at"] == newest
    since = (datetime.fromisoformat(newest) - timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    mine = [a for a in every_alert(store) if a["symbol"] == "BTC-USDT"]
    assert body["anomaly_count_24h"] == sum(a["detected_at"] >= since for a in mine) > 0
    assert sum(body["anomaly_count_by_type"].values()) == body["anomaly_count_24h"]
    whale = next(a for a in mine if a["alert_type"] == "whale_trade")
    assert body["last_whale"]["alert_id"] == whale["alert_id"]
    assert body["last_whale"]["details"]["side"] in ("buy", "sell")


def test_metrics_count_only_the_last_24_hours(store: SqliteAlertStore) -> None:
    old = {
        "alert_id": "old-one",
        "alert_type": "volume_spike",
        "module_id": "MOD-001",
        "symbol": "BTC-USDT",
        "exchange": "binance",
        "severity": "high",
        "detected_at": END - timedelta(hours=30),
        "message": "old",
        "details": {"z_score": 4.0},
    }
    before = get(store, "/metrics/BTC-USDT")[1]["anomaly_count_24h"]
    store.put_alerts([old])
    assert get(store, "/metrics/BTC-USDT")[1]["anomaly_count_24h"] == before
    store.put_alerts([{**old, "alert_id": "new-one", "detected_at": END - timedelta(hours=2)}])
    assert get(store, "/metrics/BTC-USDT")[1]["anomaly_count_24h"] == before + 1


def test_metrics_without_market_rows_uses_now(tmp_path: Any) -> None:
    s = SqliteAlertStore(tmp_path / "a.db")
    now = datetime(2026, 1, 2, tzinfo=UTC)
    s.put_alerts(
        [
            {
                "alert_id": f"w{n}",
                "alert_type": "whale_trade",
                "module_id": "MOD-002",
                "symbol": "DOGE-USDT",
                "exchange": "binance",
                "severity": "medium",
                "detected_at": now - timedelta(hours=n * 10),
                "message": "whale",
                "details": json.dumps({"price": float("nan"), "side": "buy"}),
            }
            for n in range(4)
        ]
    )
    status, body = get(s, "/metrics/doge-usdt", now=now)
    assert status == 200
    # no detector catalog in this store: no series metric (spread_pct) to report
    assert body["current_price"] == {} and set(body) == set(METRICS_FIELDS)
    assert body["anomaly_count_24h"] == 3  # 0, 10 and 20 h ago; not 30
    assert body["last_whale"]["alert_id"] == "w0"
    assert body["last_whale"]["details"]["price"] is None  # NaN is not JSON
    assert body["updated_at"] == "2026-01-02T00:00:00.000000Z"
    s.close()


def test_metrics_unknown_and_bad_symbols(store: SqliteAlertStore) -> None:
    assert get(store, "/metrics/XRP-USDT")[0] == 404
    status, body = get(store, "/metrics/not a symbol")
    assert status == 400 and body["parameter"] == "symbol"
    assert get(store, "/metrics/BTC-USDT", extra="1")[0] == 400


def test_health_reports_the_runtime_status(store: SqliteAlertStore) -> None:
    status_rec = store.get_status("ctc")
    assert status_rec is not None
    updated = datetime.fromisoformat(status_rec["updated_at"])
    status, body = get(store, "/health", now=updated + timedelta(seconds=5))
    assert status == 200
    assert body["job_status"] == "running" and body["age_seconds"] == 5.0
    assert body["quality_score"] == pytest.approx(status_rec["metrics"]["quality_score"])
    assert body["source_lag_seconds"] == status_rec["source_lag_seconds"]
    assert body["records_processed"] == status_rec["totals"]["processed"]
    assert body["batch_id"] == status_rec["batch_id"]
    assert body["metrics"] == status_rec["metrics"]
    stale = get(store, "/health", now=updated + timedelta(minutes=10))[1]
    assert stale["job_status"] == "stale"
    # a finished run is "stopped", however old, as the dashboard's badge says
    store.put_status("ctc", {**status_rec, "query_status": "stopped"})
    finished = get(store, "/health", now=updated + timedelta(minutes=10))[1]
    assert finished["job_status"] == "stopped"


def test_health_without_status(tmp_path: Any) -> None:
    s = SqliteAlertStore(tmp_path / "empty.db")
    status, body = get(s, "/health")
    assert status == 200 and body["job_status"] == "no data" and body["quality_score"] is None
    assert get(s, "/alerts")[1] == {
        "alerts": [],
        "count": 0,
        "has_more": False,
        "next_cursor": None,
    }
    s.close()


def test_volume_series_with_anomaly_markers(store: SqliteAlertStore) -> None:
    status, body = get(store, "/series/volume/BTC-USDT", limit="2000")
    assert status == 200 and body["kind"] == "volume"
    rows = body["windows"]
    assert len(rows) == 3 * 60 * 2 == body["count"]
    assert [r["window_start"] for r in rows] == sorted(r["window_start"] for r in rows)
    assert {r["exchange"] for r in rows} == {"binance", "coinbase"}
    spikes = [
        a
        for a in every_alert(store)
        if a["alert_type"] == "volume_spike" and a["symbol"] == "BTC-USDT"
    ]
    assert spikes
    marked = {(r["window_start"], r["exchange"]): r["anomaly"] for r in rows if r["anomaly"]}
    assert marked == {
        (json.loads(a["details"])["window_start"], a["exchange"]): a["severity"] for a in spikes
    }
    assert len(body["markers"]) == len(spikes)
    assert get(store, "/series/volume/BTC-USDT")[1]["count"] == 240  # the default limit


def test_spread_series(store: SqliteAlertStore) -> None:
    since = (END - timedelta(minutes=10)).isoformat()
    status, body = get(store, "/api/series/spread/sol-usdt", since=since)
    assert status == 200
    assert len(body["windows"]) == 20  # 30 s windows
    assert all(r["exchange"] is None and isinstance(r["value"], float) for r in body["windows"])
    assert get(store, "/series/spread/XRP-USDT")[0] == 404
    assert get(store, "/series/spread/BTC-USDT", limit="2001")[0] == 400
    assert get(store, "/series/price/BTC-USDT")[0] == 404


def test_routing_methods_and_cors(store: SqliteAlertStore) -> None:
    assert get(store, "/alerts", limit="3")[1] == get(store, "/api/alerts", limit="3")[1]
    assert get(store, "/api/alerts/", limit="3")[0] == 200
    assert get(store, "/nope")[0] == 404
    assert get(store, "/api")[0] == 404
    assert get(store, "/api/metrics/BTC-USDT/extra")[0] == 404
    status, headers, body = handle("POST", "/api/alerts", {}, store)
    assert status == 405 and headers["Allow"] == "GET, HEAD, OPTIONS" and body["error"]
    status, headers, body = handle("OPTIONS", "/api/metrics/BTC-USDT", {}, store)
    assert status == 204 and body is None
    assert "GET" in headers["Access-Control-Allow-Methods"]
    assert handle("DELETE", "/nope", {}, store)[0] == 404
    assert handle("HEAD", "/api/health", {}, store)[0] == 200


def test_openapi_document_describes_every_endpoint(store: SqliteAlertStore) -> None:
    doc = openapi_document()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {
        "/alerts",
        "/metrics/{symbol}",
        "/health",
        "/series/{kind}/{symbol}",
        "/catalog",
        "/openapi.json",
    }
    assert get(store, "/api/openapi.json")[1] == doc


def test_catalog_lists_what_the_detectors_publish_and_the_alerts_name(
    store: SqliteAlertStore,
) -> None:
    everything = every_alert(store)
    status, body = get(store, "/api/catalog")
    assert status == 200
    # the small tier's quality rules (detectors/quality.yaml) and what the alerts name
    assert body["symbols"] == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    assert {a["symbol"] for a in everything} <= set(body["symbols"])
    assert body["exchanges"] == ["binance", "binance-futures", "coinbase"]
    assert [t["type"] for t in body["alert_types"]] == [
        "spread_divergence",
        "volume_spike",
        "whale_trade",
    ]
    by_type = {t["type"]: t for t in body["alert_types"]}
    assert by_type["volume_spike"] == {
        "type": "volume_spike",
        "label": "Volume spike",
        "module": "MOD-001",
        "detector": "Volume spikes",
        "severities": ["medium", "high"],
    }
    assert by_type["whale_trade"]["severities"] == ["medium", "high", "critical"]
    assert [(s["name"], s["module"], s["label"]) for s in body["series"]] == [
        ("volume", "MOD-001", "Volume"),
        ("spread", "MOD-003", "Spread tracker"),
    ]
    assert [d["module"] for d in body["detectors"]] == ["MOD-001", "MOD-002", "MOD-003"]
    # an alert type no running detector publishes is listed too, labelled from its words
    store.put_alerts([{**everything[0], "alert_id": "dex-1", "alert_type": "large_dex_swap"}])
    listed = {t["type"]: t for t in get(store, "/catalog")[1]["alert_types"]}
    assert listed["large_dex_swap"]["label"] == "Large DEX swap"
    assert listed["large_dex_swap"]["module"] is None
    assert get(store, "/api/catalog", symbol="BTC-USDT")[0] == 400


def test_catalog_of_an_empty_store(tmp_path: Any) -> None:
    s = SqliteAlertStore(tmp_path / "empty.db")
    assert get(s, "/api/catalog") == (
        200,
        {"symbols": [], "exchanges": [], "alert_types": [], "series": [], "detectors": []},
    )
    s.close()


def test_series_of_a_store_without_a_catalog_are_not_found(tmp_path: Any) -> None:
    """A store no `ctc run` published a catalog to serves no series: the handler knows of
    none by itself."""
    s = SqliteAlertStore(tmp_path / "old.db")
    s.put_windows(
        "volume",
        [{"symbol": "BTC-USDT", "exchange": "binance", "window_start": END, "value": 1.0}],
    )
    status, body = get(s, "/series/volume/BTC-USDT")
    assert (status, body["parameter"]) == (404, "kind")
    s.close()


class _BrokenStore(SqliteAlertStore):
    def query_alerts(self, **kwargs: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")


def test_an_unreachable_store_is_503_not_500(tmp_path: Any) -> None:
    s = _BrokenStore(tmp_path / "b.db")
    status, headers, body = handle("GET", "/alerts", {}, s)
    assert status == 503 and headers["Retry-After"] == "5" and "unavailable" in body["error"]
    s.close()
