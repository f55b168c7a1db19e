"""Golden files of the generated SQL: one reviewable .sql file per detector.

A threshold change in a spec shows up as a one-line diff here. After an
intended change, refresh them with `pytest tests/test_golden_sql.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from ctc.compiler import compile_paths
from ctc.compiler.explain import explain
from ctc.dsl.load import spec_files
from ctc.tiers import tier_specs

DETECTORS = Path(__file__).resolve().parents[1] / "detectors"
SPECS = spec_files([DETECTORS])


class SQLFile(SingleFileSnapshotExtension):
    """Snapshots stored as plain .sql text files."""

    _write_mode = WriteMode.TEXT
    file_extension = "sql"


class TextFile(SingleFileSnapshotExtension):
    """Snapshots stored as plain .txt files."""

    _write_mode = WriteMode.TEXT
    file_extension = "txt"


@pytest.fixture
def sql_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(SQLFile)


def test_every_spec_is_one_module_and_in_the_large_tier() -> None:
    """One plan per spec of detectors/, each its own module id, and the large tier names
    them all: how many there are is what detectors/ holds, not a number written here."""
    specs = spec_files([DETECTORS])
    plans = compile_paths([DETECTORS])
    assert len(plans) == len(specs) == len({p.module for p in plans}) > 0
    assert sorted(p.name for p in tier_specs(DETECTORS, "large")) == sorted(s.name for s in specs)


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_generated_sql(spec: Path, sql_snapshot: SnapshotAssertion) -> None:
    plan = compile_paths([spec])[0]
    rel = Path(plan.spec_path).resolve().relative_to(DETECTORS.parent)
    script = plan.sql_script().replace(plan.spec_path, str(rel))
    assert script == sql_snapshot


def test_generated_sql_is_deterministic() -> None:
    first = [p.sql_script() for p in compile_paths([DETECTORS])]
    second = [p.sql_script() for p in compile_paths([DETECTORS])]
    assert first == second


def test_whale_explain(snapshot: SnapshotAssertion) -> None:
    plan = compile_paths([DETECTORS / "whale.yaml"])[0]
    text = explain(plan).replace(plan.spec_path, "detectors/whale.yaml")
    assert text == snapshot.use_extension(TextFile)


def test_threshold_change_is_a_one_line_sql_diff(tmp_path: Path) -> None:
    spec = (DETECTORS / "whale.yaml").read_text(encoding="utf-8")
    (tmp_path / "whale.yaml").write_text(spec, encoding="utf-8")
    before = compile_paths([tmp_path / "whale.yaml"])[0].sql_script().splitlines()
    changed = spec.replace("whale_usd: 100000 ", "whale_usd: 250000 ")
    assert changed != spec
    (tmp_path / "whale.yaml").write_text(changed, encoding="utf-8")
    after = compile_paths([tmp_path / "whale.yaml"])[0].sql_script().splitlines()
    diff = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    # the alert's WHERE and the output table's WHERE both use the threshold
    assert [b.rstrip(";") for _, b in diff] == [
        "WHERE quote_volume > CASE WHEN instrument = 'perpetual' THEN 500000 ELSE 250000 END",
        "WHERE (quote_volume > CASE WHEN instrument = 'perpetual' THEN 500000 ELSE 250000 END)",
    ]
