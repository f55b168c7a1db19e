"""The aggregate pass: the window aggregation per group_by key, and the bound on the
open windows it keeps in streaming."""

from __future__ import annotations

from ctc.compiler.expressions import Scope
from ctc.compiler.fragments.infer_type import UNTYPED
from ctc.compiler.fragments.positions import suggest
from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.plan import Stage, StageKind, StateBound
from ctc.compiler.sql_text import quote, select, to_sql
from ctc.dsl.limits import MAX_WINDOWS_PER_EVENT, MAX_WINDOWS_PER_KEY


def run(ctx: LoweringContext) -> None:
    """Add the aggregate stage of a windowed spec; ``aggregate:`` without a window is an
    error."""
    spec = ctx.spec
    w = spec.window
    if w is None:
        if spec.aggregate:
            ctx.err(("aggregate",), "aggregate: needs a window:", key=True)
        return
    columns = ctx.columns
    for i, k in enumerate(spec.group_by):
        if k not in columns:
            ctx.err(
                ("group_by", i), f"unknown column '{k}' in group_by{suggest(k, sorted(columns))}"
            )
    out: dict[str, str] = {"window_start": "timestamp", "window_end": "timestamp"}
    out.update({k: columns.get(k, "string") for k in spec.group_by})
    ctx.new_names([(n, ("aggregate", n)) for n, _ in spec.aggregate], out)
    # rows of the running pass carry their window: group by it instead of WINDOW() again
    bounds = ["window_start", "window_end"] if ctx.window_columns else []
    items = list(bounds) or ["window.start AS window_start", "window.end AS window_end"]
    items += [quote(k) for k in spec.group_by]
    scope = Scope(
        columns,
        aggregates=True,
        group_columns=frozenset([*spec.group_by, *bounds]),
        what="aggregate",
    )
    for name, sql in spec.aggregate:
        tree = ctx.frag(sql, scope)
        out[name] = (
            ctx.typed(tree, sql, f"aggregate.{name}", columns) if tree is not None else UNTYPED
        )
        if tree is not None:
            items.append(f"{to_sql(tree)} AS {quote(name)}")
    slide = w.slide or w.size
    win = f"WINDOW({quote(ctx.time_column or '')}, '{w.size.spark}'" + (
        f", '{slide.spark}')" if w.slide else ")"
    )
    open_windows = -(-(w.size.seconds + w.watermark.seconds) // slide.seconds)
    per_event = w.size.seconds // slide.seconds
    if per_event > MAX_WINDOWS_PER_EVENT:
        ctx.err(
            ("window", "slide"),
            f"each event would fall into {per_event} sliding windows "
            f"(size / slide); at most {MAX_WINDOWS_PER_EVENT} are allowed",
        )
    elif open_windows > MAX_WINDOWS_PER_KEY:
        ctx.err(
            ("window", "watermark"),
            f"each key would keep {open_windows} open windows "
            f"((size + watermark) / slide); at most {MAX_WINDOWS_PER_KEY} are allowed",
        )
    ctx.advance(
        Stage(
            StageKind.AGGREGATE,
            ctx.view("aggregate"),
            (ctx.current,),
            select(
                items, ctx.current, group_by=[quote(k) for k in spec.group_by] + (bounds or [win])
            ),
            f"{w.type} {w.size.text} windows per {', '.join(spec.group_by) or 'all rows'}",
            "stateful: the runtime buffers the rows of each key's open windows; each window "
            f"is emitted once, when the watermark ({w.watermark.text}) passes its end",
            tuple(out.items()),
            StateBound(
                "open windows",
                open_windows,
                spec.group_by,
                w.size.seconds + w.watermark.seconds,
            ),
        )
    )
