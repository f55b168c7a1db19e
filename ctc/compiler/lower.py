"""Lower a validated Spec to a Plan: one Spark SQL stage per construct.

A thin driver: the passes of :mod:`ctc.compiler.passes` run in order over one shared
context; every SQL fragment is checked by :mod:`ctc.compiler.expressions` against the
columns in scope at its stage; all problems of a spec are collected and raised together
as :class:`~ctc.dsl.errors.SpecErrors`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ctc.compiler.passes import PASSES, LoweringContext
from ctc.compiler.plan import Plan
from ctc.compiler.publish import with_publish
from ctc.dsl.canonical import spec_version
from ctc.dsl.errors import SpecErrors
from ctc.dsl.model import Spec


def run_passes(
    spec: Spec, upstream: Mapping[str, Plan], until: str | None = None
) -> LoweringContext:
    """Run the passes over ``spec`` in order, through the pass named ``until`` (all when
    None); return their context, errors included (a source that cannot be resolved raises
    :class:`SpecErrors` at once)."""
    ctx = LoweringContext(spec, upstream)
    for name, run in PASSES.items():
        run(ctx)
        if name == until:
            break
    return ctx


def plan_of(ctx: LoweringContext) -> Plan:
    """The Plan of a context every pass has run over without an error."""
    spec, src = ctx.spec, ctx.source
    assert src is not None
    depends = (spec.source.detector,) if spec.source.detector else spec.source.alerts
    return Plan(
        module=spec.module,
        name=spec.name,
        title=spec.title,
        description=spec.description,
        spec_path=spec.path,
        tier=spec.tier,
        mode=spec.mode,
        schedule=spec.schedule,
        params=spec.params,
        source_kind=spec.source.kind,
        source_view=src.view,
        source_modules=spec.source.alerts,
        time_column=ctx.time_column or "",
        id_column=src.id_column,
        watermark_seconds=spec.window.watermark.seconds if spec.window else 0,
        event_view=ctx.event_view,
        window=ctx.window,
        stages=tuple(ctx.stages),
        alert_rules=tuple(ctx.rules),
        output_table=spec.output.table,
        output_partition_by=spec.output.partition_by,
        output_rows=spec.output.rows,
        depends_on=tuple(d for d in depends if d),
        references=tuple(
            (r.name, r.path, r.format, r.columns)
            for r in [e.reference for e in spec.enrich]
            + ([spec.source.reference] if spec.source.reference else [])
        ),
        spec_version=spec_version(spec),
        lookups=tuple(ctx.lookups),
    )


def lower(spec: Spec, upstream: Mapping[str, Plan] | None = None) -> Plan:
    """Compile one spec to a Plan; ``upstream`` holds the Plans of detectors it reads.
    The plan carries what the spec publishes (:mod:`ctc.compiler.publish`)."""
    ctx = run_passes(spec, upstream or {})
    if ctx.errors:
        raise SpecErrors(ctx.errors)
    return with_publish(spec, plan_of(ctx))
