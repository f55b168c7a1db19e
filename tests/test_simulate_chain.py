"""The demo's simulated on-chain events: deterministic, quiet in the background, and every
injected anomaly raises exactly its alert in MOD-005, MOD-008 and MOD-009 (back-tested),
nothing else does."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ctc.simulate_chain import FOUND_BY, simulate_chain

ROOT = Path(__file__).resolve().parents[1]
DETECTORS = ROOT / "detectors"
START = datetime(2026, 1, 1, tzinfo=UTC)
END = START + timedelta(hours=1.5)


def _known() -> list[str]:
    with (DETECTORS / "reference" / "labels.csv").open(encoding="utf-8", newline="") as fh:
        return [r["address"] for r in csv.DictReader(fh)]


def _events(folder: Path) -> list[dict[str, Any]]:
    return [
        json.loads(x)
        for f in sorted(folder.glob("*.jsonl"))
        for x in f.read_text().split("\n")
        if x
    ]


def test_deterministic_and_quiet_background(tmp_path: Path) -> None:
    one = simulate_chain(START, END, tmp_path / "a", _known(), seed=3)
    two = simulate_chain(START, END, tmp_path / "b", _known(), seed=3)
    assert _events(tmp_path / "a") == _events(tmp_path / "b") and one.anomalies == two.anomalies
    injected = {a["event_id"] for a in one.anomalies}
    known = set(_known())
    for e in _events(tmp_path / "a"):
        if e["event_id"] in injected:
            continue
        usd = e.get("amount_usd") or e.get("amount_in_usd")
        assert usd < 30_000, e
        assert e["from_address"] not in known and e.get("to_address") not in known, e
    kinds = {a["kind"] for a in one.anomalies}
    assert kinds == set(FOUND_BY)
    first = min(datetime.fromisoformat(a["start"].replace("Z", "+00:00")) for a in one.anomalies)
    assert first >= START + timedelta(minutes=20)


@pytest.mark.spark
def test_each_injection_raises_its_alert_and_nothing_else(spark: Any, tmp_path: Path) -> None:
    from ctc.compiler import compile_paths
    from ctc.runtime.backtest import run_backtest

    sim = simulate_chain(START, END, tmp_path / "chain", _known(), seed=3)
    trades = tmp_path / "trades.jsonl"
    trades.write_text(
        json.dumps(
            {
                "event_id": "t",
                "exchange": "binance",
                "symbol": "ETH-USDT",
                "market": "ETHUSDT",
                "instrument": "spot",
                "price": 3000.0,
                "quantity": 1.0,
                "quote_volume": 3000.0,
                "side": "buy",
                "timestamp": "2026-01-01T00:00:00Z",
                "ingestion_timestamp": "2026-01-01T00:00:00Z",
            }
        )
        + "\n"
    )
    specs = [DETECTORS / n for n in ("labeled-whales.yaml", "dex-tracker.yaml")]
    result = run_backtest(
        spark, compile_paths(specs, with_dependencies=True), trades, chain_input=tmp_path / "chain"
    )
    got: dict[str, set[tuple[str, str]]] = {}
    for a in result.alerts:
        d = a["details"]
        key = d.get("event_id") or d["window_start"][:16]
        got.setdefault(a["alert_type"], set()).add((a["symbol"], key))
    want: dict[str, set[tuple[str, str]]] = {}
    for a in sim.anomalies:
        atype, symbol, _pad = FOUND_BY[a["kind"]]
        # per event (large swaps too: one alert per swap): its id; per window (depth): the
        # minute it falls in
        key = a["start"][:16] if a["kind"] == "liquidity_drop" else a["event_id"]
        want.setdefault(atype, set()).add((symbol, key))
        if a["kind"] == "known_wallet":  # a transfer above 50,000 too
            want.setdefault("large_transfer", set()).add(("USDT", a["event_id"]))
        if a["kind"] == "large_swap":
            want.setdefault("dex_swap", set()).add(("WETH", a["event_id"]))
    assert got == want
