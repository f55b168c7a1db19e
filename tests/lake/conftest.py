"""Fixtures of the lake tests: a fresh local lake per test, the compiled plans once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ctc.sinks.lake.local import LocalLake

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def lake(tmp_path: Path) -> LocalLake:
    """An empty lake (SQLite catalog + warehouse folder) in the test's temp dir."""
    return LocalLake(tmp_path / "warehouse")


@pytest.fixture(scope="session")
def plans() -> list[Any]:
    """Every detector spec under detectors/, compiled."""
    from ctc.compiler import compile_paths

    return list(compile_paths([str(ROOT / "detectors")]))
