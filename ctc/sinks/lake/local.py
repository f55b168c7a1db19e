"""The local lake: pyiceberg's ``SqlCatalog`` on SQLite with a warehouse folder (the default).

Writes go through pyiceberg from the driver: Arrow rows as they are, a Spark DataFrame
after ``toArrow()`` (callers that hold the same rows as Arrow pass those instead;
:attr:`LocalLake.writes_frames` is False). Each append is one Iceberg snapshot stamped with
the batch key (:mod:`ctc.sinks.lake.base`).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa

from ctc.sinks.lake.arrow_rows import conform
from ctc.sinks.lake.base import (
    BATCH_KEY_PROPERTY,
    NAMESPACE,
    LakeError,
    Rows,
    check_batch_key,
    check_name,
    is_arrow,
)
from ctc.sinks.lake.iceberg_schema import (
    build_partition_spec,
    build_schema,
    iceberg_type,
    table_columns,
    table_partitioning,
)
from ctc.sinks.lake.tables import TableDef, evolution, validate

if TYPE_CHECKING:
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.table import Table

_COMMIT_RETRIES: Final = 5

#: One lock per (warehouse, table) for the whole process, shared by every LocalLake.
_TABLE_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_TABLE_LOCKS_GUARD = threading.Lock()


class LocalLake:
    """The ctc Iceberg tables in a SQLite catalog and a warehouse folder.

    Safe to share between threads (e.g. concurrent ``foreachBatch`` callbacks of several
    streaming queries): appends to one table are serialised within the process (across
    all LocalLake objects on the same warehouse), so check-key-then-append is atomic there.
    A commit that loses a race with another process is retried by pyiceberg (rebased on
    the new snapshot); that rebase does not re-check the key, so two *processes* must not
    write the same batch key to the same table at once (Spark already refuses to run one
    streaming checkpoint twice).
    """

    writes_frames = False

    def __init__(self, warehouse: Path | str) -> None:
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

    def __repr__(self) -> str:
        return f"LocalLake({str(self.warehouse)!r})"

    # -- helpers

    def _lock(self, name: str) -> threading.Lock:
        with _TABLE_LOCKS_GUARD:
            return _TABLE_LOCKS.setdefault((str(self.warehouse), name), threading.Lock())

    def table(self, name: str) -> Table:
        """The pyiceberg ``Table`` ``ctc.<name>``, freshly loaded."""
        from pyiceberg.exceptions import NoSuchTableError

        try:
            return self.catalog.load_table((NAMESPACE, check_name(name)))
        except NoSuchTableError:
            raise LakeError(f"no lake table {NAMESPACE}.{name}") from None

    # -- the Lake interface

    def ensure_table(self, table: TableDef) -> None:
        """Create ``ctc.<name>`` as declared, or check and evolve the existing one.

        Idempotent. Declared columns the table lacks are added (optional, at the end);
        columns it has but the declaration omits are kept (never dropped); a column's type
        may widen as Iceberg allows (int → bigint, float → double). Any other type change,
        or different partitioning, raises :class:`LakeSchemaError` and leaves the table
        unchanged.
        """
        partitioning = validate(table)  # before touching anything
        schema = build_schema(table.columns)
        spec = build_partition_spec(schema, partitioning)
        ident = (NAMESPACE, table.name)
        with self._lock(table.name):
            from pyiceberg.exceptions import NoSuchTableError, TableAlreadyExistsError

            try:
                existing = self.catalog.load_table(ident)
            except NoSuchTableError:
                try:
                    self.catalog.create_table(ident, schema=schema, partition_spec=spec)
                    return
                except TableAlreadyExistsError:  # created by another process meanwhile
                    existing = self.catalog.load_table(ident)
            change = evolution(table, table_columns(existing), table_partitioning(existing))
            if not change.add and not change.widen:
                return
            with existing.update_schema() as update:
                for col, typ in change.widen:
                    update.update_column(col, field_type=iceberg_type(typ))
                for col, typ in change.add:
                    update.add_column(col, iceberg_type(typ))

    def append(self, name: str, rows: Rows, batch_key: str) -> bool:
        """Append ``rows`` to ``ctc.<name>`` once per ``batch_key``.

        Returns False, writing nothing, when a snapshot of the table already carries
        ``ctc.batch_key == batch_key`` or when ``rows`` is empty; otherwise appends
        ``rows`` cast to the table's schema (see :func:`ctc.sinks.lake.arrow_rows.conform`)
        as one snapshot stamped with the key, and returns True. Raises
        :class:`LakeSchemaError` if the rows do not fit (checked even for empty rows).
        A Spark DataFrame is brought to the driver with ``toArrow()`` first.
        """
        from pyiceberg.exceptions import CommitFailedException

        check_batch_key(batch_key)
        arrow: pa.Table = rows if is_arrow(rows) else rows.toArrow()
        with self._lock(name):
            table = self.table(name)
            data = conform(arrow, table.schema())
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
                    data = conform(arrow, table.schema())
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
