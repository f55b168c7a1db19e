"""The filter pass: only the rows where ``filter:`` holds go on."""

from __future__ import annotations

from ctc.compiler.expressions import Scope
from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.plan import Stage, StageKind
from ctc.compiler.sql_text import quote, select, to_sql


def run(ctx: LoweringContext) -> None:
    """Add the filter stage (when the spec has ``filter:`` and it compiles)."""
    if not ctx.spec.filter:
        return
    tree = ctx.frag(ctx.spec.filter, Scope(ctx.columns, what="filter"))
    if tree is None:
        return
    ctx.advance(
        Stage(
            StageKind.FILTER,
            ctx.view("filter"),
            (ctx.current,),
            select([quote(c) for c in ctx.columns], ctx.current, where=to_sql(tree)),
            "rows where the filter holds",
            "stateless",
            tuple(ctx.columns.items()),
        )
    )
