"""The allow-lists of a fragment: which SQL constructs and functions it may contain, where
aggregates may be used, and no subquery or table read anywhere."""

from __future__ import annotations

from sqlglot import exp

from ctc.compiler.fragments.positions import FragmentError, node_position
from ctc.compiler.fragments.scope import Scope
from ctc.compiler.functions import (
    BASELINE_FUNCTIONS,
    function_name,
    is_aggregate,
    is_allowed_function,
)
from ctc.compiler.sql_text import DIALECT

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


def check_allowed(tree: exp.Expr, text: str, scope: Scope) -> set[int]:
    """Raise FragmentError at the first construct ``tree`` may not contain; return the ids
    of the nodes inside an aggregate function (a bare column must be inside one, or be a
    group_by column, where ``scope`` allows aggregates)."""
    inside_agg: set[int] = set()
    for node in tree.walk():
        if isinstance(node, exp.Subquery | exp.Query | exp.Table | exp.Lambda):
            line, col = node_position(node, text)
            raise FragmentError(line, col, "subqueries and table reads are not allowed in a spec")
        if isinstance(node, exp.Func) and not isinstance(node, _ALLOWED_NODES):
            name = function_name(node)
            if not is_allowed_function(node):
                line, col = node_position(node, text)
                raise FragmentError(
                    line,
                    col,
                    f"function '{name}' is not allowed "
                    "(see the function allow-list in docs/dsl.md)",
                )
            if is_aggregate(node):
                if not scope.aggregates:
                    line, col = node_position(node, text)
                    raise FragmentError(
                        line,
                        col,
                        f"aggregate function '{name}' is only allowed "
                        "in aggregate: and baseline.stats:",
                    )
                if scope.baseline and name not in BASELINE_FUNCTIONS:
                    line, col = node_position(node, text)
                    raise FragmentError(
                        line,
                        col,
                        f"baseline.stats may use only "
                        f"{', '.join(BASELINE_FUNCTIONS)}; got '{name}'",
                    )
                inside_agg.update(id(n) for n in node.walk())
        elif not isinstance(node, _ALLOWED_NODES):
            line, col = node_position(node, text)
            raise FragmentError(
                line, col, f"'{node.sql(DIALECT)[:40]}' is not allowed in a spec expression"
            )
        if isinstance(node, exp.Filter) and is_aggregate(node.this):
            inside_agg.update(id(n) for n in node.walk())  # agg(x) FILTER (WHERE cond)
        if isinstance(node, exp.In) and node.args.get("query"):
            line, col = node_position(node, text)
            raise FragmentError(line, col, "IN (subquery) is not allowed")
        if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count):
            line, col = node_position(node, text)
            raise FragmentError(line, col, "'*' is only allowed in count(*)")
    return inside_agg
