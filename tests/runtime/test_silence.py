"""Why a detector cannot fire on an input, read from its spec and the input's coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
from streamkit import DETECTORS

from ctc.dsl.load import load_spec
from ctc.runtime.coverage import Coverage
from ctc.runtime.silence import why_silent

T0 = datetime(2024, 8, 8, tzinfo=UTC)


def _trades(rows: list[tuple[str, str, float, float]]) -> pa.Table:
    """(symbol, exchange, seconds after T0, quote volume) per trade."""
    return pa.table(
        {
            "symbol": [r[0] for r in rows],
            "exchange": [r[1] for r in rows],
            "timestamp": pa.array(
                [T0 + timedelta(seconds=r[2]) for r in rows], pa.timestamp("us", tz="UTC")
            ),
            "quote_volume": [r[3] for r in rows],
            "price": [1.0] * len(rows),
            "quantity": [r[3] for r in rows],
        }
    )


def _coverage(rows: list[tuple[str, str, float, float]]) -> Coverage:
    cov = Coverage()
    cov.add_trades(_trades(rows))
    return cov


def test_six_minutes_of_binance_alone_cannot_make_spreads_volume_spikes_or_whales() -> None:
    cov = _coverage([("BTC-USDT", "binance", s, 5_000.0) for s in range(0, 360, 5)])
    volume = why_silent(load_spec(DETECTORS / "volume-anomaly.yaml"), cov)
    spread = why_silent(load_spec(DETECTORS / "spread-calculator.yaml"), cov)
    whale = why_silent(load_spec(DETECTORS / "whale.yaml"), cov)
    assert volume is not None and "needs 10 earlier windows of 60 seconds" in volume
    assert "the input's longest is 5.9 min" in volume
    assert spread == (
        "needs trades on binance and coinbase (params exchange_a, exchange_b); "
        "the input has binance only"
    )
    assert whale == (
        "needs a trade with quote_volume > 100,000 (params.whale_usd); "
        "the largest in the input is 5,000"
    )


def test_two_exchanges_that_never_overlap_in_time_cannot_make_a_spread() -> None:
    cov = _coverage(
        [
            ("BTC-USDT", "binance", 0, 1.0),
            ("BTC-USDT", "binance", 60, 1.0),
            ("BTC-USDT", "coinbase", 3600, 1.0),
            ("BTC-USDT", "coinbase", 3700, 1.0),
        ]
    )
    reason = why_silent(load_spec(DETECTORS / "spread-calculator.yaml"), cov)
    assert reason is not None and "never trade the same symbol at the same time" in reason


def test_an_input_that_meets_every_need_gets_no_reason() -> None:
    rows = [
        (s, e, t, 200_000.0)
        for s in ("BTC-USDT",)
        for e in ("binance", "coinbase")
        for t in range(0, 1800, 30)
    ]
    cov = _coverage(rows)
    for spec in ("volume-anomaly.yaml", "spread-calculator.yaml", "whale.yaml"):
        assert why_silent(load_spec(DETECTORS / spec), cov) is None, spec


def test_a_detector_with_one_rule_that_can_fire_gets_no_reason() -> None:
    from ctc.dsl.load import parse_spec

    text = (DETECTORS / "whale.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "alerts:\n",
        "alerts:\n  - type: any_trade\n    when: quantity > 0\n    severity:\n"
        '      - {level: low}\n    message: "trade"\n',
        1,
    )
    spec = parse_spec(text, str(DETECTORS / "whale.yaml"))
    assert [r.type for r in spec.alerts] == ["any_trade", "whale_trade"]
    cov = _coverage([("BTC-USDT", "binance", 0, 5_000.0)])
    assert why_silent(spec, cov) is None
    only_whales = parse_spec((DETECTORS / "whale.yaml").read_text(encoding="utf-8"), "w.yaml")
    assert why_silent(only_whales, cov) is not None
