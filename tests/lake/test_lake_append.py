"""Idempotent appends, casting to the table schema, time travel, concurrency, AWS conf."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from lake_helpers import UTC, alerts, ids_of, table_def

from ctc.sinks.lake.base import BATCH_KEY_PROPERTY, LakeError, LakeSchemaError
from ctc.sinks.lake.local import LocalLake
from ctc.sinks.lake.spark_conf import spark_iceberg_conf
from ctc.sinks.lake.tables import ARROW_TIMESTAMP, ensure_core_tables


@pytest.fixture
def core(lake: LocalLake) -> LocalLake:
    """A lake with the core tables."""
    ensure_core_tables(lake)
    return lake


def test_same_batch_key_twice_does_not_double(core: LocalLake) -> None:
    assert core.append("anomaly_alerts", alerts(["a", "b"]), "mod-002:7") is True
    assert core.append("anomaly_alerts", alerts(["a", "b"]), "mod-002:7") is False
    assert ids_of(core.read("anomaly_alerts")) == ["a", "b"]
    # the key survives a restart (a new LocalLake on the same warehouse)
    again = LocalLake(core.warehouse)
    assert again.append("anomaly_alerts", alerts(["a", "b"]), "mod-002:7") is False
    assert again.read("anomaly_alerts").num_rows == 2
    assert again.has_batch("anomaly_alerts", "mod-002:7")


def test_different_batch_keys_add_and_are_recorded(core: LocalLake) -> None:
    assert core.append("anomaly_alerts", alerts(["a", "b"]), "q:1")
    assert core.append("anomaly_alerts", alerts(["c"]), "q:2")
    assert ids_of(core.read("anomaly_alerts")) == ["a", "b", "c"]
    snaps = core.snapshots("anomaly_alerts")
    assert [(s["batch_key"], s["added_rows"], s["operation"]) for s in snaps] == [
        ("q:1", 2, "append"),
        ("q:2", 1, "append"),
    ]
    assert snaps[1]["parent_id"] == snaps[0]["id"]
    assert snaps[0]["timestamp_ms"] <= snaps[1]["timestamp_ms"]
    current = core.table("anomaly_alerts").current_snapshot()
    assert current is not None and current.summary is not None
    assert current.summary[BATCH_KEY_PROPERTY] == "q:2"


def test_keys_are_per_table(core: LocalLake) -> None:
    assert core.append("anomaly_alerts", alerts(["a"]), "k")
    trades = pa.table({"event_id": ["e1"], "symbol": ["BTC-USDT"]})
    assert core.append("raw_trades", trades, "k")


def test_empty_rows_record_nothing(core: LocalLake) -> None:
    assert core.append("anomaly_alerts", alerts([]), "empty") is False
    assert core.snapshots("anomaly_alerts") == []
    assert core.read("anomaly_alerts").num_rows == 0
    # the key was not consumed: a later non-empty batch with it is written
    assert core.append("anomaly_alerts", alerts(["a"]), "empty") is True


def test_time_travel_reads_earlier_rows(core: LocalLake) -> None:
    core.append("anomaly_alerts", alerts(["a", "b"]), "1")
    first = core.snapshots("anomaly_alerts")[0]["id"]
    core.append("anomaly_alerts", alerts(["c", "d"]), "2")
    assert ids_of(core.read("anomaly_alerts", snapshot_id=first)) == ["a", "b"]
    assert ids_of(core.read("anomaly_alerts")) == ["a", "b", "c", "d"]
    with pytest.raises(LakeError, match="no snapshot 42"):
        core.read("anomaly_alerts", snapshot_id=42)


def test_timestamps_exact_to_the_microsecond_and_utc(core: LocalLake) -> None:
    instant = dt.datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC)
    old = dt.datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC)
    ny = ZoneInfo("America/New_York")
    batches = {
        "us-utc": pa.array([instant, old], pa.timestamp("us", tz="UTC")),
        # same instants, other zone / unit: stored as the same UTC instants
        "us-ny": pa.array([instant.astimezone(ny), old], pa.timestamp("us", tz="America/New_York")),
        "ns-tokyo": pa.array(
            [
                int(instant.timestamp()) * 10**9 + 999999 * 1000 + 789,  # extra ns dropped
                -(10**9) + 1000,
            ],
            pa.timestamp("ns", tz="Asia/Tokyo"),
        ),
        # naive timestamps are taken as UTC (what Spark's timestamp_ntz gives under UTC)
        "us-naive": pa.array(
            [instant.replace(tzinfo=None), old.replace(tzinfo=None)], pa.timestamp("us")
        ),
    }
    for key, col in batches.items():
        rows = pa.table({"alert_id": [f"{key}-1", f"{key}-2"], "detected_at": col})
        assert core.append("anomaly_alerts", rows, key)
    out = core.read("anomaly_alerts")
    assert out.schema.field("detected_at").type == ARROW_TIMESTAMP
    by_id = dict(
        zip(out.column("alert_id").to_pylist(), out.column("detected_at").to_pylist(), strict=True)
    )
    for key in batches:
        assert by_id[f"{key}-1"] == instant, key
        assert by_id[f"{key}-1"].utcoffset() == dt.timedelta(0)
        assert by_id[f"{key}-2"] == old, key
    # day partitions are UTC days: 23:59:59.999999 UTC is 2026-03-01 though it is 18:59 in NY
    days = {
        p["partition"]["detected_at_day"]
        for p in core.table("anomaly_alerts").inspect.partitions().to_pylist()
    }
    assert days == {dt.date(2026, 3, 1), dt.date(1969, 12, 31)}


def test_ms_and_second_timestamps_and_dates(lake: LocalLake) -> None:
    lake.ensure_table(table_def("t", [("ts", "timestamp"), ("d", "date")]))
    rows = pa.table(
        {
            "ts": pa.array([1_700_000_000_123], pa.timestamp("ms", tz="UTC")),
            "d": pa.array([dt.date(2026, 1, 2)], pa.date32()),
        }
    )
    lake.append("t", rows, "k")
    out = lake.read("t").to_pylist()[0]
    assert out["ts"] == dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert out["d"] == dt.date(2026, 1, 2)


def test_numbers_cast_to_declared_types(core: LocalLake) -> None:
    rows = pa.table(
        {
            "event_id": ["e"],
            "price": pa.array([3], pa.int32()),  # int → double
            "quantity": pa.array([0.5], pa.float32()),  # float → double
            "is_late": [True],
        }
    )
    core.append("raw_trades", rows, "k")
    out = core.read("raw_trades")
    assert out.schema.field("price").type == pa.float64()
    row = out.to_pylist()[0]
    assert (row["price"], row["quantity"], row["is_late"], row["symbol"]) == (3.0, 0.5, True, None)
    # ttl_epoch is bigint: an int32 widens, a whole double fits, a fraction does not
    core.append(
        "anomaly_alerts",
        pa.table({"alert_id": ["x"], "ttl_epoch": pa.array([5], pa.int32())}),
        "i32",
    )
    core.append("anomaly_alerts", pa.table({"alert_id": ["y"], "ttl_epoch": [6.0]}), "f64")
    assert sorted(core.read("anomaly_alerts").column("ttl_epoch").to_pylist()) == [5, 6]
    with pytest.raises(LakeSchemaError, match="ttl_epoch"):
        core.append("anomaly_alerts", pa.table({"alert_id": ["z"], "ttl_epoch": [6.5]}), "frac")


def test_rows_that_do_not_fit_are_errors(core: LocalLake) -> None:
    with pytest.raises(LakeSchemaError, match=r"columns the table lacks: \['surprise'\]"):
        core.append("anomaly_alerts", alerts(["a"]).append_column("surprise", pa.array([1])), "x")
    with pytest.raises(LakeSchemaError, match=r"'price'.*string"):
        core.append("raw_trades", pa.table({"price": ["12.5"]}), "x")
    with pytest.raises(LakeSchemaError, match="'symbol'"):
        core.append("raw_trades", pa.table({"symbol": [1]}), "x")
    with pytest.raises(LakeSchemaError, match="'detected_at'"):
        core.append("anomaly_alerts", pa.table({"detected_at": ["2026-01-01T00:00:00Z"]}), "x")
    # also for empty rows: a wrong shape is caught before there is data
    with pytest.raises(LakeSchemaError, match="lacks"):
        core.append("anomaly_alerts", pa.table({"nope": pa.array([], pa.int64())}), "x")
    with pytest.raises(LakeError, match="batch_key"):
        core.append("anomaly_alerts", alerts(["a"]), "")
    assert core.snapshots("anomaly_alerts") == [] and core.snapshots("raw_trades") == []


def test_null_typed_and_dictionary_columns(core: LocalLake) -> None:
    rows = pa.table(
        {
            "alert_id": pa.array(["a", "b"]).dictionary_encode(),
            "exchange": pa.nulls(2),
        }
    )
    core.append("anomaly_alerts", rows, "k")
    out = core.read("anomaly_alerts")
    assert ids_of(out) == ["a", "b"] and out.column("exchange").null_count == 2


def test_concurrent_appends_from_threads(core: LocalLake) -> None:
    results: list[bool] = []
    errors: list[BaseException] = []

    def write(key: str, ids: list[str]) -> None:
        try:
            results.append(core.append("anomaly_alerts", alerts(ids), key))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"k{i}", [f"{i}a", f"{i}b"])) for i in range(6)]
    threads += [threading.Thread(target=write, args=("same", ["s"])) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [False, False] + [True] * 7
    assert core.read("anomaly_alerts").num_rows == 13


def test_same_key_from_separate_lake_objects_in_threads(core: LocalLake) -> None:
    lakes = [LocalLake(core.warehouse) for _ in range(4)]
    results: list[bool] = []

    def write(lk: LocalLake) -> None:
        for j in range(3):
            results.append(lk.append("anomaly_alerts", alerts([f"s{j}"]), f"same:{j}"))

    threads = [threading.Thread(target=write, args=(lk,)) for lk in lakes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 3
    assert ids_of(core.read("anomaly_alerts")) == ["s0", "s1", "s2"]


def test_two_lake_objects_same_warehouse(core: LocalLake) -> None:
    other = LocalLake(core.warehouse)
    assert other.append("anomaly_alerts", alerts(["a"]), "1")
    assert core.append("anomaly_alerts", alerts(["b"]), "2")
    assert core.append("anomaly_alerts", alerts(["a"]), "1") is False
    assert ids_of(other.read("anomaly_alerts")) == ["a", "b"]


def test_spark_iceberg_conf_glue() -> None:
    conf = spark_iceberg_conf("lake", "s3://ctc-lake/warehouse")
    assert conf == {
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        "spark.sql.catalog.lake": "org.apache.iceberg.spark.SparkCatalog",
        "spark.sql.catalog.lake.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
        "spark.sql.catalog.lake.warehouse": "s3://ctc-lake/warehouse",
        "spark.sql.catalog.lake.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
    }
    assert all(isinstance(v, str) for v in conf.values())


def test_spark_iceberg_conf_without_glue_and_validation() -> None:
    conf = spark_iceberg_conf("dev", "s3://bucket", glue=False)
    assert conf["spark.sql.catalog.dev.type"] == "hadoop"
    assert "spark.sql.catalog.dev.catalog-impl" not in conf
    assert conf["spark.sql.catalog.dev.io-impl"] == "org.apache.iceberg.aws.s3.S3FileIO"
    with pytest.raises(ValueError, match="s3://"):
        spark_iceberg_conf("dev", "/tmp/warehouse")
    with pytest.raises(ValueError, match="catalog name"):
        spark_iceberg_conf("my-cat", "s3://bucket/x")
