"""Sequence gaps per (exchange, market): find them, backfill them, record what stays missing.

Binance trade ids (``t``), aggregate ids (``a``) and Coinbase ``trade_id`` s are consecutive
per market, so a trade whose id is more than one above the last one seen means trades were
lost (an abrupt cut drops whatever was in flight, and Binance does not replay on
reconnect). :class:`GapGuard` sits between a feed and the queue:

* an id at or below the last one seen is a trade already landed: dropped and counted in
  ``duplicates``;
* an id above ``last + 1`` is a gap: the missing ids are fetched from the exchange's REST
  history (:mod:`ctc.ingest.backfill`) and queued before the trade that revealed the gap;
* after every reconnect the history is asked for the trades after each market's last id,
  so a gap at the end of a quiet market is found too. When it cannot be asked, the market
  is marked: its next trade finds the gap as usual, and if none comes before the run ends,
  an open gap is recorded (``last_missing``, ``missing`` and ``unfilled`` unknown: null).

Every gap becomes a record (:data:`ctc.events.GAP_FIELDS`) written by a :class:`GapLog`
beside the trades (``<landing>/_gaps/``); one that could not be filled, in full or in part,
is also logged as a warning. The counters go to :class:`IngestMetrics`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ctc.events import GAP_FIELDS
from ctc.ingest.backfill import (
    HistorySource,
    HistoryUnavailable,
    fetch_after_async,
    fetch_range_async,
)
from ctc.ingest.metrics import IngestMetrics
from ctc.ingest.timestamps import utc_now_iso
from ctc.ingest.trade_event import TradeEvent

log = logging.getLogger(__name__)

Emit = Callable[[TradeEvent], Awaitable[None]]

#: A sequence key: (exchange, market, id kind ``t`` or ``a``).
Key = tuple[str, str, str]


def trade_id_of(event: TradeEvent) -> tuple[str, int] | None:
    """``("t", 3735683259)`` for ``binance:BTCUSDT:3735683259``, ``("a", 665076760)`` for an
    aggregate id; None when the id is not a sequence number."""
    tail = str(event["event_id"]).rsplit(":", 1)[-1]
    kind, digits = ("a", tail[1:]) if tail.startswith("a") else ("t", tail)
    return (kind, int(digits)) if digits.isdigit() else None


@dataclass
class Gap:
    """Missing ids ``first_missing..last_missing`` of one market, and what history gave."""

    exchange: str
    market: str
    symbol: str
    instrument: str
    id_kind: str
    first_missing: int
    last_missing: int | None
    after_timestamp: str | None
    before_timestamp: str | None
    backfilled: int = 0
    reason: str = ""
    detected_at: str = field(default_factory=utc_now_iso)

    @property
    def missing(self) -> int | None:
        """How many ids were missing (None: an open gap, its end unknown)."""
        return None if self.last_missing is None else self.last_missing - self.first_missing + 1

    @property
    def unfilled(self) -> int | None:
        """How many of them the history did not return (None: unknown)."""
        return None if self.missing is None else self.missing - self.backfilled

    def record(self) -> dict[str, Any]:
        """The gap record, keyed by :data:`GAP_FIELDS` in order."""
        values = {
            "gap_id": f"{self.exchange}:{self.market}:{self.id_kind}{self.first_missing}"
            f"-{'' if self.last_missing is None else self.last_missing}",
            "exchange": self.exchange,
            "market": self.market,
            "symbol": self.symbol,
            "instrument": self.instrument,
            "id_kind": self.id_kind,
            "first_missing": self.first_missing,
            "last_missing": self.last_missing,
            "missing": self.missing,
            "backfilled": self.backfilled,
            "unfilled": self.unfilled,
            "reason": self.reason,
            "after_timestamp": self.after_timestamp,
            "before_timestamp": self.before_timestamp,
            "detected_at": self.detected_at,
        }
        return {name: values[name] for name in GAP_FIELDS}


class GapLog:
    """Writes gap records as JSON lines into ``directory`` (``gaps-<utc>-<pid>-<n>.jsonl``),
    one file per record, published atomically (hidden temporary name, then a rename)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.written: list[Path] = []

    def write(self, record: dict[str, Any]) -> Path:
        """Publish one record; returns its file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"gaps-{stamp}-{os.getpid()}-{len(self.written):06d}.jsonl"
        tmp = self.directory / f".{name}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(record, separators=(",", ":")) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        final = self.directory / name
        os.replace(tmp, final)
        self.written.append(final)
        return final


@dataclass
class _Last:
    trade_id: int
    timestamp: str
    symbol: str
    instrument: str


class GapGuard:
    """Finds and backfills sequence gaps of the events a feed emits (see the module doc)."""

    def __init__(self, metrics: IngestMetrics, gap_log: GapLog | None = None) -> None:
        self.metrics = metrics
        self.gap_log = gap_log
        self.gaps: list[Gap] = []
        self._last: dict[Key, _Last] = {}
        #: markets whose trades since a reconnect nobody could check, and why
        self._unchecked: dict[Key, str] = {}

    def emitter(self, source: HistorySource | None, emit: Emit) -> Emit:
        """``emit`` with every event checked against its market's sequence first."""

        async def guarded_emit(event: TradeEvent) -> None:
            """Queue ``event`` after the trades of any gap before it; drop a repeat."""
            await self.admit(source, event, emit)

        return guarded_emit

    async def admit(self, source: HistorySource | None, event: TradeEvent, emit: Emit) -> None:
        """Emit ``event`` (after backfilling a gap before it) unless it was landed already."""
        parsed = trade_id_of(event)
        if parsed is None:
            await emit(event)
            return
        kind, trade_id = parsed
        key = (event["exchange"], event["market"], kind)
        self._unchecked.pop(key, None)
        last = self._last.get(key)
        if last is not None and trade_id <= last.trade_id:
            self.metrics.duplicates += 1
            return
        if last is not None and trade_id > last.trade_id + 1:
            gap = Gap(
                exchange=event["exchange"],
                market=event["market"],
                symbol=event["symbol"],
                instrument=event["instrument"],
                id_kind=kind,
                first_missing=last.trade_id + 1,
                last_missing=trade_id - 1,
                after_timestamp=last.timestamp,
                before_timestamp=event["timestamp"],
            )
            await self._fill(source, gap, emit)
        self._last[key] = _Last(trade_id, event["timestamp"], event["symbol"], event["instrument"])
        await emit(event)

    async def _fill(self, source: HistorySource | None, gap: Gap, emit: Emit) -> None:
        events: list[TradeEvent] = []
        if source is None:
            gap.reason = "no REST history for this feed (backfill off)"
        else:
            assert gap.last_missing is not None
            try:
                events = await fetch_range_async(
                    source, gap.market, gap.id_kind, gap.first_missing, gap.last_missing
                )
            except HistoryUnavailable as exc:
                gap.reason = f"history unavailable: {exc}"
        for event in events:
            await emit(event)
        gap.backfilled = len(events)
        if gap.unfilled and not gap.reason:
            gap.reason = f"history returned {gap.backfilled} of {gap.missing} trades"
        self._record(gap)

    async def catch_up(self, exchange: str, source: HistorySource | None, emit: Emit) -> None:
        """After a reconnect: land the trades each market of ``exchange`` had after its last
        id, from the history. Without one (or when it fails) the market is marked unchecked
        (see the module doc)."""
        for key, last in list(self._last.items()):
            if key[0] != exchange:
                continue
            if source is None:
                self._unchecked[key] = "no REST history for this feed (backfill off)"
                continue
            try:
                events = await fetch_after_async(source, key[1], key[2], last.trade_id)
            except HistoryUnavailable as exc:
                log.warning("%s %s: catch-up after reconnect failed: %s", *key[:2], exc)
                self._unchecked[key] = f"history unavailable: {exc}"
                continue
            if not events:
                continue
            gap = Gap(
                exchange=key[0],
                market=key[1],
                symbol=events[0]["symbol"],
                instrument=events[0]["instrument"],
                id_kind=key[2],
                first_missing=last.trade_id + 1,
                last_missing=last.trade_id + len(events),
                after_timestamp=last.timestamp,
                before_timestamp=None,
            )
            for event in events:
                await emit(event)
            newest = trade_id_of(events[-1])
            assert newest is not None
            gap.last_missing = newest[1]
            gap.backfilled = len(events)
            if gap.unfilled:
                gap.reason = f"history returned {gap.backfilled} of {gap.missing} trades"
            self._last[key] = _Last(newest[1], events[-1]["timestamp"], gap.symbol, gap.instrument)
            self._record(gap)

    def finish(self) -> None:
        """At the end of a run: record an open gap for each market still unchecked since a
        reconnect (its trades after the last one seen may be lost, how many is unknown)."""
        for key, reason in self._unchecked.items():
            last = self._last[key]
            self._record(
                Gap(
                    exchange=key[0],
                    market=key[1],
                    symbol=last.symbol,
                    instrument=last.instrument,
                    id_kind=key[2],
                    first_missing=last.trade_id + 1,
                    last_missing=None,
                    after_timestamp=last.timestamp,
                    before_timestamp=None,
                    reason=f"connection lost and no trade came after; {reason}",
                )
            )
        self._unchecked.clear()

    def _record(self, gap: Gap) -> None:
        self.gaps.append(gap)
        self.metrics.gaps += 1
        self.metrics.gap_trades += gap.missing or 0
        self.metrics.backfilled += gap.backfilled
        self.metrics.unfilled += gap.unfilled or 0
        record = gap.record()
        if gap.last_missing is None:
            log.warning(
                "%s %s: trades after id %d may be lost: %s",
                gap.exchange,
                gap.market,
                gap.first_missing - 1,
                gap.reason,
            )
        elif gap.unfilled:
            log.warning(
                "%s %s: %d trades missing (ids %d..%d), %d could not be backfilled: %s",
                gap.exchange,
                gap.market,
                gap.missing,
                gap.first_missing,
                gap.last_missing,
                gap.unfilled,
                gap.reason,
            )
        else:
            log.info("%s %s: gap of %d trades backfilled", gap.exchange, gap.market, gap.missing)
        if self.gap_log is not None:
            self.gap_log.write(record)
