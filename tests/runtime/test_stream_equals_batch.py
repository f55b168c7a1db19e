"""The same input through `ctc run --until-idle` and `ctc backtest` gives the same alerts."""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from realdata import hftbacktest_events, sort_events, write_jsonl
from streamkit import SMALL, assert_provenance, options, run_stream, store_alerts

from ctc.compiler import compile_paths
from ctc.runtime.backtest import run_backtest
from ctc.runtime.landing import publish_file
from ctc.simulate import simulate

pytestmark = pytest.mark.spark


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def _assert_same(stream: dict[str, dict[str, Any]], batch: list[dict[str, Any]]) -> None:
    by_id = {a["alert_id"]: a for a in batch}
    assert set(stream) == set(by_id), (
        f"only in stream: {sorted(set(stream) - set(by_id))[:5]}, "
        f"only in batch: {sorted(set(by_id) - set(stream))[:5]}"
    )
    for alert_id, s in stream.items():
        b = by_id[alert_id]
        for k in (
            "alert_type",
            "module_id",
            "symbol",
            "exchange",
            "severity",
            "message",
            "ttl_epoch",
            "spec_version",
            "ctc_version",
        ):
            assert s[k] == b[k], (alert_id, k, s[k], b[k])
        assert s["detected_at"] == b["detected_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert s["details"].keys() == b["details"].keys()
        for k, v in s["details"].items():
            assert _same_value(v, b["details"][k]), (alert_id, k, v, b["details"][k])


@pytest.mark.parametrize("rows_first", [False, True], ids=["one-job", "rows-first"])
def test_simulated_stream_equals_batch(spark: Any, tmp_path: Path, rows_first: bool) -> None:
    """rows-first: the layout of a long-running query (whales collected and published in
    a job of their own before the window plans)."""
    trades = tmp_path / "trades.jsonl"
    sim = simulate(1.5, trades, seed=5)
    published = publish_file(trades, tmp_path / "landing", seconds_per_file=900)
    assert len(published) >= 6
    opts = options(tmp_path, lake=False, max_files=2)
    opts.rows_first = rows_first
    runner = run_stream(spark, SMALL, opts)
    assert len(runner.detectors.levels) == (2 if rows_first else 1)
    stream = store_alerts(tmp_path / "alerts.db")
    batch = run_backtest(spark, compile_paths(SMALL), trades).alerts
    assert len(stream) > 0 and runner.totals.batches >= 3
    assert runner.totals.processed == sim.trades
    _assert_same(stream, batch)
    assert_provenance(stream.values(), SMALL)


def _ten_second_specs(tmp_path: Path) -> list[Path]:
    """The small tier with ten-second volume windows, so six minutes of real trades have
    a baseline to alert against."""
    specs = []
    for spec in SMALL:
        doc = yaml.safe_load(spec.read_text(encoding="utf-8"))
        if doc["module"] == "MOD-001":
            doc["window"]["size"] = "10 seconds"
            doc["window"]["watermark"] = "5 seconds"
            doc["params"]["min_history"] = 5
        out = tmp_path / spec.name
        out.write_text(yaml.safe_dump(doc), encoding="utf-8")
        specs.append(out)
    return specs


def _quiet_flags(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[bool]]:
    """Record, per module, whether each of its micro-batches was quiet (closed none of its
    windows: ``PlanFrames.quiet``), as the runner folds each plan's results forward."""
    from ctc.runtime import detect_levels, incremental

    kinds: dict[str, list[bool]] = {}

    def advance(step: incremental.PlanFrames, ps: Any) -> int:
        kinds.setdefault(step.plan.module, []).append(step.quiet)
        return incremental.advance(step, ps)

    monkeypatch.setattr(detect_levels, "advance", advance)
    return kinds


def test_batches_that_close_no_window_stream_equals_batch(
    spark: Any, tmp_path: Path, real_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real recorded trades in micro-batches shorter than a window, as live: most close no
    window of a plan, whose rows then only join its buffer without a Spark query
    (``PlanFrames.quiet``). The stream still raises exactly the back-test's alerts (volume
    spikes and whales among them), and both kinds of batch ran."""
    trades = tmp_path / "real.jsonl"
    events = sort_events(hftbacktest_events(real_data))
    # the recording's last four minutes (its two whales): 31 files of 8 s, one a batch
    last = datetime.fromisoformat(events[-1]["timestamp"].replace("Z", "+00:00"))
    start = (last - timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%S")
    write_jsonl([e for e in events if e["timestamp"] >= start], trades)
    specs = _ten_second_specs(tmp_path)
    publish_file(trades, tmp_path / "landing", seconds_per_file=8)
    kinds = _quiet_flags(monkeypatch)
    runner = run_stream(spark, specs, options(tmp_path, lake=False, max_files=1))
    assert runner.totals.batches >= 30
    for module in ("MOD-001", "MOD-003"):
        assert any(kinds[module]) and not all(kinds[module]), (module, kinds[module])
    stream = store_alerts(tmp_path / "alerts.db")
    batch = run_backtest(spark, compile_paths(specs), trades).alerts
    assert {a["module_id"] for a in stream.values()} >= {"MOD-001", "MOD-002"}
    _assert_same(stream, batch)


def _swaps(seed: int) -> list[dict[str, Any]]:
    """Twenty minutes of Uniswap swaps on three keys (protocol, token_in → token_out), one
    every 6 to 20 s per key, about one in four above 100,000 USD, a few above 1,000,000."""
    import random

    from ctc.runtime.fixtures import fixture_chain_event

    rng = random.Random(seed)
    rows = []
    keys = [
        ("uniswap_v2", "WETH", "USDC"),
        ("uniswap_v2", "USDC", "WETH"),
        ("uniswap_v3", "WETH", "USDC"),
    ]
    n = 0
    for protocol, token_in, token_out in keys:
        t = rng.uniform(0, 10)
        while t < 1200:
            n += 1
            usd = round(rng.choice([rng.uniform(1e3, 9e4)] * 3 + [rng.uniform(1e5, 2.5e6)]), 2)
            second = f"2026-01-01T00:{int(t) // 60:02d}:{int(t) % 60:02d}Z"
            rows.append(
                fixture_chain_event(
                    {
                        "tx_hash": f"0x{n:04x}",
                        "block_number": 1000 + int(t // 12),
                        "block_timestamp": second,
                        "event_type": "dex_swap",
                        "protocol": protocol,
                        "from_address": f"0x{n:040x}",
                        "token_in": token_in,
                        "token_out": token_out,
                        "amount_in_usd": usd,
                        "amount_out_usd": round(usd * 0.997, 2),
                        "price_impact_pct": round(rng.uniform(0.01, 1.6), 3),
                    }
                )
            )
            t += rng.uniform(6, 20)
    return sorted(rows, key=lambda r: r["block_timestamp"])


def test_dex_tracker_per_swap_stream_equals_batch_over_micro_batches(
    spark: Any, tmp_path: Path
) -> None:
    """MOD-009's per-swap large_dex_swap (a ``per: row`` rule) and its per-window
    liquidity_change, over on-chain files that land one per micro-batch (eight batches),
    some swaps a file late but within the 30 s watermark (out of order, still in their
    window), one swap 17 minutes late (dropped by the stream, counted): the stream raises
    exactly the back-test's alerts but that swap's. Independently of both, one
    large_dex_swap per swap above 100,000 USD, with its minute's swap count and USD in."""
    from collections import Counter
    from datetime import datetime

    from streamkit import DETECTORS

    from ctc.runtime.fixtures import fixture_chain_event, fixture_trade
    from ctc.runtime.stream import StreamRunner

    swaps = _swaps(seed=9)
    # eight files of 150 s each; a swap in the last 12 s of a file's span lands in the next
    files: list[list[dict[str, Any]]] = [[] for _ in range(8)]
    moved = 0
    for s in swaps:
        t = datetime.fromisoformat(s["block_timestamp"].replace("Z", "+00:00"))
        i = min((t.minute * 60 + t.second) // 150, 7)
        late_in_span = (t.minute * 60 + t.second) % 150 >= 138
        if late_in_span and i < 7:
            moved += 1
        files[i + 1 if late_in_span and i < 7 else i].append(s)
    too_late = fixture_chain_event(
        {
            "tx_hash": "0xdead",
            "block_number": 1005,
            "block_timestamp": "2026-01-01T00:01:00Z",
            "event_type": "dex_swap",
            "protocol": "uniswap_v3",
            "from_address": "0x000000000000000000000000000000000000dead",
            "token_in": "USDC",
            "token_out": "WETH",
            "amount_in_usd": 500000.0,
            "amount_out_usd": 499000.0,
            "price_impact_pct": 0.2,
        }
    )
    files[7].append(too_late)
    assert moved >= 3
    staged = tmp_path / "staged"
    staged.mkdir()
    paths = []
    for i, rows in enumerate(files):
        path = staged / f"chain-{i}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        paths.append(path)
    landing = tmp_path / "landing"
    (landing / "_chain").mkdir(parents=True)
    for i in range(len(paths)):  # a trade file a micro-batch (on-chain files are read with them)
        trade = {
            "event_id": f"t{i}",
            "exchange": "binance",
            "symbol": "ETH-USDT",
            "price": 3000,
            "quantity": 1,
            "side": "buy",
            "timestamp": f"2026-01-01T00:{2 * i:02d}:05Z",
        }
        (landing / f"trades-{i}.jsonl").write_text(json.dumps(fixture_trade(trade)) + "\n")

    specs = [DETECTORS / "dex-tracker.yaml"]
    plans = compile_paths(specs, with_dependencies=True)
    runner = StreamRunner(spark, plans, options(tmp_path, lake=False, max_files=1))
    pending = list(paths)
    take = runner._chain.take

    def land_then_take(spark: Any, batch_id: int, flush: bool, state: Any) -> None:
        if pending and not flush:  # the next on-chain file lands before this batch reads
            nxt = pending.pop(0)
            nxt.rename(landing / "_chain" / nxt.name)
        take(spark, batch_id, flush, state)

    runner._chain.take = land_then_take  # type: ignore[method-assign]
    runner.run()
    assert not pending and runner.totals.batches >= 8
    assert runner.totals.late_events_dropped == 1
    stream = {
        k: a for k, a in store_alerts(tmp_path / "alerts.db").items() if a["module_id"] == "MOD-009"
    }

    everything = tmp_path / "chain.jsonl"
    everything.write_text("".join(json.dumps(r) + "\n" for rows in files for r in rows))
    trades = tmp_path / "trades.jsonl"
    trades.write_text("".join((landing / f"trades-{i}.jsonl").read_text() for i in range(8)))
    batch = [
        a
        for a in run_backtest(spark, plans, trades, chain_input=everything).alerts
        if a["module_id"] == "MOD-009"
    ]
    dropped = [a for a in batch if a["details"].get("event_id") == too_late["event_id"]]
    assert len(dropped) == 1  # the back-test has no watermark: the late swap is alerted there
    _assert_same(stream, [a for a in batch if a not in dropped])

    # independently: one alert per swap above 100,000, with its minute's figures
    per_minute: Counter[tuple[str, str, str, str]] = Counter()
    usd_in: Counter[tuple[str, str, str, str]] = Counter()
    for s in swaps:
        key = (s["protocol"], s["token_in"], s["token_out"], s["block_timestamp"][:16])
        per_minute[key] += 1
        usd_in[key] += s["amount_in_usd"]
    large = {s["event_id"]: s for s in swaps if s["amount_in_usd"] > 100_000}
    got = {
        a["details"]["event_id"]: a for a in stream.values() if a["alert_type"] == "large_dex_swap"
    }
    assert set(got) == set(large) and len(large) >= 20
    for event_id, a in got.items():
        s = large[event_id]
        key = (s["protocol"], s["token_in"], s["token_out"], s["block_timestamp"][:16])
        assert a["detected_at"] == s["block_timestamp"].replace("Z", ".000000Z")
        assert a["details"]["swap_count"] == per_minute[key]
        assert math.isclose(a["details"]["volume_in_usd"], usd_in[key], rel_tol=1e-9)
        high = s["amount_in_usd"] > 1_000_000 or abs(s["price_impact_pct"]) > 1.0
        assert a["severity"] == ("high" if high else "medium")


def test_every_tier_stream_equals_batch_over_many_batches(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every streaming detector, the chained ones included (MOD-006 reads MOD-002's
    rows, MOD-007 and MOD-010 read alerts), over the demo's three hours in 25
    micro-batches: the stream raises exactly the back-test's alerts.

    - The first half hour in two-minute batches, shorter than the chained plans' windows
      (5 and 15 minutes): most close none of them, and the plan then only takes in its
      rows (MOD-007 and MOD-010 as a Spark branch of their event rows alone).
    - The next two and a half hours in 15-minute batches. Before chained watermarks were
      held at their upstreams', MOD-007 closed windows before MOD-006's flow signals for
      them arrived and lost them (4 of 8 consensus alerts, with 5-minute files)."""
    from streamkit import DETECTORS

    trades = tmp_path / "trades.jsonl"
    simulate(3.0, trades, seed=7)  # the demo's data
    first, rest = tmp_path / "first-half-hour.jsonl", tmp_path / "rest.jsonl"
    lines = trades.read_text(encoding="utf-8").splitlines(keepends=True)
    start = datetime.fromisoformat(json.loads(lines[0])["timestamp"].replace("Z", "+00:00"))
    half = (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S")
    cut = next(i for i, ln in enumerate(lines) if json.loads(ln)["timestamp"] >= half)
    first.write_text("".join(lines[:cut]), encoding="utf-8")
    rest.write_text("".join(lines[cut:]), encoding="utf-8")
    landing = tmp_path / "landing"
    files = publish_file(first, landing, seconds_per_file=120)
    files += publish_file(rest, landing, seconds_per_file=900)
    for i, path in enumerate(files):  # read in this order, whatever the clock did
        os.utime(path, (1_700_000_000 + i * 0.01,) * 2)
    kinds = _quiet_flags(monkeypatch)
    plans = compile_paths([DETECTORS])
    streaming = {p.module for p in plans if p.mode == "streaming"}
    assert {"MOD-006", "MOD-007", "MOD-010"} <= streaming
    runner = run_stream(spark, [DETECTORS], options(tmp_path, lake=False, max_files=1))
    assert runner.totals.batches >= 24
    for module in ("MOD-006", "MOD-007", "MOD-010"):
        assert any(kinds[module]) and not all(kinds[module]), (module, kinds[module])
    stream = store_alerts(tmp_path / "alerts.db")
    batch = [a for a in run_backtest(spark, plans, trades).alerts if a["module_id"] in streaming]
    modules = {a["module_id"] for a in batch}
    assert {"MOD-001", "MOD-002", "MOD-003", "MOD-006", "MOD-007", "MOD-010"} <= modules
    _assert_same(stream, batch)
