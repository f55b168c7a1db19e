"""The sink interface, an in-memory sink, and ``--sink`` spec parsing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ctc.ingest.trade_event import TradeEvent


@dataclass
class WriteOutcome:
    """What one ``write`` call did: records stored, re-sends, records given up on."""

    written: int = 0
    retried: int = 0
    failed: int = 0


class Sink(Protocol):
    """Where normalised events go. ``write`` may await (that is the backpressure)."""

    async def write(self, events: Sequence[TradeEvent]) -> WriteOutcome:
        """Store a batch; return the counts."""
        ...

    async def tick(self) -> None:
        """Called about once a second when idle (time-based rolling)."""
        ...

    async def close(self) -> None:
        """Flush and release everything."""
        ...


class MemorySink:
    """Keeps events in a list (tests, benchmarks); ``delay`` makes every write slow."""

    def __init__(self, delay: float = 0.0) -> None:
        self.events: list[TradeEvent] = []
        self.delay = delay
        self.closed = False

    async def write(self, events: Sequence[TradeEvent]) -> WriteOutcome:
        """Append the batch (after sleeping ``delay`` seconds)."""
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        self.events.extend(events)
        return WriteOutcome(written=len(events))

    async def tick(self) -> None:
        """Nothing to roll."""

    async def close(self) -> None:
        """Mark closed."""
        self.closed = True


@dataclass(frozen=True)
class SinkSpec:
    """A parsed ``--sink``: ``landing:DIR`` or ``kinesis:STREAM``."""

    kind: str
    target: str

    @property
    def path(self) -> Path:
        """The landing directory."""
        return Path(self.target)


def parse_sink_spec(text: str) -> SinkSpec:
    """Parse ``landing:DIR`` / ``kinesis:STREAM`` (raises ``ValueError`` otherwise)."""
    kind, sep, target = text.partition(":")
    if not sep or not target or kind not in ("landing", "kinesis"):
        raise ValueError(f"--sink must be landing:DIR or kinesis:STREAM, got {text!r}")
    return SinkSpec(kind, target)
