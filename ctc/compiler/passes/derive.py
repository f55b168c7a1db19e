"""The derive pass: row-level columns after the window (or of each row); in a window
spec, ranks across the window's keys (:mod:`ctc.compiler.passes.ranks`)."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.passes.ranks import has_rank, over_window
from ctc.compiler.passes.row_columns import row_stage
from ctc.compiler.plan import StageKind

NOTE = "row-level derived columns"


def run(ctx: LoweringContext) -> None:
    """Add the derive stage (when the spec has ``derive:``)."""
    spec = ctx.spec
    if spec.window is None:
        row_stage(ctx, StageKind.DERIVE, spec.derive, NOTE)
        return
    ranked: list[str] = []

    def rewrite(tree: exp.Expr, text: str) -> exp.Expr:
        if has_rank(tree):
            ranked.append(text)
        return over_window(tree, spec.group_by, text)

    row_stage(ctx, StageKind.DERIVE, spec.derive, NOTE, ranks=True, rewrite=rewrite)
    if ranked and ctx.stages and ctx.stages[-1].kind is StageKind.DERIVE:
        ctx.stages[-1] = replace(
            ctx.stages[-1],
            note=f"{NOTE}; ranks among the keys of each window (window_start)",
            streaming="stateless: the ranks are taken over the windows that close in the "
            "micro-batch, which hold every key of each window (one watermark per plan)",
        )
