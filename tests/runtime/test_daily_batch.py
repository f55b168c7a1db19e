"""`ctc run --batch --date D` end to end in real local Spark: the stream (`ctc run --tier
large --until-idle`) fills the lake from landed trades and on-chain events, and raises
MOD-004's wallet scores itself (a streaming detector since ADR 0021); then the daily
batch reads the lake for a day, runs MOD-011 and writes its alerts and rows through the
stream's sink (hot store and lake), once per day however often it runs.

The inputs are the hand-made trades and swaps of the fixtures of MOD-011 and MOD-004
(detectors/fixtures/backtester/daily.yaml, wallet-scorer/history.yaml), and the alerts
expected are those fixtures' hand-derived ones: the stream and the daily batch over the
lake must raise what the back-test over the same events does.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from streamkit import DETECTORS, options, store_alerts

from ctc.cli import main
from ctc.compiler import compile_paths
from ctc.runtime.daily import DailyBatchError, DayBounds, default_day, parse_day, run_daily
from ctc.runtime.fixtures import check_alerts, fixture_chain_event, fixture_trade
from ctc.runtime.stream import StreamRunner
from ctc.tiers import tier_specs

FIXTURES = DETECTORS / "fixtures"
BACKTEST = FIXTURES / "backtester" / "daily.yaml"
WALLETS = FIXTURES / "wallet-scorer" / "history.yaml"


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _land(work: Path) -> None:
    trades = [fixture_trade(e) for f in (BACKTEST, WALLETS) for e in _load(f)["events"]]
    chain = [fixture_chain_event(e) for e in _load(WALLETS)["chain_events"]]
    landing = work / "landing"
    (landing / "_chain").mkdir(parents=True)
    (landing / "trades-1.jsonl").write_text("".join(json.dumps(t) + "\n" for t in trades))
    (landing / "_chain" / "chain-1.jsonl").write_text("".join(json.dumps(c) + "\n" for c in chain))


def _day_alerts(db: Path, module: str) -> list[dict[str, Any]]:
    out = []
    for a in store_alerts(db).values():
        if a["module_id"] == module:
            a["detected_at"] = datetime.fromisoformat(a["detected_at"].replace("Z", "+00:00"))
            out.append(a)
    return out


def test_day_bounds_and_dates() -> None:
    day = DayBounds(date(2026, 1, 30))
    assert day.start == datetime(2026, 1, 30, tzinfo=UTC)
    assert day.horizon == datetime(2026, 2, 1, tzinfo=UTC)
    plans = compile_paths([DETECTORS / "wallet-scorer.yaml"], with_dependencies=True)
    # 30-day window and 30-day baseline before the day's end, and a day of slack
    assert day.history_start(plans) == datetime(2025, 12, 1, tzinfo=UTC)
    assert default_day(datetime(2026, 3, 1, 0, 30, tzinfo=UTC)) == date(2026, 2, 27)
    with pytest.raises(DailyBatchError, match="not a day"):
        parse_day("2026-13-01")


def test_batch_needs_a_lake_and_a_batch_detector(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["run", "--batch", "--date", "2026-01-01", "--lake", "none"])
    assert done.exit_code == 1 and "reads the lake" in done.output
    done = runner.invoke(main, ["run", "--date", "2026-01-01"])
    assert done.exit_code == 2 and "--date goes with --batch" in done.output


@pytest.mark.spark
def test_daily_batch_over_the_streams_lake_is_exact_and_idempotent(
    spark: Any, tmp_path: Path
) -> None:
    _land(tmp_path)
    opts = options(tmp_path, max_files=None)
    plans = compile_paths(tier_specs(DETECTORS, "large"), with_dependencies=True)
    StreamRunner(spark, plans, opts).run()
    db = tmp_path / "alerts.db"
    assert not _day_alerts(db, "MOD-011")  # batch only
    # MOD-004 in the stream: its price 24 h after each swap waited for the trades
    assert check_alerts(_load(WALLETS)["expect"], _day_alerts(db, "MOD-004")) == []

    lake_url = str(tmp_path / "lake")
    first = run_daily(spark, plans, date(2026, 1, 1), opts.store_url, lake_url)
    assert [(p.module, p.alerts) for p in first.plans] == [("MOD-011", 2)]
    assert "onchain_events" not in first.inputs  # no batch detector reads MOD-008 now
    want = _load(BACKTEST)["expect"]
    assert check_alerts(want, _day_alerts(db, "MOD-011")) == []

    last = run_daily(spark, plans, date(2026, 1, 30), opts.store_url, lake_url)
    assert [(p.module, p.alerts) for p in last.plans] == [("MOD-011", 0)]
    assert check_alerts(_load(WALLETS)["expect"], _day_alerts(db, "MOD-004")) == []

    from ctc.sinks.lake.local import LocalLake

    lake = LocalLake(lake_url)

    def counts() -> tuple[int, int, int]:
        alerts = lake.read("anomaly_alerts").to_pylist()
        return (
            sum(a["module_id"] == "MOD-011" for a in alerts),
            sum(a["module_id"] == "MOD-004" for a in alerts),
            lake.read("backtest_results").num_rows,
        )

    # two backtest_results rows (MOD-002, MOD-006 on 2026-01-01); MOD-004's two alerts,
    # written by the stream
    assert counts() == (2, 2, 2)
    stamped = [a for a in lake.read("anomaly_alerts").to_pylist() if a["module_id"] == "MOD-011"]
    assert all(a["spec_version"] for a in stamped)

    # again, through the command: nothing is written twice
    done = CliRunner().invoke(
        main,
        [
            "run",
            "--batch",
            "--date",
            "2026-01-01",
            "--detectors",
            str(DETECTORS),
            "--store",
            opts.store_url,
            "--lake",
            lake_url,
        ],
    )
    assert done.exit_code == 0, done.output
    assert "daily batch for 2026-01-01" in done.output
    assert "MOD-011 backtester: 2 rows, 2 alerts; lake: already written" in done.output
    assert counts() == (2, 2, 2)
    assert len(_day_alerts(db, "MOD-011")) == 2
