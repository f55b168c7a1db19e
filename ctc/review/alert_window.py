"""An alert's window and key, and a back-test of that window only.

A window plan's alert is detected at its window's end, so the window is ``[detected_at -
size, detected_at)``; a per-row plan's alert at its row's event time; a ``per: row`` rule's
alert of a window plan at its row's event time, in the tumbling window that holds it (its
key then is the plan's ``group_by``, and the row's id is recorded too). The key is the alert
rule's (``AlertRulePlan.key``), with the values the alert records (its symbol and exchange,
or a detail of that name).

The back-test reads only the trades the window needs: from its start, less what the plan
looks back (its baseline, its lookups, and the windows of the plans it reads), to its end.
It runs the same stages as any back-test (:func:`ctc.runtime.batch.register_plans`) and
returns the rows of the plan's event view in that window and key: the rows the window was
made of.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctc.compiler.plan import AlertRulePlan, Plan
from ctc.dsl.model import Spec
from ctc.review.versions import Version

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ctc.runtime.quality_rules import QualityRules

#: The trades' event-time column (the ``trades`` view the back-test filters).
TRADE_TIME = "timestamp"


@dataclass(frozen=True)
class AlertWindow:
    """The window an alert was raised for, and its key."""

    #: start and end (exclusive); equal for a per-row plan (its row's event time)
    start: datetime
    end: datetime
    #: the alert rule's key columns and their values (None: not recorded in the alert)
    key: tuple[tuple[str, Any], ...]
    #: for a per-row plan or rule: its id column and the row's id (None when not recorded)
    row_id: tuple[str, Any] | None = None

    @property
    def per_row(self) -> bool:
        """Whether the plan has no window (the alert is about one row)."""
        return self.start == self.end


@dataclass(frozen=True)
class WindowRerun:
    """What a back-test of one window found."""

    #: the alert as the back-test raised it again (None: not raised)
    again: dict[str, Any] | None
    #: the columns of the plan's event view, and its rows in the window and key
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    #: the time range of trades the back-test read, and how many there were
    read_from: datetime
    read_to: datetime
    trades: int


def rule_of(plan: Plan, alert_type: str | None) -> AlertRulePlan | None:
    """The plan's alert rule of ``alert_type``."""
    return next((r for r in plan.alert_rules if r.type == alert_type), None)


def _details(alert: Mapping[str, Any]) -> dict[str, Any]:
    raw = alert.get("details")
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _recorded(alert: Mapping[str, Any], name: str) -> Any:
    if name in ("symbol", "exchange") and alert.get(name) is not None:
        return alert[name]
    return _details(alert).get(name)


def window_of(plan: Plan, alert: Mapping[str, Any], detected_at: datetime) -> AlertWindow:
    """The window and key of ``alert``, raised by ``plan`` at ``detected_at``."""
    rule = rule_of(plan, alert.get("alert_type"))
    names = rule.key if rule else ()
    agg = plan.aggregate_stage
    if rule is not None and rule.per == "row" and agg is not None and agg.state is not None:
        names = agg.state.keys  # the window's key: group_by
    key = tuple((n, _recorded(alert, n)) for n in names)
    if rule is not None and rule.per == "row" and plan.window is not None:
        size = timedelta(seconds=plan.window.size_seconds)
        since_epoch = detected_at - datetime(1970, 1, 1, tzinfo=detected_at.tzinfo)
        start = detected_at - since_epoch % size
        row_id = (plan.id_column, _recorded(alert, plan.id_column)) if plan.id_column else None
        return AlertWindow(start, start + size, key, row_id)
    if plan.window is None:
        row_id = (plan.id_column, _recorded(alert, plan.id_column)) if plan.id_column else None
        return AlertWindow(detected_at, detected_at, key, row_id)
    start = detected_at - timedelta(seconds=plan.window.size_seconds)
    return AlertWindow(start, detected_at, key)


def lookback_seconds(module: str, specs: Mapping[str, Spec], plans: Mapping[str, Plan]) -> int:
    """How far before a window's start ``module`` reads: its window and baseline, its
    lookups' reach, and (the longest of) what the plans it reads look back."""
    plan = plans[module]
    own = 0
    if plan.window is not None:
        own = plan.window.size_seconds + plan.window.baseline_lookback_seconds
    spec = specs.get(module)
    if spec is not None and spec.lookups:
        own += max(lk.within.seconds for lk in spec.lookups)
    upstream = [lookback_seconds(d, specs, plans) for d in plan.depends_on if d in plans]
    return own + max(upstream, default=0)


def rerun_window(
    spark: SparkSession,
    version: Version,
    plan: Plan,
    alert: Mapping[str, Any],
    window: AlertWindow,
    input_path: str | Path,
    rules: QualityRules | None,
    cache_dir: str | Path | None,
    say: Callable[[str], None],
) -> WindowRerun:
    """Back-test ``plan`` (``version``'s, with the plans it reads) over the trades of
    ``input_path`` that ``window`` needs, and return what it finds (see the module
    docstring)."""
    from pyspark.sql import functions as F

    from ctc.runtime.batch import register_plans
    from ctc.runtime.gated_cache import gated_input
    from ctc.runtime.sources import permissive_rules

    plans = version.plans_for([plan.module])
    by_module = {p.module: p for p in plans}
    specs = {s.module: s for s in version.context}
    back = timedelta(seconds=lookback_seconds(plan.module, specs, by_module))
    read_from = window.start - back
    read_to = window.end if not window.per_row else window.end + timedelta(microseconds=1)
    gated = gated_input(spark, input_path, rules or permissive_rules(), cache_dir, progress=say)
    try:
        trades = gated.trades.where(
            (F.col(TRADE_TIME) >= F.lit(read_from)) & (F.col(TRADE_TIME) < F.lit(read_to))
        ).cache()
        n_trades = trades.count()
        say(f"back-testing {plan.module} over {n_trades:,} trades from {read_from} to {read_to}")
        register_plans(spark, plans, trades)
        found = (
            spark.table(plan.alerts_view).where(F.col("alert_id") == F.lit(alert["alert_id"]))
        ).collect()
        rows = spark.table(plan.event_view)
        at = F.col(plan.time_column)
        if window.per_row:
            rows = rows.where(at == F.lit(window.start))
            if window.row_id is not None and window.row_id[1] is not None:
                rows = rows.where(F.col(window.row_id[0]) == F.lit(window.row_id[1]))
        else:
            rows = rows.where((at >= F.lit(window.start)) & (at < F.lit(window.end)))
        for name, value in window.key:
            if value is not None and name in rows.columns:
                rows = rows.where(F.col(name) == F.lit(value))
        rows = rows.orderBy(plan.time_column)
        columns = tuple(rows.columns)
        collected = [tuple(r) for r in rows.collect()]
        trades.unpersist()
    finally:
        gated.release()
    again = found[0].asDict() if found else None
    return WindowRerun(again, columns, collected, read_from, read_to, n_trades)
