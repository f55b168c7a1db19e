"""Row builders shared by the lake tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pyarrow as pa

from ctc.sinks.lake.tables import TableDef

UTC = dt.UTC


def alerts(
    ids: list[str], at: dt.datetime | None = None, alert_type: str = "whale_trade"
) -> pa.Table:
    """Base alert rows with the given ids, detected one second apart from ``at``."""
    start = at or dt.datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    times = [start + dt.timedelta(seconds=i) for i in range(len(ids))]
    return pa.table(
        {
            "alert_id": ids,
            "alert_type": [alert_type] * len(ids),
            "module_id": ["MOD-002"] * len(ids),
            "symbol": ["BTC-USDT"] * len(ids),
            "exchange": ["binance"] * len(ids),
            "severity": ["high"] * len(ids),
            "detected_at": pa.array(times, pa.timestamp("us", tz="UTC")),
            "message": ["big trade"] * len(ids),
            "ttl_epoch": [int(t.timestamp()) + 86400 for t in times],
            "details": ['{"quote_volume": 600000}'] * len(ids),
        }
    )


def ids_of(table: pa.Table, column: str = "alert_id") -> list[str]:
    """The sorted values of one column."""
    return sorted(table.column(column).to_pylist())


def table_def(
    name: str, columns: Sequence[tuple[str, str]], partition_by: Sequence[str] = ()
) -> TableDef:
    """A TableDef from lists, as the tests write them."""
    return TableDef(name, tuple(columns), tuple(partition_by))
