"""The derive pass: row-level columns after the window (or of each row)."""

from __future__ import annotations

from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.passes.row_columns import row_stage
from ctc.compiler.plan import StageKind


def run(ctx: LoweringContext) -> None:
    """Add the derive stage (when the spec has ``derive:``)."""
    row_stage(ctx, StageKind.DERIVE, ctx.spec.derive, "row-level derived columns")
