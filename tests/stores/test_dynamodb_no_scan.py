"""Every API read of the DynamoDB store is a Query (or GetItem) on the table or a GSI,
never a Scan: the API's requests against a moto server are taken from moto's recorder.
``purge_expired`` scans by design and is left out of the API set (and shows the recorder
does see a Scan)."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from ctc.serve.handler import handle
from ctc.serve.sample import fill_store
from ctc.sinks.stores.dynamodb_store import DynamoDBAlertStore

END = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

#: Every endpoint of the API, with each filter combination of /alerts (each picks a GSI).
API_REQUESTS: list[tuple[str, dict[str, str]]] = [
    ("/api/alerts", {}),
    ("/api/alerts", {"type": "whale_trade", "limit": "5"}),
    ("/api/alerts", {"symbol": "ETH-USDT", "since": "2026-03-02T11:00:00Z"}),
    ("/api/alerts", {"type": "volume_spike", "symbol": "BTC-USDT", "limit": "3"}),
    ("/api/metrics/BTC-USDT", {}),
    ("/api/metrics/XRP-USDT", {}),
    ("/api/health", {}),
    ("/api/series/volume/BTC-USDT", {"limit": "30"}),
    ("/api/series/spread/SOL-USDT", {}),
    ("/api/series/spread/XRP-USDT", {}),
    ("/api/catalog", {}),
]


def _recorder(endpoint: str, action: str) -> str:
    with urllib.request.urlopen(f"{endpoint}/moto-api/recorder/{action}", timeout=10) as resp:
        return str(resp.read().decode("utf-8"))


def _dynamodb_calls(recording: str, prefix: str) -> Counter[tuple[str, str]]:
    """(operation, table) of each recorded DynamoDB request on this test's tables."""
    calls: Counter[tuple[str, str]] = Counter()
    for line in recording.splitlines():
        entry = json.loads(line)
        target = {k.lower(): v for k, v in entry["headers"].items()}.get("x-amz-target", "")
        if not target.startswith("DynamoDB_"):
            continue
        body = entry.get("body") or ""
        if entry.get("body_encoded"):
            body = base64.b64decode(body).decode("utf-8")
        table = str(json.loads(body or "{}").get("TableName", ""))
        if table.startswith(prefix):
            calls[(target.split(".", 1)[1], table.removeprefix(prefix))] += 1
    return calls


def _record(
    store: DynamoDBAlertStore, endpoint: str, work: Callable[[], object]
) -> Counter[tuple[str, str]]:
    """The DynamoDB calls on ``store``'s tables while ``work`` runs."""
    _recorder(endpoint, "reset-recording")
    _recorder(endpoint, "start-recording")
    try:
        work()
    finally:
        _recorder(endpoint, "stop-recording")
    return _dynamodb_calls(_recorder(endpoint, "download-recording"), store.prefix)


def test_every_api_read_is_a_query_never_a_scan(
    dynamodb_store: DynamoDBAlertStore, moto_endpoint: str
) -> None:
    fill_store(dynamodb_store, end=END, hours=1, seed=5, extra_whales=40)

    def api() -> None:
        for path, query in API_REQUESTS:
            status, _, _ = handle("GET", path, query, dynamodb_store, now=END)
            assert status in (200, 404), (path, query, status)
        page = dynamodb_store.query_alerts(limit=10)
        assert page.next_cursor
        dynamodb_store.query_alerts(limit=10, cursor=page.next_cursor)

    calls = _record(dynamodb_store, moto_endpoint, api)
    operations = {op for op, _ in calls}
    assert "Scan" not in operations, calls
    assert operations <= {"Query", "GetItem"}, calls
    tables = {table for _, table in calls}
    assert {"-alerts", "-market", "-status", "-windows", "-catalog"} <= tables, calls


def test_the_recorder_sees_the_scan_of_the_purge(
    dynamodb_store: DynamoDBAlertStore, moto_endpoint: str
) -> None:
    fill_store(dynamodb_store, end=END, hours=0.2, seed=5)
    calls = _record(dynamodb_store, moto_endpoint, lambda: dynamodb_store.purge_expired(0))
    assert calls[("Scan", "-alerts")] >= 1 and calls[("Scan", "-windows")] >= 1, calls


def test_a_capped_count_is_still_queries(
    dynamodb_store: DynamoDBAlertStore, moto_endpoint: str
) -> None:
    fill_store(dynamodb_store, end=END, hours=1, seed=5, extra_whales=40)
    result: list[tuple[dict[str, int], bool]] = []
    calls = _record(
        dynamodb_store,
        moto_endpoint,
        lambda: result.append(dynamodb_store.count_alerts("BTC-USDT", "2026-03-01T00:00:00Z", 3)),
    )
    counts, capped = result[0]
    assert capped and sum(counts.values()) == 3
    assert {op for op, _ in calls} == {"Query"}, calls
