"""Abrupt TCP cuts between the replay server and the connector: every lost trade is
backfilled from the recording's REST history, or recorded as a gap; never lost silently."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import raw_trades, real_file
from synthetic import CuttingProxy, binance_lines, coinbase_lines, write_gz

from ctc.events import GAP_FIELDS
from ctc.ingest import backfill
from ctc.ingest.gaps import GapLog
from ctc.ingest.metrics import IngestMetrics
from ctc.ingest.pipeline import run_pipeline
from ctc.ingest.recordings import Recording, load_recording
from ctc.ingest.replay import feed_for_recording, replay_settings
from ctc.ingest.replay_server import ReplayServer
from ctc.ingest.sinks import MemorySink


async def _cut_replay(
    rec: Recording,
    gap_dir: Path,
    *,
    cuts: int,
    cut_after: int,
    history: bool = True,
    speed: float = 0.0,
) -> tuple[MemorySink, IngestMetrics, CuttingProxy]:
    """Replay ``rec`` through a proxy that cuts; ``speed`` > 0 paces the frames, so that a
    cut loses only what is in flight (at max speed the socket buffers hold the rest).

    The server resumes from the frames it has *sent*, and it notices a cut only some time
    after it. So a connection uses up about that time's worth of frames (about 100 ms here),
    and on a slow machine more: the pace must leave enough frames for every cut. At 20×
    (0.05 ms a frame) a five-cut test once saw four cuts: the server reached the end of its
    3,000 frames first."""
    sink = MemorySink()
    server = await ReplayServer(rec, history=history, speed=speed).start()
    proxy = await CuttingProxy(server.port, cut_after=cut_after, cuts=cuts).start()
    try:
        feed = feed_for_recording(
            rec, proxy.url(server.url.split(str(server.port), 1)[1]), history_url=server.http_url
        )
        metrics = await asyncio.wait_for(
            run_pipeline([feed], sink, settings=replay_settings(), gap_log=GapLog(gap_dir)),
            timeout=60,
        )
    finally:
        await proxy.stop()
        await server.stop()
    return sink, metrics, proxy


def _gap_records(directory: Path) -> list[dict[str, Any]]:
    if not directory.exists():
        return []
    assert not [p for p in directory.iterdir() if p.name.startswith(".")], "temp file left"
    return [json.loads(p.read_text()) for p in sorted(directory.glob("gaps-*.jsonl"))]


@pytest.mark.realdata
def test_abrupt_cuts_of_a_real_recording_lose_no_trade(tmp_path: Path) -> None:
    path = real_file("hftbacktest/spot/btcusdt_20240808.gz")
    expected = {t.event_id for t in raw_trades(path)}
    sink, metrics, proxy = asyncio.run(
        _cut_replay(load_recording(path), tmp_path / "gaps", cuts=8, cut_after=5_000)
    )
    landed = [e["event_id"] for e in sink.events]
    assert proxy.cuts_done == 8
    assert len(landed) == len(set(landed)) == len(expected)
    assert set(landed) == expected
    # the cuts lost trades (depth frames are ~3/4 of the bytes, so a cut may hit only them)
    assert metrics.gaps >= 1 and metrics.backfilled == metrics.gap_trades > 0
    assert metrics.unfilled == 0 and metrics.received == metrics.written == len(expected)
    records = _gap_records(tmp_path / "gaps")
    assert len(records) == metrics.gaps
    assert sum(int(r["backfilled"]) for r in records) == metrics.backfilled
    assert all(r["unfilled"] == 0 for r in records)


def test_every_cut_of_a_trade_only_stream_is_a_backfilled_gap(tmp_path: Path) -> None:
    rec = load_recording(write_gz(tmp_path / "t.gz", binance_lines("BTCUSDT", range(1, 3001))))
    sink, metrics, proxy = asyncio.run(
        _cut_replay(rec, tmp_path / "gaps", cuts=5, cut_after=3_000, speed=1)
    )
    ids = [int(e["event_id"].rsplit(":", 1)[1]) for e in sink.events]
    assert proxy.cuts_done == 5
    assert sorted(ids) == list(range(1, 3001)) and len(ids) == 3000
    # every cut drops the frames in flight; each is found at the next trade or on reconnect
    assert metrics.gaps >= 5 and metrics.unfilled == 0
    records = _gap_records(tmp_path / "gaps")
    assert [list(r) for r in records[:1]] == [list(GAP_FIELDS)]
    assert sum(int(r["missing"]) for r in records) == metrics.gap_trades


def test_a_gap_the_history_cannot_fill_is_recorded(tmp_path: Path) -> None:
    rec = load_recording(write_gz(tmp_path / "t.gz", binance_lines("ETHUSDT", range(500, 2500))))
    sink, metrics, _ = asyncio.run(
        _cut_replay(rec, tmp_path / "gaps", cuts=3, cut_after=3_000, history=False, speed=2)
    )
    got = {int(e["event_id"].rsplit(":", 1)[1]) for e in sink.events}
    lost = set(range(500, 2500)) - got
    records = _gap_records(tmp_path / "gaps")
    assert lost, "the cuts lost nothing"
    assert metrics.backfilled == 0 and metrics.gaps == len(records) >= 1
    # closed gaps name their ids; an open one (no trade after the last cut) everything after
    closed = [r for r in records if r["last_missing"] is not None]
    recorded = {
        i for r in closed for i in range(int(r["first_missing"]), int(r["last_missing"]) + 1)
    }
    assert metrics.unfilled == len(recorded)
    for r in records:
        if r["last_missing"] is None:
            assert r["missing"] is None and r["unfilled"] is None
            recorded |= set(range(int(r["first_missing"]), 2500))
    assert recorded == lost
    assert all(r["exchange"] == "binance" and r["instrument"] == "spot" for r in records)
    assert all("HTTP 404" in str(r["reason"]) for r in records)


def test_coinbase_gaps_are_filled_page_by_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backfill, "PAGE", 7)  # walk back over several `after` pages
    path = tmp_path / "COINBASE.cb.0"
    path.write_text("".join(coinbase_lines("BTC-USD", range(10_000, 12_000))))
    sink, metrics, proxy = asyncio.run(
        _cut_replay(load_recording(path), tmp_path / "gaps", cuts=3, cut_after=3_000, speed=2)
    )
    ids = sorted(int(e["event_id"].rsplit(":", 1)[1]) for e in sink.events)
    assert proxy.cuts_done == 3
    assert ids == list(range(10_000, 12_000))
    assert metrics.gaps >= 3 and metrics.backfilled == metrics.gap_trades and metrics.unfilled == 0
    assert all(e["exchange"] == "coinbase" and e["instrument"] == "spot" for e in sink.events)
