"""What ``ctc run`` is told: where a streaming run reads, keeps its checkpoint and writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class RunOptions:
    """Where a run reads, keeps its checkpoint and writes."""

    landing: Path
    #: a local folder or a URI (``s3://bucket/prefix`` on EMR)
    checkpoint: Path | str
    store_url: str
    #: a lake URL (ctc.sinks.lake.factory); None or "none": no lake
    lake: str | None
    quality: Path
    status_path: Path
    until_idle: bool = False
    trigger_seconds: float = 2.0
    max_files_per_trigger: int | None = None
    app: str = "ctc"
    #: a source URL (landing:DIR, kinesis:STREAM?..., kafka:HOSTS/TOPIC); default: landing
    source: str | None = None
    #: CloudWatch namespace for per-batch metrics (AWS); None: status file and store only
    cloudwatch_namespace: str | None = None
    #: per-row plans over the stream (whales) in a Spark job of their own, their alerts
    #: published before the window plans run: lower latency, one more job a batch.
    #: None: on for a long-running query, off with ``until_idle``
    rows_first: bool | None = None
    #: the on-chain events folder (``ctc ingest --chain``); None: ``<landing>/_chain``
    chain_landing: Path | None = None
