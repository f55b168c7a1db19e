"""UTC timestamp helpers: every emitted time is ISO 8601 UTC with a trailing ``Z``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

_ISO_RE = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?(?P<tz>Z|[+-]00:?00)?$"
)


def iso_from_epoch_ms(epoch_ms: int) -> str:
    """Format integer milliseconds since the epoch as ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    seconds, millis = divmod(int(epoch_ms), 1000)
    base = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{millis:03d}Z"


def iso_from_datetime(moment: datetime) -> str:
    """Format an aware (or naive UTC) datetime as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def utc_now_iso() -> str:
    """The current UTC time with microseconds, as emitted in ``ingestion_timestamp``."""
    return iso_from_datetime(datetime.now(UTC))


def normalise_iso(text: str) -> str:
    """Rewrite an exchange ISO time (any fraction length, ``Z`` or +00:00) to microseconds + Z.

    Fractions longer than 6 digits (nanoseconds) are truncated, shorter ones are padded,
    so ``2026-08-09T21:06:12.15207Z`` becomes ``2026-08-09T21:06:12.152070Z``.
    """
    match = _ISO_RE.match(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 UTC time: {text!r}")
    frac = (match.group("frac") or "")[:6].ljust(6, "0")
    return f"{match.group('base').replace(' ', 'T')}.{frac}Z"


def epoch_ms_from_iso(text: str) -> int:
    """Parse an ISO 8601 UTC time (as accepted by :func:`normalise_iso`) to epoch milliseconds."""
    norm = normalise_iso(text)
    moment = datetime.strptime(norm, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return _to_ms(moment)


def _to_ms(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def parse_time_arg(text: str) -> int:
    """Parse a CLI time (epoch ms integer, or ISO date/datetime, UTC if no zone) to epoch ms."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _to_ms(moment.astimezone(UTC))


#: Nanoseconds in one unit of an epoch time, by unit name (``--time-unit``).
NS_PER_UNIT: Final = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}

#: The smallest epoch time of each unit that :func:`time_unit_of` accepts (1973-03-03 in
#: every unit); each unit's range ends where the next begins.
_UNIT_FLOOR: Final = (("ns", 1e17), ("us", 1e14), ("ms", 1e11), ("s", 1e8))


def time_unit_of(value: float) -> str | None:
    """The unit of an epoch time judged by its magnitude (``1723161254`` → ``s``,
    ``1723161254087896`` → ``us``), or None when it is no epoch time after 1973 in any
    unit (or one past the year 5138 in seconds)."""
    for unit, floor in _UNIT_FLOOR:
        if value >= floor:
            return unit if value < floor * 1000 else None
    return None
