"""Fixtures of the API tests: a SQLite hot store filled with realistic small-tier output
(ctc.serve.sample) and a `ctc serve` subprocess over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from servekit import END, Server, start_server, stop_server

from ctc.serve.sample import fill_store
from ctc.sinks.stores.sqlite_store import SqliteAlertStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteAlertStore]:
    """A SQLite store with 3 h of sample output ending at END."""
    s = SqliteAlertStore(tmp_path / "alerts.db")
    fill_store(s, end=END, hours=3, seed=11, extra_whales=150)
    yield s
    s.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`ctc serve` over a store of 3 h of sample data ending now (fresh status)."""
    work = tmp_path_factory.mktemp("serve")
    db = work / "alerts.db"
    s = SqliteAlertStore(db)
    fill_store(s, hours=3, seed=3)
    s.close()
    server = start_server(db, work / "serve.log")
    yield server
    stop_server(server)
