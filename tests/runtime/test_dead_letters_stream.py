"""A file of deliberately broken records through `ctc run`: each lands exactly once in the
lake's dead_letters table with its reason and rule; records in = out + dead + duplicates."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from broken_expectations import DUPLICATE, EXPECTED, PASSED
from streamkit import SMALL, options, run_stream

from ctc.sinks.lake.local import LocalLake

pytestmark = pytest.mark.spark

BROKEN = Path(__file__).resolve().parents[1] / "quality" / "broken_trades.jsonl"


def test_broken_records_land_in_dead_letters_with_reasons(spark: Any, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copy(BROKEN, landing / "broken.jsonl")
    lines = BROKEN.read_text(encoding="utf-8").split("\n")[: len(EXPECTED)]
    runner = run_stream(spark, SMALL, options(tmp_path))

    lake = LocalLake(tmp_path / "lake")
    dead = Counter(
        (r["raw"], r["reason"], r["rule"]) for r in lake.read("dead_letters").to_pylist()
    )
    want = Counter((lines[i], *v) for i, v in EXPECTED.items() if isinstance(v, tuple))
    assert dead == want

    passed_ids = sorted(r["event_id"] for r in lake.read("raw_trades").to_pylist())
    want_ids = sorted(json.loads(lines[i])["event_id"] for i, v in EXPECTED.items() if v == PASSED)
    assert passed_ids == want_ids

    t = runner.totals
    duplicates = sum(1 for v in EXPECTED.values() if v == DUPLICATE)
    assert (t.processed, t.passed, t.failed, t.duplicates) == (
        len(EXPECTED),
        len(want_ids),
        sum(want.values()),
        duplicates,
    )
    assert t.processed == t.passed + t.failed + t.duplicates
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["totals"]["processed"] == len(EXPECTED)
