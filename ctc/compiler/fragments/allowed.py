"""The allow-lists of a fragment: which SQL constructs and functions it may contain, where
aggregates may be used, and no subquery or table read anywhere."""

from __future__ import annotations

from sqlglot import exp

from ctc.compiler.fragments.positions import FragmentError, node_position
from ctc.compiler.fragments.scope import Scope
from ctc.compiler.functions import (
    BASELINE_FUNCTIONS,
    DESCENDING,
    RUNNING_FUNCTIONS,
    function_name,
    is_aggregate,
    is_allowed_function,
    rank_name,
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
        rank = rank_name(node)
        if rank is not None:
            _check_rank(node, rank, text, scope)
        elif isinstance(node, exp.Func) and not isinstance(node, _ALLOWED_NODES):
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
                if scope.running:
                    _check_running(node, name, text)
                elif not scope.aggregates:
                    line, col = node_position(node, text)
                    raise FragmentError(
                        line,
                        col,
                        f"aggregate function '{name}' is only allowed "
                        "in aggregate:, running: and baseline.stats:",
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
            if scope.running:
                line, col = node_position(node, text)
                raise FragmentError(
                    line,
                    col,
                    "FILTER (WHERE ...) is not allowed in running: (Spark has no filtered "
                    "window aggregate); write sum(CASE WHEN cond THEN x END)",
                )
            inside_agg.update(id(n) for n in node.walk())  # agg(x) FILTER (WHERE cond)
        if isinstance(node, exp.In) and node.args.get("query"):
            line, col = node_position(node, text)
            raise FragmentError(line, col, "IN (subquery) is not allowed")
        if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count):
            line, col = node_position(node, text)
            raise FragmentError(line, col, "'*' is only allowed in count(*)")
    return inside_agg


def _check_running(node: exp.Expr, name: str, text: str) -> None:
    """A running aggregate: one of RUNNING_FUNCTIONS, without DISTINCT or an aggregate in
    it (each becomes a window function over the key's rows so far)."""
    line, col = node_position(node, text)
    if name not in RUNNING_FUNCTIONS:
        raise FragmentError(
            line, col, f"running: may use only {', '.join(RUNNING_FUNCTIONS)}; got '{name}'"
        )
    if any(isinstance(n, exp.Distinct) for n in node.walk()):
        raise FragmentError(line, col, f"{name}(DISTINCT ...) is not allowed in running:")
    if any(is_aggregate(n) for n in node.walk() if n is not node):
        raise FragmentError(
            line,
            col,
            f"an aggregate inside {name}() is not allowed: make the inner one a running "
            "column of its own, above this one",
        )


def _check_rank(node: exp.Expr, rank: str, text: str, scope: Scope) -> None:
    """A rank (``percent_rank(x)`` …, ``ntile(n, x)``) or its descending marker
    ``desc(x)``: only in derive: of a window spec, with its arguments, not nested."""
    line, col = node_position(node, text)
    args = list(node.expressions)
    if rank == DESCENDING:
        if node.parent is None or rank_name(node.parent) in (None, DESCENDING):
            raise FragmentError(
                line,
                col,
                "desc(x) ranks descending only inside a rank: percent_rank(desc(x)), "
                "rank(desc(x)), dense_rank(desc(x)), ntile(n, desc(x))",
            )
        if len(args) != 1:
            raise FragmentError(line, col, "desc(x) takes one value")
        return
    if not scope.ranks:
        raise FragmentError(
            line,
            col,
            f"{rank}() ranks the keys of a window: it is only allowed in derive: of a "
            "spec with a window:",
        )
    wanted = 2 if rank == "ntile" else 1
    if len(args) != wanted:
        form = "ntile(n, x)" if rank == "ntile" else f"{rank}(x)"
        raise FragmentError(line, col, f"write {form}: {rank} takes {wanted} argument(s)")
    ranked = args[-1]
    if rank == "ntile" and any(rank_name(n) == DESCENDING for n in args[0].walk()):
        raise FragmentError(line, col, "ntile(n, x): desc() marks the value x, not n")
    for inner in ranked.walk():
        if rank_name(inner) not in (None, DESCENDING):
            ln, cl = node_position(inner, text)
            raise FragmentError(ln, cl, "a rank cannot rank another rank")
