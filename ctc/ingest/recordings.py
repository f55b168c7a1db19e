"""Readers for the raw websocket recordings in ``data/real`` (see PROVENANCE.md).

* hftbacktest ``*.gz``: gzip text, ``<recv time> <raw JSON frame>`` per line (Binance).
* cryptofeed ``*.0``: ``<recv s float>: <raw JSON frame>``; other lines (URL/connect lines,
  ``<url> <- …`` sent frames, ``<url> -> …`` HTTP responses, ``configuration:``) are skipped.
* cryptofeed v3 ``*.jsonl.zst``: zstd JSON lines; ``t == "recv"`` lines carry the frame in
  ``data``; the header names the exchange and ``connect`` lines the URL.

Every frame keeps its exact text, so a replay sends what the exchange sent. Receive times
are converted to nanoseconds; their unit is judged from their magnitude (hftbacktest wrote
nanoseconds in 2024 and microseconds in 2023) or declared, and a declared unit the
magnitudes contradict is an error, as is a file whose times change unit.

Frames of an unknown shape are counted (with a few examples) and left out; a file where
no frame has a known shape, or that cannot be read at all, raises :class:`RecordingError`.
Binance USD-M futures are told from spot by the trade frames' shape (:mod:`frame_shapes`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ctc.ingest.frame_shapes import SHAPE_OF
from ctc.ingest.instruments import BINANCE_VENUE, instrument_for
from ctc.ingest.recording_lines import RecordingError, iter_lines
from ctc.ingest.timestamps import NS_PER_UNIT, time_unit_of

__all__ = ["PROTOCOLS", "Frame", "Recording", "RecordingError", "load_recording"]

_CF_LINE = re.compile(r"^(\d+(?:\.\d+)?): (\{.*)$")
_HFT_LINE = re.compile(r"^(\d+(?:\.\d+)?) (\{.*)$")
_BINANCE_STREAM = re.compile(r'^\{"stream":"([^"]+)"')

#: Protocols the replay server speaks.
PROTOCOLS = ("binance", "coinbase-exchange", "coinbase-advanced")

#: How many unknown-shape frames a recording quotes as examples.
EXAMPLES: Final = 3

_COINBASE_CHANNEL_OF_TYPE = {
    "match": "matches",
    "last_match": "matches",
    "ticker": "ticker",
    "snapshot": "level2",
    "l2update": "level2",
    "heartbeat": "heartbeat",
    "status": "status",
}


@dataclass(frozen=True)
class Frame:
    """One received websocket frame: receive time (ns), exact text, routing keys.

    ``channel``: Binance stream name (``btcusdt@trade``), Coinbase channel (``matches``),
    or Advanced Trade channel (``market_trades``); ``product`` is the Coinbase product or "";
    ``line``: its line in the recording file.
    """

    recv_ns: int
    text: str
    channel: str
    product: str = ""
    line: int = 0


@dataclass
class Recording:
    """A loaded recording: protocol, exchange name for events, source URL and frames.

    ``instrument``: ``spot`` or ``perpetual`` (from the trade frames' shape, else the URL);
    ``time_unit``: the unit the receive times were written in; ``unknown``: frames left out
    for their unknown shape, quoted in ``unknown_examples``; ``error``: a problem found
    after the intact frames (a truncation): replay them, then report it.
    """

    path: Path
    protocol: str
    exchange: str
    url: str
    frames: list[Frame] = field(default_factory=list)
    instrument: str = "spot"
    time_unit: str = "ns"
    unknown: int = 0
    unknown_examples: list[str] = field(default_factory=list)
    error: str | None = None
    #: the line of a trade frame whose shape decided the instrument (0: the URL did)
    instrument_line: int = 0

    def trade_streams(self) -> list[tuple[str, str]]:
        """Binance ``(MARKET, kind)`` pairs with trade frames, in first-seen order."""
        pairs: dict[tuple[str, str], None] = {}
        for frame in self.frames:
            market, _, kind = frame.channel.partition("@")
            if kind in ("trade", "aggTrade"):
                pairs[(market.upper(), kind)] = None
        return list(pairs)

    def trade_products(self) -> list[str]:
        """Coinbase products with trades, in first-seen order."""
        products: dict[str, None] = {}
        for frame in self.frames:
            if frame.channel == "matches" and frame.product:
                products[frame.product] = None
            elif frame.channel == "market_trades":
                for event in json.loads(frame.text).get("events", ()):
                    for trade in event.get("trades", ()):
                        products[str(trade["product_id"])] = None
        return list(products)

    def unknown_summary(self) -> str | None:
        """``path: N of M frames have an unknown shape (line …: …)``, or None if none."""
        if not self.unknown:
            return None
        total = self.unknown + len(self.frames)
        examples = "; ".join(self.unknown_examples)
        return f"{self.path}: {self.unknown} of {total} frames have an unknown shape ({examples})"


def _route(protocol: str, text: str, payload: Any) -> tuple[str, str]:
    if protocol == "binance":
        match = _BINANCE_STREAM.match(text)
        return (match.group(1) if match else str(payload.get("stream", "")), "")
    if protocol == "coinbase-advanced":
        return (str(payload.get("channel", "")), "")
    kind = str(payload.get("type", ""))
    return (_COINBASE_CHANNEL_OF_TYPE.get(kind, kind), str(payload.get("product_id", "")))


def _detect(url: str, first_frame: str) -> tuple[str, str]:
    lowered = url.lower()
    if "coinbase" in lowered:
        if "advanced-trade" in lowered or first_frame.startswith('{"channel"'):
            return "coinbase-advanced", "coinbase"
        return "coinbase-exchange", "coinbase"
    if "binance" in lowered or first_frame.startswith('{"stream"'):
        if "binance.us" in lowered:
            return "binance", "binanceus"
        if "fstream" in lowered:
            return "binance", "binance-futures"
        return "binance", "binance"
    if first_frame.startswith('{"channel"'):
        return "coinbase-advanced", "coinbase"
    return "coinbase-exchange", "coinbase"


@dataclass
class _RawFrames:
    """What a file's lines gave: URL, ``(line, time as written, text)``, unreadable lines."""

    url: str = ""
    frames: list[tuple[int, str, str]] = field(default_factory=list)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    lines: int = 0
    error: str | None = None


def _read_lines(path: Path) -> _RawFrames:
    out = _RawFrames()
    name = path.name
    try:
        for line_no, line in iter_lines(path):
            out.lines = line_no
            if not line.strip():
                continue
            if name.endswith(".gz"):
                match = _HFT_LINE.match(line)
                if match:
                    out.frames.append((line_no, match.group(1), match.group(2)))
                else:
                    out.bad_lines.append((line_no, "not '<time> <frame>'"))
            elif name.endswith(".zst"):
                _zst_line(out, line_no, line)
            else:
                match = _CF_LINE.match(line)
                if match:
                    out.frames.append((line_no, match.group(1), match.group(2)))
                elif line.startswith("wss://") or line.startswith("configuration:"):
                    if not out.url and line.startswith("wss://"):
                        out.url = line.split(" ", 1)[0]
                elif not (" <- " in line or " -> " in line):
                    out.bad_lines.append((line_no, "not '<time>: <frame>'"))
    except RecordingError as exc:
        if not out.frames:
            raise
        out.error = str(exc)
    if name.endswith(".gz") and not out.url:
        out.url = "wss://stream.binance.com:9443/stream"
    return out


def _zst_line(out: _RawFrames, line_no: int, line: str) -> None:
    try:
        record = json.loads(line)
    except ValueError:
        out.bad_lines.append((line_no, "not a JSON record"))
        return
    kind = record.get("t") if isinstance(record, dict) else None
    if kind == "recv" and isinstance(record.get("data"), str) and "ts" in record:
        out.frames.append((line_no, str(record["ts"]), record["data"]))
    elif kind == "connect" and not out.url:
        out.url = str(record.get("addr", ""))
    elif kind == "header" and not out.url:
        out.url = str(record.get("exchange", "")).lower()
    elif kind is None or (kind == "recv"):
        out.bad_lines.append((line_no, "not a cryptofeed record with 't' (and 'ts', 'data')"))


def _time_unit(path: Path, raw: _RawFrames, declared: str | None) -> str:
    """The unit of the receive times, checked on every frame."""
    first_line, first_value, _ = raw.frames[0]
    unit = time_unit_of(float(first_value))
    if unit is None:
        raise RecordingError(
            f"{path}: receive time {first_value} is no epoch time in s, ms, us or ns "
            f"(line {first_line})"
        )
    if declared is not None and declared != unit:
        raise RecordingError(
            f"{path}: receive time {first_value} looks like {unit}, not the declared "
            f"--time-unit {declared} (line {first_line})"
        )
    for line_no, value, _ in raw.frames:
        if time_unit_of(float(value)) != unit:
            raise RecordingError(
                f"{path}: receive time {value} is not in {unit} like the first one (line {line_no})"
            )
    return unit


def _to_ns(value: str, unit: str) -> int:
    if "." in value:
        return round(float(value) * NS_PER_UNIT[unit])
    return int(value) * NS_PER_UNIT[unit]


def load_recording(path: str | Path, *, time_unit: str | None = None) -> Recording:
    """Load a recording file (format chosen by its name, protocol by its URL/first frame).

    ``time_unit`` (``s``/``ms``/``us``/``ns``) declares the receive times' unit; by default
    it is judged from their magnitude. Raises :class:`RecordingError` (one line) when the
    file cannot be used; a truncation after intact frames is kept in ``Recording.error``.
    """
    source = Path(path)
    if time_unit is not None and time_unit not in NS_PER_UNIT:
        raise RecordingError(f"time unit must be one of {', '.join(NS_PER_UNIT)}: {time_unit}")
    raw = _read_lines(source)
    if not raw.frames:
        where = f"; line {raw.bad_lines[0][0]}: {raw.bad_lines[0][1]}" if raw.bad_lines else ""
        raise RecordingError(f"{source}: no websocket frames in {raw.lines} lines{where}")
    unit = _time_unit(source, raw, time_unit)
    protocol, exchange = _detect(raw.url, raw.frames[0][2])
    rec = Recording(source, protocol, exchange, raw.url, time_unit=unit, error=raw.error)
    for line_no, why in raw.bad_lines:
        _unknown(rec, line_no, why)
    shape_of = SHAPE_OF[protocol]
    lines_of: dict[str, int] = {}
    for line_no, value, text in raw.frames:
        try:
            payload = json.loads(text)
        except ValueError:
            _unknown(rec, line_no, f"not JSON: {text[:60]}")
            continue
        shape = shape_of(payload)
        if shape == "unknown":
            _unknown(rec, line_no, text[:60])
            continue
        if shape == "control":
            continue
        if shape in ("spot-trade", "perpetual-trade"):
            lines_of.setdefault(shape, line_no)
        rec.frames.append(
            Frame(_to_ns(value, unit), text, *_route(protocol, text, payload), line_no)
        )
    if not rec.frames and raw.error:
        raise RecordingError(raw.error)
    if not rec.frames:
        raise RecordingError(
            f"{source}: none of its {rec.unknown} frames has a known {protocol} shape "
            f"({'; '.join(rec.unknown_examples)})"
        )
    if protocol == "binance":
        _binance_instrument(rec, lines_of)
    return rec


def _unknown(rec: Recording, line_no: int, why: str) -> None:
    rec.unknown += 1
    if len(rec.unknown_examples) < EXAMPLES:
        rec.unknown_examples.append(f"line {line_no}: {why}")


def _binance_instrument(rec: Recording, lines_of: dict[str, int]) -> None:
    """Spot or USD-M from the trade frames (``M`` present or not); the URL when none."""
    spot, perp = lines_of.get("spot-trade"), lines_of.get("perpetual-trade")
    if spot and perp:
        raise RecordingError(
            f'{rec.path}: mixes spot trade frames (with "M", line {spot}) and USD-M futures '
            f'trade frames (without "M", line {perp}); split it into one file per market'
        )
    if perp:
        rec.instrument, rec.exchange, rec.instrument_line = "perpetual", "binance-futures", perp
    elif spot:
        rec.instrument, rec.instrument_line = "spot", spot
        if rec.exchange == "binance-futures":
            rec.exchange = BINANCE_VENUE["spot"]
    else:
        rec.instrument = instrument_for(rec.exchange)


def apply_exchange(rec: Recording, exchange: str) -> None:
    """Replay ``rec`` as ``exchange`` (``--exchanges`` with ``--replay``), or raise
    :class:`RecordingError` when that name cannot apply to it: another protocol, or an
    instrument its trade frames contradict."""
    allowed = {
        "binance": ("binance", "binance-futures", "binanceus"),
        "coinbase-exchange": ("coinbase",),
        "coinbase-advanced": ("coinbase", "coinbase-advanced"),
    }[rec.protocol]
    if exchange not in allowed:
        raise RecordingError(
            f"{rec.path}: --exchanges {exchange} cannot apply to a {rec.protocol} recording "
            f"(use {' or '.join(allowed)})"
        )
    if rec.protocol != "binance":
        return
    wanted = instrument_for(exchange)
    if rec.instrument_line and wanted != rec.instrument:
        shape = 'carry "M"' if rec.instrument == "spot" else 'lack "M"'
        raise RecordingError(
            f"{rec.path}: --exchanges {exchange} ({wanted}) cannot apply: its trade frames "
            f"{shape}, so they are {rec.instrument} (line {rec.instrument_line})"
        )
    rec.exchange, rec.instrument = exchange, wanted
