"""Why a detector cannot fire on an input: what its spec needs that the input lacks.

Read from the spec and compared with the input's :class:`~ctc.runtime.coverage.Coverage`:

* **exchanges**: a filter ``exchange = params.X`` needs trades on that exchange; two or
  more of them in a window grouped without ``exchange`` need one symbol on all of them
  at the same time (a cross-exchange spread);
* **history**: an alert condition ``stat >= params.P`` on a baseline ``count(…)`` needs
  P earlier windows of the same key, that is P × the window's size of trades;
* **a per-row threshold**: ``column > params.P`` on a trade column needs one trade above P
  (above the smallest P when a CASE picks one, as the whale detector's spot and perpetual
  thresholds do).

Only conditions that must all hold (joined by AND) are read, and a detector cannot fire
only when none of its alert rules can; a detector whose needs the input meets gets no
reason, even when it raised nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ctc.runtime.coverage import TRACKED, Coverage, KeyCoverage

if TYPE_CHECKING:
    from sqlglot import exp

    from ctc.dsl.model import AlertRule, Spec

_EXCHANGE_PARAM = re.compile(r"\bexchange\s*=\s*params\.(\w+)", re.IGNORECASE)


def _conjuncts(sql: str) -> list[exp.Expression]:
    """The terms of ``sql`` that must all hold (the operands of its top-level ANDs)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="spark")
    except sqlglot.errors.ParseError:
        return []
    terms = tree.flatten() if isinstance(tree, exp.And) else [tree]
    return [t for t in terms if isinstance(t, exp.Expression)]


def _params_of(node: exp.Expression) -> list[str] | None:
    """The params ``node`` is one of: ``params.P``, or a CASE whose every branch and ELSE
    is a param (the whale detector's spot/perpetual thresholds); None otherwise."""
    from sqlglot import exp

    if isinstance(node, exp.Column) and node.table == "params":
        return [node.name]
    if isinstance(node, exp.Paren):
        return _params_of(node.this)
    if isinstance(node, exp.Case) and node.args.get("default") is not None:
        branches = [*(i.args.get("true") for i in node.args.get("ifs") or []), node.args["default"]]
        names = [_params_of(b) for b in branches if isinstance(b, exp.Expression)]
        if len(names) == len(branches) and all(names):
            return [n for group in names if group for n in group]
    return None


def _param_bound(term: exp.Expression) -> tuple[str, str, list[str]] | None:
    """``(column, op, params)`` of a term ``column > params.P`` or ``column >= params.P``
    (or a CASE choosing between params: the term can hold only above the smallest)."""
    from sqlglot import exp

    if not isinstance(term, exp.GT | exp.GTE):
        return None
    left, names = term.this, _params_of(term.expression)
    if isinstance(left, exp.Column) and not left.table and names:
        return left.name, ">" if isinstance(term, exp.GT) else ">=", names
    return None


def _span(cov: KeyCoverage) -> float:
    return (cov.last_us - cov.first_us) / 1e6


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _day(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, tz=UTC).strftime("%Y-%m-%d %H:%M")


def _exchanges(spec: Spec, params: dict[str, Any], coverage: Coverage) -> str | None:
    # spec-wide SQL only (an exchange named in one alert rule's condition blocks that rule)
    texts = [s.text for _n, s in (*spec.aggregate, *spec.prepare, *spec.derive)]
    if spec.filter is not None:
        texts.append(spec.filter.text)
    names = sorted({m for t in texts for m in _EXCHANGE_PARAM.findall(t)})
    needed = [str(params[n]) for n in names if isinstance(params.get(n), str)]
    if not needed:
        return None
    which = " and ".join(needed) + f" (params {', '.join(names)})"
    missing = [e for e in needed if e not in coverage.exchanges]
    if missing:
        has = ", ".join(sorted(coverage.exchanges)) or "no exchange"
        return f"needs trades on {which}; the input has {has} only"
    if len(needed) < 2 or "exchange" in spec.group_by or spec.window is None:
        return None
    for symbol in {s for s, _e in coverage.keys}:
        spans = [coverage.keys.get((symbol, e)) for e in needed]
        present = [c for c in spans if c is not None]
        if len(present) == len(spans) and max(c.first_us for c in present) <= min(
            c.last_us for c in present
        ):
            return None
    times = "; ".join(
        f"{s} on {e} {_day(c.first_us)}–{_day(c.last_us)} UTC"
        for (s, e), c in sorted(coverage.keys.items())
        if e in needed
    )
    return (
        f"needs one symbol traded on {which} in the same {spec.window.size.text} window; "
        f"in the input they never trade the same symbol at the same time ({times})"
    )


def _param_bounds(rule: AlertRule, params: dict[str, Any]) -> Iterator[tuple[str, str, str, float]]:
    """``(column, op, param, value)`` of each term ``column >|>= params.P`` that must hold
    for ``rule`` to fire, P a number."""
    for term in _conjuncts(rule.when.text):
        bound = _param_bound(term)
        if bound is None:
            continue
        column, op, names = bound
        values = [(float(params[n]), n) for n in names if isinstance(params.get(n), int | float)]
        if len(values) == len(names):
            value, name = min(values)
            yield column, op, name, value


def _longest_span(coverage: Coverage, group_by: Sequence[str]) -> float:
    """Seconds between the first and the last trade of the longest-running key."""
    merged: dict[tuple[str, ...], KeyCoverage] = {}
    for (symbol, exchange), cov in coverage.keys.items():
        key = tuple({"symbol": symbol, "exchange": exchange}.get(g, "") for g in group_by)
        if key in merged:
            merged[key].merge(cov)
        else:
            merged[key] = KeyCoverage(cov.first_us, cov.last_us, cov.trades)
    return max((_span(c) for c in merged.values()), default=0.0)


def _history(spec: Spec, rule: AlertRule, params: dict[str, Any], coverage: Coverage) -> str | None:
    if spec.window is None or spec.baseline is None:
        return None
    counts = {n for n, s in spec.baseline.stats if s.text.strip().lower().startswith("count(")}
    size = spec.window.size.seconds
    for column, op, param, value in _param_bounds(rule, params):
        if column not in counts:
            continue
        windows = int(value) + (op == ">")
        longest = _longest_span(coverage, spec.group_by)
        if longest < windows * size:
            per = " and ".join(spec.group_by) or "key"
            return (
                f"needs {windows} earlier windows of {spec.window.size.text} per {per} "
                f"({column} {op} params.{param}): {_minutes(windows * size)} of trades; "
                f"the input's longest is {_minutes(longest)}"
            )
    return None


def _row_threshold(
    spec: Spec, rule: AlertRule, params: dict[str, Any], coverage: Coverage
) -> str | None:
    if spec.window is not None:
        return None
    for column, op, param, value in _param_bounds(rule, params):
        largest = coverage.largest(column) if column in TRACKED else None
        if largest is not None and (largest < value or (op == ">" and largest == value)):
            return (
                f"needs a trade with {column} {op} {value:,.10g} (params.{param}); "
                f"the largest in the input is {largest:,.0f}"
            )
    return None


def why_silent(spec: Spec, coverage: Coverage) -> str | None:
    """What ``spec`` needs that ``coverage`` lacks (one sentence), or None when the input
    could make it fire (or when that cannot be told from the spec)."""
    if spec.source.stream != "trades":
        return None
    if not coverage.trades:
        return "the input has no trades"
    params = dict(spec.params)
    reason = _exchanges(spec, params, coverage)
    if reason:
        return reason
    # per alert rule: the detector cannot fire only when no rule can
    per_rule = [
        _history(spec, rule, params, coverage) or _row_threshold(spec, rule, params, coverage)
        for rule in spec.alerts
    ]
    return per_rule[0] if per_rule and all(per_rule) else None


def silent_detectors(
    plans: Sequence[Any], by_module: dict[str, int], coverage: Coverage
) -> list[tuple[str, str]]:
    """``(module and name, reason)`` of each plan without alerts that cannot fire on the
    input; a plan reading another detector's rows or alerts cannot fire when every plan it
    reads could not."""
    from ctc.dsl.load import load_spec

    out: list[tuple[str, str]] = []
    cannot: set[str] = set()
    for plan in plans:
        if by_module.get(plan.module):
            continue
        reason = why_silent(load_spec(plan.spec_path), coverage)
        upstream = list(plan.depends_on)
        if reason is None and upstream and all(m in cannot for m in upstream):
            reason = f"reads {', '.join(upstream)}, which cannot fire on this input"
        if reason:
            cannot.add(plan.module)
            out.append((f"{plan.module} {plan.name}", reason))
    return out
