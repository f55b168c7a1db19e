"""Back-test compiled detectors over recorded or simulated trades, in Spark batch mode."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctc.compiler import compile_paths
from ctc.compiler.plan import Plan
from ctc.progress import Progress
from ctc.runtime.batch import dependency_order, register_plans
from ctc.runtime.provenance import provenance
from ctc.runtime.sources import InputCounts, permissive_rules

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ctc.runtime.quality_rules import QualityRules

Say = Callable[[str], None]


@dataclass
class BacktestResult:
    """Alerts of a back-test, with the input's conservation counts and timings."""

    alerts: list[dict[str, Any]]
    counts: InputCounts
    plans: list[Plan]
    seconds: float
    per_plan_seconds: dict[str, float] = field(default_factory=dict)
    #: the gated input came from the cache (``cache_dir``), no JSON was parsed
    cache_hit: bool = False
    #: seconds to gate the input (or open its cache entry), counts included
    gate_seconds: float = 0.0
    #: rejected records per quality rule (docs/quality.md)
    rejected_by_rule: dict[str, int] = field(default_factory=dict)


def _to_record(row: Any) -> dict[str, Any]:
    d = row.asDict()
    d["detected_at"] = datetime.fromtimestamp(d.pop("detected_us") / 1e6, tz=UTC)
    d["details"] = json.loads(d["details"]) if d["details"] else {}
    return d


def run_backtest(
    spark: SparkSession,
    plans: Sequence[Plan],
    input_path: str | Path,
    progress: Progress | Say | None = None,
    rules: QualityRules | None = None,
    cache_dir: str | Path | None = None,
    reuse: Collection[str] = (),
) -> BacktestResult:
    """Run ``plans`` over the unified trade events in ``input_path``; collect every alert.

    The input goes through the quality gate first (``rules``; default: any symbol and
    exchange, see :func:`ctc.runtime.sources.permissive_rules`). With ``cache_dir``, the
    gated input is kept there as Parquet and reused by the next back-test of the same
    input content and rules (:mod:`ctc.runtime.gated_cache`); without, it is held in memory.
    ``progress``: a function for notes, or a :class:`ctc.progress.Progress`, which also
    shows each stage (the gate, then each detector) on its progress line.
    ``reuse``: modules whose very same plans the previous back-test in this session ran
    over the same input; their results are read again, not recomputed
    (:func:`ctc.runtime.batch.register_plans`).
    """
    from ctc.runtime.gated_cache import gated_input

    say = progress or (lambda _msg: None)
    line = progress if isinstance(progress, Progress) else Progress(live=False)
    t0 = time.perf_counter()
    line.stage(f"reading {input_path} through the quality gate")
    gated = gated_input(spark, input_path, rules or permissive_rules(), cache_dir, progress=say)
    trades, counts = gated.trades, gated.counts
    gate_seconds = time.perf_counter() - t0
    say(
        f"{counts.read} records read: {counts.used} used, {counts.rejected} rejected, "
        f"{counts.duplicates} duplicate event ids dropped"
    )
    alerts: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    ordered = dependency_order(plans)
    line.task(len(ordered), unit="detectors", rate=False)
    mark = [time.perf_counter()]

    def begin(i: int) -> None:
        if i < len(ordered):
            p = ordered[i]
            line.stage(f"[{i + 1}/{len(ordered)}] {p.module} {p.name} over {counts.used:,} events")

    def collect(plan: Plan) -> None:
        # the plan's stages were just registered, and its alerts computed
        rows = spark.sql(
            "SELECT alert_id, alert_type, module_id, symbol, exchange, severity, "
            "UNIX_MICROS(detected_at) AS detected_us, message, ttl_epoch, details "
            f"FROM {plan.alerts_view}"
        ).collect()
        now = time.perf_counter()
        timings[plan.module] = now - mark[0]
        mark[0] = now
        stamp = provenance(plan)
        alerts.extend({**_to_record(r), **stamp} for r in rows)
        line.advance(1)
        begin(len(timings))

    begin(0)
    register_plans(spark, ordered, trades, on_plan=collect, reuse=reuse)
    gated.release()
    alerts.sort(key=lambda a: (a["detected_at"], a["module_id"], a["alert_id"]))
    by_rule = {r: int(n) for r, n in (gated.metrics.get("failed_by_rule") or {}).items() if n}
    return BacktestResult(
        alerts, counts, ordered, time.perf_counter() - t0, timings, gated.hit, gate_seconds, by_rule
    )


def backtest(
    spec_paths: Sequence[str | Path], input_path: str | Path, spark: SparkSession | None = None
) -> list[dict[str, Any]]:
    """Compile the specs at ``spec_paths`` and return the alerts they raise over ``input_path``.

    Each alert is a base alert record with its provenance (``spec_version``,
    ``ctc_version``); ``detected_at`` is a UTC-aware datetime and ``details`` a dict.
    """
    from ctc.runtime.spark import get_spark

    plans = compile_paths(list(spec_paths))
    return run_backtest(spark or get_spark(), plans, input_path).alerts
