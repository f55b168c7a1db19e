"""The Spark SQL the Spark-catalog lake issues, as text (no Spark needed to build it).

Identifiers are checked plain names, quoted with backticks all the same (``timestamp``
is a column name). Batch keys are never pasted into SQL: they are bound as a named
parameter (``:key``).
"""

from __future__ import annotations

from collections.abc import Sequence

from ctc.compiler.catalog import SPARK_TRANSFORM_NAMES
from ctc.sinks.lake.base import BATCH_KEY_PROPERTY, check_name
from ctc.sinks.lake.tables import TableDef, spark_type, validate


def quote(*parts: str) -> str:
    """A multi-part identifier of checked names, each part in backticks."""
    return ".".join(f"`{check_name(p, 'identifier')}`" for p in parts)


def create_namespace_sql(catalog: str, namespace: str) -> str:
    """``CREATE NAMESPACE IF NOT EXISTS`` for the lake's namespace (a Glue database)."""
    return f"CREATE NAMESPACE IF NOT EXISTS {quote(catalog, namespace)}"


def create_table_sql(
    catalog: str, namespace: str, table: TableDef, provider: str = "iceberg"
) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for a declaration: every column nullable, Spark's
    transform names in ``PARTITIONED BY`` (``days(detected_at)``), Iceberg format v2."""
    partitioning = validate(table)
    columns = ", ".join(f"{quote(n)} {spark_type(t).upper()}" for n, t in table.columns)
    sql = (
        f"CREATE TABLE IF NOT EXISTS {quote(catalog, namespace, table.name)} ({columns}) "
        f"USING {check_name(provider, 'table provider')}"
    )
    if partitioning:
        fields = ", ".join(
            quote(c) if tr == "identity" else f"{SPARK_TRANSFORM_NAMES[tr]}({quote(c)})"
            for c, tr in partitioning
        )
        sql += f" PARTITIONED BY ({fields})"
    return sql + " TBLPROPERTIES ('format-version' = '2')"


def add_columns_sql(ident: str, columns: Sequence[tuple[str, str]]) -> str:
    """``ALTER TABLE … ADD COLUMNS`` for ``(name, Spark type)`` pairs."""
    cols = ", ".join(f"{quote(n)} {spark_type(t).upper()}" for n, t in columns)
    return f"ALTER TABLE {ident} ADD COLUMNS ({cols})"


def widen_column_sql(ident: str, column: str, new_type: str) -> str:
    """``ALTER TABLE … ALTER COLUMN … TYPE`` (int → bigint, float → double)."""
    return f"ALTER TABLE {ident} ALTER COLUMN {quote(column)} TYPE {spark_type(new_type).upper()}"


def has_batch_sql(snapshots_ident: str) -> str:
    """Whether a snapshot carries the batch key bound as ``:key`` (one row if so)."""
    return (
        f"SELECT snapshot_id FROM {snapshots_ident} "
        f"WHERE summary['{BATCH_KEY_PROPERTY}'] = :key LIMIT 1"
    )


def snapshots_sql(snapshots_ident: str) -> str:
    """The snapshots of a table (Iceberg's ``snapshots`` metadata table), oldest first."""
    return (
        "SELECT snapshot_id, parent_id, committed_at, operation, summary "
        f"FROM {snapshots_ident} ORDER BY committed_at"
    )
