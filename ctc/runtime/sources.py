"""Reading input rows for Plans: trade events from JSON lines, empty streams, reference tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ctc.events import ONCHAIN_EVENT_FIELDS, TRADE_EVENT_FIELDS, TRADE_REQUIRED_FIELDS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


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


def read_trades(spark: SparkSession, path: str | Path) -> tuple[DataFrame, InputCounts]:
    """Unified trade events from JSON lines at ``path`` (a file or folder), cleaned for batch.

    Records that don't parse, lack a required field or have a non-positive price or
    quantity are rejected; a repeated event_id keeps its first occurrence in file order.
    The result is cached; counts add up exactly.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    schema = ddl({**TRADE_EVENT_FIELDS, "_corrupt_record": "string"})
    raw = (
        spark.read.schema(schema)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", "_corrupt_record")
        .json(str(path))
    )
    raw = raw.withColumn("_order", F.monotonically_increasing_id()).cache()
    ok = F.col("_corrupt_record").isNull()
    for name in TRADE_REQUIRED_FIELDS:
        ok = ok & F.col(name).isNotNull()
    ok = ok & (F.col("price") > 0) & (F.col("quantity") > 0)
    valid = raw.where(ok)
    first = Window.partitionBy("event_id").orderBy("_order")
    deduped = (
        valid.withColumn("_rank", F.row_number().over(first))
        .where("_rank = 1")
        .drop("_rank", "_order", "_corrupt_record")
    ).cache()
    read = raw.count()
    n_valid = valid.count()
    used = deduped.count()
    raw.unpersist()
    return deduped, InputCounts(read, used, read - n_valid, n_valid - used)


def empty(spark: SparkSession, fields: Mapping[str, str]) -> DataFrame:
    """An empty DataFrame with the given columns."""
    return spark.createDataFrame([], ddl(fields))


def empty_onchain(spark: SparkSession) -> DataFrame:
    """No on-chain events (the on-chain connectors feed this in the large tier)."""
    return empty(spark, ONCHAIN_EVENT_FIELDS)


def read_reference(
    spark: SparkSession, base: Path, path: str, fmt: str, columns: tuple[tuple[str, str], ...]
) -> DataFrame:
    """A reference table; ``path`` is relative to ``base`` (the spec's folder) unless absolute."""
    full = path if "://" in path or Path(path).is_absolute() else str(base / path)
    schema = ddl(dict(columns))
    reader = spark.read.schema(schema)
    if fmt == "csv":
        return reader.option("header", "true").csv(full)
    if fmt in ("json", "jsonl"):
        return reader.json(full)
    return spark.read.parquet(full).select(*[c for c, _ in columns])
