"""The Spark type of a fragment, for the columns of each stage and the lake table schemas.

What cannot be inferred is reported (:class:`TypeUnknown`), never guessed: the spec then
names the type with a CAST.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from ctc.compiler.catalog import COLUMN_TYPES
from ctc.compiler.sql_text import DIALECT

#: The type given to a column whose type could not be inferred or whose expression did
#: not compile: an error is reported with it, so no plan ever carries it.
UNTYPED = "unknown"


class TypeUnknown(Exception):
    """The Spark type of an expression cannot be inferred (the message says why)."""


#: Functions sqlglot leaves untyped, by the Spark type they return.
_RETURN_TYPES: dict[str, str] = {
    "timestamp_seconds": "timestamp",
    "timestamp_millis": "timestamp",
    "format_number": "string",
    "isnull": "boolean",
    "isnotnull": "boolean",
}


def _typeable(node: exp.Expr) -> exp.Expr:
    """``node`` rewritten, for inference only, so that sqlglot can type what it cannot
    type itself: ``MAX_BY(v, k)`` has the type of ``v``, a known function its return type."""
    if isinstance(node, exp.ArgMax | exp.ArgMin):
        return node.this
    if isinstance(node, exp.TimestampTrunc):
        return exp.cast(exp.Null(), "timestamp")
    if isinstance(node, exp.Anonymous) and node.name.lower() in _RETURN_TYPES:
        return exp.cast(exp.Null(), _RETURN_TYPES[node.name.lower()])
    return node


def infer_type(
    tree: exp.Expr,
    columns: Mapping[str, str],
    tables: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """The Spark type of an expression over typed columns (for lake table schemas).

    Columns are resolved against ``columns`` and, when qualified, ``tables``. Raises
    :class:`TypeUnknown` when the type cannot be inferred or is not a column type
    (a bare NULL, a struct): the spec then names it with a CAST.
    """
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    flat = dict(columns)
    for table, cols in (tables or {}).items():
        flat.update({f"{table}__{c}": t for c, t in cols.items()})

    def rename(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Column) and n.table:
            return exp.column(f"{n.table}__{n.name}")
        return _typeable(n)

    expr = tree.transform(rename, copy=True)
    schema: dict[str, object] = {"__t": flat}
    try:
        select = exp.select(exp.alias_(expr, "__x")).from_("__t")
        select = qualify(select, schema=schema, dialect=DIALECT, validate_qualify_columns=False)
        t = annotate_types(select, schema=schema, dialect=DIALECT).selects[0].type
    except Exception as err:  # sqlglot's optimizer raises many kinds
        raise TypeUnknown(f"sqlglot could not type it ({type(err).__name__})") from err
    if t is None or t.this == exp.DataType.Type.UNKNOWN:
        raise TypeUnknown("its type is not known")
    name = t.sql(DIALECT).lower()
    if name.startswith("decimal"):
        return "double"
    if name not in COLUMN_TYPES:
        raise TypeUnknown(f"its type {name} is not a column type")
    return name
