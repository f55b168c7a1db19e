"""The ingest process's gap records: into the ``gaps`` lake table and the status record.

``ctc ingest`` lands a record for each trade-id gap it found (:data:`ctc.events.GAP_FIELDS`)
in ``<landing>/_gaps/gaps-*.jsonl`` (docs/ingest.md, "Gaps and backfill"); the trade file
source skips that folder. Each micro-batch's status asks :class:`GapRecords` for the files
that appeared since, appends their rows to the lake table ``gaps`` (once per file: the file
name is the append's batch key) and reports the totals under ``status["gaps"]``, which
``/api/health`` and the dashboard's health panel show.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ctc.events import GAP_FIELDS

if TYPE_CHECKING:
    import pyarrow as pa

    from ctc.sinks.lake.base import Lake

log = logging.getLogger(__name__)

#: The folder of gap records inside a landing folder.
GAPS_FOLDER: Final = "_gaps"

#: How many of the latest gap records the status carries.
LATEST: Final = 5


def _arrow(records: list[dict[str, Any]]) -> pa.Table:
    import pyarrow as pa

    kinds = {"string": pa.string(), "bigint": pa.int64(), "timestamp": pa.timestamp("us", "UTC")}
    columns: dict[str, list[Any]] = {name: [] for name in GAP_FIELDS}
    for record in records:
        for name, kind in GAP_FIELDS.items():
            value = record.get(name)
            if kind == "timestamp" and value is not None:
                value = datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
            columns[name].append(value)
    schema = pa.schema([(n, kinds[k]) for n, k in GAP_FIELDS.items()])
    return pa.Table.from_pydict(columns, schema=schema)


class GapRecords:
    """Reads new gap record files of a landing folder into the lake; sums them for the
    status (over every file this process has read)."""

    def __init__(self, landing: Path | None, lake: Lake | None) -> None:
        self.folder = landing / GAPS_FOLDER if landing is not None else None
        self.lake = lake
        self.records: list[dict[str, Any]] = []
        self._seen: set[str] = set()
        self._table_ready = False

    def __call__(self) -> dict[str, Any] | None:
        """Read the files that appeared since the last call; the status summary (None when
        there is no landing folder)."""
        if self.folder is None:
            return None
        for path in sorted(self.folder.glob("gaps-*.jsonl")) if self.folder.is_dir() else []:
            if path.name in self._seen:
                continue
            try:
                rows = [json.loads(ln) for ln in path.read_text("utf-8").splitlines() if ln]
            except (OSError, ValueError) as exc:
                log.warning("gap records %s unreadable, skipped: %s", path, exc)
                self._seen.add(path.name)
                continue
            self._to_lake(path.name, rows)
            self._seen.add(path.name)
            self.records.extend(rows)
        return self.summary()

    def _to_lake(self, name: str, rows: list[dict[str, Any]]) -> None:
        if self.lake is None or not rows:
            return
        from ctc.sinks.lake.tables import GAPS

        if not self._table_ready:
            self.lake.ensure_table(GAPS)
            self._table_ready = True
        self.lake.append(GAPS.name, _arrow(rows), f"gaps:{name}")

    def summary(self) -> dict[str, Any]:
        """``gaps`` found, trades ``missing``, ``backfilled`` and ``unfilled``, how many gaps
        are ``open`` (their end unknown) and the ``latest`` records with unfilled trades."""
        unfilled = [r for r in self.records if r.get("unfilled") != 0]
        return {
            "gaps": len(self.records),
            "missing": sum(int(r.get("missing") or 0) for r in self.records),
            "backfilled": sum(int(r.get("backfilled") or 0) for r in self.records),
            "unfilled": sum(int(r.get("unfilled") or 0) for r in self.records),
            "open": sum(1 for r in self.records if r.get("last_missing") is None),
            "latest": [
                {
                    k: r.get(k)
                    for k in (
                        "gap_id",
                        "exchange",
                        "market",
                        "instrument",
                        "missing",
                        "unfilled",
                        "reason",
                        "detected_at",
                    )
                }
                for r in unfilled[-LATEST:]
            ],
        }
