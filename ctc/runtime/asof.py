"""As-of lookups in the stream (``lookups:`` of a ``mode: streaming`` window plan).

A row of the plan reaches its lookups only when every lookup time of it (``at``) is
passed by the looked-up stream's watermark: the ``trades`` clock minus the plan's
watermark delay. Until then it waits in the plan's **pending** rows (the rows of the
stage before the first lookup, with their lookup times). When it is released, the
plan's own lookup SQL (the batch SQL) joins it with the **prices**: per match key and
second ``S``, the last trade in ``(S - 1 s, S]`` (by time, then id). For a lookup time in
whole seconds and a ``within`` in whole seconds, the last trade of that table in
``(at - within, at]`` is the last trade of the whole stream there, so the stream joins
what the batch joins. A lookup time that is not a whole second, or before the row's
event time, stops the batch with an error rather than giving another answer.

The window is held so that it never closes before its pending rows are in
(:func:`hold`), and a row whose event time is at or before the plan's watermark when it
arrives is late (counted, not used). The prices are kept from the plan's watermark
minus the longest ``within`` on: every later lookup time is after the watermark.
Both tables are part of the run state, committed with each batch.

Most batches of a live run or a replay release nothing: the lookup times are a day
ahead of the trades. Such a batch (:func:`releases` is false, and no window of the plan
closes) runs only the wait, the new rows joining the pending ones, not the lookups,
windows and scores after it, which would emit nothing. An arriving row is then kept
waiting even if a lookup time of it is NULL (such a row is ready at once): it is
released in the next batch that runs the whole plan, which is the next batch, since a
pending row that is ready makes it so. Its window is held before it meanwhile, so it is
late for nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ctc.compiler.catalog import STREAMS
from ctc.compiler.plan import Plan, PlanShapeError, Stage, StageKind

#: A time past every lookup time (epoch µs): everything is ready (a flush).
ALL_READY = 2**62
#: The column holding a pending row's lookup time of lookup ``name``.
AT_PREFIX = "__at_"
_SECOND = 1_000_000


def arrival_stage(plan: Plan) -> Stage:
    """The stage before the plan's first lookup: its rows are what waits."""
    kinds = [s.kind for s in plan.stages]
    first = kinds.index(StageKind.LOOKUP)
    if first == 0:
        raise PlanShapeError(f"{plan.module}: a lookup stage cannot be the first stage")
    return plan.stages[first - 1]


def pending_columns(plan: Plan) -> tuple[tuple[str, str], ...]:
    """The pending rows' columns: the arrival stage's and each lookup time."""
    return arrival_stage(plan).columns + tuple(
        (f"{AT_PREFIX}{lk.name}", "timestamp") for lk in plan.lookups
    )


def price_columns(plan: Plan) -> tuple[tuple[str, str], ...]:
    """The prices' columns: the looked-up stream's match columns, time, id and values."""
    names: list[str] = []
    for lk in plan.lookups:
        for col in (*(c for c, _ in lk.match), lk.time_column, lk.id_column, lk.value):
            if col not in names:
                names.append(col)
    stream = STREAMS[plan.lookups[0].source].columns
    return tuple((n, stream[n]) for n in names)


def _keys(plan: Plan) -> list[str]:
    out: list[str] = []
    for lk in plan.lookups:
        out += [c for c, _ in lk.match if c not in out]
    return out


def fold(plan: Plan, prices: pa.Table | None, trades: pa.Table | None) -> pa.Table | None:
    """``prices`` with the batch's ``trades`` folded in: per match key and second, the
    last trade (by time, then id)."""
    cols = [c for c, _ in price_columns(plan)]
    parts = [t.select(cols) for t in (prices, trades) if t is not None and t.num_rows]
    if not parts:
        return prices
    lk = plan.lookups[0]
    both = pa.concat_tables([p.cast(parts[-1].schema) for p in parts])
    keys = _keys(plan)
    for col in (*keys, lk.time_column):
        both = both.filter(pc.is_valid(both.column(col)))
    us = pc.cast(both.column(lk.time_column), pa.int64()).to_numpy()
    second = -(-us // _SECOND)  # the second S whose (S - 1, S] holds the time
    both = both.append_column("__second", pa.array(second, pa.int64()))
    order = [(k, "ascending") for k in (*keys, "__second")] + [
        (lk.time_column, "descending"),
        (lk.id_column, "descending"),
    ]
    both = both.sort_by(order)
    # the first row of each (keys, second) run is the last trade of that second
    first = np.ones(both.num_rows, dtype=bool)
    same = np.ones(max(both.num_rows - 1, 0), dtype=bool)
    for k in (*keys, "__second"):
        values = both.column(k).to_numpy(zero_copy_only=False)
        same &= values[1:] == values[:-1]
    first[1:] = ~same
    return both.filter(pa.array(first)).drop_columns(["__second"])


def prune(plan: Plan, prices: pa.Table | None, watermark_us: int) -> pa.Table | None:
    """The prices a later lookup may read: every later lookup time is after the plan's
    watermark (a pending row's event time is, and its lookup times are not before it),
    so a second ``S`` is kept while ``S > watermark - within``."""
    if prices is None or prices.num_rows == 0:
        return prices
    lk = plan.lookups[0]
    within = max(x.within_seconds for x in plan.lookups) * _SECOND
    us = pc.cast(prices.column(lk.time_column), pa.int64()).to_numpy()
    second_end = -(-us // _SECOND) * _SECOND
    return prices.filter(pa.array(second_end > watermark_us - within))


def visible(plan: Plan, prices: pa.Table | None, ready: int) -> pa.Table | None:
    """The prices a lookup of this batch can read: only rows whose lookup times are at or
    before ``ready`` are released, and a lookup reads trades at or before its time, so a
    price after ``ready`` is never read now. Spark gets these alone (in a live run or a
    replay most batches release nothing and get none), the state keeps every price."""
    if prices is None or prices.num_rows == 0 or ready >= ALL_READY:
        return prices
    us = pc.cast(prices.column(plan.lookups[0].time_column), pa.int64())
    return prices.filter(pc.less_equal(us, ready))


def ready_us(plan: Plan, clocks: dict[str, int], flush: bool) -> int:
    """Lookup times up to this (epoch µs) are passed: the looked-up stream's clock minus
    the plan's watermark delay (everything when flushing)."""
    if flush:
        return ALL_READY
    assert plan.window is not None
    clock = clocks.get(plan.lookups[0].source)
    if clock is None:
        return -ALL_READY
    return clock - plan.window.watermark_seconds * _SECOND


def hold(
    plan: Plan, pending: pa.Table | None, arrivals: Sequence[pa.ChunkedArray], previous: int
) -> int | None:
    """The latest the plan's window watermark may go in this batch: before the earliest
    event time of its pending rows and of the on-time rows arriving now, so no window
    closes before they are in (None: nothing holds it)."""
    assert plan.window is not None
    tcol = plan.window.time_column
    cols = [c for c in arrivals]
    if pending is not None and pending.num_rows:
        cols.append(pending.column(tcol))
    lows = []
    for c in cols:
        us = pc.cast(c, pa.int64())
        on_time = pc.filter(us, pc.greater(us, previous))
        low = pc.min(on_time).as_py() if len(on_time) else None
        if low is not None:
            lows.append(low)
    return min(lows) - 1 if lows else None


def releases(
    plan: Plan, pending: pa.Table | None, arrivals: Sequence[pa.ChunkedArray], ready: int
) -> bool:
    """Whether this batch may release a row of ``plan`` to its lookups: a pending row is
    ready (every lookup time NULL or at or before ``ready``), or an arriving row's event
    time is at or before ``ready`` (its lookup times are not before it)."""
    if ready >= ALL_READY:
        return True
    if pending is not None and pending.num_rows:
        now = None
        for lk in plan.lookups:
            at = pc.cast(pending.column(f"{AT_PREFIX}{lk.name}"), pa.int64())
            passed = pc.or_kleene(pc.is_null(at), pc.less_equal(at, ready))
            now = passed if now is None else pc.and_(now, passed)
        if now is not None and pc.any(now).as_py():
            return True
    for times in arrivals:
        low = pc.min(pc.cast(times, pa.int64())).as_py()
        if low is not None and low <= ready:
            return True
    return False


@dataclass(frozen=True)
class StreamCtes:
    """The CTEs of a plan with lookups in the stream, and SELECTs over them."""

    #: (view, SQL): the row stages with the wait, the lookups and the stages after them
    ctes: list[tuple[str, str]]
    #: how many leading CTEs the three SELECTs below read (none of the lookups)
    wait: int
    #: the rows still waiting after this batch
    still: str
    #: the arriving rows' on-time flags
    flags: str
    #: every waiting row, ready or not (what waits when the batch releases none)
    queued: str


def stream_ctes(
    plan: Plan,
    rows: list[tuple[str, str]],
    pending_view: str,
    prices_view: str,
    previous: int,
    ready: int,
) -> StreamCtes:
    """The row stages (``rows``: (view, SQL), up to the event stage, over the new rows)
    with the wait: the arrival stage's new rows join the pending rows, the ready ones go
    on to the lookups (whose ``trades`` is the prices), the others wait."""
    assert plan.window is not None
    arrival = arrival_stage(plan).view
    tcol = f"`{plan.window.time_column}`"
    names = [c for c, _ in arrival_stage(plan).columns]
    cols = ", ".join(f"`{c}`" for c in names)
    at_cols = [f"`{AT_PREFIX}{lk.name}`" for lk in plan.lookups]
    bad = " OR ".join(
        f"({lk.at_sql}) IS NOT NULL AND (UNIX_MICROS({lk.at_sql}) % {_SECOND} <> 0 "
        f"OR ({lk.at_sql}) < {tcol})"
        for lk in plan.lookups
    )
    message = (
        f"{plan.module}: a lookup time in the stream must be a whole second, not before "
        "the event time of its row (docs/dsl.md, lookups)"
    )
    check = f"CASE WHEN {bad} THEN CAST(RAISE_ERROR('{message}') AS BOOLEAN) ELSE TRUE END"
    ats = ", ".join(f"{lk.at_sql} AS `{AT_PREFIX}{lk.name}`" for lk in plan.lookups)
    is_ready = " AND ".join(f"COALESCE(UNIX_MICROS({c}) <= {ready}, TRUE)" for c in at_cols)
    waiting = f"{arrival}__waiting"
    out: list[tuple[str, str]] = []
    for view, sql in rows:
        if view == arrival:
            out += [
                (f"{arrival}__arrived", sql),
                (
                    waiting,
                    f"SELECT {cols}, {', '.join(at_cols)} FROM `{pending_view}`\n"
                    f"UNION ALL\nSELECT {cols}, {ats} FROM `{arrival}__arrived`\n"
                    f"WHERE {tcol} IS NOT NULL AND UNIX_MICROS({tcol}) > {previous} AND {check}",
                ),
                (arrival, f"SELECT {cols} FROM `{waiting}` WHERE {is_ready}"),
                ("trades", f"SELECT * FROM `{prices_view}`"),
            ]
        else:
            out.append((view, sql))
    still = f"SELECT * FROM `{waiting}` WHERE NOT ({is_ready})"
    flags = (
        f"SELECT UNIX_MICROS({tcol}) > {previous} AS __on_time FROM `{arrival}__arrived` "
        f"WHERE {tcol} IS NOT NULL"
    )
    wait = next(i for i, (name, _) in enumerate(out) if name == waiting) + 1
    return StreamCtes(out, wait, still, flags, f"SELECT * FROM `{waiting}`")
