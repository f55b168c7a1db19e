"""Ingest counters shared by connectors and sinks, printed at the end of a run."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class IngestMetrics:
    """Counters for one ingest run.

    ``received``: trade events normalised and queued; ``written``: records the sink confirmed;
    ``retried``: record re-sends after a partial failure; ``failed``: records given up on
    (never silent: they are logged and kept in a dead-letter file when configured);
    ``reconnects``: websocket reconnects; ``duplicates``: replayed trades dropped by id;
    ``messages``: raw websocket frames received; ``malformed``: frames skipped as undecodable
    (logged); ``gaps``: sequence gaps found (docs/ingest.md, "Gaps and backfill"),
    ``gap_trades``: the trades they missed, ``backfilled``: of those, fetched from the REST
    history and queued (counted in ``received`` too), ``unfilled``: the rest, recorded in
    gap records.
    """

    received: int = 0
    written: int = 0
    retried: int = 0
    failed: int = 0
    reconnects: int = 0
    duplicates: int = 0
    messages: int = 0
    malformed: int = 0
    gaps: int = 0
    gap_trades: int = 0
    backfilled: int = 0
    unfilled: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return asdict(self)

    def summary(self) -> str:
        """One line ``received=… written=…`` for the end of a run."""
        return " ".join(f"{k}={v}" for k, v in self.as_dict().items())
