"""`ctc sweep`: alert counts at each value of a param, checked against an independent count
of the input's trades, and at the current value against a plain back-test; the one-pass
path (a threshold) and the per-value path (a param inside an aggregate) both."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ctc.cli import main
from ctc.compiler import compile_paths
from ctc.review.sweep import SweepError, parse_range, sweep
from ctc.review.versions import open_version
from ctc.runtime.backtest import run_backtest

ROOT = Path(__file__).resolve().parents[2]

#: a windowed detector whose param sits inside its aggregate
BIG_TRADES = """\
module: MOD-901
name: big-trade-count
title: Big trades per minute
description: Minutes with trades over a size, per symbol.
tier: small
params:
  min_usd: 50000
source:
  stream: trades
window:
  size: 60 seconds
  watermark: 10 seconds
group_by: [symbol]
aggregate:
  big_trades: count(*) FILTER (WHERE quote_volume > params.min_usd)
alerts:
  - type: big_trades
    when: big_trades >= 1
    severity:
      - level: medium
    message: "{{ symbol }}: {{ big_trades }} big trades"
    details: [window_start, big_trades]
output:
  table: big_trade_counts
  partition_by: [day(window_start), symbol]
"""


def test_parse_range() -> None:
    assert parse_range("whale_usd=100000:300000:3", 100000) == (
        "whale_usd",
        [100000, 200000, 300000],
    )
    assert parse_range("z=0.1:0.9:5", 2.5)[1] == [0.1, 0.3, 0.5, 0.7, 0.9]
    for bad in ("whale_usd", "whale_usd=1:2", "whale_usd=a:b:3", "whale_usd=1:2:1"):
        with pytest.raises(SweepError):
            parse_range(bad, 1)
    with pytest.raises(SweepError, match="only numeric"):
        parse_range("exchange_a=1:2:3", "binance")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    from ctc.simulate import simulate

    path = tmp_path_factory.mktemp("sweep") / "sample.jsonl"
    simulate(1.0, path, seed=11)
    return path, [json.loads(ln) for ln in path.read_text().splitlines() if ln]


def _severity(v: float) -> str:
    return "critical" if v > 1_000_000 else "high" if v > 500_000 else "medium"


def test_threshold_sweep_in_one_pass(spark: Any, sample: Any, tmp_path: Path) -> None:
    path, trades = sample
    spec = ROOT / "detectors" / "whale.yaml"
    with open_version(None, [spec]) as version:
        result = sweep(
            spark,
            version,
            "MOD-002",
            "whale_usd",
            [50_000, 250_000, 600_000],
            path,
            None,
            tmp_path / "cache",
        )
    assert result.passes == 1 and result.values == (50_000, 100_000, 250_000, 600_000)
    for value, counts in zip(result.values, result.counts, strict=True):
        oracle = Counter(
            ("whale_trade", _severity(t["quote_volume"]))
            for t in trades
            if t["quote_volume"] > value
        )
        assert counts == oracle, value
    assert sum(result.counts[0].values()) > sum(result.counts[-1].values()) > 0
    # at the current value, the sweep equals a plain back-test
    plain = run_backtest(spark, compile_paths([spec]), path, cache_dir=tmp_path / "cache")
    current = result.counts[result.values.index(result.current)]
    assert current == Counter((a["alert_type"], a["severity"]) for a in plain.alerts)


def test_aggregate_param_sweeps_value_by_value(spark: Any, sample: Any, tmp_path: Path) -> None:
    path, trades = sample
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "big-trades.yaml").write_text(BIG_TRADES, encoding="utf-8")
    with open_version(None, [folder / "big-trades.yaml"]) as version:
        result = sweep(
            spark,
            version,
            "MOD-901",
            "min_usd",
            [5_000, 11_000],
            path,
            None,
            tmp_path / "cache",
        )
    assert result.passes == 3 and "aggregate" in result.reaches
    for value, counts in zip(result.values, result.counts, strict=True):
        minutes = {(t["symbol"], t["timestamp"][:16]) for t in trades if t["quote_volume"] > value}
        assert counts == Counter({("big_trades", "medium"): len(minutes)}), value
    assert len({sum(c.values()) for c in result.counts}) == 3  # the param matters


def test_sweep_command_draws_its_chart(spark: Any, sample: Any, tmp_path: Path) -> None:
    path, _ = sample
    spec = tmp_path / "whale.yaml"
    shutil.copy(ROOT / "detectors" / "whale.yaml", spec)
    chart = tmp_path / "sweep.html"
    result = CliRunner().invoke(
        main,
        [
            "sweep",
            str(spec),
            "--param",
            "whale_usd=50000:500000:4",
            "--input",
            str(path),
            "--chart",
            str(chart),
            "--cache",
            str(tmp_path / "cache"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "100,000" in result.output and "◀ current" in result.output
    page = chart.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page and "current</text>" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    bad = CliRunner().invoke(
        main, ["sweep", str(spec), "--param", "no_such=1:2:3", "--input", str(path)]
    )
    assert bad.exit_code == 2 and "has no param 'no_such'" in bad.output
