"""Each plan's back-test alerts kept beside the gated input (ctc/runtime/result_cache.py).

A repeat back-test must give exactly the alerts of a run without any cache, run in Spark
only the plans that changed (and those that read them), and start no Spark when nothing
changed. What a plan's alerts depend on must all change its fingerprint.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ctc.compiler import compile_paths
from ctc.runtime.backtest import run_backtest
from ctc.runtime.quality import load_rules
from ctc.runtime.result_cache import needed_plans, plan_fingerprints
from ctc.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
DET = ROOT / "detectors"
RULES = load_rules(DET / "quality.yaml")
SMALL = ("volume-anomaly.yaml", "whale.yaml", "spread-calculator.yaml")
CHAIN = (*SMALL, "flow-direction.yaml", "consensus.yaml")


def _copy(folder: Path, names: tuple[str, ...]) -> list[Path]:
    folder.mkdir()
    shutil.copytree(DET / "reference", folder / "reference")
    return [Path(shutil.copy(DET / n, folder / n)) for n in names]


def _set_whale_usd(path: Path, value: int) -> None:
    text = path.read_text(encoding="utf-8")
    assert "whale_usd: 100000 " in text
    path.write_text(text.replace("whale_usd: 100000 ", f"whale_usd: {value} "), encoding="utf-8")


def _fingerprints(paths: list[Path]) -> dict[str, str | None]:
    from ctc.runtime.batch import dependency_order

    return plan_fingerprints(dependency_order(compile_paths(paths, with_dependencies=True)))


def test_a_change_reaches_the_plan_and_its_readers_only(tmp_path: Path) -> None:
    paths = _copy(tmp_path / "d", CHAIN)
    before = _fingerprints(paths)
    assert before == _fingerprints(paths)  # stable
    assert all(before.values()) and len(set(before.values())) == len(before)
    _set_whale_usd(tmp_path / "d" / "whale.yaml", 250000)
    after = _fingerprints(paths)
    changed = {m for m in before if before[m] != after[m]}
    # MOD-006 reads MOD-002's output and MOD-007 reads the alerts of MOD-002 and MOD-006
    assert changed == {"MOD-002", "MOD-006", "MOD-007"}


def test_reference_data_and_is_late_reach_the_fingerprint(tmp_path: Path) -> None:
    (spec,) = _copy(tmp_path / "d", ("labeled-whales.yaml",))
    before = _fingerprints([spec])
    labels = tmp_path / "d" / "reference" / "labels" / "known_wallets.csv"
    labels.write_text(labels.read_text(encoding="utf-8") + "0xabc,x,y,z\n", encoding="utf-8")
    assert _fingerprints([spec]) != before

    plan = compile_paths([DET / "whale.yaml"])[0]
    first = plan.stages[0]
    stages = (
        replace(first, sql=f"SELECT * FROM ({first.sql}) WHERE NOT is_late"),
        *plan.stages[1:],
    )
    assert any("is_late" in s.sql for s in stages)
    assert plan_fingerprints([replace(plan, stages=stages)]) == {plan.module: None}


def test_needed_plans_are_the_unkept_and_what_they_read() -> None:
    plans = compile_paths([DET / n for n in CHAIN], with_dependencies=True)
    from ctc.runtime.batch import dependency_order

    ordered = dependency_order(plans)
    every = {p.module for p in ordered}
    assert needed_plans(ordered, every) == []
    need = {p.module for p in needed_plans(ordered, every - {"MOD-007"})}
    assert need == {"MOD-007", "MOD-001", "MOD-002", "MOD-006"}  # MOD-003: not read


@pytest.mark.spark
def test_a_repeat_back_test_runs_only_what_changed(spark: Any, tmp_path: Path) -> None:
    trades = tmp_path / "trades.jsonl"
    simulate(1.0, trades, seed=3)
    paths = _copy(tmp_path / "d", SMALL)
    cache = tmp_path / "cache"

    cold = run_backtest(spark, compile_paths(paths), trades, rules=RULES, cache_dir=cache)
    assert cold.kept == [] and not cold.cache_hit
    assert {a["module_id"] for a in cold.alerts} == {"MOD-001", "MOD-002", "MOD-003"}

    def no_spark() -> Any:
        raise AssertionError("no plan changed: Spark must not start")

    warm = run_backtest(no_spark, compile_paths(paths), trades, rules=RULES, cache_dir=cache)
    assert warm.kept == ["MOD-001", "MOD-002", "MOD-003"] and warm.cache_hit
    assert warm.alerts == cold.alerts and warm.counts == cold.counts

    # a threshold between the whales raised: the lower ones must go, the others stay
    volumes = sorted(
        a["details"]["quote_volume"] for a in cold.alerts if a["module_id"] == "MOD-002"
    )
    assert len(volumes) >= 2 and volumes[0] < volumes[-1]
    threshold = int(volumes[0]) + 1
    _set_whale_usd(tmp_path / "d" / "whale.yaml", threshold)
    plans = compile_paths(paths)
    changed = run_backtest(spark, plans, trades, rules=RULES, cache_dir=cache)
    assert changed.kept == ["MOD-001", "MOD-003"] and changed.registered == {"MOD-002"}
    plain = run_backtest(spark, plans, trades, rules=RULES)  # no cache at all
    assert changed.alerts == plain.alerts and changed.counts == plain.counts
    expected = {
        a["alert_id"]
        for a in cold.alerts
        if a["module_id"] == "MOD-002" and a["details"]["quote_volume"] > threshold
    }
    assert {a["alert_id"] for a in changed.alerts if a["module_id"] == "MOD-002"} == expected
    assert 0 < len(expected) < len(volumes)
    others = [a for a in cold.alerts if a["module_id"] != "MOD-002"]
    assert [a for a in changed.alerts if a["module_id"] != "MOD-002"] == others
