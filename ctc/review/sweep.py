"""``ctc sweep``: one param of one detector over a range, alert counts per severity at each
value, over recorded or simulated trades.

When the param reaches only stages after the state (a threshold in ``when``, a severity
band, a derived score: the usual case), every value is evaluated in one pass: the
detector's stages up to the first one the param reaches run once and are cached, and each
value's later stages (compiled with that value, as CTEs named like the views they stand
for) count its alerts over them, all values in one Spark job. When the param reaches an
earlier stage (a filter, an aggregate), each value is its own back-test, reusing the
detectors it reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ctc.compiler.catalog import SEVERITIES
from ctc.compiler.plan import Plan, StageKind
from ctc.dsl.model import ParamValue
from ctc.review.changes import param_reach, with_param
from ctc.review.versions import Version

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ctc.runtime.quality_rules import QualityRules

#: stages a param may reach and still be swept in one pass: those after the state, which
#: read the same aggregated windows whatever the value
_ONE_PASS = frozenset({StageKind.DERIVE, StageKind.ALERTS, StageKind.OUTPUT})


class SweepError(ValueError):
    """A sweep that cannot be run as asked (unknown param, bad range)."""


@dataclass(frozen=True)
class SweepResult:
    """Alert counts of one detector at each value of one param."""

    module: str
    name: str
    param: str
    current: ParamValue
    values: tuple[ParamValue, ...]
    #: per value: (alert type, severity) -> count
    counts: tuple[Counter[tuple[str, str]], ...]
    #: 1 when every value was evaluated in one pass, else one back-test per value
    passes: int
    reaches: tuple[str, ...]
    records_used: int


def parse_range(text: str, current: ParamValue) -> tuple[str, list[ParamValue]]:
    """``NAME=FROM:TO:STEPS`` → the param's name and STEPS values from FROM to TO, both
    included; integers when the param is an integer and the values are whole."""
    name, sep, spec = text.partition("=")
    parts = spec.split(":")
    if not sep or len(parts) != 3:
        raise SweepError(
            f"--param {text!r}: expected NAME=FROM:TO:STEPS, e.g. whale_usd=1e5:1e6:10"
        )
    try:
        lo, hi, steps = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError as exc:
        raise SweepError(
            f"--param {text!r}: FROM and TO must be numbers, STEPS an integer"
        ) from exc
    if steps < 2 or steps > 200:
        raise SweepError(f"--param {text!r}: STEPS must be between 2 and 200")
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise SweepError(f"param {name} is {current!r}: only numeric params can be swept")
    values: list[ParamValue] = []
    for i in range(steps):
        v = float(f"{lo + (hi - lo) * i / (steps - 1):.12g}")  # 0.30000000000000004 → 0.3
        values.append(round(v) if isinstance(current, int) and float(v).is_integer() else v)
    return name.strip(), values


def sweep(
    spark: SparkSession,
    version: Version,
    module: str,
    param: str,
    values: Sequence[ParamValue],
    input_path: str | Path,
    rules: QualityRules | None,
    cache_dir: str | Path | None,
    progress: Callable[[str], None] | None = None,
) -> SweepResult:
    """Count ``module``'s alerts at each value of ``param`` (and at its current value)."""
    say = progress or (lambda _m: None)
    spec = version.selected[module]
    params = spec.param_map
    if param not in params:
        known = ", ".join(params) or "none"
        raise SweepError(f"{module} has no param {param!r} (its params: {known})")
    current = params[param]
    every = sorted({*values, current}, key=float)
    plan = version.plans[module]
    reaches = tuple(
        dict.fromkeys(k for v in every for k in param_reach(spec, plan, param, v, version.context))
    )
    variants = [with_param(spec, param, v, version.context) for v in every]
    if set(reaches) <= _ONE_PASS:
        counts, used = _one_pass(
            spark, version, plan, variants, input_path, rules, cache_dir, say, reaches
        )
        passes = 1
    else:
        counts, used = _per_value(spark, version, variants, input_path, rules, cache_dir, say)
        passes = len(every)
    return SweepResult(
        module, spec.name, param, current, tuple(every), tuple(counts), passes, reaches, used
    )


def _one_pass(
    spark: SparkSession,
    version: Version,
    plan: Plan,
    variants: Sequence[Plan],
    input_path: str | Path,
    rules: QualityRules | None,
    cache_dir: str | Path | None,
    say: Callable[[str], None],
    reached: Sequence[str],
) -> tuple[list[Counter[tuple[str, str]]], int]:
    from ctc.runtime.batch import register_plans
    from ctc.runtime.gated_cache import gated_input
    from ctc.runtime.sources import permissive_rules

    say(f"sweeping {len(variants)} values in one pass over {plan.module}'s stages")
    gated = gated_input(spark, input_path, rules or permissive_rules(), cache_dir, progress=say)
    try:
        register_plans(spark, version.plans_for([plan.module]), gated.trades)
        last = plan.stages.index(plan.alerts_stage)
        first = min(
            (i for i, st in enumerate(plan.stages) if st.kind in reached and i <= last),
            default=last,
        )
        base = spark.table(plan.stages[first].reads[0]).cache()
        base.createOrReplaceTempView(plan.stages[first].reads[0])
        queries = []
        for i, variant in enumerate(variants):
            ctes = [
                f"{st.view} AS ({st.sql})"
                for st in variant.stages[first:last]
                if st.kind is not StageKind.OUTPUT
            ]
            with_sql = f"WITH {', '.join(ctes)} " if ctes else ""
            queries.append(
                f"SELECT * FROM ({with_sql}SELECT {i} AS step, alert_type, severity, "
                f"COUNT(*) AS n FROM ({variant.alerts_stage.sql}) GROUP BY alert_type, severity)"
            )
        rows = spark.sql(" UNION ALL ".join(queries)).collect()
        base.unpersist()
    finally:
        gated.release()
    counts: list[Counter[tuple[str, str]]] = [Counter() for _ in variants]
    for r in rows:
        counts[r["step"]][(r["alert_type"], r["severity"])] += int(r["n"])
    return counts, gated.counts.used


def _per_value(
    spark: SparkSession,
    version: Version,
    variants: Sequence[Plan],
    input_path: str | Path,
    rules: QualityRules | None,
    cache_dir: str | Path | None,
    say: Callable[[str], None],
) -> tuple[list[Counter[tuple[str, str]]], int]:
    from ctc.review.impact import same_plans
    from ctc.runtime.backtest import run_backtest

    counts: list[Counter[tuple[str, str]]] = []
    ran: list[Plan] = []
    registered: frozenset[str] = frozenset()
    used = 0
    upstream = [
        p for p in version.plans_for([variants[0].module]) if p.module != variants[0].module
    ]
    for i, variant in enumerate(variants, 1):
        plans = [*upstream, variant]
        say(
            f"value {i}/{len(variants)}: a back-test of {variant.module} "
            "(the param reaches an early stage)"
        )
        result = run_backtest(
            spark,
            plans,
            input_path,
            None,
            rules,
            cache_dir=cache_dir,
            reuse=same_plans(ran, plans) & registered,
        )
        ran, registered = plans, result.registered
        used = result.counts.used
        counts.append(
            Counter(
                (a["alert_type"], a["severity"])
                for a in result.alerts
                if a["module_id"] == variant.module
            )
        )
    return counts, used


def by_severity(counts: Counter[tuple[str, str]]) -> dict[str, int]:
    """One value's counts summed over alert types, per severity (every severity a key)."""
    out = dict.fromkeys(SEVERITIES, 0)
    for (_type, severity), n in counts.items():
        out[severity] += n
    return out


def table(result: SweepResult) -> str:
    """The counts as a table: one row per value, one column per severity."""
    rows = [by_severity(c) for c in result.counts]
    levels = [s for s in SEVERITIES if any(r[s] for r in rows)] or ["medium"]
    head = f"{result.param:>14}  " + "  ".join(f"{s:>8}" for s in levels) + "     total"
    lines = [
        f"{result.module} {result.name}: alerts per severity by {result.param} over "
        f"{result.records_used:,} trades ({_how(result)})",
        "",
        head,
    ]
    for value, row in zip(result.values, rows, strict=True):
        mark = "  ◀ current" if value == result.current else ""
        lines.append(
            f"{format_value(value):>14}  "
            + "  ".join(f"{row[s]:>8}" for s in levels)
            + f"  {sum(row.values()):>8}{mark}"
        )
    return "\n".join(lines) + "\n"


def _how(result: SweepResult) -> str:
    reach = ", ".join(result.reaches) or "no stage"
    if result.passes == 1:
        return f"the param reaches {reach}: every value in one pass"
    return f"the param reaches {reach}: one back-test per value"


def format_value(v: ParamValue) -> str:
    """A param value as a person reads it (thousands separated)."""
    return f"{v:,}" if isinstance(v, int) else f"{v:,.6g}" if isinstance(v, float) else str(v)
