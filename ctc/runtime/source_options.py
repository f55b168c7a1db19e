"""Where `ctc run` reads: the landing folder locally; Kinesis (EMR's connector) or Kafka
in AWS. Each is a source URL turned into a Spark reader format and options.

* ``landing:DIR`` — Spark's text file source over ``DIR/*.jsonl`` (the embedded default);
* ``kinesis:STREAM?region=R&consumer=GetRecords|SubscribeToShard&start=LATEST|TRIM_HORIZON
  &endpoint=URL`` — the Kinesis Data Streams connector shipped with EMR 7.1+ (format
  ``aws-kinesis``, based on awslabs/spark-sql-kinesis-connector);
* ``kafka:HOST:PORT[,HOST:PORT]/TOPIC?start=latest|earliest&iam=true`` — Spark's Kafka
  source, with Amazon MSK IAM authentication when ``iam=true``.

The Kinesis and Kafka readers only exist on EMR (their jars don't ship with pyspark), so
locally their options are unit-tested, not run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs

_IAM = "software.amazon.msk.auth.iam."
#: Amazon MSK IAM authentication for Spark's Kafka source
_MSK_IAM = {
    "kafka.security.protocol": "SASL_SSL",
    "kafka.sasl.mechanism": "AWS_MSK_IAM",
    "kafka.sasl.jaas.config": f"{_IAM}IAMLoginModule required;",
    "kafka.sasl.client.callback.handler.class": f"{_IAM}IAMClientCallbackHandler",
}


@dataclass(frozen=True)
class SourceSpec:
    """A Spark streaming reader: format, options, the path to load (if any) and the SQL
    expressions for the raw line (``value``) and its origin (``source_file``)."""

    kind: str
    format: str
    options: dict[str, str] = field(default_factory=dict)
    path: str | None = None
    value_sql: str = "value"
    origin_sql: str = "_metadata.file_path"


def _query(rest: str) -> tuple[str, dict[str, str]]:
    target, _, query = rest.partition("?")
    return target, {k: v[-1] for k, v in parse_qs(query).items()}


def parse_source(url: str, max_files_per_trigger: int | None = None) -> SourceSpec:
    """The reader for a source URL (see the module docs); ValueError when it is not one."""
    scheme, sep, rest = url.partition(":")
    if not sep or not rest:
        raise ValueError(f"source {url!r}: write landing:DIR, kinesis:STREAM or kafka:HOSTS/TOPIC")
    if scheme == "landing":
        opts = {"pathGlobFilter": "*.jsonl"}
        if max_files_per_trigger:
            opts["maxFilesPerTrigger"] = str(max_files_per_trigger)
        return SourceSpec("landing", "text", opts, path=rest)
    if scheme == "kinesis":
        stream, q = _query(rest)
        if not stream:
            raise ValueError(f"source {url!r}: name the Kinesis stream")
        consumer = q.get("consumer", "GetRecords")
        if consumer not in ("GetRecords", "SubscribeToShard"):
            raise ValueError(f"source {url!r}: consumer must be GetRecords or SubscribeToShard")
        start = q.get("start", "LATEST").upper()
        if start not in ("LATEST", "TRIM_HORIZON"):
            raise ValueError(f"source {url!r}: start must be LATEST or TRIM_HORIZON")
        opts = {
            "kinesis.streamName": stream,
            "kinesis.consumerType": consumer,
            "kinesis.startingposition": start,
        }
        if "region" in q:
            opts["kinesis.region"] = q["region"]
            opts.setdefault(
                "kinesis.endpointUrl",
                q.get("endpoint", f"https://kinesis.{q['region']}.amazonaws.com"),
            )
        elif "endpoint" in q:
            opts["kinesis.endpointUrl"] = q["endpoint"]
        return SourceSpec(
            "kinesis",
            "aws-kinesis",
            opts,
            value_sql="CAST(data AS STRING)",
            origin_sql="CONCAT('kinesis:', streamName, '/', sequenceNumber)",
        )
    if scheme == "kafka":
        target, q = _query(rest)
        hosts, _, topic = target.partition("/")
        if not hosts or not topic:
            raise ValueError(f"source {url!r}: write kafka:HOST:PORT/TOPIC")
        start = q.get("start", "latest").lower()
        if start not in ("latest", "earliest"):
            raise ValueError(f"source {url!r}: start must be latest or earliest")
        opts = {
            "kafka.bootstrap.servers": hosts,
            "subscribe": topic,
            "startingOffsets": start,
            "failOnDataLoss": "true",
        }
        if max_files_per_trigger:
            opts["maxOffsetsPerTrigger"] = str(max_files_per_trigger * 100_000)
        if q.get("iam", "").lower() == "true":
            opts.update(_MSK_IAM)
        return SourceSpec(
            "kafka",
            "kafka",
            opts,
            value_sql="CAST(value AS STRING)",
            origin_sql="CONCAT(topic, '/', partition, '@', offset)",
        )
    raise ValueError(f"source {url!r}: unknown kind {scheme!r} (landing, kinesis, kafka)")
