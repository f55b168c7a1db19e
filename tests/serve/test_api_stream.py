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
        # MOD-003's published metric: the spread of its newest window of the symbol
        newest = store.get_windows("spread", symbol, None, 1)[0]
        assert metrics["spread_pct"] == newest["value"]
        if newest["value"] is not None:
            a, b = newest["vwap_a"], newest["vwap_b"]
            assert newest["value"] == pytest.approx((a - b) / b * 100)

        # the catalog the run published: the small tier's alert types and series
        status, _, catalog = handle("GET", "/catalog", {}, store)
        assert status == 200
        assert [(t["type"], t["label"], t["module"]) for t in catalog["alert_types"]] == [
            ("spread_divergence", "Spread divergence", "MOD-003"),
            ("volume_spike", "Volume spike", "MOD-001"),
            ("whale_trade", "Whale trade", "MOD-002"),
        ]
        assert [s["name"] for s in catalog["series"]] == ["volume", "spread"]
        status, _, volume = handle("GET", f"/series/volume/{symbol}", {"limit": "2000"}, store)
        assert status == 200 and volume["count"] > 0
        assert {"z_score", "trade_count"} <= set(volume["windows"][-1])
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
