"""The lookup pass: the last value of another source at or before a time.

In batch the stage reads the whole looked-up stream, in one ordered pass per run of
lookups on the same keys (:func:`_stage`). In the stream (``mode: streaming``)
the same SQL runs over the rows whose lookup times the looked-up stream's watermark has
passed, against the last value per match key and second (``ctc.runtime.asof``); the
compiler records each lookup (:class:`~ctc.compiler.plan.LookupPlan`) and checks what
that needs: ``from: trades``, a window, an event time and ``at`` read from the columns
before the lookups."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from ctc.compiler.catalog import STREAMS
from ctc.compiler.expressions import Scope
from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.plan import LookupPlan, Stage, StageKind, StateBound
from ctc.compiler.sql_text import INDENT, qualify, quote, select, subquery, to_sql
from ctc.dsl.limits import MAX_LOOKUP_WITHIN_SECONDS
from ctc.dsl.model import Lookup


@dataclass(frozen=True)
class _Checked:
    """A lookup that compiled: what its stage needs."""

    lk: Lookup
    #: the lookup time and each match key's value, over the row (``src``)
    at_sql: str
    keyed: tuple[str, ...]
    #: the looked-up stream's match columns
    match: tuple[str, ...]
    #: the row's columns that ``at`` and the match keys read
    reads: frozenset[str]
    #: the value's type
    type: str


def run(ctx: LoweringContext) -> None:
    """Add the as-of lookup stages of the ``lookups:`` entries: one stage per run of
    consecutive lookups into the same stream on the same match keys, each one's time and
    keys not read from another of the run (one pass over that stream serves them all)."""
    before = dict(ctx.columns)  # the columns before the lookups
    if ctx.spec.lookups and ctx.spec.mode == "streaming":
        problems = len(ctx.errors)
        _streaming_shape(ctx, before)
        if len(ctx.errors) > problems:
            return
    group: list[_Checked] = []
    for lk in ctx.spec.lookups:
        pending = {g.lk.name: g.type for g in group}
        checked = _check(ctx, lk, before, pending)
        if checked is None:
            continue
        first = group[0] if group else None
        if first and (
            (first.lk.source, first.match, first.keyed) != (lk.source, checked.match, checked.keyed)
            or checked.reads & pending.keys()
        ):
            _stage(ctx, group)
            group = []
        group.append(checked)
    if group:
        _stage(ctx, group)


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


def _check(
    ctx: LoweringContext, lk: Lookup, before: dict[str, str], pending: dict[str, str]
) -> _Checked | None:
    """Check ``lk`` (``pending``: the lookups of the stage being gathered, not yet in the
    plan's columns) and record it for the stream; None when it has an error."""
    other = STREAMS[lk.source]
    at = ("lookups", lk.name)
    if lk.value not in other.columns:
        ctx.err((*at, "value"), f"unknown column '{lk.value}' of {lk.source}")
        return None
    columns = ctx.columns
    visible = {**columns, **pending}  # what a batch lookup's time and keys may read
    streaming = ctx.spec.mode == "streaming"
    if streaming and lk.source != "trades":
        ctx.err((*at, "from"), "lookups in the stream read trades only; use mode: batch")
        return None
    ctx.new_names([(lk.name, at)], visible)
    if lk.within.seconds > MAX_LOOKUP_WITHIN_SECONDS:
        ctx.err(
            (*at, "within"),
            f"lookups.{lk.name}.within may be at most "
            f"{MAX_LOOKUP_WITHIN_SECONDS // 3600} hours (its cost grows with the "
            "rows inside it)",
        )
    # in the stream a row's lookup times are known when it arrives: they read the
    # columns before the lookups only
    scope = Scope(before if streaming else visible, what=f"lookups.{lk.name}")
    at_tree = ctx.frag(lk.at, scope)
    trees = [] if at_tree is None else [at_tree]
    keyed: list[str] = []
    match: list[tuple[str, str]] = []
    for col, sql in lk.match:
        if col not in other.columns:
            ctx.err((*at, "match", col), f"unknown column '{col}' of {lk.source}", key=True)
            continue
        tree = ctx.frag(sql, scope)
        if tree is not None:
            trees.append(tree)
            keyed.append(to_sql(qualify(tree, "src", visible)))
            match.append((col, to_sql(tree)))
    id_column = ctx.source.id_column if ctx.source else None
    if at_tree is None or id_column is None:
        if id_column is None:
            ctx.err(at, "lookups need a source whose rows have an id")
        return None
    ctx.lookups.append(
        LookupPlan(
            lk.name,
            lk.source,
            other.time_column or "",
            other.id_column or "",
            lk.value,
            tuple(match),
            to_sql(at_tree),
            lk.within.seconds,
        )
    )
    return _Checked(
        lk,
        to_sql(qualify(at_tree, "src", visible)),
        tuple(keyed),
        tuple(col for col, _ in match),
        frozenset(c.name for tree in trees for c in tree.find_all(exp.Column)),
        other.columns[lk.value],
    )


def _stage(ctx: LoweringContext, group: list[_Checked]) -> None:
    """One stage for the lookups of ``group`` (same stream, same match keys).

    Each row goes into the looked-up stream's sequence once per lookup, at its lookup time,
    keyed by its match values; the sequence is ordered by time (of a row and a looked-up
    row at the same time, the looked-up row first; of two looked-up rows, the one with the
    smaller id). A row's lookup is the last looked-up row before it, kept when it is
    inside ``within``; the row's lookups are then gathered back into one row. One sort
    of the stream serves every lookup, instead of joining each row with every looked-up
    row of its ``within`` (thousands a second for a busy symbol), once per lookup.

    The sequence is cut into spans of time (:func:`_span_seconds`), so that a long
    history sorts in parallel pieces, not one per match key: a row goes into the span of
    its lookup time, a looked-up row into its own span and, when it is in the last
    ``within`` of it, into the next span too (a row early in a span may need it)."""
    first = group[0].lk
    other = STREAMS[first.source]
    columns = ctx.columns
    tcol = quote(other.time_column or "")
    keys = [f"__lookup_key_{col}" for col in group[0].match]
    within_seconds = max(g.lk.within.seconds for g in group)
    within = within_seconds * 1_000_000
    width = _span_seconds(within_seconds) * 1_000_000

    def span(us: str) -> str:
        # floor(us / width), for times before 1970 too (DIV rounds towards zero)
        return f"({us} - PMOD({us}, {width})) DIV {width}"

    values = list(dict.fromkeys(g.lk.value for g in group))
    probes = ", ".join(f"STRUCT({k} AS k, {g.at_sql} AS at)" for k, g in enumerate(group))
    rows = select(
        [f"STRUCT({', '.join(f'src.{quote(c)}' for c in columns)}) AS __lookup_row"]
        + [f"{sql} AS {key}" for sql, key in zip(group[0].keyed, keys, strict=True)]
        + [f"EXPLODE(ARRAY({probes})) AS __lookup_probe"],
        f"{ctx.current} AS src",
    )
    row_side = select(
        [
            "__lookup_row",
            *keys,
            "__lookup_probe.k AS __lookup_k",
            "__lookup_probe.at AS __lookup_at",
            f"{span('UNIX_MICROS(__lookup_probe.at)')} AS __lookup_span",
            "1 AS __lookup_is_row",
            "NULL AS __lookup_id",
            "NULL AS __lookup_found",
        ],
        subquery(rows),
    )
    found = ", ".join(f"lk.{quote(v)} AS {quote(v)}" for v in values)
    us = f"UNIX_MICROS(lk.{tcol})"
    stream_side = select(
        [
            "NULL",
            *(f"lk.{quote(col)}" for col in group[0].match),
            "NULL",
            f"lk.{tcol}",
            "EXPLODE(IF(lk.__lookup_carry, ARRAY(lk.__lookup_span, lk.__lookup_span + 1), "
            "ARRAY(lk.__lookup_span)))",
            "0",
            f"lk.{quote(other.id_column or '')}",
            f"STRUCT(lk.{tcol} AS __at, {found})",
        ],
        subquery(
            select(
                [
                    "lk.*",
                    f"{span(us)} AS __lookup_span",
                    # in the last `within` of its span: the next span's rows may need it
                    f"PMOD({us}, {width}) > {width - within} AS __lookup_carry",
                ],
                f"{other.view} AS lk",
            ),
            "lk",
        ),
    )
    window = (
        "LAST_VALUE(__lookup_found) IGNORE NULLS OVER (\n"
        + f"{INDENT}PARTITION BY {', '.join([*keys, '__lookup_span'])}\n"
        + f"{INDENT}ORDER BY __lookup_at, __lookup_is_row, __lookup_id\n"
        + f"{INDENT}ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW\n"
        + ") AS __lookup_last"
    )
    last = select(
        ["__lookup_row", "__lookup_k", "__lookup_at", "__lookup_is_row", *keys, window],
        subquery(f"{row_side}\nUNION ALL\n{stream_side}"),
    )
    known = [f"{key} IS NOT NULL" for key in keys]
    gathered = [
        "MAX(CASE WHEN "
        + " AND ".join(
            [
                f"__lookup_k = {k}",
                *known,
                f"__lookup_last.__at > __lookup_at - INTERVAL {g.lk.within.seconds} SECONDS",
            ]
        )
        + f" THEN __lookup_last.{quote(g.lk.value)} END) AS {quote(g.lk.name)}"
        for k, g in enumerate(group)
    ]
    out = {**columns, **{g.lk.name: g.type for g in group}}
    streaming = ctx.spec.mode == "streaming"
    names = [g.lk.name for g in group]
    ctx.advance(
        Stage(
            StageKind.LOOKUP,
            ctx.view("lookup_" + "_".join(names)),
            (ctx.current, other.view),
            select(
                [f"__lookup_row.{quote(c)}" for c in columns] + gathered,
                subquery(last),
                where="__lookup_is_row = 1",
                group_by=["__lookup_row"],
            ),
            f"as-of lookup{'s' if len(group) > 1 else ''} of "
            + "; ".join(f"{first.source}.{g.lk.value} at {g.lk.at.text}" for g in group)
            + (f" (one pass over {first.source})" if len(group) > 1 else ""),
            _streaming_text(ctx, first) if streaming else "batch only",
            tuple(out.items()),
            _bound(ctx, max(group, key=lambda g: g.lk.within.seconds).lk) if streaming else None,
        )
    )


def _span_seconds(within: int) -> int:
    """How long a lookup stage's spans of time are, for lookups reaching back ``within``
    seconds at most: an hour, or four times ``within`` when that is longer (a quarter of
    a span's looked-up rows at most go into the next span as well)."""
    return max(3600, 4 * within)


def _streaming_text(ctx: LoweringContext, lk: Lookup) -> str:
    """How the stream runs the lookup, for explain."""
    wm = ctx.spec.window.watermark.text if ctx.spec.window else ""
    return (
        f"a row waits (in the plan's pending rows) until the {lk.source} clock minus the "
        f"watermark ({wm}) passes its lookup time, then takes the last {lk.source} row at or "
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
