"""Rewrites of a checked fragment: params inlined as literals, safe division, no
brackets around a lone name."""

from __future__ import annotations

import math

from sqlglot import exp

from ctc.compiler.fragments.positions import FragmentError
from ctc.dsl.model import ParamValue

_ATOMS = (exp.Column, exp.Literal, exp.Boolean, exp.Null)


def param_literal(value: ParamValue) -> exp.Expr:
    """A param's SQL literal: never a bare word that a spec could define as a column."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FragmentError(1, 1, f"params must be finite numbers, got {value!r}")
        return exp.Literal.number(repr(value))
    if isinstance(value, int):
        return exp.Literal.number(str(value))
    return exp.Literal.string(value)


def safe_divisions(tree: exp.Expr) -> exp.Expr:
    """Rewrite every division, nested ones included, to TRY_DIVIDE (NULL on a zero divisor)."""
    for div in reversed(list(tree.find_all(exp.Div))):  # deepest first
        safe = exp.SafeDivide(this=div.this, expression=div.expression)
        if div is tree:
            return safe
        div.replace(safe)
    return tree


def unwrap_atoms(tree: exp.Expr) -> exp.Expr:
    """Drop brackets around a single column or literal: ``(flag)`` → ``flag``.

    Spark reads ``FROM v WHERE (flag)`` as the table alias ``WHERE`` with a column alias
    list, so generated SQL must never put a lone name in brackets.
    """
    for paren in list(tree.find_all(exp.Paren)):
        inner = paren.this
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, _ATOMS):
            if paren is tree:
                return inner
            paren.replace(inner)
    return tree
