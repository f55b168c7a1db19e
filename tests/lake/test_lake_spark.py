"""The runtime's path: a Spark DataFrame → toArrow() → LocalLake.append, with a real session."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest
from lake_helpers import UTC

from ctc.sinks.lake.local import LocalLake
from ctc.sinks.lake.tables import ARROW_TIMESTAMP, ensure_core_tables

pytestmark = pytest.mark.spark


def test_spark_alerts_round_trip(spark: Any, lake: LocalLake) -> None:
    ensure_core_tables(lake)
    df = spark.sql(
        """
        SELECT concat('a', id) AS alert_id,
               'volume_spike' AS alert_type,
               'MOD-001' AS module_id,
               'ETH-USDT' AS symbol,
               CAST(NULL AS STRING) AS exchange,
               'high' AS severity,
               timestamp'2026-02-03 23:59:59.654321'
                 + make_interval(0, 0, 0, 0, 0, 0, id) AS detected_at,
               'spike' AS message,
               unix_timestamp(timestamp'2026-02-03 23:59:59') + 86400 AS ttl_epoch,
               to_json(named_struct('z_score', 3.7 + id)) AS details
        FROM range(3)
        """
    )
    arrow = df.toArrow()
    assert arrow.schema.field("detected_at").type == ARROW_TIMESTAMP  # pyspark 4.0, session UTC
    assert lake.append("anomaly_alerts", arrow, "MOD-001:0") is True
    assert lake.append("anomaly_alerts", df.toArrow(), "MOD-001:0") is False  # replayed batch

    out = lake.read("anomaly_alerts").sort_by("alert_id")
    assert out.num_rows == 3
    first = out.to_pylist()[0]
    assert first["detected_at"] == dt.datetime(2026, 2, 3, 23, 59, 59, 654321, tzinfo=UTC)
    assert first["exchange"] is None and first["ttl_epoch"] == 1770249599
    # what Spark computes and what the lake returns agree to the microsecond
    assert (
        out.column("detected_at").to_pylist()
        == arrow.sort_by("alert_id").column("detected_at").to_pylist()
    )
    days = {
        p["partition"]["detected_at_day"]
        for p in lake.table("anomaly_alerts").inspect.partitions().to_pylist()
    }
    assert days == {dt.date(2026, 2, 3), dt.date(2026, 2, 4)}


def test_spark_trades_round_trip_with_int_and_missing_columns(spark: Any, lake: LocalLake) -> None:
    ensure_core_tables(lake)
    df = spark.sql(
        """
        SELECT concat('e', id) AS event_id, 'binance' AS exchange, 'BTC-USDT' AS symbol,
               CAST(100 + id AS INT) AS price, 0.5D AS quantity,
               (100 + id) * 0.5D AS quote_volume, 'buy' AS side,
               timestamp'2026-01-01 00:00:00.000001' AS timestamp,
               current_timestamp() AS ingestion_timestamp,
               id % 2 = 0 AS is_late
        FROM range(1000)
        """
    )
    assert lake.append("raw_trades", df.toArrow(), "trades:0")
    out = lake.read("raw_trades")
    assert out.num_rows == 1000
    assert out.schema.field("price").type == pa.float64()
    assert out.column("quote_warning").null_count == 1000  # not in the batch → null
    assert set(out.column("timestamp").to_pylist()) == {
        dt.datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    }


def test_empty_spark_batch_writes_nothing(spark: Any, lake: LocalLake) -> None:
    ensure_core_tables(lake)
    df = spark.sql("SELECT 'a' AS alert_id, current_timestamp() AS detected_at").limit(0)
    assert lake.append("anomaly_alerts", df.toArrow(), "empty:0") is False
    assert lake.snapshots("anomaly_alerts") == []
