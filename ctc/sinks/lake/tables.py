"""The lake's tables as declarations: names, columns, partitioning, and their checks.

Types are Spark SQL type names (as in ``ctc.events`` and the compiled plans); Spark's
``timestamp`` (an instant) is Iceberg's ``timestamptz``, stored as microseconds in UTC.
Nothing here needs pyiceberg or Spark: both lakes build on these declarations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import pyarrow as pa

from ctc.compiler.catalog import (
    ANOMALY_ALERTS_TABLE,
    COLUMN_TYPES,
    DEAD_LETTERS_TABLE,
    GAPS_TABLE,
    RAW_TRADES_TABLE,
    TYPE_ALIASES,
    canonical_type,
    partition_type_problem,
)
from ctc.compiler.catalog import parse_partition as parse_catalog_partition
from ctc.events import GAP_FIELDS, STORED_ALERT_FIELDS, TRADE_EVENT_FIELDS
from ctc.sinks.lake.base import LakeSchemaError, check_name

if TYPE_CHECKING:
    from ctc.compiler.plan import Plan
    from ctc.sinks.lake.base import Lake

#: Spark SQL type names the lake accepts, with their aliases (ctc.compiler.catalog).
SPARK_TYPES: Final = (*COLUMN_TYPES, *TYPE_ALIASES)

#: Arrow type every timestamp column is written as.
ARROW_TIMESTAMP: Final = pa.timestamp("us", tz="UTC")

#: Type changes Iceberg allows in place (old → new), by canonical Spark type name.
PROMOTIONS: Final = {("int", "bigint"), ("float", "double")}

#: Which kinds of source values may be written into a column of which kind (a double
#: into a bigint column must be whole and in range).
WRITABLE: Final = {
    "string": {"string"},
    "boolean": {"boolean"},
    "integer": {"integer", "float"},
    "float": {"integer", "float", "decimal"},
    "timestamp": {"timestamp", "date"},
    "date": {"date"},
}


@dataclass(frozen=True)
class TableDef:
    """A lake table's name, columns ``(name, Spark SQL type)`` and partitioning."""

    name: str
    columns: tuple[tuple[str, str], ...]
    partition_by: tuple[str, ...] = ()


#: Every alert of every module (MODULES.md: base alert record), with its provenance; a
#: table made before the provenance columns gets them from ``ensure_table`` (its older
#: rows read them as null).
ANOMALY_ALERTS: Final = TableDef(
    ANOMALY_ALERTS_TABLE,
    tuple(STORED_ALERT_FIELDS.items()),
    ("day(detected_at)", "alert_type"),
)

#: Every trade that passed the quality gate, flagged late / quote-volume warning.
RAW_TRADES: Final = TableDef(
    RAW_TRADES_TABLE,
    (*TRADE_EVENT_FIELDS.items(), ("is_late", "boolean"), ("quote_warning", "boolean")),
    ("day(timestamp)", "symbol"),
)

#: Records the quality gate rejected (incomplete, invalid, malformed), with their raw text.
DEAD_LETTERS: Final = TableDef(
    DEAD_LETTERS_TABLE,
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

#: Trade-id gaps the ingest process found (docs/ingest.md), filled or not; created when
#: the first gap record arrives (ctc.runtime.gap_records).
GAPS: Final = TableDef(GAPS_TABLE, tuple(GAP_FIELDS.items()), ("day(detected_at)", "exchange"))

#: The core tables, independent of which detector modules run.
CORE_TABLES: Final = (ANOMALY_ALERTS, RAW_TRADES, DEAD_LETTERS)


# --------------------------------------------------------------------------- types


def spark_type(name: str) -> str:
    """The canonical Spark SQL name of a column type (``long`` → ``bigint``)."""
    canonical = canonical_type(name) if isinstance(name, str) else None
    if canonical is None:
        raise LakeSchemaError(
            f"unsupported column type {name!r}; use one of {', '.join(SPARK_TYPES)}"
        )
    return canonical


def column_kind(spark_name: str) -> str:
    """The kind of a canonical Spark type, as :data:`WRITABLE` names it."""
    if spark_name in ("bigint", "int"):
        return "integer"
    if spark_name in ("double", "float"):
        return "float"
    return spark_name


# --------------------------------------------------------------------------- partitions


def parse_partition(item: str) -> tuple[str, str]:
    """Split a ``partition_by`` item into ``(column, transform)``
    (:func:`ctc.compiler.catalog.parse_partition`); LakeSchemaError when malformed."""
    try:
        return parse_catalog_partition(item)
    except ValueError as exc:
        raise LakeSchemaError(str(exc)) from exc


def partition_field_name(column: str, transform: str) -> str:
    """Iceberg/Spark's default partition field name: ``detected_at_day``, ``symbol``."""
    return column if transform == "identity" else f"{column}_{transform}"


def describe_partitioning(pairs: Iterable[tuple[str, str]]) -> str:
    """``(column, transform)`` pairs as text: ``day(ts), symbol`` or ``unpartitioned``."""
    parts = [c if t == "identity" else f"{t}({c})" for c, t in pairs]
    return ", ".join(parts) or "unpartitioned"


# --------------------------------------------------------------------------- checks


def validate(table: TableDef) -> tuple[tuple[str, str], ...]:
    """Check a declaration; return its partitioning as ``(column, transform)`` pairs.

    Raises :class:`LakeError` for a bad table name and :class:`LakeSchemaError` for an
    empty or repeated column name, an unsupported type, or a partition item that is
    malformed, names no column, repeats a field or applies a time transform to a column
    that is not a timestamp (or, except for ``hour``, a date).
    """
    check_name(table.name)
    types: dict[str, str] = {}
    for name, type_name in table.columns:
        if not name or name in types:
            raise LakeSchemaError(f"column name {name!r} is empty or repeated")
        types[name] = spark_type(type_name)
    pairs: list[tuple[str, str]] = []
    fields: set[str] = set()
    for item in table.partition_by:
        column, transform = parse_partition(item)
        if column not in types:
            raise LakeSchemaError(
                f"partition {item!r}: no column {column!r} among the table's columns"
            )
        problem = partition_type_problem(item, column, transform, types[column])
        if problem:
            raise LakeSchemaError(problem)
        field = partition_field_name(column, transform)
        if field in fields:
            raise LakeSchemaError(f"partition {item!r} repeats {field!r}")
        fields.add(field)
        pairs.append((column, transform))
    return tuple(pairs)


@dataclass(frozen=True)
class Evolution:
    """What :func:`evolution` found to change: columns to add and columns to widen."""

    add: tuple[tuple[str, str], ...]
    widen: tuple[tuple[str, str], ...]


def evolution(
    table: TableDef,
    have_columns: Sequence[tuple[str, str]],
    have_partitioning: Sequence[tuple[str, str]],
) -> Evolution:
    """How an existing table (its canonical Spark column types and partitioning) must
    change to hold ``table``; LakeSchemaError when it cannot change in place."""
    wanted = validate(table)
    if tuple(wanted) != tuple(have_partitioning):
        raise LakeSchemaError(
            f"table {table.name}: partitioned by [{describe_partitioning(have_partitioning)}], "
            f"declared [{describe_partitioning(wanted)}]; repartitioning is not automatic "
            "(evolve the spec by hand, or write a new table)"
        )
    have = dict(have_columns)
    add: list[tuple[str, str]] = []
    widen: list[tuple[str, str]] = []
    problems: list[str] = []
    for name, type_name in table.columns:
        declared = spark_type(type_name)
        old = have.get(name)
        if old is None:
            add.append((name, declared))
        elif old == declared:
            continue
        elif (old, declared) in PROMOTIONS:
            widen.append((name, declared))
        else:
            problems.append(f"{name}: table has {old}, declared {declared}")
    if problems:
        raise LakeSchemaError(
            f"table {table.name}: incompatible column types ({'; '.join(problems)}); only "
            "int → bigint and float → double change in place"
        )
    return Evolution(tuple(add), tuple(widen))


# --------------------------------------------------------------------------- set-up


def ensure_core_tables(lake: Lake) -> list[str]:
    """Create (or check) ``anomaly_alerts``, ``raw_trades`` and ``dead_letters``."""
    for t in CORE_TABLES:
        lake.ensure_table(t)
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
            lake.ensure_table(t)
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
