"""Realistic sample contents for a hot store: what the small tier (MOD-001..003) writes.

For the API tests, the browser test, ``bench/api.py`` and demos without Spark::

    python -m ctc.serve.sample sqlite:///var/ctc/alerts.db --hours 3

Writes, for BTC-USDT, ETH-USDT and SOL-USDT on binance and coinbase, ending at ``end``:
60 s volume windows per exchange (series kind ``volume``) with volume_spike alerts where
|z| > 2.5 against the previous hour, 30 s spread windows (kind ``spread``) with
spread_divergence alerts where |spread| > 0.5 %, whale_trade alerts, the latest market
row per (symbol, exchange), a runtime status under app ``ctc`` and the detector catalog a
small-tier ``ctc run`` publishes (compiled from the specs in detectors/, when there). The
alert records, messages and details follow those specs.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ctc import __version__
from ctc.sinks.stores.base import AlertStore

SYMBOLS = {"BTC-USDT": 67_400.0, "ETH-USDT": 3_450.0, "SOL-USDT": 148.0}
EXCHANGES = ("binance", "coinbase")
#: Typical quote volume per minute and exchange, as a fraction of the price.
_BASE_VOLUME = {"binance": 4_200_000.0, "coinbase": 2_100_000.0}
#: The specs whose output the sample imitates (the repository's detectors folder).
DETECTORS = Path(__file__).resolve().parents[2] / "detectors"


def sample_catalog(detectors: Path = DETECTORS) -> dict[str, Any] | None:
    """The detector catalog a small-tier ``ctc run`` over ``detectors`` publishes (its
    specs compiled, its quality rules read), or None when there is no such folder (an
    installed package without the repository)."""
    if not (detectors / "tiers" / "small.yaml").is_file():
        return None
    from ctc.compiler import compile_paths
    from ctc.runtime.publish import detector_catalog
    from ctc.runtime.quality_rules import load_rules
    from ctc.tiers import tier_specs

    plans = compile_paths(tier_specs(detectors, "small"), with_dependencies=True)
    return detector_catalog(plans, load_rules(detectors / "quality.yaml"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _id(*parts: Any) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:32]


def _provenance(module: str) -> dict[str, str]:
    """A sample alert's provenance: a made-up spec version per module (16 hex digits, as
    ctc.dsl.canonical makes them) and this ctc's version."""
    return {"spec_version": _id("sample spec", module)[:16], "ctc_version": __version__}


def _severity_z(z: float) -> str:
    return "high" if abs(z) > 3.5 else "medium"


def _severity_whale(usd: float) -> str:
    return "critical" if usd > 1_000_000 else "high" if usd > 500_000 else "medium"


@dataclass
class SampleCounts:
    """What :func:`fill_store` wrote."""

    alerts: int = 0
    volume_windows: int = 0
    spread_windows: int = 0
    market_rows: int = 0


def fill_store(
    store: AlertStore,
    *,
    end: datetime | None = None,
    hours: float = 3.0,
    seed: int = 7,
    extra_whales: int = 0,
    status_age_seconds: float = 4.0,
    detectors: Path = DETECTORS,
) -> SampleCounts:
    """Write ``hours`` of realistic small-tier output ending at ``end`` (default now) to
    ``store``; ``extra_whales`` more whale alerts spread over the last 24 h (for a big
    store); the small tier's detector catalog from ``detectors`` (:func:`sample_catalog`).
    Deterministic for a given seed and end."""
    catalog = sample_catalog(detectors)
    if catalog is not None:
        store.put_detector_catalog("ctc", catalog)
    rng = random.Random(seed)
    end = (end or datetime.now(tz=UTC)).replace(microsecond=0, second=0)
    start = end - timedelta(hours=hours)
    minutes = int(hours * 60)
    counts = SampleCounts()
    alerts: list[dict[str, Any]] = []
    market: list[dict[str, Any]] = []
    for symbol, price0 in SYMBOLS.items():
        scale = price0 / 67_400.0
        prices = {ex: price0 for ex in EXCHANGES}
        price = price0
        history: dict[str, list[float]] = {ex: [] for ex in EXCHANGES}
        volume_rows: list[dict[str, Any]] = []
        spread_rows: list[dict[str, Any]] = []
        last_trade = start
        vol_1h: dict[str, list[float]] = {ex: [] for ex in EXCHANGES}
        for m in range(minutes):
            ws = start + timedelta(minutes=m)
            # price: a random walk, coinbase a touch off binance, now and then diverging
            price *= math.exp(rng.gauss(0, 0.0009))
            for half in (0, 1):
                t = ws + timedelta(seconds=30 * half)
                gap = rng.gauss(0, 0.0006)
                if rng.random() < 0.012:
                    gap = rng.choice((-1, 1)) * rng.uniform(0.0052, 0.011)
                prices["binance"] = price * (1 + gap / 2)
                prices["coinbase"] = price * (1 - gap / 2)
                spread = (prices["binance"] - prices["coinbase"]) / prices["coinbase"] * 100
                spread_rows.append(
                    {
                        "symbol": symbol,
                        "exchange": None,
                        "window_start": _iso(t),
                        "value": round(spread, 5),
                        "vwap_a": round(prices["binance"], 4),
                        "vwap_b": round(prices["coinbase"], 4),
                    }
                )
                if abs(spread) > 0.5:
                    alerts.append(_spread_alert(symbol, t, spread, prices))
            for ex in EXCHANGES:
                base = _BASE_VOLUME[ex] * (0.15 + 0.85 * math.sqrt(scale))
                wave = 1 + 0.25 * math.sin(m / 45)
                volume = base * wave * math.exp(rng.gauss(0, 0.18))
                if rng.random() < 0.018:
                    volume *= rng.uniform(2.2, 4.5)  # a burst
                trades = max(1, int(volume / (price * 0.05 * rng.uniform(0.6, 1.4))))
                past = history[ex][-60:]
                z = None
                if len(past) >= 10:
                    mean, std = statistics.fmean(past), statistics.pstdev(past)
                    z = (volume - mean) / std if std > 0 else None
                    if z is not None and abs(z) > 2.5:
                        alerts.append(
                            _volume_alert(symbol, ex, ws, volume, trades, mean, std, len(past), z)
                        )
                history[ex].append(volume)
                vol_1h[ex].append(volume)
                volume_rows.append(
                    {
                        "symbol": symbol,
                        "exchange": ex,
                        "window_start": _iso(ws),
                        "value": round(volume, 2),
                        "z_score": round(z, 4) if z is not None else None,
                        "trade_count": float(trades),
                    }
                )
                if rng.random() < 0.05:
                    alerts.append(_whale_alert(rng, symbol, ex, ws, prices[ex]))
            last_trade = ws + timedelta(seconds=59)
        store.put_windows("volume", volume_rows)
        store.put_windows("spread", spread_rows)
        counts.volume_windows += len(volume_rows)
        counts.spread_windows += len(spread_rows)
        for ex in EXCHANGES:
            market.append(
                {
                    "symbol": symbol,
                    "exchange": ex,
                    "price": round(prices[ex], 4),
                    "volume_1h": round(sum(vol_1h[ex][-60:]), 2),
                    "updated_at": _iso(last_trade),
                }
            )
    for n in range(extra_whales):
        symbol = rng.choice(list(SYMBOLS))
        at = end - timedelta(seconds=rng.uniform(0, 86_000))
        alerts.append(_whale_alert(rng, symbol, rng.choice(EXCHANGES), at, SYMBOLS[symbol], salt=n))
    store.put_alerts([{**a, **_provenance(a["module_id"])} for a in alerts])
    store.put_market(market)
    counts.alerts = len(alerts)
    counts.market_rows = len(market)
    processed = int(minutes * 3 * 2 * 180)
    store.put_status(
        "ctc",
        {
            "app": "ctc",
            "batch_id": minutes * 2,
            "flush": False,
            "updated_at": _iso(datetime.now(tz=UTC) - timedelta(seconds=status_age_seconds)),
            "batch_seconds": 1.84,
            "metrics": {
                "processed": 1_080,
                "passed": 1_077,
                "failed": 2,
                "failed_by_reason": {"invalid": 1, "malformed": 1},
                "late": 3,
                "duplicates": 1,
                "quality_score": 1_077 / 1_080 * 100,
            },
            "alerts": 2,
            "late_events_dropped": 0,
            "max_event_time": _iso(end),
            "source_lag_seconds": 2.7,
            "pending_files": 1,
            "query_status": "running",
            "totals": {
                "batches": minutes * 2,
                "processed": processed,
                "passed": processed - processed // 500,
                "failed": processed // 600,
                "duplicates": processed // 3000,
                "alerts": len(alerts),
            },
        },
    )
    return counts


def _volume_alert(
    symbol: str,
    exchange: str,
    ws: datetime,
    volume: float,
    trades: int,
    mean: float,
    std: float,
    n: int,
    z: float,
) -> dict[str, Any]:
    we = ws + timedelta(minutes=1)
    return {
        "alert_id": _id("MOD-001", "volume_spike", symbol, exchange, _iso(ws)),
        "alert_type": "volume_spike",
        "module_id": "MOD-001",
        "symbol": symbol,
        "exchange": exchange,
        "severity": _severity_z(z),
        "detected_at": _iso(we),
        "message": (
            f"{symbol} volume on {exchange} was {volume:,.0f} in the minute from "
            f"{ws:%Y-%m-%d %H:%M:%S}, z = {z:.2f} against the last hour's mean {mean:,.0f}"
        ),
        "details": json.dumps(
            {
                "window_start": _iso(ws),
                "window_end": _iso(we),
                "window_volume": round(volume, 2),
                "trade_count": trades,
                "rolling_mean": round(mean, 2),
                "rolling_stddev": round(std, 2),
                "history_windows": n,
                "z_score": round(z, 4),
            }
        ),
    }


def _spread_alert(
    symbol: str, ws: datetime, spread: float, prices: dict[str, float]
) -> dict[str, Any]:
    a, b = prices["binance"], prices["coinbase"]
    return {
        "alert_id": _id("MOD-003", "spread_divergence", symbol, _iso(ws)),
        "alert_type": "spread_divergence",
        "module_id": "MOD-003",
        "symbol": symbol,
        "exchange": None,
        "severity": "high" if abs(spread) > 1.0 else "medium",
        "detected_at": _iso(ws + timedelta(seconds=30)),
        "message": (
            f"{symbol} trades {spread:.3f}% apart: binance VWAP {a:,.2f} vs coinbase {b:,.2f}"
        ),
        "details": json.dumps(
            {
                "window_start": _iso(ws),
                "window_end": _iso(ws + timedelta(seconds=30)),
                "vwap_a": round(a, 4),
                "vwap_b": round(b, 4),
                "spread_pct": round(spread, 5),
                "volume_a": 1_250_000.0,
                "volume_b": 640_000.0,
            }
        ),
    }


def _whale_alert(
    rng: random.Random, symbol: str, exchange: str, at: datetime, price: float, salt: int = 0
) -> dict[str, Any]:
    usd = 100_000 * math.exp(rng.expovariate(1.1))
    quantity = usd / price
    side = rng.choice(("buy", "sell"))
    t = at + timedelta(seconds=rng.uniform(0, 59))
    event_id = f"{exchange}-{_id(symbol, _iso(t), salt)[:12]}"
    return {
        "alert_id": _id("MOD-002", "whale_trade", event_id),
        "alert_type": "whale_trade",
        "module_id": "MOD-002",
        "symbol": symbol,
        "exchange": exchange,
        "severity": _severity_whale(usd),
        "detected_at": _iso(t),
        "message": (
            f"Whale {side} of {quantity:,.4f} {symbol} on {exchange} at {price:,.2f}: "
            f"{usd:,.0f} quote volume"
        ),
        "details": json.dumps(
            {
                "event_id": event_id,
                "price": round(price, 4),
                "quantity": round(quantity, 6),
                "quote_volume": round(usd, 2),
                "side": side,
            }
        ),
    }


def main(argv: list[str] | None = None) -> None:
    """``python -m ctc.serve.sample STORE_URL [--hours H] [--seed N] [--extra-whales N]``."""
    import argparse

    from ctc.sinks.stores.factory import open_store

    parser = argparse.ArgumentParser(prog="python -m ctc.serve.sample", description=__doc__)
    parser.add_argument("store_url")
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--extra-whales", type=int, default=0)
    args = parser.parse_args(argv)
    store = open_store(args.store_url)
    try:
        counts = fill_store(store, hours=args.hours, seed=args.seed, extra_whales=args.extra_whales)
    finally:
        store.close()
    print(
        f"{counts.alerts} alerts, {counts.volume_windows} volume and {counts.spread_windows} "
        f"spread windows, {counts.market_rows} market rows -> {args.store_url}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
