"""An independent pandas oracle for the small-tier detectors (MOD-001, MOD-002, MOD-003).

It computes, from the documented semantics alone, the alerts the compiled detectors
must raise. It deliberately shares no code with ``ctc.dsl``, ``ctc.compiler`` or
``ctc.runtime``: agreement between the two is the evidence that both are right.

Semantics (the contract):

* Event time is ``timestamp`` (kept to microseconds, like Spark's TimestampType).
  Windows are tumbling and epoch-aligned: ``window_start = floor(epoch / size) * size``.
* Records with a duplicate ``event_id`` are dropped; the first in file order is kept.
* ``alert_id = sha256("|".join([module_id, alert_type, *keys, anchor]))`` in lowercase hex,
  null keys left out (like ``concat_ws``); the anchor is the window start in integer epoch
  milliseconds for window detectors and the ``event_id`` for per-event detectors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ALERT_COLUMNS = [
    "alert_id",
    "alert_type",
    "module_id",
    "symbol",
    "exchange",
    "severity",
    "detected_at",
]

VOLUME_DETAILS = [
    "window_start",
    "window_end",
    "window_volume",
    "trade_count",
    "rolling_mean",
    "rolling_stddev",
    "history_windows",
    "z_score",
]
WHALE_DETAILS = ["event_id", "price", "quantity", "quote_volume", "side"]
SPREAD_DETAILS = ["window_start", "window_end", "vwap_a", "vwap_b", "spread_pct"]


def alert_id(module_id: str, alert_type: str, keys: Sequence[str | None], anchor: str) -> str:
    """The idempotent alert id: sha256 of the '|'-joined parts, null keys left out."""
    parts = [module_id, alert_type, *(k for k in keys if k is not None), anchor]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def load_events(path: Path | str | Iterable[Path | str]) -> pd.DataFrame:
    """Read unified trade events from JSON-lines file(s), in file order.

    ``timestamp`` and ``ingestion_timestamp`` become tz-aware UTC datetimes.
    """
    paths = [path] if isinstance(path, str | Path) else list(path)
    records: list[dict[str, Any]] = []
    for p in paths:
        with Path(p).open(encoding="utf-8") as fh:
            records.extend(json.loads(line) for line in fh if line.strip())
    return events_frame(records)


def events_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """A DataFrame of unified events from dicts, with parsed UTC timestamps."""
    df = pd.DataFrame.from_records(list(records))
    for col in ("timestamp", "ingestion_timestamp"):
        if col in df.columns:
            df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
    return df


def prepare(events: pd.DataFrame) -> pd.DataFrame:
    """Drop duplicate event ids (first kept) and floor times to microseconds."""
    df = events.drop_duplicates(subset="event_id", keep="first").copy()
    ts = pd.to_datetime(df["timestamp"], utc=True)
    df["timestamp"] = ts.dt.floor("us")
    df["_epoch_us"] = df["timestamp"].astype("datetime64[us, UTC]").astype("int64")
    return df.reset_index(drop=True)


def _window_start_us(epoch_us: pd.Series, size_seconds: float) -> pd.Series:
    size_us = round(size_seconds * 1_000_000)
    return (epoch_us // size_us) * size_us  # floor division also floors before 1970


def _ts(epoch_us: int) -> pd.Timestamp:
    return pd.Timestamp(int(epoch_us), unit="us", tz="UTC")


def _frame(rows: list[dict[str, Any]], details: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=ALERT_COLUMNS + details)
    if not df.empty:
        df = df.sort_values(["detected_at", "alert_id"], kind="stable").reset_index(drop=True)
    return df


def volume_anomaly(
    events: pd.DataFrame,
    *,
    window_seconds: float = 60,
    lookback_seconds: float = 3600,
    z_threshold: float = 2.5,
    high_z: float = 3.5,
    min_history: int = 10,
    module_id: str = "MOD-001",
    alert_type: str = "volume_spike",
) -> pd.DataFrame:
    """MOD-001: volume per (symbol, exchange) window against the key's previous hour."""
    df = prepare(events)
    size_us = round(window_seconds * 1_000_000)
    lookback_us = round(lookback_seconds * 1_000_000)
    df["_ws"] = _window_start_us(df["_epoch_us"], window_seconds)
    agg = (
        df.groupby(["symbol", "exchange", "_ws"], sort=True, dropna=False)
        .agg(window_volume=("quote_volume", "sum"), trade_count=("quote_volume", "size"))
        .reset_index()
    )
    rows: list[dict[str, Any]] = []
    for (symbol, exchange), g in agg.groupby(["symbol", "exchange"], sort=True, dropna=False):
        starts = g["_ws"].to_numpy(dtype=np.int64)
        vols = g["window_volume"].to_numpy(dtype=float)
        counts = g["trade_count"].to_numpy(dtype=np.int64)
        lows = np.searchsorted(starts, starts - lookback_us, side="left")
        exch = None if pd.isna(exchange) else str(exchange)
        for i in range(len(starts)):
            hist = vols[lows[i] : i]
            n = hist.size
            if n < min_history or n < 2:
                continue
            mean = float(hist.mean())
            std = float(hist.std(ddof=1))
            if not np.isfinite(std) or std == 0.0:
                continue
            z = (float(vols[i]) - mean) / std
            if not abs(z) > z_threshold:
                continue
            ws = int(starts[i])
            rows.append(
                {
                    "alert_id": alert_id(module_id, alert_type, [symbol, exch], str(ws // 1000)),
                    "alert_type": alert_type,
                    "module_id": module_id,
                    "symbol": symbol,
                    "exchange": exch,
                    "severity": "high" if abs(z) > high_z else "medium",
                    "detected_at": _ts(ws + size_us),
                    "window_start": _ts(ws),
                    "window_end": _ts(ws + size_us),
                    "window_volume": float(vols[i]),
                    "trade_count": int(counts[i]),
                    "rolling_mean": mean,
                    "rolling_stddev": std,
                    "history_windows": int(n),
                    "z_score": z,
                }
            )
    return _frame(rows, VOLUME_DETAILS)


def whale_detector(
    events: pd.DataFrame,
    *,
    whale_usd: float = 100_000,
    high_usd: float = 500_000,
    critical_usd: float = 1_000_000,
    module_id: str = "MOD-002",
    alert_type: str = "whale_trade",
) -> pd.DataFrame:
    """MOD-002: every trade whose quote volume exceeds ``whale_usd``."""
    df = prepare(events)
    big = df[df["quote_volume"] > whale_usd]
    rows: list[dict[str, Any]] = []
    for r in big.itertuples(index=False):
        qv = float(r.quote_volume)
        severity = "critical" if qv > critical_usd else "high" if qv > high_usd else "medium"
        exch = None if pd.isna(r.exchange) else str(r.exchange)
        rows.append(
            {
                "alert_id": alert_id(module_id, alert_type, [r.symbol, exch], str(r.event_id)),
                "alert_type": alert_type,
                "module_id": module_id,
                "symbol": r.symbol,
                "exchange": exch,
                "severity": severity,
                "detected_at": r.timestamp,
                "event_id": r.event_id,
                "price": float(r.price),
                "quantity": float(r.quantity),
                "quote_volume": qv,
                "side": r.side,
            }
        )
    return _frame(rows, WHALE_DETAILS)


def spread_calculator(
    events: pd.DataFrame,
    *,
    window_seconds: float = 30,
    exchange_a: str = "binance",
    exchange_b: str = "coinbase",
    spread_threshold_pct: float = 0.5,
    high_spread_pct: float = 1.0,
    module_id: str = "MOD-003",
    alert_type: str = "spread_divergence",
) -> pd.DataFrame:
    """MOD-003: VWAP spread between two exchanges per symbol and window."""
    df = prepare(events)
    size_us = round(window_seconds * 1_000_000)
    df = df[df["exchange"].isin([exchange_a, exchange_b])].copy()
    df["_ws"] = _window_start_us(df["_epoch_us"], window_seconds)
    df["_pq"] = df["price"] * df["quantity"]
    agg = df.groupby(["symbol", "_ws", "exchange"], sort=True).agg(
        pq=("_pq", "sum"), q=("quantity", "sum")
    )
    rows: list[dict[str, Any]] = []
    wide = agg.unstack("exchange")
    for (symbol, ws), r in wide.iterrows():
        try:
            pq_a, q_a = r[("pq", exchange_a)], r[("q", exchange_a)]
            pq_b, q_b = r[("pq", exchange_b)], r[("q", exchange_b)]
        except KeyError:
            continue
        if pd.isna(q_a) or pd.isna(q_b) or q_a == 0 or q_b == 0:
            continue
        vwap_a = float(pq_a) / float(q_a)
        vwap_b = float(pq_b) / float(q_b)
        spread = (vwap_a - vwap_b) / vwap_b * 100
        if not abs(spread) > spread_threshold_pct:
            continue
        ws = int(ws)
        rows.append(
            {
                "alert_id": alert_id(module_id, alert_type, [symbol], str(ws // 1000)),
                "alert_type": alert_type,
                "module_id": module_id,
                "symbol": symbol,
                "exchange": None,
                "severity": "high" if abs(spread) > high_spread_pct else "medium",
                "detected_at": _ts(ws + size_us),
                "window_start": _ts(ws),
                "window_end": _ts(ws + size_us),
                "vwap_a": vwap_a,
                "vwap_b": vwap_b,
                "spread_pct": spread,
            }
        )
    return _frame(rows, SPREAD_DETAILS)


def small_tier(events: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """All three small-tier detectors with their default params, by module id."""
    return {
        "MOD-001": volume_anomaly(events),
        "MOD-002": whale_detector(events),
        "MOD-003": spread_calculator(events),
    }
