"""Clean shutdown: a stop request ends the run within the 5 s bound (with slack), even while
streaming slowly or while waiting to reconnect; nothing received is lost."""

from __future__ import annotations

import asyncio

from ingest_helpers import free_port, real_file

from ctc.ingest.backoff import Backoff
from ctc.ingest.connection import ConnectionSettings
from ctc.ingest.feeds import binance_feed
from ctc.ingest.metrics import IngestMetrics
from ctc.ingest.pipeline import PipelineConfig, run_pipeline
from ctc.ingest.recordings import load_recording
from ctc.ingest.replay import feed_for_recording
from ctc.ingest.replay_server import ReplayServer
from ctc.ingest.sinks import MemorySink

BOUND = 5.0 + 5.0  # the 5 s shutdown bound, with generous slack


def test_stop_while_streaming_real_time() -> None:
    recording = load_recording(real_file("hftbacktest/spot/btcusdt_20240808.gz"))

    async def run() -> tuple[IngestMetrics, MemorySink]:
        async with ReplayServer(recording, speed=1.0) as server:
            feed = feed_for_recording(recording, server.url)
            feed.end_of_stream_reason = None  # behave like a live feed
            stop = asyncio.Event()
            sink = MemorySink()
            task = asyncio.create_task(run_pipeline([feed], sink, stop=stop))
            await asyncio.sleep(1.0)
            stop.set()
            metrics = await asyncio.wait_for(task, timeout=BOUND)
            return metrics, sink

    metrics, sink = asyncio.run(run())
    assert sink.closed
    assert metrics.received == metrics.written == len(sink.events) > 0


def test_stop_while_backing_off_from_unreachable_server() -> None:
    port = free_port()  # nothing listens here
    feed = binance_feed([("BTCUSDT", "trade")], url=f"ws://127.0.0.1:{port}/stream")
    settings = ConnectionSettings(backoff=Backoff(base=2.0, max_delay=30.0, min_delay=1.0))

    async def run() -> IngestMetrics:
        stop = asyncio.Event()
        task = asyncio.create_task(run_pipeline([feed], MemorySink(), stop=stop, settings=settings))
        await asyncio.sleep(0.5)
        stop.set()
        return await asyncio.wait_for(task, timeout=BOUND)

    metrics = asyncio.run(run())
    assert metrics.received == 0


def test_duration_and_max_events_bound_a_run() -> None:
    recording = load_recording(real_file("cryptofeed/BINANCE-ee25be.0"))

    async def run(config: PipelineConfig) -> IngestMetrics:
        async with ReplayServer(recording, speed=0) as server:
            feed = feed_for_recording(recording, server.url)
            feed.end_of_stream_reason = None
            return await asyncio.wait_for(
                run_pipeline([feed], MemorySink(), config=config), timeout=30
            )

    limited = asyncio.run(run(PipelineConfig(max_events=100)))
    assert 100 <= limited.received == limited.written < 1910
    timed = asyncio.run(run(PipelineConfig(duration=0.5)))
    assert timed.received == timed.written


def test_backoff_is_jittered_and_capped() -> None:
    backoff = Backoff(base=0.5, max_delay=4.0, min_delay=0.0)
    delays = [backoff.delay(n) for n in range(12) for _ in range(20)]
    assert all(0.0 <= d <= 4.0 for d in delays)
    assert len({round(d, 6) for d in delays}) > 100  # jittered, not a fixed ladder
    assert max(backoff.delay(0) for _ in range(50)) <= 0.5
