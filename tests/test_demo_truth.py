"""The demo's report of injected anomalies found: an alert counts when it is detected from
the anomaly's start to its end plus the alert type's slack, once (not twice) the slack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ctc.demo import _FOUND_BY, truth_report

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
END = START + timedelta(minutes=1)


def _found(kind: str, detected: datetime) -> str:
    truth = [
        {
            "kind": kind,
            "symbol": "BTC-USDT",
            "start": START.isoformat().replace("+00:00", "Z"),
            "end": END.isoformat().replace("+00:00", "Z"),
        }
    ]
    alert_type = _FOUND_BY[kind][0]
    alerts: list[dict[str, Any]] = [
        {"alert_type": alert_type, "symbol": "BTC-USDT", "detected_at": detected}
    ]
    line = next(ln for ln in truth_report(truth, alerts).splitlines() if kind in ln)
    return line.split("found")[1].strip()


def test_an_alert_within_the_slack_finds_the_anomaly() -> None:
    slack = timedelta(seconds=_FOUND_BY["volume_spike"][1])
    assert slack > timedelta(0)
    assert _found("volume_spike", END + slack) == "1"
    assert _found("volume_spike", START) == "1"


def test_the_slack_is_counted_once() -> None:
    slack = timedelta(seconds=_FOUND_BY["volume_spike"][1])
    assert _found("volume_spike", END + slack + timedelta(seconds=1)) == "0"
    assert _found("volume_spike", END + 2 * slack) == "0"
    assert _found("volume_spike", START - timedelta(seconds=1)) == "0"
