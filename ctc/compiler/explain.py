"""Render a Plan for a person: what it reads, each stage and its SQL, state, alerts, sinks."""

from __future__ import annotations

import textwrap

from ctc.compiler.plan import Plan

_SOURCES = {
    "trades": "unified trade events (after the quality gate)",
    "chain_events": "normalised on-chain events (transfers, DEX swaps) from the chain connectors",
    "alerts": "the shared alert stream",
}


def _indent(text: str, n: int) -> str:
    return textwrap.indent(text, " " * n)


def _published(plan: Plan) -> list[str]:
    """The plan's catalog entries: its alert types in words and its chart series."""
    pub = plan.publish
    out = ["", "Published (the API's catalog and the dashboard; no SQL)"]
    out += [f'  alert {kind}: "{label}"' for kind, label in pub.alert_labels]
    for s in pub.series:
        unit = f" ({s.unit})" if s.unit else ""
        out.append(f'  series {s.name}: "{s.label}"{unit}, {s.chart} chart')
        out.append(f"    shows    {s.description}")
        keys = "symbol" + (" and exchange" if s.exchange else "")
        cols = f"{s.symbol}, {s.exchange}" if s.exchange else s.symbol
        out.append(f"    points   {s.value} at {s.time}, per {keys} ({cols})")
        if s.details:
            out.append(f"    details  {', '.join(s.details)}")
        out.append(f"    markers  {', '.join(s.markers) or 'none'}")
        if s.guides:
            out.append(f"    guides   {', '.join(f'{g:g}' for g in s.guides)}")
        if s.metric:
            out.append(f"    metric   GET /metrics/{{symbol}} reports the latest as {s.metric}")
        if s.missing:
            out.append(f"    missing  {s.missing}")
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

    out += ["", "Reads"]
    what = _SOURCES.get(
        plan.source_view,
        f"the output rows of {', '.join(plan.depends_on)}"
        if plan.source_kind == "detector"
        else plan.source_view,
    )
    out.append(f"  {plan.source_view}: {what}")
    if plan.source_modules:
        out.append(f"  only alerts of {', '.join(plan.source_modules)}")
    for name, path, fmt, _cols in plan.references:
        out.append(f"  reference table {name}: {path} ({fmt})")
    out.append(
        f"  event time: {plan.time_column or '(none: static rows)'}"
        + (f"; row id: {plan.id_column}" if plan.id_column else "")
    )
    if plan.window:
        w = plan.window
        slide = f", a new one every {w.slide_seconds} s" if w.type == "sliding" else ""
        out.append(
            f"  window: {w.type} {w.size_text}{slide} on {w.time_column}, aligned to the "
            "Unix epoch, [start, end)"
        )
        out.append(
            f"  watermark: {w.watermark_text} — events later than that are left out of "
            "their window in streaming"
        )
    else:
        out.append("  no window: every row is judged on its own, as it arrives")

    if plan.params:
        out += ["", "Params (named in the SQL as params.<name>)"]
        width = max(len(k) for k, _ in plan.params)
        out += [f"  {k.ljust(width)}  {v!r}" for k, v in plan.params]

    out += [
        "",
        "Stages (each is a SELECT over the one before; the same SQL runs in batch and streaming)",
    ]
    for i, st in enumerate(plan.stages, 1):
        out.append(f"  {i}. {st.kind}: {st.note}")
        out.append(f"     streaming: {st.streaming}")
        if st.state:
            out.append(f"     state: {st.state.describe()}")
        out.append(f"     view {st.view}:")
        out.append(_indent(st.sql, 8))

    out += ["", "Alerts"]
    for r in plan.alert_rules:
        out.append(f"  {r.type}")
        out.append(f"    when      {r.when_text}")
        if r.when_text != r.when_sql:
            out.append(f"              = {r.when_sql}")
        width = max(len(lvl) for lvl, _ in r.bands)
        for j, ((lvl, sql), text) in enumerate(zip(r.bands, r.band_texts, strict=True)):
            label = "severity  " if j == 0 else "          "
            cond = (
                f"if {text}" + (f"  (= {sql})" if sql and sql != text else "")
                if text
                else "otherwise"
            )
            out.append(f"    {label}{lvl.ljust(width)}  {cond}")
        key = "|".join([plan.module, r.type, *r.key, r.anchor])
        out.append(f"    alert id  sha256({key})")
        out.append(f"    detected  {r.detected_at}; kept 24 h in the hot store (ttl_epoch)")
        out.append("    message   " + " ".join(r.message_template.split()))
        if r.details:
            out.append(f"    details   {', '.join(r.details)}")

    out += [
        "",
        "Output",
        f"  table {plan.output_table} "
        f"(partitioned by {', '.join(plan.output_partition_by) or 'nothing'}); rows: "
        f"{plan.output_rows}",
    ]
    out.append("  columns: " + ", ".join(f"{c} {t}" for c, t in plan.output_columns))
    out += ["", "Sinks"] + [f"  - {s}" for s in plan.sinks]
    out += _published(plan)
    if plan.depends_on:
        out += ["", f"Depends on: {', '.join(plan.depends_on)} (run in the same application)"]
    return "\n".join(out) + "\n"
