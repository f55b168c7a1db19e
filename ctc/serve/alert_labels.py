"""Human labels of alert types, the one place for them (served by ``GET /api/catalog``).

Alert types are an open set (each detector spec names its own), so a label is derived from
the type's words: ``volume_spike`` → "Volume spike". Words that are abbreviations keep
their capitals (``large_dex_swap`` → "Large DEX swap"); a type whose words give a poor
label gets an entry in ``LABELS``.
"""

from __future__ import annotations

import re

#: Labels that the words of a type do not give well.
LABELS: dict[str, str] = {}

#: Words written in capitals inside a label.
ABBREVIATIONS: dict[str, str] = {
    "dex": "DEX",
    "usd": "USD",
    "vwap": "VWAP",
    "ohlc": "OHLC",
    "tvl": "TVL",
}

_SEPARATORS = re.compile(r"[_.:\-\s]+")


def alert_type_label(alert_type: str) -> str:
    """The human label of ``alert_type``: its entry in ``LABELS``, else its words joined by
    spaces, first letter capital, abbreviations in capitals."""
    known = LABELS.get(alert_type)
    if known:
        return known
    words = [w.lower() for w in _SEPARATORS.split(alert_type) if w]
    if not words:
        return alert_type
    words = [ABBREVIATIONS.get(w, w) for w in words]
    return words[0][:1].upper() + words[0][1:] + "".join(f" {w}" for w in words[1:])
