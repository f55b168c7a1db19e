"""The same input through `ctc run --until-idle` and `ctc backtest` gives the same alerts."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from realdata import hftbacktest_events, sort_events, write_jsonl
from streamkit import SMALL, assert_provenance, options, run_stream, store_alerts

from ctc.compiler import compile_paths
from ctc.runtime.backtest import run_backtest
from ctc.runtime.landing import publish_file
from ctc.simulate import simulate

pytestmark = pytest.mark.spark


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def _assert_same(stream: dict[str, dict[str, Any]], batch: list[dict[str, Any]]) -> None:
    by_id = {a["alert_id"]: a for a in batch}
    assert set(stream) == set(by_id), (
        f"only in stream: {sorted(set(stream) - set(by_id))[:5]}, "
        f"only in batch: {sorted(set(by_id) - set(stream))[:5]}"
    )
    for alert_id, s in stream.items():
        b = by_id[alert_id]
        for k in (
            "alert_type",
            "module_id",
            "symbol",
            "exchange",
            "severity",
            "message",
            "ttl_epoch",
            "spec_version",
            "ctc_version",
        ):
            assert s[k] == b[k], (alert_id, k, s[k], b[k])
        assert s["detected_at"] == b["detected_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert s["details"].keys() == b["details"].keys()
        for k, v in s["details"].items():
            assert _same_value(v, b["details"][k]), (alert_id, k, v, b["details"][k])


@pytest.mark.parametrize("rows_first", [False, True], ids=["one-job", "rows-first"])
def test_simulated_stream_equals_batch(spark: Any, tmp_path: Path, rows_first: bool) -> None:
    """rows-first: the layout of a long-running query (whales collected and published in
    a job of their own before the window plans)."""
    trades = tmp_path / "trades.jsonl"
    sim = simulate(1.5, trades, seed=5)
    published = publish_file(trades, tmp_path / "landing", seconds_per_file=900)
    assert len(published) >= 6
    opts = options(tmp_path, lake=False, max_files=2)
    opts.rows_first = rows_first
    runner = run_stream(spark, SMALL, opts)
    assert len(runner.detectors.levels) == (2 if rows_first else 1)
    stream = store_alerts(tmp_path / "alerts.db")
    batch = run_backtest(spark, compile_paths(SMALL), trades).alerts
    assert len(stream) > 0 and runner.totals.batches >= 3
    assert runner.totals.processed == sim.trades
    _assert_same(stream, batch)
    assert_provenance(stream.values(), SMALL)


def test_real_recordings_stream_equals_batch(spark: Any, tmp_path: Path, real_data: Path) -> None:
    trades = tmp_path / "real.jsonl"
    write_jsonl(sort_events(hftbacktest_events(real_data)), trades)
    # ten-second windows, so six minutes of real trades have a baseline to alert against
    specs = []
    for spec in SMALL:
        doc = yaml.safe_load(spec.read_text(encoding="utf-8"))
        if doc["module"] == "MOD-001":
            doc["window"]["size"] = "10 seconds"
            doc["window"]["watermark"] = "5 seconds"
            doc["params"]["min_history"] = 5
        out = tmp_path / spec.name
        out.write_text(yaml.safe_dump(doc), encoding="utf-8")
        specs.append(out)
    publish_file(trades, tmp_path / "landing", seconds_per_file=60)
    run_stream(spark, specs, options(tmp_path, lake=False, max_files=2))
    stream = store_alerts(tmp_path / "alerts.db")
    batch = run_backtest(spark, compile_paths(specs), trades).alerts
    assert {a["module_id"] for a in batch} >= {"MOD-001", "MOD-002"}
    _assert_same(stream, batch)
    assert json.loads((tmp_path / "status.json").read_text())["batch_id"] >= 1


def test_every_tier_stream_equals_batch_over_many_batches(spark: Any, tmp_path: Path) -> None:
    """All streaming detectors of the large tier, chained ones included (MOD-006 reads
    MOD-002's rows, MOD-007 and MOD-010 read alerts), over 5-minute files in many
    micro-batches: the stream raises exactly the back-test's alerts. Before chained
    watermarks were held at their upstreams', MOD-007 closed windows before MOD-006's
    flow signals for them arrived and lost them."""
    from streamkit import DETECTORS

    trades = tmp_path / "trades.jsonl"
    simulate(3.0, trades, seed=7)  # the demo's data
    published = publish_file(trades, tmp_path / "landing", seconds_per_file=300)
    assert len(published) >= 30
    plans = compile_paths([DETECTORS])
    streaming = {p.module for p in plans if p.mode == "streaming"}
    assert {"MOD-006", "MOD-007", "MOD-010"} <= streaming
    runner = run_stream(spark, [DETECTORS], options(tmp_path, lake=False, max_files=3))
    assert runner.totals.batches >= 10
    stream = store_alerts(tmp_path / "alerts.db")
    batch = [a for a in run_backtest(spark, plans, trades).alerts if a["module_id"] in streaming]
    modules = {a["module_id"] for a in batch}
    assert {"MOD-001", "MOD-002", "MOD-003", "MOD-006", "MOD-007", "MOD-010"} <= modules
    _assert_same(stream, batch)
