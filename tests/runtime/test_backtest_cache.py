"""The back-test's gate and its Parquet cache of the gated input (ctc/runtime/gated_cache.py).

The reference is :func:`ctc.runtime.quality.gate_file`, the gate the stream shares: the
back-test path must decide every line as it does, with or without the cache. A cache hit
must give the alerts and counts of a cold run, and any change to the input's bytes or to
the rules must miss it; a write that did not finish must never be read.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ctc.compiler import compile_paths
from ctc.runtime import gated_cache, quality
from ctc.runtime.backtest import run_backtest
from ctc.runtime.gated_cache import gated_input
from ctc.runtime.quality import gate_file, load_rules
from ctc.simulate import simulate

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parents[2]
RULES = load_rules(ROOT / "detectors" / "quality.yaml")
BROKEN = ROOT / "tests" / "quality" / "broken_trades.jsonl"
SMALL = [
    ROOT / "detectors" / n for n in ("volume-anomaly.yaml", "whale.yaml", "spread-calculator.yaml")
]
P = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def trades(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """90 simulated minutes (about 32k trades) with every kind of injected anomaly."""
    path = tmp_path_factory.mktemp("sim") / "trades.jsonl"
    simulate(1.5, path, seed=5)
    return path


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory, trades: Path) -> Path:
    """A folder of three files: simulated trades, the broken lines, and repeats of both
    (within a file and across files, so across Spark partitions)."""
    folder = tmp_path_factory.mktemp("messy")
    lines = trades.read_text(encoding="utf-8").splitlines()[:4000]
    broken = BROKEN.read_text(encoding="utf-8").splitlines()
    rnd = random.Random(7)
    a = lines[:2500] + broken + rnd.sample(lines[:2500], 300)
    b = lines[2500:] + rnd.sample(lines, 400) + broken[:20]
    rnd.shuffle(a)
    (folder / "a.jsonl").write_text("\n".join(a) + "\n", encoding="utf-8")
    (folder / "b.jsonl").write_text("\n".join(b) + "\n", encoding="utf-8")
    (folder / "c.jsonl").write_text("\n".join(lines[:50]) + "\n", encoding="utf-8")
    return folder


def _reference(spark: Any, path: Path) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    ref = gate_file(spark, path, RULES, processing_time=P)
    try:
        return sorted(map(tuple, ref.passed.collect())), ref.metrics
    finally:
        ref.unpersist()


@pytest.mark.parametrize("source", ["broken", "messy"])
def test_backtest_gate_decides_every_line_as_the_stream_gate(
    spark: Any, tmp_path: Path, messy: Path, source: str
) -> None:
    path = BROKEN if source == "broken" else messy
    expected_rows, expected_metrics = _reference(spark, path)
    assert expected_metrics["duplicates"] > 0 and expected_metrics["failed"] > 0
    for cache in (None, tmp_path / "cache", tmp_path / "cache"):  # memory, cold, hit
        got = gated_input(spark, path, RULES, cache, processing_time=P)
        try:
            assert sorted(map(tuple, got.trades.collect())) == expected_rows
            assert got.metrics == expected_metrics
            assert got.trades.columns == [*quality.TRADE_EVENT_FIELDS, "is_late", "quote_warning"]
        finally:
            got.release()
    assert got.hit


def test_cache_hit_gives_the_alerts_and_counts_of_a_cold_run(
    spark: Any, tmp_path: Path, trades: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = compile_paths(SMALL)
    cache = tmp_path / "cache"
    plain = run_backtest(spark, plans, trades, rules=RULES)
    cold = run_backtest(spark, plans, trades, rules=RULES, cache_dir=cache)
    entries = [p for p in cache.iterdir()]
    assert len(entries) == 1 and not entries[0].name.startswith(".")
    assert not cold.cache_hit

    def no_gating(*_args: Any, **_kw: Any) -> Any:
        raise AssertionError("a cache hit must not gate the input again")

    monkeypatch.setattr(quality, "gate_rows", no_gating)
    hit = run_backtest(spark, plans, trades, rules=RULES, cache_dir=cache)
    assert hit.cache_hit
    assert len(plain.alerts) > 10
    assert {a["module_id"] for a in plain.alerts} == {"MOD-001", "MOD-002", "MOD-003"}
    assert hit.alerts == cold.alerts == plain.alerts
    assert hit.counts == cold.counts == plain.counts
    c = hit.counts
    assert c.read == c.used + c.rejected + c.duplicates
    stored = json.loads((entries[0] / "counts.json").read_text(encoding="utf-8"))
    assert stored["metrics"]["processed"] == c.read and stored["metrics"]["passed"] == c.used


def _entries(cache: Path) -> set[str]:
    return {p.name for p in cache.iterdir() if not p.name.startswith(".")}


def test_one_byte_of_input_or_one_rule_misses_the_cache(
    spark: Any, tmp_path: Path, trades: Path
) -> None:
    cache = tmp_path / "cache"
    data = tmp_path / "trades.jsonl"
    data.write_bytes(trades.read_bytes())
    first = gated_input(spark, data, RULES, cache, processing_time=P)
    assert not first.hit and _entries(cache) == {first.entry.name if first.entry else ""}

    # one byte: the first price's last digit
    text = data.read_bytes()
    at = text.index(b',"quantity"') - 1
    digit = text[at : at + 1]
    data.write_bytes(text[:at] + (b"7" if digit != b"7" else b"3") + text[at + 1 :])
    changed = gated_input(spark, data, RULES, cache, processing_time=P)
    assert not changed.hit and len(_entries(cache)) == 2
    expected_rows, expected_metrics = _reference(spark, data)
    assert sorted(map(tuple, changed.trades.collect())) == expected_rows
    assert changed.metrics == expected_metrics

    # one rule: SOL-USDT no longer allowed
    strict = replace(RULES, symbols=("BTC-USDT", "ETH-USDT"))
    stricter = gated_input(spark, data, strict, cache, processing_time=P)
    assert not stricter.hit and len(_entries(cache)) == 3
    assert stricter.counts.rejected > changed.counts.rejected
    assert stricter.metrics["failed_by_rule"]["validity_symbol_allowed"] == stricter.counts.rejected
    # one rule: a different tolerance (it only flags rows, but is part of the rules)
    tolerant = replace(RULES, quote_volume_tolerance=0.5)
    assert not gated_input(spark, data, tolerant, cache, processing_time=P).hit

    # the same content elsewhere, the same rules from another file: hits
    moved = tmp_path / "elsewhere.jsonl"
    moved.write_bytes(data.read_bytes())
    rules_copy = tmp_path / "quality.yaml"
    rules_copy.write_bytes((ROOT / "detectors" / "quality.yaml").read_bytes())
    again = gated_input(spark, moved, load_rules(rules_copy), cache, processing_time=P)
    assert again.hit and again.entry == changed.entry
    assert again.counts == changed.counts
    assert len(_entries(cache)) == 4


def test_a_folder_input_misses_when_a_file_is_added(
    spark: Any, tmp_path: Path, messy: Path
) -> None:
    cache = tmp_path / "cache"
    folder = tmp_path / "in"
    folder.mkdir()
    for f in messy.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    assert not gated_input(spark, folder, RULES, cache, processing_time=P).hit
    assert gated_input(spark, folder, RULES, cache, processing_time=P).hit
    (folder / "d.jsonl").write_bytes(BROKEN.read_bytes())
    added = gated_input(spark, folder, RULES, cache, processing_time=P)
    assert not added.hit
    assert added.metrics == _reference(spark, folder)[1]


def test_an_interrupted_write_is_never_read(
    spark: Any, tmp_path: Path, trades: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"

    def crash(*_args: Any, **_kw: Any) -> None:
        raise KeyboardInterrupt  # after the Parquet rows and duplicates, before the counts

    with monkeypatch.context() as m:
        m.setattr(gated_cache, "_write_json", crash)
        with pytest.raises(KeyboardInterrupt):
            gated_input(spark, trades, RULES, cache, processing_time=P)
    assert list(cache.iterdir()) == []  # neither an entry nor a temporary folder

    good = gated_input(spark, trades, RULES, cache, processing_time=P)
    assert not good.hit and good.entry is not None
    key = good.entry.name

    # a half entry at the final name (as a copy by hand could leave): not read, replaced
    (good.entry / "counts.json").unlink()
    redo = gated_input(spark, trades, RULES, cache, processing_time=P)
    assert not redo.hit and (good.entry / "counts.json").is_file()

    # an entry whose Parquet write did not finish: not read
    (good.entry / "rows" / "_SUCCESS").unlink()
    assert not gated_input(spark, trades, RULES, cache, processing_time=P).hit

    # the temporary folder of a killed process: never read, removed by the next write
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = cache / f".tmp-{key}-{int(dead.stdout)}-deadbeef"
    stale.mkdir()
    (stale / "counts.json").write_text("{}", encoding="utf-8")
    changed = tmp_path / "other.jsonl"
    changed.write_bytes(trades.read_bytes() + BROKEN.read_bytes())
    assert not gated_input(spark, changed, RULES, cache, processing_time=P).hit
    assert not stale.exists()


def test_kill_during_the_cache_write_leaves_nothing_that_is_read(
    spark: Any, tmp_path: Path, trades: Path
) -> None:
    """SIGKILL a real `ctc backtest` while it writes the cache; the next run gates afresh."""
    big = tmp_path / "big.jsonl"
    lines = trades.read_bytes()
    big.write_bytes(lines * 6)  # about 200k lines: the write takes a while
    cache = tmp_path / "cache"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ctc",
            "backtest",
            str(SMALL[1]),
            "--input",
            str(big),
            "--cache",
            str(cache),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    try:
        while not any(cache.glob(".tmp-*/rows")):
            assert proc.poll() is None, "the back-test ended before it wrote the cache"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _entries(cache) == set()  # only the hidden temporary folder may remain
    assert any(cache.glob(".tmp-*"))
    after = gated_input(spark, big, RULES, cache, processing_time=P)
    assert not after.hit
    assert after.counts.read == 6 * len(lines.splitlines())
    assert not any(cache.glob(".tmp-*"))  # the killed process's folder is gone


def test_cli_cache_and_no_cache(spark: Any, tmp_path: Path, trades: Path) -> None:
    from click.testing import CliRunner

    from ctc.cli import main

    cache = tmp_path / "cache"
    base = ["backtest", *map(str, SMALL), "--input", str(trades), "--format", "json"]
    runs = [
        CliRunner().invoke(main, [*base, "--cache", str(cache)]),
        CliRunner().invoke(main, [*base, "--cache", str(cache)]),
        CliRunner().invoke(main, [*base, "--cache", str(tmp_path / "unused"), "--no-cache"]),
    ]
    for r in runs:
        assert r.exit_code == 0, r.output
    assert "into cache" in runs[0].stderr and "from cache" in runs[1].stderr
    assert "cache" not in runs[2].stderr
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout and runs[0].stdout.count("\n") > 10
    assert not (tmp_path / "unused").exists()
