"""The shared record shapes: the unified trade event and the base alert record.

One place for the field names and types that ingest, the quality gate, the
compiler (known columns), the simulator and the runtime all agree on.
Types are Spark SQL type names, so the compiler and the runtime read them alike.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

#: The unified trade event (MODULES.md), plus ``market``: the exchange's own pair
#: (e.g. ``BTCUSDT`` or ``BTC-USD``) behind the canonical ``symbol``, and ``instrument``:
#: what is traded, one of :data:`INSTRUMENTS` (docs/adr/0014-instrument-type-on-the-trade-event.md).
TRADE_EVENT_FIELDS: Final = MappingProxyType(
    {
        "event_id": "string",
        "exchange": "string",
        "symbol": "string",
        "market": "string",
        "instrument": "string",
        "price": "double",
        "quantity": "double",
        "quote_volume": "double",
        "side": "string",
        "timestamp": "timestamp",
        "ingestion_timestamp": "timestamp",
    }
)

#: The instrument types a trade event's ``instrument`` names: ``spot`` (cash market) and
#: ``perpetual`` (perpetual futures, e.g. Binance USD-M).
INSTRUMENTS: Final = ("spot", "perpetual")

#: Fields a trade event must carry (non-null) to pass the quality gate.
TRADE_REQUIRED_FIELDS: Final = ("event_id", "symbol", "price", "quantity", "timestamp")

#: The base alert record every detector emits (MODULES.md).
ALERT_FIELDS: Final = MappingProxyType(
    {
        "alert_id": "string",
        "alert_type": "string",
        "module_id": "string",
        "symbol": "string",
        "exchange": "string",
        "severity": "string",
        "detected_at": "timestamp",
        "message": "string",
        "ttl_epoch": "bigint",
        "details": "string",
    }
)

#: What every stored alert carries besides the base record: the version of the detector
#: that raised it (docs/review.md, "Alert provenance"). Set by the runtime when an alert
#: is published or back-tested, not by the compiled SQL, so alert readers do not see it.
PROVENANCE_FIELDS: Final = MappingProxyType(
    {
        #: 16 hex digits of the SHA-256 of the spec's canonical form (ctc.dsl.canonical)
        "spec_version": "string",
        #: the ctc release that compiled it (ctc.__version__)
        "ctc_version": "string",
    }
)

#: An alert as the hot store and the lake keep it: the base record and its provenance.
STORED_ALERT_FIELDS: Final = MappingProxyType({**ALERT_FIELDS, **PROVENANCE_FIELDS})

#: Seconds an alert stays in the hot store after ``detected_at``.
ALERT_TTL_SECONDS: Final = 24 * 3600

#: The fields ``GET /metrics/{symbol}`` always answers (docs/api.md). A detector's chart
#: series may add one more, its ``publish.series.<name>.metric`` (e.g. MOD-003's
#: ``spread_pct``), which may not be one of these.
METRICS_FIELDS: Final = (
    "symbol",
    "current_price",
    "volume_1h",
    "anomaly_count_24h",
    "anomaly_count_by_type",
    "anomaly_count_capped",
    "anomaly_window_start",
    "last_whale",
    "updated_at",
)

#: The normalised on-chain event (MOD-008's input): transfers and DEX swaps.
ONCHAIN_EVENT_FIELDS: Final = MappingProxyType(
    {
        "event_id": "string",
        "blockchain": "string",
        "event_type": "string",
        "tx_hash": "string",
        "block_number": "bigint",
        "block_timestamp": "timestamp",
        "from_address": "string",
        "to_address": "string",
        "token_address": "string",
        "token_symbol": "string",
        "amount": "double",
        "amount_usd": "double",
        "protocol": "string",
        "token_in": "string",
        "token_out": "string",
        "amount_in_usd": "double",
        "amount_out_usd": "double",
        "price_impact_pct": "double",
        "ingestion_timestamp": "timestamp",
    }
)

#: A sequence gap the ingest process could not fill from the exchange's REST history
#: (docs/ingest.md, "Gaps and backfill"): landed beside the trades, kept in the ``gaps``
#: lake table. Ids are the exchange's trade ids (Binance ``t`` or ``a``, Coinbase
#: ``trade_id``); ``first_missing``..``last_missing`` is the inclusive range that was missing,
#: ``backfilled`` how many of its ``missing`` trades the history returned.
GAP_FIELDS: Final = MappingProxyType(
    {
        "gap_id": "string",
        "exchange": "string",
        "market": "string",
        "symbol": "string",
        "instrument": "string",
        "id_kind": "string",
        "first_missing": "bigint",
        "last_missing": "bigint",
        "missing": "bigint",
        "backfilled": "bigint",
        "unfilled": "bigint",
        "reason": "string",
        "after_timestamp": "timestamp",
        "before_timestamp": "timestamp",
        "detected_at": "timestamp",
    }
)
