"""The on-chain stream in `ctc run`: a detector that reads an on-chain detector's rows
(MOD-009 reads MOD-008's) sees each row once, in the batch that read it, even when later
micro-batches bring trades and no on-chain events.

The swaps are those of detectors/fixtures/dex-tracker/large-swaps.yaml, whose alerts are
hand-derived there; they land in ``_chain`` before the run, so the first micro-batch reads
them all and leaves the last windows open (the watermark is 30 s behind the newest
block), and three trade files make three micro-batches.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from streamkit import DETECTORS, options, run_stream, store_alerts

from ctc.runtime.fixtures import check_alerts, fixture_chain_event, fixture_trade

pytestmark = pytest.mark.spark

FIXTURE = DETECTORS / "fixtures" / "dex-tracker" / "large-swaps.yaml"


def test_a_detector_of_on_chain_rows_reads_each_once(spark: Any, tmp_path: Path) -> None:
    from datetime import datetime

    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    landing = tmp_path / "landing"
    (landing / "_chain").mkdir(parents=True)
    chain = [fixture_chain_event(e) for e in data["chain_events"]]
    (landing / "_chain" / "chain-1.jsonl").write_text("".join(json.dumps(e) + "\n" for e in chain))
    for i in range(3):
        trade = fixture_trade(
            {
                "event_id": f"t{i}",
                "exchange": "binance",
                "symbol": "ETH-USDT",
                "price": 3000,
                "quantity": 1,
                "side": "buy",
                "timestamp": f"2026-01-01T00:0{i}:05Z",
            }
        )
        (landing / f"trades-{i}.jsonl").write_text(json.dumps(trade) + "\n")
    runner = run_stream(spark, [DETECTORS / "dex-tracker.yaml"], options(tmp_path, lake=False))
    assert runner.totals.batches == 3
    assert runner.totals.late_events_dropped == 0
    got = [a for a in store_alerts(tmp_path / "alerts.db").values() if a["module_id"] == "MOD-009"]
    for a in got:
        a["detected_at"] = datetime.fromisoformat(a["detected_at"].replace("Z", "+00:00"))
    assert check_alerts(data["expect"], got) == []
