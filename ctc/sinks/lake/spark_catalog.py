"""The lake through Spark's Iceberg catalog: the Glue Data Catalog and S3 on EMR.

Tables are created with Spark SQL DDL (:mod:`ctc.sinks.lake.spark_sql`); rows are
appended with ``DataFrame.writeTo(table).append()``, so a Spark DataFrame (the stream's
cached passed trades) is written by the executors and never collected; an Arrow table
(small detector results already on the driver) becomes a local DataFrame first.

Idempotence is the local lake's: each append stamps its Iceberg snapshot with the
summary property ``ctc.batch_key`` (Iceberg's ``snapshot-property.*`` write option), and
an append whose key is already in the table's ``snapshots`` metadata table writes
nothing. Needs the Iceberg Spark runtime on the class path (docs/lake.md): it cannot run
on a plain pyspark install.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa

from ctc.sinks.lake.base import (
    BATCH_KEY_PROPERTY,
    NAMESPACE,
    LakeError,
    Rows,
    check_batch_key,
    check_name,
    is_arrow,
)
from ctc.sinks.lake.spark_conf import session_keys
from ctc.sinks.lake.spark_rows import align, arrow_for_spark
from ctc.sinks.lake.spark_sql import (
    add_columns_sql,
    create_namespace_sql,
    create_table_sql,
    has_batch_sql,
    quote,
    snapshots_sql,
    widen_column_sql,
)
from ctc.sinks.lake.tables import TableDef, evolution, parse_partition, validate

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: The write option that puts the batch key into the snapshot summary.
SNAPSHOT_KEY_OPTION: Final = f"snapshot-property.{BATCH_KEY_PROPERTY}"

#: Spark's error condition for a table that does not exist.
_NOT_FOUND: Final = "TABLE_OR_VIEW_NOT_FOUND"

_LOCKS: dict[tuple[str, str, str], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class SparkCatalogLake:
    """ctc's Iceberg tables in the Spark catalog ``catalog``, namespace ``namespace``.

    Appends to one table are serialised within the process, as in the local lake; two
    processes must not write the same batch key to one table at once (a streaming
    checkpoint has one writer).
    """

    writes_frames = True

    def __init__(
        self,
        spark: SparkSession,
        catalog: str = "lake",
        namespace: str = NAMESPACE,
        *,
        conf: Mapping[str, str] | None = None,
        provider: str = "iceberg",
    ) -> None:
        """Use ``catalog`` of ``spark``; nothing is read or created yet.

        ``conf`` (:func:`ctc.sinks.lake.spark_conf.spark_iceberg_conf`): its catalog
        settings that the session lacks are set on it (the jars and
        ``spark.sql.extensions`` must already have been given when the JVM started).
        ``provider`` is the ``USING`` of the DDL: ``iceberg``.
        """
        self.spark = spark
        self.catalog = check_name(catalog, "catalog name")
        self.namespace = check_name(namespace, "namespace")
        self.provider = check_name(provider, "table provider")
        for key, value in session_keys(dict(conf or {})).items():
            if spark.conf.get(key, None) is None:
                spark.conf.set(key, value)
        self._namespace_ready = False

    def __repr__(self) -> str:
        return f"SparkCatalogLake({self.catalog}.{self.namespace})"

    # -- names and helpers

    def ident(self, name: str) -> str:
        """The quoted ``catalog.namespace.name`` of a table."""
        return quote(self.catalog, self.namespace, name)

    def snapshots_ident(self, name: str) -> str:
        """The quoted name of a table's ``snapshots`` metadata table (Iceberg)."""
        return quote(self.catalog, self.namespace, name, "snapshots")

    def _lock(self, name: str) -> threading.Lock:
        with _LOCKS_GUARD:
            return _LOCKS.setdefault((self.catalog, self.namespace, name), threading.Lock())

    def _sql(self, text: str, **args: Any) -> DataFrame:
        return self.spark.sql(text, args=args or None)

    def frame(self, name: str, snapshot_id: int | None = None) -> DataFrame:
        """Table ``name`` as a Spark DataFrame, as of ``snapshot_id`` if given."""
        self.columns(name)  # a clear LakeError for a missing table
        version = f" VERSION AS OF {int(snapshot_id)}" if snapshot_id is not None else ""
        return self._sql(f"SELECT * FROM {self.ident(name)}{version}")

    def columns(self, name: str) -> list[tuple[str, str]]:
        """A table's columns as ``(name, Spark type)``, from its schema (no Spark job)."""
        from pyspark.errors import AnalysisException

        try:
            schema = self.spark.table(self.ident(check_name(name))).schema
        except AnalysisException as exc:
            if _NOT_FOUND in str(exc):
                raise LakeError(f"no lake table {self.catalog}.{self.namespace}.{name}") from None
            raise
        return [(f.name, f.dataType.simpleString()) for f in schema.fields]

    def partitioning(self, name: str) -> tuple[tuple[str, str], ...]:
        """A table's partitioning as ``(column, transform)`` pairs, from ``DESCRIBE TABLE``."""
        rows = self._sql(f"DESCRIBE TABLE {self.ident(name)}").collect()
        return describe_partitioning_rows([(r[0] or "", r[1] or "") for r in rows])

    # -- the Lake interface

    def ensure_table(self, table: TableDef) -> None:
        """Create the table with ``CREATE TABLE IF NOT EXISTS``, then check and evolve it.

        Same rules as the local lake: missing columns are added (``ADD COLUMNS``),
        ``int → bigint`` and ``float → double`` widen (``ALTER COLUMN … TYPE``); any
        other type change or different partitioning is a LakeSchemaError.
        """
        validate(table)
        with self._lock(table.name):
            if not self._namespace_ready:
                self._sql(create_namespace_sql(self.catalog, self.namespace))
                self._namespace_ready = True
            self._sql(create_table_sql(self.catalog, self.namespace, table, self.provider))
            ident = self.ident(table.name)
            change = evolution(table, self.columns(table.name), self.partitioning(table.name))
            if change.add:
                self._sql(add_columns_sql(ident, change.add))
            for column, new_type in change.widen:
                self._sql(widen_column_sql(ident, column, new_type))

    def append(self, name: str, rows: Rows, batch_key: str) -> bool:
        """Append ``rows`` once per ``batch_key`` with ``writeTo(table).append()``.

        A DataFrame is aligned to the table's columns lazily and written by Spark: no row
        is collected. Arrow rows become a local DataFrame (empty ones write nothing and
        return False). Returns False, writing nothing, when a snapshot already carries
        the key; True once the write is committed.
        """
        check_batch_key(batch_key)
        with self._lock(name):
            columns = self.columns(name)
            if is_arrow(rows):
                arrow: pa.Table = rows
                frame = align(self._arrow_frame(arrow), columns)  # checks even 0 rows
                if arrow.num_rows == 0:
                    return False
            else:
                frame = align(rows, columns)
            if self.has_batch(name, batch_key):
                return False
            self._write(frame, name, batch_key)
            return True

    def _write(self, frame: DataFrame, name: str, batch_key: str) -> None:
        """One Iceberg append of ``frame``, its snapshot stamped with ``batch_key``."""
        frame.writeTo(self.ident(name)).option(SNAPSHOT_KEY_OPTION, batch_key).append()

    def _arrow_frame(self, rows: pa.Table) -> DataFrame:
        data = arrow_for_spark(rows)
        if data.num_rows == 0:  # only the schema matters: no rows are shipped
            from pyspark.sql.pandas.types import from_arrow_schema

            return self.spark.createDataFrame([], from_arrow_schema(data.schema))
        return self.spark.createDataFrame(data)

    def has_batch(self, name: str, batch_key: str) -> bool:
        """Whether a snapshot of the table carries ``batch_key`` (its ``snapshots`` table)."""
        check_batch_key(batch_key)
        return bool(self._sql(has_batch_sql(self.snapshots_ident(name)), key=batch_key).collect())

    def read(self, name: str, snapshot_id: int | None = None) -> pa.Table:
        """All rows of the table as Arrow (brought to the driver: for checks, not the stream)."""
        return self.frame(name, snapshot_id).toArrow()

    def snapshots(self, name: str) -> list[dict[str, Any]]:
        """Snapshots of the table, oldest first, from its ``snapshots`` metadata table."""
        out = []
        for row in self._sql(snapshots_sql(self.snapshots_ident(name))).collect():
            summary = dict(row["summary"] or {})
            out.append(
                {
                    "id": row["snapshot_id"],
                    "parent_id": row["parent_id"],
                    "timestamp_ms": int(row["committed_at"].timestamp() * 1000),
                    "operation": row["operation"],
                    "batch_key": summary.get(BATCH_KEY_PROPERTY),
                    "added_rows": int(summary.get("added-records", 0)),
                }
            )
        return out

    def tables(self) -> list[str]:
        """Names of the tables in the namespace, sorted (``SHOW TABLES``)."""
        rows = self._sql(f"SHOW TABLES IN {quote(self.catalog, self.namespace)}").collect()
        return sorted(r["tableName"] for r in rows if not r["isTemporary"])


def describe_partitioning_rows(rows: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The partitioning in ``DESCRIBE TABLE`` rows ``(col_name, data_type)``.

    A v2 table (Iceberg) lists ``# Partitioning`` then ``Part 0 | days(ts)``; a session
    catalog table lists ``# Partition Information``, ``# col_name``, then its columns.
    """
    out: list[tuple[str, str]] = []
    section = ""
    for col_name, data_type in rows:
        name, value = col_name.strip(), data_type.strip()
        if name == "# col_name":
            continue
        if name.startswith("#") or not name:
            section = name
            continue
        if section == "# Partitioning" and name.startswith("Part "):
            value = value.replace("`", "")
            if value.startswith("identity(") and value.endswith(")"):
                value = value[len("identity(") : -1]
            out.append(parse_partition(value))
        elif section == "# Partition Information":
            out.append((name.replace("`", ""), "identity"))
    return tuple(out)
