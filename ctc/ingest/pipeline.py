"""The producer: connectors → bounded queue → one sink writer, with metrics and clean stop.

Connectors ``await queue.put(event)``: when the sink falls behind the queue fills and the
connectors stop reading their sockets (TCP backpressure to the exchange) instead of
dropping anything. Stopping (signal, ``max_events``, ``duration``, or every feed ending)
closes the sockets, drains the queue into the sink and closes the sink; connectors that do
not finish within ``shutdown_timeout`` seconds are cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ctc.ingest.connection import ConnectionSettings, run_feed
from ctc.ingest.feeds import FeedSpec
from ctc.ingest.gaps import GapGuard, GapLog
from ctc.ingest.metrics import IngestMetrics
from ctc.ingest.sinks import Sink
from ctc.ingest.trade_event import TradeEvent

log = logging.getLogger(__name__)


@dataclass
class PipelineConfig:
    """Queue and batching settings, plus the run bounds."""

    queue_size: int = 10_000
    batch_size: int = 500
    tick_interval: float = 1.0
    max_events: int | None = None
    duration: float | None = None
    shutdown_timeout: float = 5.0


_END = object()


async def _write_loop(
    queue: asyncio.Queue[object], sink: Sink, metrics: IngestMetrics, config: PipelineConfig
) -> None:
    while True:
        try:
            first = await asyncio.wait_for(queue.get(), timeout=config.tick_interval)
        except TimeoutError:
            await sink.tick()
            continue
        batch: list[TradeEvent] = []
        done = first is _END
        if not done:
            batch.append(first)  # type: ignore[arg-type]
            while len(batch) < config.batch_size:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if item is _END:
                    done = True
                    break
                batch.append(item)  # type: ignore[arg-type]
        if batch:
            outcome = await sink.write(batch)
            metrics.written += outcome.written
            metrics.retried += outcome.retried
            metrics.failed += outcome.failed
        if done:
            return


async def run_pipeline(
    feeds: Sequence[FeedSpec],
    sink: Sink,
    *,
    metrics: IngestMetrics | None = None,
    config: PipelineConfig | None = None,
    settings: ConnectionSettings | None = None,
    stop: asyncio.Event | None = None,
    gap_log: GapLog | None = None,
    guard: GapGuard | None = None,
) -> IngestMetrics:
    """Run the feeds into the sink until stopped; returns the metrics. Closes the sink.

    Every feed's trades go through a :class:`GapGuard` (``guard``, or a new one writing its
    gap records to ``gap_log``): repeats are dropped, sequence gaps backfilled from the
    feed's ``history`` and recorded."""
    cfg = config or PipelineConfig()
    counters = metrics or IngestMetrics()
    stop_event = stop or asyncio.Event()
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=cfg.queue_size)

    async def emit(event: TradeEvent) -> None:
        """Queue one event, waiting while the queue is full (backpressure)."""
        await queue.put(event)
        counters.received += 1
        if cfg.max_events is not None and counters.received >= cfg.max_events:
            stop_event.set()

    loop = asyncio.get_running_loop()
    timer = loop.call_later(cfg.duration, stop_event.set) if cfg.duration is not None else None

    gaps = guard or GapGuard(counters, gap_log)

    async def guarded(feed: FeedSpec) -> None:
        """Run one feed; a crash stops the whole run instead of dying unnoticed."""
        feed_emit = gaps.emitter(feed.history, emit)

        async def catch_up() -> None:
            """After a reconnect: the trades the feed's markets had meanwhile."""
            await gaps.catch_up(feed.exchange, feed.history, emit)

        try:
            await run_feed(feed, feed_emit, stop_event, counters, settings, on_reconnect=catch_up)
        except Exception:
            stop_event.set()
            raise

    feed_tasks = [asyncio.create_task(guarded(feed), name=feed.name) for feed in feeds]

    async def feeds_then_end() -> None:
        """Wait for the feeds (bounded after stop), then tell the writer to finish."""
        try:
            await _supervise(feed_tasks, stop_event, cfg.shutdown_timeout)
        finally:
            gaps.finish()
            await queue.put(_END)

    supervisor = asyncio.create_task(feeds_then_end())
    writer = asyncio.create_task(_write_loop(queue, sink, counters, cfg))
    try:
        await writer
    except BaseException:
        stop_event.set()
        for task in feed_tasks:
            task.cancel()
        supervisor.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*feed_tasks, supervisor, return_exceptions=True)
        raise
    finally:
        if timer is not None:
            timer.cancel()
        await sink.close()
    await supervisor
    return counters


async def _supervise(
    tasks: list[asyncio.Task[None]], stop: asyncio.Event, shutdown_timeout: float
) -> None:
    """Wait for every feed; once ``stop`` is set give them ``shutdown_timeout`` s, then cancel."""
    all_done: asyncio.Future[Any] = asyncio.ensure_future(
        asyncio.gather(*tasks, return_exceptions=True)
    )
    stop_wait: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    await asyncio.wait({all_done, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    if not all_done.done():
        _, pending = await asyncio.wait({all_done}, timeout=shutdown_timeout)
        if pending:
            log.warning("feeds did not stop within %.1fs; cancelling", shutdown_timeout)
            for task in tasks:
                task.cancel()
    results = await all_done
    stop_wait.cancel()
    for task, result in zip(tasks, results, strict=True):
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            log.error("feed %s failed: %r", task.get_name(), result)
            raise result
