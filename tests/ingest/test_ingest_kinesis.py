"""The Kinesis sink against moto in server mode (a real boto3 client over HTTP to 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from ingest_helpers import raw_trades, real_file

from ctc.ingest.backoff import Backoff
from ctc.ingest.metrics import IngestMetrics
from ctc.ingest.normalise_binance import BinanceNormaliser
from ctc.ingest.replay import replay_files
from ctc.ingest.sink_kinesis import KinesisSink, KinesisWriteError, chunk_entries, to_entries
from ctc.ingest.trade_event import TradeEvent

pytestmark = pytest.mark.usefixtures("aws_env")

FAST = Backoff(base=0.01, max_delay=0.05, min_delay=0.0)


def _client(endpoint: str) -> Any:
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _new_stream(client: Any, shards: int = 2) -> str:
    name = f"trades-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=name, ShardCount=shards)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1})
    return name


def _read_all(client: Any, stream: str) -> list[tuple[str, dict[str, Any]]]:
    """``(partition key, decoded record)`` for every record, shard by shard, in order."""
    out = []
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        iterator = client.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = client.get_records(ShardIterator=iterator, Limit=10_000)
            out.extend((r["PartitionKey"], json.loads(r["Data"])) for r in response["Records"])
            if not response["Records"]:
                break
            iterator = response.get("NextShardIterator")
    return out


def _events(n: int) -> list[TradeEvent]:
    """n real-shaped events (two symbols so both partition keys are used)."""
    normaliser = BinanceNormaliser()
    events = []
    for i in range(n):
        market = "BTCUSDT" if i % 3 else "ETHUSDT"
        msg = {
            "e": "trade",
            "s": market,
            "t": 1000 + i,
            "p": "61837.63",
            "q": f"0.{i + 1:04d}",
            "T": 1723161255342 + i,
            "m": bool(i % 2),
        }
        events.extend(normaliser(msg, "2026-01-01T00:00:00.000000Z"))
    return events


class FlakyKinesis:
    """Wraps a real client: on an entry's first attempt, every ``every``-th entry is reported
    failed (and not sent); ``always`` keeps failing those entries forever."""

    def __init__(self, real: Any, every: int = 3, always: bool = False, raise_first: bool = False):
        self.real = real
        self.every = every
        self.always = always
        self.raise_first = raise_first
        self.number: dict[bytes, int] = {}
        self.attempts: dict[bytes, int] = {}
        self.calls = 0

    def put_records(self, *, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls += 1
        if self.raise_first and self.calls == 1:
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url="http://injected")
        fail = []
        for entry in Records:
            data = entry["Data"]
            number = self.number.setdefault(data, len(self.number))
            self.attempts[data] = self.attempts.get(data, 0) + 1
            chosen = number % self.every == 0
            fail.append(chosen and (self.attempts[data] == 1 or self.always))
        keep = [e for e, f in zip(Records, fail, strict=True) if not f]
        sent = iter(
            self.real.put_records(StreamName=StreamName, Records=keep)["Records"] if keep else []
        )
        results = [
            {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "injected"}
            if f
            else next(sent)
            for f in fail
        ]
        return {"FailedRecordCount": sum(fail), "Records": results}


def test_chunking_limits() -> None:
    entries = to_entries(_events(1203))
    chunks = chunk_entries(entries)
    assert [len(c) for c in chunks] == [500, 500, 203]
    big = [{"Data": b"x" * 900_000, "PartitionKey": "k"} for _ in range(12)]
    assert all(sum(len(e["Data"]) + 1 for e in c) <= 5 * 1024 * 1024 for c in chunk_entries(big))
    assert sum(len(c) for c in chunk_entries(big)) == 12


def test_records_read_back_equal_sent(moto_endpoint: str) -> None:
    client = _client(moto_endpoint)
    stream = _new_stream(client)
    events = _events(1203)
    outcome = asyncio.run(KinesisSink(stream, client).write(events))
    assert (outcome.written, outcome.retried, outcome.failed) == (1203, 0, 0)
    got = _read_all(client, stream)
    assert sorted(json.dumps(r, sort_keys=True) for _, r in got) == sorted(
        json.dumps(e, sort_keys=True) for e in events
    )
    for key, record in got:
        assert key == f"{record['symbol']}|{record['exchange']}"
    # per partition key, order is preserved
    for key in {k for k, _ in got}:
        ids = [r["event_id"] for k, r in got if k == key]
        assert ids == [e["event_id"] for e in events if f"{e['symbol']}|{e['exchange']}" == key]


def test_partial_failures_retry_only_failed_records(moto_endpoint: str) -> None:
    real = _client(moto_endpoint)
    stream = _new_stream(real)
    flaky = FlakyKinesis(real, every=3, raise_first=True)
    events = _events(700)
    outcome = asyncio.run(KinesisSink(stream, flaky, backoff=FAST).write(events))
    assert outcome.failed == 0
    assert outcome.written == 700
    assert outcome.retried >= 700 // 3
    got = _read_all(real, stream)
    assert len(got) == 700  # nothing duplicated, nothing lost
    assert {r["event_id"] for _, r in got} == {e["event_id"] for e in events}
    assert sorted(json.dumps(r, sort_keys=True) for _, r in got) == sorted(
        json.dumps(e, sort_keys=True) for e in events
    )


def test_undeliverable_records_are_never_silent(moto_endpoint: str, tmp_path: Path) -> None:
    real = _client(moto_endpoint)
    stream = _new_stream(real, shards=1)
    events = _events(30)
    dead = tmp_path / "dead.jsonl"
    sink = KinesisSink(
        stream,
        FlakyKinesis(real, every=10, always=True),
        max_attempts=3,
        backoff=FAST,
        dead_letter=dead,
    )
    outcome = asyncio.run(sink.write(events))
    assert outcome.failed > 0
    assert outcome.written + outcome.failed == 30
    dead_ids = {json.loads(line)["event_id"] for line in dead.read_text().splitlines()}
    sent_ids = {r["event_id"] for _, r in _read_all(real, stream)}
    assert len(dead_ids) == outcome.failed
    assert dead_ids | sent_ids == {e["event_id"] for e in events}
    no_dlq = KinesisSink(
        stream, FlakyKinesis(real, every=10, always=True), max_attempts=2, backoff=FAST
    )
    with pytest.raises(KinesisWriteError):
        asyncio.run(no_dlq.write(events))


def test_replay_into_kinesis_end_to_end(moto_endpoint: str) -> None:
    path = real_file("cryptofeed/BINANCE-ee25be.0")
    expected = {r.event_id for r in raw_trades(path)}
    real = _client(moto_endpoint)
    stream = _new_stream(real)
    metrics = IngestMetrics()
    sink = KinesisSink(stream, FlakyKinesis(real, every=7), backoff=FAST)
    asyncio.run(
        asyncio.wait_for(
            replay_files([path], sink, drop_after=[100, 900], metrics=metrics), timeout=60
        )
    )
    got = _read_all(real, stream)
    assert metrics.received == metrics.written == len(expected) == len(got)
    assert metrics.retried > 0 and metrics.failed == 0
    assert {r["event_id"] for _, r in got} == expected
