"""The status's pending files: landing files no batch has read, from Spark's source log,
each log file read once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ctc.runtime.hadoop_fs import CheckpointFS
from ctc.runtime.status import PendingFiles

pytestmark = pytest.mark.spark


def _log(fs: CheckpointFS, batch: int, files: list[Path]) -> None:
    lines = ["v1"] + [
        json.dumps({"path": f.resolve().as_uri(), "timestamp": 0, "batchId": batch}) for f in files
    ]
    fs.write_bytes(f"query/sources/0/{batch}", ("\n".join(lines) + "\n").encode())


def test_pending_files_reads_each_log_file_once(spark: Any, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    files = [landing / f"{i}.jsonl" for i in range(4)]
    for f in files:
        f.write_text("{}\n")
    fs = CheckpointFS(spark, tmp_path / "ckpt")
    fs.mkdirs("query/sources/0")
    reads: list[str] = []
    read = fs.read_bytes

    def counted(rel: str) -> bytes:
        reads.append(rel)
        return read(rel)

    fs.read_bytes = counted  # type: ignore[method-assign]
    pending = PendingFiles(fs, landing)
    assert pending()["files"] == 4
    _log(fs, 0, files[:1])
    assert pending()["files"] == 3
    _log(fs, 1, files[1:3])
    status = pending()
    assert status["files"] == 1 and status["lag_seconds"] >= 0
    assert reads == ["query/sources/0/0", "query/sources/0/1"]
    _log(fs, 2, files[3:])
    assert pending() == {"files": 0, "lag_seconds": 0.0}
    assert PendingFiles(fs, None)() == {"files": None, "lag_seconds": None}
