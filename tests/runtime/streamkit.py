"""Helpers for streaming tests: run `ctc run --until-idle` in-process, read the results."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ctc import __version__
from ctc.compiler import compile_paths
from ctc.dsl.canonical import spec_version
from ctc.dsl.load import load_spec
from ctc.runtime.stream import RunOptions, StreamRunner

ROOT = Path(__file__).resolve().parents[2]
DETECTORS = ROOT / "detectors"
SMALL = [DETECTORS / n for n in ("volume-anomaly.yaml", "whale.yaml", "spread-calculator.yaml")]


def options(
    work: Path, quality: Path | None = None, lake: bool = True, max_files: int | None = 1
) -> RunOptions:
    """Run options with everything under ``work``."""
    return RunOptions(
        landing=work / "landing",
        checkpoint=work / "checkpoint",
        store_url=f"sqlite:///{work / 'alerts.db'}",
        lake=str(work / "lake") if lake else None,
        quality=quality or DETECTORS / "quality.yaml",
        status_path=work / "status.json",
        until_idle=True,
        max_files_per_trigger=max_files,
    )


def run_stream(spark: Any, specs: list[Path], opts: RunOptions) -> StreamRunner:
    """Run the specs over opts.landing until idle, in this process."""
    plans = compile_paths(specs, with_dependencies=True)
    runner = StreamRunner(spark, plans, opts)
    runner.run()
    return runner


def store_alerts(db: Path) -> dict[str, dict[str, Any]]:
    """Every alert in a SQLite hot store, by alert_id."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        rows = con.execute("SELECT * FROM alerts").fetchall()
    finally:
        con.close()
    out = {}
    for r in rows:
        d = dict(r)
        d["details"] = (
            json.loads(d["details"]) if isinstance(d.get("details"), str) else d.get("details")
        )
        out[d["alert_id"]] = d
    return out


def assert_provenance(alerts: Iterable[dict[str, Any]], specs: list[Path]) -> None:
    """Every alert carries the version of its module's spec (from the spec file, loaded
    again here) and this ctc's version."""
    want = {s.module: spec_version(s) for s in map(load_spec, specs)}
    seen = 0
    for a in alerts:
        assert (a["spec_version"], a["ctc_version"]) == (want[a["module_id"]], __version__), a
        seen += 1
    assert seen > 0
