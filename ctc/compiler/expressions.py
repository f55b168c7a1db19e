"""Parse, check and rewrite one SQL fragment of a spec.

A fragment must be a single Spark SQL *expression* over known columns:
no statements, no subqueries, no tables, only allow-listed functions.
``params.<name>`` is replaced by the param's literal value. Division is
rewritten to ``try_divide`` so that a zero divisor yields NULL (and NULL
never alerts) instead of failing the query under ANSI mode.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from ctc.compiler.functions import (
    BASELINE_FUNCTIONS,
    function_name,
    is_aggregate,
    is_allowed_function,
)
from ctc.dsl.errors import Position, SpecError
from ctc.dsl.model import ParamValue, Spec, Sql

DIALECT = "spark"

#: Non-function node types a fragment may contain.
_ALLOWED_NODES: tuple[type[exp.Expr], ...] = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.Neg,
    exp.Not,
    exp.And,
    exp.Or,
    exp.EQ,
    exp.NEQ,
    exp.NullSafeEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.IntDiv,
    exp.Case,
    exp.If,
    exp.In,
    exp.Between,
    exp.Is,
    exp.Like,
    exp.ILike,
    exp.Cast,
    exp.TryCast,
    exp.DataType,
    exp.DataTypeParam,
    exp.Interval,
    exp.Var,
    exp.Filter,
    exp.Where,
    exp.Distinct,
    exp.Tuple,
    exp.PropertyEQ,
    exp.Alias,
    exp.Star,
    exp.SafeDivide,
    exp.JSONPath,
    exp.JSONPathRoot,
    exp.JSONPathKey,
    exp.JSONPathSubscript,
)


@dataclass
class Scope:
    """What a fragment may refer to: columns (name → Spark type) and qualified tables."""

    columns: Mapping[str, str]
    tables: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    aggregates: bool = False
    baseline: bool = False
    group_columns: frozenset[str] = frozenset()
    what: str = "this expression"


class FragmentError(Exception):
    """A problem at an offset (1-based line, col) inside the fragment text."""

    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.col = col
        self.message = message


def _offset_to_linecol(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n") + 1
    col = offset - (before.rfind("\n") + 1) + 1
    return line, col


def _node_position(node: exp.Expr, text: str) -> tuple[int, int]:
    """Best position of ``node`` inside ``text``: its own or a descendant's token offset."""
    for n in node.walk():
        meta = getattr(n, "_meta", None) or {}
        if "start" in meta:
            return _offset_to_linecol(text, int(meta["start"]))
    # functions carry no token offsets: find the name in the text
    name = function_name(node) if isinstance(node, exp.Func) else node.sql(DIALECT)
    idx = text.lower().find(name.lower().split("(")[0])
    return _offset_to_linecol(text, max(idx, 0))


def _literal(value: ParamValue) -> exp.Expr:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(repr(value) if isinstance(value, float) else str(value))
    return exp.Literal.string(value)


def _suggest(name: str, options: list[str]) -> str:
    hint = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f" (did you mean '{hint[0]}'?)" if hint else ""


def parse_fragment(text: str) -> exp.Expr:
    """Parse one Spark SQL expression; raise FragmentError on syntax or statements."""
    try:
        trees = sqlglot.parse(text, read=DIALECT)
    except (ParseError, TokenError) as exc:
        errs = getattr(exc, "errors", None) or [{}]
        first = errs[0]
        desc = str(first.get("description") or exc).split("\n")[0]
        raise FragmentError(
            int(first.get("line") or 1), int(first.get("col") or 1), f"SQL syntax error: {desc}"
        ) from exc
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise FragmentError(1, 1, "write one SQL expression, not several statements")
    tree = trees[0]
    assert tree is not None
    if isinstance(tree, exp.Query | exp.DDL | exp.DML | exp.Command | exp.Block):
        raise FragmentError(1, 1, "write an SQL expression here, not a statement")
    return tree


def check_fragment(text: str, params: Mapping[str, ParamValue], scope: Scope) -> exp.Expr:
    """Parse, check and rewrite ``text``; raise FragmentError at the first problem."""
    tree = parse_fragment(text)
    inside_agg: set[int] = set()
    for node in tree.walk():
        if isinstance(node, exp.Subquery | exp.Query | exp.Table | exp.Lambda):
            line, col = _node_position(node, text)
            raise FragmentError(line, col, "subqueries and table reads are not allowed in a spec")
        if isinstance(node, exp.Func) and not isinstance(node, _ALLOWED_NODES):
            name = function_name(node)
            if not is_allowed_function(node):
                line, col = _node_position(node, text)
                raise FragmentError(
                    line,
                    col,
                    f"function '{name}' is not allowed "
                    "(see the function allow-list in docs/dsl.md)",
                )
            if is_aggregate(node):
                if not scope.aggregates:
                    line, col = _node_position(node, text)
                    raise FragmentError(
                        line,
                        col,
                        f"aggregate function '{name}' is only allowed "
                        "in aggregate: and baseline.stats:",
                    )
                if scope.baseline and name not in BASELINE_FUNCTIONS:
                    line, col = _node_position(node, text)
                    raise FragmentError(
                        line,
                        col,
                        f"baseline.stats may use only "
                        f"{', '.join(BASELINE_FUNCTIONS)}; got '{name}'",
                    )
                inside_agg.update(id(n) for n in node.walk())
        elif not isinstance(node, _ALLOWED_NODES):
            line, col = _node_position(node, text)
            raise FragmentError(
                line, col, f"'{node.sql(DIALECT)[:40]}' is not allowed in a spec expression"
            )
        if isinstance(node, exp.Filter) and is_aggregate(node.this):
            inside_agg.update(id(n) for n in node.walk())  # agg(x) FILTER (WHERE cond)
        if isinstance(node, exp.In) and node.args.get("query"):
            line, col = _node_position(node, text)
            raise FragmentError(line, col, "IN (subquery) is not allowed")
        if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count):
            line, col = _node_position(node, text)
            raise FragmentError(line, col, "'*' is only allowed in count(*)")

    param_at: dict[int, tuple[str, int, int]] = {}

    def resolve(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column):
            new = _resolve_column(node, text, params, scope, id(node) in inside_agg)
            if new is not node:
                param_at[id(new)] = (node.name, *_node_position(node, text))
            return new
        return node

    tree = tree.transform(resolve, copy=False)
    _check_types(tree, scope, param_at)
    return _safe_divisions(tree)


def _safe_divisions(tree: exp.Expr) -> exp.Expr:
    """Rewrite every division, nested ones included, to TRY_DIVIDE (NULL on a zero divisor)."""
    for div in reversed(list(tree.find_all(exp.Div))):  # deepest first
        safe = exp.SafeDivide(this=div.this, expression=div.expression)
        if div is tree:
            return safe
        div.replace(safe)
    return tree


_NUMERIC = {"double", "float", "bigint", "int", "smallint", "tinyint", "decimal"}
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
        if t in _NUMERIC:
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


def _check_types(tree: exp.Expr, scope: Scope, param_at: dict[int, tuple[str, int, int]]) -> None:
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
        line, col = _node_position(node, "")
        raise FragmentError(
            1,
            1,
            f"type mismatch: {left.sql(DIALECT)} is {_WORDS[kl]} but "
            f"{right.sql(DIALECT)} is {_WORDS[kr]}",
        )


_WORDS = {"number": "a number", "text": "text", "boolean": "true/false", "timestamp": "a timestamp"}


def _resolve_column(
    node: exp.Column, text: str, params: Mapping[str, ParamValue], scope: Scope, in_agg: bool
) -> exp.Expr:
    parts = [p.name for p in node.parts]
    line, col = _node_position(node, text)
    if len(parts) == 2 and parts[0] == "params":
        name = parts[1]
        if name not in params:
            raise FragmentError(
                line,
                col,
                f"unknown param '{name}'{_suggest(name, sorted(params))}; declare it under params:",
            )
        return _literal(params[name])
    if len(parts) == 2 and parts[0] in scope.tables:
        table, name = parts
        cols = scope.tables[table]
        if name not in cols:
            raise FragmentError(
                line,
                col + len(table) + 1,
                f"unknown column '{name}' of {table}{_suggest(name, sorted(cols))}",
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
            f"unknown column '{name}' in {scope.what}{_suggest(name, sorted(scope.columns))}",
        )
    if scope.aggregates and not in_agg and name not in scope.group_columns:
        raise FragmentError(
            line,
            col,
            f"column '{name}' must be inside an aggregate function "
            "(e.g. sum, avg, count) or be a group_by column",
        )
    return node


def fragment_error(spec: Spec, sql: Sql, err: FragmentError) -> SpecError:
    """Turn a FragmentError inside ``sql`` into a positioned SpecError of the spec file."""
    pos = spec.located.offset_position(sql.path, err.line, err.col)
    return SpecError(spec.path, pos, err.message)


def error_at(spec: Spec, path: tuple[str | int, ...], message: str, key: bool = False) -> SpecError:
    """A SpecError at the YAML node (or its key) at ``path``."""
    loc = spec.located
    pos: Position = loc.key_at(path) if key else loc.at(path)
    return SpecError(spec.path, pos, message)


def to_sql(node: exp.Expr) -> str:
    """Spark SQL text of an expression, on one line."""
    return node.sql(DIALECT)
