"""Landing sink: JSON-lines files published atomically, rolled by size or age.

Records go to a hidden ``.<name>.jsonl.tmp`` file (Spark's file source skips names starting
with ``.`` or ``_``); on roll the file is flushed, fsynced and renamed to ``<name>.jsonl``
in the same directory, so readers only ever see complete files.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from ctc.ingest.sinks import WriteOutcome
from ctc.ingest.trade_event import TradeEvent, event_to_json


class LandingSink:
    """Writes ``trades-<utc>-<pid>-<seq>.jsonl`` files into ``directory``."""

    def __init__(
        self,
        directory: str | Path,
        *,
        max_bytes: int = 64 * 1024 * 1024,
        max_seconds: float = 60.0,
        prefix: str = "trades",
        fsync: bool = True,
        to_json: Callable[[TradeEvent], str] = event_to_json,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.prefix = prefix
        self.fsync = fsync
        #: one record as a JSON line (no newline); on-chain events bring their own
        self.to_json = to_json
        self.published: list[Path] = []
        self._seq = itertools.count()
        self._fh: IO[str] | None = None
        self._tmp: Path | None = None
        self._final: Path | None = None
        self._bytes = 0
        self._opened_at = 0.0

    def _open(self) -> IO[str]:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{self.prefix}-{stamp}-{os.getpid()}-{next(self._seq):06d}.jsonl"
        self._final = self.directory / name
        self._tmp = self.directory / f".{name}.tmp"
        self._fh = open(self._tmp, "w", encoding="utf-8")  # noqa: SIM115 - closed in _roll
        self._bytes = 0
        self._opened_at = time.monotonic()
        return self._fh

    def _roll(self) -> None:
        if self._fh is None or self._tmp is None or self._final is None:
            return
        self._fh.flush()
        if self.fsync:
            os.fsync(self._fh.fileno())
        self._fh.close()
        os.rename(self._tmp, self._final)
        self.published.append(self._final)
        self._fh = self._tmp = self._final = None

    async def write(self, events: Sequence[TradeEvent]) -> WriteOutcome:
        """Append the batch, rolling when the file reaches ``max_bytes`` or ``max_seconds``."""
        for event in events:
            fh = self._fh or self._open()
            line = self.to_json(event) + "\n"
            fh.write(line)
            self._bytes += len(line.encode("utf-8"))
            if self._bytes >= self.max_bytes:
                self._roll()
        if self._fh is not None:
            self._fh.flush()
        await self.tick()
        return WriteOutcome(written=len(events))

    async def tick(self) -> None:
        """Roll the open file once it is ``max_seconds`` old."""
        if self._fh is not None and time.monotonic() - self._opened_at >= self.max_seconds:
            self._roll()

    async def close(self) -> None:
        """Publish the open file, if any."""
        self._roll()
