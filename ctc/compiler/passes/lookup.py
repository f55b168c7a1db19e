"""The lookup pass: the last value of another source at or before a time.

In batch the stage joins the whole looked-up stream. In the stream (``mode: streaming``)
the same SQL runs over the rows whose lookup times the looked-up stream's watermark has
passed, against the last value per match key and second (``ctc.runtime.asof``); the
compiler records each lookup (:class:`~ctc.compiler.plan.LookupPlan`) and checks what
that needs: ``from: trades``, a window, an event time and ``at`` read from the columns
before the lookups."""

from __future__ import annotations

from ctc.compiler.catalog import STREAMS
from ctc.compiler.expressions import Scope
from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.plan import LookupPlan, Stage, StageKind, StateBound
from ctc.compiler.sql_text import INDENT, qualify, quote, select, subquery, to_sql
from ctc.dsl.limits import MAX_LOOKUP_WITHIN_SECONDS
from ctc.dsl.model import Lookup


def run(ctx: LoweringContext) -> None:
    """Add one as-of lookup stage per ``lookups:`` entry."""
    before = dict(ctx.columns)  # the columns before the lookups
    if ctx.spec.lookups and ctx.spec.mode == "streaming":
        problems = len(ctx.errors)
        _streaming_shape(ctx, before)
        if len(ctx.errors) > problems:
            return
    for lk in ctx.spec.lookups:
        _lookup(ctx, lk, before)


def _streaming_shape(ctx: LoweringContext, before: dict[str, str]) -> None:
    """The errors of a streaming spec whose lookups the stream cannot run exactly."""
    spec = ctx.spec
    if spec.window is None:
        ctx.err(
            ("lookups",),
            "lookups in the stream need a window (its rows wait in the window's buffer "
            "until their lookup times pass); use mode: batch",
            key=True,
        )
        return
    time = spec.window.time or ctx.time_column
    if time is not None and time not in before:
        ctx.err(
            ("window", "time"),
            f"with lookups in the stream the event time must be a column before the "
            f"lookups; '{time}' is not",
        )


def _lookup(ctx: LoweringContext, lk: Lookup, before: dict[str, str]) -> None:
    other = STREAMS[lk.source]
    at = ("lookups", lk.name)
    if lk.value not in other.columns:
        ctx.err((*at, "value"), f"unknown column '{lk.value}' of {lk.source}")
        return
    columns = ctx.columns
    streaming = ctx.spec.mode == "streaming"
    if streaming and lk.source != "trades":
        ctx.err((*at, "from"), "lookups in the stream read trades only; use mode: batch")
        return
    ctx.new_names([(lk.name, at)], columns)
    if lk.within.seconds > MAX_LOOKUP_WITHIN_SECONDS:
        ctx.err(
            (*at, "within"),
            f"lookups.{lk.name}.within may be at most "
            f"{MAX_LOOKUP_WITHIN_SECONDS // 3600} hours (its cost grows with the "
            "rows inside it)",
        )
    # in the stream a row's lookup times are known when it arrives: they read the
    # columns before the lookups only
    scope = Scope(before if streaming else columns, what=f"lookups.{lk.name}")
    at_tree = ctx.frag(lk.at, scope)
    conds = []
    match: list[tuple[str, str]] = []
    for col, sql in lk.match:
        if col not in other.columns:
            ctx.err((*at, "match", col), f"unknown column '{col}' of {lk.source}", key=True)
            continue
        tree = ctx.frag(sql, scope)
        if tree is not None:
            conds.append(f"lk.{quote(col)} = {to_sql(qualify(tree, 'src', columns))}")
            match.append((col, to_sql(tree)))
    id_column = ctx.source.id_column if ctx.source else None
    if at_tree is None or id_column is None:
        if id_column is None:
            ctx.err(at, "lookups need a source whose rows have an id")
        return
    at_sql = to_sql(qualify(at_tree, "src", columns))
    tcol = quote(other.time_column or "")
    other_id = other.id_column or ""
    ctx.lookups.append(
        LookupPlan(
            lk.name,
            lk.source,
            other.time_column or "",
            other_id,
            lk.value,
            tuple(match),
            to_sql(at_tree),
            lk.within.seconds,
        )
    )
    # the time is cut into buckets as long as `within`: the rows inside (at - within, at]
    # are in at's bucket or the one before, so the join matches on the bucket too (an
    # equi-join) instead of comparing each row with every row of its match key
    width = lk.within.seconds * 1_000_000
    bucket = f"UNIX_MICROS({at_sql}) DIV {width}"
    conds += [
        f"UNIX_MICROS(lk.{tcol}) DIV {width} = src.__lookup_bucket",
        f"lk.{tcol} <= {at_sql}",
        f"lk.{tcol} > {at_sql} - INTERVAL {lk.within.seconds} SECONDS",
    ]
    buckets = select(
        ["src.*", f"EXPLODE(ARRAY({bucket}, {bucket} - 1)) AS __lookup_bucket"],
        f"{ctx.current} AS src",
    )
    inner = select(
        [f"src.{quote(c)}" for c in columns]
        + [
            f"lk.{quote(lk.value)} AS {quote(lk.name)}",
            # the last value; of two at the same time, the one with the larger id (a
            # row with no value in one of its buckets sorts after those with one)
            f"ROW_NUMBER() OVER (PARTITION BY src.{quote(id_column)} "
            f"ORDER BY lk.{tcol} DESC NULLS LAST, lk.{quote(other_id)} DESC) AS __lookup_rank",
        ],
        subquery(buckets, "src"),
        joins=[f"LEFT JOIN {other.view} AS lk", f"{INDENT}ON " + "\n  AND ".join(conds)],
    )
    out = {**columns, lk.name: other.columns[lk.value]}
    ctx.advance(
        Stage(
            StageKind.LOOKUP,
            ctx.view(f"lookup_{lk.name}"),
            (ctx.current, other.view),
            select([quote(c) for c in out], subquery(inner), where="__lookup_rank = 1"),
            f"as-of lookup of {lk.source}.{lk.value} at {lk.at.text}",
            _streaming_text(ctx, lk) if streaming else "batch only",
            tuple(out.items()),
            _bound(ctx, lk) if streaming else None,
        )
    )


def _streaming_text(ctx: LoweringContext, lk: Lookup) -> str:
    """How the stream runs the lookup, for explain."""
    wm = ctx.spec.window.watermark.text if ctx.spec.window else ""
    return (
        f"a row waits (in the plan's pending rows) until the {lk.source} clock minus the "
        f"watermark ({wm}) passes its lookup time, then joins the last {lk.source} row at or "
        "before it, from the last row per match key and second; the window is held so that "
        "no window closes before its pending rows are in; lookup times must be whole "
        "seconds, not before the row's event time"
    )


def _bound(ctx: LoweringContext, lk: Lookup) -> StateBound:
    """The stream's state for the lookup: the last value per match key and second, from
    the plan's watermark minus ``within`` to the looked-up stream's clock (about the
    watermark plus ``within``)."""
    wm = ctx.spec.window.watermark.seconds if ctx.spec.window else 0
    span = wm + lk.within.seconds
    return StateBound(
        f"last {lk.source}.{lk.value} per second (and pending rows)",
        span,
        tuple(col for col, _ in lk.match),
        span,
    )
