"""Bringing an older SQLite hot store up to the current columns, in place.

``CREATE TABLE IF NOT EXISTS`` leaves an existing table as it is, so a column added to a
table after a store was first made (the alerts' provenance) is added here with ``ALTER
TABLE ... ADD COLUMN``: instant in SQLite (no row is rewritten), and the rows already
there read the new column as NULL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping


def add_missing_columns(
    conn: sqlite3.Connection, table: str, columns: Mapping[str, str]
) -> list[str]:
    """Add each of ``columns`` (name → SQLite type) that ``table`` lacks; return the names
    added. Call inside a write transaction (``BEGIN IMMEDIATE``), so two processes opening
    the same old store do not both add a column."""
    have = {str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")}
    added = []
    for name, sql_type in columns.items():
        if name not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")
            added.append(name)
    return added
