"""publish_batch_metrics against CloudWatch on the moto server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from ctc.runtime.cloudwatch import MAX_METRICS_PER_CALL, publish_batch_metrics

METRICS = {
    "processed": 1_000,
    "passed": 990,
    "failed": 10,
    "late": 3,
    "duplicates": 2,
    "quality_score": 99.0,
    "source_lag_seconds": 1.25,
    "batch_seconds": 0.8,
    "alerts": 4,
}


def test_publish_then_list_and_read_back(moto_endpoint: str, aws_env: None) -> None:
    client = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto_endpoint)
    now = datetime.now(UTC).replace(microsecond=0)
    batch = {**METRICS, "note": "text is skipped", "nan": float("nan"), "flag": True}
    assert publish_batch_metrics(client, "CTC/Test", "ctc-stream", batch, now) == len(METRICS)
    listed = client.list_metrics(Namespace="CTC/Test")["Metrics"]
    assert {m["MetricName"] for m in listed} == set(METRICS)
    assert all(m["Dimensions"] == [{"Name": "Application", "Value": "ctc-stream"}] for m in listed)
    for name, value in METRICS.items():
        stats = client.get_metric_statistics(
            Namespace="CTC/Test",
            MetricName=name,
            Dimensions=[{"Name": "Application", "Value": "ctc-stream"}],
            StartTime=now - timedelta(minutes=5),
            EndTime=now + timedelta(minutes=5),
            Period=60,
            Statistics=["Sum"],
        )["Datapoints"]
        assert [d["Sum"] for d in stats] == [float(value)], name


def test_many_metrics_go_in_chunks() -> None:
    calls: list[dict[str, Any]] = []

    class Recorder:
        def put_metric_data(self, **kwargs: Any) -> None:
            calls.append(kwargs)

    many = {f"m{i}": i for i in range(45)}
    naive = datetime(2026, 1, 1)
    assert publish_batch_metrics(Recorder(), "NS", "app", many, naive) == 45
    assert [len(c["MetricData"]) for c in calls] == [MAX_METRICS_PER_CALL] * 2 + [5]
    assert calls[0]["MetricData"][0]["Timestamp"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert calls[0]["Namespace"] == "NS"
