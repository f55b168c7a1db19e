"""The data-quality gate: one call per micro-batch (streaming) or per file set (back-tests).

:func:`gate` parses raw JSON lines into unified trade events, sends records that are
malformed, incomplete or invalid to dead letters (reason + rule), drops duplicate
event ids, flags late records and quote-volume mismatches, and counts everything in
one aggregation pass over the classified batch, which it caches once. The counts must
conserve exactly (processed = passed + failed + duplicates) or :class:`ConservationError`
is raised. No Python UDFs: everything is Spark SQL expressions.

Rules come from detectors/quality.yaml (:func:`load_rules`); docs/quality.md is the
reference for reasons, rule names, metrics and the dedupe state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ctc.events import TRADE_EVENT_FIELDS
from ctc.runtime.quality_rules import (
    REASONS,
    TIME_FIELDS,
    Check,
    QualityRules,
    load_rules,
    parse_rules,
)
from ctc.runtime.sources import ddl

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

__all__ = [
    "DEAD_LETTER_FIELDS",
    "SEEN_FIELDS",
    "CheckColumns",
    "ConservationError",
    "GateResult",
    "QualityRules",
    "check_columns",
    "checked_rows",
    "gate",
    "gate_file",
    "gate_metrics",
    "load_rules",
    "parse_rules",
]

#: Columns of the dedupe state: ids that passed, with their event time.
SEEN_FIELDS: Final = {"event_id": "string", "timestamp": "timestamp"}

#: Columns of a dead letter (``dt`` = the UTC date of ``received_at``, for partitioning).
DEAD_LETTER_FIELDS: Final = {
    "reason": "string",
    "rule": "string",
    "detail": "string",
    "raw": "string",
    "source_file": "string",
    "received_at": "timestamp",
    "dt": "date",
    "event_id": "string",
    "_order": "bigint",
}

#: ISO 8601 date-time with seconds, optional fraction, and a zone (Z or ±hh:mm).
ISO_UTC_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"

_CORRUPT: Final = "_corrupt_record"
_JSON_OPTIONS: Final = {
    "mode": "PERMISSIVE",
    "columnNameOfCorruptRecord": _CORRUPT,
    # NaN / Infinity are not JSON: such a line is malformed, not a number
    "allowNonNumericNumbers": "false",
}


class ConservationError(RuntimeError):
    """The gate's counts do not add up (processed != passed + failed + duplicates)."""


@dataclass(frozen=True)
class GateResult:
    """What the gate made of one batch.

    ``passed``: trade events (``TRADE_EVENT_FIELDS`` + ``is_late`` + ``quote_warning``),
    duplicates removed. ``dead_letters``: rejected lines (``DEAD_LETTER_FIELDS``).
    ``seen``: the new dedupe state (``SEEN_FIELDS``), already materialised (local
    checkpoint, lineage cut). ``metrics``: the counts (docs/quality.md).
    ``passed`` and ``dead_letters`` are lazy views of ``classified``, which is cached:
    call :meth:`unpersist` once both are written.
    """

    passed: DataFrame
    dead_letters: DataFrame
    seen: DataFrame
    metrics: dict[str, Any]
    classified: DataFrame = field(repr=False)

    def unpersist(self) -> None:
        """Release the cached classified batch (after ``passed`` and ``dead_letters`` are used)."""
        self.classified.unpersist()


def epoch_micros(moment: datetime) -> int:
    """Microseconds since the epoch; a naive ``moment`` is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _parse_schema() -> str:
    # times are read as text and converted below, so a bad time names its own rule
    fields = {n: ("string" if t == "timestamp" else t) for n, t in TRADE_EVENT_FIELDS.items()}
    return ddl({**fields, _CORRUPT: "string"})


def _failure(check: Check) -> tuple[Column, Column]:
    """(the check fails, a human detail) for one check, over the parsed columns."""
    from pyspark.sql import functions as F

    name = check.field
    if check.kind == "parse":
        return (
            F.col("_j").isNull() | F.col(f"_j.{_CORRUPT}").isNotNull(),
            F.lit("not a JSON object with the trade event's field types"),
        )
    assert name is not None
    col = F.col(name)
    if check.kind == "parse_time":
        text = F.col(f"_text_{name}")
        return (
            (F.trim(text) != "") & col.isNull(),
            F.concat(F.lit(f"{name} is not an ISO 8601 time with a zone: "), text),
        )
    if check.kind == "required":
        missing = col.isNull()
        if TRADE_EVENT_FIELDS[name] == "string":
            missing = missing | (F.trim(col) == "")
        return missing, F.lit(f"{name} is missing")
    if check.kind == "positive":
        ok = (col > 0) & (col < F.lit(float("inf")))  # NaN sorts above +inf in Spark
        return (
            F.coalesce(~ok, F.lit(False)) & col.isNotNull(),
            F.concat(F.lit(f"{name} must be a finite number > 0, got "), col.cast("string")),
        )
    # allowed
    in_list = F.coalesce(col.isin(*check.allowed), F.lit(False))
    return (
        ~in_list,
        F.concat(
            F.lit(f"{name} "),
            F.coalesce(F.concat(F.lit("'"), col, F.lit("'")), F.lit("null")),
            F.lit(" is not allowed"),
        ),
    )


@dataclass(frozen=True)
class CheckColumns:
    """The gate's column expressions for ``rules``, built once and reusable on any batch
    (each expression built costs calls into the JVM; a stream builds them once)."""

    parse: Column
    fields: tuple[Column, ...]
    reason: Column
    rule: Column
    detail: Column
    ts_us: Column
    quote_warning: Column


def check_columns(rules: QualityRules) -> CheckColumns:
    """The parse, field and check expressions of the gate for ``rules``."""
    from pyspark.sql import functions as F

    columns: list[Column] = []
    for name in TRADE_EVENT_FIELDS:
        if name in TIME_FIELDS:
            text = F.col(f"_j.{name}")
            columns.append(text.alias(f"_text_{name}"))
            columns.append(
                F.when(text.rlike(ISO_UTC_PATTERN), text.try_cast("timestamp")).alias(name)
            )
        else:
            columns.append(F.col(f"_j.{name}").alias(name))
    rule: Column | None = None
    reason: Column | None = None
    detail: Column | None = None
    for check in reversed(rules.checks()):  # build the CASE from the last check outwards
        fails, why = _failure(check)
        rule = F.when(fails, F.lit(check.rule)).otherwise(rule if rule is not None else F.lit(None))
        reason = F.when(fails, F.lit(check.reason)).otherwise(
            reason if reason is not None else F.lit(None)
        )
        detail = F.when(fails, why).otherwise(detail if detail is not None else F.lit(None))
    assert rule is not None and reason is not None and detail is not None
    return CheckColumns(
        parse=F.from_json("value", _parse_schema(), _JSON_OPTIONS).alias("_j"),
        fields=tuple(columns),
        reason=reason.cast("string").alias("reason"),
        rule=rule.cast("string").alias("rule"),
        detail=detail.cast("string").alias("detail"),
        ts_us=F.unix_micros("timestamp").alias("_ts_us"),
        quote_warning=quote_warning_column(rules),
    )


def quote_warning_column(rules: QualityRules) -> Column:
    """``quote_warning``: quote_volume missing or off price × quantity by more than the
    tolerance."""
    from pyspark.sql import functions as F

    pq = F.col("price") * F.col("quantity")
    tolerance = F.lit(rules.quote_volume_tolerance)
    return F.coalesce(
        F.abs(F.col("quote_volume") - pq) > tolerance * pq, F.col("quote_volume").isNull()
    ).alias("quote_warning")


def late_column(rules: QualityRules, processing_us: int) -> Column:
    """``is_late``: the event time is more than ``late_after`` before the processing time."""
    from pyspark.sql import functions as F

    late_us = rules.late_after.seconds * 1_000_000
    return (F.col("_ts_us") < F.lit(processing_us - late_us)).alias("is_late")


def checked_rows(raw: DataFrame, cols: CheckColumns) -> DataFrame:
    """Every raw row (``value``, ``source_file``, ``_order``) with its parsed fields and
    ``reason``/``rule``/``detail`` (null when every check passed) and ``_ts_us``."""
    parsed = raw.select("value", "source_file", "_order", cols.parse)
    fields = parsed.select("value", "source_file", "_order", "_j", *cols.fields)
    return fields.select("*", cols.reason, cols.rule, cols.detail, cols.ts_us).drop("_j")


def _classify(
    raw: DataFrame, rules: QualityRules, seen: DataFrame | None, processing_us: int
) -> DataFrame:
    """Every raw row with its parsed fields, reason/rule/detail, duplicate and warning flags."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    checked = checked_rows(raw, check_columns(rules))

    ok = F.col("reason").isNull()
    first = Window.partitionBy("event_id", ok).orderBy("_order")
    checked = checked.withColumn("_rank", F.row_number().over(first))

    window_us = rules.dedupe_within.seconds * 1_000_000
    if seen is not None:
        state = (
            seen.where(F.col("event_id").isNotNull() & F.col("timestamp").isNotNull())
            .groupBy("event_id")
            .agg(F.collect_list(F.unix_micros("timestamp")).alias("_seen_us"))
        )
        checked = checked.join(state, on="event_id", how="left")
        in_state = F.coalesce(
            F.exists("_seen_us", lambda t: F.abs(t - F.col("_ts_us")) <= F.lit(window_us)),
            F.lit(False),
        )
    else:
        in_state = F.lit(False)

    duplicate = ok & ((F.col("_rank") > 1) | in_state)
    return checked.select(
        *TRADE_EVENT_FIELDS,
        late_column(rules, processing_us),
        quote_warning_column(rules),
        "reason",
        "rule",
        "detail",
        "value",
        "source_file",
        "_order",
        "_ts_us",
        duplicate.alias("_duplicate"),
        (ok & ~duplicate).alias("_passed"),
    )


def _metrics(classified: DataFrame, rules: QualityRules) -> dict[str, Any]:
    """All counts of the batch in one aggregation pass; checks conservation."""
    from pyspark.sql import functions as F

    passed = F.col("_passed")
    rule_names = rules.rule_names()
    aggs = [
        F.count(F.lit(1)).alias("processed"),
        F.count_if(passed).alias("passed"),
        F.count_if(F.col("reason").isNotNull()).alias("failed"),
        F.count_if(F.col("_duplicate")).alias("duplicates"),
        F.count_if(passed & F.col("is_late")).alias("late"),
        F.count_if(passed & F.col("quote_warning")).alias("quote_warnings"),
        *[F.count_if(F.col("reason") == r).alias(f"reason_{r}") for r in REASONS],
        *[F.count_if(F.col("rule") == r).alias(f"rule_{i}") for i, r in enumerate(rule_names)],
    ]
    row = classified.agg(*aggs).collect()[0]
    return gate_metrics(
        processed=int(row["processed"]),
        passed=int(row["passed"]),
        failed=int(row["failed"]),
        duplicates=int(row["duplicates"]),
        late=int(row["late"]),
        quote_warnings=int(row["quote_warnings"]),
        by_reason={r: int(row[f"reason_{r}"]) for r in REASONS},
        by_rule={r: int(row[f"rule_{i}"]) for i, r in enumerate(rule_names)},
    )


def gate_metrics(
    *,
    processed: int,
    passed: int,
    failed: int,
    duplicates: int,
    late: int,
    quote_warnings: int,
    by_reason: dict[str, int],
    by_rule: dict[str, int],
) -> dict[str, Any]:
    """The gate's metrics of one batch (docs/quality.md), after checking that they
    conserve: processed = passed + failed + duplicates, and the failures by reason and
    by rule each add up to failed. Raises :class:`ConservationError` otherwise."""
    if processed != passed + failed + duplicates:
        raise ConservationError(
            f"quality gate: processed {processed} != passed {passed} + failed {failed} "
            f"+ duplicates {duplicates}"
        )
    if sum(by_reason.values()) != failed or sum(by_rule.values()) != failed:
        raise ConservationError(
            f"quality gate: failed {failed} != by reason {by_reason} or by rule {by_rule}"
        )
    return {
        "processed": processed,
        "passed": passed,
        "failed": failed,
        "failed_by_reason": by_reason,
        "failed_by_rule": by_rule,
        "late": late,
        "duplicates": duplicates,
        "quote_warnings": quote_warnings,
        "quality_score": 100.0 if processed == 0 else passed / processed * 100.0,
    }


def _next_seen(
    spark: SparkSession,
    classified: DataFrame,
    seen: DataFrame | None,
    rules: QualityRules,
    processing_us: int,
) -> DataFrame:
    """Old state ∪ ids passed now, purged below min(max event time, processing time) − window."""
    from pyspark.sql import functions as F

    new = classified.where("_passed").select("event_id", "timestamp")
    old = seen.select("event_id", "timestamp") if seen is not None else None
    union = new if old is None else old.unionByName(new)
    window_us = rules.dedupe_within.seconds * 1_000_000
    top = union.agg(F.max(F.unix_micros("timestamp")).alias("_max_us"))
    horizon = F.least(F.col("_max_us"), F.lit(processing_us)) - F.lit(window_us)
    kept = (
        union.crossJoin(top)
        .where(F.unix_micros("timestamp") >= horizon)
        .select("event_id", "timestamp")
    )
    return kept.localCheckpoint(eager=True)


def gate(
    spark: SparkSession,
    raw: DataFrame,
    rules: QualityRules,
    seen: DataFrame | None,
    processing_time: datetime,
) -> GateResult:
    """Apply ``rules`` to one batch of raw JSON lines.

    ``raw`` has ``value`` (one JSON line), ``source_file`` and ``_order`` (arrival order,
    smallest first). ``seen`` is the dedupe state from the previous call (``SEEN_FIELDS``)
    or None. ``processing_time`` (a naive value is UTC) decides lateness and stamps
    ``received_at`` on dead letters.

    The classified batch is cached (call :meth:`GateResult.unpersist` when done) and the
    returned ``seen`` is materialised; the caller keeps ``result.seen`` for the next call.
    Raises :class:`ConservationError` if the counts do not add up.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    processing_us = epoch_micros(processing_time)
    classified = _classify(raw, rules, seen, processing_us).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        metrics = _metrics(classified, rules)
        next_seen = _next_seen(spark, classified, seen, rules, processing_us)
    except BaseException:
        classified.unpersist()
        raise
    received_at = F.timestamp_micros(F.lit(processing_us))
    passed = classified.where("_passed").select(*TRADE_EVENT_FIELDS, "is_late", "quote_warning")
    dead = classified.where(F.col("reason").isNotNull()).select(
        "reason",
        "rule",
        "detail",
        F.col("value").alias("raw"),
        "source_file",
        received_at.alias("received_at"),
        F.to_date(received_at).alias("dt"),
        F.col("event_id").cast("string").alias("event_id"),
        "_order",
    )
    return GateResult(passed, dead, next_seen, metrics, classified)


def gate_file(
    spark: SparkSession,
    path: str | Path,
    rules: QualityRules,
    processing_time: datetime | None = None,
) -> GateResult:
    """Gate the JSON-lines file or folder at ``path`` as one batch (back-tests).

    Lines are read with the text source; ``_order`` is ``monotonically_increasing_id``
    (file order within a file; across files, Spark's split order). No earlier state:
    ``seen`` is None. ``processing_time`` defaults to now (UTC).
    """
    from pyspark.sql import functions as F

    raw = spark.read.text(str(path)).select(
        "value",
        F.col("_metadata.file_path").alias("source_file"),
        F.monotonically_increasing_id().alias("_order"),
    )
    return gate(spark, raw, rules, None, processing_time or datetime.now(UTC))


#: Columns of :func:`gate_rows`: what a back-test keeps of each line (no raw text, no
#: detail), before the in-batch dedupe.
GATED_ROW_FIELDS: Final = {
    **TRADE_EVENT_FIELDS,
    "quote_warning": "boolean",
    "reason": "string",
    "rule": "string",
    "_order": "bigint",
}


def gate_rows(spark: SparkSession, path: str | Path, rules: QualityRules) -> DataFrame:
    """Every line of the JSON-lines file or folder at ``path``, checked by ``rules``
    (``GATED_ROW_FIELDS``): parsed fields, ``quote_warning``, ``reason``/``rule`` (null
    when the line passed every check) and ``_order`` as in :func:`gate_file`.

    The same :func:`_classify` as :func:`gate`, minus what a back-test does not keep: the
    raw line, the detail, and the in-batch dedupe (Spark prunes its window, a sort of
    every row, because nothing here reads it). :func:`batch_duplicates` makes the same
    dedupe decisions from these rows; no state, so one map-only pass over the input.
    """
    from pyspark.sql import functions as F

    raw = spark.read.text(str(path)).select(
        "value",
        F.lit(None).cast("string").alias("source_file"),
        F.monotonically_increasing_id().alias("_order"),
    )
    return _classify(raw, rules, None, 0).select(*GATED_ROW_FIELDS)


def batch_duplicates(rows: DataFrame) -> DataFrame:
    """``_order`` of every row of :func:`gate_rows` that the gate drops as a duplicate.

    As in :func:`_classify` without state: a row that passed the checks is a duplicate
    when an earlier row (smaller ``_order``) with the same event_id passed them too.
    Exact, and cheaper than a window over whole rows: ids are grouped first by a 64-bit
    hash (a shuffle of longs), then only the ids whose hash repeats are compared as text.
    """
    from pyspark.sql import functions as F

    ok = rows.where(F.col("reason").isNull()).select("event_id", "_order")
    hashed = F.xxhash64("event_id")
    repeated = ok.groupBy(hashed.alias("_h")).agg(F.count(F.lit(1)).alias("_n")).where("_n > 1")
    suspects = ok.join(repeated, hashed == F.col("_h"), "left_semi")
    firsts = suspects.groupBy("event_id").agg(F.min("_order").alias("_first"))
    return (
        suspects.join(firsts, "event_id").where(F.col("_order") > F.col("_first")).select("_order")
    )


def _with_flags(
    rows: DataFrame, duplicates: DataFrame | None, rules: QualityRules, processing_us: int
) -> DataFrame:
    """``rows`` of :func:`gate_rows` with the flags of :func:`_classify`: ``is_late``,
    ``_duplicate`` (its ``_order`` is in ``duplicates``; None: there are none), ``_passed``."""
    from pyspark.sql import functions as F

    ok = F.col("reason").isNull()
    if duplicates is None:
        flagged = rows.withColumn("_duplicate", F.lit(False))
    else:
        marked = duplicates.select("_order", F.lit(True).alias("_dup"))
        flagged = rows.join(marked, "_order", "left").withColumn(
            "_duplicate", ok & F.coalesce(F.col("_dup"), F.lit(False))
        )
    late_us = rules.late_after.seconds * 1_000_000
    return flagged.select(
        *GATED_ROW_FIELDS,
        (F.unix_micros("timestamp") < F.lit(processing_us - late_us)).alias("is_late"),
        "_duplicate",
        (ok & ~F.col("_duplicate")).alias("_passed"),
    )


def batch_metrics(
    rows: DataFrame,
    duplicates: DataFrame | None,
    rules: QualityRules,
    processing_time: datetime,
) -> dict[str, Any]:
    """The gate's metrics (:func:`gate`'s, by the same aggregation) of :func:`gate_rows`
    with ``duplicates`` from :func:`batch_duplicates` (None: there are none).

    Raises :class:`ConservationError` if the counts do not add up.
    """
    return _metrics(_with_flags(rows, duplicates, rules, epoch_micros(processing_time)), rules)


def batch_passed(
    rows: DataFrame,
    duplicates: DataFrame | None,
    rules: QualityRules,
    processing_time: datetime,
) -> DataFrame:
    """The trade events that pass (``GateResult.passed``'s columns) of :func:`gate_rows`
    with ``duplicates`` (None: there are none); ``is_late`` as of ``processing_time``."""
    from pyspark.sql import functions as F

    ok = rows.where(F.col("reason").isNull())
    if duplicates is not None:
        ok = ok.join(duplicates.select("_order"), "_order", "left_anti")
    late_us = rules.late_after.seconds * 1_000_000
    cutoff = F.lit(epoch_micros(processing_time) - late_us)
    return ok.select(
        *TRADE_EVENT_FIELDS,
        (F.unix_micros("timestamp") < cutoff).alias("is_late"),
        "quote_warning",
    )
