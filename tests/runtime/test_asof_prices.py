"""The prices Spark is handed for a batch's as-of lookups (no Spark: the driver's side)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from ctc.compiler import compile_paths
from ctc.runtime import asof
from ctc.runtime.incremental import window_closes

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


def _pending(plan: object, at: list[tuple[datetime | None, datetime | None]]) -> pa.Table:
    """Pending rows with only the lookup-time columns set (what ``releases`` reads)."""
    names = [f"{asof.AT_PREFIX}{lk.name}" for lk in plan.lookups]  # type: ignore[attr-defined]
    return pa.table(
        {
            name: pa.array([row[i] for row in at], pa.timestamp("us", tz="UTC"))
            for i, name in enumerate(names)
        }
    )


def _buffer(plan: object, times: list[datetime]) -> pa.Table:
    tcol = plan.window.time_column  # type: ignore[attr-defined]
    return pa.table({tcol: pa.array(times, pa.timestamp("us", tz="UTC"))})


def test_a_batch_releases_only_when_a_row_is_ready_or_a_window_closes() -> None:
    plan = next(p for p in compile_paths([ROOT / "detectors" / "wallet-scorer.yaml"]) if p.lookups)
    assert [lk.name for lk in plan.lookups] == ["price_at_swap", "price_after"]
    assert (plan.window.size_seconds, plan.window.slide_seconds) == (30 * 86400, 86400)
    day = timedelta(days=1)
    ready = _us(T0 + 10 * day)
    quiet = dict(buffer=None, arrivals=[], previous=_us(T0), close=_us(T0) + 1, ready=ready)

    def releases(**kw: Any) -> bool:
        """Whether the whole plan runs: a row may be released, or a window closes (what
        plan_frames asks before it runs only the wait)."""
        a = {**quiet, **kw}
        return asof.releases(plan, a["pending"], a["arrivals"], a["ready"]) or window_closes(
            a["buffer"], plan.window, a["previous"], a["close"]
        )

    # nothing waits, nothing buffered: nothing to run
    assert not releases(pending=None)
    # a row waits for its price a day later than the ready time
    later = _pending(plan, [(T0 + 10 * day, T0 + 11 * day)])
    assert not releases(pending=later)
    # both of its lookup times are passed (the second exactly at the ready time)
    assert releases(pending=_pending(plan, [(T0 + 9 * day, T0 + 10 * day)]))
    # a NULL lookup time waits for nothing
    assert releases(pending=_pending(plan, [(T0 + 9 * day, None)]))
    # one ready row among waiting ones is enough
    both = pa.concat_tables([later, _pending(plan, [(T0, T0 + day)])])
    assert releases(pending=both)
    # an arriving row at or before the ready time may be ready; one after it is not
    at = pa.chunked_array([pa.array([T0 + 10 * day], pa.timestamp("us", tz="UTC"))])
    after = pa.chunked_array([pa.array([T0 + 11 * day], pa.timestamp("us", tz="UTC"))])
    assert releases(pending=later, arrivals=[at])
    assert not releases(pending=later, arrivals=[after])
    # a buffered swap at 12:00 of day 3 is in the windows ending at days 4 .. 33
    swap = _buffer(plan, [T0 + 3 * day + day / 2])
    assert not releases(pending=later, buffer=swap, previous=_us(T0), close=_us(T0 + 4 * day) - 1)
    assert releases(pending=later, buffer=swap, previous=_us(T0), close=_us(T0 + 4 * day))
    assert releases(
        pending=later, buffer=swap, previous=_us(T0 + 20 * day), close=_us(T0 + 21 * day)
    )
    # its last window ends at day 33: after that, none of its windows is open
    assert not releases(
        pending=later, buffer=swap, previous=_us(T0 + 33 * day), close=_us(T0 + 40 * day)
    )
    # the watermark does not move: nothing closes
    assert not releases(
        pending=later, buffer=swap, previous=_us(T0 + 5 * day), close=_us(T0 + 5 * day)
    )
    # a flush releases everything
    assert releases(pending=later, ready=asof.ALL_READY)
