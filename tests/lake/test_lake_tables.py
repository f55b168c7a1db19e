"""LocalLake tables: core and plan tables, partition specs, schema evolution and mismatches."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from lake_helpers import alerts, table_def

from ctc.events import ALERT_FIELDS, TRADE_EVENT_FIELDS
from ctc.sinks.lake.base import LakeError, LakeSchemaError
from ctc.sinks.lake.local import LocalLake
from ctc.sinks.lake.tables import (
    ANOMALY_ALERTS,
    CORE_TABLES,
    DEAD_LETTERS,
    RAW_TRADES,
    TableDef,
    ensure_core_tables,
    ensure_plan_tables,
    parse_partition,
    plan_table,
)


def spec_of(lake: LocalLake, name: str) -> list[tuple[str, str, str]]:
    """(partition field name, transform, source column) of a table's current spec."""
    table = lake.table(name)
    schema = table.schema()
    return [
        (f.name, str(f.transform), schema.find_column_name(f.source_id) or "?")
        for f in table.spec().fields
    ]


def columns_of(lake: LocalLake, name: str) -> list[tuple[str, str]]:
    """(name, Iceberg type) of a table's current schema."""
    return [(f.name, str(f.field_type)) for f in lake.table(name).schema().fields]


def test_core_table_constants_follow_events_and_modules() -> None:
    assert ANOMALY_ALERTS.columns == (
        *ALERT_FIELDS.items(),
        ("spec_version", "string"),
        ("ctc_version", "string"),
    )
    assert ANOMALY_ALERTS.partition_by == ("day(detected_at)", "alert_type")
    assert RAW_TRADES.columns[: len(TRADE_EVENT_FIELDS)] == tuple(TRADE_EVENT_FIELDS.items())
    assert RAW_TRADES.columns[len(TRADE_EVENT_FIELDS) :] == (
        ("is_late", "boolean"),
        ("quote_warning", "boolean"),
    )
    assert RAW_TRADES.partition_by == ("day(timestamp)", "symbol")
    assert [c for c, _ in DEAD_LETTERS.columns] == [
        "reason",
        "rule",
        "detail",
        "event_id",
        "raw",
        "source_file",
        "received_at",
        "batch_id",
    ]
    assert DEAD_LETTERS.partition_by == ("reason", "day(received_at)")


def test_core_tables_created_with_declared_specs(lake: LocalLake) -> None:
    assert ensure_core_tables(lake) == ["anomaly_alerts", "raw_trades", "dead_letters"]
    assert lake.tables() == ["anomaly_alerts", "dead_letters", "raw_trades"]
    assert spec_of(lake, "anomaly_alerts") == [
        ("detected_at_day", "day", "detected_at"),
        ("alert_type", "identity", "alert_type"),
    ]
    assert spec_of(lake, "raw_trades") == [
        ("timestamp_day", "day", "timestamp"),
        ("symbol", "identity", "symbol"),
    ]
    assert spec_of(lake, "dead_letters") == [
        ("reason", "identity", "reason"),
        ("received_at_day", "day", "received_at"),
    ]
    types = dict(columns_of(lake, "raw_trades"))
    assert types["timestamp"] == "timestamptz"
    assert types["price"] == "double"
    assert types["is_late"] == "boolean"
    assert dict(columns_of(lake, "dead_letters"))["batch_id"] == "long"
    # every field optional: a missing column is written as null
    assert not any(f.required for t in CORE_TABLES for f in lake.table(t.name).schema().fields)


def test_ensure_is_idempotent_and_survives_reopening(lake: LocalLake) -> None:
    ensure_core_tables(lake)
    before = lake.table("anomaly_alerts").metadata
    ensure_core_tables(lake)
    again = LocalLake(lake.warehouse)  # a restarted runtime
    ensure_core_tables(again)
    after = again.table("anomaly_alerts").metadata
    assert after.current_schema_id == before.current_schema_id
    assert len(after.schemas) == 1
    assert after.default_spec_id == before.default_spec_id
    assert again.tables() == lake.tables()


def _plan_is_sound(plan: Any) -> bool:
    """Whether every day()/hour()/month() partition of a plan is over a time-typed column."""
    types = dict(plan.output_columns)
    for item in plan.output_partition_by:
        column, transform = parse_partition(item)
        if transform != "identity" and types.get(column) not in ("timestamp", "date"):
            return False
    return True


def test_every_sound_plan_table_is_created_as_declared(lake: LocalLake, plans: list[Any]) -> None:
    sound = [p for p in plans if _plan_is_sound(p)]
    assert sound == plans  # every time partition is over a timestamp column
    created = ensure_plan_tables(lake, plans, strict=False)
    assert sorted(created) == sorted({p.output_table for p in sound})
    for p in sound:
        t = plan_table(p)
        assert [c for c, _ in columns_of(lake, t.name)] == [c for c, _ in t.columns]
        expected = [
            (c if tr == "identity" else f"{c}_{tr}", tr, c)
            for c, tr in (parse_partition(x) for x in t.partition_by)
        ]
        assert spec_of(lake, t.name) == expected
    assert "whale_trades" in created
    assert spec_of(lake, "volume_aggregates")[0] == ("window_start_day", "day", "window_start")
    assert spec_of(lake, "labeled_wallets") == []


def test_all_plan_tables_create_cleanly(lake: LocalLake, plans: list[Any]) -> None:
    ensure_plan_tables(lake, plans)


def test_new_columns_are_added_and_old_rows_read_null(lake: LocalLake) -> None:
    lake.ensure_table(table_def("t", [("id", "string"), ("n", "int")], ["id"]))
    lake.append("t", pa.table({"id": ["a"], "n": [1]}), "b1")
    lake.ensure_table(table_def("t", [("id", "string"), ("n", "int"), ("extra", "double")], ["id"]))
    assert columns_of(lake, "t") == [("id", "string"), ("n", "int"), ("extra", "double")]
    lake.append("t", pa.table({"id": ["b"], "extra": [2.5]}), "b2")
    rows = sorted(lake.read("t").to_pylist(), key=lambda r: r["id"])
    assert rows == [{"id": "a", "n": 1, "extra": None}, {"id": "b", "n": None, "extra": 2.5}]


def test_columns_left_out_are_kept_not_dropped(lake: LocalLake) -> None:
    lake.ensure_table(table_def("t", [("id", "string"), ("old", "string")]))
    lake.ensure_table(table_def("t", [("id", "string")]))
    assert [c for c, _ in columns_of(lake, "t")] == ["id", "old"]


def test_int_widens_to_bigint_in_place(lake: LocalLake) -> None:
    lake.ensure_table(table_def("t", [("n", "int"), ("x", "float")]))
    lake.append("t", pa.table({"n": pa.array([7], pa.int32())}), "b1")
    lake.ensure_table(table_def("t", [("n", "bigint"), ("x", "double")]))
    assert columns_of(lake, "t") == [("n", "long"), ("x", "double")]
    lake.append("t", pa.table({"n": [2**40]}), "b2")
    assert sorted(lake.read("t").column("n").to_pylist()) == [7, 2**40]


def test_incompatible_type_change_is_a_clear_error(lake: LocalLake) -> None:
    lake.ensure_table(table_def("t", [("id", "string"), ("v", "double")]))
    with pytest.raises(LakeSchemaError, match=r"v: table has double, declared string"):
        lake.ensure_table(table_def("t", [("id", "string"), ("v", "string"), ("new", "int")]))
    # nothing changed, not even the new column
    assert columns_of(lake, "t") == [("id", "string"), ("v", "double")]


def test_different_partitioning_is_a_clear_error(lake: LocalLake) -> None:
    lake.ensure_table(table_def("t", [("ts", "timestamp"), ("s", "string")], ["day(ts)", "s"]))
    with pytest.raises(LakeSchemaError, match=r"partitioned by \[day\(ts\), s\], declared \[s\]"):
        lake.ensure_table(table_def("t", [("ts", "timestamp"), ("s", "string")], ["s"]))


@pytest.mark.parametrize(
    ("partition", "message"),
    [
        ("day(nope)", "no column 'nope'"),
        ("day(s)", "needs a timestamp or date"),
        ("hour(d)", "hour\\(\\) needs a timestamp"),
        ("bucket(s)", "not one of"),
        ("day(ts", "bad partition item"),
    ],
)
def test_bad_partitioning_is_rejected_before_creating(
    lake: LocalLake, partition: str, message: str
) -> None:
    with pytest.raises(LakeSchemaError, match=message):
        lake.ensure_table(
            table_def("t", [("ts", "timestamp"), ("s", "string"), ("d", "date")], [partition])
        )
    assert lake.tables() == []


def test_transform_spellings() -> None:
    assert parse_partition("symbol") == ("symbol", "identity")
    assert parse_partition(" day( detected_at ) ") == ("detected_at", "day")
    assert parse_partition("days(ts)") == ("ts", "day")
    assert parse_partition("hour(ts)") == ("ts", "hour")
    assert parse_partition("month(ts)") == ("ts", "month")


def test_month_and_hour_partitions(lake: LocalLake) -> None:
    lake.ensure_table(
        table_def("t", [("ts", "timestamp"), ("d", "date")], ["hour(ts)", "month(d)"])
    )
    assert spec_of(lake, "t") == [("ts_hour", "hour", "ts"), ("d_month", "month", "d")]


def test_unknown_type_and_bad_names(lake: LocalLake) -> None:
    with pytest.raises(LakeSchemaError, match="unsupported column type 'decimal"):
        lake.ensure_table(table_def("t", [("x", "decimal(10,2)")]))
    with pytest.raises(LakeSchemaError, match="repeated"):
        lake.ensure_table(table_def("t", [("x", "int"), ("x", "int")]))
    with pytest.raises(LakeError, match="bad table name"):
        lake.ensure_table(table_def("a.b", [("x", "int")]))
    with pytest.raises(LakeError, match=r"no lake table ctc\.missing"):
        lake.read("missing")
    with pytest.raises(LakeError, match=r"no lake table"):
        lake.append("missing", alerts(["a"]), "k")


def test_an_anomaly_alerts_table_without_provenance_gets_it(lake: LocalLake) -> None:
    """A lake made before alerts kept their provenance: ensuring the core tables adds the
    two columns in place, its rows read them as null, and new rows carry them."""
    old = TableDef("anomaly_alerts", tuple(ALERT_FIELDS.items()), ANOMALY_ALERTS.partition_by)
    lake.ensure_table(old)
    assert lake.append("anomaly_alerts", alerts(["old"]), "1")
    ensure_core_tables(LocalLake(lake.warehouse))  # the next run, on the new release
    again = LocalLake(lake.warehouse)
    assert [n for n, _t in columns_of(again, "anomaly_alerts")][-2:] == [
        "spec_version",
        "ctc_version",
    ]
    new = alerts(["new"])
    new = new.append_column("spec_version", pa.array(["00ff00ff00ff00ff"]))
    new = new.append_column("ctc_version", pa.array(["0.1.0"]))
    assert again.append("anomaly_alerts", new, "2")
    rows = {
        r["alert_id"]: (r["spec_version"], r["ctc_version"])
        for r in again.read("anomaly_alerts").to_pylist()
    }
    assert rows == {"old": (None, None), "new": ("00ff00ff00ff00ff", "0.1.0")}
