"""The as-of lookup's SQL, run by Spark, against a plain Python oracle.

The lookup puts each row into the looked-up trades' sequence at its lookup time and takes
the last trade before it, kept when inside ``within``. This checks the edges: trades at
the lookup time itself, exactly ``within`` before it (left out), ties broken by the larger
id, times around 10-minute boundaries and before 1970, rows with no trade in range, and
rows or trades without a match key. Consecutive lookups on the same keys share one stage,
gathered back into one row per alert; a lookup that reads another's value gets its own."""

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

FIXTURES = Path(__file__).resolve().parents[1] / "compiler/passes/fixtures/lookup"
FIXTURE = FIXTURES / "as-of-price.yaml"
WITHIN = timedelta(minutes=10)  # the fixture's


def _last(
    trades: list[dict[str, Any]],
    symbol: str | None,
    at: datetime,
    within: timedelta,
    value: str = "price",
) -> float | None:
    """The ``value`` of the last trade of ``symbol`` in (at - within, at], of two at the
    same time the one with the larger event_id; None when there is none."""
    inside = [
        t
        for t in trades
        if symbol is not None and t["symbol"] == symbol and at - within < t["timestamp"] <= at
    ]
    best = max(inside, key=lambda t: (t["timestamp"], t["event_id"]), default=None)
    return None if best is None else best[value]


def _oracle(alerts: list[dict[str, Any]], trades: list[dict[str, Any]]) -> dict[str, float | None]:
    """Per alert: the price of the last trade of its symbol at or before the alert."""
    return {a["alert_id"]: _last(trades, a["symbol"], a["detected_at"], WITHIN) for a in alerts}


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


def _data(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Trades and alerts around 10-minute edges, with a tie in time, an alert at a trade's
    time and one exactly ``within`` after it, and an alert and a trade without a symbol."""
    times = _times(rng, 60)
    symbols = ["BTC-USDT", "ETH-USDT"]
    trades = [
        {
            "event_id": f"t{i:04d}",
            "symbol": rng.choice(symbols),
            "price": float(i),
            "quantity": float(1000 + i),
            "timestamp": t,
        }
        for i, t in enumerate(times)
    ]
    # ties: the same time twice, the larger id must win
    trades.append({**trades[0], "event_id": "t9999", "price": -1.0, "quantity": -2.0})
    trades.append({**trades[1], "event_id": "t-no-symbol", "symbol": None, "price": -9.0})
    # the only SOL trades: 30 s before an hour (the stage's span edge), after 1970 and before
    for i, hour in enumerate(
        (datetime(2026, 1, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC))
    ):
        t = hour - timedelta(seconds=30)
        trades.append(
            {
                "event_id": f"t-sol-{i}",
                "symbol": "SOL-USDT",
                "price": 7.0 + i,
                "quantity": 1.0,
                "timestamp": t,
            }
        )
    alerts = [
        {"alert_id": f"a{i:04d}", "symbol": rng.choice(symbols), "detected_at": t}
        for i, t in enumerate(_times(rng, 40))
    ]
    at_first = trades[0]["timestamp"]
    alerts += [
        {"alert_id": "a-equal", "symbol": trades[0]["symbol"], "detected_at": at_first},
        {"alert_id": "a-within", "symbol": trades[0]["symbol"], "detected_at": at_first + WITHIN},
        {"alert_id": "a-no-symbol", "symbol": None, "detected_at": trades[1]["timestamp"]},
        # just after the hour: the trade 40 s before is in the span before
        {
            "alert_id": "a-span-0",
            "symbol": "SOL-USDT",
            "detected_at": datetime(2026, 1, 1, 1, 0, 10, tzinfo=UTC),
        },
        {
            "alert_id": "a-span-1",
            "symbol": "SOL-USDT",
            "detected_at": datetime(1970, 1, 1, 0, 0, 10, tzinfo=UTC),
        },
    ]
    return trades, alerts


def _register(spark: Any, trades: list[dict[str, Any]], alerts: list[dict[str, Any]]) -> None:
    """``trades`` and the alerts (as ``fixture__input``) as Spark views."""
    spark.createDataFrame(
        [(t["event_id"], t["symbol"], t["price"], t["quantity"], t["timestamp"]) for t in trades],
        "event_id string, symbol string, price double, quantity double, timestamp timestamp",
    ).createOrReplaceTempView("trades")
    spark.createDataFrame(
        [
            (a["alert_id"], "t", "MOD-002", a["symbol"], None, "low", a["detected_at"], "", 0, "{}")
            for a in alerts
        ],
        "alert_id string, alert_type string, module_id string, symbol string, exchange "
        "string, severity string, detected_at timestamp, message string, ttl_epoch bigint, "
        "details string",
    ).createOrReplaceTempView("fixture__input")


def test_lookup_matches_the_oracle(spark: Any) -> None:
    case = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    stage = run_pass("lookup", case, FIXTURE.parent).stages[0]
    trades, alerts = _data(random.Random(11))
    expected = _oracle(alerts, trades)
    assert expected["a-equal"] == -1.0  # the tie went to the larger id
    assert expected["a-no-symbol"] is None  # though a trade without a symbol is before it
    assert (expected["a-span-0"], expected["a-span-1"]) == (7.0, 8.0)  # across a span's edge
    assert sum(v is None for v in expected.values()) >= 5
    assert sum(v is not None for v in expected.values()) >= 20

    _register(spark, trades, alerts)
    got = {r["alert_id"]: r["price_at_alert"] for r in spark.sql(stage.sql).collect()}
    assert got == expected


def test_grouped_lookups_match_the_oracle(spark: Any) -> None:
    path = FIXTURES / "grouped-lookups.yaml"
    stages = run_pass("lookup", yaml.safe_load(path.read_text(encoding="utf-8")), FIXTURES).stages
    assert len(stages) == 2  # two lookups in one stage, the one reading them in another
    trades, alerts = _data(random.Random(12))
    minute = timedelta(minutes=1)
    expected = {}
    for a in alerts:
        price = _last(trades, a["symbol"], a["detected_at"], WITHIN)
        again_at = a["detected_at"] + (minute if price is not None else timedelta(0))
        expected[a["alert_id"]] = (
            price,
            _last(trades, a["symbol"], a["detected_at"] + 60 * minute, minute, "quantity"),
            _last(trades, a["symbol"], again_at, WITHIN),
        )
    assert sum(q is not None for _, q, _ in expected.values()) >= 5
    assert sum(p != again for p, _, again in expected.values()) >= 10

    _register(spark, trades, alerts)
    spark.sql(stages[0].sql).createOrReplaceTempView(stages[0].view)
    rows = spark.sql(stages[1].sql).collect()
    assert len(rows) == len(alerts)  # gathered back: one row per alert
    got = {r["alert_id"]: (r["price_at_alert"], r["quantity_1h"], r["price_again"]) for r in rows}
    assert got == expected
