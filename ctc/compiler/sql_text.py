"""The text of the generated Spark SQL: the dialect, identifier quoting, the SELECT layout.

Every stage's SQL is laid out by :func:`select`, so the golden files read alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlglot import exp

#: The sqlglot dialect of every fragment read and every statement written.
DIALECT = "spark"

INDENT = "  "

#: Words Spark SQL reads as keywords: a column of that name is quoted.
_RESERVED = {
    "timestamp",
    "window",
    "date",
    "end",
    "start",
    "order",
    "group",
    "from",
    "select",
    "where",
    "table",
    "user",
    "time",
    "interval",
}


def to_sql(node: exp.Expr) -> str:
    """Spark SQL text of an expression, on one line."""
    return node.sql(DIALECT)


def quote(name: str) -> str:
    """Quote an identifier for Spark SQL when it needs it."""
    return name if name.isidentifier() and name.lower() not in _RESERVED else f"`{name}`"


def identifier(name: str) -> exp.Column:
    """A column named ``name``, quoted as :func:`quote` quotes it."""
    return exp.Column(this=exp.Identifier(this=name, quoted=quote(name) != name))


def bracketed(sql: str) -> str:
    """``sql`` in brackets unless it is a lone name (Spark reads ``WHERE (flag)`` as an
    alias list)."""
    return sql if re.fullmatch(r"\w+|`[^`]+`", sql) else f"({sql})"


def subquery(sql: str, alias: str | None = None) -> str:
    """``sql`` as a bracketed, indented subquery, named ``alias`` when given."""
    inner = "\n".join(INDENT + line for line in sql.splitlines())
    return f"(\n{inner}\n)" + (f" AS {alias}" if alias else "")


def qualify(tree: exp.Expr, alias: str, own: Mapping[str, str]) -> exp.Expr:
    """Prefix unqualified columns of this spec's own rows with ``alias``."""

    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name in own:
            return exp.column(node.name, table=alias, quoted=None)
        return node

    return tree.transform(fix, copy=True)


def _listed(items: list[str]) -> list[str]:
    """``items`` one per indented line (an item's own later lines indented with it),
    comma-separated."""
    return [
        INDENT + item.replace("\n", "\n" + INDENT) + ("," if i < len(items) - 1 else "")
        for i, item in enumerate(items)
    ]


def select(
    items: list[str],
    source: str,
    where: str | None = None,
    group_by: list[str] | None = None,
    joins: list[str] | None = None,
) -> str:
    """A SELECT statement laid out one item per line, as every stage writes it."""
    lines = ["SELECT", *_listed(items), f"FROM {source}"]
    lines += joins or []
    if where:
        lines.append(f"WHERE {where}")
    if group_by:
        lines += ["GROUP BY", *_listed(group_by)]
    return "\n".join(lines)
