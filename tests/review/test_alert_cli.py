"""`ctc alert ALERT_ID`: the alert, the spec version that raised it (in the working tree or
in the spec file's git history), its window and key, the stage SQL, and with --input the
window's input rows from a back-test of that window only, counted independently here."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ctc import __version__
from ctc.cli import main
from ctc.dsl.canonical import spec_version
from ctc.dsl.load import load_spec
from ctc.sinks.stores.sqlite_store import SqliteAlertStore

ROOT = Path(__file__).resolve().parents[2]
DETECTORS = ROOT / "detectors"
SPECS = ("volume-anomaly.yaml", "whale.yaml")


def _run(args: list[str]) -> Any:
    return CliRunner().invoke(main, ["alert", *args], catch_exceptions=False)


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    return done.stdout.decode().strip()


def _folder(where: Path) -> Path:
    folder = where / "detectors"
    folder.mkdir(parents=True)
    for name in (*SPECS, "quality.yaml"):
        shutil.copy(DETECTORS / name, folder / name)
    return folder


def _whale(n: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "alert_id": f"w{n}",
        "alert_type": "whale_trade",
        "module_id": "MOD-002",
        "symbol": "BTC-USDT",
        "exchange": "binance",
        "severity": "medium",
        "detected_at": "2026-01-01T00:10:00.250000Z",
        "message": "Whale buy",
        "details": json.dumps({"event_id": "e-42", "quote_volume": 150000.0}),
        **extra,
    }


def _store(path: Path, alerts: list[dict[str, Any]]) -> str:
    store = SqliteAlertStore(path)
    store.put_alerts(alerts)
    store.close()
    return f"sqlite:///{path}"


def test_an_alert_of_an_older_spec_version_is_traced_to_its_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path)
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "detectors")
    commit = _git(tmp_path, "rev-parse", "HEAD")
    raised_by = spec_version(load_spec(folder / "whale.yaml"))
    spec = folder / "whale.yaml"
    spec.write_text(
        spec.read_text().replace("whale_usd: 100000", "whale_usd: 250000"), encoding="utf-8"
    )
    now = spec_version(load_spec(spec))
    url = _store(tmp_path / "a.db", [_whale(spec_version=raised_by, ctc_version="0.0.9")])
    monkeypatch.chdir(tmp_path)
    result = _run(["w1", "--store", url])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"spec version: {raised_by}" in out and "ctc version:  0.0.9" in out
    assert f"detectors/whale.yaml is now version {now}" in out
    assert f"as of commit {commit[:12]}" in out
    assert "row at:       2026-01-01T00:10:00.250000Z" in out
    assert "row id:       event_id = e-42" in out
    assert "key:          symbol = BTC-USDT, exchange = binance" in out
    sql = out.split("stage SQL (")[1]
    assert sql.startswith(f"the version that raised it, commit {commit[:12]}")
    assert "ELSE 100000 END" in sql and "250000" not in sql


def test_an_alert_stored_before_provenance_shows_the_working_trees_sql(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    url = _store(tmp_path / "a.db", [_whale()])
    result = _run(["w1", "--store", url, "--detectors", str(folder)])
    assert result.exit_code == 0, result.output
    assert "spec version: not recorded" in result.output
    assert "stage SQL (the working tree's version, NOT the one that raised the alert)" in (
        result.output
    )


def test_an_unknown_alert_or_module_is_one_line_and_status_1(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    url = _store(tmp_path / "a.db", [_whale(module_id="MOD-404")])
    missing = _run(["nope", "--store", url, "--detectors", str(folder)])
    assert missing.exit_code == 1
    assert missing.output.strip() == f"ctc: error: no alert nope in {url}"
    lost = _run(["w1", "--store", url, "--detectors", str(folder)])
    assert lost.exit_code == 1
    assert lost.output.strip().splitlines()[-1] == (
        f"ctc: error: no spec of MOD-404 in {folder}: its window and SQL are unknown"
    )
    assert "Traceback" not in lost.output


@pytest.fixture(scope="module")
def raised(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Simulated trades, the alerts a back-test of volume-anomaly and whale raises over
    them, in a SQLite store."""
    from ctc.compiler import compile_paths
    from ctc.runtime.backtest import run_backtest
    from ctc.simulate import simulate

    work = tmp_path_factory.mktemp("alert")
    trades = work / "trades.jsonl"
    simulate(1.25, trades, seed=5)
    folder = _folder(work)
    alerts = run_backtest(spark, compile_paths([folder / s for s in SPECS]), trades).alerts
    yield {
        "trades": trades,
        "folder": folder,
        "url": _store(work / "alerts.db", alerts),
        "alerts": alerts,
        "cache": work / "cache",
    }


def _trades_of(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for r in rows:
        r["at"] = datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00"))
    return rows


@pytest.mark.spark
@pytest.mark.parametrize("module", ["MOD-001", "MOD-002"])
def test_the_input_rows_of_the_window_recomputed(raised: dict[str, Any], module: str) -> None:
    alert = next(a for a in raised["alerts"] if a["module_id"] == module)
    assert alert["spec_version"] == spec_version(
        load_spec(raised["folder"] / SPECS[module == "MOD-002"])
    )
    assert alert["ctc_version"] == __version__
    result = _run(
        [
            alert["alert_id"],
            "--store", raised["url"],
            "--detectors", str(raised["folder"]),
            "--input", str(raised["trades"]),
            "--cache", str(raised["cache"]),
            "--rows", "1000",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.output
    assert "still has this version" in out
    assert "the alert is raised again, with the same severity and message" in out
    end = alert["detected_at"]
    if module == "MOD-001":  # the trades of the window's minute, symbol and exchange
        start = end - timedelta(seconds=60)
        want = [
            t for t in _trades_of(raised["trades"])
            if start <= t["at"] < end
            and (t["symbol"], t["exchange"]) == (alert["symbol"], alert["exchange"])
        ]  # fmt: skip
        assert len(want) == alert["details"]["trade_count"] > 0
        assert f"[{start:%Y-%m-%dT%H:%M:%S.%fZ}, {end:%Y-%m-%dT%H:%M:%S.%fZ})" in out
    else:  # the whale trade itself
        want = [
            t for t in _trades_of(raised["trades"]) if t["event_id"] == alert["details"]["event_id"]
        ]
        assert len(want) == 1 and want[0]["at"] == end.astimezone(UTC)
    assert f"{len(want)} row{'s' if len(want) != 1 else ''} of " in out
    listed = {t["event_id"] for t in want}
    assert all(e in out for e in listed)


def test_a_per_row_alert_of_a_window_is_placed_in_the_window_that_holds_its_row() -> None:
    """MOD-009's large_dex_swap is one alert per swap (``per: row``), detected at the swap's
    block time 00:10:55.25: its window is the minute [00:10, 00:11) that holds it, its key
    the plan's group_by (recorded in the details), and its row the swap's event id."""
    from ctc.compiler import compile_paths
    from ctc.review.alert_report import window_lines
    from ctc.review.alert_window import window_of

    detectors = Path(__file__).resolve().parents[2] / "detectors"
    plan = compile_paths([detectors / "dex-tracker.yaml"], with_dependencies=True)[0]
    details = {"event_id": "ethereum:0xa4:0", "blockchain": "ethereum", "protocol": "uniswap_v2",
               "token_in": "WETH", "token_out": "USDC"}  # fmt: skip
    alert = {"alert_type": "large_dex_swap", "symbol": "WETH-USDC", "details": json.dumps(details)}
    at = datetime(2026, 1, 1, 0, 10, 55, 250000, tzinfo=UTC)
    w = window_of(plan, alert, at)
    assert (w.start, w.end) == (
        datetime(2026, 1, 1, 0, 10, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 11, tzinfo=UTC),
    )
    assert dict(w.key) == {k: v for k, v in details.items() if k != "event_id"}
    assert w.row_id == ("event_id", "ethereum:0xa4:0") and not w.per_row
    assert "  row id:       event_id = ethereum:0xa4:0" in window_lines(plan, w)
    liquidity = window_of(
        plan, {**alert, "alert_type": "liquidity_change"}, at.replace(second=0, microsecond=0)
    )
    assert liquidity.start == datetime(2026, 1, 1, 0, 9, tzinfo=UTC) and liquidity.row_id is None
