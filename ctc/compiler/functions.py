"""The function allow-list: the only SQL functions a spec may call.

Spec SQL is untrusted text. Instead of denying known-dangerous functions
(``reflect``, ``java_method``, ``read_files`` …), which misses new ones, only
the functions listed here compile. Each name is resolved once, through sqlglot's
own Spark parser, to the expression class it parses to.
"""

from __future__ import annotations

from functools import cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

#: Row-level (scalar) functions, by their Spark SQL names.
SCALAR_FUNCTIONS = [
    "abs",
    "round",
    "bround",
    "floor",
    "ceil",
    "ceiling",
    "sqrt",
    "cbrt",
    "exp",
    "ln",
    "log",
    "log10",
    "log2",
    "pow",
    "power",
    "sign",
    "signum",
    "greatest",
    "least",
    "try_divide",
    "nullif",
    "coalesce",
    "ifnull",
    "nvl",
    "if",
    "isnull",
    "isnotnull",
    "nanvl",
    "lower",
    "upper",
    "concat",
    "concat_ws",
    "substring",
    "substr",
    "length",
    "trim",
    "ltrim",
    "rtrim",
    "replace",
    "lpad",
    "rpad",
    "format_number",
    "format_string",
    "startswith",
    "endswith",
    "contains",
    "date_trunc",
    "unix_seconds",
    "unix_millis",
    "unix_micros",
    "timestamp_seconds",
    "timestamp_millis",
    "to_timestamp",
    "to_date",
    "date_format",
    "hour",
    "minute",
    "second",
    "dayofweek",
    "day",
    "month",
    "year",
    "get_json_object",
    "to_json",
    "named_struct",
    "sha2",
    "md5",
    "cast",
    "try_cast",
]

#: Aggregate functions, by their Spark SQL names (allowed in aggregate: and baseline.stats:).
AGGREGATE_FUNCTIONS = [
    "sum",
    "count",
    "count_if",
    "avg",
    "mean",
    "min",
    "max",
    "stddev",
    "stddev_samp",
    "stddev_pop",
    "variance",
    "var_samp",
    "var_pop",
    "first",
    "last",
    "max_by",
    "min_by",
    "approx_count_distinct",
    "percentile_approx",
    "bool_or",
    "bool_and",
]

#: Aggregates that a baseline may compute over earlier windows.
BASELINE_FUNCTIONS = [
    "avg",
    "mean",
    "stddev",
    "stddev_samp",
    "stddev_pop",
    "count",
    "min",
    "max",
    "sum",
]


#: Aggregates a ``running:`` column may compute over a key's rows so far (each becomes a
#: window function over them, which Spark allows for these).
RUNNING_FUNCTIONS = ["sum", "count", "min", "max", "avg", "first", "last"]

#: Ranks across the keys of a window, allowed in ``derive:`` of a window spec:
#: ``percent_rank(x)``, ``rank(x)``, ``dense_rank(x)``, ``ntile(n, x)``; ``desc(x)`` as the
#: ranked value ranks descending.
RANK_FUNCTIONS = ["percent_rank", "rank", "dense_rank", "ntile"]

#: The marker of a descending rank, ``desc(x)``, only as a rank's argument.
DESCENDING = "desc"


def rank_name(node: exp.Expr) -> str | None:
    """The rank function ``node`` calls (``percent_rank`` …), ``desc`` for the marker of a
    descending rank, or None for any other node."""
    if isinstance(node, exp.PercentRank):
        return "percent_rank"
    if isinstance(node, exp.Rank):
        return "rank"
    if isinstance(node, exp.DenseRank):
        return "dense_rank"
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("ntile", DESCENDING):
        return node.name.lower()
    return None


def _resolve(name: str) -> tuple[set[type[exp.Expr]], set[str]]:
    """The sqlglot classes (and anonymous names) ``name(...)`` parses to, in every form.

    A function may parse to a different class per number of arguments (``to_timestamp(x)``
    and ``to_timestamp(x, fmt)``), and sqlglot may wrap an argument in a helper node
    (``date_format(x, fmt)`` casts ``x``): every function node of every form is allowed.
    """
    classes: set[type[exp.Expr]] = set()
    names: set[str] = set()
    for args in ("x", "x, y", "x, y, z", "x AS double"):
        try:
            tree = sqlglot.parse_one(f"{name}({args})", read="spark")
        except ParseError:
            continue
        for node in tree.walk():
            if isinstance(node, exp.Anonymous):
                names.add(str(node.name).lower())
            elif isinstance(node, exp.Func):
                classes.add(type(node))
    if not classes and not names:
        raise ValueError(f"cannot resolve function {name}")  # pragma: no cover
    return classes, names


@cache
def allowed() -> tuple[dict[type[exp.Expr], str], dict[str, str], set[str]]:
    """(class → name, anonymous name → name, aggregate names) of the allow-list."""
    classes: dict[type[exp.Expr], str] = {}
    anonymous: dict[str, str] = {}
    aggregates: set[str] = set()
    for name in SCALAR_FUNCTIONS + AGGREGATE_FUNCTIONS:
        found, names = _resolve(name)
        for cls in found:
            classes.setdefault(cls, name)
        for n in names:
            anonymous.setdefault(n, name)
        if name in AGGREGATE_FUNCTIONS:
            aggregates.add(name)
    return classes, anonymous, aggregates


def function_name(node: exp.Expr) -> str:
    """The SQL name of a function node as a user wrote it (best effort), lower case."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return type(node).__name__.lower()


def is_allowed_function(node: exp.Func) -> bool:
    """True when the function node is on the allow-list."""
    classes, anonymous, _ = allowed()
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower() in anonymous
    return type(node) in classes


def is_aggregate(node: exp.Expr) -> bool:
    """True for aggregate function calls (SUM, COUNT, STDDEV_SAMP …)."""
    if isinstance(node, exp.AggFunc):
        return True
    if isinstance(node, exp.Anonymous):
        _, _, aggregates = allowed()
        return str(node.name).lower() in aggregates
    return False
