"""Jittered exponential backoff for reconnects ("full jitter": uniform in [0, cap])."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delay before reconnect attempt ``n``: ``uniform(min_delay, min(max_delay, base·2ⁿ))``."""

    base: float = 0.5
    max_delay: float = 30.0
    min_delay: float = 0.05
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (0 = first retry)."""
        cap = min(self.max_delay, self.base * (2 ** min(attempt, 30)))
        return self.rng.uniform(min(self.min_delay, cap), cap)
