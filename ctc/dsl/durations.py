"""Durations as written in specs: '30 seconds', '5 minutes', '1 hour', '30 days'."""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_PATTERN = re.compile(r"^([1-9][0-9]*) (second|minute|hour|day)s?$")


@dataclass(frozen=True, order=True)
class Duration:
    """A whole number of seconds, kept with the unit it was written in."""

    seconds: int
    text: str

    @property
    def spark(self) -> str:
        """The duration as Spark writes an interval string, e.g. '60 seconds'."""
        return f"{self.seconds} seconds"


def parse_duration(text: str) -> Duration:
    """Parse '60 seconds' or '1 hour'; raise ValueError on anything else."""
    m = _PATTERN.fullmatch(text.strip())
    if not m:
        raise ValueError(
            f"not a duration: {text!r} (write e.g. '30 seconds', '5 minutes', '1 hour')"
        )
    return Duration(int(m.group(1)) * _UNITS[m.group(2)], text.strip())
