"""The simulator: deterministic, truthful, and designed so the oracle finds exactly the truth.

No Spark here: the pandas oracle (tests/oracle.py) validates the simulator's design.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import oracle
import pandas as pd
import pytest
from click.testing import CliRunner

from ctc.events import TRADE_EVENT_FIELDS
from ctc.simulate import SYMBOLS, SimulationResult, simulate, simulate_command

HOURS = 3.0
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


class Sim:
    """One simulated data set with its truth and oracle alerts."""

    def __init__(self, result: SimulationResult) -> None:
        self.result = result
        self.truth: dict[str, Any] = json.loads(result.truth_path.read_text())
        self.events = oracle.load_events(result.out)
        self.alerts = oracle.small_tier(self.events)

    def kind(self, kind: str) -> list[dict[str, Any]]:
        return [a for a in self.truth["anomalies"] if a["kind"] == kind]


@pytest.fixture(
    scope="module",
    params=[
        pytest.param({"seed": 7}, id="seed7"),
        pytest.param({"seed": 2024}, id="seed2024"),
        pytest.param(
            {
                "seed": 5,
                "trades_per_second": 0.3,
                "start": datetime(2026, 3, 1, 12, 0, 17, tzinfo=UTC),
            },
            id="slow-unaligned",
        ),
    ],
)
def sim(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Sim:
    out = tmp_path_factory.mktemp("sim") / "trades.jsonl"
    return Sim(simulate(HOURS, out, **request.param))


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_deterministic_by_seed(tmp_path: Path) -> None:
    a = simulate(0.75, tmp_path / "a.jsonl", seed=11)
    b = simulate(0.75, tmp_path / "b.jsonl", seed=11)
    c = simulate(0.75, tmp_path / "c.jsonl", seed=12)
    assert a.out.read_bytes() == b.out.read_bytes()
    assert json.loads(a.truth_path.read_text()) == json.loads(b.truth_path.read_text())
    assert a.out.read_bytes() != c.out.read_bytes()
    assert a.truth_path == tmp_path / "a.jsonl.truth.json"


def test_records_have_the_unified_shape(sim: Sim) -> None:
    with sim.result.out.open() as fh:
        first = [json.loads(next(fh)) for _ in range(50)]
    for rec in first:
        assert list(rec) == list(TRADE_EVENT_FIELDS)
        assert ISO_MS.match(rec["timestamp"]) and ISO_MS.match(rec["ingestion_timestamp"])
        assert (
            rec["event_id"]
            == f"sim:{rec['exchange']}:{rec['market']}:{rec['event_id'].rsplit(':', 1)[1]}"
        )
    ev = sim.events
    assert len(ev) == sim.truth["trades"] == sim.result.trades
    assert ev["event_id"].is_unique
    assert ev["timestamp"].is_monotonic_increasing
    assert set(ev["symbol"]) == {s for s, _ in SYMBOLS}
    assert set(ev["side"]) == {"buy", "sell"}
    assert set(zip(ev["exchange"], ev["symbol"], ev["market"], strict=True)) == {
        ("binance", "BTC-USDT", "BTCUSDT"), ("binance", "ETH-USDT", "ETHUSDT"),
        ("binance", "SOL-USDT", "SOLUSDT"), ("coinbase", "BTC-USDT", "BTC-USD"),
        ("coinbase", "ETH-USDT", "ETH-USD"), ("coinbase", "SOL-USDT", "SOL-USD"),
    }  # fmt: skip
    assert (ev["price"] > 0).all() and (ev["quantity"] > 0).all()
    rel = (ev["quote_volume"] - ev["price"] * ev["quantity"]).abs() / ev["quote_volume"]
    assert rel.max() < 1e-3
    delay = ev["ingestion_timestamp"] - ev["timestamp"]
    assert delay.min() > pd.Timedelta(0) and delay.max() < pd.Timedelta(seconds=1)
    assert ev["timestamp"].min() >= _ts(sim.truth["start"])
    assert ev["timestamp"].max() < _ts(sim.truth["end"])
    for sym, p0 in SYMBOLS:
        prices = ev.loc[ev["symbol"] == sym, "price"]
        assert prices.between(p0 * 0.85, p0 * 1.15).all(), sym


def test_truth_matches_the_file(sim: Sim) -> None:
    ev = sim.events.set_index("event_id")
    whales = sim.kind("whale_trade")
    assert whales
    for w in whales:
        row = ev.loc[w["event_id"]]
        assert row["quote_volume"] == w["quote_volume"]
        assert (row["symbol"], row["exchange"]) == (w["symbol"], w["exchange"])
        assert row["timestamp"] == _ts(w["timestamp"])
        assert _ts(w["window_start"]) <= row["timestamp"] < _ts(w["window_end"])
    whale_ids = {w["event_id"] for w in whales}
    background = sim.events[~sim.events["event_id"].isin(whale_ids)]
    assert background["quote_volume"].max() < 50_000


def test_every_stream_trades_in_every_window(sim: Sim) -> None:
    ev = sim.events
    start, end = _ts(sim.truth["start"]), _ts(sim.truth["end"])
    n_windows = int((end - start) / pd.Timedelta(seconds=60))
    assert n_windows == HOURS * 60
    ws = ev["timestamp"].dt.floor("60s")
    per = ev.groupby([ev["symbol"], ev["exchange"], ws]).size()
    assert len(per) == 6 * n_windows
    assert per.min() >= 3


def test_anomaly_counts_scale_with_hours(sim: Sim) -> None:
    counts = Counter(a["kind"] for a in sim.truth["anomalies"])
    for kind in ("volume_spike", "whale_trade", "spread_divergence"):
        assert counts[kind] >= HOURS, kind
    assert sim.result.anomalies_by_kind == dict(counts)
    assert {w["expected_severity"] for w in sim.kind("whale_trade")} == {
        "medium",
        "high",
        "critical",
    }
    start = _ts(sim.truth["start"])
    for a in sim.truth["anomalies"]:
        assert _ts(a["start"]) >= start + pd.Timedelta(minutes=20)
    for d in sim.kind("spread_divergence"):
        length = _ts(d["end"]) - _ts(d["start"])
        assert pd.Timedelta(seconds=30) <= length <= pd.Timedelta(seconds=90)
        assert 0.8 <= abs(d["offset_pct"]) <= 2.0


def test_anomalies_are_spaced_per_stream(sim: Sim) -> None:
    per_stream: dict[tuple[str, str], list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
    for a in sim.truth["anomalies"]:
        exchanges = [a["exchange"]] if a["exchange"] else ["binance", "coinbase"]
        for ex in exchanges:
            per_stream.setdefault((a["symbol"], ex), []).append((_ts(a["start"]), _ts(a["end"])))
    for spans in per_stream.values():
        spans.sort()
        for (_, e1), (s2, _) in itertools.pairwise(spans):
            assert s2 - e1 >= pd.Timedelta(minutes=10)


def test_oracle_whales_are_exactly_the_injected_whales(sim: Sim) -> None:
    found = sim.alerts["MOD-002"]
    expected = {w["event_id"]: w["expected_severity"] for w in sim.kind("whale_trade")}
    assert dict(zip(found["event_id"], found["severity"], strict=True)) == expected
    for w in sim.kind("whale_trade"):
        assert oracle.alert_id(
            "MOD-002", "whale_trade", [w["symbol"], w["exchange"]], w["event_id"]
        ) in set(found["alert_id"])


def test_oracle_spreads_only_in_injected_divergences(sim: Sim) -> None:
    found = sim.alerts["MOD-003"]
    divergences = sim.kind("spread_divergence")
    for r in found.itertuples():
        assert any(
            d["symbol"] == r.symbol
            and r.window_start < _ts(d["end"])
            and r.window_end > _ts(d["start"])
            for d in divergences
        ), f"unexpected spread alert {r.symbol} {r.window_start} {r.spread_pct:.3f}%"
    for d in divergences:
        hits = found[
            (found["symbol"] == d["symbol"])
            & (found["window_start"] == _ts(d["full_window_start"]))
        ]
        assert len(hits) == 1, f"divergence not found: {d}"
        # the sign follows the offset: coinbase above binance gives a negative spread
        assert np.sign(hits["spread_pct"].iloc[0]) == -np.sign(d["offset_pct"])


def test_natural_spread_stays_well_below_threshold(sim: Sim) -> None:
    quiet = oracle.spread_calculator(sim.events, spread_threshold_pct=0.0)
    for d in sim.kind("spread_divergence"):
        quiet = quiet[
            ~(
                (quiet["symbol"] == d["symbol"])
                & (quiet["window_start"] < _ts(d["end"]))
                & (quiet["window_end"] > _ts(d["start"]))
            )
        ]
    assert len(quiet) > 0
    assert quiet["spread_pct"].abs().max() < 0.25


def test_oracle_volume_spikes_only_at_injected_windows(sim: Sim) -> None:
    found = sim.alerts["MOD-001"]
    allowed = {
        (a["symbol"], a["exchange"], _ts(a["start"]))
        for a in sim.truth["anomalies"]
        if a["kind"] in ("volume_spike", "whale_trade")
    }
    got = set(zip(found["symbol"], found["exchange"], found["window_start"], strict=True))
    assert got <= allowed, f"unexpected volume alerts: {got - allowed}"
    for s in sim.kind("volume_spike"):
        assert (s["symbol"], s["exchange"], _ts(s["start"])) in got, f"spike not found: {s}"


def test_cli_summary(tmp_path: Path) -> None:
    out = tmp_path / "cli.jsonl"
    res = CliRunner().invoke(
        simulate_command, ["--hours", "0.6", "--out", str(out), "--seed", "3", "--tps", "0.5"]
    )
    assert res.exit_code == 0, res.output
    assert "trades written:" in res.stdout
    assert "volume_spike 1, whale_trade 2, spread_divergence 1" in res.stdout
    assert "simulate:" not in res.stdout  # progress goes to stderr
    assert out.exists() and (tmp_path / "cli.jsonl.truth.json").exists()
    truth = json.loads((tmp_path / "cli.jsonl.truth.json").read_text())
    assert (
        truth["seed"] == 3
        and truth["hours"] == 0.6
        and truth["start"] == "2026-01-01T00:00:00.000Z"
    )
    bad = CliRunner().invoke(
        simulate_command, ["--hours", "1", "--out", str(out), "--start", "yesterday"]
    )
    assert bad.exit_code != 0
