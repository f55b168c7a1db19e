"""Resolve a fragment's names: its own columns in scope, a reference's qualified columns,
and ``params.<name>``, which is inlined as the param's literal value."""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from ctc.compiler.fragments.positions import FragmentError, node_position, suggest
from ctc.compiler.fragments.rewrite import param_literal
from ctc.compiler.fragments.scope import Scope
from ctc.dsl.model import ParamValue


def resolve_names(
    tree: exp.Expr,
    text: str,
    params: Mapping[str, ParamValue],
    scope: Scope,
    inside_agg: set[int],
) -> tuple[exp.Expr, dict[int, tuple[str, int, int]]]:
    """``tree`` with every name checked against ``scope`` and params inlined, and where
    each inlined param was written (id of its literal → name, line, col)."""
    param_at: dict[int, tuple[str, int, int]] = {}

    def resolve(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column):
            new = _resolve_column(node, text, params, scope, id(node) in inside_agg)
            if new is not node:
                param_at[id(new)] = (node.name, *node_position(node, text))
            return new
        return node

    return tree.transform(resolve, copy=False), param_at


def _resolve_column(
    node: exp.Column, text: str, params: Mapping[str, ParamValue], scope: Scope, in_agg: bool
) -> exp.Expr:
    parts = [p.name for p in node.parts]
    line, col = node_position(node, text)
    if len(parts) == 2 and parts[0] == "params":
        name = parts[1]
        if name not in params:
            raise FragmentError(
                line,
                col,
                f"unknown param '{name}'{suggest(name, sorted(params))}; declare it under params:",
            )
        return param_literal(params[name])
    if len(parts) == 2 and parts[0] in scope.tables:
        table, name = parts
        cols = scope.tables[table]
        if name not in cols:
            raise FragmentError(
                line,
                col + len(table) + 1,
                f"unknown column '{name}' of {table}{suggest(name, sorted(cols))}",
            )
        return node
    if len(parts) > 1:
        raise FragmentError(
            line,
            col,
            f"unknown table '{'.'.join(parts[:-1])}': refer to columns "
            "by name, to params as params.<name>"
            + (
                f", to {', '.join(sorted(scope.tables))} as <table>.<column>"
                if scope.tables
                else ""
            ),
        )
    name = parts[0]
    if name not in scope.columns:
        raise FragmentError(
            line,
            col,
            f"unknown column '{name}' in {scope.what}{suggest(name, sorted(scope.columns))}",
        )
    if scope.aggregates and not in_agg and name not in scope.group_columns:
        raise FragmentError(
            line,
            col,
            f"column '{name}' must be inside an aggregate function "
            "(e.g. sum, avg, count) or be a group_by column",
        )
    return node
