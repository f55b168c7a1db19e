"""The text ``ctc alert`` prints: the alert, its provenance, its window and key, the stage
SQL and, after a back-test of the window, its input rows."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ctc.compiler.plan import Plan
from ctc.plural import plural
from ctc.review.alert_window import AlertWindow, WindowRerun
from ctc.review.origin import Origin

#: Alert fields printed first, in this order (details and provenance follow).
_FIELDS = ("alert_id", "alert_type", "module_id", "symbol", "exchange", "severity",
           "detected_at", "message", "ttl_epoch")  # fmt: skip


def _iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if hasattr(moment, "strftime") else str(moment)


def alert_lines(alert: Mapping[str, Any]) -> list[str]:
    """The stored alert, one field a line, its details as indented JSON."""
    lines = [f"  {name + ':':<13}{alert.get(name)}" for name in _FIELDS]
    details = alert.get("details")
    try:
        parsed = json.loads(details) if isinstance(details, str) else details
    except ValueError:
        parsed = details
    text = json.dumps(parsed, indent=2, ensure_ascii=False, default=str)
    lines.append("  details:     " + text.replace("\n", "\n               "))
    return lines


def version_lines(origin: Origin, ctc_version: str | None) -> list[str]:
    """The spec version that raised the alert, and whether the working tree still has it."""
    recorded = origin.recorded
    lines = [
        f"  spec version: {recorded or 'not recorded (stored before ctc kept provenance)'}",
        f"  ctc version:  {ctc_version or 'not recorded'}",
    ]
    if origin.spec_path is None:
        lines.append(f"  working tree: no spec of {origin.module} in the detectors folder")
    elif origin.same:
        lines.append(f"  working tree: {origin.spec_path} still has this version")
    else:
        lines.append(f"  working tree: {origin.spec_path} is now version {origin.current}")
        if origin.commit:
            lines.append(f"  raised by:    {origin.spec_path} as of commit {origin.commit[:12]}")
        elif recorded is not None:
            lines.append("  raised by:    a version not found in the spec file's git history")
    return lines


def window_lines(plan: Plan, window: AlertWindow) -> list[str]:
    """The window (or row) and the key of the alert."""
    key = ", ".join(
        f"{n} = {v if v is not None else '(not recorded in the alert)'}" for n, v in window.key
    )
    if window.per_row:
        what = f"  row at:       {_iso(window.start)} ({plan.time_column}; no window, per row)"
        lines = [what]
        if window.row_id is not None:
            lines.append(f"  row id:       {window.row_id[0]} = {window.row_id[1]}")
    else:
        assert plan.window is not None
        lines = [
            f"  window:       [{_iso(window.start)}, {_iso(window.end)}) "
            f"({plan.window.type} {plan.window.size_text} on {plan.time_column})"
        ]
        if window.row_id is not None:  # a per: row rule: the alert is about one row of it
            lines.append(f"  row id:       {window.row_id[0]} = {window.row_id[1]}")
    lines.append(f"  key:          {key or '(none)'}")
    return lines


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    cells = [[_iso(v) if hasattr(v, "strftime") else str(v) for v in r] for r in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    out = ["  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    out += ["  " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
            for r in cells]  # fmt: skip
    return out


def rerun_lines(
    plan: Plan, alert: Mapping[str, Any], rerun: WindowRerun, max_rows: int
) -> list[str]:
    """What the back-test of the window found: the alert again (or not), and the rows."""
    lines = [
        f"  read {rerun.trades:,} trades from {_iso(rerun.read_from)} to {_iso(rerun.read_to)}"
    ]
    again = rerun.again
    if again is None:
        lines.append(
            "  the alert is not raised again: the input does not hold what the stream read "
            "for this window (or its history), or the spec version differs"
        )
    else:
        same = [k for k in ("severity", "message") if again.get(k) == alert.get(k)]
        differ = [
            f"{k} {alert.get(k)!r} → {again.get(k)!r}"
            for k in ("severity", "message")
            if k not in same
        ]
        lines.append(
            "  the alert is raised again"
            + (f", with {'; '.join(differ)}" if differ else ", with the same severity and message")
        )
    n = len(rerun.rows)
    lines.append(
        f"  {plural(n, 'row')} of {plan.event_view} in the window and key"
        + (f" (the first {max_rows} shown)" if n > max_rows else "")
        + (":" if n else "")
    )
    if n:
        lines += _table(rerun.columns, rerun.rows[:max_rows])
    return lines


def sql_lines(plan: Plan, label: str) -> list[str]:
    """Every stage's SQL of ``plan`` (the golden-file form), saying which version it is."""
    return [f"stage SQL ({label}):", "", *plan.sql_script().rstrip("\n").split("\n")]
