"""The baseline pass: statistics of the same key's earlier windows, as window functions
built with sqlglot over the aggregate's rows."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from ctc.compiler.expressions import Scope
from ctc.compiler.fragments.infer_type import UNTYPED
from ctc.compiler.functions import is_aggregate
from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.plan import Stage, StageKind, StateBound
from ctc.compiler.sql_text import identifier, quote, select, to_sql
from ctc.dsl.limits import MAX_WINDOWS_PER_KEY


def earlier_windows(keys: tuple[str, ...], lookback_seconds: int) -> exp.Window:
    """``OVER`` the same key's windows that started in the ``lookback_seconds`` before
    this one (the current window excluded); ``this`` is a placeholder."""
    return exp.Window(
        this=exp.Anonymous(this="__agg__"),
        partition_by=[identifier(k) for k in keys],
        order=exp.Order(
            expressions=[
                exp.Ordered(this=exp.UnixSeconds(this=identifier("window_start")), nulls_first=True)
            ]
        ),
        spec=exp.WindowSpec(
            kind="RANGE",
            start=exp.Literal.number(lookback_seconds),
            start_side="PRECEDING",
            end=exp.Literal.number(1),
            end_side="PRECEDING",
        ),
        over="OVER",
    )


def with_over(aggregate: exp.Expr, over: exp.Window) -> exp.Expr:
    """``aggregate`` with the OVER clause of the window expression ``over``."""
    window = over.copy()
    window.set("this", aggregate)
    return window


def run(ctx: LoweringContext) -> None:
    """Add the baseline stage (a windowed spec with ``baseline:``), reading the aggregate."""
    spec = ctx.spec
    b = spec.baseline
    wp = ctx.window
    if b is None or wp is None:
        return
    columns = ctx.columns
    scope = Scope(columns, aggregates=True, baseline=True, what="baseline.stats")
    ctx.new_names([(n, ("baseline", "stats", n)) for n, _ in b.stats], columns)
    over = earlier_windows(spec.group_by, b.lookback.seconds)
    items = [quote(c) for c in columns]
    out = dict(columns)
    for name, sql in b.stats:
        tree = ctx.frag(sql, scope)
        out[name] = (
            ctx.typed(tree, sql, f"baseline.stats.{name}", columns) if tree is not None else UNTYPED
        )
        if tree is None:
            continue
        # each aggregate becomes a window function over the key's earlier windows
        # (built as a tree: a bracket in a string literal cannot unbalance it)
        text = to_sql(
            tree.transform(lambda n: with_over(n.copy(), over) if is_aggregate(n) else n, copy=True)
        )
        items.append(f"{text} AS {quote(name)}")
    per_key = -(-b.lookback.seconds // wp.slide_seconds)
    if per_key > MAX_WINDOWS_PER_KEY:
        ctx.err(
            ("baseline", "lookback"),
            f"the baseline would keep {per_key} earlier windows per key "
            f"(lookback / slide); at most {MAX_WINDOWS_PER_KEY} are allowed",
        )
    ctx.advance(
        Stage(
            StageKind.BASELINE,
            ctx.view("baseline"),
            (ctx.current,),
            select(items, ctx.current),
            f"statistics of the same key's windows that started in the {b.lookback.text} "
            "before this one (the current window excluded)",
            "stateful: the runtime keeps each key's closed windows of the last "
            f"{b.lookback.text} and runs this SELECT over them plus the newly closed ones",
            tuple(out.items()),
            StateBound(
                "closed windows", per_key, spec.group_by, b.lookback.seconds + wp.size_seconds
            ),
        )
    )
    ctx.window = replace(wp, baseline_lookback_seconds=b.lookback.seconds)
