"""What a spec publishes (ctc.compiler.publish): alert labels and chart series, checked
against the plan's output columns, with every default filled in; metadata only."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctc.compiler import compile_paths
from ctc.compiler.plan import SeriesPlan
from ctc.dsl.canonical import canonical_form, spec_version
from ctc.dsl.load import load_spec

DETECTORS = Path(__file__).resolve().parents[2] / "detectors"

#: volume-anomaly.yaml's publish section, as the spec writes it
VOLUME_PUBLISH = """
publish:
  series:
    volume:                        # GET /api/series/volume/{symbol}; the dashboard's bar chart
      label: Volume
      description: Quote volume per 60 s window and exchange
      unit: quote currency
      value: window_volume
      exchange: exchange           # one bar per exchange, stacked
      details: [z_score, trade_count]
      chart: bars
      markers: [volume_spike]
"""


def _volume(tmp_path: Path, publish: str, alert_label: str | None = None) -> Path:
    text = (DETECTORS / "volume-anomaly.yaml").read_text(encoding="utf-8")
    assert VOLUME_PUBLISH in text
    text = text.replace(VOLUME_PUBLISH, publish)
    if alert_label is not None:
        text = text.replace("  - type: volume_spike\n", f"  - type: volume_spike\n{alert_label}")
    path = tmp_path / "volume-anomaly.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_small_tier_series_come_from_their_specs() -> None:
    plans = {p.module: p for p in compile_paths([DETECTORS])}
    assert plans["MOD-001"].publish.series == (
        SeriesPlan(
            name="volume",
            label="Volume",
            description="Quote volume per 60 s window and exchange",
            unit="quote currency",
            value="window_volume",
            time="window_start",
            symbol="symbol",
            exchange="exchange",
            details=("z_score", "trade_count"),
            chart="bars",
            markers=("volume_spike",),
            guides=(),
            metric=None,
            missing="",
        ),
    )
    spread = plans["MOD-003"].publish.series[0]
    assert (spread.name, spread.value, spread.exchange, spread.metric) == (
        "spread",
        "spread_pct",
        None,
        "spread_pct",
    )
    assert spread.guides == (0.5, -0.5, 0.0)  # ± params.spread_threshold_pct, and zero
    assert plans["MOD-002"].publish.series == ()
    assert plans["MOD-002"].publish.alert_labels == (("whale_trade", "Whale trade"),)
    assert plans["MOD-009"].publish.alert_labels == (
        ("large_dex_swap", "Large DEX swap"),
        ("liquidity_change", "Liquidity change"),
    )


def test_defaults_label_description_markers_and_the_alert_label(tmp_path: Path) -> None:
    minimal = "\npublish:\n  series:\n    traded_volume:\n      value: window_volume\n"
    spec = _volume(tmp_path, minimal, alert_label="    label: Unusual volume\n")
    plan = compile_paths([spec])[0]
    (series,) = plan.publish.series
    assert series.label == "Traded volume"
    assert series.description == "Traded volume per 60 seconds window"
    assert (series.time, series.symbol, series.exchange, series.chart) == (
        "window_start",
        "symbol",
        None,
        "line",
    )
    # volume_spike lists window_start in its details, so it marks the series by default
    assert series.markers == ("volume_spike",)
    assert plan.publish.alert_labels == (("volume_spike", "Unusual volume"),)


def test_publish_is_metadata_the_sql_stays_the_same(tmp_path: Path) -> None:
    before = compile_paths([DETECTORS / "volume-anomaly.yaml"])[0]
    other = "\npublish:\n  series:\n    v:\n      value: z_score\n      chart: line\n"
    after = compile_paths([_volume(tmp_path, other, alert_label="    label: Spike\n")])[0]
    assert after.sql_script().replace(after.spec_path, "") == before.sql_script().replace(
        before.spec_path, ""
    )
    assert after.publish != before.publish


def test_keys_the_language_gained_later_leave_old_versions_alone(tmp_path: Path) -> None:
    whale = load_spec(DETECTORS / "whale.yaml")
    assert '"label"' not in canonical_form(whale) and '"publish"' not in canonical_form(whale)
    text = (DETECTORS / "whale.yaml").read_text(encoding="utf-8")
    labelled = tmp_path / "whale.yaml"
    labelled.write_text(
        text.replace("  - type: whale_trade\n", "  - type: whale_trade\n    label: Whale\n"),
        encoding="utf-8",
    )
    assert spec_version(load_spec(labelled)) != spec_version(whale)


@pytest.mark.parametrize(
    ("series", "message"),
    [
        ("      value: rolling_mean\n      time: symbol\n", "time column 'symbol' is string"),
        ("      value: z_score\n      symbol: symbl\n", "unknown column 'symbl'"),
        ("      value: z_score\n      guides: [true]\n", "guides.0 must be a number or text"),
        ("      value: z_score\n      details: [exchange]\n", "a field of every point already"),
        ("      value: z_score\n      guides: [params.high_z]\n", None),
        ("      value: z_score\n      guides: [-params.z_threshold]\n", None),
    ],
)
def test_series_checks(tmp_path: Path, series: str, message: str | None) -> None:
    from ctc.dsl.errors import SpecErrors

    spec = _volume(tmp_path, f"\npublish:\n  series:\n    v:\n{series}")
    if message is None:
        plan = compile_paths([spec])[0]
        assert plan.publish.series[0].guides in ((3.5,), (-2.5,))
        return
    with pytest.raises(SpecErrors) as err:
        compile_paths([spec])
    assert message in str(err.value)
    assert str(err.value).startswith(f"{spec}:")
