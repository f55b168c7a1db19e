"""The prices Spark is handed for a batch's as-of lookups (no Spark: the driver's side)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from ctc.compiler import compile_paths
from ctc.runtime import asof

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _us(t: datetime) -> int:
    return int(t.timestamp() * 1_000_000)


def _prices(plan: object) -> pa.Table:
    cols = dict(asof.price_columns(plan))  # type: ignore[arg-type]
    rows = [T0 + timedelta(seconds=s) for s in (0, 10, 20, 30)]
    data = {
        name: (
            pa.array(rows, pa.timestamp("us", tz="UTC"))
            if typ == "timestamp"
            else pa.array([1.0, 2.0, 3.0, 4.0])
            if typ == "double"
            else pa.array([f"{name}-{i}" for i in range(4)])
        )
        for name, typ in cols.items()
    }
    return pa.table(data)


def test_only_prices_at_or_before_the_ready_time_are_handed_to_spark() -> None:
    plan = next(p for p in compile_paths([ROOT / "detectors" / "wallet-scorer.yaml"]) if p.lookups)
    prices = _prices(plan)
    time_col = plan.lookups[0].time_column
    seen = asof.visible(plan, prices, _us(T0 + timedelta(seconds=20)))
    assert seen is not None
    # a lookup released now has its time at or before the ready time: 0, 10 and 20 s
    assert [t.second for t in seen.column(time_col).to_pylist()] == [0, 10, 20]
    nothing = asof.visible(plan, prices, _us(T0) - 1)
    assert nothing is not None and nothing.num_rows == 0
    # a flush releases every row: every price is readable
    assert asof.visible(plan, prices, asof.ALL_READY) is prices
