"""The window pass: the event view (where streaming sets the watermark), the window plan,
and the column an alert's ``detected_at`` comes from."""

from __future__ import annotations

from dataclasses import replace

from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.plan import WindowPlan


def run(ctx: LoweringContext) -> None:
    """Mark the rows read so far as the event view; plan the window, if any."""
    w = ctx.spec.window
    ctx.event_view = ctx.current
    ctx.detected_at = "window_end" if w else (ctx.time_column or "")
    if w is None:
        return
    if ctx.time_column:
        last = ctx.stages[-1]
        ctx.stages[-1] = replace(
            last,
            streaming=f"{last.streaming}; the runtime sets the watermark on "
            f"{ctx.time_column} ({w.watermark.text}) on these rows",
        )
    slide = w.slide or w.size
    ctx.window = WindowPlan(
        w.type,
        w.size.seconds,
        slide.seconds,
        w.watermark.seconds,
        ctx.time_column or "",
        w.size.text,
        w.watermark.text,
    )
