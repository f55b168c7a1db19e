"""A spec with running: (over sliding windows) and ranks in derive: gives the same alerts
through `ctc run --until-idle`, over many micro-batches, as through `ctc backtest`: the
running values are computed at window close over the buffered rows, and the ranks over
the windows that close together (docs/dsl.md, "running:" and "Ranks")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamkit import options, run_stream, store_alerts
from test_stream_equals_batch import _assert_same

from ctc.compiler import compile_paths
from ctc.runtime.backtest import run_backtest
from ctc.runtime.landing import publish_file
from ctc.simulate import simulate

pytestmark = pytest.mark.spark

SPEC = """
module: MOD-950
name: flow-drawdown
tier: small
source:
  stream: trades
window:
  type: sliding
  size: 5 minutes
  slide: 1 minute
  watermark: 1 minute
group_by: [symbol, exchange]
running:
  columns:
    net_flow: sum(CASE WHEN side = 'buy' THEN quote_volume ELSE -quote_volume END)
    peak_flow: greatest(max(net_flow), 0)
    trades_so_far: count(*)
aggregate:
  flow_drawdown: max(peak_flow - net_flow)
  last_flow: max_by(net_flow, trades_so_far)
  trades: count(*)
derive:
  drawdown_pct: percent_rank(flow_drawdown)
  drawdown_place: rank(desc(flow_drawdown))
  flow_quartile: ntile(4, last_flow)
alerts:
  - type: flow_drawdown
    when: trades >= 2
    severity:
      - level: low
    message: "{{ symbol }} on {{ exchange }}: drawdown {{ flow_drawdown | number(2) }}"
    details: [window_start, flow_drawdown, last_flow, trades, drawdown_pct, drawdown_place,
              flow_quartile]
output:
  table: flow_drawdowns
"""


def test_running_and_ranks_stream_equals_batch(spark: Any, tmp_path: Path) -> None:
    spec = tmp_path / "flow-drawdown.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    trades = tmp_path / "trades.jsonl"
    simulate(1.0, trades, seed=11)
    published = publish_file(trades, tmp_path / "landing", seconds_per_file=300)
    assert len(published) >= 10
    runner = run_stream(spark, [spec], options(tmp_path, lake=False, max_files=2))
    assert runner.totals.batches >= 5
    stream = store_alerts(tmp_path / "alerts.db")
    batch = run_backtest(spark, compile_paths([spec]), trades).alerts
    assert len(batch) > 100
    # the figures vary: the ranks and drawdowns are not one constant
    assert len({a["details"]["drawdown_pct"] for a in batch}) > 3
    assert any(a["details"]["flow_drawdown"] > 0 for a in batch)
    _assert_same(stream, batch)
