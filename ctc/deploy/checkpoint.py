"""Whether the new detectors may resume from the running stream's checkpoint.

The rule is the review's (ctc.review.changes, docs/adr/0011): a **breaking** change reaches
a plan's kept state (window, watermark, source, or a stage up to the last stateful one), so
the state in the checkpoint no longer means what the new plan expects; it needs a fresh
checkpoint (a new generation) and, to have full state at once, a re-run of its horizon.
Non-breaking and cosmetic changes, and added or removed detectors, keep the checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctc.plural import plural
from ctc.review.changes import compare_versions
from ctc.review.versions import open_version
from ctc.tiers import tier_specs


@dataclass(frozen=True)
class CheckpointChoice:
    """The checkpoint generation to run with, and why."""

    generation: int
    reason: str
    #: one line per breaking change (empty when the checkpoint is kept or new anyway)
    breaking: tuple[str, ...] = ()


def breaking_changes(old: Path, new: Path, tier: str) -> list[str]:
    """One line per detector of ``tier`` whose change from the ``old`` detectors folder to
    the ``new`` one is breaking, with the reasons and what to re-run."""
    with (
        open_version(None, tier_specs(old, tier)) as before,
        open_version(None, tier_specs(new, tier)) as after,
    ):
        changes = compare_versions(before, after)
    return [
        f"{c.module} {c.name}: {'; '.join(c.reasons)}"
        + (f" (re-run: {c.rerun})" if c.rerun else "")
        for c in changes
        if c.classification == "breaking"
    ]


def choose_checkpoint(
    deployed: Mapping[str, Any] | None,
    old_detectors: Path | None,
    new_detectors: Path,
    tier: str,
    new_checkpoint: bool,
) -> CheckpointChoice:
    """Keep the deployed generation when every change is compatible; start a new one on
    request or on a first deployment; refuse (ValueError) a breaking change without
    ``new_checkpoint``."""
    if deployed is None:
        return CheckpointChoice(1, "first deployment: a new checkpoint")
    generation = int(deployed.get("generation", 1))
    if new_checkpoint:
        return CheckpointChoice(generation + 1, "--new-checkpoint: the stream's state restarts")
    if deployed.get("tier") != tier:
        raise ValueError(
            f"the deployed stream runs tier {deployed.get('tier')!r}, this deploy {tier!r}: its "
            "state cannot carry over; deploy again with --new-checkpoint"
        )
    if old_detectors is None:
        raise ValueError(
            "the deployed job's detectors could not be read, so the change cannot be "
            "classified; deploy again with --new-checkpoint to start a fresh state"
        )
    breaking = breaking_changes(old_detectors, new_detectors, tier)
    if breaking:
        raise ValueError(
            f"{plural(len(breaking), 'breaking change')} to the running "
            f"stream's state: {' | '.join(breaking)}; deploy again with --new-checkpoint "
            "(state restarts empty)"
        )
    return CheckpointChoice(
        generation,
        f"compatible with the deployed version {deployed.get('version')}: same checkpoint",
    )
