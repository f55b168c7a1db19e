"""Render a Plan for a person: what it reads, each stage and its SQL, state, alerts, sinks.

Every line is at most :data:`~ctc.compiler.explain_layout.WIDTH` characters where it can
be broken (:mod:`ctc.compiler.explain_layout`).
"""

from __future__ import annotations

import textwrap

from ctc.compiler.explain_layout import (
    WIDTH,
    fill,
    fill_parts,
    fill_template,
    glued,
    reflow_sql,
)
from ctc.compiler.plan import AlertRulePlan, Plan, SourceKind

_SOURCES = {
    "trades": "unified trade events (after the quality gate)",
    "chain_events": "normalised on-chain events (transfers, DEX swaps) from the chain connectors",
    "alerts": "the shared alert stream",
}

#: Where a stage's SQL starts.
_SQL_INDENT = 8


def _reads(plan: Plan) -> list[str]:
    out = ["", "Reads"]
    what = _SOURCES.get(
        plan.source_view,
        f"the output rows of {', '.join(plan.depends_on)}"
        if plan.source_kind == SourceKind.DETECTOR
        else plan.source_view,
    )
    out += fill(f"  {plan.source_view}: ", what, indent=4)
    if plan.source_modules:
        out += fill("  only alerts of ", ", ".join(plan.source_modules), indent=4)
    for name, path, fmt, _cols in plan.references:
        out += fill(f"  reference table {name}: ", f"{path} ({fmt})", indent=4)
    out += fill(
        "  event time: ",
        (plan.time_column or "(none: static rows)")
        + (f"; row id: {plan.id_column}" if plan.id_column else ""),
        indent=4,
    )
    if plan.window:
        w = plan.window
        slide = f", a new one every {w.slide_seconds} s" if w.type == "sliding" else ""
        out += fill(
            "  window: ",
            f"{w.type} {w.size_text}{slide} on {w.time_column}, aligned to the Unix epoch, "
            "[start, end)",
            indent=4,
        )
        out += fill(
            "  watermark: ",
            f"{w.watermark_text} — events later than that are left out of their window "
            "in streaming",
            indent=4,
        )
    else:
        out.append("  no window: every row is judged on its own, as it arrives")
    return out


def _stages(plan: Plan) -> list[str]:
    out = [
        "",
        "Stages (each is a SELECT over the one before; the same SQL runs in batch and streaming)",
    ]
    for i, st in enumerate(plan.stages, 1):
        out += fill(f"  {i}. {st.kind}: ", st.note, indent=5)
        out += fill("     streaming: ", st.streaming, indent=7)
        if st.state:
            out += fill("     state: ", st.state.describe(), indent=7)
        out.append(f"     view {st.view}:")
        sql = reflow_sql(st.sql, WIDTH - _SQL_INDENT)
        out.append(textwrap.indent(sql, " " * _SQL_INDENT))
    return out


def _alert(plan: Plan, r: AlertRulePlan) -> list[str]:
    out = [f"  {r.type}"]
    if r.per == "row" and plan.window is not None:
        out += fill(
            "    per       ",
            f"row: one alert per row of {plan.event_view} with its window's figures, raised "
            "when the window closes (in streaming: when the watermark, "
            f"{plan.window.watermark_text} behind the newest event, passes its end)",
        )
    out += fill("    when      ", r.when_text)
    if r.when_text != r.when_sql:
        out += fill("              = ", r.when_sql)
    width = max(len(lvl) for lvl, _ in r.bands)
    for j, ((lvl, sql), text) in enumerate(zip(r.bands, r.band_texts, strict=True)):
        label = "severity  " if j == 0 else "          "
        cond = (
            f"if {text}" + (f"  (= {sql})" if sql and sql != text else "") if text else "otherwise"
        )
        out += fill(f"    {label}{lvl.ljust(width)}  ", cond)
    out += fill_parts("    alert id  sha256(", [plan.module, r.type, *r.key, f"{r.anchor})"], "|")
    out += fill("    detected  ", f"{r.detected_at}; kept 24 h in the hot store (ttl_epoch)")
    out += fill_template("    message   ", r.message_template)
    if r.details:
        out += fill("    details   ", ", ".join(r.details))
    return out


def _published(plan: Plan) -> list[str]:
    """The plan's catalog entries: its alert types in words and its chart series."""
    pub = plan.publish
    out = ["", "Published (the API's catalog and the dashboard; no SQL)"]
    out += [f'  alert {kind}: "{label}"' for kind, label in pub.alert_labels]
    for s in pub.series:
        unit = f" ({s.unit})" if s.unit else ""
        out.append(f'  series {s.name}: "{s.label}"{unit}, {s.chart} chart')
        out += fill("    shows    ", s.description, indent=13)
        keys = "symbol" + (" and exchange" if s.exchange else "")
        cols = f"{s.symbol}, {s.exchange}" if s.exchange else s.symbol
        out.append(f"    points   {s.value} at {s.time}, per {keys} ({cols})")
        if s.details:
            out += fill("    details  ", ", ".join(s.details), indent=13)
        out.append(f"    markers  {', '.join(s.markers) or 'none'}")
        if s.guides:
            out.append(f"    guides   {', '.join(f'{g:g}' for g in s.guides)}")
        if s.metric:
            out.append(f"    metric   GET /metrics/{{symbol}} reports the latest as {s.metric}")
        if s.missing:
            out += fill("    missing  ", s.missing, indent=13)
    return out


def explain(plan: Plan) -> str:
    """A readable account of ``plan`` for an analyst who knows SQL but not Python."""
    out: list[str] = []
    head = f"{plan.module} {plan.name} — {plan.title}"
    out += [
        head,
        "=" * len(head),
        f"spec:   {plan.spec_path}",
        f"tier:   {plan.tier}    mode: {plan.mode}"
        + (f" ({plan.schedule})" if plan.schedule else ""),
    ]
    if plan.description:
        out += ["", textwrap.fill(plan.description, 88)]
    out += _reads(plan)
    if plan.params:
        out += ["", "Params (named in the SQL as params.<name>)"]
        width = max(len(k) for k, _ in plan.params)
        out += [f"  {k.ljust(width)}  {v!r}" for k, v in plan.params]
    out += _stages(plan)
    out += ["", "Alerts"]
    for r in plan.alert_rules:
        out += _alert(plan, r)
    out += ["", "Output"]
    out += fill(
        f"  table {plan.output_table} ",
        f"(partitioned by {', '.join(plan.output_partition_by) or 'nothing'}); rows: "
        f"{plan.output_rows}",
        indent=4,
    )
    columns = ", ".join(glued(f"{c} {t}") for c, t in plan.output_columns)
    out += fill("  columns: ", columns, indent=4)
    out += ["", "Sinks"]
    for s in plan.sinks:
        out += fill("  - ", s)
    out += _published(plan)
    if plan.depends_on:
        out += ["", f"Depends on: {', '.join(plan.depends_on)} (run in the same application)"]
    return "\n".join(out) + "\n"
