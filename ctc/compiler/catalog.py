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

#: Views every run shares: the input streams and the alert stream.
SHARED_VIEWS: tuple[str, ...] = (*STREAMS, ALERTS.view)

#: The lake's own tables (ctc.sinks.lake.tables.CORE_TABLES; a test keeps the two in step).
CORE_LAKE_TABLES: tuple[str, ...] = ("anomaly_alerts", "raw_trades", "dead_letters")


def reserved_name_problem(name: str, what: str) -> str | None:
    """Why ``name`` may not name a spec's own view (``what``: an output table or a
    reference), or None.

    Shared views and core lake tables are reserved, and so is every name with ``__``:
    each detector's stage views are ``<name>__<stage>``. A spec defining one of these
    would replace what other detectors read (fake trades, forged alerts).
    """
    if name in SHARED_VIEWS or name in CORE_LAKE_TABLES:
        return (
            f"{what} name '{name}' is reserved: it is a shared view or core lake table "
            f"({', '.join(SHARED_VIEWS + CORE_LAKE_TABLES)})"
        )
    if "__" in name:
        return (
            f"{what} name '{name}' may not contain '__': names with '__' are "
            "reserved for detectors' stage views (<name>__<stage>)"
        )
    return None
