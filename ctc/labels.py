"""Human labels made from machine names, the one place for them: alert types, chart series
and exchanges that a spec does not label itself.

A label is the name's words: ``volume_spike`` → "Volume spike". Words that are
abbreviations keep their capitals (``large_dex_swap`` → "Large DEX swap"). A spec gives
a better one where the words do not (``alerts[].label``, ``publish.series.<name>.label``).

Imports nothing beyond the standard library: the compiler (default labels in a plan) and
the API (labels of alert types no published detector names, in the Lambda too) share it.
"""

from __future__ import annotations

import re

#: Words written in capitals inside a label.
ABBREVIATIONS: dict[str, str] = {
    "dex": "DEX",
    "usd": "USD",
    "vwap": "VWAP",
    "ohlc": "OHLC",
    "tvl": "TVL",
}

_SEPARATORS = re.compile(r"[_.:\-\s]+")


def label_of(name: str) -> str:
    """The human label of a machine ``name``: its words joined by spaces, first letter
    capital, abbreviations in capitals; ``name`` itself when it has no words."""
    words = [w.lower() for w in _SEPARATORS.split(name) if w]
    if not words:
        return name
    words = [ABBREVIATIONS.get(w, w) for w in words]
    return words[0][:1].upper() + words[0][1:] + "".join(f" {w}" for w in words[1:])
