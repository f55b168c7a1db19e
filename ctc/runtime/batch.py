"""Run compiled Plans in Spark batch mode: register sources, create each stage's view."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ctc.compiler.plan import Plan, SourceKind, StageKind
from ctc.events import ALERT_FIELDS
from ctc.runtime.sources import ddl, empty, empty_frame, empty_onchain, read_reference

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


class PlanOrderError(ValueError):
    """A plan reads a detector or alerts that are not part of the run."""


def dependency_order(plans: Sequence[Plan]) -> list[Plan]:
    """``plans`` with every plan after the plans it reads (stable otherwise)."""
    by_module = {p.module: p for p in plans}
    ordered: list[Plan] = []
    done: set[str] = set()

    def visit(p: Plan, trail: tuple[str, ...]) -> None:
        if p.module in done:
            return
        if p.module in trail:
            raise PlanOrderError(f"{p.module} depends on itself: {' → '.join(trail)}")
        for dep in p.depends_on:
            if dep not in by_module:
                if p.source_kind == SourceKind.DETECTOR:
                    raise PlanOrderError(
                        f"{p.module} {p.name} reads {dep}'s output; add {dep}'s spec to the run"
                    )
                continue  # an alert reader simply sees no alerts of a module that is not run
            visit(by_module[dep], (*trail, p.module))
        done.add(p.module)
        ordered.append(p)

    for p in plans:
        visit(p, ())
    return ordered


def register_plans(
    spark: SparkSession,
    plans: Sequence[Plan],
    trades: DataFrame,
    on_plan: Callable[[Plan], None] | None = None,
    reuse: Collection[str] = (),
    chain: DataFrame | None = None,
) -> list[Plan]:
    """Create every stage view of ``plans`` (in dependency order) over ``trades`` (and
    ``chain``: the on-chain events, :mod:`ctc.runtime.chain_events`; None: none).

    The alert stream view ``alerts`` is the union of the alerts of the plans before
    each alert reader. Each plan's alerts, and its output when a later plan reads it, are
    computed once, when the plan is registered, and kept without their lineage
    (``localCheckpoint``): a chained plan then reads a short plan instead of every stage
    of every plan before it, which Spark would analyse and optimise again for each.

    A plan whose source has no rows (on-chain events: a back-test reads trades only, or
    the output of such a plan) has no rows in any stage: its alerts and output are empty
    frames, and nothing of it runs. ``reuse``: modules whose views an earlier call in this
    session registered from the very same plans over the same ``trades`` (a review's
    second version): they are kept, not computed again. ``on_plan(plan)`` is called as
    each plan's views are ready. Returns the plans in the order they were registered.
    """
    trades.createOrReplaceTempView("trades")
    (chain if chain is not None else empty_onchain(spark)).createOrReplaceTempView("chain_events")
    empty(spark, ALERT_FIELDS).createOrReplaceTempView("alerts")
    ordered = dependency_order(plans)
    read_later = {d for p in ordered if p.source_kind == SourceKind.DETECTOR for d in p.depends_on}
    alert_readers = any(p.source_kind == SourceKind.ALERTS for p in ordered)
    alert_views: list[str] = []
    nothing: set[str] = set() if chain is not None else {"chain_events"}  # known to have no rows
    for plan in ordered:
        if plan.module in reuse or _reads_nothing(plan, nothing):
            if plan.module not in reuse:
                nothing.add(plan.module)
                _register_empty(spark, plan)
            alert_views.append(plan.alerts_view)
            if on_plan:
                on_plan(plan)
            continue
        if plan.source_kind == SourceKind.ALERTS and alert_views:
            spark.sql(
                " UNION ALL ".join(f"SELECT * FROM {v}" for v in alert_views)
            ).createOrReplaceTempView("alerts")
        register_stages(
            spark,
            plan,
            keep_output=plan.module in read_later,
            cache_shared=alert_readers or plan.module in read_later,
        )
        alert_views.append(plan.alerts_view)
        if on_plan:
            on_plan(plan)
    return ordered


#: Stages computed row by row from their source (no join with another stream, no window,
#: no aggregate, no rank): cheaper to compute twice than to cache.
_ROW_LEVEL = frozenset(
    {StageKind.INPUT, StageKind.ENRICH, StageKind.PREPARE, StageKind.FILTER, StageKind.DERIVE}
)


def register_stages(
    spark: SparkSession, plan: Plan, *, keep_output: bool, cache_shared: bool
) -> None:
    """Read ``plan``'s reference tables and create each of its stage views over the
    views its source names (registered by the caller), and its output table's view.

    The alerts are computed once and kept without their lineage (``localCheckpoint``),
    and so is the output with ``keep_output`` (a later plan reads it); with
    ``cache_shared`` the stage both read is cached, so it is computed once too.
    """
    base = Path(plan.spec_path).parent
    for name, path, fmt, cols in plan.references:
        read_reference(spark, base, path, fmt, cols).createOrReplaceTempView(name)
    # views made from DataFrames keep their resolved plan, so a later redefinition
    # of a shared name (alerts) cannot change or loop back into an earlier plan
    shared = {plan.alerts_stage.reads[0], plan.output_stage.reads[0]}
    row_level = True  # every stage so far computes row by row from the source
    for stage in plan.stages:
        row_level = row_level and stage.kind in _ROW_LEVEL
        df = spark.sql(stage.sql)
        if stage.kind is StageKind.ALERTS or (stage.kind is StageKind.OUTPUT and keep_output):
            df = df.localCheckpoint(eager=True)
        elif stage.view in shared and cache_shared and not row_level:
            # alerts and output both read it: computed once. Not a row-by-row stage over
            # the source (a whale's input): reading that twice, its filter pushed into the
            # scan, costs less than caching every row (1M trades: 0.5 s against 2 s)
            df = df.cache()
        df.createOrReplaceTempView(stage.view)
    spark.table(plan.output_view).createOrReplaceTempView(plan.output_table)


def _reads_nothing(plan: Plan, nothing: set[str]) -> bool:
    """Whether ``plan``'s source is known to have no rows: then no stage has any (every
    construct is driven by its source's rows: filters, left joins, lookups, windows)."""
    if plan.source_kind == SourceKind.STREAM:
        return plan.source_view in nothing
    if plan.source_kind == SourceKind.DETECTOR:
        return bool(plan.depends_on) and all(d in nothing for d in plan.depends_on)
    return False


def _register_empty(spark: SparkSession, plan: Plan) -> None:
    """The alerts and output views of a plan without rows, as empty frames."""
    for stage in (plan.alerts_stage, plan.output_stage):
        empty_frame(spark, ddl(dict(stage.columns))).createOrReplaceTempView(stage.view)
    spark.table(plan.output_view).createOrReplaceTempView(plan.output_table)
