"""What a run's trade input covered: per symbol and exchange, its span of event time, its
trades and its largest values. Kept on the driver from each batch's passed rows, for
saying why a detector cannot fire on the input (:mod:`ctc.runtime.silence`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

#: Trade columns whose largest value is kept (a per-row threshold is compared with it).
TRACKED = ("quote_volume", "price", "quantity")


@dataclass
class KeyCoverage:
    """One symbol on one exchange: first and last event time (µs), trades, largest values."""

    first_us: int
    last_us: int
    trades: int
    largest: dict[str, float] = field(default_factory=dict)

    def merge(self, other: KeyCoverage) -> None:
        """Take ``other``'s trades into this one."""
        self.first_us = min(self.first_us, other.first_us)
        self.last_us = max(self.last_us, other.last_us)
        self.trades += other.trades
        for col, value in other.largest.items():
            self.largest[col] = max(self.largest.get(col, value), value)


@dataclass
class Coverage:
    """Per (symbol, exchange): what the input held (see :class:`KeyCoverage`)."""

    keys: dict[tuple[str, str], KeyCoverage] = field(default_factory=dict)

    def add(self, key: tuple[str, str], seen: KeyCoverage) -> None:
        """Count ``seen`` under ``key``."""
        if key in self.keys:
            self.keys[key].merge(seen)
        else:
            self.keys[key] = KeyCoverage(
                seen.first_us, seen.last_us, seen.trades, dict(seen.largest)
            )

    def add_trades(self, passed: pa.Table) -> None:
        """Count a batch of passed trade events (the gate's Arrow table)."""
        import pyarrow as pa

        if not passed.num_rows:
            return
        ts = passed["timestamp"].cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
        table = pa.table(
            {
                "symbol": passed["symbol"],
                "exchange": passed["exchange"],
                "ts": ts,
                **{c: passed[c] for c in TRACKED},
            }
        )
        grouped = table.group_by(["symbol", "exchange"]).aggregate(
            [("ts", "min"), ("ts", "max"), ("ts", "count"), *[(c, "max") for c in TRACKED]]
        )
        for row in grouped.to_pylist():
            self.add(
                (row["symbol"], row["exchange"]),
                KeyCoverage(
                    row["ts_min"],
                    row["ts_max"],
                    row["ts_count"],
                    {c: row[f"{c}_max"] for c in TRACKED if row[f"{c}_max"] is not None},
                ),
            )

    @property
    def exchanges(self) -> set[str]:
        """Every exchange with a trade."""
        return {e for _s, e in self.keys}

    @property
    def trades(self) -> int:
        """Trades counted."""
        return sum(k.trades for k in self.keys.values())

    def largest(self, column: str) -> float | None:
        """The largest value of ``column`` over every trade (None: no trades)."""
        values = [k.largest[column] for k in self.keys.values() if column in k.largest]
        return max(values) if values else None
