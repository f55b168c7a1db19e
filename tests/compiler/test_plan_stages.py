"""Typed stages: code finds a plan's stages by kind, and a window plan whose baseline does
not read its aggregation directly is refused instead of silently losing history."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ctc.compiler import compile_paths
from ctc.compiler.plan import Plan, PlanShapeError, StageKind
from ctc.runtime.incremental import Marks, plan_frames

DETECTORS = Path(__file__).resolve().parents[2] / "detectors"


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    return {p.module: p for p in compile_paths([DETECTORS])}


def _with_baseline(plans: dict[str, Plan]) -> Plan:
    return next(p for p in plans.values() if p.baseline_stage is not None)


def test_every_stage_has_a_kind_printed_as_its_name(plans: dict[str, Plan]) -> None:
    for plan in plans.values():
        for stage in plan.stages:
            assert isinstance(stage.kind, StageKind)
            assert f"-- stage {stage.kind.value}: {stage.note}" in plan.sql_script()


def test_accessors_find_the_stages_by_kind(plans: dict[str, Plan]) -> None:
    for plan in plans.values():
        assert plan.alerts_stage.kind is StageKind.ALERTS
        assert plan.output_stage.kind is StageKind.OUTPUT
        assert plan.alerts_view == plan.alerts_stage.view
        assert plan.output_columns == plan.output_stage.columns
        assert plan.event_stage.view == plan.event_view
        assert (plan.aggregate_stage is None) == (plan.window is None)


def test_windowed_splits_around_the_aggregation(plans: dict[str, Plan]) -> None:
    plan = _with_baseline(plans)
    split = plan.windowed()
    assert split.aggregate.kind is StageKind.AGGREGATE
    assert split.baseline is not None and split.baseline.reads == (split.aggregate.view,)
    assert plan.event_stage in split.before
    assert (*split.before, split.aggregate, split.baseline, *split.after) == plan.stages
    without = next(p for p in plans.values() if p.window and p.baseline_stage is None)
    assert without.windowed().baseline is None


def _stage_between_aggregate_and_baseline(plan: Plan) -> Plan:
    """``plan`` with a row stage placed between its aggregation and its baseline."""
    agg, base = plan.aggregate_stage, plan.baseline_stage
    assert agg is not None and base is not None
    extra = replace(
        agg,
        kind=StageKind.DERIVE,
        view=f"{agg.view}__extra",
        reads=(agg.view,),
        sql=f"SELECT * FROM {agg.view}",
        state=None,
    )
    moved = replace(base, reads=(extra.view,), sql=base.sql.replace(agg.view, extra.view))
    stages: list[Any] = []
    for s in plan.stages:
        stages += [s, extra] if s is agg else [moved] if s is base else [s]
    return replace(plan, stages=tuple(stages))


def test_a_stage_between_aggregate_and_baseline_is_refused(plans: dict[str, Plan]) -> None:
    broken = _stage_between_aggregate_and_baseline(_with_baseline(plans))
    with pytest.raises(PlanShapeError, match="between them: derive"):
        broken.windowed()
    # the runtime refuses it before touching Spark or the state
    with pytest.raises(PlanShapeError, match="baseline stage must read the aggregate"):
        plan_frames(None, broken, None, Marks(0, 1))  # type: ignore[arg-type]


def test_two_stages_of_a_single_kind_are_refused(plans: dict[str, Plan]) -> None:
    plan = next(iter(plans.values()))
    doubled = replace(plan, stages=(*plan.stages, plan.alerts_stage))
    with pytest.raises(PlanShapeError, match="2 alerts stages"):
        _ = doubled.alerts_view
