"""How a run starts and ends: the warm-up of a long-running query (nothing of it kept or
written), its rows-first levels, and the last batch of a bounded run closing every window."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from streamkit import DETECTORS, options

from ctc.compiler import compile_paths
from ctc.runtime.batch import dependency_order
from ctc.runtime.detect_levels import plan_levels
from ctc.runtime.stream import StreamRunner

pytestmark = pytest.mark.spark


def test_warm_up_writes_nothing(spark: Any, tmp_path: Path) -> None:
    opts = options(tmp_path)
    opts.until_idle = False
    said: list[str] = []
    runner = StreamRunner(
        spark, compile_paths([DETECTORS], with_dependencies=True), opts, say=said.append
    )
    codegen = ("spark.sql.codegen.wholeStage", "spark.sql.codegen.factoryMode")
    for key in codegen:
        spark.conf.unset(key)  # Spark's defaults, as a back-test runs with
    runner.warm_up()
    assert any(m.startswith("warmed up in") for m in said)
    # the micro-batch settings were the warm-up's only: the session has its defaults back
    assert [spark.conf.get(key, None) for key in codegen] == [None, None]
    assert runner.state.latest() is None  # no state version committed
    assert runner._memory is None
    con = sqlite3.connect(tmp_path / "alerts.db")
    try:
        assert con.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 0
        assert con.execute("SELECT COUNT(*) FROM market").fetchone()[0] == 0
    finally:
        con.close()
    assert runner.publisher.lake is not None
    assert runner.publisher.lake.read("raw_trades").num_rows == 0
    # the row types found on the way are kept for the first real batch
    assert ("MOD-002", "alerts") in runner.detectors._schemas


def test_rows_first_levels() -> None:
    """The per-row plans over the stream lead, alone; the dependency order holds."""
    plans = dependency_order([p for p in compile_paths([DETECTORS]) if p.mode == "streaming"])
    one = plan_levels(plans)
    first = plan_levels(plans, early_rows=True)
    assert sorted(p.module for p in first[0]) == sorted(
        p.module for p in one[0] if p.window is None and p.source_kind == "stream"
    )
    assert "MOD-002" in {p.module for p in first[0]}
    assert sorted(p.module for level in first for p in level) == sorted(p.module for p in plans)
    assert len(first) == len(one) + 1
    seen: set[str] = set()
    for level in first:
        for p in level:
            assert all(d in seen for d in p.depends_on if d in {q.module for q in plans})
        seen |= {p.module for p in level}


def test_last_batch_of_a_bounded_run_closes_every_window(spark: Any, tmp_path: Path) -> None:
    """`--until-idle`: the last batch closes every window itself (no flush batch after
    it), and the decision is recorded first, so a replay of that batch decides the same
    even when files have landed since."""
    from streamkit import SMALL, run_stream

    from ctc.runtime.landing import publish_file
    from ctc.simulate import simulate

    trades = tmp_path / "trades.jsonl"
    simulate(0.5, trades, seed=3)
    published = publish_file(trades, tmp_path / "landing", seconds_per_file=600)
    runner = run_stream(spark, SMALL, options(tmp_path, lake=False, max_files=1))
    last = runner.state.latest()
    assert last is not None and runner.totals.batches == len(published) == last + 1
    assert runner.checkpoint.exists(f"state/last-batch-{last:012d}")
    assert runner.state.load(last).flushed
    assert not any(runner.checkpoint.exists(f"state/last-batch-{b:012d}") for b in range(last))
    (tmp_path / "landing" / "late.jsonl").write_text("{}\n")  # lands after the run
    assert runner._pending()["files"] == 1
    assert runner._last_of_bounded_run(last)  # the replay closes the same windows
    assert not runner._last_of_bounded_run(last + 1)  # a file is still unread
