"""Texts of the shipped specs that tests edit, kept in one place: when a spec changes,
the tests that rewrite it fail here first, not with a puzzling replace that did nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Final

DETECTORS: Final = Path(__file__).resolve().parents[1] / "detectors"

#: The whale detector's alert condition, as detectors/whale.yaml writes it.
WHALE_WHEN: Final = """    when: >-
      quote_volume > CASE WHEN instrument = 'perpetual' THEN params.whale_perp_usd
      ELSE params.whale_usd END"""

assert WHALE_WHEN in (DETECTORS / "whale.yaml").read_text(encoding="utf-8"), (
    "detectors/whale.yaml's alert condition changed: update tests/spec_texts.py"
)
