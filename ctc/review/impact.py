"""What a change does to the alerts: both versions back-tested over the same input.

Only the detectors that changed run, with the detectors that read their output or alerts
(and, to feed them, the unchanged detectors they read). Both back-tests go through the
same quality rules and share the gated-input cache (:mod:`ctc.runtime.gated_cache`), so
the input is gated once. Alerts are matched by ``alert_id``, which names the detector,
alert type, key and window or event, never a param: a threshold change shows as alerts
added or removed, and a band change as the same alert with another severity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctc.compiler.plan import Plan, PublishPlan
from ctc.review.changes import DetectorChange
from ctc.review.versions import Version
from ctc.runtime.batch import dependency_order

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ctc.runtime.quality_rules import QualityRules

#: examples of alerts added or removed shown per detector
EXAMPLES = 3


@dataclass
class ModuleImpact:
    """One detector's alerts before and after the change."""

    module: str
    #: (alert type, severity) -> count
    before: Counter[tuple[str, str]] = field(default_factory=Counter)
    after: Counter[tuple[str, str]] = field(default_factory=Counter)
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    #: (before, after) of the alerts raised by both whose severity changed
    severity_changed: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether any alert differs."""
        return bool(self.added or self.removed or self.severity_changed)


@dataclass
class Impact:
    """The impact of every change, with what the back-tests read."""

    modules: list[ModuleImpact]
    input_path: str
    records_read: int
    records_used: int
    seconds: float


def affected(changes: Sequence[DetectorChange], old: Version, new: Version) -> list[str]:
    """The modules to back-test: every non-cosmetic change, and every detector that reads
    their output or alerts, transitively, in either version."""
    start = [c.module for c in changes if c.classification != "cosmetic"]
    readers = old.readers()
    for up, downs in new.readers().items():
        readers.setdefault(up, set()).update(downs)
    seen: list[str] = []
    todo = list(start)
    while todo:
        m = todo.pop(0)
        if m in seen:
            continue
        seen.append(m)
        todo += sorted(readers.get(m, set()))
    return seen


def _identity(plan: Plan) -> tuple[object, ...]:
    """What makes two plans compute the same rows: everything but where the spec was, its
    prose, what it publishes for the dashboard and its version; and the bytes of the
    reference files it reads."""
    base = Path(plan.spec_path).parent
    data = tuple((base / path).read_bytes() for _n, path, _f, _c in plan.references)
    bare = replace(
        plan, spec_path="", title="", description="", spec_version="", publish=PublishPlan()
    )
    return (bare, data)


def same_plans(before: Sequence[Plan], plans: Sequence[Plan]) -> set[str]:
    """Modules of ``plans`` identical to ``before``'s, with everything they read identical
    too: the views the earlier back-test registered for them are still right."""
    old = {p.module: p for p in before}
    new = {p.module: p for p in plans}
    same: set[str] = set()
    for plan in dependency_order(list(plans)):
        prior = old.get(plan.module)
        if (
            prior is not None
            and all(d in same for d in plan.depends_on if d in new)
            and _identity(prior) == _identity(plan)
        ):
            same.add(plan.module)
    return same


def _modules_in(version: Version, modules: Sequence[str]) -> list[str]:
    present = {s.module for s in version.context}
    return [m for m in modules if m in present]


def measure(
    spark: SparkSession | Callable[[], SparkSession],
    changes: Sequence[DetectorChange],
    old: Version,
    new: Version,
    input_path: str | Path,
    rules: QualityRules | None,
    cache_dir: str | Path | None,
    progress: Callable[[str], None] | None = None,
) -> Impact:
    """Back-test the affected detectors of ``old`` and ``new`` over ``input_path``.

    ``spark``: the session, or a function that starts it when a plan has to run (the
    alerts of plans back-tested before over the same input are kept in ``cache_dir``)."""
    from ctc.runtime.backtest import run_backtest

    say = progress or (lambda _m: None)
    modules = affected(changes, old, new)
    results: list[list[dict[str, Any]]] = []
    counts = None
    seconds = 0.0
    ran: list[Plan] = []
    registered: frozenset[str] = frozenset()
    for version in (old, new):
        present = _modules_in(version, modules)
        if not present:
            results.append([])
            continue
        plans = version.plans_for(present)
        reuse = same_plans(ran, plans) & registered
        say(
            f"{version.label}: back-testing {', '.join(present)}"
            + (f" (reusing {', '.join(sorted(reuse))}, unchanged)" if reuse else "")
        )
        result = run_backtest(
            spark, plans, input_path, say, rules, cache_dir=cache_dir, reuse=reuse
        )
        ran, registered = plans, result.registered
        counts = result.counts
        seconds += result.seconds
        results.append([a for a in result.alerts if a["module_id"] in modules])
    before = {a["alert_id"]: a for a in results[0]}
    after = {a["alert_id"]: a for a in results[1]}
    impacts = []
    for module in modules:
        mi = ModuleImpact(module)
        for a in before.values():
            if a["module_id"] == module:
                mi.before[(a["alert_type"], a["severity"])] += 1
                if a["alert_id"] not in after:
                    mi.removed.append(a)
        for a in after.values():
            if a["module_id"] != module:
                continue
            mi.after[(a["alert_type"], a["severity"])] += 1
            old_alert = before.get(a["alert_id"])
            if old_alert is None:
                mi.added.append(a)
            elif old_alert["severity"] != a["severity"]:
                mi.severity_changed.append((old_alert, a))
        impacts.append(mi)
    return Impact(
        impacts,
        str(input_path),
        counts.read if counts else 0,
        counts.used if counts else 0,
        seconds,
    )
