"""The lookup pass (batch): the last value of another source at or before a time."""

from __future__ import annotations

from ctc.compiler.catalog import STREAMS
from ctc.compiler.expressions import Scope
from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.plan import Stage, StageKind
from ctc.compiler.sql_text import INDENT, qualify, quote, select, to_sql
from ctc.dsl.limits import MAX_LOOKUP_WITHIN_SECONDS
from ctc.dsl.model import Lookup


def run(ctx: LoweringContext) -> None:
    """Add one as-of lookup stage per ``lookups:`` entry."""
    for lk in ctx.spec.lookups:
        _lookup(ctx, lk)


def _lookup(ctx: LoweringContext, lk: Lookup) -> None:
    other = STREAMS[lk.source]
    at = ("lookups", lk.name)
    if lk.value not in other.columns:
        ctx.err((*at, "value"), f"unknown column '{lk.value}' of {lk.source}")
        return
    columns = ctx.columns
    ctx.new_names([(lk.name, at)], columns)
    if lk.within.seconds > MAX_LOOKUP_WITHIN_SECONDS:
        ctx.err(
            (*at, "within"),
            f"lookups.{lk.name}.within may be at most "
            f"{MAX_LOOKUP_WITHIN_SECONDS // 3600} hours (its cost grows with the "
            "rows inside it)",
        )
    scope = Scope(columns, what=f"lookups.{lk.name}")
    at_tree = ctx.frag(lk.at, scope)
    conds = []
    for col, sql in lk.match:
        if col not in other.columns:
            ctx.err((*at, "match", col), f"unknown column '{col}' of {lk.source}", key=True)
            continue
        tree = ctx.frag(sql, scope)
        if tree is not None:
            conds.append(f"lk.{quote(col)} = {to_sql(qualify(tree, 'src', columns))}")
    id_column = ctx.source.id_column if ctx.source else None
    if at_tree is None or id_column is None:
        if id_column is None:
            ctx.err(at, "lookups need a source whose rows have an id")
        return
    at_sql = to_sql(qualify(at_tree, "src", columns))
    tcol = quote(other.time_column or "")
    conds += [
        f"lk.{tcol} <= {at_sql}",
        f"lk.{tcol} > {at_sql} - INTERVAL {lk.within.seconds} SECONDS",
    ]
    inner = select(
        [f"src.{quote(c)}" for c in columns]
        + [
            f"lk.{quote(lk.value)} AS {quote(lk.name)}",
            f"ROW_NUMBER() OVER (PARTITION BY src.{quote(id_column)} "
            f"ORDER BY lk.{tcol} DESC) AS __lookup_rank",
        ],
        f"{ctx.current} AS src",
        joins=[f"LEFT JOIN {other.view} AS lk", f"{INDENT}ON " + "\n  AND ".join(conds)],
    )
    out = {**columns, lk.name: other.columns[lk.value]}
    body = "\n".join(INDENT + line for line in inner.splitlines())
    ctx.advance(
        Stage(
            StageKind.LOOKUP,
            ctx.view(f"lookup_{lk.name}"),
            (ctx.current, other.view),
            select([quote(c) for c in out], f"(\n{body}\n)", where="__lookup_rank = 1"),
            f"as-of lookup of {lk.source}.{lk.value} at {lk.at.text}",
            "batch only",
            tuple(out.items()),
        )
    )
