"""Publish the runtime's per-micro-batch metrics to CloudWatch (AWS; locally they go to
JSON lines and the health endpoint instead)."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

#: Metrics per PutMetricData call. The API takes up to 1000 (1 MB) since 2023, 20 (40 KB)
#: before; 20 works against both, and a batch has about ten metrics.
MAX_METRICS_PER_CALL = 20

#: CloudWatch units of the metrics the runtime reports; others are published unit-less.
UNITS: Mapping[str, str] = {
    "processed": "Count",
    "passed": "Count",
    "failed": "Count",
    "late": "Count",
    "duplicates": "Count",
    "duplicate": "Count",
    "alerts": "Count",
    "quality_score": "Percent",
    "source_lag_seconds": "Seconds",
    "batch_seconds": "Seconds",
}


def publish_batch_metrics(
    client: Any,
    namespace: str,
    app: str,
    metrics: Mapping[str, float | int],
    timestamp: datetime,
) -> int:
    """Put each finite numeric value of ``metrics`` as metric ``<key>`` with dimension
    ``Application=app`` at ``timestamp`` (naive = UTC), in calls of at most
    MAX_METRICS_PER_CALL; skip (and log) anything else. Return how many were put."""
    when = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
    data: list[dict[str, Any]] = []
    for name, value in metrics.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            log.debug("metric %s=%r is not a finite number; not published", name, value)
            continue
        data.append(
            {
                "MetricName": name,
                "Dimensions": [{"Name": "Application", "Value": app}],
                "Timestamp": when,
                "Value": float(value),
                "Unit": UNITS.get(name, "None"),
            }
        )
    for start in range(0, len(data), MAX_METRICS_PER_CALL):
        client.put_metric_data(
            Namespace=namespace, MetricData=data[start : start + MAX_METRICS_PER_CALL]
        )
    return len(data)
