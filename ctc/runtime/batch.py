"""Run compiled Plans in Spark batch mode: register sources, create each stage's view."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ctc.compiler.plan import Plan
from ctc.events import ALERT_FIELDS
from ctc.runtime.sources import empty, empty_onchain, read_reference

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
                if p.source_kind == "detector":
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
) -> list[Plan]:
    """Create every stage view of ``plans`` (in dependency order) over ``trades``.

    The alert stream view ``alerts`` is the union of the alerts of the plans before
    each alert reader. Returns the plans in the order they were registered.
    """
    trades.createOrReplaceTempView("trades")
    empty_onchain(spark).createOrReplaceTempView("chain_events")
    empty(spark, ALERT_FIELDS).createOrReplaceTempView("alerts")
    ordered = dependency_order(plans)
    alert_views: list[str] = []
    for plan in ordered:
        base = Path(plan.spec_path).parent
        for name, path, fmt, cols in plan.references:
            read_reference(spark, base, path, fmt, cols).createOrReplaceTempView(name)
        if plan.source_kind == "alerts" and alert_views:
            spark.sql(
                " UNION ALL ".join(f"SELECT * FROM {v}" for v in alert_views)
            ).createOrReplaceTempView("alerts")
        # views made from DataFrames keep their resolved plan, so a later redefinition
        # of a shared name (alerts) cannot change or loop back into an earlier plan
        for stage in plan.stages:
            df = spark.sql(stage.sql)
            if stage.kind in ("alerts", "output"):
                df = df.cache()  # read again by chained detectors and alert readers
            df.createOrReplaceTempView(stage.view)
        spark.table(plan.output_view).createOrReplaceTempView(plan.output_table)
        alert_views.append(plan.alerts_view)
        if on_plan:
            on_plan(plan)
    return ordered
