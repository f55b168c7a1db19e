"""The shared alert sink of the streaming runtime: what one micro-batch publishes.

The detectors' results arrive here as Arrow tables already on the driver (the batch's
collect); the passed trades come both as Arrow and as a Spark DataFrame over the gate's
cache:

* the hot store: every alert (upsert by alert_id), the dashboard's chart series
  (60 s volumes of MOD-001, spreads of MOD-003), the latest price and 1 h volume per
  symbol and exchange;
* the lake (:mod:`ctc.sinks.lake`): ``anomaly_alerts``, ``raw_trades``, ``dead_letters``
  and each module's table, appended once per batch key (a replayed batch writes nothing
  twice). The local lake writes the Arrow tables with pyiceberg (no Spark job); a
  Spark-catalog lake writes the passed trades from the DataFrame (nothing collected) and
  the small Arrow results as local DataFrames.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from ctc.compiler.plan import Plan
from ctc.events import ALERT_FIELDS, STORED_ALERT_FIELDS
from ctc.runtime.provenance import Provenance
from ctc.sinks.stores.records import iso_utc

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from ctc.sinks.lake.base import Lake, Rows
    from ctc.sinks.stores.base import AlertStore

#: Chart series of the dashboard: module → (series kind, value column, exchange column or
#: None for a cross-exchange series, extra columns).
SERIES: dict[str, tuple[str, str, str | None, tuple[str, ...]]] = {
    "MOD-001": ("volume", "window_volume", "exchange", ("z_score", "trade_count")),
    "MOD-003": ("spread", "spread_pct", None, ("vwap_a", "vwap_b")),
}


def iso_from_us(us: int) -> str:
    """Epoch microseconds as the stores' fixed-width ISO 8601 UTC text."""
    return iso_utc(datetime.fromtimestamp(us / 1e6, tz=UTC))


def _micros(table: pa.Table, name: str) -> list[int | None]:
    return pc.cast(table.column(name), pa.int64()).to_pylist()


def alert_records(alerts: pa.Table) -> list[dict[str, Any]]:
    """Alert rows (``ALERT_FIELDS``) as the hot store's records."""
    if alerts.num_rows == 0:
        return []
    detected = _micros(alerts, "detected_at")
    rows = alerts.select(list(ALERT_FIELDS)).drop_columns(["detected_at"]).to_pylist()
    for row, us in zip(rows, detected, strict=True):
        row["detected_at"] = iso_from_us(int(us)) if us is not None else None
    return rows


def series_rows(plan: Plan, output: pa.Table) -> tuple[str, list[dict[str, Any]]] | None:
    """The dashboard series rows of one plan's output, or None when it has no series."""
    if plan.module not in SERIES or output.num_rows == 0:
        return None
    kind, value, exchange, extras = SERIES[plan.module]
    starts = _micros(output, "window_start")
    cols = {c: output.column(c).to_pylist() for c in ("symbol", value, *extras)}
    exchanges = output.column(exchange).to_pylist() if exchange else [None] * output.num_rows
    rows = []
    for i, us in enumerate(starts):
        row: dict[str, Any] = {
            "symbol": cols["symbol"][i],
            "exchange": exchanges[i],
            "value": cols[value][i],
            "window_start": iso_from_us(int(us)) if us is not None else None,
        }
        for extra in extras:
            row[extra] = cols[extra][i]
        rows.append(row)
    return kind, rows


class Publisher:
    """Writes one batch's results to the hot store and the lake, each alert stamped with
    the version of the plan that raised it (:mod:`ctc.runtime.provenance`)."""

    def __init__(self, store: AlertStore, lake: Lake | None, plans: Sequence[Plan] = ()) -> None:
        self.store = store
        self.lake = lake
        self.provenance = Provenance(plans)

    def hot_store(
        self,
        alerts: list[dict[str, Any]],
        outputs: Sequence[tuple[Plan, pa.Table]],
        market: list[dict[str, Any]],
    ) -> None:
        """Alerts, chart series and market figures to the hot store."""
        if alerts:
            self.store.put_alerts(self.provenance.stamp(alerts))
        for plan, output in outputs:
            series = series_rows(plan, output)
            if series is not None:
                self.store.put_windows(*series)
        if market:
            self.store.put_market(
                [
                    {
                        "symbol": m["symbol"],
                        "exchange": m["exchange"],
                        "price": m["price"],
                        "volume_1h": m["volume_1h"],
                        "updated_at": iso_from_us(m["updated_us"]),
                    }
                    for m in market
                ]
            )

    def lake_tables(
        self,
        batch_key: str,
        alerts: Sequence[pa.Table],
        outputs: Sequence[tuple[Plan, pa.Table]],
        passed: pa.Table,
        dead_letters: pa.Table,
        passed_frame: DataFrame | None = None,
    ) -> None:
        """Append the batch to every lake table, once per ``batch_key``.

        The passed trades are written from ``passed_frame`` (the same rows in Spark) when
        the lake writes DataFrames without collecting them, from ``passed`` otherwise.
        """
        if self.lake is None:
            return
        tables = [
            self.provenance.stamp_table(a.select(list(ALERT_FIELDS))).select(
                list(STORED_ALERT_FIELDS)
            )
            for a in alerts
            if a.num_rows
        ]
        if tables:
            schema = tables[0].schema
            self.lake.append(
                "anomaly_alerts", pa.concat_tables([t.cast(schema) for t in tables]), batch_key
            )
        trades: Rows = passed
        if passed_frame is not None and passed.num_rows and self.lake.writes_frames:
            trades = passed_frame
        self.lake.append("raw_trades", trades, batch_key)
        self.lake.append("dead_letters", dead_letters, batch_key)
        for plan, output in outputs:
            if output.num_rows:
                self.lake.append(plan.output_table, output, batch_key)
