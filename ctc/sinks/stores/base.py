"""The hot store interface. Both implementations (SQLite, DynamoDB) pass the same
conformance tests (tests/stores/test_conformance.py).

Records are plain dicts:

* alert: the base alert record and its provenance (ctc.events.STORED_ALERT_FIELDS:
  ``spec_version`` and ``ctc_version``, None for an alert stored before ctc kept them)
  with ``detected_at`` as an
  ISO 8601 UTC string with microseconds and ``Z`` (``2026-01-01T00:00:01.000000Z``,
  so text order is time order), ``details`` a JSON string, ``ttl_epoch`` an int.
* market row: the latest market figures of one (symbol, exchange):
  ``{"symbol", "exchange", "price", "volume_1h", "updated_at"}`` (updated_at ISO as above).
* status: the runtime's last micro-batch metrics, a JSON-able dict (one per application).
* series row (the dashboard's charts), one per (kind, symbol, exchange, window_start):
  ``{"symbol", "exchange" (None for cross-exchange series), "window_start" (ISO as
  above), "value" (float or None), **extras}`` where extras are numbers (floats) or
  strings. The kind is the name of a series a detector publishes (its spec's
  ``publish.series``), e.g. ``"volume"`` (MOD-001: value = window_volume, extras z_score,
  trade_count) and ``"spread"`` (MOD-003: value = spread_pct, exchange None, extras
  vwap_a, vwap_b). Rows expire like alerts, 24 h after window_start.
* detector catalog: what the detectors of one application publish (their alert types in
  words, chart series, exchanges and symbols), a JSON-able dict written by ``ctc run``
  when it starts (ctc.runtime.publish.detector_catalog) and read by the API, which has no
  specs (docs/adr/0018-detector-catalog-in-the-hot-store.md). It does not expire.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Page:
    """One page of alerts, newest first, and the cursor of the next page (None: no more)."""

    items: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None


@dataclass(frozen=True)
class Catalog:
    """What the alerts in a store name: distinct symbols, exchanges and alert types, each
    sorted (an alert's null exchange or symbol is left out)."""

    symbols: list[str] = field(default_factory=list)
    exchanges: list[str] = field(default_factory=list)
    alert_types: list[str] = field(default_factory=list)


class AlertStore(ABC):
    """Hot alert store: keyed by alert_id, queryable by type and time and by symbol and time."""

    @abstractmethod
    def put_alerts(self, alerts: Iterable[Mapping[str, Any]]) -> int:
        """Upsert alerts by alert_id (a replayed alert overwrites itself); return how many."""

    @abstractmethod
    def get_alert(self, alert_id: str) -> dict[str, Any] | None:
        """One alert by id, or None."""

    @abstractmethod
    def query_alerts(
        self,
        *,
        alert_type: str | None = None,
        symbol: str | None = None,
        since: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """Alerts newest first (detected_at desc, then alert_id desc), optionally of one
        type and/or one symbol, with detected_at >= since; ``cursor`` continues a page."""

    @abstractmethod
    def count_alerts(self, symbol: str, since: str, cap: int) -> tuple[dict[str, int], bool]:
        """The alerts of ``symbol`` with detected_at >= ``since``, counted per alert_type,
        stopping at ``cap`` alerts: ``(counts, capped)`` where ``capped`` says more exist
        than were counted (the counts then add up to ``cap``)."""

    @abstractmethod
    def catalog(self) -> Catalog:
        """The distinct symbols, exchanges and alert types of the stored alerts."""

    @abstractmethod
    def purge_expired(self, now_epoch: int) -> int:
        """Delete alerts (and series rows) whose ttl_epoch <= now_epoch; return how many
        alerts."""

    @abstractmethod
    def put_market(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Upsert the latest market figures per (symbol, exchange)."""

    @abstractmethod
    def get_market(self, symbol: str) -> list[dict[str, Any]]:
        """The latest market rows of one symbol, one per exchange (empty if unknown)."""

    @abstractmethod
    def put_status(self, app: str, status: Mapping[str, Any]) -> None:
        """Replace the status of application ``app``."""

    @abstractmethod
    def get_status(self, app: str) -> dict[str, Any] | None:
        """The last status written for ``app``, or None."""

    @abstractmethod
    def put_detector_catalog(self, app: str, catalog: Mapping[str, Any]) -> None:
        """Replace the detector catalog of application ``app`` (a JSON-able dict)."""

    @abstractmethod
    def get_detector_catalog(self, app: str) -> dict[str, Any] | None:
        """The detector catalog last written for ``app``, or None."""

    @abstractmethod
    def put_windows(self, kind: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Upsert chart-series rows of ``kind`` by (kind, symbol, exchange or "",
        window_start): a rewritten window replaces the stored one (last write wins).
        Rows are normalised by ``records.normalise_window`` (ValueError if malformed)."""

    @abstractmethod
    def get_windows(
        self, kind: str, symbol: str, since: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """The series rows of ``kind`` and ``symbol`` with window_start >= ``since``: the
        newest ``limit`` of them, returned oldest first (window_start asc, then exchange
        asc with None first). ValueError on a bad ``since`` or ``limit``."""

    def change_token(self) -> Hashable | None:
        """A value that changes whenever the stored data may have (any process's writes
        included), so an answer computed from the store can be kept while it stays the
        same; None when the store cannot tell (nothing may then be kept)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
