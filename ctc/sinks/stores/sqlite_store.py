"""The local hot store: one SQLite file in WAL mode.

Indexes: one per query shape of the API, each in the alert order (detected_at, alert_id):
by type, by symbol (carrying alert_type, so the per-type count of /metrics reads the index
only), by type and symbol (the chart markers), by time; one on exchange, which with the
type and symbol indexes lets the catalog skip from one distinct value to the next instead
of reading every alert.

One writer process (the runtime) and any number of reader processes (the API) share the
file: WAL lets readers read while the writer writes, ``busy_timeout`` makes a second
writer wait instead of failing, and each write is one ``BEGIN IMMEDIATE`` transaction.
Each store object owns one connection, usable from several threads behind a lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ctc.events import PROVENANCE_FIELDS
from ctc.sinks.stores.base import AlertStore, Catalog, Page
from ctc.sinks.stores.cursor import decode_cursor, encode_cursor
from ctc.sinks.stores.records import (
    ALERT_COLUMNS,
    MARKET_COLUMNS,
    WINDOW_COLUMNS,
    check_kind,
    check_limit,
    iso_utc,
    normalise_alert,
    normalise_market,
    normalise_window,
)
from ctc.sinks.stores.sqlite_migrate import add_missing_columns

BUSY_TIMEOUT_MS = 10_000
#: The alerts' provenance columns, added to a store made before them (sqlite_migrate).
_PROVENANCE_COLUMNS = {name: "TEXT" for name in PROVENANCE_FIELDS}
#: count_alerts answers kept (per symbol and since; a write makes them all stale).
_KEPT_COUNTS = 64

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS alerts (
    alert_id    TEXT PRIMARY KEY,
    alert_type  TEXT,
    module_id   TEXT,
    symbol      TEXT,
    exchange    TEXT,
    severity    TEXT,
    detected_at TEXT NOT NULL,
    message     TEXT,
    ttl_epoch   INTEGER NOT NULL,
    details     TEXT,
    {", ".join(f"{c} {t}" for c, t in _PROVENANCE_COLUMNS.items())}
);
CREATE INDEX IF NOT EXISTS alerts_type_time ON alerts (alert_type, detected_at, alert_id);
DROP INDEX IF EXISTS alerts_symbol_time;
CREATE INDEX IF NOT EXISTS alerts_symbol_time_type
    ON alerts (symbol, detected_at, alert_id, alert_type);
CREATE INDEX IF NOT EXISTS alerts_type_symbol_time
    ON alerts (alert_type, symbol, detected_at, alert_id);
CREATE INDEX IF NOT EXISTS alerts_exchange ON alerts (exchange);
CREATE INDEX IF NOT EXISTS alerts_time ON alerts (detected_at, alert_id);
CREATE INDEX IF NOT EXISTS alerts_ttl ON alerts (ttl_epoch);
CREATE TABLE IF NOT EXISTS market (
    symbol     TEXT NOT NULL,
    exchange   TEXT NOT NULL,
    price      REAL,
    volume_1h  REAL,
    updated_at TEXT,
    extra      TEXT,
    PRIMARY KEY (symbol, exchange)
);
CREATE TABLE IF NOT EXISTS status (
    app        TEXT PRIMARY KEY,
    status     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS windows (
    kind         TEXT NOT NULL,
    symbol       TEXT NOT NULL,
    window_start TEXT NOT NULL,
    exchange     TEXT NOT NULL,
    value        REAL,
    extra        TEXT,
    ttl_epoch    INTEGER NOT NULL,
    PRIMARY KEY (kind, symbol, window_start, exchange)
);
CREATE INDEX IF NOT EXISTS windows_ttl ON windows (ttl_epoch);
CREATE TABLE IF NOT EXISTS detector_catalog (
    app        TEXT PRIMARY KEY,
    catalog    TEXT NOT NULL
);
"""

_COLS = ", ".join(ALERT_COLUMNS)
_UPSERT_ALERT = (
    f"INSERT INTO alerts ({_COLS}) VALUES ({', '.join('?' * len(ALERT_COLUMNS))}) "
    "ON CONFLICT(alert_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ALERT_COLUMNS if c != "alert_id")
)
# A row only replaces an older or equal one: a replayed batch never rolls a price back.
_UPSERT_MARKET = (
    "INSERT INTO market (symbol, exchange, price, volume_1h, updated_at, extra) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(symbol, exchange) DO UPDATE SET "
    "price = excluded.price, volume_1h = excluded.volume_1h, "
    "updated_at = excluded.updated_at, extra = excluded.extra "
    "WHERE market.updated_at IS NULL OR excluded.updated_at IS NULL "
    "OR excluded.updated_at >= market.updated_at"
)


_UPSERT_WINDOW = (
    "INSERT INTO windows (kind, symbol, window_start, exchange, value, extra, ttl_epoch) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(kind, symbol, window_start, exchange) "
    "DO UPDATE SET value = excluded.value, extra = excluded.extra, "
    "ttl_epoch = excluded.ttl_epoch"
)


class SqliteAlertStore(AlertStore):
    """The hot store in one SQLite file (``":memory:"`` for a private in-memory one)."""

    def __init__(self, path: str | Path) -> None:
        """Open (creating the file, its folders and the tables if needed) the store at
        ``path``."""
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        #: writes through this connection, which PRAGMA data_version does not count
        self._writes = 0
        #: count_alerts answers: (symbol, since, cap) -> (change token, counts, capped)
        self._counts: dict[tuple[str, str, int], tuple[tuple[int, int], dict[str, int], bool]] = {}
        self._conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # autocommit; writes open their own transaction
            check_same_thread=False,
        )
        self._conn.row_factory = sqlite3.Row
        with self._lock:
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._write_script(_SCHEMA)
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                add_missing_columns(self._conn, "alerts", _PROVENANCE_COLUMNS)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- helpers -------------------------------------------------------------------

    def _write_script(self, script: str) -> None:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in script.split(";"):
                if statement.strip():
                    self._conn.execute(statement)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _write_many(self, sql: str, rows: list[tuple[Any, ...]]) -> int:
        """Run ``sql`` for each row in one write transaction; return the rows changed."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                before = self._conn.total_changes
                self._conn.executemany(sql, rows)
                changed = self._conn.total_changes - before
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self._writes += 1
        return changed

    def _change_token(self) -> tuple[int, int]:
        """Changes whenever the file does: other connections' commits (data_version) and
        this one's (counted). Call under the lock."""
        row = self._conn.execute("PRAGMA data_version").fetchone()
        return int(row[0]), self._writes

    def change_token(self) -> tuple[int, int]:
        """Changes whenever the file does (``PRAGMA data_version`` for other connections'
        commits, a counter for this object's own writes)."""
        with self._lock:
            return self._change_token()

    def _read_alerts(self, where_etc: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        """The alert records of ``SELECT <every alert column> FROM alerts <where_etc>``
        (tuples zipped with the column names: cheaper than ``sqlite3.Row``)."""
        with self._lock:
            cursor = self._conn.cursor()
            cursor.row_factory = None
            rows = cursor.execute(f"SELECT {_COLS} FROM alerts {where_etc}", tuple(params))
            return [dict(zip(ALERT_COLUMNS, r, strict=True)) for r in rows.fetchall()]

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    # -- alerts --------------------------------------------------------------------

    def put_alerts(self, alerts: Iterable[Mapping[str, Any]]) -> int:
        """Upsert alerts by alert_id in one transaction; return how many were given."""
        rows = [tuple(normalise_alert(a)[c] for c in ALERT_COLUMNS) for a in alerts]
        if rows:
            self._write_many(_UPSERT_ALERT, rows)
        return len(rows)

    def get_alert(self, alert_id: str) -> dict[str, Any] | None:
        """One alert by id, or None."""
        rows = self._read_alerts("WHERE alert_id = ?", (alert_id,))
        return rows[0] if rows else None

    def query_alerts(
        self,
        *,
        alert_type: str | None = None,
        symbol: str | None = None,
        since: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """Alerts newest first (detected_at desc, alert_id desc), filtered by type, symbol
        and ``detected_at >= since``; ``cursor`` continues after the previous page."""
        check_limit(limit)
        where: list[str] = []
        params: list[Any] = []
        if alert_type is not None:
            where.append("alert_type = ?")
            params.append(alert_type)
        if symbol is not None:
            where.append("symbol = ?")
            params.append(symbol)
        if since is not None:
            where.append("detected_at >= ?")
            params.append(iso_utc(since))
        if cursor is not None:
            after_time, after_id = decode_cursor(cursor)
            where.append("(detected_at < ? OR (detected_at = ? AND alert_id < ?))")
            params.extend([after_time, after_time, after_id])
        sql = " WHERE " + " AND ".join(where) if where else ""
        sql += " ORDER BY detected_at DESC, alert_id DESC LIMIT ?"
        params.append(limit + 1)  # one more than asked: is there a next page?
        rows = self._read_alerts(sql, params)
        if len(rows) <= limit:
            return Page(items=rows, next_cursor=None)
        last = rows[limit - 1]
        return Page(
            items=rows[:limit], next_cursor=encode_cursor(last["detected_at"], last["alert_id"])
        )

    def count_alerts(self, symbol: str, since: str, cap: int) -> tuple[dict[str, int], bool]:
        """Per-type counts of the alerts of ``symbol`` from ``since`` on, at most ``cap`` of
        them (read from the symbol index alone). The answer is kept until the file changes:
        the count reads every alert of the day, and pollers ask for it between writes."""
        bound = iso_utc(since)
        key = (symbol, bound, cap)
        with self._lock:
            token = self._change_token()
            kept = self._counts.get(key)
        if kept is not None and kept[0] == token:
            return dict(kept[1]), kept[2]
        rows = self._read(
            "SELECT alert_type, COUNT(*) AS n FROM (SELECT alert_type FROM alerts "
            "WHERE symbol = ? AND detected_at >= ? LIMIT ?) GROUP BY alert_type",
            (symbol, bound, cap),
        )
        counts = {str(r["alert_type"]): int(r["n"]) for r in rows}
        capped = sum(counts.values()) >= cap and bool(
            self._read(
                "SELECT 1 FROM alerts WHERE symbol = ? AND detected_at >= ? LIMIT 1 OFFSET ?",
                (symbol, bound, cap),
            )
        )
        with self._lock:
            if len(self._counts) >= _KEPT_COUNTS:
                self._counts.clear()
            self._counts[key] = (token, counts, capped)
        return dict(counts), capped

    def catalog(self) -> Catalog:
        """The distinct symbols, exchanges and alert types, each found by skipping through
        its index from one value to the next (a few reads per value, not one per alert)."""
        return Catalog(
            symbols=self._distinct("symbol"),
            exchanges=self._distinct("exchange"),
            alert_types=self._distinct("alert_type"),
        )

    def _distinct(self, column: str) -> list[str]:
        rows = self._read(
            f"WITH RECURSIVE v(x) AS (SELECT MIN({column}) FROM alerts UNION ALL "
            f"SELECT (SELECT MIN({column}) FROM alerts WHERE {column} > x) FROM v "
            "WHERE x IS NOT NULL) SELECT x FROM v WHERE x IS NOT NULL"
        )
        return [str(r["x"]) for r in rows]

    def purge_expired(self, now_epoch: int) -> int:
        """Delete alerts and series rows whose ttl_epoch <= now_epoch; return how many
        alerts."""
        deleted = self._write_many("DELETE FROM alerts WHERE ttl_epoch <= ?", [(int(now_epoch),)])
        self._write_many("DELETE FROM windows WHERE ttl_epoch <= ?", [(int(now_epoch),)])
        return deleted

    # -- market and status -----------------------------------------------------------

    def put_market(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Upsert market rows per (symbol, exchange); a row older than the stored one
        (by updated_at) is ignored."""
        params = []
        for row in rows:
            rec = normalise_market(row)
            extra = {k: v for k, v in rec.items() if k not in MARKET_COLUMNS}
            params.append(
                (
                    *(rec[c] for c in MARKET_COLUMNS),
                    json.dumps(extra, default=str) if extra else None,
                )
            )
        if params:
            self._write_many(_UPSERT_MARKET, params)

    def get_market(self, symbol: str) -> list[dict[str, Any]]:
        """The market rows of one symbol, one per exchange, ordered by exchange."""
        rows = self._read(
            "SELECT symbol, exchange, price, volume_1h, updated_at, extra FROM market "
            "WHERE symbol = ? ORDER BY exchange",
            (symbol,),
        )
        out = []
        for row in rows:
            rec = dict(row)
            extra = rec.pop("extra")
            out.append({**(json.loads(extra) if extra else {}), **rec})
        return out

    def put_status(self, app: str, status: Mapping[str, Any]) -> None:
        """Replace the status (a JSON-able dict) of application ``app``."""
        text = json.dumps(dict(status), default=str, ensure_ascii=False)
        self._write_many(
            "INSERT INTO status (app, status) VALUES (?, ?) "
            "ON CONFLICT(app) DO UPDATE SET status = excluded.status",
            [(app, text)],
        )

    def get_status(self, app: str) -> dict[str, Any] | None:
        """The last status written for ``app``, or None."""
        rows = self._read("SELECT status FROM status WHERE app = ?", (app,))
        return json.loads(rows[0]["status"]) if rows else None

    def put_detector_catalog(self, app: str, catalog: Mapping[str, Any]) -> None:
        """Replace the detector catalog (a JSON-able dict) of application ``app``."""
        text = json.dumps(dict(catalog), ensure_ascii=False, allow_nan=False)
        self._write_many(
            "INSERT INTO detector_catalog (app, catalog) VALUES (?, ?) "
            "ON CONFLICT(app) DO UPDATE SET catalog = excluded.catalog",
            [(app, text)],
        )

    def get_detector_catalog(self, app: str) -> dict[str, Any] | None:
        """The detector catalog last written for ``app``, or None."""
        rows = self._read("SELECT catalog FROM detector_catalog WHERE app = ?", (app,))
        return json.loads(rows[0]["catalog"]) if rows else None

    # -- chart series ----------------------------------------------------------------

    def put_windows(self, kind: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Upsert series rows of ``kind`` by (kind, symbol, exchange or "", window_start)
        in one transaction."""
        check_kind(kind)
        params = []
        for row in rows:
            rec = normalise_window(row)
            extra = {k: v for k, v in rec.items() if k not in WINDOW_COLUMNS and k != "ttl_epoch"}
            params.append(
                (
                    kind,
                    rec["symbol"],
                    rec["window_start"],
                    rec["exchange"] or "",
                    rec["value"],
                    json.dumps(extra) if extra else None,
                    rec["ttl_epoch"],
                )
            )
        if params:
            self._write_many(_UPSERT_WINDOW, params)

    def get_windows(
        self, kind: str, symbol: str, since: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` series rows of (kind, symbol) from ``since`` on, oldest
        first."""
        check_kind(kind)
        check_limit(limit)
        sql = (
            "SELECT symbol, exchange, window_start, value, extra FROM windows "
            "WHERE kind = ? AND symbol = ?"
        )
        params: list[Any] = [kind, symbol]
        if since is not None:
            sql += " AND window_start >= ?"
            params.append(iso_utc(since))
        sql += " ORDER BY window_start DESC, exchange DESC LIMIT ?"
        params.append(limit)
        out = []
        for row in reversed(self._read(sql, params)):
            rec = dict(row)
            extra = rec.pop("extra")
            rec["exchange"] = rec["exchange"] or None
            out.append({**(json.loads(extra) if extra else {}), **rec})
        return out

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
