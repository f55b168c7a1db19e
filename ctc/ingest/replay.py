"""Offline replay: serve a recording locally and run the real connector against it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from ctc.ingest.backoff import Backoff
from ctc.ingest.connection import ConnectionSettings
from ctc.ingest.feeds import FeedSpec, binance_feed, coinbase_advanced_feed, coinbase_matches_feed
from ctc.ingest.metrics import IngestMetrics
from ctc.ingest.pipeline import PipelineConfig, run_pipeline
from ctc.ingest.recordings import Recording, load_recording
from ctc.ingest.replay_server import END_OF_STREAM, ReplayServer
from ctc.ingest.sinks import Sink
from ctc.ingest.symbols import SymbolMapper


def feed_for_recording(
    recording: Recording, url: str, symbols: SymbolMapper | None = None
) -> FeedSpec:
    """The connector feed that subscribes to every trade stream/product in ``recording``."""
    if recording.protocol == "binance":
        feed = binance_feed(
            recording.trade_streams(), exchange=recording.exchange, url=url, symbols=symbols
        )
    elif recording.protocol == "coinbase-exchange":
        feed = coinbase_matches_feed(recording.trade_products(), url=url, symbols=symbols)
    else:
        feed = coinbase_advanced_feed(recording.trade_products(), url=url, symbols=symbols)
    feed.end_of_stream_reason = END_OF_STREAM
    return feed


def replay_settings() -> ConnectionSettings:
    """Connection settings for local replay: quick reconnects, no idle watchdog."""
    return ConnectionSettings(
        idle_timeout=None, backoff=Backoff(base=0.02, max_delay=0.5, min_delay=0.0)
    )


def parse_speed(text: str | float | None) -> float:
    """``--speed``: a number N (N × real time) or ``max``/``0`` (as fast as possible)."""
    if text is None:
        return 0.0
    if isinstance(text, str) and text.strip().lower() in ("max", "inf", ""):
        return 0.0
    value = float(text)
    if value < 0:
        raise ValueError("--speed must be >= 0")
    return value


async def replay_files(
    paths: Sequence[str | Path],
    sink: Sink,
    *,
    speed: float = 0.0,
    drop_after: Sequence[int] = (),
    metrics: IngestMetrics | None = None,
    config: PipelineConfig | None = None,
    symbols: SymbolMapper | None = None,
    settings: ConnectionSettings | None = None,
    stop: asyncio.Event | None = None,
) -> IngestMetrics:
    """Replay each file through its own local server and connector into one sink."""
    recordings = [load_recording(p) for p in paths]
    servers = [ReplayServer(rec, speed=speed, drop_after=drop_after) for rec in recordings]
    for server in servers:
        await server.start()
    try:
        feeds = [
            feed_for_recording(rec, server.url, symbols)
            for rec, server in zip(recordings, servers, strict=True)
        ]
        return await run_pipeline(
            feeds,
            sink,
            metrics=metrics,
            config=config,
            settings=settings or replay_settings(),
            stop=stop,
        )
    finally:
        for server in servers:
            await server.stop()
