"""Every plan over one micro-batch of new rows in one Spark job, state carried between batches.

The stages are the Plan's own SQL, the same as in batch. What differs is which rows
each view holds:

* per-row plans: every stage runs over the batch's new rows;
* window plans: the event rows of windows that have not closed yet are kept on the
  driver (the *buffer*) and put back in front of the new rows; a window is emitted once,
  in the batch where the plan's watermark passes its end; an event whose every window
  has already been emitted is late, and is counted, not used;
* baseline stages run over the closed windows of the lookback (the *history*) plus
  the windows closing now, and keep only the new ones.

Watermarks are decided on the driver before the job (:func:`watermarks`), so every
plan of every tier is one lazy DataFrame chain, and all their results (alerts, output
rows, new event rows, closed windows) come back in **one** ``toArrow`` job
(:func:`collect_all`); a plan with a baseline brings back its closed windows there, and
its alerts and output in a second job over those rows (:func:`collect_later`). A chained
plan's watermark is held at the oldest window its upstream plans may still emit, so it
never closes a window before the rows that belong in it have arrived (docs/runtime.md).

At the end of a bounded run (``flush``), every open window closes, so a bounded stream
gives what a back-test of the same input gives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ctc.compiler.plan import Plan, SourceKind, StageKind, WindowedStages, WindowPlan
from ctc.runtime import asof
from ctc.runtime.sources import ddl, empty_frame
from ctc.runtime.state import PlanState, RunState

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: A watermark past every window (epoch µs); its negative is before every event.
END_OF_TIME = 2**62
_ON_TIME = "__on_time"


def _last_window_end_us(time_col: str, size: int, slide: int) -> str:
    """SQL: the end (epoch µs) of the last window a row at ``time_col`` belongs to."""
    return (
        f"(FLOOR(UNIX_MICROS(`{time_col}`) / {slide * 1_000_000}) * {slide * 1_000_000}"
        f" + {size * 1_000_000})"
    )


def _last_end_arrow(table: pa.Table, time_col: str, size: int, slide: int) -> pa.Array:
    """The same as :func:`_last_window_end_us`, over an Arrow table on the driver."""
    ts = pc.cast(table.column(time_col), pa.int64())
    step = slide * 1_000_000
    # floor division for negative times as well
    floored = pc.multiply(pc.floor(pc.divide(pc.cast(ts, pa.float64()), step)), step)
    return pc.add(pc.cast(floored, pa.int64()), size * 1_000_000)


def window_closes(buffer: pa.Table | None, w: WindowPlan, previous: int, close: int) -> bool:
    """Whether a window holding a row of ``buffer`` ends in ``(previous, close]``, so it
    closes in this batch (a row's windows end at ``k * slide + size`` from its first end
    after it to its last, :func:`_last_end_arrow`)."""
    if buffer is None or buffer.num_rows == 0 or close <= previous:
        return False
    rows = buffer.filter(pc.is_valid(buffer.column(w.time_column)))
    t = pc.cast(rows.column(w.time_column), pa.int64()).to_numpy(zero_copy_only=False)
    last = _last_end_arrow(rows, w.time_column, w.size_seconds, w.slide_seconds)
    size, slide = w.size_seconds * 1_000_000, w.slide_seconds * 1_000_000
    lo = np.maximum(t, previous)  # an end after this ...
    hi = np.minimum(last.to_numpy(zero_copy_only=False), close)  # ... at or before this
    return bool(np.any((hi - size) // slide > (lo - size) // slide))


def window_ends_between(w: WindowPlan, previous: int, close: int) -> bool:
    """Whether any window of ``w`` ends in ``(previous, close]`` (epoch µs), whatever rows
    it holds: every window ends at ``k * slide + size``. When none does, no window can
    close in this batch."""
    if close <= previous:
        return False
    size, slide = w.size_seconds * 1_000_000, w.slide_seconds * 1_000_000
    return (close - size) // slide > (previous - size) // slide


def streams_of(plan: Plan, by_module: dict[str, Plan]) -> set[str]:
    """The source streams (``trades``, ``chain_events``) a plan reads, through its upstreams."""
    if plan.source_kind == SourceKind.STREAM:
        return {plan.source_view}
    out: set[str] = set()
    for dep in plan.depends_on:
        if dep in by_module:
            out |= streams_of(by_module[dep], by_module)
    return out


@dataclass(frozen=True)
class Marks:
    """One window plan's watermarks in this batch (epoch µs)."""

    previous: int
    #: windows ending at or before this close now (END_OF_TIME when flushing)
    close: int


def watermarks(
    plans: Sequence[Plan],
    state: RunState,
    flush: bool,
    holds: dict[str, int] | None = None,
) -> dict[str, Marks]:
    """Each window plan's watermark for this batch, in dependency order.

    A plan's watermark is the newest event time of the streams it reads (the *clock*)
    minus its watermark delay, never moving back. A plan that reads other plans is held
    at the start of the oldest window its upstream plans may still emit, so a window
    of it never closes before their rows for it have arrived. ``holds``: a further
    bound per plan (a plan with lookups: before its pending rows, :func:`asof.hold`).
    """
    by_module = {p.module: p for p in plans}
    marks: dict[str, Marks] = {}
    frontier: dict[str, int] = {}  # module -> the earliest time a future row of it can carry
    # module -> the earliest detected_at a future alert of it can carry: a window alert's
    # is its window's end, after the watermark (for a reader windowing on detected_at)
    alert_frontier: dict[str, int] = {}
    for plan in plans:
        reads = alert_frontier if _windows_on_detected_at(plan) else frontier
        upstream = [reads[d] for d in plan.depends_on if d in reads]
        if holds and plan.module in holds:
            upstream.append(holds[plan.module])
        cap = min(upstream, default=END_OF_TIME)
        if plan.window is None:
            frontier[plan.module] = alert_frontier[plan.module] = cap
            continue
        w = plan.window
        prev = state.plan(plan.module).watermark_us
        previous = prev if prev is not None else -END_OF_TIME
        if flush:
            marks[plan.module] = Marks(previous, END_OF_TIME)
            frontier[plan.module] = alert_frontier[plan.module] = END_OF_TIME
            continue
        clocks = [state.clocks[s] for s in streams_of(plan, by_module) if s in state.clocks]
        wanted = max(clocks) - w.watermark_seconds * 1_000_000 if clocks else -END_OF_TIME
        close = max(previous, min(wanted, cap))
        marks[plan.module] = Marks(previous, close)
        frontier[plan.module] = close - w.size_seconds * 1_000_000
        at_end = all(r.detected_at == "window_end" for r in plan.alert_rules)
        alert_frontier[plan.module] = close if at_end else frontier[plan.module]
    return marks


def _windows_on_detected_at(plan: Plan) -> bool:
    """Whether ``plan`` reads alerts and windows them on their ``detected_at``."""
    return (
        plan.source_kind == SourceKind.ALERTS
        and plan.window is not None
        and plan.window.time_column == "detected_at"
    )


@dataclass
class PlanFrames:
    """The results of one plan in this batch, as SQL text; ``collect_all`` fills ``arrow``."""

    plan: Plan
    marks: Marks | None
    #: kind (alerts, output, closed, events) -> a SELECT (possibly WITH ...) over views
    frames: dict[str, str]
    arrow: dict[str, pa.Table] = field(default_factory=dict)
    #: a plan with lookups: its prices with this batch's trades folded in (asof.fold)
    prices: pa.Table | None = None
    #: a plan with lookups in a batch that releases none of its rows and closes none of
    #: its windows: only its waiting rows are computed, its alerts and output are NO_ROWS
    idle: bool = False
    #: a window plan in a batch that closes none of its windows: its new event rows (from
    #: the driver, or a Spark branch of them alone; none without new rows) only join its
    #: buffer, its alerts and output are NO_ROWS
    quiet: bool = False
    #: a plan with a baseline: its alerts and output (SELECTs, for a second
    #: ``collect_all``) from the closed windows the first one brought back
    later: Callable[[pa.Table], dict[str, str]] | None = None


#: The alerts and output of a plan that emits nothing in this batch: every reader of a
#: step's tables (the sinks, the plans reading it) takes a table without rows as none.
NO_ROWS = pa.table({})


def _with(ctes: Sequence[tuple[str, str]], select: str) -> str:
    """``WITH name AS (sql), ... select`` (just ``select`` without CTEs)."""
    if not ctes:
        return select
    return "WITH " + ",\n".join(f"`{n}` AS (\n{q}\n)" for n, q in ctes) + "\n" + select


def _analysed_view(spark: SparkSession, sql: str, view: str) -> None:
    """Register ``sql`` as ``view``, analysed once for every branch that reads it. Nothing
    is cached: the branches of :func:`collect_all` that read the view hold the same
    subtree, and Spark reuses its shuffles (exchange reuse), so it runs once."""
    spark.sql(sql).createOrReplaceTempView(view)


#: Arrow tables up to this size become a local relation in Spark, larger ones an RDD
#: (``spark.sql.execution.arrow.localRelationThreshold``, set for every micro-batch): the
#: optimizer evaluates projections and filters over a local relation's rows itself, on
#: the driver, row by row, for every branch that reads it (a batch's trades).
LOCAL_RELATION_BYTES = 256 * 1024


def _state_view(
    spark: SparkSession,
    state: RunState,
    plan: Plan,
    table: str,
    columns: Sequence[tuple[str, str]],
) -> str:
    """Register ``plan``'s state ``table`` (buffer, history) of the committed version as
    a view; returns the view's name. A small table is taken from the driver's copy (a
    local relation, no file to list or read), a larger one from the committed file.

    Either way its rows reach Spark in one partition, in the table's order: a window's
    sum of doubles depends on the order its rows are added in, and the first batch after
    a restart reads the table from the file where the same process would have used its
    copy (whose size, as Arrow counts it, differs a little, so the two sides of the
    threshold can swap), so one partition keeps a replayed window's sums the same to the
    last digit."""
    view = f"__ctc_{plan.module.replace('-', '_')}__{table}"
    held: pa.Table | None = getattr(state.plan(plan.module), table)
    if held is not None and held.nbytes > LOCAL_RELATION_BYTES:
        frame = state.frame(spark, f"{plan.module}.{table}", ddl(dict(columns)))
        frame.coalesce(1).createOrReplaceTempView(view)
    else:
        _rows_view(spark, held, columns, view)
    return view


def _rows_view(
    spark: SparkSession, rows: pa.Table | None, columns: Sequence[tuple[str, str]], view: str
) -> None:
    """Register rows the driver holds as ``view``, in one partition in their order (an
    Arrow table up to :data:`LOCAL_RELATION_BYTES` is a local relation)."""
    schema = ddl(dict(columns))
    if rows is None or rows.num_rows == 0:
        frame = empty_frame(spark, schema)
    else:
        frame = spark.createDataFrame(rows, schema)
    frame.coalesce(1).createOrReplaceTempView(view)


def _shared_view(plan: Plan) -> str | None:
    """The stage view that both the alerts and the output stage read, if one does."""
    reads = {s.view: set(s.reads) for s in plan.stages}
    common = reads.get(plan.alerts_view, set()) & reads.get(plan.output_view, set())
    return next(iter(common)) if len(common) == 1 else None


def plan_frames(
    spark: SparkSession,
    plan: Plan,
    state: RunState,
    marks: Marks | None,
    trades: pa.Table | None = None,
    inputs: dict[str, str] | None = None,
    arrivals: Sequence[pa.ChunkedArray] | None = None,
    new_rows: bool = True,
) -> PlanFrames:
    """``plan``'s results in this batch as SQL text over the new rows in its source view
    and, for a window plan, the buffer and history of ``state``'s committed version.

    The plan's stages become CTEs, so a plan costs a few calls into Spark, not two per
    stage. A window plan's closed windows and the stage that both the alerts and the
    output read are views analysed once (:func:`_analysed_view`). ``trades``: the
    batch's passed trades on the driver.
    ``inputs``: views the plan's SQL names (``alerts``) -> the view that holds its rows
    in this batch (the text is analysed later, when other plans' views have changed).
    ``arrivals``: a plan with lookups: the event times of the rows reaching it now (None:
    not known); when the batch can release none of its rows and close none of its
    windows (:func:`asof.releases`), only the wait runs (``PlanFrames.idle``).
    ``new_rows``: False when the plan's source has no rows in this batch, so a batch that
    closes none of its windows computes nothing (``PlanFrames.quiet``).
    """
    lead = [(name, f"SELECT * FROM `{view}`") for name, view in (inputs or {}).items()]
    if plan.window is None or marks is None:
        ctes = lead + [(s.view, s.sql) for s in plan.stages]
        per_row = {
            "alerts": _with(ctes, f"SELECT * FROM `{plan.alerts_view}`"),
            "output": _with(ctes, f"SELECT * FROM `{plan.output_view}`"),
        }
        return PlanFrames(plan, None, per_row)

    w = plan.window
    split = plan.windowed()  # raises PlanShapeError for a shape that would lose history
    pre, agg = split.before, split.aggregate
    event_stage = plan.event_stage
    event_cols = ", ".join(f"`{c}`" for c, _ in event_stage.columns)
    ev, new = plan.event_view, f"{plan.event_view}__new"
    tcol = f"`{w.time_column}`"
    last_end = _last_window_end_us(w.time_column, w.size_seconds, w.slide_seconds)
    end_us = "UNIX_MICROS(window_end)"
    # the stages up to the event stage run over the new rows; those after it (a running
    # stage) over the buffered and new rows of the open windows, as the aggregate does
    at = pre.index(event_stage) + 1
    rows = [(new if s.view == ev else s.view, s.sql) for s in pre[:at]]
    frames: dict[str, str] = {}
    prices = None
    if plan.lookups:  # rows wait for their lookup times (ctc.runtime.asof)
        ps = state.plan(plan.module)
        prices = asof.fold(plan, ps.prices, trades)
        prices_view = f"__ctc_{plan.module.replace('-', '_')}__prices"
        columns = asof.price_columns(plan)
        ready = asof.ready_us(plan, state.clocks, marks.close == END_OF_TIME)
        pending_view = _state_view(spark, state, plan, "pending", asof.pending_columns(plan))
        wait = asof.stream_ctes(plan, rows, pending_view, prices_view, marks.previous, ready)
        rows = wait.ctes
        # the waiting rows and the flags read none of the lookups (Spark analyses every
        # CTE of a query, read or not)
        frames["arrived"] = _with(lead + rows[: wait.wait], wait.flags)
        idle = (
            arrivals is not None
            and not asof.releases(plan, ps.pending, arrivals, ready)
            and not window_closes(ps.buffer, w, marks.previous, marks.close)
        )
        if idle:  # nothing to look up, no window to close: the rows only wait
            frames["waiting"] = _with(lead + rows[: wait.wait], wait.queued)
            step = PlanFrames(plan, marks, frames, prices=prices, idle=True)
            step.arrow["alerts"] = step.arrow["output"] = NO_ROWS
            return step
        frames["waiting"] = _with(lead + rows[: wait.wait], wait.still)
        read = asof.visible(plan, prices, ready)
        if read is None or read.num_rows == 0:
            empty_frame(spark, ddl(dict(columns))).createOrReplaceTempView(prices_view)
        else:
            spark.createDataFrame(read, ddl(dict(columns))).createOrReplaceTempView(prices_view)
    events = None  # the new event rows, when the driver has them (a projection of trades)
    if trades is not None and event_stage.kind is StageKind.INPUT and plan.source_view == "trades":
        events = _events_from(trades, [c for c, _ in event_stage.columns], w.time_column, w, marks)
    # the new event rows in Spark, when the driver does not have them
    events_sql = _with(
        lead + rows,
        f"SELECT {event_cols}, {last_end} > {marks.previous} AS {_ON_TIME} "
        f"FROM `{new}` WHERE {tcol} IS NOT NULL",
    )
    if not plan.lookups and _quiet(w, marks, state.plan(plan.module).buffer, events):
        # live, most micro-batches close no window: every result of a window plan comes
        # from the windows closing now, so the batch's rows only join the buffer
        step = PlanFrames(plan, marks, frames, quiet=True)
        step.arrow.update(alerts=NO_ROWS, output=NO_ROWS)
        if events is not None:
            step.arrow["events"] = events
        elif new_rows:
            frames["events"] = events_sql
        return step  # without events (no new rows), the buffer stays as it is
    buffer_view = _state_view(spark, state, plan, "buffer", event_stage.columns)
    ctes = lead + rows
    first = len(ctes)
    ctes += [
        (
            ev,
            f"SELECT {event_cols} FROM `{buffer_view}` UNION ALL SELECT {event_cols} "
            f"FROM `{new}` WHERE {tcol} IS NOT NULL AND {last_end} > {marks.previous}",
        ),
        *[(s.view, s.sql) for s in pre[at:]],
        (
            agg.view,
            f"SELECT * FROM (\n{agg.sql}\n) AS __agg "
            f"WHERE {end_us} <= {marks.close} AND {end_us} > {marks.previous}",
        ),
    ]
    # the event rows (buffered and new), for a stage after the aggregation that reads them
    event_ctes = ctes[: first + 1]
    step = PlanFrames(plan, marks, frames, prices=prices)
    if events is not None:
        step.arrow["events"] = events
    else:
        frames["events"] = events_sql
    if split.baseline is None:
        step.frames.update(_after_frames(spark, plan, split, ctes, event_ctes))
        return step
    # a plan with a baseline: its closed windows come back in the level's job, and its
    # alerts and output in a second one (step.later) over those rows from the driver, so
    # the windows' aggregation runs once, not again under each branch that reads them
    frames["closed"] = _with(ctes, f"SELECT * FROM `{agg.view}`")
    base = split.baseline
    closed_view = f"__ctc_{agg.view}__closed"

    def later(closed: pa.Table) -> dict[str, str]:
        # the history (the committed version's: state moves on after every level) is
        # only read when a window closed, so it is registered only then
        history_view = _state_view(spark, state, plan, "history", agg.columns)
        _rows_view(spark, closed, agg.columns, closed_view)
        after = [
            (agg.view, f"SELECT * FROM `{history_view}` UNION ALL SELECT * FROM `{closed_view}`"),
            (
                base.view,
                f"SELECT * FROM (\n{base.sql}\n) AS __base WHERE {end_us} > {marks.previous}",
            ),
        ]
        return _after_frames(spark, plan, split, after, event_ctes)

    step.later = later
    return step


def _after_frames(
    spark: SparkSession,
    plan: Plan,
    split: WindowedStages,
    ctes: list[tuple[str, str]],
    event_ctes: list[tuple[str, str]],
) -> dict[str, str]:
    """The alerts and output of a window plan: its stages after the aggregation over
    ``ctes`` (the windows closing now, or their baseline), with the buffered and new
    event rows (``event_ctes``) for a stage that reads them. The stage that both read is
    a view analysed once (:func:`_analysed_view`)."""
    ev = plan.event_view
    shared = _shared_view(plan)
    for stage in split.after:
        if ev in stage.reads and all(name != ev for name, _ in ctes):
            ctes = event_ctes + ctes  # window_rows: the rows of the windows closing now
        if stage.view == shared:
            _analysed_view(
                spark,
                _with([*ctes, (stage.view, stage.sql)], f"SELECT * FROM `{stage.view}`"),
                stage.view,
            )
            ctes = []
        else:
            ctes = [*ctes, (stage.view, stage.sql)]
    return {
        "alerts": _with(ctes, f"SELECT * FROM `{plan.alerts_view}`"),
        "output": _with(ctes, f"SELECT * FROM `{plan.output_view}`"),
    }


def _quiet(w: WindowPlan, marks: Marks, buffer: pa.Table | None, events: pa.Table | None) -> bool:
    """Whether no window of the plan closes in this batch: none of ``w`` ends between
    the watermarks, or the new event rows are known (``events``) and neither they nor
    the buffered rows lie in a window that does."""
    if not window_ends_between(w, marks.previous, marks.close):
        return True
    if events is None:
        return False
    return not any(window_closes(t, w, marks.previous, marks.close) for t in (buffer, events))


def _events_from(
    trades: pa.Table, columns: list[str], time_column: str, w: WindowPlan, marks: Marks
) -> pa.Table:
    """The new event rows of a plan whose event view is its input stage over ``trades``
    (a projection): taken from the gate's rows on the driver instead of a Spark branch."""
    rows = trades.select(columns)
    rows = rows.filter(pc.is_valid(rows.column(time_column)))
    ends = _last_end_arrow(rows, time_column, w.size_seconds, w.slide_seconds)
    return rows.append_column(_ON_TIME, pc.greater(ends, marks.previous))


#: (module, frame kind) -> the Spark struct type of the frame's rows and its field names
SchemaMemo = dict[tuple[str, str], tuple[str, list[str]]]


def collect_all(
    spark: SparkSession, steps: Sequence[PlanFrames], schemas: SchemaMemo | None = None
) -> None:
    """Every frame of every step to the driver in one Spark job: one SQL query, a
    ``UNION ALL`` of one struct column per frame (the other frames' columns null there).

    A frame's row type is the same batch after batch (only literals change), so it is
    found once (``schemas``, kept by the caller) and the query is one call into Spark.
    """
    memo = schemas if schemas is not None else {}
    keys: list[tuple[PlanFrames, str]] = []
    types: list[str] = []
    texts: list[tuple[str, list[str]]] = []
    for step in steps:
        for kind, sql in step.frames.items():
            key = (step.plan.module, kind)
            if key not in memo:
                # every field nullable: the other branches' rows hold a null struct here
                fields = spark.sql(sql).schema.fields
                struct = ", ".join(f"`{f.name}`: {f.dataType.simpleString()}" for f in fields)
                memo[key] = (f"STRUCT<{struct}>", [f.name for f in fields])
            keys.append((step, kind))
            types.append(memo[key][0])
            texts.append((sql, memo[key][1]))
    if not keys:
        return
    selects = []
    for i, (sql, names) in enumerate(texts):
        items = [f"{i} AS _b"]
        for j, typ in enumerate(types):
            if j == i:
                cols = ", ".join(f"`{n}`" for n in names)
                items.append(f"CAST(STRUCT({cols}) AS {typ}) AS b{j}")
            else:
                items.append(f"CAST(NULL AS {typ}) AS b{j}")
        selects.append(f"SELECT {', '.join(items)} FROM (\n{sql}\n) AS __f{i}")
    table = spark.sql("\nUNION ALL\n".join(selects)).toArrow()
    branch = table.column("_b")
    for i, (step, kind) in enumerate(keys):
        column = table.column(f"b{i}")
        rows = column.filter(pc.equal(branch, i))
        schema = pa.schema(list(column.type))
        batches = [pa.RecordBatch.from_struct_array(c) for c in rows.chunks if len(c)]
        step.arrow[kind] = pa.Table.from_batches(batches, schema=schema)


def collect_later(
    spark: SparkSession, steps: Sequence[PlanFrames], schemas: SchemaMemo | None = None
) -> None:
    """After :func:`collect_all`: the alerts and output of the plans with a baseline
    (``PlanFrames.later``), in one more job over the closed windows the first brought
    back; none when no window closed (every result of a window plan comes from the
    windows closing now)."""
    second = []
    for step in steps:
        if step.later is None:
            continue
        closed = step.arrow["closed"]
        if closed.num_rows == 0:
            step.arrow.update(alerts=NO_ROWS, output=NO_ROWS)
        else:
            step.frames = step.later(closed)
            second.append(step)
    collect_all(spark, second, schemas)


def advance(step: PlanFrames, ps: PlanState) -> int:
    """After :func:`collect_all`: fold the new rows into the plan's state for the next
    batch; return how many new events were late."""
    plan, marks = step.plan, step.marks
    assert plan.window is not None and marks is not None
    w = plan.window
    late = 0
    events = step.arrow.get("events")
    if events is None:  # idle, or quiet without new rows: no window closes, the buffer stays
        wm = marks.close
    else:
        on_time = events.column(_ON_TIME)
        late = int(pc.sum(pc.cast(pc.invert(on_time), pa.int64())).as_py() or 0)
        accepted = events.filter(on_time).drop_columns([_ON_TIME])
        parts = [t for t in (ps.buffer, accepted) if t is not None and t.num_rows]
        buffer = pa.concat_tables([p.cast(accepted.schema) for p in parts]) if parts else accepted
        ends = _last_end_arrow(buffer, w.time_column, w.size_seconds, w.slide_seconds)
        if marks.close == END_OF_TIME:
            # a flush closed every window holding a row, and no later one: rows after them,
            # in a later run, are still on time
            top = pc.max(ends).as_py() if buffer.num_rows else None
            wm = max(v for v in (marks.previous, top, -END_OF_TIME + 1) if v is not None)
        else:
            wm = marks.close
        ps.buffer = buffer.filter(pc.greater(ends, wm))
    ps.watermark_us = wm
    closed = step.arrow.get("closed")
    if closed is None and (step.idle or step.quiet) and ps.history is not None:
        closed = ps.history.slice(0, 0)  # none closed now; the lookback still moves on
    if closed is not None:
        hist = [t for t in (ps.history, closed) if t is not None and t.num_rows]
        both = pa.concat_tables([h.cast(closed.schema) for h in hist]) if hist else closed
        keep_from = wm - (w.baseline_lookback_seconds + 2 * w.size_seconds) * 1_000_000
        starts = pc.cast(both.column("window_start"), pa.int64())
        ps.history = both.filter(pc.greater_equal(starts, keep_from))
    if plan.lookups:  # the rows still waiting for their lookup times, and the prices
        arrived = step.arrow["arrived"].column("__on_time")
        late += int(pc.sum(pc.cast(pc.invert(arrived), pa.int64())).as_py() or 0)
        ps.pending = step.arrow["waiting"]
        ps.prices = asof.prune(plan, step.prices, wm)
    return late
