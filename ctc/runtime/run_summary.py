"""What `ctc run` says before and after the run: whether the landing folder can be read,
the run's totals, which detectors cannot fire on what was read and why, and the verdict
on the input (:mod:`ctc.runtime.input_verdict`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ctc.runtime.input_verdict import Verdict, judge_input
from ctc.runtime.silence import silent_detectors

if TYPE_CHECKING:
    from ctc.runtime.stream import StreamRunner


def check_landing(landing: Path, until_idle: bool) -> str | None:
    """Raise ``OSError`` when a bounded run's landing folder is missing (or not a folder);
    return a note when it holds no ``*.jsonl`` file, else None. A long-running query
    waits for files, so it makes a missing folder instead."""
    if not landing.exists():
        if until_idle:
            raise OSError(
                f"landing folder {landing} does not exist: nothing to run over "
                "(ctc ingest --sink landing:DIR writes one)"
            )
        return f"landing folder {landing} does not exist yet: made it; waiting for files"
    if not landing.is_dir():
        raise OSError(f"landing folder {landing} is not a folder")
    if not any(landing.glob("*.jsonl")):
        return f"landing folder {landing} has no *.jsonl files" + (
            ": nothing to process" if until_idle else " yet; waiting for files"
        )
    return None


def summary_lines(runner: StreamRunner) -> list[str]:
    """The run's totals, and each detector without alerts that cannot fire on the trades
    it read, with the reason."""
    totals = runner.totals
    per_module = ", ".join(f"{k} {v}" for k, v in sorted(totals.by_module.items()))
    lines = [
        f"{totals.batches} micro-batches: {totals.processed} records, {totals.passed} "
        f"passed, {totals.failed} dead letters, {totals.duplicates} duplicates; "
        f"{totals.alerts} alerts" + (f" ({per_module})" if per_module else "")
    ]
    if not totals.processed:
        return lines
    silent = silent_detectors(runner.plans, totals.by_module, runner.coverage)
    if silent:
        lines.append("cannot fire on the trades read:")
        lines += [f"  {who}: {why}" for who, why in silent]
    return lines


def input_verdict(runner: StreamRunner, what: str) -> Verdict:
    """The verdict on the records this run read (see :func:`judge_input`)."""
    t = runner.totals
    if not t.processed:
        return Verdict("ok")  # an empty folder is said before the run; none new is no fault
    return judge_input(what, t.processed, t.passed, t.failed, t.failed_by_rule)
