"""``ctc ingest`` end to end through click: replay demo, and live mode against a local server."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from ingest_helpers import raw_trades, real_file

from ctc.ingest.cli import ingest
from ctc.ingest.recordings import load_recording
from ctc.ingest.replay_server import ReplayServer


def _landing_events(directory: Path) -> list[dict[str, object]]:
    assert not [p for p in directory.iterdir() if p.name.startswith(".")], "temp file left"
    return [
        json.loads(line)
        for p in sorted(directory.glob("*.jsonl"))
        for line in p.read_text().splitlines()
    ]


def test_cli_is_a_group_with_history() -> None:
    assert isinstance(ingest, click.Group)
    assert ingest.invoke_without_command
    assert "history" in ingest.commands


@pytest.mark.realdata
def test_replay_to_landing(tmp_path: Path) -> None:
    path = real_file("cryptofeed/COINBASE.jsonl.zst")
    result = CliRunner().invoke(
        ingest,
        [
            "--replay",
            str(path),
            "--speed",
            "max",
            "--drop-after",
            "10,30",
            "--sink",
            f"landing:{tmp_path}",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "received=279" in result.output and "written=279" in result.output
    events = _landing_events(tmp_path)
    assert sorted(e["event_id"] for e in events) == sorted({r.event_id for r in raw_trades(path)})


@contextmanager
def _server_in_thread(recording_path: Path) -> Iterator[str]:
    """A ReplayServer running on its own event loop in a thread; yields its URL."""
    recording = load_recording(recording_path)
    ready = threading.Event()
    holder: dict[str, object] = {}

    def main() -> None:
        async def serve() -> None:
            server = await ReplayServer(recording, speed=0).start()
            stop = asyncio.Event()
            holder["url"], holder["stop"] = server.url, stop
            holder["loop"] = asyncio.get_running_loop()
            ready.set()
            await stop.wait()
            await server.stop()

        asyncio.run(serve())

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield str(holder["url"])
    finally:
        loop = holder["loop"]
        assert isinstance(loop, asyncio.AbstractEventLoop)
        stop = holder["stop"]
        assert isinstance(stop, asyncio.Event)
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


@pytest.mark.realdata
def test_live_mode_with_url_override_and_max_events(tmp_path: Path) -> None:
    path = real_file("hftbacktest/spot/ethusdt_20240808.gz")
    with _server_in_thread(path) as url:
        result = CliRunner().invoke(
            ingest,
            [
                "--exchanges",
                "binance",
                "--symbols",
                "eth",
                "--url",
                f"binance={url}",
                "--max-events",
                "500",
                "--sink",
                f"landing:{tmp_path}",
            ],
        )
    assert result.exit_code == 0, result.output
    events = _landing_events(tmp_path)
    assert len(events) >= 500
    assert {e["symbol"] for e in events} == {"ETH-USDT"}
    ids = [e["event_id"] for e in events]
    assert len(ids) == len(set(ids))


def test_bad_sink_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(ingest, ["--sink", "s3:bucket"])
    assert result.exit_code != 0
    assert "landing:DIR or kinesis:STREAM" in result.output
