"""Publish JSON-lines trade files into a landing folder the way producers must:
atomically (a hidden temporary name, then a rename), one file per slice of event time."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path


def _chunks(source: Path, seconds: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    current: int | None = None
    with source.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                ts = json.loads(line).get("timestamp", "")
                key = int(_epoch(ts) // seconds) if ts else current
            except (ValueError, AttributeError):
                key = current  # a broken line travels with its neighbours
            if current is not None and key is not None and key != current and chunk:
                yield chunk
                chunk = []
            current = key if key is not None else current
            chunk.append(line if line.endswith("\n") else line + "\n")
    if chunk:
        yield chunk


def _epoch(ts: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def publish_file(
    source: Path, landing: Path, seconds_per_file: int = 600, prefix: str = "trades"
) -> list[Path]:
    """Split ``source`` (JSON lines in event-time order) into files of ``seconds_per_file``
    of event time in ``landing``, each written atomically; return the published paths.

    Modification times increase with the files' order, so Spark's file source reads
    them in event-time order.
    """
    landing.mkdir(parents=True, exist_ok=True)
    existing = len(list(landing.glob(f"{prefix}-*.jsonl")))
    published: list[Path] = []
    t0 = time.time()
    for i, lines in enumerate(_chunks(source, seconds_per_file)):
        name = f"{prefix}-{existing + i:06d}.jsonl"
        tmp = landing / f".{name}.tmp"
        with tmp.open("w", encoding="utf-8") as fh:
            fh.writelines(lines)
            fh.flush()
            os.fsync(fh.fileno())
        final = landing / name
        tmp.rename(final)
        mtime = t0 + i * 0.01  # strictly increasing, never in the future
        os.utime(final, (mtime, mtime))
        published.append(final)
    return published


#: Files are counted line by line for an ETA only up to this many bytes in all.
COUNT_LINES_UP_TO = 1 << 30


def count_lines(paths: list[Path], up_to: int = COUNT_LINES_UP_TO) -> int | None:
    """The non-empty lines of ``paths`` (JSON-lines files), or None when they hold more
    than ``up_to`` bytes (too long to count just for a progress line)."""
    if sum(p.stat().st_size for p in paths) > up_to:
        return None
    lines = 0
    for path in paths:
        with path.open("rb") as fh:
            lines += sum(1 for line in fh if line.strip())
    return lines
