"""The as-of lookup's SQL, run by Spark, against a plain Python oracle.

The lookup joins on a time bucket as long as ``within`` (the row's bucket and the one
before) besides the match key and the time range, so that it is an equi-join. This checks
the edges the buckets add: rows exactly on a bucket's start, at the lookup time itself,
exactly ``within`` before it (left out), ties broken by the larger id, times before 1970
(integer division rounds towards zero there), and rows with no value in range."""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compiler" / "passes"))
from pass_fixture import run_pass

pytestmark = pytest.mark.spark

FIXTURE = Path(__file__).resolve().parents[1] / "compiler/passes/fixtures/lookup/as-of-price.yaml"
WITHIN = timedelta(minutes=10)  # the fixture's


def _oracle(alerts: list[dict[str, Any]], trades: list[dict[str, Any]]) -> dict[str, float | None]:
    """Per alert: the price of the last trade of its symbol in (at - within, at], of two at
    the same time the one with the larger event_id; None when there is none."""
    out: dict[str, float | None] = {}
    for a in alerts:
        at = a["detected_at"]
        inside = [
            t for t in trades if t["symbol"] == a["symbol"] and at - WITHIN < t["timestamp"] <= at
        ]
        best = max(inside, key=lambda t: (t["timestamp"], t["event_id"]), default=None)
        out[a["alert_id"]] = None if best is None else best["price"]
    return out


def _times(rng: random.Random, n: int) -> list[datetime]:
    """Times on and around 10-minute boundaries, after and before 1970."""
    out = []
    for base in (datetime(2026, 1, 1, tzinfo=UTC), datetime(1969, 12, 31, 23, 0, tzinfo=UTC)):
        for _ in range(n):
            edge = base + timedelta(minutes=10 * rng.randrange(0, 9))
            out.append(
                edge
                + timedelta(microseconds=rng.choice([0, 1, -1, 0, 0]))
                + timedelta(seconds=rng.choice([0, 0, 30, 599, 600, 601, 1200]))
            )
    return out


def test_bucketed_lookup_matches_the_oracle(spark: Any) -> None:
    case = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    stage = run_pass("lookup", case, FIXTURE.parent).stages[0]
    rng = random.Random(11)
    times = _times(rng, 60)
    symbols = ["BTC-USDT", "ETH-USDT"]
    trades = [
        {
            "event_id": f"t{i:04d}",
            "symbol": rng.choice(symbols),
            "price": float(i),
            "timestamp": t,
        }
        for i, t in enumerate(times)
    ]
    # ties: the same time twice, the larger id must win
    trades.append({**trades[0], "event_id": "t9999", "price": -1.0})
    alerts = [
        {"alert_id": f"a{i:04d}", "symbol": rng.choice(symbols), "detected_at": t}
        for i, t in enumerate(_times(rng, 40))
    ]
    alerts.append(
        {
            "alert_id": "a-equal",
            "symbol": trades[0]["symbol"],
            "detected_at": trades[0]["timestamp"],
        }
    )
    alerts.append(
        {
            "alert_id": "a-within",
            "symbol": trades[0]["symbol"],
            "detected_at": trades[0]["timestamp"] + WITHIN,
        }
    )
    expected = _oracle(alerts, trades)
    assert expected["a-equal"] == -1.0  # the tie went to the larger id
    assert sum(v is None for v in expected.values()) >= 5
    assert sum(v is not None for v in expected.values()) >= 20

    spark.createDataFrame(  # type: ignore[attr-defined]
        [(t["event_id"], t["symbol"], t["price"], t["timestamp"]) for t in trades],
        "event_id string, symbol string, price double, timestamp timestamp",
    ).createOrReplaceTempView("trades")
    spark.createDataFrame(  # type: ignore[attr-defined]
        [
            (a["alert_id"], "t", "MOD-002", a["symbol"], None, "low", a["detected_at"], "", 0, "{}")
            for a in alerts
        ],
        "alert_id string, alert_type string, module_id string, symbol string, exchange "
        "string, severity string, detected_at timestamp, message string, ttl_epoch bigint, "
        "details string",
    ).createOrReplaceTempView("fixture__input")
    got = {r["alert_id"]: r["price_at_alert"] for r in spark.sql(stage.sql).collect()}  # type: ignore[attr-defined]
    assert got == expected
