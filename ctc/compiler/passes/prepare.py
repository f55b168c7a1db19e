"""The prepare pass: row-level columns computed before the filter and the window."""

from __future__ import annotations

from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.passes.row_columns import row_stage
from ctc.compiler.plan import StageKind


def run(ctx: LoweringContext) -> None:
    """Add the prepare stage (when the spec has ``prepare:``), then check that the event
    time column is among the columns the window will read."""
    row_stage(
        ctx,
        StageKind.PREPARE,
        ctx.spec.prepare,
        "row-level columns computed before the filter and the window",
    )
    if ctx.time_column is not None and ctx.time_column not in ctx.columns:
        ctx.err(("window", "time"), f"unknown time column '{ctx.time_column}'")
