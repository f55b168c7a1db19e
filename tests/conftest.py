"""Shared fixtures: one Spark session per test run, and the real recordings."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_REAL = ROOT.parent / "shared" / "data" / "real"
DETECTORS = ROOT / "detectors"


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """A local[2] SparkSession shared by the whole run (cold start costs ~10 s)."""
    from ctc.runtime.spark import get_spark

    session = get_spark("ctc-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The recorded exchange trades in ../shared/data/real, or skip when absent."""
    if not SHARED_REAL.is_dir():
        pytest.skip(f"real recordings not found at {SHARED_REAL} (../shared beside the project)")
    return SHARED_REAL


@pytest.fixture(scope="session")
def python_exe() -> str:
    """The interpreter running the tests, for subprocess calls of `python -m ctc`."""
    return sys.executable
