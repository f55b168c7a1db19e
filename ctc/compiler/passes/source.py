"""The source pass: what the spec reads (a stream, alerts, a detector's rows or a
reference table), its event time, and the input stage over it."""

from __future__ import annotations

from ctc.compiler.catalog import ALERTS, STREAMS, SourceSchema, reserved_name_problem
from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.plan import Stage, StageKind
from ctc.compiler.sql_text import quote, select
from ctc.dsl.errors import SpecErrors


def source_schema(ctx: LoweringContext) -> SourceSchema | None:
    """The schema of the spec's source (None, with the error recorded, when a detector
    it reads is not among the specs)."""
    s = ctx.spec.source
    if s.stream:
        return STREAMS[s.stream]
    if s.alerts:
        return ALERTS
    if s.detector:
        up = ctx.upstream.get(s.detector)
        if up is None:
            ctx.err(
                ("source", "detector"),
                f"detector {s.detector} was not found among the "
                "specs being compiled or in the same folder",
            )
            return None
        return SourceSchema(
            up.output_table,
            dict(up.output_columns),
            "detected_at",
            up.id_column if up.id_column in dict(up.output_columns) else None,
        )
    ref = s.reference
    assert ref is not None
    problem = reserved_name_problem(ref.name, "reference")
    if problem:
        ctx.err(("source", "reference", "name"), problem)
    if ctx.spec.mode != "batch":
        ctx.err(
            ("source", "reference"),
            "a reference table is static: a spec that reads "
            "one as its source must have mode: batch (or enrich a stream with it)",
        )
    return SourceSchema(ref.name, dict(ref.columns), None, None)


def run(ctx: LoweringContext) -> None:
    """Resolve the source and add the input stage: the source rows this detector reads.
    A source that cannot be resolved stops the lowering (every later pass needs it)."""
    spec = ctx.spec
    src = source_schema(ctx)
    if src is None:
        raise SpecErrors(ctx.errors)
    ctx.source = src
    ctx.time_column = spec.window.time if spec.window and spec.window.time else src.time_column
    if spec.window and ctx.time_column is None:
        ctx.err(("window",), "this source has no event time: windows need window.time")
    where = None
    if spec.source.alerts:
        mods = ", ".join(f"'{m}'" for m in spec.source.alerts)
        where = f"module_id IN ({mods})"
    ctx.advance(
        Stage(
            StageKind.INPUT,
            ctx.view("input"),
            (src.view,),
            select([quote(c) for c in src.columns], src.view, where=where),
            f"rows of {src.view}"
            + (f" from {', '.join(spec.source.alerts)}" if spec.source.alerts else ""),
            "stateless" if ctx.time_column else "static",
            tuple(src.columns.items()),
        )
    )
