"""`ctc run` as a user types it, in this process's Spark session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from streamkit import DETECTORS, store_alerts

from ctc.cli import main

pytestmark = pytest.mark.spark


def test_ctc_run_until_idle_writes_store_lake_and_status(spark: Any, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    whale = {
        "event_id": "w1",
        "exchange": "binance",
        "symbol": "BTC-USDT",
        "market": "BTCUSDT",
        "price": 60000.0,
        "quantity": 3.0,
        "quote_volume": 180000.0,
        "side": "buy",
        "timestamp": "2026-01-01T00:00:01Z",
        "ingestion_timestamp": "2026-01-01T00:00:01Z",
    }
    (landing / "a.jsonl").write_text(json.dumps(whale) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--tier",
            "small",
            "--detectors",
            str(DETECTORS),
            "--landing",
            str(landing),
            "--checkpoint",
            str(tmp_path / "ckpt"),
            "--store",
            f"sqlite:///{tmp_path / 'a.db'}",
            "--lake",
            "none",
            "--status",
            str(tmp_path / "status.json"),
            "--until-idle",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1 records, 1 passed" in result.output
    alerts = store_alerts(tmp_path / "a.db")
    assert [a["alert_type"] for a in alerts.values()] == ["whale_trade"]
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["totals"]["passed"] == 1
    assert status["query_status"] == "stopped"
