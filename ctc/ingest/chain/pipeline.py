"""The on-chain ingest run: follower → (deduplicated) block batches → sink, with metrics.

Each emitted block's events are written to the sink as one batch, so a landing file never
holds part of a block. An event id emitted before (a deep reorg's branch repeats most of
the blocks it replaced) is dropped and counted in ``duplicates``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from ctc.events import ONCHAIN_EVENT_FIELDS
from ctc.ingest.chain.client import run_chain
from ctc.ingest.chain.follower import ChainCounters, ChainFollower
from ctc.ingest.chain.normalise import ChainEvent, LogNormaliser
from ctc.ingest.connection import ConnectionSettings
from ctc.ingest.metrics import IngestMetrics
from ctc.ingest.sinks import Sink


def chain_event_json(event: ChainEvent) -> str:
    """One compact JSON line (no newline) with the fields in schema order."""
    return json.dumps({n: event.get(n) for n in ONCHAIN_EVENT_FIELDS}, separators=(",", ":"))


class BlockWriter:
    """Writes each block's new events to the sink; counts into ``metrics``."""

    def __init__(self, sink: Sink, metrics: IngestMetrics, normaliser: LogNormaliser) -> None:
        self.sink = sink
        self.metrics = metrics
        self.normaliser = normaliser
        self._seen: set[str] = set()

    async def __call__(self, events: Sequence[ChainEvent]) -> None:
        """Write one block's events (those not emitted before)."""
        fresh = [e for e in events if e["event_id"] not in self._seen]
        self.metrics.duplicates += len(events) - len(fresh)
        self._seen.update(e["event_id"] for e in fresh)
        self.metrics.received += len(fresh)
        self.metrics.malformed = sum(self.normaliser.skipped.values())
        self.normaliser.prices.refresh()
        if fresh:
            outcome = await self.sink.write(fresh)
            self.metrics.written += outcome.written
            self.metrics.retried += outcome.retried
            self.metrics.failed += outcome.failed
        else:
            await self.sink.tick()


async def run_chain_pipeline(
    url: str,
    sink: Sink,
    normaliser: LogNormaliser,
    *,
    confirmations: int = 12,
    start_block: int | None = None,
    stop: asyncio.Event | None = None,
    settings: ConnectionSettings | None = None,
    end_of_stream_reason: str | None = None,
    metrics: IngestMetrics | None = None,
) -> tuple[IngestMetrics, ChainCounters]:
    """Follow the node at ``url`` into ``sink`` until stopped (or the replay ends);
    closes the sink. Returns the ingest metrics and the follower's block counters."""
    counters = metrics or IngestMetrics()
    writer = BlockWriter(sink, counters, normaliser)
    normaliser.prices.refresh()
    follower = ChainFollower(normaliser, writer, confirmations, start_block)
    try:
        await run_chain(
            url, follower, stop or asyncio.Event(), counters, settings, end_of_stream_reason
        )
    finally:
        await sink.close()
    counters.messages = follower.counters.heads
    counters.malformed = sum(normaliser.skipped.values())
    return counters, follower.counters
