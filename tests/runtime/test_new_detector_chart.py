"""A new detector with a chart is one YAML file: added to a copy of detectors/, run by
`ctc run --until-idle`, its series and its alert type, in words, are in the API (the WSGI
app of `ctc serve`), with nothing edited in Python or in the dashboard."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from streamkit import DETECTORS

from ctc.cli import main
from ctc.serve.server import wsgi_app
from ctc.serve.site import Site
from ctc.sinks.stores.sqlite_store import SqliteAlertStore

pytestmark = pytest.mark.spark

#: A detector none of ctc's code knows: trades per symbol and minute, a chart of them,
#: and an alert for a busy minute.
TRADE_RATE = """\
module: MOD-090
name: trade-rate
title: Trade rate
description: Trades per symbol in 60-second windows; a busy minute raises an alert.
tier: small

params:
  busy_trades: 10

source:
  stream: trades

window:
  size: 60 seconds
  watermark: 30 seconds

group_by: [symbol]

aggregate:
  trades: count(*)
  buy_share: avg(CASE WHEN side = 'buy' THEN 1.0 ELSE 0.0 END)

alerts:
  - type: busy_minute
    label: Busy minute
    when: trades >= params.busy_trades
    severity:
      - level: low
    message: "{{ symbol }} traded {{ trades }} times in the minute from {{ window_start }}"
    details: [window_start, trades, buy_share]

output:
  table: trade_rates
  partition_by: [day(window_start), symbol]

publish:
  series:
    trade_rate:
      label: Trades per minute
      unit: trades
      value: trades
      details: [buy_share]
      guides: [params.busy_trades]
      metric: trades_last_minute
"""


def _trade(n: int, second: int, side: str) -> dict[str, Any]:
    minute, sec = divmod(second, 60)
    at = f"2026-01-01T00:{minute:02d}:{sec:02d}Z"
    return {
        "event_id": f"t{n}",
        "exchange": "binance",
        "symbol": "BTC-USDT",
        "market": "BTCUSDT",
        "price": 60000.0,
        "quantity": 0.01,
        "quote_volume": 600.0,
        "side": side,
        "timestamp": at,
        "ingestion_timestamp": at,
    }


@pytest.fixture
def api(spark: Any, tmp_path: Path) -> Iterator[Any]:
    """`ctc run --until-idle` of the new spec alone over 12 trades in minute 0 (9 buys),
    2 in minute 1 and 1 in minute 3; yields a GET of the WSGI app over its store."""
    detectors = tmp_path / "detectors"
    shutil.copytree(DETECTORS, detectors)
    spec = detectors / "trade-rate.yaml"
    spec.write_text(TRADE_RATE, encoding="utf-8")
    landing = tmp_path / "landing"
    landing.mkdir()
    seconds = [*range(1, 13), 65, 70, 185]
    sides = ["buy"] * 9 + ["sell"] * 3 + ["buy", "sell", "buy"]
    pairs = enumerate(zip(seconds, sides, strict=True))
    lines = [json.dumps(_trade(n, s, side)) for n, (s, side) in pairs]
    (landing / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "alerts.db"
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(spec),
            "--detectors",
            str(detectors),
            "--landing",
            str(landing),
            "--checkpoint",
            str(tmp_path / "ckpt"),
            "--store",
            f"sqlite:///{db}",
            "--lake",
            "none",
            "--status",
            str(tmp_path / "status.json"),
            "--until-idle",
        ],
    )
    assert result.exit_code == 0, result.output
    store = SqliteAlertStore(db)
    app = wsgi_app(Site(store, static_dir=None))

    def get(path: str) -> Any:
        status: list[str] = []
        body = b"".join(
            app(
                {"REQUEST_METHOD": "GET", "PATH_INFO": path.split("?")[0],
                 "QUERY_STRING": path.partition("?")[2]},
                lambda s, _h: status.append(s),
            )
        )  # fmt: skip
        assert status[0].startswith("200"), (path, status, body[:300])
        return json.loads(body)

    yield get
    store.close()


def test_a_new_detector_charts_and_labels_without_python(api: Any) -> None:
    catalog = api("/api/catalog")
    assert catalog["alert_types"] == [
        {
            "type": "busy_minute",
            "label": "Busy minute",
            "module": "MOD-090",
            "detector": "Trade rate",
            "severities": ["low"],
        }
    ]
    (series,) = catalog["series"]
    assert (series["name"], series["label"], series["unit"], series["window"]) == (
        "trade_rate",
        "Trades per minute",
        "trades",
        "60 seconds",
    )
    assert (series["per_exchange"], series["markers"], series["guides"]) == (
        False,
        ["busy_minute"],
        [10.0],
    )

    chart = api("/api/series/trade_rate/BTC-USDT")
    points = [(w["window_start"][11:19], w["value"], w["anomaly"]) for w in chart["windows"]]
    assert points == [
        ("00:00:00", 12.0, "low"),  # the busy minute, marked by its alert
        ("00:01:00", 2.0, None),
        ("00:03:00", 1.0, None),
    ]
    assert chart["windows"][0]["buy_share"] == pytest.approx(0.75)  # 9 of 12
    (marker,) = chart["markers"]
    assert (marker["alert_type"], marker["value"], marker["buy_share"]) == (
        "busy_minute",
        12.0,
        pytest.approx(0.75),
    )

    (alert,) = api("/api/alerts")["alerts"]
    assert (alert["alert_type"], alert["module_id"], alert["severity"]) == (
        "busy_minute",
        "MOD-090",
        "low",
    )
    labels = {t["type"]: t["label"] for t in catalog["alert_types"]}
    assert labels[alert["alert_type"]] == "Busy minute"

    metrics = api("/api/metrics/BTC-USDT")
    assert metrics["trades_last_minute"] == 1.0  # the newest window, minute 3
    assert "spread_pct" not in metrics  # no detector of this run publishes a spread
