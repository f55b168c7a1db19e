"""The quality gate of one streaming micro-batch: one Spark job, then the driver.

Spark parses and checks the batch's raw lines (:func:`ctc.runtime.quality.checked_rows`,
the same expressions as every back-test: dead-letter reasons and rules, the quote-volume
flag), and the classified rows come to the driver once, as Arrow. There, in arrival
order, a repeated id is dropped as a duplicate (the first occurrence in the batch passes
unless an earlier batch passed it: :class:`ctc.runtime.dedupe.SeenIds`), the late flag is
set against the batch's processing time, and every count is taken, so the batch costs
one Spark job however many rules and counts there are. Conservation is checked exactly
(:func:`ctc.runtime.quality.gate_metrics`).

The Spark side holds no value that changes from batch to batch (the processing time is
applied on the driver), so when it runs compiled (a bounded run:
:func:`ctc.runtime.detect_levels.batch_settings`) its generated code is compiled once and
reused by every later batch. Nothing is cached in Spark: the detectors read the passed
rows back from the driver's Arrow table (:meth:`GatedBatch.frame`), which costs less than
encoding the whole classified batch into Spark's cache (ADR 0008).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from ctc.events import TRADE_EVENT_FIELDS
from ctc.runtime.dedupe import SeenIds
from ctc.runtime.gate_counts import metrics_of
from ctc.runtime.quality import (
    CheckColumns,
    check_columns,
    checked_rows,
    gate_metrics,
)
from ctc.runtime.quality_rules import QualityRules
from ctc.runtime.sources import ddl
from ctc.sinks.lake.tables import ARROW_TIMESTAMP, DEAD_LETTERS, RAW_TRADES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Arrow types of the Spark SQL types of the gate's output.
_ARROW_TYPES = {
    "string": pa.string(),
    "double": pa.float64(),
    "bigint": pa.int64(),
    "boolean": pa.bool_(),
    "timestamp": ARROW_TIMESTAMP,
}

#: Columns of a passed trade (the ``trades`` view): the lake's ``raw_trades``.
PASSED_COLUMNS = tuple(name for name, _ in RAW_TRADES.columns)

#: Arrow schemas of the passed trades and of the dead letters, as the lake stores them.
PASSED_SCHEMA = pa.schema([(n, _ARROW_TYPES[t]) for n, t in RAW_TRADES.columns])
DEAD_LETTER_SCHEMA = pa.schema([(n, _ARROW_TYPES[t]) for n, t in DEAD_LETTERS.columns])


#: Spark DDL of the passed trades (the lake's ``raw_trades``, the ``trades`` view).
PASSED_DDL = ddl(dict(RAW_TRADES.columns))


@dataclass
class GatedBatch:
    """The gate's result for one micro-batch, on the driver."""

    passed: pa.Table
    dead_letters: pa.Table
    metrics: dict[str, Any]
    #: newest event time among the passed trades (epoch µs), None when none passed
    newest_us: int | None
    _frame: DataFrame | None = None

    def frame(self, spark: SparkSession) -> DataFrame | None:
        """The passed trades in Spark (made once from the Arrow table); None when no
        trade passed."""
        if self._frame is None and self.passed.num_rows:
            self._frame = spark.createDataFrame(self.passed, PASSED_DDL)
        return self._frame


def empty_gate() -> GatedBatch:
    """The gate's result for a batch without input (a flush)."""
    metrics = gate_metrics(
        processed=0,
        passed=0,
        failed=0,
        duplicates=0,
        late=0,
        quote_warnings=0,
        by_reason={},
        by_rule={},
    )
    return GatedBatch(PASSED_SCHEMA.empty_table(), DEAD_LETTER_SCHEMA.empty_table(), metrics, None)


def gate_batch(
    raw: DataFrame,
    rules: QualityRules,
    seen: SeenIds,
    processing_us: int,
    batch_id: int,
    columns: CheckColumns | None = None,
) -> GatedBatch:
    """Gate ``raw`` (``value``, ``source_file``, ``_order``) against ``rules`` and ``seen``.

    ``columns``: the gate's expressions for ``rules`` (:func:`check_columns`), built once
    by the caller and reused batch after batch. ``seen`` is updated with the ids that
    passed; ``is_late`` is set against ``processing_us``. Raises
    :class:`ConservationError` when the counts do not add up.
    """
    from pyspark.sql import functions as F

    columns = columns or check_columns(rules)
    failed_col = F.col("reason").isNotNull()
    # no _duplicate/_passed here: Spark then prunes the in-batch window (a sort of every
    # row); the same decisions are taken below, on the driver, in arrival order. The raw
    # line comes along for dead letters alone.
    classified = checked_rows(raw, columns).select(
        *TRADE_EVENT_FIELDS,
        columns.quote_warning,
        "reason",
        "rule",
        "detail",
        F.when(failed_col, F.col("value")).alias("raw"),
        F.when(failed_col, F.col("source_file")).alias("source_file"),
        "_order",
        "_ts_us",
    )
    table = classified.toArrow()
    table = table.take(pc.sort_indices(table.column("_order")))
    late_before = processing_us - rules.late_after.seconds * 1_000_000
    table = table.append_column("is_late", pc.less(table.column("_ts_us"), late_before))

    seen.start_batch()
    checked = pc.is_null(table.column("reason"))
    ok = table.filter(checked)
    ok_ids = ok.column("event_id").to_pylist()
    ok_times = ok.column("_ts_us").to_pylist()
    dup_orders: list[int] = []
    distinct = set(ok_ids)
    fresh = len(distinct) == len(ok_ids) and not seen.known(distinct)
    if fresh:
        # the usual batch: no id repeats, within it or from earlier batches
        mask = checked
        new_ids, new_times = ok_ids, ok_times
    else:
        mask, new_ids, new_times, dup_orders = _first_occurrences(table, checked, seen)
    seen.add(new_ids, new_times, fresh=fresh)
    seen.advance(processing_us)

    passed = table.filter(mask).select(list(PASSED_COLUMNS)).cast(PASSED_SCHEMA)
    failed_mask = pc.is_valid(table.column("reason"))
    dead = table.filter(failed_mask)
    received = pa.array([processing_us] * dead.num_rows, pa.int64()).cast(
        pa.timestamp("us", tz="UTC")
    )
    dead_letters = pa.table(
        {
            "reason": dead.column("reason"),
            "rule": dead.column("rule"),
            "detail": dead.column("detail"),
            "event_id": dead.column("event_id"),
            "raw": dead.column("raw"),
            "source_file": dead.column("source_file"),
            "received_at": received,
            "batch_id": pa.array([batch_id] * dead.num_rows, pa.int64()),
        },
        schema=DEAD_LETTER_SCHEMA,
    )
    metrics = metrics_of(table.num_rows, passed, dead, len(dup_orders), rules)
    newest = pc.max(passed.column("timestamp")).value if passed.num_rows else None
    return GatedBatch(passed, dead_letters, metrics, newest)


def _first_occurrences(
    table: pa.Table, checked: pa.ChunkedArray, seen: SeenIds
) -> tuple[pa.Array, list[str], list[int], list[int]]:
    """Row by row, in arrival order: a checked row passes unless its id passed earlier in
    the batch or in an earlier batch (docs/quality.md). Returns the passed mask, the
    passed ids and times, and the ``_order`` of the duplicates."""
    ids = table.column("event_id").to_pylist()
    times = table.column("_ts_us").to_pylist()
    orders = table.column("_order").to_pylist()
    passed_mask: list[bool] = []
    new_ids: list[str] = []
    new_times: list[int] = []
    in_batch: set[str] = set()
    dup_orders: list[int] = []
    for ok, event_id, ts, order in zip(checked.to_pylist(), ids, times, orders, strict=True):
        if not ok:
            passed_mask.append(False)
            continue
        if event_id in in_batch or seen.is_duplicate(event_id, ts):
            in_batch.add(event_id)
            passed_mask.append(False)
            dup_orders.append(order)
            continue
        in_batch.add(event_id)
        passed_mask.append(True)
        new_ids.append(event_id)
        new_times.append(ts)
    return pa.array(passed_mask, pa.bool_()), new_ids, new_times, dup_orders
