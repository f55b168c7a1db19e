"""Shared fixtures: one Spark session per test run, the real recordings, a moto server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

# The tests' JVMs (their own sessions, and every `ctc` they start) see little data: the
# JIT's C2 compiler costs them more CPU than its faster code wins back. C1 alone took the
# CPU-bound suite on 2 cores about a fifth faster (ADR 0022, second revision). A JIT
# setting: results are the same.
os.environ.setdefault("CTC_DRIVER_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1")

ROOT = Path(__file__).resolve().parents[1]
SHARED_REAL = ROOT.parent / "shared" / "data" / "real"
DETECTORS = ROOT / "detectors"


@pytest.fixture(scope="session", autouse=True)
def known_wallet_labels() -> None:
    """The known-wallet table the on-chain specs read (git-ignored, written by `ctc labels
    load`): the hand-kept list alone when it was never loaded here (a fresh clone)."""
    from ctc.ingest.known_wallets import ensure_labels

    ensure_labels(DETECTORS)


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


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """Start ``python -m moto.server`` on 127.0.0.1:<free port>; stop it at session end.

    One server for the run (Kinesis, DynamoDB, CloudWatch); tests use their own names.
    """
    port = _free_port()
    recording = Path(tempfile.mkdtemp(prefix="ctc-moto-")) / "recording.jsonl"
    env = {
        **os.environ,
        # where the recorder (/moto-api/recorder/..., off until started) writes
        "MOTO_RECORDER_FILEPATH": str(recording),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"moto server exited with code {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail("moto server did not answer within 30 s")
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and region for boto3 clients pointed at moto."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


#: The test files that take longest (test-seconds on 2 cores, 2026-12-03), heaviest first.
#: `scripts/test.sh` runs files in collection order (`--no-loadscope-reorder`), two
#: processes each taking the next file: these go first, so no long file starts last
#: while the other process has nothing left (xdist's own order, by number of tests,
#: put the one-test SIGKILL file at the end).
HEAVY_FIRST = (
    "tests/runtime/test_stream_equals_batch.py",
    "tests/test_fixtures.py",
    "tests/runtime/test_first_hour.py",
    "tests/runtime/test_wallet_scorer_stream.py",
    "tests/runtime/test_restart.py",
    "tests/runtime/test_backtest_cache.py",
    "tests/runtime/test_state_store.py",
    "tests/test_sandbox_jvm.py",
    "tests/review/test_classify.py",
    "tests/stores/test_conformance.py",
    "tests/runtime/test_large_tier_real.py",
    "tests/runtime/test_daily_batch.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the files of :data:`HEAVY_FIRST` first, in its order; the rest keep theirs."""
    rank = {path: i for i, path in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
