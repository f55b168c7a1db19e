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
from ctc.runtime.result_cache import ALERT_SELECT
from ctc.runtime.sources import InputCounts, permissive_rules

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

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
    #: modules whose alerts were read from the result cache, not computed
    kept: list[str] = field(default_factory=list)
    #: modules whose views this back-test registered in the session (for ``reuse``)
    registered: frozenset[str] = frozenset()
    #: the on-chain input's conservation counts (None: no ``chain_input``)
    chain_counts: InputCounts | None = None


def _to_record(row: dict[str, Any]) -> dict[str, Any]:
    d = dict(row)
    d["detected_at"] = datetime.fromtimestamp(d.pop("detected_us") / 1e6, tz=UTC)
    d["details"] = json.loads(d["details"]) if d["details"] else {}
    return d


def run_backtest(
    spark: SparkSession | Callable[[], SparkSession],
    plans: Sequence[Plan],
    input_path: str | Path,
    progress: Progress | Say | None = None,
    rules: QualityRules | None = None,
    cache_dir: str | Path | None = None,
    reuse: Collection[str] = (),
    chain_input: str | Path | None = None,
) -> BacktestResult:
    """Run ``plans`` over the unified trade events in ``input_path``; collect every alert.

    ``spark``: the session, or a function that starts it (called only when a plan has
    to run). The input goes through the quality gate first (``rules``; default: any
    symbol and exchange, see :func:`ctc.runtime.sources.permissive_rules`). With
    ``cache_dir``, the gated input is kept there as Parquet and reused by the next
    back-test of the same input content and rules (:mod:`ctc.runtime.gated_cache`), and
    so is each plan's alerts (:mod:`ctc.runtime.result_cache`): a plan whose alerts are
    kept is not run, and a back-test whose every plan's are starts no Spark. Without
    ``cache_dir``, the gated input is held in memory.
    ``progress``: a function for notes, or a :class:`ctc.progress.Progress`, which also
    shows each stage (the gate, then each detector) on its progress line.
    ``reuse``: modules whose very same plans the previous back-test in this session
    registered (its ``registered``) over the same input; their views are read again,
    not recomputed (:func:`ctc.runtime.batch.register_plans`).
    ``chain_input``: on-chain events (a file or folder, :mod:`ctc.runtime.chain_events`)
    for the detectors that read ``chain_events``; a back-test with it is not cached.
    """
    from ctc.runtime.gated_cache import counts_of, gated_input, lookup
    from ctc.runtime.result_cache import needed_plans, plan_fingerprints, read_results

    say = progress or (lambda _msg: None)
    line = progress if isinstance(progress, Progress) else Progress(live=False)
    t0 = time.perf_counter()
    rules = rules or permissive_rules()
    cache_dir = None if chain_input is not None else cache_dir
    chain_counts = None
    ordered = dependency_order(plans)
    found = lookup(input_path, rules, cache_dir)
    fingerprints = plan_fingerprints(ordered) if found is not None else {}
    rows: dict[str, list[dict[str, Any]]] = {}
    if found is not None and found.data is not None:
        for plan in ordered:
            fp = fingerprints[plan.module]
            kept = read_results(found.entry, fp) if fp else None
            if kept is not None:
                rows[plan.module] = kept
    from_cache = set(rows)
    need = needed_plans(ordered, from_cache)
    timings: dict[str, float] = dict.fromkeys(from_cache, 0.0)
    registered: frozenset[str] = frozenset()
    if not need and found is not None and found.data is not None:
        say(f"every detector's alerts from cache {found.entry} (no Spark started)")
        metrics = found.data["metrics"]
        counts, hit, gate_seconds = counts_of(metrics), True, 0.0
    else:
        line.stage("starting Spark")
        session = spark() if callable(spark) else spark
        line.stage(f"reading {input_path} through the quality gate")
        gated = gated_input(session, input_path, rules, cache_dir, progress=say, found=found)
        metrics, counts, hit = gated.metrics, gated.counts, gated.hit
        gate_seconds = time.perf_counter() - t0
        if found is not None and from_cache:
            say(f"{len(from_cache)} of {len(ordered)} detectors' alerts from cache, unchanged")
        chain = None
        if chain_input is not None:
            from ctc.runtime.chain_events import read_chain_input

            chain, chain_batch = read_chain_input(session, chain_input)
            chain_counts = chain_batch.counts
        registered = frozenset(
            _run_plans(session, need, gated.trades, counts.used, line, timings, rows, reuse, chain)
        )
        gated.release()
        if found is not None:  # plans run only to feed a changed reader are kept already
            _keep(found.entry, [p for p in need if p.module not in from_cache], fingerprints, rows)
    say(
        f"{counts.read} records read: {counts.used} used, {counts.rejected} rejected, "
        f"{counts.duplicates} duplicate event ids dropped"
    )
    # provenance: the version of each spec that raised its alerts (the kept rows of a
    # plan with the same SQL are that version's alerts as well)
    alerts = [
        {**_to_record(r), **provenance(plan)} for plan in ordered for r in rows.get(plan.module, [])
    ]
    alerts.sort(key=lambda a: (a["detected_at"], a["module_id"], a["alert_id"]))
    by_rule = {r: int(n) for r, n in (metrics.get("failed_by_rule") or {}).items() if n}
    return BacktestResult(
        alerts,
        counts,
        ordered,
        time.perf_counter() - t0,
        timings,
        hit,
        gate_seconds,
        by_rule,
        kept=sorted(from_cache - {p.module for p in need}),
        registered=registered,
        chain_counts=chain_counts,
    )


def _run_plans(
    spark: SparkSession,
    need: Sequence[Plan],
    trades: DataFrame,
    used: int,
    line: Progress,
    timings: dict[str, float],
    rows: dict[str, list[dict[str, Any]]],
    reuse: Collection[str],
    chain: DataFrame | None = None,
) -> list[str]:
    """Register and run ``need`` over ``trades``, each plan's alert rows into ``rows``;
    returns the modules whose views are now registered."""
    line.task(len(need), unit="detectors", rate=False)
    mark = [time.perf_counter()]
    done: list[str] = []

    def begin(i: int) -> None:
        if i < len(need):
            p = need[i]
            line.stage(f"[{i + 1}/{len(need)}] {p.module} {p.name} over {used:,} events")

    def collect(plan: Plan) -> None:
        # the plan's stages were just registered, and its alerts computed
        got = spark.sql(f"SELECT {ALERT_SELECT} FROM {plan.alerts_view}").collect()
        now = time.perf_counter()
        timings[plan.module] = now - mark[0]
        mark[0] = now
        rows[plan.module] = [r.asDict() for r in got]
        done.append(plan.module)
        line.advance(1)
        begin(len(done))

    begin(0)
    register_plans(spark, need, trades, on_plan=collect, reuse=reuse, chain=chain)
    return done


def _keep(
    entry: Path,
    ran: Sequence[Plan],
    fingerprints: dict[str, str | None],
    rows: dict[str, list[dict[str, Any]]],
) -> None:
    """Keep the alert rows of the plans that ran, beside their gated input."""
    from ctc.runtime.result_cache import write_results

    for plan in ran:
        fp = fingerprints.get(plan.module)
        if fp is not None:
            write_results(entry, fp, rows[plan.module])


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
