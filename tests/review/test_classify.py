"""`ctc diff` classification: one spec edit per kind of change, each with the classification
a reviewer must see. The edits are applied to copies of the shipped detectors, so the pairs
are real specs; the expected values are written by hand from the rule in docs/review.md,
not computed by the code under test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ctc.review.changes import compare_versions
from ctc.review.versions import open_version

ROOT = Path(__file__).resolve().parents[2]
DETECTORS = ROOT / "detectors"

#: (case, spec file, text replaced, replacement, module, classification, reason fragment)
CASES = [
    # params, classified by the stage their value reaches
    ("whale threshold", "whale.yaml", "whale_usd: 100000 ", "whale_usd: 250000 ",
     "MOD-002", "non-breaking", "plan keeps no state"),
    ("whale band param", "whale.yaml", "high_usd: 500000 ", "high_usd: 600000 ",
     "MOD-002", "non-breaking", "only the alerts stage changed"),
    ("spread exchange param", "spread-calculator.yaml", "exchange_a: binance",
     "exchange_a: kraken", "MOD-003", "breaking", "aggregate"),
    ("spread band param", "spread-calculator.yaml", "high_spread_pct: 1.0 ",
     "high_spread_pct: 2.0 ", "MOD-003", "non-breaking", "state (open windows, history) stays"),
    ("volume alert threshold", "volume-anomaly.yaml", "z_threshold: 2.5 ", "z_threshold: 3.0 ",
     "MOD-001", "non-breaking", "only the alerts stage changed"),
    # the message and severity bands
    ("whale message", "whale.yaml", "number(0) }} quote volume", "number(0) }} in quote volume",
     "MOD-002", "non-breaking", "alerts"),
    ("whale band level", "whale.yaml", "- level: medium", "- level: low",
     "MOD-002", "non-breaking", "alerts"),
    # after the state: derive
    ("volume derive", "volume-anomaly.yaml",
     "z_score: (window_volume - rolling_mean) / rolling_stddev",
     "z_score: (window_volume - rolling_mean) / (rolling_stddev + 1)",
     "MOD-001", "non-breaking", "derive"),
    # window, watermark, keys, aggregate, baseline
    ("spread window", "spread-calculator.yaml", "size: 30 seconds", "size: 60 seconds",
     "MOD-003", "breaking", "window changed"),
    ("spread watermark", "spread-calculator.yaml", "watermark: 15 seconds",
     "watermark: 30 seconds", "MOD-003", "breaking", "window changed"),
    ("spread keys", "spread-calculator.yaml", "group_by: [symbol]",
     "group_by: [symbol, exchange]", "MOD-003", "breaking", "aggregate"),
    ("volume aggregate", "volume-anomaly.yaml", "trade_count: count(*)",
     "trade_count: count(DISTINCT event_id)", "MOD-001", "breaking", "aggregate"),
    ("volume baseline", "volume-anomaly.yaml", "history_windows: count(window_volume)",
     "history_windows: count(*)", "MOD-001", "breaking", "baseline"),
    # nothing that compiles differently
    ("comment", "whale.yaml", "tier: small\n", "tier: small   # the first tier\n",
     "MOD-002", "cosmetic", "compiled plan is the same"),
    ("description", "whale.yaml", "Single trades whose", "Single trades (one each) whose",
     "MOD-002", "cosmetic", "compiled plan is the same"),
    ("flow style", "volume-anomaly.yaml", "group_by: [symbol, exchange]",
     "group_by:\n  - symbol\n  - exchange", "MOD-001", "cosmetic", "compiled plan is the same"),
    ("chart label", "volume-anomaly.yaml", "label: Volume\n", "label: Traded volume\n",
     "MOD-001", "cosmetic", "chart series only"),
    ("alert label", "whale.yaml", "  - type: whale_trade\n",
     "  - type: whale_trade\n    label: Big trade\n", "MOD-002", "cosmetic", "labels"),
]  # fmt: skip


def _edited(tmp_path: Path, name: str, old: str, new: str) -> Path:
    head = tmp_path / "head"
    shutil.copytree(DETECTORS, head)
    spec = head / name
    text = spec.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {name}"
    spec.write_text(text.replace(old, new), encoding="utf-8")
    return head


@pytest.mark.parametrize(
    ("name", "old", "new", "module", "expected", "reason"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_classification(
    tmp_path: Path, name: str, old: str, new: str, module: str, expected: str, reason: str
) -> None:
    head = _edited(tmp_path, name, old, new)
    with open_version(str(DETECTORS), []) as a, open_version(str(head), []) as b:
        changes = compare_versions(a, b)
    assert [(c.module, c.classification) for c in changes] == [(module, expected)]
    text = " ".join(changes[0].reasons)
    assert reason in text, text
    if expected == "breaking":
        assert changes[0].rerun and "new checkpoint" in changes[0].rerun


def test_breaking_rerun_comes_from_the_state_bound(tmp_path: Path) -> None:
    head = _edited(tmp_path, "volume-anomaly.yaml", "lookback: 1 hour", "lookback: 2 hours")
    with open_version(str(DETECTORS), []) as a, open_version(str(head), []) as b:
        (change,) = compare_versions(a, b)
    assert change.classification == "breaking"
    # the baseline keeps closed windows for the lookback plus the window: 2 h + 60 s
    assert change.rerun is not None and "7260 s" in change.rerun


def test_params_report_old_new_and_reach(tmp_path: Path) -> None:
    """The issue's own example: spread-calculator's exchange params feed the aggregate."""
    head = _edited(tmp_path, "spread-calculator.yaml", "exchange_a: binance", "exchange_a: kraken")
    with open_version(str(DETECTORS), []) as a, open_version(str(head), []) as b:
        (change,) = compare_versions(a, b)
    (param,) = change.params
    assert (param.name, param.old, param.new) == ("exchange_a", "binance", "kraken")
    assert "aggregate" in param.reaches
    assert any(d.what.startswith("stage aggregate") for d in change.diffs)
    agg = next(d.diff for d in change.diffs if d.what.startswith("stage aggregate"))
    assert "-  TRY_DIVIDE(SUM(price * quantity) FILTER(WHERE exchange = 'binance')" in agg
    assert "+  TRY_DIVIDE(SUM(price * quantity) FILTER(WHERE exchange = 'kraken')" in agg


def test_readers_are_named(tmp_path: Path) -> None:
    head = _edited(tmp_path, "whale.yaml", "whale_usd: 100000 ", "whale_usd: 250000 ")
    with open_version(str(DETECTORS), []) as a, open_version(str(head), []) as b:
        (change,) = compare_versions(a, b)
    # MOD-006 reads whale_trades; MOD-007, MOD-010 and MOD-011 read its alerts
    assert set(change.readers) == {"MOD-006", "MOD-007", "MOD-010", "MOD-011"}


def test_added_and_removed(tmp_path: Path) -> None:
    head = tmp_path / "head"
    shutil.copytree(DETECTORS, head)
    (head / "whale.yaml").rename(tmp_path / "whale.yaml")
    (head / "flow-direction.yaml").unlink()  # reads whale_trades: must go with it
    (head / "consensus.yaml").unlink()
    (head / "predictive-scorer.yaml").unlink()
    (head / "backtester.yaml").unlink()
    with open_version(str(DETECTORS), []) as a, open_version(str(head), []) as b:
        changes = {c.module: c for c in compare_versions(a, b)}
        back = {c.module: c for c in compare_versions(b, a)}
    assert changes["MOD-002"].status == "removed" and changes["MOD-002"].classification is None
    assert back["MOD-002"].status == "added"
    assert back["MOD-006"].status == "added"
    assert "new checkpoint" in " ".join(back["MOD-006"].reasons)
