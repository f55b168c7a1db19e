"""Kinesis sink: ``put_records`` in batches of ≤500 records and ≤5 MiB.

Only the entries a response marks failed are re-sent, after a jittered exponential backoff.
Nothing is dropped silently: records still failing after ``max_attempts`` are counted in
``failed``, logged, and appended to ``dead_letter`` (a JSON-lines file) when configured;
without a dead-letter file the sink raises :class:`KinesisWriteError` so the run stops.
PartitionKey is ``f"{symbol}|{exchange}"``; each record is one JSON line (with ``\\n``).
Ordering holds per partition key except across a partial-failure retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from ctc.ingest.backoff import Backoff
from ctc.ingest.sinks import WriteOutcome
from ctc.ingest.trade_event import TradeEvent, event_partition_key, event_to_json

log = logging.getLogger(__name__)

MAX_RECORDS_PER_CALL: Final = 500
MAX_BYTES_PER_CALL: Final = 5 * 1024 * 1024
MAX_BYTES_PER_RECORD: Final = 1024 * 1024


class KinesisWriteError(RuntimeError):
    """Records could not be delivered after all retries and no dead-letter file is set."""


def to_entries(events: Sequence[TradeEvent]) -> list[dict[str, Any]]:
    """Kinesis ``Records`` entries (``Data`` bytes, ``PartitionKey``) for the events."""
    entries = []
    for event in events:
        data = (event_to_json(event) + "\n").encode("utf-8")
        key = event_partition_key(event)
        if len(data) + len(key.encode("utf-8")) > MAX_BYTES_PER_RECORD:
            raise ValueError(f"record over 1 MiB: {event['event_id']}")
        entries.append({"Data": data, "PartitionKey": key})
    return entries


def chunk_entries(entries: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split entries into calls of at most 500 records and 5 MiB (data + partition keys)."""
    chunks: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for entry in entries:
        entry_size = len(entry["Data"]) + len(entry["PartitionKey"].encode("utf-8"))
        full = len(current) >= MAX_RECORDS_PER_CALL or size + entry_size > MAX_BYTES_PER_CALL
        if current and full:
            chunks.append(current)
            current, size = [], 0
        current.append(entry)
        size += entry_size
    if current:
        chunks.append(current)
    return chunks


class KinesisSink:
    """Writes events to a Kinesis data stream with a boto3 client (sync calls run in a thread)."""

    def __init__(
        self,
        stream_name: str,
        client: Any = None,
        *,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        max_attempts: int = 10,
        backoff: Backoff | None = None,
        dead_letter: str | Path | None = None,
    ) -> None:
        if client is None:
            import boto3

            client = boto3.client("kinesis", region_name=region_name, endpoint_url=endpoint_url)
        self.client = client
        self.stream_name = stream_name
        self.max_attempts = max_attempts
        self.backoff = backoff or Backoff(base=0.1, max_delay=5.0, min_delay=0.01)
        self.dead_letter = Path(dead_letter) if dead_letter else None

    async def write(self, events: Sequence[TradeEvent]) -> WriteOutcome:
        """Send the batch; retry failed entries only; return written/retried/failed counts."""
        outcome = WriteOutcome()
        for chunk in chunk_entries(to_entries(events)):
            await self._send_chunk(chunk, outcome)
        return outcome

    async def _send_chunk(self, chunk: list[dict[str, Any]], outcome: WriteOutcome) -> None:
        pending = chunk
        attempt = 0
        while pending:
            try:
                response = await asyncio.to_thread(
                    self.client.put_records, StreamName=self.stream_name, Records=pending
                )
            except Exception as exc:  # botocore ClientError / EndpointConnectionError / throttling
                failed = pending
                log.warning("put_records raised (%s); %d records to retry", exc, len(failed))
            else:
                results = response["Records"]
                failed = [e for e, r in zip(pending, results, strict=True) if r.get("ErrorCode")]
                outcome.written += len(pending) - len(failed)
                if failed:
                    codes = {r["ErrorCode"] for r in results if r.get("ErrorCode")}
                    log.info("put_records: %d of %d failed (%s)", len(failed), len(pending), codes)
            if not failed:
                return
            attempt += 1
            if attempt >= self.max_attempts:
                self._give_up(failed, outcome)
                return
            outcome.retried += len(failed)
            await asyncio.sleep(self.backoff.delay(attempt - 1))
            pending = failed

    def _give_up(self, failed: list[dict[str, Any]], outcome: WriteOutcome) -> None:
        outcome.failed += len(failed)
        log.error("%d records undeliverable after %d attempts", len(failed), self.max_attempts)
        if self.dead_letter is None:
            raise KinesisWriteError(
                f"{len(failed)} records undeliverable to {self.stream_name} "
                f"after {self.max_attempts} attempts"
            )
        self.dead_letter.parent.mkdir(parents=True, exist_ok=True)
        with open(self.dead_letter, "ab") as fh:
            for entry in failed:
                fh.write(entry["Data"])

    async def tick(self) -> None:
        """Nothing buffered between writes."""

    async def close(self) -> None:
        """Nothing to flush (every write is synchronous with Kinesis)."""
