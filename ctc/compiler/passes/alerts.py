"""The alerts pass: one SELECT per alert rule, in the base alert record's shape, joined
with UNION ALL; and each rule as compiled, for explain and review. A ``per: row`` rule of
a window plan reads the window_rows stage (each event row with its window's figures)."""

from __future__ import annotations

from ctc.compiler.catalog import ALERTS, STREAMS
from ctc.compiler.expressions import FragmentError, Scope, fragment_error
from ctc.compiler.fragments.positions import suggest
from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.plan import AlertRulePlan, Stage, StageKind
from ctc.compiler.sql_text import quote, select, to_sql
from ctc.compiler.templates import compile_template
from ctc.dsl.model import AlertRule
from ctc.events import ALERT_FIELDS, ALERT_TTL_SECONDS


def _id_column(ctx: LoweringContext) -> str | None:
    """The row id of the source, which anchors the alert id of a spec without a window."""
    s = ctx.spec.source
    if s.stream:
        return STREAMS[s.stream].id_column
    if s.alerts:
        return ALERTS.id_column
    if s.detector and s.detector in ctx.upstream:
        return ctx.upstream[s.detector].id_column
    return None


def run(ctx: LoweringContext) -> None:
    """Add the alerts stage (it does not change what the output stage reads)."""
    selects: list[str] = []
    seen_types: set[str] = set()
    for i, rule in enumerate(ctx.spec.alerts):
        if rule.type in seen_types:
            ctx.err((*rule.path, "type"), f"alert type '{rule.type}' is raised by two rules")
        seen_types.add(rule.type)
        compiled = _rule(ctx, i, rule)
        if compiled is not None:
            plan, sql = compiled
            ctx.rules.append(plan)
            selects.append(sql)
    ctx.add(
        Stage(
            StageKind.ALERTS,
            ctx.view("alerts"),
            (ctx.current, ctx.rows_view) if ctx.rows_view else (ctx.current,),
            "\nUNION ALL\n".join(selects),
            "base alert records, one per rule that holds",
            "stateless; written through the shared alert sink (idempotent by alert_id)",
            tuple(ALERT_FIELDS.items()),
        )
    )


def _rule(ctx: LoweringContext, i: int, rule: AlertRule) -> tuple[AlertRulePlan, str] | None:
    """One rule's plan and SELECT (None: it has errors, recorded)."""
    spec, columns, at = ctx.spec, ctx.columns, rule.path
    per_row = rule.per_row_of_window
    if per_row:
        if not ctx.rows_view:
            return None  # the window_rows pass recorded why
        columns = ctx.row_columns
    scope = Scope(columns, what=f"alerts[{i}]")
    when = ctx.frag(rule.when, scope)
    bands: list[tuple[str, str | None]] = []
    for band in rule.severity:
        bw = ctx.frag(band.when, scope) if band.when else None
        bands.append((band.level, to_sql(bw) if bw is not None else None))
    symbol = ctx.frag(rule.symbol, scope) if rule.symbol else None
    if rule.symbol is None and "symbol" not in columns:
        ctx.err(at, "these rows have no 'symbol' column: set the alert's symbol:")
    exchange = ctx.frag(rule.exchange, scope) if rule.exchange else None
    key: tuple[str, ...]
    if per_row:
        key = ()
    elif rule.key is not None:
        key = rule.key
    elif spec.window:
        key = spec.group_by
    else:
        key = tuple(k for k in ("symbol", "exchange") if k in columns)
    for k in key:
        if k not in columns:
            ctx.err((*at, "key"), f"unknown column '{k}' in key")
    for n, d in enumerate(rule.details):
        if d not in columns:
            ctx.err(
                (*at, "details", n),
                f"unknown column '{d}' in details{suggest(d, sorted(columns))}",
            )
    try:
        message = compile_template(rule.message.text, columns, ctx.params)
    except FragmentError as err:
        ctx.errors.append(fragment_error(spec, rule.message, err))
        message = None
    if when is None or message is None:
        return None
    anchor = (
        f"CAST(UNIX_MILLIS({quote('window_start')}) AS STRING)"
        if spec.window and not per_row
        else f"CAST({quote(_id_column(ctx) or '')} AS STRING)"
    )
    parts = [f"'{spec.module}'", f"'{rule.type}'"]
    parts += [f"CAST({quote(k)} AS STRING)" for k in key] + [anchor]
    case = (
        "CASE "
        + " ".join(f"WHEN {w} THEN '{lvl}'" for lvl, w in bands if w is not None)
        + f" ELSE '{bands[-1][0]}' END"
        if len(bands) > 1
        else f"'{bands[-1][0]}'"
    )
    if exchange is not None:
        exch_sql = to_sql(exchange)
    elif "exchange" in columns and ("exchange" in key or per_row):
        exch_sql = "exchange"
    else:
        exch_sql = "CAST(NULL AS STRING)"
    detail_items = ", ".join(f"'{d}', {quote(d)}" for d in rule.details)
    detected = (ctx.time_column or "") if per_row else ctx.detected_at
    items = [
        f"SHA2(CONCAT_WS('|', {', '.join(parts)}), 256) AS alert_id",
        f"'{rule.type}' AS alert_type",
        f"'{spec.module}' AS module_id",
        f"{to_sql(symbol) if symbol is not None else 'symbol'} AS symbol",
        f"{exch_sql} AS exchange",
        f"{case} AS severity",
        f"{quote(detected)} AS detected_at",
        f"{to_sql(message)} AS message",
        f"UNIX_SECONDS({quote(detected)}) + {ALERT_TTL_SECONDS} AS ttl_epoch",
        f"TO_JSON(NAMED_STRUCT({detail_items})) AS details" if rule.details else "'{}' AS details",
    ]
    plan = AlertRulePlan(
        rule.type,
        " ".join(rule.when.text.split()),
        to_sql(when),
        tuple(bands),
        tuple(" ".join(b.when.text.split()) if b.when else None for b in rule.severity),
        rule.message.text,
        to_sql(message),
        rule.details,
        key,
        "window_start (epoch ms)" if spec.window and not per_row else (_id_column(ctx) or ""),
        detected,
        "row" if per_row else "window",
    )
    return plan, select(items, ctx.rows_view if per_row else ctx.current, where=to_sql(when))
