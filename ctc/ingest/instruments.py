"""Which instrument a venue trades: the one mapping from exchange name to instrument type.

The exchange name says where a trade happened (and keeps event ids of venues with their
own id spaces apart); the instrument says what was traded. See
docs/adr/0014-instrument-type-on-the-trade-event.md.
"""

from __future__ import annotations

from typing import Final

from ctc.events import INSTRUMENTS

#: Exchange names whose trades are not spot, with their instrument type.
_DERIVATIVE_VENUES: Final = {"binance-futures": "perpetual"}

#: The Binance venue of each instrument type (what a Binance recording replays as).
BINANCE_VENUE: Final = {"spot": "binance", "perpetual": "binance-futures"}


def instrument_for(exchange: str) -> str:
    """The instrument type of ``exchange``'s trades: ``perpetual`` for Binance USD-M, else
    ``spot``."""
    instrument = _DERIVATIVE_VENUES.get(exchange, "spot")
    assert instrument in INSTRUMENTS
    return instrument
