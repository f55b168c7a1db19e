"""Offline replay: serve a recording locally and run the real connector against it.

Each recording gets its own :class:`ReplayServer`, which also serves the recording's REST
trade history, so the connector backfills the gaps of a lost connection as it would live.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from ctc.ingest.backfill import HistorySource
from ctc.ingest.backoff import Backoff
from ctc.ingest.connection import ConnectionSettings
from ctc.ingest.feeds import FeedSpec, binance_feed, coinbase_advanced_feed, coinbase_matches_feed
from ctc.ingest.gaps import GapLog
from ctc.ingest.metrics import IngestMetrics
from ctc.ingest.pipeline import PipelineConfig, run_pipeline
from ctc.ingest.recordings import Recording, apply_exchange, load_recording
from ctc.ingest.replay_server import END_OF_STREAM, ReplayServer
from ctc.ingest.sinks import Sink
from ctc.ingest.symbols import SymbolMapper


def feed_for_recording(
    recording: Recording,
    url: str,
    symbols: SymbolMapper | None = None,
    history_url: str | None = None,
) -> FeedSpec:
    """The connector feed that subscribes to every trade stream/product in ``recording``;
    with ``history_url``, its gaps are backfilled from the REST history there."""
    if recording.protocol == "binance":
        feed = binance_feed(
            recording.trade_streams(), exchange=recording.exchange, url=url, symbols=symbols
        )
        connector = recording.exchange
    elif recording.protocol == "coinbase-exchange":
        feed = coinbase_matches_feed(recording.trade_products(), url=url, symbols=symbols)
        connector = "coinbase"
    else:
        feed = coinbase_advanced_feed(recording.trade_products(), url=url, symbols=symbols)
        connector = "coinbase-advanced"
    feed.end_of_stream_reason = END_OF_STREAM
    if history_url is not None:
        feed.history = HistorySource.for_connector(connector, history_url, symbols)
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


def load_replays(
    paths: Sequence[str | Path], *, exchange: str | None = None, time_unit: str | None = None
) -> list[Recording]:
    """Load the recordings to replay; ``exchange`` (``--exchanges`` with ``--replay``) names
    the venue they replay as. Raises :class:`~ctc.ingest.recordings.RecordingError`."""
    recordings = [load_recording(p, time_unit=time_unit) for p in paths]
    if exchange is not None:
        for rec in recordings:
            apply_exchange(rec, exchange)
    return recordings


async def replay_recordings(
    recordings: Sequence[Recording],
    sink: Sink,
    *,
    speed: float = 0.0,
    drop_after: Sequence[int] = (),
    metrics: IngestMetrics | None = None,
    config: PipelineConfig | None = None,
    symbols: SymbolMapper | None = None,
    settings: ConnectionSettings | None = None,
    stop: asyncio.Event | None = None,
    backfill: bool = True,
    gap_log: GapLog | None = None,
    servers: list[ReplayServer] | None = None,
) -> IngestMetrics:
    """Replay each recording through its own local server and connector into one sink.

    ``servers``: when given, the started servers are appended to it (tests read them)."""
    started = [ReplayServer(rec, speed=speed, drop_after=drop_after) for rec in recordings]
    if servers is not None:
        servers.extend(started)
    for server in started:
        await server.start()
    try:
        feeds = [
            feed_for_recording(rec, server.url, symbols, server.http_url if backfill else None)
            for rec, server in zip(recordings, started, strict=True)
        ]
        return await run_pipeline(
            feeds,
            sink,
            metrics=metrics,
            config=config,
            settings=settings or replay_settings(),
            stop=stop,
            gap_log=gap_log,
        )
    finally:
        for server in started:
            await server.stop()


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
    """Load the files (:func:`load_replays`) and replay them (:func:`replay_recordings`)."""
    return await replay_recordings(
        load_replays(paths),
        sink,
        speed=speed,
        drop_after=drop_after,
        metrics=metrics,
        config=config,
        symbols=symbols,
        settings=settings,
        stop=stop,
    )
