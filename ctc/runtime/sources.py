"""Reading input rows for Plans: trade events from JSON lines, empty streams, reference tables."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctc.events import ONCHAIN_EVENT_FIELDS, TRADE_REQUIRED_FIELDS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from ctc.runtime.quality_rules import QualityRules


def ddl(fields: Mapping[str, str]) -> str:
    """A Spark DDL schema string for ``fields`` (name → Spark type)."""
    return ", ".join(f"`{name}` {typ}" for name, typ in fields.items())


@dataclass(frozen=True)
class InputCounts:
    """Conservation of input records: read = used + rejected + duplicates."""

    read: int
    used: int
    rejected: int
    duplicates: int


def permissive_rules() -> QualityRules:
    """Quality rules that accept any symbol and exchange: parse, completeness, positivity
    and first-occurrence dedupe only (back-tests of data from anywhere)."""
    from ctc.dsl.durations import Duration
    from ctc.runtime.quality_rules import QualityRules

    return QualityRules(
        path="(built-in permissive rules)",
        required=TRADE_REQUIRED_FIELDS,
        positive=("price", "quantity"),
        symbols=None,
        exchanges=None,
        late_after=Duration(300, "5 minutes"),
        quote_volume_tolerance=0.001,
        dedupe_within=Duration(3600, "1 hour"),
    )


def read_trades(
    spark: SparkSession, path: str | Path, rules: QualityRules | None = None
) -> tuple[DataFrame, InputCounts]:
    """Unified trade events from JSON lines at ``path`` (a file or folder), through the
    quality gate (``rules``, default :func:`permissive_rules`) as one batch.

    Rejected records are counted (not returned); a repeated event_id keeps its first
    occurrence in file order. The result is cached (``unpersist`` it when done); counts
    add up exactly. Back-tests use :func:`ctc.runtime.gated_cache.gated_input`, which can
    also keep the gated input on disk for the next run.
    """
    from ctc.runtime.gated_cache import gated_input

    gated = gated_input(spark, path, rules or permissive_rules(), cache_dir=None)
    passed = gated.trades.cache()
    passed.count()
    gated.release()
    return passed, gated.counts


def empty_frame(spark: SparkSession, schema: str) -> DataFrame:
    """An empty DataFrame of a DDL ``schema``, made in the JVM (a local relation).

    Not ``spark.createDataFrame([], schema)``: that is an RDD of Python rows, and every
    job that reads it starts Python workers (about 2 s the first time, then a task each).
    """
    from pyspark.sql import DataFrame

    jvm = spark._jvm
    assert jvm is not None
    if jvm not in _JVM_CLASSES:  # each ``jvm.org.apache…`` lookup is a call per name
        _JVM_CLASSES[jvm] = (jvm.org.apache.spark.sql.types.StructType, jvm.java.util.ArrayList)
    struct_type, array_list = _JVM_CLASSES[jvm]
    jschema = struct_type.fromDDL(schema)
    return DataFrame(spark._jsparkSession.createDataFrame(array_list(), jschema), spark)


#: per JVM (py4j's view of it): the classes :func:`empty_frame` calls
_JVM_CLASSES: weakref.WeakKeyDictionary[Any, tuple[Any, Any]] = weakref.WeakKeyDictionary()


def empty(spark: SparkSession, fields: Mapping[str, str]) -> DataFrame:
    """An empty DataFrame with the given columns."""
    return empty_frame(spark, ddl(fields))


def empty_onchain(spark: SparkSession) -> DataFrame:
    """No on-chain events (the on-chain connectors feed this in the large tier)."""
    return empty(spark, ONCHAIN_EVENT_FIELDS)


def read_reference(
    spark: SparkSession, base: Path, path: str, fmt: str, columns: tuple[tuple[str, str], ...]
) -> DataFrame:
    """A reference table: ``path`` names a file inside ``base`` (the spec's folder).

    Checked again here, when it is read (see :func:`ctc.dsl.references.resolve_reference`):
    a spec is untrusted, and its reference rows can be quoted in alerts.
    """
    from ctc.dsl.references import resolve_reference

    full = str(resolve_reference(base, path))
    schema = ddl(dict(columns))
    reader = spark.read.schema(schema)
    if fmt == "csv":
        return reader.option("header", "true").csv(full)
    if fmt in ("json", "jsonl"):
        return reader.json(full)
    return spark.read.parquet(full).select(*[c for c, _ in columns])
