"""Status of the streaming runtime: run totals, the per-batch status record, its outlets.

Each micro-batch's status (metrics, phase timings, watermarks, source lag) goes to a
JSON file (written atomically), to the hot store (``/api/health`` reads it) and, when
asked, to CloudWatch. The source lag is read from Spark's checkpoint through Hadoop's
FileSystem API, like everything else under the checkpoint.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctc.atomic_file import write_text_atomic

if TYPE_CHECKING:
    from ctc.runtime.hadoop_fs import CheckpointFS
    from ctc.runtime.state import RunState
    from ctc.sinks.stores.base import AlertStore


@dataclass
class RunTotals:
    """Counts over a whole run (this process), for the closing summary."""

    batches: int = 0
    processed: int = 0
    passed: int = 0
    failed: int = 0
    duplicates: int = 0
    late_events_dropped: int = 0
    alerts: int = 0
    by_module: dict[str, int] = field(default_factory=dict)
    #: dead letters per quality rule (docs/quality.md), over the run
    failed_by_rule: dict[str, int] = field(default_factory=dict)

    def add(self, metrics: dict[str, Any], alerts: list[dict[str, Any]], late: int) -> None:
        """Count one batch."""
        self.batches += 1
        for rule, n in (metrics.get("failed_by_rule") or {}).items():
            if n:
                self.failed_by_rule[rule] = self.failed_by_rule.get(rule, 0) + int(n)
        for k in ("processed", "passed", "failed", "duplicates"):
            setattr(self, k, getattr(self, k) + int(metrics.get(k, 0)))
        self.late_events_dropped += late
        self.alerts += len(alerts)
        for a in alerts:
            self.by_module[a["module_id"]] = self.by_module.get(a["module_id"], 0) + 1

    def as_dict(self) -> dict[str, int]:
        """The totals shown in the status record."""
        return {
            "batches": self.batches,
            "processed": self.processed,
            "passed": self.passed,
            "failed": self.failed,
            "duplicates": self.duplicates,
            "alerts": self.alerts,
        }


def batch_status(
    *,
    app: str,
    batch_id: int,
    closing: bool,
    flush: bool,
    seconds: float,
    metrics: dict[str, Any],
    alerts: int,
    late_dropped: int,
    state: RunState,
    pending: dict[str, Any],
    totals: RunTotals,
    gaps: dict[str, Any] | None,
) -> dict[str, Any]:
    """The status record of one micro-batch (``/api/health``, the status file, CloudWatch):
    its metrics and timings, the plans' watermarks, the source's lag, the run's totals."""
    from ctc.runtime.publish import iso_from_us

    newest = state.max_event_us
    return {
        "app": app,
        "batch_id": batch_id,
        "flush": closing,
        "updated_at": datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "batch_seconds": round(seconds, 3),
        "metrics": metrics,
        "alerts": alerts,
        "late_events_dropped": late_dropped,
        "max_event_time": iso_from_us(newest) if newest is not None else None,
        "watermarks": {
            m: iso_from_us(p.watermark_us)
            for m, p in state.plans.items()
            if p.watermark_us is not None and abs(p.watermark_us) < 2**61
        },
        "source_lag_seconds": pending["lag_seconds"],
        "pending_files": pending["files"],
        "query_status": "flushing" if flush else "running",
        "totals": totals.as_dict(),
        "gaps": gaps,
    }


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` through a temporary file and a rename."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str))


class PendingFiles:
    """Files in the landing folder that no batch has read yet, and the age of the oldest.

    Spark's source log (``query/sources/0``) only grows: each of its files is read once
    and remembered, so a batch reads the files written since the last one, not the whole
    log (which would cost more every batch of a long-running query).
    """

    def __init__(self, checkpoint: CheckpointFS, landing: Path | None) -> None:
        self.checkpoint = checkpoint
        self.landing = landing
        self._read: set[str] = set()
        self._done: set[str] = set()

    def __call__(self) -> dict[str, Any]:
        """``files`` pending and ``lag_seconds`` of the oldest (None for sources other
        than a landing folder)."""
        pending = self.paths()
        if pending is None:
            return {"files": None, "lag_seconds": None}
        oldest = min((p.stat().st_mtime for p in pending), default=None)
        return {
            "files": len(pending),
            "lag_seconds": round(time.time() - oldest, 1) if oldest else 0.0,
        }

    def paths(self) -> list[Path] | None:
        """The landing folder's files no batch has read yet (None: not a landing folder)."""
        if self.landing is None:
            return None
        for name in self.checkpoint.list("query/sources/0"):
            if name in self._read or name.startswith("."):
                continue
            try:
                text = self.checkpoint.read_bytes(f"query/sources/0/{name}").decode("utf-8")
                for line in text.splitlines()[1:]:
                    self._done.add(json.loads(line)["path"])
            except (OSError, ValueError, KeyError):
                continue  # being written: read it next time
            self._read.add(name)
        return [
            p
            for p in self.landing.glob("*.jsonl")
            if p.resolve().as_uri() not in self._done and f"file:{p.resolve()}" not in self._done
        ]


class StatusOutlets:
    """Where each batch's status goes: the file, the hot store, CloudWatch (optional)."""

    def __init__(
        self, app: str, path: Path, store: AlertStore, cloudwatch_namespace: str | None
    ) -> None:
        self.app = app
        self.path = path
        self.store = store
        self.namespace = cloudwatch_namespace
        self._cloudwatch: Any = None

    def publish(self, status: dict[str, Any]) -> None:
        """Write ``status`` everywhere."""
        write_json_atomic(self.path, status)
        self.store.put_status(self.app, status)
        if self.namespace:
            self._publish_cloudwatch(status)

    def _publish_cloudwatch(self, status: dict[str, Any]) -> None:
        import boto3

        from ctc.runtime.cloudwatch import publish_batch_metrics

        if self._cloudwatch is None:
            self._cloudwatch = boto3.client("cloudwatch")
        m = status["metrics"]
        figures = {
            k: m[k]
            for k in ("processed", "passed", "failed", "late", "duplicates", "quality_score")
            if k in m
        }
        figures.update(
            source_lag_seconds=status["source_lag_seconds"],
            batch_seconds=status["batch_seconds"],
            alerts=status["alerts"],
        )
        assert self.namespace is not None
        publish_batch_metrics(
            self._cloudwatch, self.namespace, self.app, figures, datetime.now(tz=UTC)
        )
