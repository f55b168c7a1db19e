"""The three correctness bugs found by the hostile-spec audit (issue 9), run in real Spark.

Each spec here compiled before the fix too, but Spark could not run it (or the compiler
rejected an allow-listed form): these tests run the generated SQL end to end.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from spec_texts import WHALE_WHEN

from ctc.compiler import compile_paths
from ctc.compiler.plan import StageKind
from ctc.runtime.backtest import run_backtest

DETECTORS = Path(__file__).resolve().parents[1] / "detectors"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _trades(path: Path, rows: list[tuple[int, str, float, float]]) -> Path:
    """Write trades (seconds after T0, symbol, price, quantity) as JSON lines."""
    lines = []
    for i, (sec, symbol, price, qty) in enumerate(rows):
        ts = (T0 + timedelta(seconds=sec)).isoformat().replace("+00:00", "Z")
        lines.append(
            json.dumps(
                {
                    "event_id": f"t{i}",
                    "exchange": "binance",
                    "symbol": symbol,
                    "market": symbol.replace("-", ""),
                    "price": price,
                    "quantity": qty,
                    "quote_volume": price * qty,
                    "side": "buy",
                    "timestamp": ts,
                    "ingestion_timestamp": ts,
                }
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _spec(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


WHALES = [
    (10, "BTC-USDT", 60000.0, 1.0),
    (20, "BTC-USDT", 60000.0, 3.0),
    (30, "ETH-USDT", 3000.0, 50.0),
]


@pytest.mark.spark
def test_rows_alerted_with_a_single_column_when_runs(spark: Any, tmp_path: Path) -> None:
    """`WHERE (big)` made Spark read WHERE as a table alias with column list (big)."""
    whale = (DETECTORS / "whale.yaml").read_text(encoding="utf-8")
    spec = whale.replace(
        WHALE_WHEN,
        "    when: big",
    ).replace("\nalerts:", "\nderive:\n  big: quote_volume > params.whale_usd\n\nalerts:")
    assert "when: big" in spec and "rows: alerted" in spec
    plans = compile_paths([_spec(tmp_path, "whale", spec)])
    result = run_backtest(spark, plans, _trades(tmp_path / "t.jsonl", WHALES))
    assert sorted(a["details"]["quote_volume"] for a in result.alerts) == [150000.0, 180000.0]
    rows = spark.table(plans[0].output_view).collect()
    assert sorted(r["quote_volume"] for r in rows) == [150000.0, 180000.0]  # alerted rows only


@pytest.mark.spark
def test_baseline_stat_with_brackets_in_a_string_and_a_comment(spark: Any, tmp_path: Path) -> None:
    """The OVER clause was spliced in by counting brackets in the SQL text."""
    volume = (DETECTORS / "volume-anomaly.yaml").read_text(encoding="utf-8")
    stat = (
        "    odd_windows: >-\n"
        "      count(CASE WHEN symbol = ')(' THEN 1 END) /* ) */ + count(window_volume)\n"
    )
    spec = volume.replace("  stats:\n", "  stats:\n" + stat, 1)
    assert "odd_windows" in spec
    plans = compile_paths([_spec(tmp_path, "volume-anomaly", spec)])
    baseline = next(s for s in plans[0].stages if s.kind is StageKind.BASELINE)
    assert "')('" in baseline.sql and "/*" not in baseline.sql
    trades = [(60 * m + 1, "BTC-USDT", 60000.0, 0.1) for m in range(5)]
    run_backtest(spark, plans, _trades(tmp_path / "t.jsonl", trades))
    rows = spark.table(baseline.view).orderBy("window_start").collect()
    assert [r["odd_windows"] for r in rows] == [0, 1, 2, 3, 4]  # earlier windows, each counted


@pytest.mark.spark
def test_two_argument_date_format_and_to_timestamp(spark: Any, tmp_path: Path) -> None:
    """Both are on the allow-list, but their two-argument forms were rejected."""
    whale = (DETECTORS / "whale.yaml").read_text(encoding="utf-8")
    spec = whale.replace(
        "\nalerts:",
        "\nderive:\n"
        "  day_text: date_format(timestamp, 'yyyy-MM-dd')\n"
        "  day_start: to_timestamp(day_text, 'yyyy-MM-dd')\n\nalerts:",
    ).replace(
        WHALE_WHEN,
        "    when: quote_volume > params.whale_usd AND day_start = TIMESTAMP '2026-01-01 00:00:00'",
    )
    plans = compile_paths([_spec(tmp_path, "whale", spec)])
    result = run_backtest(spark, plans, _trades(tmp_path / "t.jsonl", WHALES))
    assert len(result.alerts) == 2
    rows = spark.table(plans[0].output_view).collect()
    assert {r["day_text"] for r in rows} == {"2026-01-01"}
