"""What the runtime publishes from the plans alone (ctc.runtime.publish), no Spark: each
published series' rows of an output table, and the detector catalog of a run."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from streamkit import DETECTORS, SMALL

from ctc.compiler import compile_paths
from ctc.compiler.publish import POINT_FIELDS
from ctc.runtime.publish import detector_catalog, series_rows
from ctc.runtime.quality_rules import load_rules
from ctc.sinks.stores.records import WINDOW_COLUMNS, normalise_window

T0 = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)


def test_series_rows_follow_the_spec_columns() -> None:
    plan = compile_paths([DETECTORS / "volume-anomaly.yaml"])[0]
    output = pa.table(
        {
            "window_start": pa.array([T0, T0, None], pa.timestamp("us", tz="UTC")),
            "symbol": ["BTC-USDT", None, "BTC-USDT"],
            "exchange": ["binance", "coinbase", "binance"],
            "window_volume": [1250.5, 3.0, 1.0],
            "z_score": [2.75, None, 0.0],
            "trade_count": pa.array([7, 1, 1], pa.int64()),
        }
    )
    # the rows without a symbol or a time cannot be placed on a chart
    assert series_rows(plan, output) == [
        (
            "volume",
            [
                {
                    "symbol": "BTC-USDT",
                    "exchange": "binance",
                    "value": 1250.5,
                    "window_start": "2026-01-01T00:01:00.000000Z",
                    "z_score": 2.75,
                    "trade_count": 7.0,
                }
            ],
        )
    ]
    assert series_rows(plan, output.slice(0, 0)) == []
    whale = compile_paths([DETECTORS / "whale.yaml"])[0]
    assert series_rows(whale, output) == []  # whale.yaml publishes no series


def test_a_cross_exchange_series_with_decimal_values(tmp_path: Path) -> None:
    plan = compile_paths([DETECTORS / "spread-calculator.yaml"])[0]
    output = pa.table(
        {
            "window_start": pa.array([T0], pa.timestamp("us", tz="UTC")),
            "symbol": ["ETH-USDT"],
            "spread_pct": pa.array([Decimal("0.125")], pa.decimal128(10, 3)),
            "vwap_a": [2000.5],
            "vwap_b": [None],
        }
    )
    ((name, rows),) = series_rows(plan, output)
    assert name == "spread"
    assert rows == [
        {
            "symbol": "ETH-USDT",
            "exchange": None,
            "value": 0.125,
            "window_start": "2026-01-01T00:01:00.000000Z",
            "vwap_a": 2000.5,
            "vwap_b": None,
        }
    ]
    assert normalise_window(rows[0])["value"] == 0.125  # what the stores accept


def test_point_fields_match_the_stores() -> None:
    assert set(POINT_FIELDS) == {*WINDOW_COLUMNS, "kind", "ttl_epoch"}


def test_the_catalog_of_the_small_tier() -> None:
    plans = compile_paths(SMALL, with_dependencies=True)
    catalog = detector_catalog(plans, load_rules(DETECTORS / "quality.yaml"))
    assert catalog["exchanges"] == ["binance", "binance-futures", "coinbase"]
    assert catalog["symbols"] == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    assert [(d["module"], d["title"]) for d in catalog["detectors"]] == [
        ("MOD-001", "Volume spikes"),
        ("MOD-002", "Whale trades"),
        ("MOD-003", "Cross-exchange spread"),
    ]
    assert catalog["alert_types"] == [
        {
            "type": "spread_divergence",
            "label": "Spread divergence",
            "module": "MOD-003",
            "detector": "Cross-exchange spread",
            "severities": ["medium", "high"],
        },
        {
            "type": "volume_spike",
            "label": "Volume spike",
            "module": "MOD-001",
            "detector": "Volume spikes",
            "severities": ["medium", "high"],
        },
        {
            "type": "whale_trade",
            "label": "Whale trade",
            "module": "MOD-002",
            "detector": "Whale trades",
            "severities": ["medium", "high", "critical"],
        },
    ]
    volume, spread = catalog["series"]
    assert volume == {
        "name": "volume",
        "label": "Volume",
        "description": "Quote volume per 60 s window and exchange",
        "unit": "quote currency",
        "module": "MOD-001",
        "detector": "Volume spikes",
        "window": "60 seconds",
        "value_column": "window_volume",
        "time_column": "window_start",
        "per_exchange": True,
        "details": ["z_score", "trade_count"],
        "chart": "bars",
        "markers": ["volume_spike"],
        "guides": [],
        "metric": None,
        "missing": "",
    }
    assert (spread["name"], spread["per_exchange"], spread["metric"], spread["guides"]) == (
        "spread",
        False,
        "spread_pct",
        [0.5, -0.5, 0.0],
    )
    any_rules = detector_catalog(plans, None)
    assert any_rules["exchanges"] is None and any_rules["symbols"] is None
