"""Running aggregates and ranks against an independent pandas oracle, on the real
hftbacktest Binance BTC+ETH recording: per symbol and trade-size class, in 30-second
windows, the running net flow (buys minus sells in quote volume, in time order, ties by
event_id), its largest fall from its running peak (the start, 0, counting as a peak) and
the percent rank of that drawdown among the window's keys. The oracle shares no code with
ctc: it sorts, cumulates and ranks with pandas."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import oracle
import pandas as pd
import pytest
from realdata import hftbacktest_events, sort_events, write_jsonl

from ctc.compiler import compile_paths
from ctc.runtime.backtest import run_backtest

SPEC = """
module: MOD-951
name: flow-drawdown-oracle
tier: small
source:
  stream: trades
prepare:
  size_class: >-
    CASE WHEN quote_volume < 100 THEN 'a' WHEN quote_volume < 1000 THEN 'b'
         WHEN quote_volume < 10000 THEN 'c' ELSE 'd' END
window:
  size: 30 seconds
  watermark: 5 seconds
group_by: [symbol, size_class]
running:
  columns:
    net_flow: sum(CASE WHEN side = 'buy' THEN quote_volume ELSE -quote_volume END)
    peak_flow: greatest(max(net_flow), 0)
aggregate:
  flow_drawdown: max(peak_flow - net_flow)
  trades: count(*)
derive:
  drawdown_pct: percent_rank(flow_drawdown)
alerts:
  - type: flow_drawdown
    when: trades >= 1
    severity:
      - level: low
    message: "{{ symbol }}"
    details: [window_start, size_class, flow_drawdown, drawdown_pct, trades]
output:
  table: flow_drawdowns_oracle
"""

WINDOW_US = 30_000_000


def _size_class(volume: float) -> str:
    return "a" if volume < 100 else "b" if volume < 1000 else "c" if volume < 10000 else "d"


def expected(events: pd.DataFrame) -> dict[tuple[str, str, int], tuple[float, float, int]]:
    """(symbol, size class, window start µs) -> (drawdown, its percent rank, trades)."""
    df = oracle.prepare(events)
    df["size_class"] = df["quote_volume"].map(_size_class)
    df["signed"] = df["quote_volume"].where(df["side"] == "buy", -df["quote_volume"])
    df["window_us"] = (df["_epoch_us"] // WINDOW_US) * WINDOW_US
    df = df.sort_values(["_epoch_us", "event_id"], kind="mergesort")
    rows = []
    for (symbol, size, start), g in df.groupby(["symbol", "size_class", "window_us"]):
        cum = g["signed"].cumsum()
        peak = cum.cummax().clip(lower=0)
        rows.append((symbol, size, start, float((peak - cum).max()), len(g)))
    out = pd.DataFrame(rows, columns=["symbol", "size", "start", "drawdown", "trades"])
    # percent rank among the window's keys: (rank - 1) / (keys - 1), ties at their lowest
    low = out.groupby("start")["drawdown"].rank(method="min")
    keys = out.groupby("start")["drawdown"].transform("count")
    out["pct"] = ((low - 1) / (keys - 1)).where(keys > 1, 0.0)
    return {
        (r.symbol, r.size, int(r.start)): (r.drawdown, r.pct, int(r.trades))
        for r in out.itertuples()
    }


@pytest.mark.spark
def test_running_drawdown_and_percent_rank_match_the_oracle(
    spark: Any, tmp_path: Path, real_data: Path
) -> None:
    trades = tmp_path / "real.jsonl"
    write_jsonl(sort_events(hftbacktest_events(real_data)), trades)
    spec = tmp_path / "flow-drawdown-oracle.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    want = expected(oracle.load_events(trades))
    alerts = run_backtest(spark, compile_paths([spec]), trades).alerts
    got = {}
    for a in alerts:
        d = a["details"]
        start = int(pd.Timestamp(d["window_start"]).timestamp() * 1_000_000)
        got[(a["symbol"], d["size_class"], start)] = (
            d["flow_drawdown"],
            d["drawdown_pct"],
            d["trades"],
        )
    assert len(want) > 40 and set(got) == set(want)
    assert any(dd > 0 for dd, _, _ in want.values())
    assert len({pct for _, pct, _ in want.values()}) > 3
    for key, (dd, pct, n) in want.items():
        g_dd, g_pct, g_n = got[key]
        assert g_n == n, key
        assert math.isclose(g_dd, dd, rel_tol=1e-9, abs_tol=1e-6), (key, g_dd, dd)
        assert math.isclose(g_pct, pct, rel_tol=1e-9, abs_tol=1e-12), (key, g_pct, pct)
