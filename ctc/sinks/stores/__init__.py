"""Hot stores: where the shared alert sink writes and the API reads (SQLite locally, DynamoDB)."""

from ctc.sinks.stores.base import AlertStore, Page

__all__ = ["AlertStore", "Page"]
