"""The columns each kind of source provides, and which column is its event time and id."""

from __future__ import annotations

from dataclasses import dataclass

from ctc.events import ALERT_FIELDS, ONCHAIN_EVENT_FIELDS, TRADE_EVENT_FIELDS


@dataclass(frozen=True)
class SourceSchema:
    """A source's view name, columns, event-time column and row id column."""

    view: str
    columns: dict[str, str]
    time_column: str | None
    id_column: str | None


STREAMS: dict[str, SourceSchema] = {
    "trades": SourceSchema("trades", dict(TRADE_EVENT_FIELDS), "timestamp", "event_id"),
    "chain_events": SourceSchema(
        "chain_events", dict(ONCHAIN_EVENT_FIELDS), "block_timestamp", "event_id"
    ),
}

ALERTS = SourceSchema("alerts", dict(ALERT_FIELDS), "detected_at", "alert_id")
