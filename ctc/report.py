"""Alerts for a person: the summary per detector and severity, the most severe alerts,
the input counts of a run, alerts as JSON lines, alerts per tier."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ctc.compiler.catalog import SEVERITIES_MOST_FIRST
from ctc.plural import plural
from ctc.tiers import TIERS


def summary_table(alerts: list[dict[str, Any]], plans: Sequence[Any]) -> str:
    """Alerts counted per detector, alert type and severity, one row per alert type of
    each plan (zeros included), with the total below."""
    order = SEVERITIES_MOST_FIRST
    counts = Counter((a["module_id"], a["alert_type"], a["severity"]) for a in alerts)
    rows = [(p.module, p.name, r.type) for p in plans for r in p.alert_rules]
    wn = max([20, *(len(name) for _m, name, _t in rows)])
    wt = max([22, *(len(t) for _m, _n, t in rows)])
    lines = [
        f"{'module':8} {'detector':{wn}} {'alert type':{wt}} "
        + " ".join(f"{s:>8}" for s in order)
        + f" {'total':>7}"
    ]
    for module, name, t in rows:
        row = [counts.get((module, t, s), 0) for s in order]
        lines.append(
            f"{module:8} {name:{wn}} {t:{wt}} "
            + " ".join(f"{n:>8}" for n in row)
            + f" {sum(row):>7}"
        )
    lines.append(f"{'':{8 + wn + wt + 2}}{'':>{9 * len(order)}} {len(alerts):>7}")
    return "\n".join(lines)


def most_severe(alerts: list[dict[str, Any]], n: int = 15) -> str:
    """The ``n`` most severe alerts (earliest first within a severity), one line each,
    in columns as wide as their longest value. ``detected_at`` is a datetime."""
    rank = {s: i for i, s in enumerate(SEVERITIES_MOST_FIRST)}
    top = sorted(alerts, key=lambda a: (rank.get(a["severity"], 9), a["detected_at"]))[:n]
    width = max((len(a["alert_type"]) for a in top), default=0)
    return "\n".join(
        f"  {a['detected_at']:%Y-%m-%d %H:%M:%S}  {a['severity']:8} "
        f"{a['alert_type']:{width}}  {a['message']}"
        for a in top
    )


def input_counts_line(label: str, read: int, used: int, rejected: int, duplicates: int) -> str:
    """``label: 3 records, 2 used, 1 rejected, 0 duplicates dropped``."""
    return (
        f"{label}: {plural(read, 'record')}, {used} used, {rejected} rejected, "
        f"{plural(duplicates, 'duplicate')} dropped"
    )


def alerts_json_lines(alerts: list[dict[str, Any]]) -> str:
    """One alert record a line, ``detected_at`` (a datetime) as ISO 8601 in UTC."""
    return "".join(
        json.dumps({**a, "detected_at": a["detected_at"].isoformat().replace("+00:00", "Z")}) + "\n"
        for a in alerts
    )


def tier_lines(alerts: list[dict[str, Any]], plans: Sequence[Any], span_seconds: float) -> str:
    """Alerts per tier and detector (each detector under the tier its spec names), a
    detector without alerts whose window is longer than the data (``span_seconds``)
    marked so."""
    counts = Counter(a["module_id"] for a in alerts)
    lines = []
    for tier in TIERS:
        mine = sorted((p for p in plans if p.tier == tier), key=lambda p: p.module)
        if not mine:
            continue
        parts = []
        for p in mine:
            part = f"{p.module} {p.name} {counts.get(p.module, 0)}"
            if p.mode == "batch":
                part += " (daily batch)"
            if not counts.get(p.module) and p.window and p.window.size_seconds > span_seconds:
                part += f" (its {p.window.size_text} window is longer than the data)"
            parts.append(part)
        total = sum(counts.get(p.module, 0) for p in mine)
        lines.append(f"  {tier:7} {total:5} alerts: " + ", ".join(parts))
    return "\n".join(lines)
