"""Kill `ctc run` with SIGKILL at several points, restart it, and compare with a clean run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from streamkit import (
    DETECTORS,
    ROOT,
    SMALL,
    assert_provenance,
    options,
    run_stream,
    store_alerts,
)

from ctc.runtime.landing import publish_file
from ctc.simulate import simulate

pytestmark = pytest.mark.spark

TABLES = (
    "anomaly_alerts",
    "raw_trades",
    "dead_letters",
    "volume_aggregates",
    "whale_trades",
    "exchange_spreads",
)


def _command(work: Path, landing: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ctc",
        "run",
        *map(str, SMALL),
        "--landing",
        str(landing),
        "--checkpoint",
        str(work / "checkpoint"),
        "--store",
        f"sqlite:///{work / 'alerts.db'}",
        "--lake",
        str(work / "lake"),
        "--quality",
        str(DETECTORS / "quality.yaml"),
        "--status",
        str(work / "status.json"),
        "--until-idle",
        "--max-files-per-trigger",
        "1",
    ]


def _start(work: Path, landing: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        _command(work, landing),
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "stderr.log", "ab"),
    )


def _batch(work: Path) -> int:
    try:
        return int(json.loads((work / "status.json").read_text())["batch_id"])
    except (OSError, ValueError, KeyError):
        return -1


def _kill_when(proc: subprocess.Popen[bytes], work: Path, batch: int, delay: float) -> bool:
    """SIGKILL the run (and its JVM) once it has committed ``batch``, after ``delay`` s."""
    deadline = time.monotonic() + 240
    while _batch(work) < batch:
        if proc.poll() is not None:
            return False  # finished before the kill point
        assert time.monotonic() < deadline, "run made no progress"
        time.sleep(0.05)
    time.sleep(delay)
    if proc.poll() is not None:
        return False
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return True


def _lake_rows(work: Path) -> dict[str, list[tuple[Any, ...]]]:
    from ctc.sinks.lake.local import LocalLake

    lake = LocalLake(work / "lake")
    out = {}
    for name in TABLES:
        rows = lake.read(name).to_pylist()
        drop = {"batch_id", "received_at", "is_late", "source_file"}
        out[name] = sorted(
            tuple(sorted((k, str(v)) for k, v in r.items() if k not in drop)) for r in rows
        )
    return out


def _assert_same_lake(
    got: dict[str, list[tuple[Any, ...]]], want: dict[str, list[tuple[Any, ...]]]
) -> None:
    """Every lake table holds the same rows, as many times each; a difference names the
    table and shows a few of the rows missing and doubled or changed."""
    for name in TABLES:
        missing = Counter(want[name]) - Counter(got[name])
        extra = Counter(got[name]) - Counter(want[name])
        assert not missing and not extra, (
            f"lake table {name}: {sum(missing.values())} rows of the clean run missing, "
            f"{sum(extra.values())} rows not in it; missing e.g. {list(missing)[:2]}, "
            f"not in it e.g. {list(extra)[:2]}"
        )


def test_kill_and_restart_loses_and_doubles_nothing(spark: Any, tmp_path: Path) -> None:
    trades = tmp_path / "trades.jsonl"
    simulate(1.0, trades, seed=3)
    landing = tmp_path / "landing"
    publish_file(trades, landing, seconds_per_file=600)
    with (landing / "broken.jsonl").open("w") as fh:  # dead letters must survive restarts too
        fh.write('{"event_id": "x1", "price": "oops"}\nnot json\n')

    # the run without kills, in this process's Spark session: the same runtime and
    # options as `ctc run`, without a JVM start of its own
    clean = tmp_path / "clean"
    clean.mkdir()
    run_stream(spark, SMALL, replace(options(clean, max_files=1), landing=landing))

    crashed = tmp_path / "crashed"
    crashed.mkdir()
    kills = 0
    for batch, delay in ((0, 0.0), (1, 0.7), (3, 2.0)):  # between batches, and mid-batch
        proc = _start(crashed, landing)
        kills += _kill_when(proc, crashed, batch, delay)
    assert kills >= 2, "the run finished before it could be killed"
    final = subprocess.run(_command(crashed, landing), cwd=ROOT, capture_output=True, timeout=600)
    assert final.returncode == 0, final.stderr.decode()[-2000:]

    want = store_alerts(clean / "alerts.db")
    got = store_alerts(crashed / "alerts.db")
    assert len(want) > 0
    assert got.keys() == want.keys()
    assert got == want
    assert_provenance(got.values(), SMALL)  # the spec's version survives the kills
    _assert_same_lake(_lake_rows(crashed), _lake_rows(clean))

    # the lake keeps every micro-batch as a snapshot: an earlier one reads fewer alerts
    from ctc.sinks.lake.local import LocalLake

    lake = LocalLake(clean / "lake")
    snaps = lake.snapshots("anomaly_alerts")
    assert len(snaps) >= 2
    first = lake.read("anomaly_alerts", snapshot_id=snaps[0]["id"]).num_rows
    assert 0 < first < lake.read("anomaly_alerts").num_rows == len(want)
    assert_provenance(lake.read("anomaly_alerts").to_pylist(), SMALL)
