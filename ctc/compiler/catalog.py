"""The catalog: every name and kind the compiler, the lake and the reports agree on.

* the sources a spec reads: their views, columns, event-time and id columns;
* the lake's own tables (core and ingest) and which names a spec may not take;
* the column types a plan or a lake table may have;
* the partition syntax of ``output.partition_by`` and the lake's tables;
* the alert severities.

Other modules read these from here (``ctc.sinks.lake.tables`` declares the lake tables
with these names and types; the JSON Schema of a spec is checked against them by a
test). This module imports nothing heavier than :mod:`ctc.events`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ctc.events import ALERT_FIELDS, ONCHAIN_EVENT_FIELDS, TRADE_EVENT_FIELDS

# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class SourceSchema:
    """A source's view name, columns, event-time column and row id column."""

    view: str
    columns: dict[str, str]
    time_column: str | None
    id_column: str | None


STREAMS: dict[str, SourceSchema] = {
    "trades": SourceSchema("trades", dict(TRADE_EVENT_FIELDS), "timestamp", "event_id"),
    "chain_events": SourceSchema(
        "chain_events", dict(ONCHAIN_EVENT_FIELDS), "block_timestamp", "event_id"
    ),
}

ALERTS = SourceSchema("alerts", dict(ALERT_FIELDS), "detected_at", "alert_id")

#: Views every run shares: the input streams and the alert stream.
SHARED_VIEWS: tuple[str, ...] = (*STREAMS, ALERTS.view)

# --------------------------------------------------------------------------- lake tables

#: Every alert of every module, with its provenance.
ANOMALY_ALERTS_TABLE: Final = "anomaly_alerts"
#: Every trade that passed the quality gate.
RAW_TRADES_TABLE: Final = "raw_trades"
#: Every record the quality gates rejected.
DEAD_LETTERS_TABLE: Final = "dead_letters"
#: Trade-id gaps the ingest process found (created with the first gap record).
GAPS_TABLE: Final = "gaps"

#: The lake's core tables, independent of which detector modules run
#: (``ctc.sinks.lake.tables.CORE_TABLES`` declares them).
CORE_LAKE_TABLES: tuple[str, ...] = (ANOMALY_ALERTS_TABLE, RAW_TRADES_TABLE, DEAD_LETTERS_TABLE)

#: Every lake table ctc writes itself; the others are the modules' tables, one per
#: detector (its ``output.table``).
OWN_LAKE_TABLES: tuple[str, ...] = (*CORE_LAKE_TABLES, GAPS_TABLE)


def reserved_name_problem(name: str, what: str) -> str | None:
    """Why ``name`` may not name a spec's own view (``what``: an output table or a
    reference), or None.

    Shared views and ctc's own lake tables are reserved, and so is every name with
    ``__``: each detector's stage views are ``<name>__<stage>``. A spec defining one of
    these would replace what other detectors read (fake trades, forged alerts), or write
    its rows into a table of ctc's own.
    """
    if name in SHARED_VIEWS or name in OWN_LAKE_TABLES:
        return (
            f"{what} name '{name}' is reserved: it is a shared view or one of ctc's own "
            f"lake tables ({', '.join(SHARED_VIEWS + OWN_LAKE_TABLES)})"
        )
    if "__" in name:
        return (
            f"{what} name '{name}' may not contain '__': names with '__' are "
            "reserved for detectors' stage views (<name>__<stage>)"
        )
    return None


# --------------------------------------------------------------------------- column types

#: The Spark SQL types a column of a plan or of a lake table may have (canonical names).
COLUMN_TYPES: tuple[str, ...] = (
    "string",
    "double",
    "float",
    "bigint",
    "int",
    "boolean",
    "timestamp",
    "date",
)

#: Other spellings of :data:`COLUMN_TYPES` the lake accepts, by their canonical name.
TYPE_ALIASES: Final = {"long": "bigint", "integer": "int"}

#: The column types that hold numbers.
NUMERIC_TYPES: frozenset[str] = frozenset({"double", "float", "bigint", "int"})

#: The column types that hold times, and the partition transforms each allows.
TIME_TYPES: frozenset[str] = frozenset({"timestamp", "date"})


def canonical_type(name: str) -> str | None:
    """The canonical name of a column type (``long`` → ``bigint``), or None when it is
    not a column type."""
    key = name.strip().lower()
    key = TYPE_ALIASES.get(key, key)
    return key if key in COLUMN_TYPES else None


# --------------------------------------------------------------------------- partitions

#: Partition transforms ``partition_by`` accepts as ``name(column)``, besides a bare column.
PARTITION_TRANSFORMS: tuple[str, ...] = ("year", "month", "day", "hour")

#: Spark's names of the transforms in DDL (``PARTITIONED BY (days(ts))``), by ctc's (``day``);
#: ``parse_partition`` reads them too.
SPARK_TRANSFORM_NAMES: Final = {t: f"{t}s" for t in PARTITION_TRANSFORMS}

#: The transforms that need a timestamp column (the others take a date too).
TIMESTAMP_ONLY_TRANSFORMS: frozenset[str] = frozenset({"hour"})

#: A spec's ``partition_by`` item, as the JSON Schema writes it (a test keeps them equal).
PARTITION_ITEM_PATTERN: Final = (
    r"^(([a-z_][a-z0-9_]*)|((" + "|".join(PARTITION_TRANSFORMS) + r")\([a-z_][a-z0-9_]*\)))$"
)

_PARTITION_RE = re.compile(r"^\s*(?:(\w+)\s*\(\s*(\w+)\s*\)|(\w+))\s*$")


def parse_partition(item: str) -> tuple[str, str]:
    """Split a ``partition_by`` item into ``(column, transform)``; ValueError when malformed.

    ``symbol`` → ``("symbol", "identity")``; ``day(detected_at)`` (or Spark's
    ``days(detected_at)``) → ``("detected_at", "day")``; likewise year, month, hour.
    """
    m = _PARTITION_RE.match(item)
    if not m:
        raise ValueError(f"bad partition item {item!r}: use a column or day(column)")
    if m.group(3):
        return m.group(3), "identity"
    fn = m.group(1).lower()
    fn = fn[:-1] if fn.endswith("s") and fn[:-1] in PARTITION_TRANSFORMS else fn
    if fn not in PARTITION_TRANSFORMS:
        raise ValueError(
            f"bad partition item {item!r}: transform {fn!r} is not one of "
            f"{', '.join(PARTITION_TRANSFORMS)} (or a bare column for identity)"
        )
    return m.group(2), fn


def partition_type_problem(item: str, column: str, transform: str, type_name: str) -> str | None:
    """Why ``transform`` cannot partition the column ``column`` of type ``type_name`` (the
    item ``item``), or None."""
    if transform in TIMESTAMP_ONLY_TRANSFORMS and type_name != "timestamp":
        return (
            f"partition {item!r}: {column!r} is {type_name}, "
            f"but {transform}() needs a timestamp column"
        )
    if transform != "identity" and type_name not in TIME_TYPES:
        return (
            f"partition {item!r}: {column!r} is {type_name}, "
            f"but {transform}() needs a timestamp or date column"
        )
    return None


# --------------------------------------------------------------------------- severities

#: Alert severities, least severe first: a spec's severity levels.
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")

#: :data:`SEVERITIES`, most severe first: the order of reports.
SEVERITIES_MOST_FIRST: tuple[str, ...] = tuple(reversed(SEVERITIES))
