"""The shared alert sink of the streaming runtime: what one micro-batch publishes.

The detectors' results arrive here as Arrow tables already on the driver (the batch's
collect); the passed trades come both as Arrow and as a Spark DataFrame over the gate's
cache:

* the hot store: every alert (upsert by alert_id), the chart series each plan publishes
  (its spec's ``publish.series``: MOD-001's volumes, MOD-003's spreads, …), the latest
  price and 1 h volume per symbol and exchange; and once, when the run starts, the
  detector catalog (:func:`detector_catalog`: alert types in words, chart series,
  exchanges and symbols), which the API reads since it has no specs;
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

from ctc.compiler.catalog import SEVERITIES
from ctc.compiler.plan import Plan, SeriesPlan
from ctc.events import ALERT_FIELDS, STORED_ALERT_FIELDS
from ctc.runtime.provenance import Provenance
from ctc.sinks.stores.records import iso_utc

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from ctc.runtime.quality_rules import QualityRules
    from ctc.sinks.lake.base import Lake, Rows
    from ctc.sinks.stores.base import AlertStore

#: The shape of the detector catalog (docs/api.md, GET /catalog): raised when it changes
#: in a way an older API cannot read.
CATALOG_VERSION = 1


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


def _column(table: pa.Table, name: str) -> list[Any]:
    """A column as Python values: numbers as floats, times as the stores' ISO text."""
    column = table.column(name)
    if pa.types.is_timestamp(column.type):
        return [iso_from_us(int(us)) if us is not None else None for us in _micros(table, name)]
    if pa.types.is_integer(column.type) or pa.types.is_decimal(column.type):
        return pc.cast(column, pa.float64()).to_pylist()
    return column.to_pylist()


def _points(series: SeriesPlan, output: pa.Table) -> list[dict[str, Any]]:
    """One series' rows of a plan's output: symbol, exchange, value and time (as
    ``window_start``, the stores' field) and its details; rows without a symbol or a time
    cannot be placed on a chart and are left out."""
    times = _column(output, series.time)
    symbols = _column(output, series.symbol)
    values = _column(output, series.value)
    exchanges = _column(output, series.exchange) if series.exchange else None
    details = {d: _column(output, d) for d in series.details}
    rows = []
    for i, at in enumerate(times):
        symbol = symbols[i]
        if at is None or not isinstance(symbol, str) or not symbol:
            continue
        row: dict[str, Any] = {
            "symbol": symbol,
            "exchange": exchanges[i] if exchanges is not None else None,
            "value": values[i],
            "window_start": at,
        }
        for name, column in details.items():
            row[name] = column[i]
        rows.append(row)
    return rows


def series_rows(plan: Plan, output: pa.Table) -> list[tuple[str, list[dict[str, Any]]]]:
    """The chart rows of one plan's output: ``(series name, rows)`` for each series the
    plan publishes (its spec's ``publish.series``); none for an empty output."""
    if output.num_rows == 0:
        return []
    return [(s.name, _points(s, output)) for s in plan.publish.series]


def _series_entry(plan: Plan, series: SeriesPlan) -> dict[str, Any]:
    return {
        "name": series.name,
        "label": series.label,
        "description": series.description,
        "unit": series.unit,
        "module": plan.module,
        "detector": plan.title,
        "window": plan.window.size_text if plan.window else None,
        "value_column": series.value,
        "time_column": series.time,
        "per_exchange": series.exchange is not None,
        "details": list(series.details),
        "chart": series.chart,
        "markers": list(series.markers),
        "guides": list(series.guides),
        "metric": series.metric,
        "missing": series.missing,
    }


def detector_catalog(plans: Sequence[Plan], rules: QualityRules | None) -> dict[str, Any]:
    """What the detectors of a run publish, as the API serves it (docs/api.md, ``GET
    /catalog``): every alert type with its label, module and severities; every chart
    series; the exchanges and symbols the quality rules allow (None: any)."""
    alert_types = []
    for plan in plans:
        levels = {r.type: {lvl for lvl, _ in r.bands} for r in plan.alert_rules}
        for kind, label in plan.publish.alert_labels:
            alert_types.append(
                {
                    "type": kind,
                    "label": label,
                    "module": plan.module,
                    "detector": plan.title,
                    "severities": [s for s in SEVERITIES if s in levels.get(kind, ())],
                }
            )
    return {
        "catalog_version": CATALOG_VERSION,
        "detectors": [
            {"module": p.module, "name": p.name, "title": p.title, "mode": p.mode} for p in plans
        ],
        "alert_types": sorted(alert_types, key=lambda a: a["type"]),
        "series": [_series_entry(p, s) for p in plans for s in p.publish.series],
        "exchanges": list(rules.exchanges) if rules and rules.exchanges is not None else None,
        "symbols": list(rules.symbols) if rules and rules.symbols is not None else None,
    }


class Publisher:
    """Writes one batch's results to the hot store and the lake, each alert stamped with
    the version of the plan that raised it (:mod:`ctc.runtime.provenance`)."""

    def __init__(self, store: AlertStore, lake: Lake | None, plans: Sequence[Plan] = ()) -> None:
        self.store = store
        self.lake = lake
        self.provenance = Provenance(plans)

    def catalog(self, app: str, plans: Sequence[Plan], rules: QualityRules | None) -> None:
        """Publish the run's detector catalog (:func:`detector_catalog`) for application
        ``app``: done once, when the run starts, before any alert."""
        self.store.put_detector_catalog(app, detector_catalog(plans, rules))

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
            for name, rows in series_rows(plan, output):
                self.store.put_windows(name, rows)
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
