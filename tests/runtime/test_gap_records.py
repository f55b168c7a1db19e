"""Gap records landed by ``ctc ingest`` reach the ``gaps`` lake table and the status."""

from __future__ import annotations

import json
from pathlib import Path

from ctc.events import GAP_FIELDS
from ctc.ingest.gaps import Gap, GapLog
from ctc.runtime.gap_records import GapRecords
from ctc.sinks.lake.factory import open_lake


def _gap(first: int, last: int | None, backfilled: int, reason: str = "") -> Gap:
    return Gap(
        exchange="binance-futures",
        market="BTCUSDT",
        symbol="BTC-USDT",
        instrument="perpetual",
        id_kind="t",
        first_missing=first,
        last_missing=last,
        after_timestamp="2024-08-08T23:54:15.342Z",
        before_timestamp=None if last is None else "2024-08-08T23:54:16.001Z",
        backfilled=backfilled,
        reason=reason,
        detected_at="2024-08-08T23:54:17.000000Z",
    )


def test_gap_records_go_to_the_lake_once_and_sum_in_the_status(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    log = GapLog(landing / "_gaps")
    log.write(_gap(10, 19, 10).record())  # filled
    log.write(_gap(40, 44, 2, "history returned 2 of 5 trades").record())
    lake = open_lake(tmp_path / "lake")
    assert lake is not None
    records = GapRecords(landing, lake)
    first = records()
    assert first is not None
    assert {k: first[k] for k in ("gaps", "missing", "backfilled", "unfilled", "open")} == {
        "gaps": 2,
        "missing": 15,
        "backfilled": 12,
        "unfilled": 3,
        "open": 0,
    }
    assert [g["gap_id"] for g in first["latest"]] == ["binance-futures:BTCUSDT:t40-44"]
    log.write(_gap(90, None, 0, "connection lost and no trade came after").record())
    second = records()
    assert second is not None and second["gaps"] == 3 and second["open"] == 1
    assert records() == second  # nothing new: nothing appended twice
    table = lake.read("gaps")
    assert table.num_rows == 3 and table.column_names == list(GAP_FIELDS)
    rows = sorted(table.to_pylist(), key=lambda r: r["first_missing"])
    assert [(r["first_missing"], r["last_missing"], r["unfilled"]) for r in rows] == [
        (10, 19, 0),
        (40, 44, 3),
        (90, None, None),
    ]
    # a restarted runtime reads every file again; the lake keeps one copy of each
    GapRecords(landing, lake)()
    assert lake.read("gaps").num_rows == 3


def test_no_landing_folder_means_no_gap_status(tmp_path: Path) -> None:
    assert GapRecords(None, None)() is None
    empty = GapRecords(tmp_path, None)()
    assert empty is not None and empty["gaps"] == 0 and empty["latest"] == []
    assert json.dumps(empty)
