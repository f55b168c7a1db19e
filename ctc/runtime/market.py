"""The hot store's market figures: latest price and 1 h quote volume per symbol and exchange.

Kept as per-minute rows (symbol, exchange, minute, volume, price, last_time) on the
driver between micro-batches; each batch folds its trades in and keeps the last hour
before each key's newest trade. Pure Arrow: no Spark job.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

_MINUTE_US = 60_000_000
_HOUR_US = 3600 * 1_000_000
_TS = pa.timestamp("us", tz="UTC")

SCHEMA = pa.schema(
    [
        ("symbol", pa.string()),
        ("exchange", pa.string()),
        ("minute", _TS),
        ("volume", pa.float64()),
        ("price", pa.float64()),
        ("last_time", _TS),
    ]
)


def _minutes(trades: pa.Table) -> pa.Table:
    """This batch's trades as minute rows."""
    ts = pc.cast(trades.column("timestamp"), pa.int64())
    minute = pc.multiply(pc.divide(ts, _MINUTE_US), _MINUTE_US)  # integer division
    qv = trades.column("quote_volume")
    pq = pc.multiply(trades.column("price"), trades.column("quantity"))
    volume = pc.if_else(pc.is_null(qv), pq, qv)
    return pa.table(
        {
            "symbol": trades.column("symbol"),
            "exchange": trades.column("exchange"),
            "minute": pc.cast(minute, pa.int64()).cast(_TS),
            "volume": volume,
            "price": trades.column("price"),
            "last_time": trades.column("timestamp"),
        },
        schema=SCHEMA,
    )


def fold(old: pa.Table | None, trades: pa.Table) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Fold ``trades`` into the minute rows ``old``.

    Returns the minute rows to keep (the last hour before each key's newest trade) and
    one market row per (symbol, exchange): ``price`` (of the newest trade),
    ``volume_1h`` and ``updated_us`` (the newest trade's time, epoch µs).
    """
    parts = [t for t in (old, _minutes(trades)) if t is not None and t.num_rows]
    if not parts:
        return pa.Table.from_pylist([], schema=SCHEMA), []
    both = pa.concat_tables([p.cast(SCHEMA) for p in parts])
    # the newest row of each (key, minute) last: its price is the minute's price
    both = both.sort_by(
        [
            ("symbol", "ascending"),
            ("exchange", "ascending"),
            ("minute", "ascending"),
            ("last_time", "ascending"),
        ]
    )
    minutes = both.group_by(["symbol", "exchange", "minute"], use_threads=False).aggregate(
        [("volume", "sum"), ("price", "last"), ("last_time", "max")]
    )
    minutes = (
        minutes.rename_columns(
            {"volume_sum": "volume", "price_last": "price", "last_time_max": "last_time"}
        )
        .select(SCHEMA.names)
        .cast(SCHEMA)
    )
    newest = minutes.group_by(["symbol", "exchange"]).aggregate([("last_time", "max")])
    joined = minutes.join(newest, ["symbol", "exchange"])
    cutoff = pc.subtract(pc.cast(joined.column("last_time_max"), pa.int64()), _HOUR_US)
    recent = joined.filter(pc.greater(pc.cast(joined.column("minute"), pa.int64()), cutoff))
    kept = recent.select(SCHEMA.names).cast(SCHEMA)
    ordered = kept.sort_by(
        [("symbol", "ascending"), ("exchange", "ascending"), ("last_time", "ascending")]
    )
    per_key = ordered.group_by(["symbol", "exchange"], use_threads=False).aggregate(
        [("volume", "sum"), ("price", "last"), ("last_time", "max")]
    )
    per_key = per_key.set_column(
        per_key.schema.get_field_index("last_time_max"),
        "last_time_max",
        pc.cast(per_key.column("last_time_max"), pa.int64()),
    )
    rows = [
        {
            "symbol": r["symbol"],
            "exchange": r["exchange"],
            "price": float(r["price_last"]),
            "volume_1h": float(r["volume_sum"] or 0.0),
            "updated_us": int(r["last_time_max"]),
        }
        for r in per_key.to_pylist()
    ]
    return kept, rows
