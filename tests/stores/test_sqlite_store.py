"""SQLite specifics: the file, WAL, indexes, and one writer process beside reader processes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from store_helpers import T0, iso, make_alert

from ctc.sinks.stores.sqlite_store import SqliteAlertStore


def test_creates_folders_wal_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "hot.db"
    store = SqliteAlertStore(path)
    store.put_alerts([make_alert(1)])
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"alerts", "market", "status"} <= tables
    conn.close()
    again = SqliteAlertStore(path)  # reopening an existing file keeps its rows
    assert again.get_alert("a000001") is not None
    again.close()


def test_queries_use_the_indexes_without_a_sort(tmp_path: Path) -> None:
    store = SqliteAlertStore(tmp_path / "hot.db")
    store.close()
    conn = sqlite3.connect(tmp_path / "hot.db")
    cases = {
        "alert_type = 'x'": "alerts_type_time",
        "symbol = 'x'": "alerts_symbol_time",
        "detected_at >= '2026'": "alerts_time",
    }
    for where, index in cases.items():
        plan = " ".join(
            str(r[3])
            for r in conn.execute(
                f"EXPLAIN QUERY PLAN SELECT * FROM alerts WHERE {where} "
                "ORDER BY detected_at DESC, alert_id DESC LIMIT 51"
            )
        )
        assert index in plan and "TEMP B-TREE" not in plan, plan
    conn.close()


def test_one_writer_process_and_concurrent_readers(tmp_path: Path) -> None:
    path = tmp_path / "hot.db"
    reader = SqliteAlertStore(path)  # the API's store, opened before the writer starts
    writer_code = textwrap.dedent(
        f"""
        import json
        from ctc.sinks.stores.sqlite_store import SqliteAlertStore
        store = SqliteAlertStore({str(path)!r})
        for batch in range(60):
            store.put_alerts(
                {{"alert_id": f"w{{batch:03d}}-{{i:03d}}", "alert_type": "whale_trade",
                  "symbol": "BTC-USDT", "detected_at": f"2026-01-01T00:00:{{batch:02d}}Z",
                  "message": "m", "details": "{{}}"}}
                for i in range(50)
            )
            store.put_status("ctc-stream", {{"batch_id": batch}})
        store.close()
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", writer_code])
    while proc.poll() is None:
        page = reader.query_alerts(alert_type="whale_trade", limit=200)
        assert len(page.items) % 50 == 0 or len(page.items) == 200  # whole batches only
        reader.get_status("ctc-stream")
    assert proc.returncode == 0
    assert reader.get_status("ctc-stream") == {"batch_id": 59}
    total = 0
    cursor = None
    while True:
        page = reader.query_alerts(limit=500, cursor=cursor)
        total += len(page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert total == 3_000
    reader.close()


def test_one_store_object_from_many_threads(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    store = SqliteAlertStore(tmp_path / "hot.db")

    def work(k: int) -> int:
        store.put_alerts([make_alert(k * 100 + i) for i in range(20)])
        return len(store.query_alerts(limit=5).items)

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(work, range(16))) == [5] * 16
    assert len(store.query_alerts(limit=1000).items) == 320
    store.close()


def test_a_kept_count_is_redone_after_another_process_writes(tmp_path: Path) -> None:
    path = tmp_path / "alerts.db"
    api, runtime = SqliteAlertStore(path), SqliteAlertStore(path)
    since = iso(T0)
    runtime.put_alerts([make_alert(n) for n in range(3)])
    assert api.count_alerts("BTC-USDT", since, 100) == ({"volume_spike": 3}, False)
    assert api.count_alerts("BTC-USDT", since, 100) == ({"volume_spike": 3}, False)  # kept
    runtime.put_alerts([make_alert(7, alert_type="whale_trade")])
    assert api.count_alerts("BTC-USDT", since, 100) == (
        {"volume_spike": 3, "whale_trade": 1},
        False,
    )
    api.put_alerts([make_alert(8)])  # its own write: data_version does not see it
    assert api.count_alerts("BTC-USDT", since, 100)[0]["volume_spike"] == 4
    api.close()
    runtime.close()


def test_the_api_queries_read_an_index(tmp_path: Path) -> None:
    store = SqliteAlertStore(tmp_path / "alerts.db")
    plans = {  # query -> what its plan must say
        "SELECT alert_type FROM alerts WHERE symbol = 'X' AND detected_at >= 'a'": (
            "COVERING INDEX"  # the 24 h count reads no table row
        ),
        "SELECT * FROM alerts WHERE alert_type = 'v' AND symbol = 'X' AND detected_at >= 'a' "
        "ORDER BY detected_at DESC, alert_id DESC": "(alert_type=? AND symbol=? AND detected_at>?)",
        "SELECT MIN(exchange) FROM alerts WHERE exchange > 'a'": "COVERING INDEX",
    }
    for sql, want in plans.items():
        plan = " ".join(r[3] for r in store._read(f"EXPLAIN QUERY PLAN {sql}"))
        assert want in plan and "TEMP B-TREE" not in plan, (sql, plan)
    store.close()


def test_a_store_made_before_provenance_opens_and_gets_its_columns(tmp_path: Path) -> None:
    """An alerts table of the first release (no provenance columns) with an alert in it:
    opening it adds the columns, the old alert reads them as None, new alerts keep them."""
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE alerts (alert_id TEXT PRIMARY KEY, alert_type TEXT, module_id TEXT, "
        "symbol TEXT, exchange TEXT, severity TEXT, detected_at TEXT NOT NULL, message TEXT, "
        "ttl_epoch INTEGER NOT NULL, details TEXT)"
    )
    old = make_alert(1)
    del old["spec_version"], old["ctc_version"]
    con.execute(f"INSERT INTO alerts VALUES ({', '.join('?' * len(old))})", tuple(old.values()))
    con.commit()
    con.close()
    store = SqliteAlertStore(path)
    new = make_alert(2)
    store.put_alerts([new])
    assert store.get_alert(old["alert_id"]) == {**old, "spec_version": None, "ctc_version": None}
    assert store.query_alerts(limit=5).items == [
        new,
        {**old, "spec_version": None, "ctc_version": None},
    ]
    store.close()
    again = SqliteAlertStore(path)  # a second open finds the columns there
    assert again.get_alert(new["alert_id"]) == new
    again.close()
