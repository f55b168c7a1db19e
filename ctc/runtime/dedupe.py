"""The streaming dedupe state: event ids that passed the gate, with their event times.

A trade is a duplicate when an earlier trade with the same ``event_id`` passed and the
two event times are at most ``dedupe_within`` apart (docs/quality.md). Ids are kept
until their event time falls below the *horizon*,
``min(newest event time, processing time) - dedupe_within``, moved after every batch;
an entry below the horizon of the batch before no longer counts, whether or not it has
been dropped from memory yet.

The ids live on the driver between micro-batches (a dict, O(batch) work per batch) and
are made durable by :mod:`ctc.runtime.state`: each state version holds the ids its
batch added, and every ``full_every`` versions all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

_NEVER = -(2**62)


@dataclass
class SeenIds:
    """Event ids that passed, with their event times (epoch µs), and the horizon."""

    window_us: int
    ids: dict[str, list[int]] = field(default_factory=dict)
    #: entries with an event time below this no longer count
    horizon_us: int = _NEVER
    newest_us: int = _NEVER
    #: what the current batch added (the state version's delta)
    added_ids: list[str] = field(default_factory=list)
    added_us: list[int] = field(default_factory=list)
    _advances: int = 0

    def is_duplicate(self, event_id: str, ts_us: int) -> bool:
        """Whether ``event_id`` at ``ts_us`` repeats a kept id within the window."""
        times = self.ids.get(event_id)
        if not times:
            return False
        return any(t >= self.horizon_us and abs(t - ts_us) <= self.window_us for t in times)

    def known(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that are kept: the only ones that may repeat an earlier trade
        (a set operation, so a batch of new ids costs no Python loop)."""
        return self.ids.keys() & ids

    def add(self, ids: Sequence[str], times_us: Sequence[int], *, fresh: bool = False) -> None:
        """Remember ids that passed in this batch. ``fresh``: the caller has checked that
        no id repeats, in ``ids`` or among the kept ones (stored without a Python loop)."""
        if not ids:
            return
        if fresh:
            self.ids.update(zip(ids, ([t] for t in times_us), strict=True))
        else:
            for event_id, ts in zip(ids, times_us, strict=True):
                self.ids.setdefault(event_id, []).append(ts)
        self.newest_us = max(self.newest_us, max(times_us))
        self.added_ids.extend(ids)
        self.added_us.extend(times_us)

    def advance(self, processing_us: int) -> None:
        """End of a batch: move the horizon; drop what is below it when it is worth it."""
        if self.newest_us == _NEVER:
            return
        self.horizon_us = max(self.horizon_us, min(self.newest_us, processing_us) - self.window_us)
        self._advances += 1
        if self._advances % 16 == 0:
            self.compact()

    def compact(self) -> None:
        """Drop entries below the horizon from memory."""
        h = self.horizon_us
        kept: dict[str, list[int]] = {}
        for event_id, times in self.ids.items():
            live = [t for t in times if t >= h]
            if live:
                kept[event_id] = live
        self.ids = kept

    def start_batch(self) -> None:
        """Forget the previous batch's delta."""
        self.added_ids = []
        self.added_us = []

    # -- durable form -----------------------------------------------------------------
    def delta_table(self) -> pa.Table:
        """The ids this batch added."""
        return pa.table(
            {
                "event_id": pa.array(self.added_ids, pa.string()),
                "ts_us": pa.array(self.added_us, pa.int64()),
            }
        )

    def full_table(self) -> pa.Table:
        """Every kept id at or above the horizon."""
        ids: list[str] = []
        times: list[int] = []
        for event_id, ts_list in self.ids.items():
            for t in ts_list:
                if t >= self.horizon_us:
                    ids.append(event_id)
                    times.append(t)
        return pa.table(
            {"event_id": pa.array(ids, pa.string()), "ts_us": pa.array(times, pa.int64())}
        )

    def load(self, tables: Iterable[pa.Table], horizon_us: int, newest_us: int) -> None:
        """Rebuild from a full table and the deltas after it, in order."""
        self.ids = {}
        for table in tables:
            ids = table.column("event_id").to_pylist()
            times = table.column("ts_us").to_pylist()
            for event_id, ts in zip(ids, times, strict=True):
                self.ids.setdefault(event_id, []).append(ts)
        self.horizon_us = horizon_us
        self.newest_us = newest_us
        self.compact()
        self.start_batch()
