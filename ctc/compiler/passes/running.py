"""The running pass: ordered running aggregates over each key's rows within its window
(``running:``, between the filter and the aggregate).

Each row gets, for every running column, its value over the rows of the same key and
window up to and including it, in ``order_by`` order (default: the event time), ties
broken by the row id, so the order is total. The rows are first expanded into their
windows with Spark's ``WINDOW()`` (a sliding window gives one row per window), so the
window is a column (``window_start``, ``window_end``) the partition and the aggregate's
GROUP BY read. Each aggregate becomes ``agg(x) OVER (PARTITION BY <keys>, window_start
ORDER BY <order_by>, <id> ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)``; a column
that reads another running column is computed in a SELECT around the one that computes
it (Spark does not nest window functions).

In streaming the runtime runs this SELECT over the buffered rows of the open windows
(the aggregate's buffer) and the aggregate keeps the windows the watermark passes: the
running values are computed once a window closes, over the same rows, in the same order,
as in batch.
"""

from __future__ import annotations

from sqlglot import exp

from ctc.compiler.expressions import FragmentError, Scope, fragment_error, parse_fragment
from ctc.compiler.fragments.infer_type import UNTYPED
from ctc.compiler.fragments.positions import node_position, suggest
from ctc.compiler.functions import is_aggregate
from ctc.compiler.passes.baseline import with_over
from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.plan import Stage, StageKind
from ctc.compiler.sql_text import identifier, quote, select, subquery, to_sql
from ctc.dsl.model import Sql

#: The columns the running stage adds: the window each row is in.
WINDOW_COLUMNS = ("window_start", "window_end")


def _rows_so_far(keys: list[str], order: list[str]) -> exp.Window:
    """``OVER`` the key's rows of the window up to and including this one, in ``order``
    (``this`` is a placeholder)."""
    return exp.Window(
        this=exp.Anonymous(this="__agg__"),
        partition_by=[identifier(k) for k in [*keys, "window_start"]],
        order=exp.Order(
            expressions=[exp.Ordered(this=identifier(c), nulls_first=True) for c in order]
        ),
        spec=exp.WindowSpec(
            kind="ROWS",
            start="UNBOUNDED",
            start_side="PRECEDING",
            end="CURRENT ROW",
        ),
        over="OVER",
    )


def _reads_later(ctx: LoweringContext, i: int, sql: Sql) -> bool:
    """Record an error when running column ``i`` reads itself or a column below it."""
    entries = ctx.spec.running.columns if ctx.spec.running else ()
    name = entries[i][0]
    later = {n for n, _ in entries[i:]}
    try:
        tree = parse_fragment(sql.text)
    except FragmentError:
        return False  # the check of the fragment reports it
    for col in tree.find_all(exp.Column):
        if not col.table and col.name in later:
            line, col_no = node_position(col, sql.text)
            what = "itself" if col.name == name else f"'{col.name}', which is below it"
            ctx.errors.append(
                fragment_error(
                    ctx.spec,
                    sql,
                    FragmentError(
                        line,
                        col_no,
                        f"running column '{name}' reads {what}: a running column may read "
                        "only the ones above it",
                    ),
                )
            )
            return True
    return False


def _order(ctx: LoweringContext) -> list[str] | None:
    """The order of the rows: ``order_by`` (or the event time), then the row id; None
    (errors recorded) when either is missing."""
    spec, columns = ctx.spec, ctx.columns
    running = spec.running
    assert running is not None
    ok = True
    by = running.order_by or ctx.time_column or ""
    if running.order_by and running.order_by not in columns:
        ctx.err(
            ("running", "order_by"),
            f"unknown column '{running.order_by}' in running.order_by"
            f"{suggest(running.order_by, sorted(columns))}",
        )
        ok = False
    ident = ctx.source.id_column if ctx.source else None
    if not ident or ident not in columns:
        ctx.err(
            ("running",),
            "running: breaks ties in its order by the rows' id column, and these rows "
            "have none (event_id, alert_id, or the id of the detector read)",
            key=True,
        )
        ok = False
    for taken in WINDOW_COLUMNS:
        if taken in columns:
            ctx.err(
                ("running",),
                f"'{taken}' is already a column here: running: adds the window "
                "(window_start, window_end) to each row",
                key=True,
            )
            ok = False
    return [by, ident or ""] if ok else None


def run(ctx: LoweringContext) -> None:
    """Add the running stage (a window spec with ``running:``); ``running:`` without a
    window is an error."""
    spec = ctx.spec
    running, w = spec.running, spec.window
    if running is None:
        return
    if w is None:
        ctx.err(
            ("running",),
            "running: needs a window: (running values restart in each window; a per-row "
            "spec's history would be unbounded)",
            key=True,
        )
        return
    order = _order(ctx)
    columns = dict(ctx.columns)
    out = {**columns, **{c: "timestamp" for c in WINDOW_COLUMNS}}
    ctx.new_names([(n, ("running", "columns", n)) for n, _ in running.columns], out)
    over = _rows_so_far([k for k in spec.group_by if k in columns], order or [])
    level: dict[str, int] = {}  # running column -> the SELECT (1, 2 …) that computes it
    layers: list[list[str]] = [[]]
    failed: set[str] = set()
    for i, (name, sql) in enumerate(running.columns):
        if _reads_later(ctx, i, sql):
            failed.add(name)
            out[name] = UNTYPED
            continue
        tree = ctx.frag(sql, Scope(out, running=True, what=f"running.{name}"))
        reads = {c.name for c in tree.find_all(exp.Column) if not c.table} if tree else set()
        if tree is None or reads & failed:
            failed.add(name)
            out[name] = UNTYPED
            continue
        out[name] = ctx.typed(tree, sql, f"running.{name}", out)
        at = 1 + max((level.get(c, 0) for c in reads), default=0)
        level[name] = at
        while len(layers) <= at:
            layers.append([])
        text = to_sql(
            tree.transform(lambda n: with_over(n.copy(), over) if is_aggregate(n) else n, copy=True)
        )
        layers[at].append(f"{text} AS {quote(name)}")
    if order is None:
        return
    # the columns in the order the SELECTs give them: a level's columns after the last's
    ordered = [*columns, *WINDOW_COLUMNS, *sorted(level, key=lambda n: level[n])]
    ordered += [n for n in out if n not in ordered]
    ctx.advance(
        Stage(
            StageKind.RUNNING,
            ctx.view("running"),
            (ctx.current,),
            _sql(ctx, columns, layers),
            f"running {', '.join(n for n, _ in running.columns)} over each key's rows of its "
            f"window so far, in {', '.join(order)} order",
            "at window close, no state of its own: the runtime runs this SELECT over the "
            "rows of the open windows it buffers for the aggregate (bounded there) and keeps "
            "the windows the watermark passes, so each value is computed over the same rows, "
            "in the same order, as in batch",
            tuple((n, out[n]) for n in ordered),
        )
    )
    ctx.window_columns = True


def _sql(ctx: LoweringContext, columns: dict[str, str], layers: list[list[str]]) -> str:
    """The running stage's SELECT: the rows expanded into their windows, then one SELECT
    per level of running columns, each around the one before it."""
    w = ctx.spec.window
    assert w is not None
    slide = f", '{w.slide.spark}'" if w.slide else ""
    sql = select(
        ["*", f"WINDOW({quote(ctx.time_column or '')}, '{w.size.spark}'{slide}) AS __window"],
        ctx.current,
    )
    sql = select(
        [
            *(quote(c) for c in columns),
            "__window.start AS window_start",
            "__window.end AS window_end",
        ],
        subquery(sql, "__rows"),
    )
    for at, items in enumerate(layers[1:], start=1):
        sql = select(["*", *items], subquery(sql, f"__running_{at - 1}"))
    return sql
