"""A review as text (a terminal), Markdown (a pull-request comment) or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ctc.plural import plural
from ctc.review.changes import DetectorChange, ParamChange
from ctc.review.impact import EXAMPLES, Impact, ModuleImpact


def _when(alert: dict[str, Any]) -> str:
    t = alert["detected_at"]
    return t.strftime("%Y-%m-%d %H:%M:%S") if isinstance(t, datetime) else str(t)


def _value(v: object) -> str:
    return "(none)" if v is None else repr(v) if isinstance(v, str) else str(v)


def _param_line(p: ParamChange) -> str:
    reach = f" (reaches {', '.join(p.reaches)})" if p.reaches else ""
    return f"{p.name}: {_value(p.old)} → {_value(p.new)}{reach}"


def headline(changes: Sequence[DetectorChange], base: str, head: str) -> str:
    """One line: how many detectors changed, by classification."""
    if not changes:
        return f"ctc diff {base} → {head}: no detector changed"
    kinds: dict[str, int] = {}
    for c in changes:
        key = c.classification or c.status
        kinds[key] = kinds.get(key, 0) + 1
    order = ["breaking", "non-breaking", "cosmetic", "added", "removed"]
    parts = ", ".join(f"{kinds[k]} {k}" for k in order if k in kinds)
    return f"ctc diff {base} → {head}: {plural(len(changes), 'detector')} changed ({parts})"


def _impact_rows(mi: ModuleImpact) -> list[tuple[str, str, int, int]]:
    keys = sorted(set(mi.before) | set(mi.after))
    return [(t, s, mi.before.get((t, s), 0), mi.after.get((t, s), 0)) for t, s in keys]


def _example(a: dict[str, Any]) -> str:
    return f"{_when(a)}  {a['severity']:<8} {a['symbol'] or '':<9} {a['message']}"


def text(changes: Sequence[DetectorChange], impact: Impact | None, base: str, head: str) -> str:
    """The review for a terminal."""
    out = [headline(changes, base, head)]
    by_module = {m.module: m for m in impact.modules} if impact else {}
    for c in changes:
        out.append("")
        label = c.classification or c.status
        out.append(f"{c.module} {c.name}: {label}")
        out += [f"  {r}" for r in c.reasons]
        if c.rerun:
            out.append(f"  re-run: {c.rerun}")
        if c.readers and c.classification != "cosmetic":
            out.append(f"  read by {', '.join(c.readers)}: their results may change too")
        if c.params:
            out.append("  params:")
            out += [f"    {_param_line(p)}" for p in c.params]
        for d in c.diffs:
            out.append(f"  {d.what}:")
            out += [f"    {ln}" for ln in d.diff.rstrip("\n").splitlines()]
    if impact is not None:
        out.append("")
        out.append(
            f"impact over {impact.input_path} ({impact.records_read:,} records, "
            f"{impact.records_used:,} used), back-tests {impact.seconds:.1f} s:"
        )
        for mi in impact.modules:
            out.append(f"  {mi.module}:" + ("" if mi.changed else " no alert changed"))
            rows = _impact_rows(mi)
            if rows:
                width = max(len(f"{t}/{s}") for t, s, _b, _a in rows)
                out.append(f"    {'alert type/severity':<{width}}  before   after")
                for t, s, n_before, n_after in rows:
                    out.append(f"    {f'{t}/{s}':<{width}}  {n_before:>6}  {n_after:>6}")
            for title, alerts in (("added", mi.added), ("removed", mi.removed)):
                if alerts:
                    out.append(f"    {len(alerts)} {title}, e.g.:")
                    out += [f"      {_example(a)}" for a in alerts[:EXAMPLES]]
            if mi.severity_changed:
                out.append(f"    {len(mi.severity_changed)} changed severity, e.g.:")
                for a, b in mi.severity_changed[:EXAMPLES]:
                    out.append(
                        f"      {_when(b)}  {a['severity']} → {b['severity']}  {b['message']}"
                    )
        missing = [m for m in by_module if not any(c.module == m for c in changes)]
        if missing:
            out.append(f"  ({', '.join(missing)} ran because they read a changed detector)")
    return "\n".join(out) + "\n"


def markdown(changes: Sequence[DetectorChange], impact: Impact | None, base: str, head: str) -> str:
    """The review as a pull-request comment."""
    out = [f"### {headline(changes, base, head)}", ""]
    if changes:
        out += ["| detector | change | why |", "|---|---|---|"]
        for c in changes:
            why = "; ".join(c.reasons).replace("|", "\\|")
            out.append(f"| {c.module} {c.name} | **{c.classification or c.status}** | {why} |")
        out.append("")
    for c in changes:
        out.append(f"#### {c.module} {c.name}: {c.classification or c.status}")
        out.append("")
        if c.rerun:
            out.append(f"- Re-run: {c.rerun}")
        if c.readers and c.classification != "cosmetic":
            out.append(f"- Read by {', '.join(c.readers)}: their results may change too")
        for p in c.params:
            out.append(f"- Param `{_param_line(p)}`")
        if c.diffs:
            out += ["", "<details><summary>SQL and alert rules</summary>", ""]
            for d in c.diffs:
                out += [f"{d.what}:", "", "```diff", d.diff.rstrip("\n"), "```", ""]
            out.append("</details>")
        out.append("")
    if impact is not None:
        out.append(
            f"#### Impact over `{impact.input_path}` ({impact.records_read:,} records, "
            f"{impact.records_used:,} used)"
        )
        out.append("")
        out += ["| detector | alert type | severity | before | after |", "|---|---|---|---:|---:|"]
        for mi in impact.modules:
            for t, s, n_before, n_after in _impact_rows(mi):
                mark = " ⚠" if n_after != n_before else ""
                out.append(f"| {mi.module} | {t} | {s} | {n_before} | {n_after}{mark} |")
        out.append("")
        for mi in impact.modules:
            lines = []
            for title, alerts in (("added", mi.added), ("removed", mi.removed)):
                if alerts:
                    lines.append(f"- {len(alerts)} {title}, e.g.:")
                    lines += [
                        f"  - `{_when(a)}` {a['severity']}: {a['message']}"
                        for a in alerts[:EXAMPLES]
                    ]
            if mi.severity_changed:
                lines.append(f"- {len(mi.severity_changed)} changed severity, e.g.:")
                lines += [
                    f"  - `{_when(b)}` {a['severity']} → {b['severity']}: {b['message']}"
                    for a, b in mi.severity_changed[:EXAMPLES]
                ]
            if lines:
                out += [f"**{mi.module}**", "", *lines, ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _alert_json(a: dict[str, Any]) -> dict[str, Any]:
    return {**a, "detected_at": _when(a)}


def as_json(changes: Sequence[DetectorChange], impact: Impact | None, base: str, head: str) -> str:
    """The review as one JSON document."""
    doc: dict[str, Any] = {
        "base": base,
        "head": head,
        "changes": [
            {
                "module": c.module,
                "name": c.name,
                "status": c.status,
                "classification": c.classification,
                "reasons": list(c.reasons),
                "rerun": c.rerun,
                "readers": list(c.readers),
                "params": [
                    {"name": p.name, "old": p.old, "new": p.new, "reaches": list(p.reaches)}
                    for p in c.params
                ],
                "diffs": [{"what": d.what, "diff": d.diff} for d in c.diffs],
            }
            for c in changes
        ],
    }
    if impact is not None:
        doc["impact"] = {
            "input": impact.input_path,
            "records_read": impact.records_read,
            "records_used": impact.records_used,
            "modules": [
                {
                    "module": mi.module,
                    "counts": [
                        {"alert_type": t, "severity": s, "before": nb, "after": na}
                        for t, s, nb, na in _impact_rows(mi)
                    ],
                    "added": [_alert_json(a) for a in mi.added],
                    "removed": [_alert_json(a) for a in mi.removed],
                    "severity_changed": [
                        {"before": _alert_json(a), "after": _alert_json(b)}
                        for a, b in mi.severity_changed
                    ],
                }
                for mi in impact.modules
            ],
        }
    return json.dumps(doc, indent=2, default=str) + "\n"


RENDERERS = {"text": text, "markdown": markdown, "json": as_json}
