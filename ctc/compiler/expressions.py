"""Parse, check and rewrite one SQL fragment of a spec.

A fragment must be a single Spark SQL *expression* over known columns:
no statements, no subqueries, no tables, only allow-listed functions.
``params.<name>`` is replaced by the param's literal value. Division is
rewritten to ``try_divide`` so that a zero divisor yields NULL (and NULL
never alerts) instead of failing the query under ANSI mode.

Each concern has its module in :mod:`ctc.compiler.fragments`; this one runs them in
order and is what the passes call.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from ctc.compiler.fragments.allowed import check_allowed
from ctc.compiler.fragments.bounds import check_bounds
from ctc.compiler.fragments.columns import resolve_names
from ctc.compiler.fragments.kinds import check_types
from ctc.compiler.fragments.parse import parse_fragment
from ctc.compiler.fragments.positions import FragmentError, error_at, fragment_error
from ctc.compiler.fragments.rewrite import safe_divisions, unwrap_atoms
from ctc.compiler.fragments.scope import Scope
from ctc.compiler.sql_text import DIALECT, to_sql
from ctc.dsl.model import ParamValue

__all__ = [
    "DIALECT",
    "FragmentError",
    "Scope",
    "check_fragment",
    "error_at",
    "fragment_error",
    "parse_fragment",
    "to_sql",
]


def check_fragment(text: str, params: Mapping[str, ParamValue], scope: Scope) -> exp.Expr:
    """Parse, check and rewrite ``text``; raise FragmentError at the first problem.

    Besides the allow-lists, every size and count argument (lpad, format_string widths,
    decimals, LIKE wildcards …) is bounded (see ctc.dsl.limits), and the result must be
    expressible in Spark SQL exactly (sqlglot may not drop an argument it cannot write).
    """
    tree = parse_fragment(text)
    try:
        inside_agg = check_allowed(tree, text, scope)
        tree, param_at = resolve_names(tree, text, params, scope, inside_agg)
        check_types(tree, scope, param_at)
        tree = unwrap_atoms(safe_divisions(tree))
        check_bounds(tree, text)
        tree.sql(DIALECT, unsupported_level=ErrorLevel.RAISE)
    except FragmentError:
        raise
    except SqlglotError as exc:
        first = str(exc).splitlines()[0][:200]
        raise FragmentError(1, 1, f"cannot be written as Spark SQL: {first}") from exc
    except (ValueError, TypeError, IndexError, ArithmeticError, RecursionError) as exc:
        raise FragmentError(
            1, 1, f"cannot be written as Spark SQL: {str(exc).splitlines()[0][:200]}"
        ) from exc
    return tree
