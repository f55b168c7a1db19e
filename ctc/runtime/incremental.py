"""Run a Plan over one micro-batch of new rows, carrying window state between batches.

The stages are the Plan's own SQL, the same as in batch. What differs is which rows
each view holds:

* per-row plans: every stage runs over the batch's new rows;
* window plans: the rows of windows that have not closed yet are kept (the *buffer*);
  a window is emitted once, in the batch where the watermark (the largest event time
  seen minus the plan's watermark delay) passes its end, computed by the aggregate
  stage over the buffer; an event whose every window has already been emitted is late
  and is counted, not used;
* baseline stages run over the closed windows of the lookback (the *history*) plus
  the windows closing now, and keep only the new ones.

At the end of a bounded run (``flush``), the watermark moves to the end of time and
every open window closes, so a bounded stream gives what a back-test of the same
input gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctc.compiler.plan import Plan, Stage
from ctc.runtime.sources import ddl
from ctc.runtime.state import StateVersion

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_END_OF_TIME = 2**62  # µs; a watermark before any event is -_END_OF_TIME


@dataclass
class PlanBatch:
    """What one plan produced in one micro-batch, and its state for the next one."""

    alerts: DataFrame
    output: DataFrame
    state_tables: dict[str, DataFrame]
    meta: dict[str, Any]
    late_events: int


def _last_window_end_us(time_col: str, size: int, slide: int) -> str:
    """SQL: the end (epoch µs) of the last window a row at ``time_col`` belongs to."""
    return (
        f"(FLOOR(UNIX_MICROS(`{time_col}`) / {slide * 1_000_000}) * {slide * 1_000_000}"
        f" + {size * 1_000_000})"
    )


def _run(spark: SparkSession, stage: Stage) -> DataFrame:
    df = spark.sql(stage.sql)
    df.createOrReplaceTempView(stage.view)
    return df


def _schema(columns: tuple[tuple[str, str], ...]) -> str:
    return ddl(dict(columns))


def run_plan_batch(spark: SparkSession, plan: Plan, state: StateVersion, flush: bool) -> PlanBatch:
    """Run ``plan`` over the new rows in its source view; return its results and state."""
    from pyspark.sql import functions as F

    if plan.window is None:
        for stage in plan.stages:
            _run(spark, stage)
        return PlanBatch(spark.table(plan.alerts_view), spark.table(plan.output_view), {}, {}, 0)

    w = plan.window
    key = plan.module
    prefix = f"{plan.module}__"
    meta_in: dict[str, Any] = state.meta.get("plans", {}).get(key, {})
    wm_prev: int | None = meta_in.get("watermark_us")
    maxt_prev: int | None = meta_in.get("max_event_us")
    stages = list(plan.stages)
    agg_i = next(i for i, s in enumerate(stages) if s.kind == "aggregate")
    pre, agg, post = stages[:agg_i], stages[agg_i], stages[agg_i + 1 :]
    for stage in pre:
        _run(spark, stage)
    event_stage = next(s for s in pre if s.view == plan.event_view)
    event_schema = _schema(event_stage.columns)
    new_events = spark.table(plan.event_view).where(F.col(w.time_column).isNotNull())
    last_end = F.expr(_last_window_end_us(w.time_column, w.size_seconds, w.slide_seconds))
    # on time: the row's last window has not been emitted yet (one pass counts both kinds)
    on_time = last_end > F.lit(wm_prev) if wm_prev is not None else F.lit(True)
    accepted = new_events.where(on_time)
    stats = new_events.agg(
        F.max(F.when(on_time, F.expr(f"UNIX_MICROS(`{w.time_column}`)"))).alias("m"),
        F.count_if(~on_time).alias("late"),
    ).collect()[0]
    late_events = int(stats["late"] or 0)
    max_new = stats["m"]
    maxt = (
        max(v for v in (maxt_prev, max_new) if v is not None)
        if (maxt_prev is not None or max_new is not None)
        else None
    )
    if flush:
        wm = -_END_OF_TIME  # set below, once the buffer is known
    elif maxt is not None:
        wm = maxt - w.watermark_seconds * 1_000_000
        wm = max(wm, wm_prev) if wm_prev is not None else wm
    else:
        wm = wm_prev if wm_prev is not None else -_END_OF_TIME

    buffer = state.table(spark, f"{prefix}buffer", event_schema).unionByName(
        accepted.select(*[F.col(f"`{c}`") for c, _ in event_stage.columns])
    )
    buffer = buffer.cache()
    buffer.createOrReplaceTempView(plan.event_view)
    if flush:
        # close every window that holds a buffered row, and no later one: events after
        # them, in a later run, are still on time
        last = buffer.agg(F.max(last_end)).collect()[0][0]
        wm = max(v for v in (wm_prev, last, -_END_OF_TIME + 1) if v is not None)
    closed = (
        spark.sql(agg.sql)
        .where(
            (F.expr("UNIX_MICROS(window_end)") <= F.lit(wm))
            & (
                F.expr("UNIX_MICROS(window_end)")
                > F.lit(wm_prev if wm_prev is not None else -_END_OF_TIME)
            )
        )
        .cache()
    )
    closed.createOrReplaceTempView(agg.view)

    tables: dict[str, DataFrame] = {}
    rest = post
    if post and post[0].kind == "baseline":
        base = post[0]
        agg_schema = _schema(agg.columns)
        history = state.table(spark, f"{prefix}history", agg_schema)
        both = history.unionByName(closed)
        both.createOrReplaceTempView(agg.view)
        lower_bound = wm_prev if wm_prev is not None else -_END_OF_TIME
        spark.sql(base.sql).where(
            F.expr("UNIX_MICROS(window_end)") > F.lit(lower_bound)
        ).createOrReplaceTempView(base.view)
        lookback = w.baseline_lookback_seconds
        keep_from = wm - (lookback + 2 * w.size_seconds) * 1_000_000
        tables[f"{prefix}history"] = both.where(
            F.expr("UNIX_MICROS(window_start)") >= F.lit(keep_from)
        )
        rest = post[1:]
    for stage in rest:
        _run(spark, stage)
    tables[f"{prefix}buffer"] = buffer.where(last_end > F.lit(wm))
    meta = {"watermark_us": wm, "max_event_us": maxt}
    return PlanBatch(
        spark.table(plan.alerts_view),
        spark.table(plan.output_view),
        tables,
        meta,
        late_events,
    )
