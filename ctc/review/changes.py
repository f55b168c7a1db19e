"""What changed between two versions of a detector, and what the change does to a running
stream: **breaking**, **non-breaking** or **cosmetic**.

The rule is the stream's state. A plan keeps state in its stateful stages (open windows,
baseline history: :attr:`ctc.compiler.plan.Stage.state`). A change that reaches one of
them, or a stage before them, or the window, watermark or source, makes the kept state
incompatible: breaking, a new checkpoint and a re-run of the state's horizon. A change that
reaches only later stages (derive, alerts, output) changes alerts, and the state stays
valid: non-breaking. A change that reaches no stage (comments, formatting, title,
description, alert labels, the ``publish:`` section) is cosmetic. A param is classified
by the stages its value reaches: the old spec is compiled again with that param alone
changed, and the stages whose SQL moved are the ones it reaches.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ctc.compiler import Plan, compile_specs
from ctc.compiler.plan import AlertRulePlan, Stage
from ctc.dsl.errors import SpecErrors
from ctc.dsl.model import ParamValue, Spec
from ctc.review.versions import Version

Classification = Literal["breaking", "non-breaking", "cosmetic"]
Status = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class ParamChange:
    """One param whose value changed (None: the param is new, or gone)."""

    name: str
    old: ParamValue | None
    new: ParamValue | None
    #: the stage kinds the new value reaches (empty when it reaches none)
    reaches: tuple[str, ...]


@dataclass(frozen=True)
class TextDiff:
    """A unified diff of one stage's SQL or one alert rule."""

    what: str
    diff: str


@dataclass(frozen=True)
class DetectorChange:
    """One detector added, removed or changed between the two versions."""

    module: str
    name: str
    status: Status
    #: None for a detector added or removed
    classification: Classification | None
    reasons: tuple[str, ...]
    params: tuple[ParamChange, ...] = ()
    diffs: tuple[TextDiff, ...] = ()
    #: for a breaking change: what has to be re-run, from the plan's state bound
    rerun: str | None = None
    #: the modules that read this one's output or alerts (their results may change)
    readers: tuple[str, ...] = ()


def _stage_horizon(plan: Plan) -> int:
    """Index of the plan's last stateful stage (-1: the plan keeps no state)."""
    return max((i for i, s in enumerate(plan.stages) if s.state is not None), default=-1)


def _stages(plan: Plan) -> dict[str, tuple[int, Stage]]:
    return {s.view: (i, s) for i, s in enumerate(plan.stages)}


def changed_stages(old: Plan, new: Plan) -> list[tuple[str, Stage | None, Stage | None]]:
    """The stages whose SQL differs, was added or was removed, in plan order:
    (view, old stage, new stage)."""
    a, b = _stages(old), _stages(new)
    order = [s.view for s in new.stages] + [s.view for s in old.stages if s.view not in b]
    out: list[tuple[str, Stage | None, Stage | None]] = []
    for view in order:
        sa, sb = a.get(view), b.get(view)
        if sa is None or sb is None or sa[1].sql != sb[1].sql:
            out.append((view, sa[1] if sa else None, sb[1] if sb else None))
    return out


def _unified(old: str, new: str, label: str) -> str:
    old, new = (t if not t or t.endswith("\n") else t + "\n" for t in (old, new))
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            f"a/{label}",
            f"b/{label}",
            n=2,
        )
    )


def _rule_text(rule: AlertRulePlan) -> str:
    """An alert rule as a person reads it: condition, severity bands, message, details."""
    lines = [f"type: {rule.type}", f"when: {rule.when_text}", "severity:"]
    for (level, _sql), text in zip(rule.bands, rule.band_texts, strict=True):
        lines.append(f"  {level}: {text if text is not None else '(otherwise)'}")
    lines.append(f"message: {rule.message_template}")
    lines.append(f"details: [{', '.join(rule.details)}]")
    lines.append(f"key: [{', '.join(rule.key)}]")
    return "\n".join(lines) + "\n"


def _rule_diffs(old: Plan, new: Plan) -> list[TextDiff]:
    a = {r.type: _rule_text(r) for r in old.alert_rules}
    b = {r.type: _rule_text(r) for r in new.alert_rules}
    out = []
    for t in [*b, *(t for t in a if t not in b)]:
        if a.get(t) != b.get(t):
            out.append(TextDiff(f"alert {t}", _unified(a.get(t, ""), b.get(t, ""), f"alert/{t}")))
    return out


def with_param(spec: Spec, name: str, value: ParamValue, context: Sequence[Spec]) -> Plan:
    """``spec`` compiled with param ``name`` alone set to ``value`` (``context``: the specs
    it may read). Raises SpecErrors when that does not compile."""
    params = tuple((n, value if n == name else v) for n, v in spec.params)
    (plan,) = compile_specs([replace(spec, params=params)], context)
    return plan


def param_reach(
    spec: Spec, plan: Plan, name: str, value: ParamValue, context: Sequence[Spec]
) -> tuple[str, ...]:
    """The stage kinds of ``plan`` (``spec`` compiled) whose SQL changes when only param
    ``name`` takes ``value``."""
    try:
        probe = with_param(spec, name, value, context)
    except (SpecErrors, ValueError):
        return ("(does not compile alone)",)
    kinds = [s.kind for _v, s, _n in changed_stages(plan, probe) if s is not None]
    return tuple(dict.fromkeys(kinds))


def _param_changes(
    old_spec: Spec, new_spec: Spec, old_plan: Plan, old: Version
) -> list[ParamChange]:
    a, b = old_spec.param_map, new_spec.param_map
    out = []
    for name in [*b, *(n for n in a if n not in b)]:
        va, vb = a.get(name), b.get(name)
        if va == vb and type(va) is type(vb):
            continue
        reaches: tuple[str, ...] = ()
        if va is not None and vb is not None:
            reaches = param_reach(old_spec, old_plan, name, vb, old.context)
        out.append(ParamChange(name, va, vb, reaches))
    return out


def _horizon_text(plan: Plan) -> str | None:
    """How much input a new checkpoint must re-read to rebuild the plan's state."""
    bounds = [s.state for s in plan.stages if s.state is not None]
    if not bounds:
        return None
    longest = max(bounds, key=lambda b: b.retention_seconds)
    seconds = longest.retention_seconds
    span = (
        f"{seconds} s ({seconds // 3600} h {seconds % 3600 // 60} min)"
        if seconds >= 3600
        else f"{seconds} s"
    )
    return (
        f"start {plan.module} from a new checkpoint and re-run the last {span} of input "
        "to rebuild its state: " + "; ".join(b.describe() for b in bounds)
    )


def _which(stages: Sequence[tuple[str, Stage | None, Stage | None]]) -> str:
    return ", ".join(dict.fromkeys((n or o).kind for _v, o, n in stages if (n or o) is not None))  # type: ignore[union-attr]


def compare(old: Version, new: Version, module: str) -> DetectorChange | None:
    """The change of ``module`` from ``old`` to ``new`` (None: nothing at all changed)."""
    readers = tuple(sorted(new.readers().get(module, set()) | old.readers().get(module, set())))
    a_spec, b_spec = old.selected.get(module), new.selected.get(module)
    if a_spec is None and b_spec is not None:
        plan = new.plans[module]
        rerun = _horizon_text(plan)
        return DetectorChange(
            module,
            b_spec.name,
            "added",
            None,
            ("a new detector: its state starts empty",)
            + ((f"to have full state at once, {rerun}",) if rerun else ()),
            readers=readers,
        )
    if b_spec is None and a_spec is not None:
        return DetectorChange(
            module,
            a_spec.name,
            "removed",
            None,
            ("its alerts and output table are no longer produced",),
            readers=readers,
        )
    assert a_spec is not None and b_spec is not None
    a, b = old.plans[module], new.plans[module]
    stages = changed_stages(a, b)
    params = _param_changes(a_spec, b_spec, a, old)
    diffs = [
        TextDiff(
            f"stage {(n or o).kind} ({view})",  # type: ignore[union-attr]
            _unified(o.sql if o else "", n.sql if n else "", view),
        )
        for view, o, n in stages
    ] + _rule_diffs(a, b)
    reasons: list[str] = []
    breaking: list[str] = []
    if a.window != b.window:
        breaking.append(f"the window changed ({_window_text(a)} → {_window_text(b)})")
    if (a.source_kind, a.source_view, a.source_modules) != (
        b.source_kind,
        b.source_view,
        b.source_modules,
    ):
        breaking.append(f"the source changed ({a.source_view} → {b.source_view})")
    horizon = max(_stage_horizon(a), _stage_horizon(b))
    index_a, index_b = _stages(a), _stages(b)
    early = [
        (v, o, n)
        for v, o, n in stages
        if min(
            index_a[v][0] if v in index_a else horizon + 1,
            index_b[v][0] if v in index_b else horizon + 1,
        )
        <= horizon
    ]
    if early:
        kept = ", ".join(s.kind for s in b.stages if s.state is not None)
        breaking.append(f"the {_which(early)} stage changed, which the kept state ({kept}) holds")
    by_param = [
        p for p in params if any(k in {s.kind for s in b.stages[: horizon + 1]} for k in p.reaches)
    ]
    if by_param:
        breaking.append(
            "params reaching the state: "
            + ", ".join(f"{p.name} ({', '.join(p.reaches)})" for p in by_param)
        )
    if (a.output_table, a.output_partition_by) != (b.output_table, b.output_partition_by):
        reasons.append(
            f"output table {a.output_table} [{', '.join(a.output_partition_by)}] → "
            f"{b.output_table} [{', '.join(b.output_partition_by)}]"
        )
    if breaking:
        return DetectorChange(
            module,
            b_spec.name,
            "changed",
            "breaking",
            tuple(breaking + reasons),
            tuple(params),
            tuple(diffs),
            _horizon_text(b) or "the plan keeps no state: nothing to re-run",
            readers,
        )
    if stages or diffs or params or reasons:
        late = _which(stages)
        reasons.insert(
            0,
            (
                f"only the {late} stage{'s' if ',' in late else ''} changed"
                if late
                else "no stage changed"
            )
            + (
                "; the plan keeps no state"
                if horizon < 0
                else "; the plan's state (open windows, history) stays valid"
            ),
        )
        return DetectorChange(
            module,
            b_spec.name,
            "changed",
            "non-breaking",
            tuple(reasons),
            tuple(params),
            tuple(diffs),
            None,
            readers,
        )
    if _same_spec(a_spec, b_spec) and old.text(module) == new.text(module):
        return None
    return DetectorChange(
        module,
        b_spec.name,
        "changed",
        "cosmetic",
        (
            "comments, formatting, title, description, labels or chart series only: the "
            "compiled plan is the same",
        ),
        readers=readers,
    )


def _same_spec(a: Spec, b: Spec) -> bool:
    return replace(a, path=b.path) == b


def _window_text(plan: Plan) -> str:
    w = plan.window
    if w is None:
        return "no window"
    return f"{w.type} {w.size_text}, watermark {w.watermark_text}"


def compare_versions(old: Version, new: Version) -> list[DetectorChange]:
    """Every detector added, removed or changed among those under review, by module."""
    modules = sorted(set(old.selected) | set(new.selected))
    return [c for m in modules if (c := compare(old, new, m)) is not None]
