"""Typing checks of a fragment: no comparison or arithmetic that mixes numbers with text
or true/false (Spark would cast silently, or fail at run time)."""

from __future__ import annotations

from sqlglot import exp

from ctc.compiler.catalog import NUMERIC_TYPES
from ctc.compiler.fragments.positions import FragmentError
from ctc.compiler.fragments.scope import Scope
from ctc.compiler.sql_text import DIALECT

_COMPARE = (
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.EQ,
    exp.NEQ,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
)


def _kind(node: exp.Expr, scope: Scope) -> str | None:
    """'number', 'text', 'boolean', 'timestamp' or None (unknown) for simple expressions."""
    if isinstance(node, exp.Paren):
        return _kind(node.this, scope)
    if isinstance(node, exp.Literal):
        return "text" if node.is_string else "number"
    if isinstance(node, exp.Boolean):
        return "boolean"
    if isinstance(node, exp.Column) and not node.table:
        t = scope.columns.get(node.name, "")
        if t in NUMERIC_TYPES:
            return "number"
        return {"string": "text", "boolean": "boolean", "timestamp": "timestamp"}.get(t)
    if isinstance(
        node,
        exp.Add
        | exp.Sub
        | exp.Mul
        | exp.Div
        | exp.Mod
        | exp.Neg
        | exp.Abs
        | exp.Sum
        | exp.Avg
        | exp.Count
        | exp.Stddev
        | exp.StddevSamp,
    ):
        return "number"
    return None


def check_types(tree: exp.Expr, scope: Scope, param_at: dict[int, tuple[str, int, int]]) -> None:
    """Reject comparisons and arithmetic that mix numbers with text or true/false."""
    for node in tree.walk():
        if not isinstance(node, _COMPARE):
            continue
        left, right = node.this, node.expression
        kl, kr = _kind(left, scope), _kind(right, scope)
        if kl is None or kr is None or kl == kr or {kl, kr} == {"timestamp", "text"}:
            continue
        for side, other, k_side, k_other in ((left, right, kl, kr), (right, left, kr, kl)):
            if id(side) in param_at:
                name, line, col = param_at[id(side)]
                raise FragmentError(
                    line,
                    col,
                    f"params.{name} is {_WORDS[k_side]} "
                    f"({side.sql(DIALECT)}) but is used with "
                    f"{other.sql(DIALECT)}, which is {_WORDS[k_other]}",
                )
        raise FragmentError(
            1,
            1,
            f"type mismatch: {left.sql(DIALECT)} is {_WORDS[kl]} but "
            f"{right.sql(DIALECT)} is {_WORDS[kr]}",
        )


_WORDS = {"number": "a number", "text": "text", "boolean": "true/false", "timestamp": "a timestamp"}
