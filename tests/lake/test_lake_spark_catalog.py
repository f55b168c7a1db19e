"""The Spark-catalog lake against a real local Spark session, without the Iceberg jars.

What runs for real here: its DDL goes through Spark's parser; tables are created,
evolved, listed and read in Spark's session catalog; rows are aligned and written by
Spark jobs; the batch-key query runs against a table with the schema of Iceberg's
``snapshots`` metadata table; and the production write call reaches Spark's analyzer.
Two things need Iceberg and are stood in for by ``SessionCatalogLake`` below: the
``snapshots`` metadata table (a plain table the stand-in fills on each write, as Iceberg
does on commit) and ``writeTo(...).append()`` (session-catalog tables are v1, so the
stand-in inserts the same aligned frame with ``insertInto``). Tables are unpartitioned or
identity-partitioned: the session catalog cannot take ``days()``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from lake_helpers import UTC, alerts

from ctc.compiler.plan import Plan
from ctc.runtime.publish import Publisher
from ctc.sinks.lake.base import BATCH_KEY_PROPERTY, LakeError, LakeSchemaError
from ctc.sinks.lake.factory import open_lake, parse_lake_url
from ctc.sinks.lake.spark_catalog import SparkCatalogLake
from ctc.sinks.lake.spark_conf import session_keys
from ctc.sinks.lake.spark_sql import create_table_sql
from ctc.sinks.lake.tables import (
    ANOMALY_ALERTS,
    CORE_TABLES,
    DEAD_LETTERS,
    RAW_TRADES,
    TableDef,
    spark_type,
)
from ctc.sinks.stores.sqlite_store import SqliteAlertStore

pytestmark = pytest.mark.spark

#: Iceberg's ``snapshots`` metadata table, the columns the lake reads.
_SNAPSHOTS_DDL = (
    "committed_at TIMESTAMP, snapshot_id BIGINT, parent_id BIGINT, operation STRING, "
    "summary MAP<STRING, STRING>"
)


class SessionCatalogLake(SparkCatalogLake):
    """The Spark-catalog lake on Spark's session catalog: see the module docstring."""

    def snapshots_ident(self, name: str) -> str:
        """A plain table standing in for Iceberg's ``<table>.snapshots``."""
        ident = f"`{self.catalog}`.`{self.namespace}`.`{name}__snapshots`"
        self.spark.sql(f"CREATE TABLE IF NOT EXISTS {ident} ({_SNAPSHOTS_DDL}) USING parquet")
        return ident

    def _write(self, frame: Any, name: str, batch_key: str) -> None:
        """Insert the aligned frame, then record the snapshot as Iceberg's commit would."""
        frame.write.insertInto(self.ident(name))
        snapshots = self.snapshots_ident(name)
        self.spark.sql(
            f"INSERT INTO {snapshots} SELECT current_timestamp(), "
            f"(SELECT count(*) + 1 FROM {snapshots}), NULL, 'append', map(:k, :v)",
            args={"k": BATCH_KEY_PROPERTY, "v": batch_key},
        )


class NoCollect:
    """A DataFrame that refuses to bring rows to the driver (and so do frames made from it)."""

    FORBIDDEN = frozenset(
        {"collect", "toArrow", "toPandas", "toLocalIterator", "take", "head", "first", "tail"}
    )

    def __init__(self, frame: Any) -> None:
        self._frame = frame

    def __getattr__(self, name: str) -> Any:
        if name in self.FORBIDDEN or name == "rdd":
            raise AssertionError(f"the lake called DataFrame.{name}: rows would be collected")
        attr = getattr(self._frame, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            out = attr(*args, **kwargs)
            return NoCollect(out) if type(out).__name__ == "DataFrame" else out

        return call


def _flat(t: TableDef) -> TableDef:
    """``t`` partitioned only by its identity columns (the session catalog's limit)."""
    return TableDef(t.name, t.columns, tuple(p for p in t.partition_by if "(" not in p))


@pytest.fixture
def lake(spark: Any, tmp_path: Path) -> Iterator[SessionCatalogLake]:
    """A fresh namespace of the session catalog, its data under the test's temp dir."""
    ns = f"lake_{uuid.uuid4().hex[:8]}"
    spark.sql(f"CREATE NAMESPACE spark_catalog.{ns} LOCATION '{tmp_path.as_uri()}'")
    yield SessionCatalogLake(spark, "spark_catalog", ns, provider="parquet")
    spark.sql(f"DROP NAMESPACE spark_catalog.{ns} CASCADE")


def test_iceberg_ddl_parses_as_spark_sql(spark: Any) -> None:
    parser = spark._jsparkSession.sessionState().sqlParser()
    for t in CORE_TABLES:
        plan = parser.parsePlan(create_table_sql("lake", "ctc", t)).toString()
        assert "CreateTable" in plan and "iceberg" in plan, plan
    assert (
        "days(detected_at)"
        in parser.parsePlan(create_table_sql("lake", "ctc", ANOMALY_ALERTS)).toString()
    )


def test_tables_are_created_evolved_and_listed(spark: Any, lake: SessionCatalogLake) -> None:
    for t in CORE_TABLES:
        lake.ensure_table(_flat(t))
        lake.ensure_table(_flat(t))  # idempotent
    assert lake.tables() == ["anomaly_alerts", "dead_letters", "raw_trades"]
    assert lake.partitioning("dead_letters") == (("reason", "identity"),)
    # (the session catalog moves partition columns last; Iceberg keeps the declared order)
    assert sorted(lake.columns("raw_trades")) == sorted(
        (n, spark_type(t)) for n, t in RAW_TRADES.columns
    )
    grown = TableDef("dead_letters", (*DEAD_LETTERS.columns, ("retries", "int")), ("reason",))
    lake.ensure_table(grown)
    assert ("retries", "int") in lake.columns("dead_letters")
    with pytest.raises(LakeSchemaError, match="batch_id: table has bigint, declared string"):
        lake.ensure_table(
            TableDef("dead_letters", (("reason", "string"), ("batch_id", "string")), ("reason",))
        )
    with pytest.raises(
        LakeSchemaError, match=r"partitioned by \[reason\], declared \[unpartitioned\]"
    ):
        lake.ensure_table(TableDef("dead_letters", DEAD_LETTERS.columns))


def test_a_dataframe_is_written_by_spark_and_never_collected(
    spark: Any, lake: SessionCatalogLake
) -> None:
    lake.ensure_table(_flat(RAW_TRADES))
    frame = spark.sql(
        """
        SELECT concat('e', id) AS event_id, 'binance' AS exchange, 'BTC-USDT' AS symbol,
               CAST(100 + id AS INT) AS price, 0.5D AS quantity, 'buy' AS side,
               timestamp'2026-01-01 00:00:00.000001' AS timestamp, id % 2 = 0 AS is_late
        FROM range(500)
        """
    )
    guarded = NoCollect(frame)
    with pytest.raises(AssertionError, match="collected"):
        guarded.toArrow()  # the guard works
    assert lake.append("raw_trades", guarded, "7") is True
    assert lake.append("raw_trades", guarded, "7") is False  # replayed batch: nothing
    out = spark.table(lake.ident("raw_trades"))
    assert out.count() == 500
    row = out.where("event_id = 'e3'").first()
    assert row["price"] == 103.0 and row["quote_warning"] is None and row["is_late"] is False
    assert out.where("timestamp = timestamp'2026-01-01 00:00:00.000001'").count() == 500
    assert [s["batch_key"] for s in lake.snapshots("raw_trades")] == ["7"]
    assert lake.has_batch("raw_trades", "7") and not lake.has_batch("raw_trades", "8")


def test_arrow_rows_become_a_local_frame(spark: Any, lake: SessionCatalogLake) -> None:
    lake.ensure_table(_flat(ANOMALY_ALERTS))
    rows = alerts(["a", "b"]).set_column(
        6,
        "detected_at",
        pa.array([1_767_268_800_123_456_789, 1_767_268_801_000_000_000], pa.timestamp("ns")),
    )
    assert lake.append("anomaly_alerts", rows, "1") is True
    assert lake.append("anomaly_alerts", alerts(["c"]).slice(0, 0), "2") is False
    assert lake.snapshots("anomaly_alerts")[-1]["batch_key"] == "1"  # no key used by "2"
    out = lake.read("anomaly_alerts").sort_by("alert_id")
    assert out.column("alert_id").to_pylist() == ["a", "b"]
    first = out.column("detected_at").to_pylist()[0]
    assert first.replace(tzinfo=UTC) == dt.datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_rows_that_do_not_fit_fail_before_any_write(spark: Any, lake: SessionCatalogLake) -> None:
    lake.ensure_table(_flat(ANOMALY_ALERTS))
    with pytest.raises(LakeSchemaError, match=r"columns the table lacks: \['color'\]"):
        lake.append("anomaly_alerts", spark.sql("SELECT 'a' AS alert_id, 'red' AS color"), "1")
    with pytest.raises(LakeSchemaError, match="cannot write Spark string into a bigint column"):
        lake.append("anomaly_alerts", spark.sql("SELECT 'soon' AS ttl_epoch"), "1")
    with pytest.raises(LakeSchemaError, match="cannot write Spark"):
        lake.append("anomaly_alerts", pa.table({"severity": [1.5]}), "1")
    with pytest.raises(LakeError, match="no lake table"):
        lake.append("missing", alerts(["a"]), "1")
    with pytest.raises(LakeError, match="batch_key"):
        lake.append("anomaly_alerts", alerts(["a"]), "")
    assert lake.snapshots("anomaly_alerts") == []


def test_publisher_hands_the_spark_lake_the_passed_trades_frame(
    spark: Any, lake: SessionCatalogLake, tmp_path: Path
) -> None:
    for t in CORE_TABLES:
        lake.ensure_table(_flat(t))
    frame = spark.sql(
        "SELECT concat('e', id) AS event_id, 'ETH-USDT' AS symbol, 2.0D AS price, "
        "timestamp'2026-01-02 00:00:00' AS timestamp FROM range(3)"
    )
    passed = pa.table({"event_id": ["e0", "e1", "e2"]})  # the same rows, as Arrow
    dead = pa.table({"reason": ["invalid"], "raw": ["{}"], "batch_id": [4]})
    publisher = Publisher(SqliteAlertStore(str(tmp_path / "hot.db")), lake)
    outputs: list[tuple[Plan, pa.Table]] = []
    publisher.lake_tables("4", [alerts(["x"])], outputs, passed, dead, NoCollect(frame))
    publisher.lake_tables("4", [alerts(["x"])], outputs, passed, dead, NoCollect(frame))
    assert spark.table(lake.ident("raw_trades")).where("price = 2.0").count() == 3
    assert spark.table(lake.ident("anomaly_alerts")).count() == 1
    assert spark.table(lake.ident("dead_letters")).count() == 1


def test_the_production_write_is_writeto_append(spark: Any, lake: SessionCatalogLake) -> None:
    # SparkCatalogLake itself (not the stand-in) reaches DataFrameWriterV2.append on the
    # table; the session catalog refuses it only because its tables are v1
    lake.ensure_table(_flat(DEAD_LETTERS))
    real = SparkCatalogLake(spark, "spark_catalog", lake.namespace, provider="parquet")
    frame = spark.sql("SELECT 'invalid' AS reason")
    with pytest.raises(Exception, match=r"Cannot write into v1 table: `spark_catalog`.`lake_"):
        real._write(frame, "dead_letters", "1")


def test_selecting_glue_points_spark_at_the_iceberg_catalog(spark: Any) -> None:
    catalog = f"glue_{uuid.uuid4().hex[:6]}"
    url = f"glue://ctc?warehouse=s3://ctc-lake/wh&catalog={catalog}"
    lake = open_lake(url, spark)
    try:
        assert isinstance(lake, SparkCatalogLake) and lake.writes_frames
        assert spark.conf.get(f"spark.sql.catalog.{catalog}") == (
            "org.apache.iceberg.spark.SparkCatalog"
        )
        assert spark.conf.get(f"spark.sql.catalog.{catalog}.catalog-impl") == (
            "org.apache.iceberg.aws.glue.GlueCatalog"
        )
        # without the Iceberg jars Spark cannot load the catalog: that is as far as it goes
        with pytest.raises(Exception, match=r"org\.apache\.iceberg\.spark\.SparkCatalog"):
            lake.ensure_table(ANOMALY_ALERTS)
    finally:
        for key in session_keys(parse_lake_url(url).spark_conf()):
            spark.conf.unset(key)
