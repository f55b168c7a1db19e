"""Helpers of the API tests: the sample data's end time and a `ctc serve` subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

#: End of the sample data of the API tests (fixed, so counts are stable).
END = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running `ctc serve` subprocess."""

    url: str
    db: Path
    proc: subprocess.Popen[bytes]


def start_server(db: Path, log: Path, *extra: str) -> Server:
    """Start ``python -m ctc.serve`` on a free port over the SQLite file ``db`` (``extra``:
    more options, e.g. ``--static DIR``); wait until /api/health answers."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ctc.serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--store",
                f"sqlite:///{db}",
                "--quiet",
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"ctc serve exited: {log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2):
                return Server(url, db, proc)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("ctc serve did not answer within 30 s") from None
            time.sleep(0.1)


def stop_server(server: Server) -> None:
    """Terminate the subprocess (kill after 10 s)."""
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
