"""The window_rows pass: each row of a window plan's event stage with its window's figures,
which ``per: row`` alert rules read (one alert per row, docs/dsl.md, "Alert rules per row
of a window").

The stage joins the event rows to the last window stage (aggregate, baseline, derive) on
the ``group_by`` key (NULL-safe, as GROUP BY groups NULLs) and the start of the row's
tumbling window, epoch-aligned as ``WINDOW()`` aligns it. In batch it holds every row; in
streaming it runs when a window closes, over the plan's buffered rows joined with the
windows closing in that micro-batch, so each row is emitted once, with final figures
(docs/adr/0020-per-row-alerts-of-a-window-at-close.md).
"""

from __future__ import annotations

from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.plan import Stage, StageKind
from ctc.compiler.sql_text import INDENT, quote, select
from ctc.dsl.model import AlertRule

#: The aliases of the two sides of the join.
ROW, WINDOW = "ev", "win"


def _misuse(ctx: LoweringContext, rules: list[AlertRule]) -> bool:
    """Record each misuse of ``per: row``; whether there was any."""
    spec, w, before = ctx.spec, ctx.spec.window, len(ctx.errors)
    for rule in rules:
        at = (*rule.path, "per")
        if w is None:
            ctx.err(
                at,
                "per: row is for a spec with a window: without one, every rule is "
                "already evaluated on each row",
            )
        elif w.type != "tumbling":
            slide = w.slide or w.size
            ctx.err(
                at,
                f"per: row needs a tumbling window: a row of this sliding window is in "
                f"{w.size.seconds // slide.seconds} windows, so it would have as many sets "
                "of figures",
            )
        if rule.key is not None:
            ctx.err(
                (*rule.path, "key"),
                "a per: row rule's alert is about one row, its id is module|type|<row id>: "
                "leave out key",
                key=True,
            )
    if w is not None and spec.output.rows == "alerted":
        ctx.err(
            ("output", "rows"),
            "rows: alerted keeps the window rows an alert rule holds for, and a per: row "
            "rule holds for event rows: use rows: all",
        )
    return len(ctx.errors) > before


def run(ctx: LoweringContext) -> None:
    """Add the window_rows stage when a rule says ``per: row`` (and the spec can have one)."""
    rules = [r for r in ctx.spec.alerts if r.per_row_of_window]
    if not rules or _misuse(ctx, rules) or ctx.window is None or not ctx.time_column:
        return
    first = (*rules[0].path, "per")
    event = next(s for s in ctx.stages if s.view == ctx.event_view)
    row_cols = dict(event.columns)
    id_column = ctx.source.id_column if ctx.source else None
    if id_column is None or id_column not in row_cols:
        ctx.err(first, "per: row anchors each alert on its row's id, and these rows have none")
        return
    keys = ctx.spec.group_by
    both = [c for c in ctx.columns if c in row_cols and c not in keys]
    if both:
        ctx.err(
            first,
            f"per: row rules read each row's columns and its window's, and "
            f"{', '.join(repr(c) for c in both)} would be both: rename the window's",
        )
        return
    window_only = {c: t for c, t in ctx.columns.items() if c not in row_cols}
    items = [f"{ROW}.{quote(c)}" for c in row_cols] + [f"{WINDOW}.{quote(c)}" for c in window_only]
    t = f"UNIX_MICROS({ROW}.{quote(ctx.time_column)})"
    size_us = ctx.window.size_seconds * 1_000_000
    on = [f"{ROW}.{quote(k)} <=> {WINDOW}.{quote(k)}" for k in keys]
    on.append(f"{WINDOW}.window_start = TIMESTAMP_MICROS({t} - PMOD({t}, {size_us}))")
    join = [f"JOIN {ctx.current} AS {WINDOW}", f"{INDENT}ON " + f"\n{INDENT}AND ".join(on)]
    stage = Stage(
        StageKind.WINDOW_ROWS,
        ctx.view("window_rows"),
        (ctx.event_view, ctx.current),
        select(items, f"{ctx.event_view} AS {ROW}", joins=join),
        f"each row of {ctx.event_view} with its window's figures (per: row alert rules)",
        "at window close: the buffered rows of the windows the watermark passes, each "
        "joined with its window's final figures; every row is emitted once",
        tuple({**row_cols, **window_only}.items()),
    )
    ctx.add(stage)
    ctx.rows_view, ctx.row_columns = stage.view, dict(stage.columns)
