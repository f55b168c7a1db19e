"""Source URLs of `ctc run` become the Spark reader options of EMR's connectors."""

from __future__ import annotations

import pytest

from ctc.runtime.source_options import parse_source


def test_landing_is_the_text_file_source() -> None:
    s = parse_source("landing:var/landing", max_files_per_trigger=2)
    assert (s.format, s.path, s.value_sql) == ("text", "var/landing", "value")
    assert s.options == {"pathGlobFilter": "*.jsonl", "maxFilesPerTrigger": "2"}


def test_kinesis_uses_the_emr_connector() -> None:
    s = parse_source(
        "kinesis:ctc-trades?region=us-west-2&consumer=SubscribeToShard&start=trim_horizon"
    )
    assert s.format == "aws-kinesis" and s.path is None
    assert s.options == {
        "kinesis.streamName": "ctc-trades",
        "kinesis.consumerType": "SubscribeToShard",
        "kinesis.startingposition": "TRIM_HORIZON",
        "kinesis.region": "us-west-2",
        "kinesis.endpointUrl": "https://kinesis.us-west-2.amazonaws.com",
    }
    assert s.value_sql == "CAST(data AS STRING)"


def test_kafka_with_msk_iam() -> None:
    s = parse_source("kafka:b-1.msk:9098,b-2.msk:9098/trades?start=earliest&iam=true")
    assert s.format == "kafka"
    assert s.options["kafka.bootstrap.servers"] == "b-1.msk:9098,b-2.msk:9098"
    assert s.options["subscribe"] == "trades"
    assert s.options["startingOffsets"] == "earliest"
    assert s.options["kafka.sasl.mechanism"] == "AWS_MSK_IAM"
    assert s.value_sql == "CAST(value AS STRING)"


@pytest.mark.parametrize(
    "url",
    [
        "nowhere",
        "s3:bucket",
        "kinesis:",
        "kinesis:s?consumer=x",
        "kafka:hosts-only",
        "kafka:h:1/t?start=middle",
    ],
)
def test_bad_source_urls_are_clear_errors(url: str) -> None:
    with pytest.raises(ValueError, match="source"):
        parse_source(url)
