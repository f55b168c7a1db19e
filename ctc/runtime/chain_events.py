"""The on-chain events source (``chain_events``) of ``ctc run`` and ``ctc backtest``.

``ctc ingest --chain`` lands JSON lines of :data:`ctc.events.ONCHAIN_EVENT_FIELDS` in
``<landing>/_chain/`` (the trade file source skips ``_`` folders). Every record passes
the on-chain quality rules before any detector sees it; a failing one becomes a dead
letter (the lake's ``dead_letters`` table, as trades' do, reasons from
:data:`ctc.runtime.quality_rules.REASONS`):

* ``parse`` (malformed): the line is not a JSON object;
* ``required`` (incomplete): ``event_id``, ``blockchain``, ``event_type``, ``tx_hash``,
  ``block_number`` and ``block_timestamp`` are present;
* ``event_type`` (invalid): ``transfer`` or ``dex_swap``;
* ``event_id`` (invalid): ``<blockchain>:<tx_hash>:<log index>``;
* ``types`` (invalid): ``block_number`` an integer, times ISO 8601, amounts numbers;
* ``non_negative`` (invalid): amounts and USD values are not negative.

A repeated ``event_id`` keeps its first occurrence (file order) and is counted as a
duplicate, as trades are.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ctc.events import ONCHAIN_EVENT_FIELDS
from ctc.runtime.sources import InputCounts, ddl

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from ctc.sinks.lake.base import Lake

log = logging.getLogger(__name__)

#: The folder of on-chain events inside a landing folder (``ctc ingest --chain``).
CHAIN_FOLDER: Final = "_chain"

#: Fields an on-chain event must carry (non-null).
CHAIN_REQUIRED: Final = (
    "event_id",
    "blockchain",
    "event_type",
    "tx_hash",
    "block_number",
    "block_timestamp",
)
EVENT_TYPES: Final = ("transfer", "dex_swap")
_AMOUNTS: Final = ("amount", "amount_usd", "amount_in_usd", "amount_out_usd")
_TIMES: Final = ("block_timestamp", "ingestion_timestamp")


def _time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def check(record: Any) -> tuple[str, str, str] | None:
    """The first rule ``record`` fails, as (reason, rule, detail); None when it passes."""
    if not isinstance(record, dict):
        return "malformed", "parse", "not a JSON object"
    missing = [f for f in CHAIN_REQUIRED if record.get(f) in (None, "")]
    if missing:
        return "incomplete", "required", f"missing {', '.join(missing)}"
    if record["event_type"] not in EVENT_TYPES:
        return "invalid", "event_type", f"event_type {record['event_type']!r}"
    prefix = f"{record['blockchain']}:{record['tx_hash']}:"
    index = str(record["event_id"]).removeprefix(prefix)
    if not str(record["event_id"]).startswith(prefix) or not index.isdigit():
        return "invalid", "event_id", "event_id is not blockchain:tx_hash:log_index"
    try:
        if isinstance(record["block_number"], bool) or int(record["block_number"]) != float(
            record["block_number"]
        ):
            raise ValueError
        for name in _TIMES:
            if record.get(name) is not None:
                _time(record[name])
        for name in (*_AMOUNTS, "price_impact_pct"):
            value = record.get(name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise TypeError(name)
    except (ValueError, TypeError) as exc:
        return "invalid", "types", f"a field of the wrong type ({exc or 'block_number'})"
    negative = [n for n in _AMOUNTS if record.get(n) is not None and record[n] < 0]
    if negative:
        return "invalid", "non_negative", f"negative {', '.join(negative)}"
    return None


@dataclass
class ChainBatch:
    """On-chain events read through the rules: the passed rows, the dead letters, counts."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    dead: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    read: int = 0

    @property
    def counts(self) -> InputCounts:
        """read = used + rejected + duplicates."""
        return InputCounts(self.read, len(self.rows), len(self.dead), self.duplicates)


def chain_files(path: Path) -> list[Path]:
    """A file, or the JSON-lines files of a folder (and of its ``_chain`` folder), by name."""
    if path.is_file():
        return [path]
    files = sorted(p for p in path.glob("*.jsonl") if not p.name.startswith((".", "_")))
    inner = path / CHAIN_FOLDER
    return files + (chain_files(inner) if inner.is_dir() else [])


def read_chain(
    paths: Iterable[Path], seen: set[str] | None = None, batch_id: int = 0
) -> ChainBatch:
    """Read and check the records of ``paths``; ``seen`` (event ids of earlier batches)
    is updated with the passed ones."""
    batch = ChainBatch()
    ids = seen if seen is not None else set()
    now = datetime.now(UTC)
    for path in paths:
        for line in path.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            batch.read += 1
            try:
                record: Any = json.loads(line)
            except ValueError:
                record = None
            failed = check(record)
            if failed is not None:
                reason, rule, detail = failed
                event_id = record.get("event_id") if isinstance(record, dict) else None
                batch.dead.append(
                    {
                        "reason": reason,
                        "rule": rule,
                        "detail": detail,
                        "event_id": None if event_id is None else str(event_id),
                        "raw": line,
                        "source_file": str(path),
                        "received_at": now,
                        "batch_id": batch_id,
                    }
                )
                continue
            if record["event_id"] in ids:
                batch.duplicates += 1
                continue
            ids.add(record["event_id"])
            batch.rows.append(record)
    return batch


def chain_arrow(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """The passed rows as an Arrow table of the on-chain event schema."""
    import pyarrow as pa

    kinds = {
        "string": pa.string(),
        "bigint": pa.int64(),
        "double": pa.float64(),
        "timestamp": pa.timestamp("us", "UTC"),
    }
    columns: dict[str, list[Any]] = {name: [] for name in ONCHAIN_EVENT_FIELDS}
    for row in rows:
        for name, kind in ONCHAIN_EVENT_FIELDS.items():
            value = row.get(name)
            if value is not None:
                if kind == "timestamp":
                    value = _time(value)
                elif kind == "bigint":
                    value = int(value)
                elif kind == "double":
                    value = float(value)
                else:
                    value = str(value)
            columns[name].append(value)
    schema = pa.schema([(n, kinds[k]) for n, k in ONCHAIN_EVENT_FIELDS.items()])
    return pa.Table.from_pydict(columns, schema=schema)


def chain_frame(spark: SparkSession, rows: Sequence[dict[str, Any]]) -> DataFrame:
    """The rows as a Spark DataFrame of the on-chain event schema (empty: a local relation)."""
    from ctc.runtime.sources import empty_onchain

    if not rows:
        return empty_onchain(spark)
    return spark.createDataFrame(chain_arrow(rows), ddl(ONCHAIN_EVENT_FIELDS))


def dead_letter_arrow(dead: Sequence[dict[str, Any]]) -> pa.Table:
    """Dead letters in the lake's ``dead_letters`` shape."""
    import pyarrow as pa

    from ctc.sinks.lake.tables import DEAD_LETTERS

    kinds = {"string": pa.string(), "bigint": pa.int64(), "timestamp": pa.timestamp("us", "UTC")}
    schema = pa.schema([(n, kinds[k]) for n, k in DEAD_LETTERS.columns])
    return pa.Table.from_pylist(list(dead), schema=schema)


def read_chain_input(spark: SparkSession, path: str | Path) -> tuple[DataFrame, ChainBatch]:
    """A back-test's on-chain input (a file or folder) through the rules, as a DataFrame."""
    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such file or folder")
    batch = read_chain(chain_files(folder))
    return chain_frame(spark, batch.rows).cache(), batch


class ChainFeed:
    """The ``chain_events`` stream of ``ctc run``: each micro-batch reads the files of the
    on-chain folder that no earlier batch read.

    Which files each batch read is kept under the checkpoint (``chain/<batch_id>.json``,
    written before the batch's rows are used), so a batch run again after a crash reads
    the very same files, as Spark's file source does for trades.
    """

    def __init__(self, folder: Path | None, checkpoint: Any, lake: Lake | None) -> None:
        self.folder = folder
        #: CheckpointFS of the run
        self.checkpoint = checkpoint
        self.lake = lake
        self.rows = 0
        self._seen: set[str] = set()
        self._read: set[str] | None = None
        self._frame: DataFrame | None = None

    def _already_read(self) -> set[str]:
        if self._read is None:
            self._read = set()
            for name in self.checkpoint.list("chain"):
                self._read.update(json.loads(self.checkpoint.read_bytes(f"chain/{name}")))
        return self._read

    def take(self, spark: SparkSession, batch_id: int, flush: bool, state: Any) -> None:
        """Read this batch's on-chain events (none when flushing or without a folder) and
        move the ``chain_events`` clock of ``state`` (a RunState) to their newest block
        time; :meth:`view` then registers them."""
        self.rows = 0
        self._frame = None
        if flush or self.folder is None or not self.folder.is_dir():
            return
        rel = f"chain/{batch_id}.json"
        if self.checkpoint.exists(rel):
            names = json.loads(self.checkpoint.read_bytes(rel))
        else:
            done = self._already_read()
            names = [p.name for p in chain_files(self.folder) if p.name not in done]
            if not names:
                return
            self.checkpoint.mkdirs("chain")
            self.checkpoint.write_bytes(rel, json.dumps(names).encode())
        self._already_read().update(names)
        batch = read_chain([self.folder / n for n in names], self._seen, batch_id)
        if batch.dead and self.lake is not None:
            self.lake.append("dead_letters", dead_letter_arrow(batch.dead), f"chain:{batch_id}")
        if batch.dead:
            log.warning("%d on-chain records rejected (dead letters)", len(batch.dead))
        self.rows = len(batch.rows)
        if batch.rows:
            newest = max(_time(r["block_timestamp"]) for r in batch.rows)
            newest_us = int(newest.timestamp() * 1_000_000)
            state.clocks["chain_events"] = max(
                state.clocks.get("chain_events", newest_us), newest_us
            )
            self._frame = chain_frame(spark, batch.rows)

    def view(self, spark: SparkSession) -> None:
        """Register the events :meth:`take` read as the ``chain_events`` view."""
        (self._frame or chain_frame(spark, [])).createOrReplaceTempView("chain_events")
