"""Tiers of detectors: ``detectors/tiers/<tier>.yaml`` lists the specs a tier runs."""

from __future__ import annotations

from pathlib import Path

import yaml

#: The tiers, smallest first.
TIERS = ("small", "medium", "large")


def tier_specs(detectors_dir: Path, tier: str) -> list[Path]:
    """The spec files of a tier, from detectors/tiers/<tier>.yaml."""
    path = detectors_dir / "tiers" / f"{tier}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [detectors_dir / name for name in data.get("detectors", [])]
