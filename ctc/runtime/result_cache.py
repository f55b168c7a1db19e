"""Each detector's back-test alerts, kept beside the gated input they were computed from.

A back-test's alerts depend on nothing but the gated input (the cache entry of
:mod:`ctc.runtime.gated_cache`, named by the input's content, the quality rules and the
gate's code), the plan's compiled SQL and reference data, the plans it reads, and the
code that runs them. So, under the entry, ``results/<fingerprint>.jsonl`` holds one
plan's alert rows, where the fingerprint is a SHA-256 over all of that. A back-test
reads a plan's alerts from there and runs in Spark only the plans with no file (and
the plans those read); when every plan has one, it starts no Spark at all.

A plan that reads ``is_late`` (which depends on the time the back-test runs) is never
kept. Files are written under a temporary name and renamed into place, so a reader sees
a whole file or none.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from ctc.compiler.plan import Plan

_RESULTS: Final = "results"

#: The alert columns a back-test collects of each plan, in this order.
ALERT_COLUMNS: Final = (
    "alert_id",
    "alert_type",
    "module_id",
    "symbol",
    "exchange",
    "severity",
    "detected_us",
    "message",
    "ttl_epoch",
    "details",
)

#: The SELECT list of :data:`ALERT_COLUMNS` over a plan's alerts view.
ALERT_SELECT: Final = ", ".join(
    "UNIX_MICROS(detected_at) AS detected_us" if c == "detected_us" else c for c in ALERT_COLUMNS
)


def _code_fingerprint() -> str:
    """SHA-256 of the code that turns plans and gated trades into alerts, and of Spark's version."""
    import pyspark

    from ctc.runtime import backtest, batch, sources

    h = hashlib.sha256(f"pyspark {pyspark.__version__}; select {ALERT_SELECT}\n".encode())
    for module in (backtest, batch, sources):
        assert module.__file__ is not None
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()


def _reference_digest(plan: Plan, path: str) -> str:
    """SHA-256 of a reference file's content ("missing" when it cannot be read)."""
    try:
        data = (Path(plan.spec_path).parent / path).read_bytes()
    except OSError:
        return "missing"
    return hashlib.sha256(data).hexdigest()


def plan_fingerprints(plans: Sequence[Plan]) -> dict[str, str | None]:
    """Each plan's fingerprint in this run (``plans`` in dependency order); None for a
    plan that must not be kept (it reads ``is_late``, or reads such a plan)."""
    code = _code_fingerprint()
    out: dict[str, str | None] = {}
    for plan in plans:
        if any("is_late" in s.sql for s in plan.stages):
            out[plan.module] = None
            continue
        upstream = sorted({*plan.depends_on, *plan.source_modules})
        ups = [(m, out.get(m, "absent")) for m in upstream]
        if any(fp is None for _, fp in ups):
            out[plan.module] = None
            continue
        content = {
            "code": code,
            "source": [plan.source_kind, plan.source_view, list(plan.source_modules)],
            "stages": [
                [s.kind, s.view, list(s.reads), s.sql, list(s.columns)] for s in plan.stages
            ],
            "references": [
                [name, fmt, list(cols), _reference_digest(plan, path)]
                for name, path, fmt, cols in plan.references
            ],
            "upstream": ups,
        }
        text = json.dumps(content, sort_keys=True, default=list)
        out[plan.module] = hashlib.sha256(text.encode()).hexdigest()[:32]
    return out


def read_results(entry: Path, fingerprint: str) -> list[dict[str, Any]] | None:
    """A plan's kept alert rows, or None when there are none (or they cannot be read)."""
    try:
        text = (entry / _RESULTS / f"{fingerprint}.jsonl").read_text(encoding="utf-8")
        rows = [json.loads(line) for line in text.splitlines() if line]
        return [{c: row[c] for c in ALERT_COLUMNS} for row in rows]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_results(entry: Path, fingerprint: str, rows: Sequence[dict[str, Any]]) -> None:
    """Keep a plan's alert rows (atomically: a reader sees the whole file or none)."""
    folder = entry / _RESULTS
    folder.mkdir(exist_ok=True)
    tmp = folder / f".tmp-{fingerprint}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    os.replace(tmp, folder / f"{fingerprint}.jsonl")


def needed_plans(plans: Sequence[Plan], kept: set[str]) -> list[Plan]:
    """The plans a back-test must run: every plan not in ``kept``, and every plan such a
    plan reads (transitively), in the order of ``plans``."""
    by_module = {p.module: p for p in plans}
    need: set[str] = set()
    todo = [p.module for p in plans if p.module not in kept]
    while todo:
        module = todo.pop()
        if module in need:
            continue
        need.add(module)
        plan = by_module[module]
        todo += [m for m in (*plan.depends_on, *plan.source_modules) if m in by_module]
    return [p for p in plans if p.module in need]
