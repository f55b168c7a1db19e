"""The API over a store filled by a real `ctc run --until-idle` (simulated trades)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ctc.runtime.landing import publish_file
from ctc.serve.handler import handle
from ctc.simulate import simulate
from ctc.sinks.stores.factory import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
from streamkit import SMALL, options, run_stream

pytestmark = pytest.mark.spark


def test_api_over_a_real_stream_run(spark: Any, tmp_path: Path) -> None:
    trades = tmp_path / "trades.jsonl"
    simulate(1.0, trades, seed=9)
    publish_file(trades, tmp_path / "landing", seconds_per_file=900)
    runner = run_stream(spark, SMALL, options(tmp_path, lake=False, max_files=2))
    assert runner.totals.alerts > 0
    store = open_store(f"sqlite:///{tmp_path / 'alerts.db'}")
    try:
        status, _, body = handle("GET", "/api/alerts", {"limit": "200"}, store)
        assert status == 200 and body["count"] > 0
        types = {a["alert_type"] for a in body["alerts"]}
        assert types <= {"volume_spike", "whale_trade", "spread_divergence"}
        assert all(isinstance(a["details"], dict) and a["details"] for a in body["alerts"])

        symbol = body["alerts"][0]["symbol"]
        status, _, metrics = handle("GET", f"/metrics/{symbol}", {}, store)
        assert status == 200
        assert set(metrics["current_price"]) == {"binance", "coinbase"}
        assert all(v and v > 0 for v in metrics["volume_1h"].values())
        a, b = metrics["current_price"]["binance"], metrics["current_price"]["coinbase"]
        assert metrics["spread_pct"] == pytest.approx((a - b) / b * 100)
        assert metrics["anomaly_count_24h"] >= 1

        recorded = runner.last_status
        now = datetime.fromisoformat(recorded["updated_at"]) + timedelta(seconds=1)
        status, _, health = handle("GET", "/health", {}, store, now=now)
        assert status == 200
        assert health["batch_id"] == recorded["batch_id"]
        assert health["records_processed"] == runner.totals.processed
        assert health["quality_score"] is not None and health["job_status"] == "stopped"
    finally:
        store.close()
