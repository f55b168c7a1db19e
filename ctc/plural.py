"""Counts in words: "1 detector", "2 detectors", "1,234 trades"."""

from __future__ import annotations


def plural(n: int, noun: str, nouns: str | None = None, *, grouped: bool = False) -> str:
    """``n`` and ``noun``, or ``nouns`` (default ``noun + "s"``) unless ``n`` is 1;
    ``grouped``: with thousands separators."""
    number = f"{n:,}" if grouped else str(n)
    return f"{number} {noun if n == 1 else (nouns or noun + 's')}"
