"""`ctc diff --input`: the impact of a change equals two back-tests run separately, though
the review runs only the affected detectors and reuses the unchanged ones it reads."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from ctc.compiler import compile_paths
from ctc.review.changes import compare_versions
from ctc.review.impact import affected, measure
from ctc.review.versions import open_version
from ctc.runtime.backtest import run_backtest

ROOT = Path(__file__).resolve().parents[2]
DETECTORS = ROOT / "detectors"


def _folder(path: Path, edits: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    for name in ("whale.yaml", "flow-direction.yaml"):
        shutil.copy(DETECTORS / name, path / name)
    spec = path / "flow-direction.yaml"
    text = spec.read_text(encoding="utf-8")
    for old, new in edits.items():
        assert text.count(old) == 1
        text = text.replace(old, new)
    spec.write_text(text, encoding="utf-8")
    return path


def _module_alerts(spark: Any, folder: Path, sample: Path, cache: Path) -> dict[str, dict]:
    """The MOD-006 alerts of a plain back-test of ``folder``, by alert id."""
    result = run_backtest(spark, compile_paths([folder]), sample, cache_dir=cache)
    return {a["alert_id"]: a for a in result.alerts if a["module_id"] == "MOD-006"}


def test_impact_equals_separate_backtests(spark: Any, tmp_path: Path) -> None:
    from ctc.simulate import simulate

    sample = tmp_path / "sample.jsonl"
    simulate(3.0, sample, seed=7)
    old_dir = _folder(tmp_path / "old", {})
    new_dir = _folder(
        tmp_path / "new",
        {
            "high_accumulation: 0.85 ": "high_accumulation: 0.75 ",
            "min_whale_trades: 1 ": "min_whale_trades: 2 ",
        },
    )
    cache = tmp_path / "cache"
    said: list[str] = []
    with open_version(str(old_dir), []) as a, open_version(str(new_dir), []) as b:
        changes = compare_versions(a, b)
        assert [(c.module, c.classification) for c in changes] == [("MOD-006", "non-breaking")]
        assert affected(changes, a, b) == ["MOD-006"]
        impact = measure(spark, changes, a, b, sample, None, cache, said.append)

    # the whale detector feeds MOD-006 and did not change: the second back-test reused it
    assert any("reusing MOD-002" in line for line in said), said
    (mi,) = impact.modules
    before = _module_alerts(spark, old_dir, sample, cache)
    after = _module_alerts(spark, new_dir, sample, cache)
    assert before, "the sample must raise flow alerts"
    assert mi.before == Counter((a["alert_type"], a["severity"]) for a in before.values())
    assert mi.after == Counter((a["alert_type"], a["severity"]) for a in after.values())
    assert {a["alert_id"] for a in mi.removed} == set(before) - set(after)
    assert {a["alert_id"] for a in mi.added} == set(after) - set(before)
    assert {b["alert_id"] for _a, b in mi.severity_changed} == {
        i for i in set(before) & set(after) if before[i]["severity"] != after[i]["severity"]
    }
    assert mi.changed


def test_affected_follows_readers_transitively() -> None:
    with open_version(str(DETECTORS), []) as a:
        whale = [
            c
            for c in compare_versions(a, a)  # nothing changed: no module is affected
        ]
        assert whale == [] and affected(whale, a, a) == []
        readers = a.readers()
    # MOD-006 reads MOD-002's output; MOD-007, MOD-010 and MOD-011 read alerts
    assert readers["MOD-002"] >= {"MOD-006", "MOD-007", "MOD-010", "MOD-011"}
    assert "MOD-007" in readers["MOD-006"]
