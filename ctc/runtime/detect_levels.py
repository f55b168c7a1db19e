"""Every streaming plan over one gated micro-batch, level by level.

A level is the plans that read nothing but the source streams and the levels before it
(:func:`plan_levels`). Each level is one Spark job (:func:`ctc.runtime.incremental.collect_all`)
that reads only the small collected results of the levels before it, so no upstream plan
is computed again inside a downstream plan's branch; a second one when a plan with a
baseline closed windows (:func:`ctc.runtime.incremental.collect_later`). Plans with no
new input and nothing buffered are left out; their watermark still moves. After the last
level each window plan's state is folded forward (:func:`ctc.runtime.incremental.advance`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from ctc.compiler.plan import Plan, PlanShapeError, SourceKind
from ctc.events import ALERT_FIELDS
from ctc.runtime import asof
from ctc.runtime.incremental import (
    LOCAL_RELATION_BYTES,
    Marks,
    PlanFrames,
    SchemaMemo,
    advance,
    collect_all,
    collect_later,
    plan_frames,
    watermarks,
)
from ctc.runtime.sources import ddl, empty, empty_frame, read_reference
from ctc.runtime.state import RunState
from ctc.runtime.stream_gate import PASSED_DDL, GatedBatch

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Spark DDL of an alerts view.
_ALERTS_DDL = ddl(ALERT_FIELDS)


def _arrow_frame(spark: SparkSession, table: pa.Table, schema: str) -> DataFrame:
    """A small collected result back in Spark (a local relation)."""
    if table.num_rows == 0:
        return empty_frame(spark, schema)
    return spark.createDataFrame(table, schema)


def _nothing_to_do(plan: Plan, state: RunState, new_rows: bool) -> bool:
    """Whether ``plan`` has no new input rows (``new_rows``: :func:`_new_rows`) and no
    buffered rows, so it cannot emit anything in this batch (its Spark branches are left
    out)."""
    ps = state.plan(plan.module) if plan.window is not None else None
    for held in (ps.buffer, ps.pending) if ps is not None else ():
        if held is not None and held.num_rows:
            return False
    return not new_rows


def _new_rows(plan: Plan, stream_rows: dict[str, int], done: dict[str, PlanFrames]) -> bool:
    """Whether ``plan``'s source may hold rows in this batch (True when not known)."""
    if plan.source_kind == SourceKind.STREAM:
        return stream_rows.get(plan.source_view, 1) != 0
    if plan.source_kind == SourceKind.DETECTOR:
        return any(d in done and done[d].arrow["output"].num_rows for d in plan.depends_on)
    if plan.source_kind == SourceKind.ALERTS:
        return any(m in done and done[m].arrow["alerts"].num_rows for m in plan.source_modules)
    return True


def _arrivals(plan: Plan, gated: GatedBatch, done: dict[str, PlanFrames]) -> list[pa.ChunkedArray]:
    """The event times of the rows reaching ``plan`` (a plan with lookups) in this
    batch: its source's rows of this batch, which carry its window's time column."""
    if plan.window is None:
        return []
    tcol = plan.window.time_column
    if plan.source_kind == SourceKind.DETECTOR:
        tables = [done[d].arrow["output"] for d in plan.depends_on if d in done]
    elif plan.source_kind == SourceKind.ALERTS:
        tables = [done[d].arrow["alerts"] for d in plan.source_modules if d in done]
    elif plan.source_view == "trades":
        tables = [gated.passed]
    else:
        raise PlanShapeError(
            f"{plan.module}: lookups in the stream need a source of trades, "
            "alerts or another detector's rows"
        )
    if any(tcol not in t.column_names for t in tables if t.num_rows):
        raise PlanShapeError(f"{plan.module}: the event time {tcol} is not a column of its source")
    return [t.column(tcol) for t in tables if t.num_rows]


def batch_settings(spark: SparkSession, compiled_gate: bool = False) -> None:
    """Session settings of a micro-batch's queries: no generated code, neither whole
    stages nor single expressions (interpreted instead), since each batch's detector
    queries are new to Spark and for their rows compiling costs more than it saves: the
    Java compiler and then the JVM's JIT over each new class (ADR 0008, fifth revision);
    and only small Arrow tables made local relations (:data:`LOCAL_RELATION_BYTES`).

    ``compiled_gate``: the settings of the quality gate's query in a bounded run
    (``--until-idle``, a backlog's large batches): Spark's generated code. The gate's
    query is the same every batch, so its classes are compiled once a run and then found
    in Spark's class cache, and its per-row parsing and checks run faster compiled: the
    small tier's gate 20–35 % less time over 39k-trade batches. A long-running query keeps
    it interpreted: live, with batches of ~50 trades, its whale alerts' p99 measured
    0.2–0.4 s later compiled (most likely the code generated again each batch before the
    cache finds it) (ADR 0008, revision of 2026-12-02)."""
    for key, interpreted in _INTERPRETED.items():
        if compiled_gate:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, interpreted)
    spark.conf.set(_LOCAL_RELATION, str(LOCAL_RELATION_BYTES))


#: What :func:`batch_settings` sets: the generated-code settings (to run interpreted)...
_INTERPRETED = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}
#: ... and the size up to which an Arrow table becomes a local relation.
_LOCAL_RELATION = "spark.sql.execution.arrow.localRelationThreshold"
#: The session settings :func:`batch_settings` changes (:func:`settings_kept` restores).
_BATCH_SETTINGS = (*_INTERPRETED, _LOCAL_RELATION)


@contextmanager
def settings_kept(spark: SparkSession) -> Iterator[None]:
    """Run a micro-batch on ``spark`` itself (not the query's own session) and give the
    session back with the settings it had: :func:`batch_settings` is for micro-batches,
    and a back-test later in the same process keeps Spark's defaults."""
    before = {key: spark.conf.get(key, None) for key in _BATCH_SETTINGS}
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def plan_levels(plans: Sequence[Plan], early_rows: bool = False) -> list[list[Plan]]:
    """``plans`` (in dependency order) grouped by depth: a plan comes one level after the
    deepest plan it reads. ``early_rows``: the per-row plans over a source stream form
    the first level on their own (so their results are collected first)."""
    depth: dict[str, int] = {}
    for plan in plans:
        depth[plan.module] = 1 + max((depth[d] for d in plan.depends_on if d in depth), default=-1)
    levels: list[list[Plan]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for plan in plans:
        levels[depth[plan.module]].append(plan)
    if early_rows and levels:
        first = [p for p in levels[0] if p.window is None and p.source_kind == SourceKind.STREAM]
        if first and len(first) < len(levels[0]):
            levels = [first, [p for p in levels[0] if p not in first], *levels[1:]]
    return levels


class DetectorLevels:
    """The streaming plans of a run, grouped in levels, with what they keep between
    batches: the reference tables and each result's row type."""

    def __init__(self, plans: Sequence[Plan], early_rows: bool = False) -> None:
        """``plans`` in dependency order; ``early_rows``: the per-row plans over a source
        stream (whales) form a level of their own, collected first."""
        self.plans = list(plans)
        self.levels = plan_levels(self.plans, early_rows=early_rows)
        #: reference tables, read and cached once per Spark session
        self._references: tuple[SparkSession, dict[str, DataFrame]] | None = None
        #: each detector result's row type, found once (collect_all)
        self._schemas: SchemaMemo = {}

    def views(self, spark: SparkSession, gated: GatedBatch) -> None:
        """Register what the plans read in this batch: ``trades`` (the gate's passed rows),
        an empty ``alerts`` stream, and the reference tables (read and
        cached once per Spark session). The caller registers ``chain_events``."""
        trades = gated.frame(spark) or empty_frame(spark, PASSED_DDL)
        trades.createOrReplaceTempView("trades")
        empty(spark, ALERT_FIELDS).createOrReplaceTempView("alerts")
        if self._references is None or not self._references[0]._jsparkSession.equals(
            spark._jsparkSession
        ):
            frames = {}
            for plan in self.plans:
                base = Path(plan.spec_path).parent
                for name, path, fmt, cols in plan.references:
                    frames[name] = read_reference(spark, base, path, fmt, cols).cache()
            self._references = (spark, frames)
        for name, frame in self._references[1].items():
            frame.createOrReplaceTempView(name)

    def run(
        self,
        spark: SparkSession,
        gated: GatedBatch,
        state: RunState,
        flush: bool,
        chain_rows: int = 0,
        on_level: Callable[[int, list[PlanFrames]], None] | None = None,
    ) -> tuple[list[PlanFrames], int]:
        """Every plan over the gated batch, level by level (one Spark job a level), and
        the state folded forward; returns the plans' results and the late-event count.
        ``on_level(i, results)`` sees level ``i``'s results as soon as they are collected.
        ``chain_rows``: the on-chain events in this batch (its ``chain_events`` view)."""
        self.views(spark, gated)
        holds: dict[str, int] = {}
        marks = watermarks(self.plans, state, flush)
        steps: list[PlanFrames] = []
        skipped: list[Plan] = []
        stream_rows = {"trades": gated.passed.num_rows, "chain_events": chain_rows}
        for i, level in enumerate(self.levels):
            # a level reads only the collected (small) results of the levels before it,
            # so no upstream plan is computed again inside a downstream plan's branch
            done = {s.plan.module: s for s in steps}
            arrivals = {p.module: _arrivals(p, gated, done) for p in level if p.lookups}
            if self._hold(level, state, arrivals, marks, holds):
                # a plan with lookups is held before its pending rows: its watermark,
                # and those of the plans reading it, again
                marks = watermarks(self.plans, state, flush, holds)
            current: list[PlanFrames] = []
            for plan in level:
                new_rows = _new_rows(plan, stream_rows, done)
                if _nothing_to_do(plan, state, new_rows):
                    skipped.append(plan)
                    continue
                current.append(
                    plan_frames(
                        spark,
                        plan,
                        state,
                        marks.get(plan.module),
                        gated.passed,
                        self._inputs(spark, plan, done),
                        arrivals.get(plan.module),
                        new_rows,
                    )
                )
            collect_all(spark, current, self._schemas)
            collect_later(spark, current, self._schemas)
            steps += current
            if on_level is not None:
                on_level(i, current)
        for plan in skipped:  # no rows in, none buffered: only the watermark moves
            m = marks.get(plan.module)
            ps = state.plan(plan.module)
            if m is not None and not flush:
                ps.watermark_us = m.close
            if plan.lookups:  # ... and the batch's trades go into its prices
                prices = asof.fold(plan, ps.prices, gated.passed)
                wm = ps.watermark_us if ps.watermark_us is not None else -asof.ALL_READY
                ps.prices = asof.prune(plan, prices, wm)
        late = 0
        for step in steps:
            if step.marks is not None:
                late += advance(step, state.plan(step.plan.module))
        return steps, late

    @staticmethod
    def _hold(
        level: list[Plan],
        state: RunState,
        arrivals: dict[str, list[pa.ChunkedArray]],
        marks: dict[str, Marks],
        holds: dict[str, int],
    ) -> bool:
        """Add to ``holds`` the bound of each plan with lookups in ``level``: before the
        earliest event time of its pending rows and of the rows it reads in this batch
        (``arrivals``, :func:`asof.hold`). Returns whether one was added."""
        added = False
        for plan in level:
            m = marks.get(plan.module)
            if plan.module not in arrivals or plan.window is None or m is None:
                continue
            pending = state.plan(plan.module).pending
            bound = asof.hold(plan, pending, arrivals[plan.module], m.previous)
            if bound is not None:
                holds[plan.module] = bound
                added = True
        return added

    def _inputs(
        self, spark: SparkSession, plan: Plan, done: dict[str, PlanFrames]
    ) -> dict[str, str]:
        """Register what ``plan`` reads from the levels before it (their collected rows)
        as views; returns the views its SQL names -> the view that holds them."""
        inputs = {}
        if plan.source_kind == SourceKind.ALERTS:
            view = empty(spark, ALERT_FIELDS)
            for module in plan.source_modules:
                if module in done:
                    view = view.unionByName(
                        _arrow_frame(spark, done[module].arrow["alerts"], _ALERTS_DDL)
                    )
            # each alert reader reads its own modules' alerts
            inputs["alerts"] = "__ctc_alerts_" + plan.module.replace("-", "_")
            view.createOrReplaceTempView(inputs["alerts"])
        for dep in plan.depends_on:
            up = next((p for p in self.plans if p.module == dep), None)
            if up is None or plan.source_kind != SourceKind.DETECTOR:
                continue
            # this batch's rows of the upstream; none when it was skipped (no new rows),
            # never the view an earlier batch left under that name (read twice, they were
            # late or counted twice in an open window)
            schema = ddl(dict(up.output_columns))
            rows = done[dep].arrow["output"] if dep in done else pa.table({})
            _arrow_frame(spark, rows, schema).createOrReplaceTempView(up.output_table)
        return inputs
