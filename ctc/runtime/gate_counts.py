"""The gate's counts and in-batch duplicates taken over Arrow columns on the driver.

The streaming gate (:mod:`ctc.runtime.stream_gate`) and the back-test's gated-input
cache (:mod:`ctc.runtime.gated_cache`) both have the gate's classified rows as Arrow:
the stream collects its micro-batch, the cache reads the narrow columns of the Parquet
it has just written. Counting there costs no Spark job. The rules are those of
:func:`ctc.runtime.quality.batch_metrics` and docs/quality.md.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ctc.runtime.quality import gate_metrics
from ctc.runtime.quality_rules import REASONS, QualityRules

#: The columns :func:`in_batch_counts` reads.
COUNT_COLUMNS = ("event_id", "_order", "reason", "rule", "timestamp", "quote_warning")


def count_true(mask: pa.ChunkedArray | pa.Array) -> int:
    """How many values of a boolean column are true (nulls count as false)."""
    return int(pc.sum(pc.cast(pc.fill_null(mask, False), pa.int64())).as_py() or 0)


def column_epoch_us(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """A timestamp column (any unit; Spark's Parquet holds nanoseconds) as epoch µs."""
    unit = column.type.unit
    raw = pc.cast(column, pa.int64())
    if unit == "ns":
        return pc.divide(pc.subtract(raw, pc.if_else(pc.less(raw, 0), 999, 0)), 1000)
    return pc.multiply(raw, {"s": 1_000_000, "ms": 1_000, "us": 1}[unit])


def _tally(column: pa.ChunkedArray | pa.Array, names: tuple[str, ...]) -> dict[str, int]:
    """How often each of ``names`` occurs in ``column``."""
    counts = {str(v["values"]): int(v["counts"]) for v in pc.value_counts(column).to_pylist()}
    return {name: counts.get(name, 0) for name in names}


def metrics_of(
    processed: int,
    passed: pa.Table,
    failed: pa.Table,
    duplicates: int,
    rules: QualityRules,
) -> dict[str, Any]:
    """The gate's metrics (:func:`ctc.runtime.quality.gate_metrics`) of a batch of
    ``processed`` rows: ``passed`` has ``is_late`` and ``quote_warning``, ``failed`` the
    rejected rows' ``reason`` and ``rule``. Raises ``ConservationError`` if they do not add up."""
    return gate_metrics(
        processed=processed,
        passed=passed.num_rows,
        failed=failed.num_rows,
        duplicates=duplicates,
        late=count_true(passed.column("is_late")),
        quote_warnings=count_true(passed.column("quote_warning")),
        by_reason=_tally(failed.column("reason"), REASONS),
        by_rule=_tally(failed.column("rule"), rules.rule_names()),
    )


def in_batch_counts(
    rows: pa.Table, rules: QualityRules, processing_us: int
) -> tuple[pa.Array, dict[str, Any]]:
    """(the ``_order`` of every duplicate, the gate's metrics) of one batch without
    earlier state: ``rows`` holds :data:`COUNT_COLUMNS` of every classified row.

    As :func:`ctc.runtime.quality.batch_duplicates` decides: a row that passed the checks
    is a duplicate when a row with a smaller ``_order`` and the same event id passed them
    too. ``is_late``: the event time is more than ``late_after`` before ``processing_us``.
    """
    checked = rows.filter(pc.is_null(rows.column("reason")))
    ids = checked.select(["event_id", "_order"])
    if pc.count_distinct(ids.column("event_id"), mode="all").as_py() == ids.num_rows:
        dup_orders = pa.array([], pa.int64())
        passed = checked
    else:
        firsts = ids.group_by("event_id").aggregate([("_order", "min")])
        joined = ids.join(firsts, "event_id")
        later = joined.filter(pc.greater(joined.column("_order"), joined.column("_order_min")))
        dup_orders = pc.unique(later.column("_order")).sort()
        passed = checked.filter(pc.invert(pc.is_in(checked.column("_order"), dup_orders)))
    late_us = rules.late_after.seconds * 1_000_000
    ts_us = column_epoch_us(passed.column("timestamp"))
    flags = pa.table(
        {
            "is_late": pc.less(ts_us, processing_us - late_us),
            "quote_warning": passed.column("quote_warning"),
        }
    )
    failed = rows.filter(pc.is_valid(rows.column("reason"))).select(["reason", "rule"])
    return dup_orders, metrics_of(rows.num_rows, flags, failed, len(dup_orders), rules)
