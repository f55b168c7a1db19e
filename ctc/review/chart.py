"""A sweep as a picture: stacked bars of alerts per severity at each param value, the
current value marked; SVG inside one self-contained HTML page (no script, no network)."""

from __future__ import annotations

from html import escape

from ctc.compiler.catalog import SEVERITIES
from ctc.review.sweep import SweepResult, by_severity, format_value

#: the dashboard's severity colours
COLOURS = {"low": "#94a3b8", "medium": "#f59e0b", "high": "#ef4444", "critical": "#7f1d1d"}

W, H = 760, 400
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 50, 70


def svg(result: SweepResult) -> str:
    """The chart as an SVG document."""
    per_value = [by_severity(c) for c in result.counts]
    peak = _nice_top(max((sum(v.values()) for v in per_value), default=0))
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    slot = plot_w / len(per_value)
    bar = slot * 0.7
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
        f'<rect width="{W}" height="{H}" fill="white"/>',
        f'<text x="{LEFT}" y="24" font-size="15" font-weight="bold">'
        f"{escape(result.module)} {escape(result.name)}: alerts by {escape(result.param)}</text>",
    ]
    for i in range(5):  # horizontal grid and y labels
        tick = peak * i / 4
        y = TOP + plot_h - plot_h * i / 4
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#e5e7eb"/>'
        )
        out.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{tick:,.0f}</text>')
    for i, (value, levels) in enumerate(zip(result.values, per_value, strict=True)):
        x = LEFT + slot * i + (slot - bar) / 2
        y = TOP + plot_h
        label = escape(format_value(value))
        for level in SEVERITIES:
            n = levels[level]
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[level]}"><title>{label}: {n} {level}</title></rect>'
            )
        cx = x + bar / 2
        out.append(
            f'<text x="{cx:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{label}</text>'
        )
        if value == result.current:
            out.append(
                f'<rect x="{x - 3:.1f}" y="{TOP - 4}" width="{bar + 6:.1f}" '
                f'height="{plot_h + 4}" fill="none" stroke="#2563eb" stroke-dasharray="4 3"/>'
            )
            out.append(
                f'<text x="{cx:.1f}" y="{TOP - 8}" text-anchor="middle" fill="#2563eb">'
                "current</text>"
            )
    legend_x = LEFT
    for level in SEVERITIES:
        out.append(
            f'<rect x="{legend_x}" y="{H - 24}" width="12" height="12" fill="{COLOURS[level]}"/>'
        )
        out.append(f'<text x="{legend_x + 16}" y="{H - 14}">{level}</text>')
        legend_x += 90
    out.append(
        f'<text x="{W - RIGHT}" y="{H - 14}" text-anchor="end" fill="#6b7280">'
        f"{escape(result.param)} · {result.records_used:,} trades</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def html(result: SweepResult, table_text: str) -> str:
    """A self-contained page: the chart and the table."""
    title = f"{result.module} {result.name}: sweep of {result.param}"
    return (
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head>\n"
        "<body style='font-family:sans-serif;margin:24px'>\n"
        f"{svg(result)}<pre>{escape(table_text)}</pre>\n</body></html>\n"
    )


def _nice_top(n: int) -> int:
    """The y axis' top: four whole steps of 1, 2, 3 or 5 × 10^k reaching ``n``."""
    k = 1
    while True:
        for m in (1, 2, 3, 5):
            if 4 * m * k >= n:
                return 4 * m * k
        k *= 10
