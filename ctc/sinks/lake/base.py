"""The one lake interface every writer and reader of ctc's Iceberg tables uses.

Two implementations: :class:`ctc.sinks.lake.local.LocalLake` (pyiceberg on a SQLite
catalog, the default) and :class:`ctc.sinks.lake.spark_catalog.SparkCatalogLake` (Iceberg
through Spark's catalog: Glue on EMR). :func:`ctc.sinks.lake.factory.open_lake` picks one
from a URL.

Appends are idempotent per ``(table, batch_key)`` in both: the key is stamped on the
append's Iceberg snapshot as the summary property :data:`BATCH_KEY_PROPERTY`, and an
append whose key is already on a snapshot of the table writes nothing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias

import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from ctc.sinks.lake.tables import TableDef

#: The default Iceberg namespace (a Glue database in AWS) holding every ctc table.
NAMESPACE: Final = "ctc"

#: Snapshot summary property carrying the writer's batch key.
BATCH_KEY_PROPERTY: Final = "ctc.batch_key"

#: Rows to append: an Arrow table on the driver, or a Spark DataFrame.
Rows: TypeAlias = "pa.Table | DataFrame"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class LakeError(Exception):
    """A lake operation failed (unknown table or snapshot, bad batch key, bad URL, ...)."""


class LakeSchemaError(LakeError, ValueError):
    """Declared columns, partitioning or appended rows do not fit a table."""


def check_name(name: str, what: str = "table name") -> str:
    """``name`` if it is a plain identifier (letters, digits, ``_``); LakeError otherwise."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise LakeError(f"bad {what} {name!r}: letters, digits and _ only")
    return name


def check_batch_key(batch_key: str) -> str:
    """``batch_key`` if it is a non-empty string; LakeError otherwise."""
    if not isinstance(batch_key, str) or not batch_key:
        raise LakeError(f"batch_key must be a non-empty string, not {batch_key!r}")
    return batch_key


def is_arrow(rows: Rows) -> bool:
    """Whether ``rows`` is an Arrow table (on the driver) rather than a Spark DataFrame."""
    return isinstance(rows, pa.Table)


class Lake(Protocol):
    """ctc's Iceberg tables in one catalog namespace."""

    #: True when :meth:`append` writes a Spark DataFrame without bringing its rows to the
    #: driver (the Spark catalog); False when it would collect it (pyiceberg), so callers
    #: holding the same rows as Arrow should pass those instead.
    writes_frames: bool

    def ensure_table(self, table: TableDef) -> None:
        """Create the table as declared, or check and evolve the existing one.

        Idempotent. Declared columns the table lacks are added; columns it has but the
        declaration omits are kept; ``int → bigint`` and ``float → double`` widen in
        place. Any other type change, or different partitioning, raises
        :class:`LakeSchemaError` and leaves the table unchanged.
        """
        ...

    def append(self, name: str, rows: Rows, batch_key: str) -> bool:
        """Append ``rows`` (Arrow or a Spark DataFrame) to table ``name`` once per key.

        Returns False, writing nothing, when a snapshot of the table already carries
        ``batch_key`` or when Arrow ``rows`` are empty; otherwise writes the rows, cast to
        the table's columns, as one snapshot stamped with the key and returns True.
        Raises :class:`LakeSchemaError` if the rows do not fit the table.
        """
        ...

    def has_batch(self, name: str, batch_key: str) -> bool:
        """Whether a snapshot of table ``name`` carries ``batch_key``."""
        ...

    def read(self, name: str, snapshot_id: int | None = None) -> pa.Table:
        """All rows of table ``name`` as Arrow, as of ``snapshot_id`` if given."""
        ...

    def snapshots(self, name: str) -> list[dict[str, Any]]:
        """Snapshots of table ``name``, oldest first: ``{"id", "parent_id", "timestamp_ms",
        "operation", "batch_key", "added_rows"}``."""
        ...

    def tables(self) -> list[str]:
        """Names of the tables in the lake's namespace, sorted."""
        ...
