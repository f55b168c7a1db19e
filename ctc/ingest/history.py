"""Historical loader: Binance aggTrades → unified events in JSON lines or Parquet, resumable.

Spot (``exchange="binance"``, ``/api/v3/aggTrades``) or USD-M futures
(``exchange="binance-futures"``, ``/fapi/v1/aggTrades``, events ``instrument: perpetual``),
the same exchange names and event ids as the live and replayed streams.

Progress lives in a cursor file next to the output (``<out>.cursor.json`` for JSON lines,
``<out>/_cursor.json`` for Parquet; the leading ``_`` keeps Spark away from it). JSON lines:
after each page the rows are fsynced, then the cursor (with the file length) is replaced
atomically; a resumed run truncates the file to that length first, so an interruption between
the two never duplicates rows. Parquet: rows are buffered and written as
``date=YYYY-MM-DD/symbol=SYM/part-<first id>-<last id>.parquet`` (temp name, then rename),
and the cursor advances only after a flush.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from ctc.atomic_file import write_text_atomic
from ctc.events import TRADE_EVENT_FIELDS
from ctc.ingest.history_client import (
    DEFAULT_BASE_URL,
    MAX_LIMIT,
    AggTradeCursor,
    iter_agg_trade_pages,
)
from ctc.ingest.normalise_binance import BinanceNormaliser
from ctc.ingest.symbols import SymbolMapper
from ctc.ingest.timestamps import utc_now_iso
from ctc.ingest.trade_event import TradeEvent, event_to_json

#: The aggTrades endpoint of each Binance venue.
AGG_TRADES_PATH: Final = {"binance": "/api/v3/aggTrades", "binance-futures": "/fapi/v1/aggTrades"}


@dataclass
class HistoryResult:
    """What a history run did."""

    rows_written: int
    pages: int
    cursor_path: Path
    done: bool


def cursor_path_for(out: Path, fmt: str) -> Path:
    """Where the cursor file for ``out`` lives."""
    return out / "_cursor.json" if fmt == "parquet" else out.with_name(out.name + ".cursor.json")


def _load_cursor(path: Path, params: dict[str, Any], start_ms: int) -> tuple[AggTradeCursor, int]:
    if not path.exists():
        return AggTradeCursor(next_start_ms=start_ms), 0
    saved = json.loads(path.read_text(encoding="utf-8"))
    if saved.get("params") != params:
        raise ValueError(
            f"{path} belongs to another run ({saved.get('params')}); remove it or change --out"
        )
    return AggTradeCursor.from_dict(saved["cursor"]), int(saved.get("out_bytes", 0))


def _save_cursor(
    path: Path, params: dict[str, Any], cursor: AggTradeCursor, out_bytes: int, rows: int
) -> None:
    payload = {"params": params, "cursor": cursor.to_dict(), "out_bytes": out_bytes, "rows": rows}
    write_text_atomic(path, json.dumps(payload, indent=1), durable=True)


def _parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def write_parquet_part(out: Path, events: Sequence[TradeEvent]) -> list[Path]:
    """Write events as hive-partitioned Parquet files (``date=…/symbol=…``); returns the paths."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    groups: dict[tuple[str, str], list[TradeEvent]] = {}
    for event in events:
        groups.setdefault((event["timestamp"][:10], event["symbol"]), []).append(event)
    columns = [name for name in TRADE_EVENT_FIELDS if name != "symbol"]
    kinds = {"string": pa.string(), "double": pa.float64(), "timestamp": pa.timestamp("us", "UTC")}
    schema = pa.schema([(name, kinds[TRADE_EVENT_FIELDS[name]]) for name in columns])
    written = []
    for (date, symbol), rows in sorted(groups.items()):
        data = {
            name: [
                _parse_iso(r[name]) if TRADE_EVENT_FIELDS[name] == "timestamp" else r[name]
                for r in rows
            ]
            for name in columns
        }
        table = pa.Table.from_pydict(data, schema=schema)
        directory = out / f"date={date}" / f"symbol={symbol}"
        directory.mkdir(parents=True, exist_ok=True)
        first, last = rows[0]["event_id"].rsplit(":", 1)[1], rows[-1]["event_id"].rsplit(":", 1)[1]
        final = directory / f"part-{first}-{last}.parquet"
        tmp = directory / f".{final.name}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, final)
        written.append(final)
    return written


def load_binance_history(
    symbol: str,
    start_ms: int,
    end_ms: int,
    out: str | Path,
    *,
    fmt: str = "jsonl",
    base_url: str = DEFAULT_BASE_URL,
    limit: int = MAX_LIMIT,
    rows_per_file: int = 200_000,
    max_pages: int | None = None,
    symbols: SymbolMapper | None = None,
    exchange: str = "binance",
) -> HistoryResult:
    """Page Binance aggTrades for ``symbol`` over ``[start_ms, end_ms)`` into ``out``.

    Resumes from the cursor file when present. ``max_pages`` stops early (for tests/demos);
    run again to continue.
    """
    if fmt not in ("jsonl", "parquet"):
        raise ValueError("format must be jsonl or parquet")
    out_path = Path(out)
    market = symbol.upper()
    if exchange not in AGG_TRADES_PATH:
        raise ValueError(f"exchange must be one of {', '.join(AGG_TRADES_PATH)}")
    normaliser = BinanceNormaliser(exchange, symbols)
    params = {
        "exchange": exchange,
        "symbol": market,
        "from": start_ms,
        "to": end_ms,
        "format": fmt,
    }
    if fmt == "parquet":
        out_path.mkdir(parents=True, exist_ok=True)
    else:
        out_path.parent.mkdir(parents=True, exist_ok=True)
    cursor_file = cursor_path_for(out_path, fmt)
    cursor, out_bytes = _load_cursor(cursor_file, params, start_ms)
    rows_total = 0
    pages = 0
    buffer: list[TradeEvent] = []
    jsonl = None
    if fmt == "jsonl":
        jsonl = open(out_path, "a+b")  # noqa: SIM115 - closed below
        jsonl.truncate(out_bytes)
        jsonl.seek(out_bytes)
    try:
        for rows, after in iter_agg_trade_pages(
            market, end_ms, cursor, base_url=base_url, limit=limit, path=AGG_TRADES_PATH[exchange]
        ):
            pages += 1
            received_at = utc_now_iso()
            events = [normaliser.from_rest_agg_trade(market, r, received_at) for r in rows]
            if jsonl is not None:
                jsonl.write("".join(event_to_json(e) + "\n" for e in events).encode("utf-8"))
                jsonl.flush()
                os.fsync(jsonl.fileno())
                out_bytes = jsonl.tell()
                rows_total += len(events)
                cursor = after
                _save_cursor(cursor_file, params, cursor, out_bytes, rows_total)
            else:
                buffer.extend(events)
                if len(buffer) >= rows_per_file or after.done:
                    write_parquet_part(out_path, buffer)
                    rows_total += len(buffer)
                    buffer = []
                    cursor = after
                    _save_cursor(cursor_file, params, cursor, 0, rows_total)
            if max_pages is not None and pages >= max_pages:
                break
        if buffer:
            write_parquet_part(out_path, buffer)
            rows_total += len(buffer)
            cursor = after
            _save_cursor(cursor_file, params, cursor, 0, rows_total)
    finally:
        if jsonl is not None:
            jsonl.close()
    if cursor.next_start_ms >= end_ms and cursor.from_id is None and not cursor.done:
        cursor.done = True
        _save_cursor(cursor_file, params, cursor, out_bytes, rows_total)
    return HistoryResult(rows_total, pages, cursor_file, cursor.done)
