"""The compiled small-tier detectors agree with the independent pandas oracle.

Cases: simulated data (with and without replayed duplicate records), the real hftbacktest
Binance BTC+ETH recording, and the real cryptofeed Binance/Binance.US/Coinbase recordings.
For the ~6 minute real recordings MOD-001 runs with 10 s windows and min_history 5
(variant specs written to tmp_path), so it has something to find.

Agreement means: the same alert ids per module, and for each id the same type, symbol,
exchange, severity and detected_at, and detail values equal (numbers within 1e-9 relative).
The tests marked only ``realdata`` check the test parser and the oracle itself (no Spark).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import oracle
import pandas as pd
import pytest
import realdata
import yaml

from ctc.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
DETECTORS = ROOT / "detectors"
SPEC_FILES = {
    "MOD-001": DETECTORS / "volume-anomaly.yaml",
    "MOD-002": DETECTORS / "whale.yaml",
    "MOD-003": DETECTORS / "spread-calculator.yaml",
}
REL_TOL = 1e-9
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


# --------------------------------------------------------------------------- helpers


def seconds(text: str) -> int:
    """'60 seconds' / '1 hour' -> seconds (a local parser: no ctc.dsl import)."""
    m = re.fullmatch(r"\s*(\d+)\s+(second|minute|hour|day)s?\s*", str(text))
    assert m, f"unexpected duration {text!r}"
    return int(m.group(1)) * _UNITS[m.group(2)]


def load_spec(path: Path) -> dict[str, Any]:
    """A detector spec as plain YAML data."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write_variant(
    spec: dict[str, Any], out: Path, *, window: str | None = None, **params: Any
) -> Path:
    """A copy of ``spec`` with another window size and/or params, written to ``out``."""
    data = json.loads(json.dumps(spec))  # deep copy
    if window is not None:
        data["window"]["size"] = window
    data.setdefault("params", {}).update(params)
    out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return out


Oracle = Callable[[pd.DataFrame], pd.DataFrame]


def oracle_for(spec: dict[str, Any]) -> Oracle:
    """The oracle function of a spec, with the spec's own params, window and module id."""
    module = spec["module"]
    p = spec.get("params", {})
    if module == "MOD-001":
        return lambda ev: oracle.volume_anomaly(
            ev,
            window_seconds=seconds(spec["window"]["size"]),
            lookback_seconds=seconds(spec["baseline"]["lookback"]),
            z_threshold=float(p["z_threshold"]),
            high_z=float(p["high_z"]),
            min_history=int(p["min_history"]),
            module_id=module,
        )
    if module == "MOD-002":
        return lambda ev: oracle.whale_detector(
            ev,
            whale_usd=float(p["whale_usd"]),
            high_usd=float(p["high_usd"]),
            critical_usd=float(p["critical_usd"]),
            module_id=module,
        )
    if module == "MOD-003":
        return lambda ev: oracle.spread_calculator(
            ev,
            window_seconds=seconds(spec["window"]["size"]),
            exchange_a=str(p["exchange_a"]),
            exchange_b=str(p["exchange_b"]),
            spread_threshold_pct=float(p["spread_threshold_pct"]),
            high_spread_pct=float(p["high_spread_pct"]),
            module_id=module,
        )
    raise AssertionError(f"no oracle for {module}")


def _utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _same_value(expected: Any, got: Any) -> bool:
    if isinstance(expected, pd.Timestamp | datetime):
        try:
            return _utc(expected) == _utc(got)
        except (TypeError, ValueError):
            return False
    if isinstance(expected, bool | str) or expected is None:
        return expected == got
    if isinstance(expected, int | float):
        try:
            g = float(got)
        except (TypeError, ValueError):
            return False
        e = float(expected)
        return math.isclose(e, g, rel_tol=REL_TOL, abs_tol=1e-12)
    return bool(expected == got)


def compare(
    expected: pd.DataFrame, got: Sequence[dict[str, Any]], details: Sequence[str]
) -> list[str]:
    """Differences between oracle alerts and backtest alerts of one module, as text lines."""
    problems: list[str] = []
    exp = {r["alert_id"]: r for r in expected.to_dict("records")}
    act: dict[str, dict[str, Any]] = {}
    for a in got:
        if a["alert_id"] in act:
            problems.append(f"duplicate alert id from backtest: {a['alert_id']}")
        act[a["alert_id"]] = a
    missing = sorted(set(exp) - set(act), key=lambda i: str(exp[i]["detected_at"]))
    extra = sorted(set(act) - set(exp), key=lambda i: str(act[i]["detected_at"]))
    for i in missing[:10]:
        e = exp[i]
        problems.append(
            f"missing {i[:12]} {e['alert_type']} {e['symbol']} {e['exchange']} {e['severity']} "
            f"{e['detected_at']} " + " ".join(f"{d}={e[d]}" for d in details)
        )
    for i in extra[:10]:
        a = act[i]
        problems.append(
            f"extra {i[:12]} {a.get('alert_type')} {a.get('symbol')} {a.get('exchange')} "
            f"{a.get('severity')} {a.get('detected_at')} details={a.get('details')}"
        )
    if len(missing) > 10 or len(extra) > 10:
        problems.append(f"... {len(missing)} missing and {len(extra)} extra in all")
    for i in sorted(set(exp) & set(act)):
        e, a = exp[i], act[i]
        for col in ("alert_type", "module_id", "symbol", "exchange", "severity"):
            if e[col] != a.get(col):
                problems.append(f"{i[:12]} {col}: oracle {e[col]!r} backtest {a.get(col)!r}")
        if not _same_value(e["detected_at"], a.get("detected_at")):
            problems.append(
                f"{i[:12]} detected_at: oracle {e['detected_at']} backtest {a.get('detected_at')}"
            )
        ttl = a.get("ttl_epoch")
        if ttl is None or abs(float(ttl) - (_utc(e["detected_at"]).timestamp() + 86400)) >= 1:
            problems.append(f"{i[:12]} ttl_epoch {ttl} is not detected_at + 24 h")
        if not a.get("message"):
            problems.append(f"{i[:12]} has no message")
        det = a.get("details") or {}
        if isinstance(det, str):
            det = json.loads(det)
        for d in details:
            if d not in det:
                problems.append(f"{i[:12]} details lack {d}")
            elif not _same_value(e[d], det[d]):
                problems.append(f"{i[:12]} {d}: oracle {e[d]!r} backtest {det[d]!r}")
    return problems


DETAILS = {
    "MOD-001": oracle.VOLUME_DETAILS,
    "MOD-002": oracle.WHALE_DETAILS,
    "MOD-003": oracle.SPREAD_DETAILS,
}


def run_backtest(spark: Any, spec_paths: Sequence[Path], input_path: Path) -> list[dict[str, Any]]:
    """Run ``ctc.runtime.backtest.backtest``; skip when it does not exist yet."""
    try:
        from ctc.runtime.backtest import backtest
    except ImportError as exc:  # the runtime is being written in parallel
        if "backtest" not in str(exc):
            raise
        pytest.skip(f"ctc.runtime.backtest is not available yet ({exc})")
    return list(backtest(list(spec_paths), input_path, spark))


def check_against_oracle(
    spark: Any, specs: dict[str, Path], input_path: Path
) -> dict[str, pd.DataFrame]:
    """Backtest the specs on ``input_path``, compare with the oracle; return the oracle's alerts."""
    events = oracle.load_events(input_path)
    alerts = run_backtest(spark, list(specs.values()), input_path)
    by_module: dict[str, list[dict[str, Any]]] = {}
    for a in alerts:
        by_module.setdefault(str(a.get("module_id")), []).append(a)
    unknown = set(by_module) - set(specs)
    problems = [f"alerts from unexpected modules: {sorted(unknown)}"] if unknown else []
    expected_all: dict[str, pd.DataFrame] = {}
    for module, path in specs.items():
        expected = oracle_for(load_spec(path))(events)
        expected_all[module] = expected
        got = by_module.get(module, [])
        diff = compare(expected, got, DETAILS[module])
        if diff:
            problems.append(
                f"{module} ({path.name}): oracle {len(expected)} alerts, backtest {len(got)}"
            )
            problems.extend("  " + line for line in diff[:40])
    assert not problems, "backtest differs from the oracle:\n" + "\n".join(problems)
    return expected_all


@pytest.fixture(scope="module")
def default_specs() -> dict[str, Path]:
    """The three small-tier specs as shipped."""
    for path in SPEC_FILES.values():
        assert path.exists(), path
    return dict(SPEC_FILES)


def real_specs(tmp: Path) -> dict[str, Path]:
    """Specs for the ~6 minute recordings: MOD-001 with 10 s windows and min_history 5."""
    specs = dict(SPEC_FILES)
    specs["MOD-001"] = write_variant(
        load_spec(SPEC_FILES["MOD-001"]),
        tmp / "volume-anomaly-10s.yaml",
        window="10 seconds",
        min_history=5,
    )
    return specs


# --------------------------------------------------------------------------- Spark cases


@pytest.mark.spark
def test_simulated_two_hours(spark: Any, default_specs: dict[str, Path], tmp_path: Path) -> None:
    result = simulate(2.0, tmp_path / "sim.jsonl", seed=7)
    expected = check_against_oracle(spark, default_specs, result.out)
    truth = json.loads(result.truth_path.read_text())
    assert len(expected["MOD-002"]) == sum(a["kind"] == "whale_trade" for a in truth["anomalies"])
    assert len(expected["MOD-001"]) >= sum(a["kind"] == "volume_spike" for a in truth["anomalies"])
    assert len(expected["MOD-003"]) >= sum(
        a["kind"] == "spread_divergence" for a in truth["anomalies"]
    )


@pytest.mark.spark
def test_simulated_with_replayed_duplicates(
    spark: Any, default_specs: dict[str, Path], tmp_path: Path
) -> None:
    """5 % of the records (and every whale) replayed later in the file under the same event id.

    Half of the replays are altered (50x the quantity: whales if they were kept), so only
    keeping the FIRST occurrence in file order agrees with the oracle.
    """
    result = simulate(1.5, tmp_path / "sim.jsonl", seed=99)
    lines = result.out.read_text().splitlines(keepends=True)
    whales = {
        a["event_id"]
        for a in json.loads(result.truth_path.read_text())["anomalies"]
        if "event_id" in a
    }
    dup: list[str] = []
    for i, line in enumerate(lines):
        rec = json.loads(line)
        if rec["event_id"] in whales or i % 20 == 3:
            dup.append(line)
        elif i % 20 == 13:
            rec["quantity"] *= 50
            rec["quote_volume"] *= 50
            dup.append(json.dumps(rec) + "\n")
    out = tmp_path / "dups.jsonl"
    half = len(lines) // 2
    out.write_text(
        "".join(lines[:half] + dup[: len(dup) // 2] + lines[half:] + dup[len(dup) // 2 :])
    )
    expected = check_against_oracle(spark, default_specs, out)
    assert len(expected["MOD-002"]) == len(whales)


@pytest.mark.spark
@pytest.mark.realdata
def test_real_hftbacktest_btc_eth(spark: Any, tmp_path: Path) -> None:
    root = realdata.real_dir()
    path = realdata.write_jsonl(
        realdata.sort_events(realdata.hftbacktest_events(root)), tmp_path / "hft.jsonl"
    )
    expected = check_against_oracle(spark, real_specs(tmp_path), path)
    whales = expected["MOD-002"]
    assert list(whales["symbol"]) == ["ETH-USDT", "ETH-USDT"]
    assert (whales["quote_volume"] > 100_000).all()
    assert len(expected["MOD-001"]) > 0


@pytest.mark.spark
@pytest.mark.realdata
def test_real_cryptofeed_binance_coinbase(spark: Any, tmp_path: Path) -> None:
    root = realdata.real_dir()
    path = realdata.write_jsonl(
        realdata.sort_events(realdata.cryptofeed_events(root)), tmp_path / "cf.jsonl"
    )
    expected = check_against_oracle(spark, real_specs(tmp_path), path)
    assert len(expected["MOD-001"]) > 0


# --------------------------------------------------------------------------- no Spark


@pytest.mark.realdata
def test_realdata_parser_counts() -> None:
    """The parser's trade counts equal those in PROVENANCE.md."""
    root = realdata.real_dir()
    spot = root / "hftbacktest" / "spot"
    btc = realdata.parse_hftbacktest(spot / "btcusdt_20240808.gz")
    eth = realdata.parse_hftbacktest(spot / "ethusdt_20240808.gz")
    assert (len(btc), len(eth)) == (9757, 6106)
    assert btc[0]["event_id"] == "binance:BTCUSDT:3735683259"
    assert btc[0]["timestamp"] == "2024-08-08T23:54:15.342Z" and btc[0]["side"] == "sell"
    assert sum(e["quote_volume"] > 100_000 for e in eth) == 2
    assert max(e["quote_volume"] for e in btc) < 100_000
    cf = root / "cryptofeed"
    binance = realdata.parse_cryptofeed_binance(cf / "BINANCE-ee25be.0")
    assert len(binance) == 1910 and {e["exchange"] for e in binance} == {"binance"}
    assert len(realdata.parse_cryptofeed_binance(cf / "BINANCE_US-63b290.0")) == 188
    matches = realdata.parse_coinbase_matches(cf / "COINBASE.ws.28.0")
    assert len(matches) == 97  # the 10 last_match replays are skipped
    advanced = realdata.parse_coinbase_advanced(cf / "COINBASE.jsonl.zst")
    assert len(advanced) == 279
    assert (
        len(realdata.parse_coinbase_advanced(cf / "COINBASE.jsonl.zst", include_snapshot=False))
        == 79
    )
    assert {e["symbol"] for e in advanced} == {"BTC-USDT", "ETH-USDT"}
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", e["timestamp"]) for e in advanced
    )
    for events in (btc, binance, matches, advanced):
        for e in events[:50]:
            assert list(e) == list(realdata.FIELDS)
            assert e["side"] in ("buy", "sell")
            assert math.isclose(e["quote_volume"], e["price"] * e["quantity"], rel_tol=1e-9)


def test_realdata_skips_when_absent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(realdata, "REAL", tmp_path / "nowhere")
    with pytest.raises(
        pytest.skip.Exception, match=r"real recordings not found at .*\(\.\./shared beside"
    ):
        realdata.real_dir()


def _events(rows: list[tuple[str, str, str, float, float, str]]) -> pd.DataFrame:
    """(event_id, exchange, symbol, price, quantity, iso time) rows as unified events."""
    return oracle.events_frame(
        [
            {
                "event_id": i, "exchange": ex, "symbol": sym, "market": sym.replace("-", ""),
                "price": p, "quantity": q, "quote_volume": p * q, "side": "buy",
                "timestamp": t, "ingestion_timestamp": t,
            }
            for i, ex, sym, p, q, t in rows
        ]
    )  # fmt: skip


def test_oracle_alert_id_is_sha256_of_the_joined_parts() -> None:
    import hashlib

    got = oracle.alert_id("MOD-003", "spread_divergence", ["BTC-USDT", None], "1767225600000")
    want = hashlib.sha256(b"MOD-003|spread_divergence|BTC-USDT|1767225600000").hexdigest()
    assert got == want and re.fullmatch(r"[0-9a-f]{64}", got)


def test_oracle_volume_by_hand() -> None:
    """Ten quiet minutes at 100 (+/-10), then one of 1000; a duplicate record is ignored."""
    rows = []
    vols = [90, 110, 100, 95, 105, 100, 90, 110, 100, 100]
    for k, v in enumerate([*vols, 1000]):
        rows.append(
            (f"e{k}", "binance", "BTC-USDT", float(v), 1.0, f"2026-01-01T00:{k:02d}:30.000Z")
        )
    rows.append(
        ("e10", "binance", "BTC-USDT", 5000.0, 1.0, "2026-01-01T00:10:40.000Z")
    )  # duplicate id
    out = oracle.volume_anomaly(_events(rows))
    assert len(out) == 1
    r = out.iloc[0]
    mean = sum(vols) / 10
    std = (sum((v - mean) ** 2 for v in vols) / 9) ** 0.5
    assert r["window_volume"] == 1000 and r["trade_count"] == 1 and r["history_windows"] == 10
    assert math.isclose(r["z_score"], (1000 - mean) / std, rel_tol=1e-12)
    assert r["severity"] == "high"
    assert r["window_start"] == pd.Timestamp("2026-01-01T00:10:00Z")
    assert r["detected_at"] == pd.Timestamp("2026-01-01T00:11:00Z")
    assert r["alert_id"] == oracle.alert_id(
        "MOD-001", "volume_spike", ["BTC-USDT", "binance"], "1767226200000"
    )
    # with only 9 earlier windows there is no alert
    assert oracle.volume_anomaly(_events(rows[1:11])).empty


def test_oracle_volume_constant_history_never_alerts() -> None:
    rows = [
        (f"e{k}", "coinbase", "ETH-USDT", 100.0, 1.0, f"2026-01-01T00:{k:02d}:00.000Z")
        for k in range(12)
    ]
    rows.append(("big", "coinbase", "ETH-USDT", 100.0, 50.0, "2026-01-01T00:12:00.000Z"))
    assert oracle.volume_anomaly(_events(rows)).empty  # stddev 0: z is null


def test_oracle_whale_and_spread_by_hand() -> None:
    rows = [
        (
            "w1",
            "binance",
            "BTC-USDT",
            60000.0,
            1.6667,
            "2026-01-01T00:00:01.000Z",
        ),  # 100,002 medium
        ("w2", "binance", "BTC-USDT", 60000.0, 10.0, "2026-01-01T00:00:02.000Z"),  # 600,000 high
        ("w3", "coinbase", "BTC-USDT", 60000.0, 20.0, "2026-01-01T00:00:03.000Z"),  # 1.2M critical
        ("n1", "coinbase", "BTC-USDT", 50000.0, 2.0, "2026-01-01T00:00:04.000Z"),  # exactly 100,000
        ("a", "binance", "ETH-USDT", 3000.0, 1.0, "2026-01-01T00:00:31.000Z"),
        ("b", "binance", "ETH-USDT", 3030.0, 3.0, "2026-01-01T00:00:32.000Z"),
        ("c", "coinbase", "ETH-USDT", 3000.0, 1.0, "2026-01-01T00:00:59.999Z"),
        ("d", "coinbase", "ETH-USDT", 3000.0, 1.0, "2026-01-01T00:01:00.000Z"),  # next window
    ]
    whales = oracle.whale_detector(_events(rows))
    assert dict(zip(whales["event_id"], whales["severity"], strict=True)) == {
        "w1": "medium", "w2": "high", "w3": "critical",
    }  # fmt: skip
    spreads = oracle.spread_calculator(_events(rows)).set_index("symbol")
    assert sorted(spreads.index) == ["BTC-USDT", "ETH-USDT"]
    # ETH 00:00:30 window: vwap_a = (3000 + 9090) / 4 = 3022.5, vwap_b = 3000 -> +0.75 %
    eth = spreads.loc["ETH-USDT"]
    assert eth["exchange"] is None and eth["severity"] == "medium"
    assert math.isclose(eth["spread_pct"], 0.75, rel_tol=1e-12)
    assert eth["alert_id"] == oracle.alert_id(
        "MOD-003", "spread_divergence", ["ETH-USDT"], "1767225630000"
    )
    # BTC 00:00:00 window: binance 60000, coinbase (1.2M + 100k) / 22 -> +1.54 %: high
    btc = spreads.loc["BTC-USDT"]
    assert btc["severity"] == "high"
    assert math.isclose(
        btc["spread_pct"], (60000 - 1_300_000 / 22) / (1_300_000 / 22) * 100, rel_tol=1e-12
    )
    # ETH 00:01:00 has coinbase only: no spread


def test_oracle_windows_are_epoch_aligned() -> None:
    assert datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000 == 1767225600000
