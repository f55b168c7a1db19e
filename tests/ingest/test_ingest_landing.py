"""Landing sink: atomic publish (hidden temp names), roll by size or by time."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from ctc.ingest.normalise_binance import BinanceNormaliser
from ctc.ingest.sink_landing import LandingSink
from ctc.ingest.trade_event import TradeEvent


def _events(n: int) -> list[TradeEvent]:
    normaliser = BinanceNormaliser()
    out: list[TradeEvent] = []
    for i in range(n):
        msg = {
            "e": "trade",
            "s": "BTCUSDT",
            "t": i,
            "p": "1.5",
            "q": "2",
            "T": 1_700_000_000_000,
            "m": False,
        }
        out.extend(normaliser(msg, "2026-01-01T00:00:00.000000Z"))
    return out


def _visible(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.startswith((".", "_")))


def _lines(paths: list[Path]) -> list[dict[str, object]]:
    return [json.loads(line) for p in paths for line in p.read_text().splitlines()]


def test_roll_by_size_and_atomic_names(tmp_path: Path) -> None:
    sink = LandingSink(tmp_path, max_bytes=2_000, max_seconds=3600, fsync=False)
    events = _events(50)

    async def run() -> None:
        await sink.write(events[:3])
        # open file is hidden; nothing visible yet
        assert _visible(tmp_path) == []
        assert all(p.name.startswith(".") for p in tmp_path.iterdir())
        await sink.write(events[3:])
        await sink.close()

    asyncio.run(run())
    files = _visible(tmp_path)
    assert len(files) > 1 and all(p.suffix == ".jsonl" for p in files)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert [r["event_id"] for r in _lines(files)] == [e["event_id"] for e in events]
    assert all(p.stat().st_size < 2_000 + 400 for p in files)


def test_roll_by_time_on_tick(tmp_path: Path) -> None:
    sink = LandingSink(tmp_path, max_bytes=10**9, max_seconds=0.05, fsync=False)

    async def run() -> None:
        await sink.write(_events(2))
        assert _visible(tmp_path) == []
        time.sleep(0.06)
        await sink.tick()
        assert len(_visible(tmp_path)) == 1
        await sink.close()  # nothing open: no empty file

    asyncio.run(run())
    assert len(_visible(tmp_path)) == 1
