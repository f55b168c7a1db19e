"""The Lambda entry point: API Gateway proxy events (REST v1 and HTTP API v2) round trip."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ctc.serve import aws_lambda
from ctc.serve.handler import handle
from ctc.sinks.stores.sqlite_store import SqliteAlertStore


@pytest.fixture
def env_store(store: SqliteAlertStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """CTC_STORE_URL pointing at the sample store; the Lambda opens it itself."""
    monkeypatch.setenv("CTC_STORE_URL", f"sqlite:///{store.path}")
    aws_lambda.set_store(None)
    yield Path(store.path)
    aws_lambda.set_store(None)


def v1_event(path: str, query: dict[str, list[str]] | None = None, method: str = "GET") -> dict:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Accept": "application/json"},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": query,
        "pathParameters": {"proxy": path.lstrip("/")},
        "requestContext": {"stage": "prod", "httpMethod": method},
        "body": None,
        "isBase64Encoded": False,
    }


def v2_event(raw_path: str, query: dict[str, str] | None = None, method: str = "GET") -> dict:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "queryStringParameters": query,
        "requestContext": {"http": {"method": method, "path": raw_path}},
        "isBase64Encoded": False,
    }


def call(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    out = aws_lambda.lambda_handler(event, None)
    assert set(out) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert isinstance(out["body"], str) and out["isBase64Encoded"] is False
    return out["statusCode"], out["headers"], json.loads(out["body"]) if out["body"] else None


def test_v1_alerts_round_trip_equals_the_handler(env_store: Path, store: SqliteAlertStore) -> None:
    status, headers, body = call(
        v1_event("/alerts", {"type": ["whale_trade"], "limit": ["999", "7"]})
    )
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    assert body == handle("GET", "/alerts", {"type": "whale_trade", "limit": "7"}, store)[2]
    assert body["count"] == 7 and body["has_more"]
    nxt = call(v1_event("/alerts", {"type": ["whale_trade"], "cursor": [body["next_cursor"]]}))
    assert nxt[0] == 200 and nxt[2]["alerts"][0]["alert_id"] not in {
        a["alert_id"] for a in body["alerts"]
    }


def test_v2_metrics_health_series_and_errors(env_store: Path) -> None:
    status, _, body = call(v2_event("/api/metrics/ETH-USDT"))
    assert status == 200 and body["symbol"] == "ETH-USDT" and body["current_price"]
    assert call(v2_event("/health"))[2]["job_status"] in ("running", "stale")
    assert call(v2_event("/series/volume/BTC-USDT", {"limit": "4"}))[2]["count"] == 4
    status, _, body = call(v2_event("/alerts", {"limit": "500"}))
    assert status == 400 and body["parameter"] == "limit"
    assert call(v2_event("/metrics/XRP-USDT"))[0] == 404
    assert call(v2_event("/alerts", method="POST"))[0] == 405
    status, headers, body = call(v2_event("/alerts", method="OPTIONS"))
    assert status == 204 and body is None and "GET" in headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize(
    "event",
    [{}, {"path": None}, {"httpMethod": 7, "path": ["x"]}, {"requestContext": "?"}],
    ids=["empty", "null-path", "wrong-types", "odd-context"],
)
def test_malformed_events_are_answered(env_store: Path, event: dict[str, Any]) -> None:
    assert call(event)[0] == 404


def test_store_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    db = tmp_path / "lambda.db"
    monkeypatch.setenv("CTC_STORE_URL", f"sqlite:///{db}")
    aws_lambda.set_store(None)
    try:
        assert call(v1_event("/health"))[2]["job_status"] == "no data"
        assert db.exists()
    finally:
        aws_lambda.set_store(None)
