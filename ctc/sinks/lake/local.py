"""The lake: Iceberg tables for raw trades, alerts, dead letters and every module's output.

Locally the catalog is pyiceberg's ``SqlCatalog`` on SQLite with a warehouse folder;
on EMR the same tables live in the Glue Data Catalog with data in S3 (see
:func:`spark_iceberg_conf` and docs/lake.md).

Writes are idempotent per ``(table, batch_key)``: every append stamps its snapshot with
the summary property ``ctc.batch_key``, and an append whose key is already on a snapshot
of the table does nothing. A Structured Streaming ``foreachBatch`` that is replayed after
a restart therefore never doubles rows, as long as it derives the key from the query and
the batch id.

Types are Spark SQL type names (as in ``ctc.events`` and the compiled plans); Spark's
``timestamp`` (an instant) is Iceberg's ``timestamptz``, stored as microseconds in UTC.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa

from ctc.events import ALERT_FIELDS, TRADE_EVENT_FIELDS

if TYPE_CHECKING:
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.partitioning import PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.types import IcebergType

    from ctc.compiler.plan import Plan

#: The Iceberg namespace (a Glue database in AWS) holding every ctc table.
NAMESPACE: Final = "ctc"

#: Snapshot summary property carrying the writer's batch key.
BATCH_KEY_PROPERTY: Final = "ctc.batch_key"

#: Spark SQL type names the lake accepts, with their aliases.
SPARK_TYPES: Final = (
    "string",
    "double",
    "float",
    "bigint",
    "long",
    "int",
    "integer",
    "boolean",
    "timestamp",
    "date",
)

#: Partition transforms accepted in ``partition_by`` as ``name(column)``.
TRANSFORMS: Final = ("year", "month", "day", "hour")

#: Arrow type every timestamp column is written as.
ARROW_TIMESTAMP: Final = pa.timestamp("us", tz="UTC")

_COMMIT_RETRIES: Final = 5

#: One lock per (warehouse, table) for the whole process, shared by every Lake object.
_TABLE_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_TABLE_LOCKS_GUARD = threading.Lock()


class LakeError(Exception):
    """A lake operation failed (unknown table or snapshot, bad batch key, ...)."""


class LakeSchemaError(LakeError, ValueError):
    """Declared columns, partitioning or appended rows do not fit a table."""


@dataclass(frozen=True)
class TableDef:
    """A lake table's name, columns ``(name, Spark SQL type)`` and partitioning."""

    name: str
    columns: tuple[tuple[str, str], ...]
    partition_by: tuple[str, ...] = ()


#: Every alert of every module (MODULES.md: base alert record).
ANOMALY_ALERTS: Final = TableDef(
    "anomaly_alerts",
    tuple(ALERT_FIELDS.items()),
    ("day(detected_at)", "alert_type"),
)

#: Every trade that passed the quality gate, flagged late / quote-volume warning.
RAW_TRADES: Final = TableDef(
    "raw_trades",
    (*TRADE_EVENT_FIELDS.items(), ("is_late", "boolean"), ("quote_warning", "boolean")),
    ("day(timestamp)", "symbol"),
)

#: Records the quality gate rejected (incomplete, invalid, malformed), with their raw text.
DEAD_LETTERS: Final = TableDef(
    "dead_letters",
    (
        ("reason", "string"),
        ("rule", "string"),
        ("detail", "string"),
        ("event_id", "string"),
        ("raw", "string"),
        ("source_file", "string"),
        ("received_at", "timestamp"),
        ("batch_id", "bigint"),
    ),
    ("reason", "day(received_at)"),
)

#: The core tables, independent of which detector modules run.
CORE_TABLES: Final = (ANOMALY_ALERTS, RAW_TRADES, DEAD_LETTERS)


# --------------------------------------------------------------------------- types


def iceberg_type(spark_type: str) -> IcebergType:
    """The Iceberg type of a Spark SQL type name (``timestamp`` → ``timestamptz``)."""
    from pyiceberg.types import (
        BooleanType,
        DateType,
        DoubleType,
        FloatType,
        IntegerType,
        LongType,
        StringType,
        TimestamptzType,
    )

    mapping: dict[str, IcebergType] = {
        "string": StringType(),
        "double": DoubleType(),
        "float": FloatType(),
        "bigint": LongType(),
        "long": LongType(),
        "int": IntegerType(),
        "integer": IntegerType(),
        "boolean": BooleanType(),
        "timestamp": TimestamptzType(),
        "date": DateType(),
    }
    key = spark_type.strip().lower()
    if key not in mapping:
        raise LakeSchemaError(
            f"unsupported column type {spark_type!r}; use one of {', '.join(SPARK_TYPES)}"
        )
    return mapping[key]


def _spark_name(t: IcebergType) -> str:
    """Spark SQL name of an Iceberg type, for messages."""
    names = {
        "string": "string",
        "double": "double",
        "float": "float",
        "long": "bigint",
        "int": "int",
        "boolean": "boolean",
        "timestamptz": "timestamp",
        "timestamp": "timestamp_ntz",
        "date": "date",
    }
    return names.get(str(t), str(t))


#: Type changes Iceberg allows in place (old → new), by Iceberg type string.
_PROMOTIONS: Final = {("int", "long"), ("float", "double")}


_PARTITION_RE = re.compile(r"^\s*(?:(\w+)\s*\(\s*(\w+)\s*\)|(\w+))\s*$")


def parse_partition(item: str) -> tuple[str, str]:
    """Split a ``partition_by`` item into ``(column, transform)``.

    ``symbol`` → ``("symbol", "identity")``; ``day(detected_at)`` (or Spark's
    ``days(detected_at)``) → ``("detected_at", "day")``; likewise year, month, hour.
    """
    m = _PARTITION_RE.match(item)
    if not m:
        raise LakeSchemaError(f"bad partition item {item!r}: use a column or day(column)")
    if m.group(3):
        return m.group(3), "identity"
    fn = m.group(1).lower()
    fn = fn[:-1] if fn.endswith("s") and fn[:-1] in TRANSFORMS else fn
    if fn not in TRANSFORMS:
        raise LakeSchemaError(
            f"bad partition item {item!r}: transform {fn!r} is not one of "
            f"{', '.join(TRANSFORMS)} (or a bare column for identity)"
        )
    return m.group(2), fn


def _partition_field_name(column: str, transform: str) -> str:
    """Iceberg/Spark's default partition field name: ``detected_at_day``, ``symbol``."""
    return column if transform == "identity" else f"{column}_{transform}"


def build_schema(columns: Sequence[tuple[str, str]]) -> Schema:
    """An Iceberg schema of optional fields from ``(name, Spark SQL type)`` pairs."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import NestedField

    seen: set[str] = set()
    fields = []
    for i, (name, spark_type) in enumerate(columns, start=1):
        if not name or name in seen:
            raise LakeSchemaError(f"column name {name!r} is empty or repeated")
        seen.add(name)
        fields.append(
            NestedField(field_id=i, name=name, field_type=iceberg_type(spark_type), required=False)
        )
    return Schema(*fields)


def build_partition_spec(schema: Schema, partition_by: Sequence[str]) -> PartitionSpec:
    """The partition spec of ``partition_by`` over ``schema``, checked for sense."""
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.transforms import (
        DayTransform,
        HourTransform,
        IdentityTransform,
        MonthTransform,
        Transform,
        YearTransform,
    )
    from pyiceberg.types import DateType, TimestampType, TimestamptzType

    transforms: dict[str, Transform[Any, Any]] = {
        "identity": IdentityTransform(),
        "year": YearTransform(),
        "month": MonthTransform(),
        "day": DayTransform(),
        "hour": HourTransform(),
    }
    fields = []
    names: set[str] = set()
    for i, item in enumerate(partition_by):
        column, transform = parse_partition(item)
        try:
            source = schema.find_field(column)
        except ValueError:
            raise LakeSchemaError(
                f"partition {item!r}: no column {column!r} among the table's columns"
            ) from None
        temporal = (TimestamptzType, TimestampType, DateType)
        if transform in ("year", "month", "day") and not isinstance(source.field_type, temporal):
            raise LakeSchemaError(
                f"partition {item!r}: {column!r} is {_spark_name(source.field_type)}, "
                f"but {transform}() needs a timestamp or date column"
            )
        if transform == "hour" and not isinstance(
            source.field_type, TimestamptzType | TimestampType
        ):
            raise LakeSchemaError(
                f"partition {item!r}: {column!r} is {_spark_name(source.field_type)}, "
                "but hour() needs a timestamp column"
            )
        name = _partition_field_name(column, transform)
        if name in names:
            raise LakeSchemaError(f"partition {item!r} repeats {name!r}")
        names.add(name)
        fields.append(
            PartitionField(
                source_id=source.field_id,
                field_id=1000 + i,
                transform=transforms[transform],
                name=name,
            )
        )
    return PartitionSpec(*fields)


def _spec_signature(table: Table) -> tuple[tuple[str, str], ...]:
    """A table's current partitioning as ``(column, transform)`` pairs."""
    schema = table.schema()
    out = []
    for f in table.spec().fields:
        transform = str(f.transform)
        out.append((schema.find_column_name(f.source_id) or "?", transform))
    return tuple(out)


def _describe_spec(sig: Iterable[tuple[str, str]]) -> str:
    parts = [c if t == "identity" else f"{t}({c})" for c, t in sig]
    return ", ".join(parts) or "unpartitioned"


# --------------------------------------------------------------------------- rows


def _arrow_kind(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        return _arrow_kind(t.value_type)
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    return str(t)


#: Which source kinds may be cast to which target kinds.
_ALLOWED: Final = {
    "string": {"string"},
    "boolean": {"boolean"},
    "integer": {"integer", "float"},  # a double must be whole and in range (safe cast)
    "float": {"integer", "float", "decimal"},
    "timestamp": {"timestamp", "date"},
    "date": {"date"},
}


def _convert(
    name: str, column: pa.ChunkedArray, target: pa.DataType, n: int
) -> pa.ChunkedArray | pa.Array:
    """Cast one column to its table type, or raise LakeSchemaError saying why not."""
    source = column.type
    src_kind, dst_kind = _arrow_kind(source), _arrow_kind(target)
    if src_kind == "null":
        return pa.nulls(n, type=target)
    if src_kind not in _ALLOWED.get(dst_kind, {dst_kind}):
        raise LakeSchemaError(
            f"column {name!r}: cannot write Arrow {source} into a {dst_kind} column"
        )
    if pa.types.is_dictionary(source):
        column = column.cast(source.value_type)
        source = column.type
    if dst_kind == "timestamp":
        if pa.types.is_timestamp(source):
            # a tz-aware timestamp is already an instant: relabelling it UTC keeps the
            # instant; a naive one is read as UTC (Spark's session zone is UTC).
            if source.tz is None or source.unit != "us":
                column = column.cast(pa.timestamp(source.unit, tz="UTC"))
            # ns → us drops the nanoseconds (Iceberg v2 stores microseconds)
            return column.cast(target, safe=False)
        return column.cast(target)  # date → midnight UTC
    try:
        return column.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise LakeSchemaError(f"column {name!r}: cannot cast {source} to {target}: {exc}") from exc


def conform(rows: pa.Table, schema: Schema) -> pa.Table:
    """``rows`` cast to the Arrow form of the Iceberg ``schema``.

    Timestamps become ``timestamp[us, tz=UTC]`` whatever their unit or zone (naive ones
    are taken as UTC; nanoseconds are truncated); integers and floats are cast to the
    declared width (safely: overflow or a lost fraction is an error); columns of the
    table missing from ``rows`` are null; a column of ``rows`` the table lacks is an error.
    """
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    target_schema = schema_to_pyarrow(schema, include_field_ids=False)
    names = rows.column_names
    if len(set(names)) != len(names):
        dup = sorted({c for c in names if names.count(c) > 1})
        raise LakeSchemaError(f"rows repeat columns {dup}")
    extra = [c for c in names if c not in target_schema.names]
    if extra:
        raise LakeSchemaError(
            f"rows have columns the table lacks: {extra}; add them with ensure_table first"
        )
    n = rows.num_rows
    arrays = []
    for field in target_schema:
        if field.name in names:
            arrays.append(_convert(field.name, rows.column(field.name), field.type, n))
        else:
            arrays.append(pa.nulls(n, type=field.type))
    nullable = pa.schema([f.with_nullable(True) for f in target_schema])
    return pa.Table.from_arrays(arrays, schema=nullable)


# --------------------------------------------------------------------------- the lake


class Lake:
    """The ctc Iceberg tables in one catalog (locally: SQLite + a warehouse folder).

    Safe to share between threads (e.g. concurrent ``foreachBatch`` callbacks of several
    streaming queries): appends to one table are serialised within the process (across
    all Lake objects on the same warehouse), so check-key-then-append is atomic there.
    A commit that loses a race with another process is retried by pyiceberg (rebased on
    the new snapshot); that rebase does not re-check the key, so two *processes* must not
    write the same batch key to the same table at once (Spark already refuses to run one
    streaming checkpoint twice).
    """

    def __init__(self, warehouse: Path) -> None:
        """Open (creating if needed) the catalog in ``warehouse`` and the ``ctc`` namespace."""
        from pyiceberg.catalog.sql import SqlCatalog

        self.warehouse = Path(warehouse).resolve()
        self.warehouse.mkdir(parents=True, exist_ok=True)
        self.catalog: SqlCatalog = SqlCatalog(
            NAMESPACE,
            uri=f"sqlite:///{self.warehouse}/catalog.db",
            warehouse=self.warehouse.as_uri(),
        )
        self.catalog.create_namespace_if_not_exists(NAMESPACE)

    # -- helpers

    def _lock(self, name: str) -> threading.Lock:
        with _TABLE_LOCKS_GUARD:
            return _TABLE_LOCKS.setdefault((str(self.warehouse), name), threading.Lock())

    @staticmethod
    def _identifier(name: str) -> tuple[str, str]:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name or ""):
            raise LakeError(f"bad table name {name!r}: letters, digits and _ only")
        return (NAMESPACE, name)

    def table(self, name: str) -> Table:
        """The pyiceberg ``Table`` ``ctc.<name>``, freshly loaded."""
        from pyiceberg.exceptions import NoSuchTableError

        try:
            return self.catalog.load_table(self._identifier(name))
        except NoSuchTableError:
            raise LakeError(f"no lake table {NAMESPACE}.{name}") from None

    # -- interface

    def ensure_table(
        self, name: str, columns: Sequence[tuple[str, str]], partition_by: Sequence[str] = ()
    ) -> None:
        """Create ``ctc.<name>`` with these columns and partitioning, or check the existing one.

        Idempotent. An existing table is evolved: declared columns it lacks are added
        (optional, at the end); columns it has but the declaration omits are kept (never
        dropped); a column's type may widen as Iceberg allows (int → bigint, float →
        double). Any other type change, or different partitioning, raises
        :class:`LakeSchemaError` and leaves the table unchanged.
        """
        schema = build_schema(columns)
        spec = build_partition_spec(schema, partition_by)  # validates before touching anything
        ident = self._identifier(name)
        with self._lock(name):
            from pyiceberg.exceptions import NoSuchTableError, TableAlreadyExistsError

            try:
                table = self.catalog.load_table(ident)
            except NoSuchTableError:
                try:
                    self.catalog.create_table(ident, schema=schema, partition_spec=spec)
                    return
                except TableAlreadyExistsError:  # created by another process meanwhile
                    table = self.catalog.load_table(ident)
            self._evolve(table, name, schema, partition_by)

    def _evolve(self, table: Table, name: str, schema: Schema, partition_by: Sequence[str]) -> None:
        current = table.schema()
        wanted = tuple(parse_partition(p) for p in partition_by)
        have = _spec_signature(table)
        if wanted != have:
            raise LakeSchemaError(
                f"table {name}: partitioned by [{_describe_spec(have)}], declared "
                f"[{_describe_spec(wanted)}]; repartitioning is not automatic "
                "(evolve the spec by hand, or write a new table)"
            )
        add: list[tuple[str, IcebergType]] = []
        widen: list[tuple[str, IcebergType]] = []
        problems: list[str] = []
        for field in schema.fields:
            try:
                old = current.find_field(field.name)
            except ValueError:
                add.append((field.name, field.field_type))
                continue
            if old.field_type == field.field_type:
                continue
            if (str(old.field_type), str(field.field_type)) in _PROMOTIONS:
                widen.append((field.name, field.field_type))
            else:
                problems.append(
                    f"{field.name}: table has {_spark_name(old.field_type)}, "
                    f"declared {_spark_name(field.field_type)}"
                )
        if problems:
            raise LakeSchemaError(
                f"table {name}: incompatible column types ({'; '.join(problems)}); only "
                "int → bigint and float → double change in place"
            )
        if not add and not widen:
            return
        with table.update_schema() as update:
            for col, typ in widen:
                update.update_column(col, field_type=typ)
            for col, typ in add:
                update.add_column(col, typ)

    def append(self, name: str, rows: pa.Table, batch_key: str) -> bool:
        """Append ``rows`` to ``ctc.<name>`` once per ``batch_key``.

        Returns False, writing nothing, when a snapshot of the table already carries
        ``ctc.batch_key == batch_key`` or when ``rows`` is empty; otherwise appends
        ``rows`` cast to the table's schema (see :func:`conform`) as one snapshot stamped
        with the key, and returns True. Raises :class:`LakeSchemaError` if the rows do
        not fit (checked even for empty rows).
        """
        from pyiceberg.exceptions import CommitFailedException

        if not isinstance(batch_key, str) or not batch_key:
            raise LakeError(f"batch_key must be a non-empty string, not {batch_key!r}")
        with self._lock(name):
            table = self.table(name)
            data = conform(rows, table.schema())
            if data.num_rows == 0:
                return False
            for attempt in range(_COMMIT_RETRIES):
                if self._has_batch(table, batch_key):
                    return False
                try:
                    table.append(data, snapshot_properties={BATCH_KEY_PROPERTY: batch_key})
                    return True
                except CommitFailedException:
                    if attempt == _COMMIT_RETRIES - 1:
                        raise
                    time.sleep(0.05 * (attempt + 1))
                    table = self.table(name)
                    data = conform(rows, table.schema())
        return False  # pragma: no cover - the loop returns or raises

    @staticmethod
    def _has_batch(table: Table, batch_key: str) -> bool:
        return any(
            s.summary is not None and s.summary[BATCH_KEY_PROPERTY] == batch_key
            for s in table.snapshots()
        )

    def has_batch(self, name: str, batch_key: str) -> bool:
        """Whether a snapshot of ``ctc.<name>`` carries ``batch_key``."""
        return self._has_batch(self.table(name), batch_key)

    def read(self, name: str, snapshot_id: int | None = None) -> pa.Table:
        """All rows of ``ctc.<name>``, as of ``snapshot_id`` if given (time travel)."""
        table = self.table(name)
        if snapshot_id is not None and table.snapshot_by_id(snapshot_id) is None:
            raise LakeError(f"table {name} has no snapshot {snapshot_id}")
        return table.scan(snapshot_id=snapshot_id).to_arrow()

    def snapshots(self, name: str) -> list[dict[str, Any]]:
        """Snapshots of ``ctc.<name>``, oldest first.

        Each is ``{"id", "parent_id", "timestamp_ms", "operation", "batch_key",
        "added_rows"}``; ``batch_key`` is None for snapshots not written by :meth:`append`.
        """
        out = []
        for s in self.table(name).snapshots():
            summary = s.summary
            added = summary["added-records"] if summary is not None else None
            out.append(
                {
                    "id": s.snapshot_id,
                    "parent_id": s.parent_snapshot_id,
                    "timestamp_ms": s.timestamp_ms,
                    "operation": summary.operation.value if summary is not None else None,
                    "batch_key": summary[BATCH_KEY_PROPERTY] if summary is not None else None,
                    "added_rows": int(added) if added is not None else 0,
                }
            )
        return sorted(out, key=lambda d: d["timestamp_ms"])

    def tables(self) -> list[str]:
        """Names of the tables in the ``ctc`` namespace, sorted."""
        return sorted(ident[-1] for ident in self.catalog.list_tables(NAMESPACE))


# --------------------------------------------------------------------------- set-up


def ensure_core_tables(lake: Lake) -> list[str]:
    """Create (or check) ``anomaly_alerts``, ``raw_trades`` and ``dead_letters``."""
    for t in CORE_TABLES:
        lake.ensure_table(t.name, t.columns, t.partition_by)
    return [t.name for t in CORE_TABLES]


def plan_table(plan: Plan) -> TableDef:
    """The lake table a compiled plan writes its output rows to."""
    return TableDef(plan.output_table, tuple(plan.output_columns), tuple(plan.output_partition_by))


def ensure_plan_tables(lake: Lake, plans: Iterable[Plan], *, strict: bool = True) -> list[str]:
    """Create (or check/evolve) every plan's output table; return the names ensured.

    Every table that can be created is; the failures (e.g. a ``day()`` partition over a
    column the compiler typed as double) are then raised together as one
    :class:`LakeSchemaError`, or skipped when ``strict`` is False.
    """
    done: list[str] = []
    errors: list[str] = []
    for plan in plans:
        t = plan_table(plan)
        try:
            lake.ensure_table(t.name, t.columns, t.partition_by)
        except LakeSchemaError as exc:
            errors.append(f"{plan.module} ({plan.name}): {exc}")
            continue
        if t.name not in done:
            done.append(t.name)
    if errors and strict:
        raise LakeSchemaError(
            f"{len(errors)} plan table(s) could not be ensured:\n  " + "\n  ".join(errors)
        )
    return done


# --------------------------------------------------------------------------- AWS


#: Where EMR (Serverless) ships the Iceberg Spark runtime jar; add it to ``spark.jars``.
EMR_ICEBERG_JAR: Final = "/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar"


def spark_iceberg_conf(catalog: str, warehouse_s3: str, glue: bool = True) -> dict[str, str]:
    """Spark settings for an Iceberg catalog ``catalog`` over ``warehouse_s3`` (EMR).

    With ``glue`` the catalog is the AWS Glue Data Catalog (namespace ``ctc`` = Glue
    database ``ctc``); without, a Hadoop catalog (metadata in the warehouse only, no
    concurrent writers). Data and metadata go through ``S3FileIO``. Merge with other
    settings yourself if you set ``spark.sql.extensions`` elsewhere too; on EMR also add
    :data:`EMR_ICEBERG_JAR` to ``spark.jars`` if the release does not load it already.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", catalog or ""):
        raise ValueError(f"bad catalog name {catalog!r}: letters, digits and _ only")
    if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?", warehouse_s3 or ""):
        raise ValueError(f"warehouse must be an s3://bucket[/prefix] URI, not {warehouse_s3!r}")
    prefix = f"spark.sql.catalog.{catalog}"
    conf = {
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        f"{prefix}.warehouse": warehouse_s3,
        f"{prefix}.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
    }
    if glue:
        conf[f"{prefix}.catalog-impl"] = "org.apache.iceberg.aws.glue.GlueCatalog"
    else:
        conf[f"{prefix}.type"] = "hadoop"
    return conf
