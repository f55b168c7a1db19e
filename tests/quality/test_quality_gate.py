"""The data-quality gate over a file of deliberately broken trade records.

Every expectation below is written by hand from docs/quality.md, one per line of
broken_trades.jsonl (``_order`` = line number − 1), not derived from the code.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ctc.runtime.quality import (
    DEAD_LETTER_FIELDS,
    GateResult,
    gate,
    gate_file,
    load_rules,
)
from ctc.runtime.quality_rules import QualityRules

HERE = Path(__file__).parent
BROKEN = HERE / "broken_trades.jsonl"
RULES_FILE = HERE.parents[1] / "detectors" / "quality.yaml"

#: processing time of batch 1: late means event time before 11:55:00Z
P1 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
#: processing time of batch 2: late means event time before 13:55:00Z
P2 = datetime(2026, 1, 1, 14, 0, 0, tzinfo=UTC)

from broken_expectations import DUPLICATE, EXPECTED, PASSED  # noqa: E402

LATE_1 = {14}
QUOTE_WARNINGS_1 = {12, 26}

BATCH1_METRICS = {
    "processed": 30,
    "passed": 8,
    "failed": 21,
    "failed_by_reason": {"malformed": 9, "incomplete": 4, "invalid": 8},
    "failed_by_rule": {
        "parse": 6,
        "parse_timestamp": 2,
        "parse_ingestion_timestamp": 1,
        "completeness_event_id": 1,
        "completeness_symbol": 1,
        "completeness_price": 1,
        "completeness_quantity": 0,
        "completeness_timestamp": 1,
        "validity_price_positive": 4,
        "validity_quantity_positive": 1,
        "validity_symbol_allowed": 1,
        "validity_exchange_allowed": 2,
    },
    "late": 1,
    "duplicates": 1,
    "quote_warnings": 2,
    "quality_score": 8 / 30 * 100,
}

#: the dedupe state after batch 1: every passed id with its event time (UTC)
SEEN_1 = {
    ("ok-1", "2026-01-01T11:59:00"),
    ("quote-off", "2026-01-01T11:59:00"),
    ("quote-close", "2026-01-01T11:59:00"),
    ("late-1", "2026-01-01T11:50:00"),
    ("edge-late", "2026-01-01T11:55:00"),
    ("dup-1", "2026-01-01T11:59:30"),
    ("no-quote", "2026-01-01T11:59:00"),
    ("offset-zone", "2026-01-01T11:58:00"),
}


def _trade(event_id: str, ts: str, symbol: str = "BTC-USDT") -> str:
    return (
        f'{{"event_id":"{event_id}","exchange":"binance","symbol":"{symbol}","price":100.0,'
        f'"quantity":1.0,"quote_volume":100.0,"side":"buy","timestamp":"{ts}"}}'
    )


#: batch 2 (processing 14:00Z), gated with batch 1's state: line → outcome, late?
BATCH2 = [
    (_trade("ok-1", "2026-01-01T11:59:00Z"), DUPLICATE, False),  # replay of batch 1
    (_trade("dup-1", "2026-01-01T12:29:30Z"), DUPLICATE, False),  # 30 min after 11:59:30
    (_trade("late-1", "2026-01-01T13:50:01Z"), PASSED, True),  # 2 h 0 min 1 s after: kept
    (_trade("new-1", "2026-01-01T13:59:00Z"), PASSED, False),
    (_trade("new-1", "2026-01-01T13:59:00Z"), DUPLICATE, False),  # same batch
    (_trade("edge-late", "2026-01-01T12:55:00Z"), DUPLICATE, False),  # exactly 1 h: within
    (_trade("quote-close", "2026-01-01T12:59:01Z"), PASSED, True),  # 1 h 0 min 1 s: kept
]

#: after batch 2: max event time 13:59 → entries before 12:59:00 purged
SEEN_2 = {
    ("late-1", "2026-01-01T13:50:01"),
    ("new-1", "2026-01-01T13:59:00"),
    ("quote-close", "2026-01-01T12:59:01"),
}


@pytest.fixture(scope="module")
def rules() -> QualityRules:
    return load_rules(RULES_FILE)


@pytest.fixture(scope="module")
def batch1(spark: Any, rules: QualityRules) -> Any:
    result = gate_file(spark, BROKEN, rules, processing_time=P1)
    yield result
    result.unpersist()


def _raw(spark: Any, lines: list[str], source: str = "mem") -> Any:
    return spark.createDataFrame(
        [(line, source, i) for i, line in enumerate(lines)],
        "value string, source_file string, _order long",
    )


def _seen(result: GateResult) -> set[tuple[str, str]]:
    from pyspark.sql import functions as F

    rows = result.seen.select(
        "event_id", F.date_format("timestamp", "yyyy-MM-dd'T'HH:mm:ss").alias("ts")
    ).collect()
    return {(r.event_id, r.ts) for r in rows}


def test_the_file_has_one_expectation_per_line() -> None:
    lines = BROKEN.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""  # the file ends with a newline
    assert len(lines) - 1 == len(EXPECTED) == 30


def test_each_broken_record_lands_in_dead_letters_with_its_reason_and_rule(batch1: Any) -> None:
    got = {r._order: (r.reason, r.rule) for r in batch1.dead_letters.collect()}
    want = {i: v for i, v in EXPECTED.items() if isinstance(v, tuple)}
    assert got == want


def test_dead_letters_keep_the_original_line_source_and_receipt_time(batch1: Any) -> None:
    from pyspark.sql import functions as F

    lines = BROKEN.read_text(encoding="utf-8").split("\n")
    assert batch1.dead_letters.columns == list(DEAD_LETTER_FIELDS)
    rows = batch1.dead_letters.select(
        "_order",
        "raw",
        "source_file",
        "detail",
        F.date_format("received_at", "yyyy-MM-dd'T'HH:mm:ss").alias("at"),
        F.col("dt").cast("string").alias("dt"),
    ).collect()
    for r in rows:
        assert r.raw == lines[r._order]
        assert r.source_file.endswith("tests/quality/broken_trades.jsonl")
        assert r.at == "2026-01-01T12:00:00"
        assert r.dt == "2026-01-01"
        assert r.detail
    by_order = {r._order: r.detail for r in rows}
    assert by_order[7] == "quantity must be a finite number > 0, got -1.5"
    assert by_order[8] == "symbol 'DOGE-USDT' is not allowed"
    assert by_order[24] == "exchange null is not allowed"


def test_passed_records_are_flagged_late_and_quote_warning(batch1: Any) -> None:
    rows = batch1.passed.collect()
    ids = sorted(r.event_id for r in rows)
    assert ids == sorted(
        [
            "ok-1",
            "quote-off",
            "quote-close",
            "late-1",
            "edge-late",
            "dup-1",
            "no-quote",
            "offset-zone",
        ]
    )
    flags = {r.event_id: (r.is_late, r.quote_warning) for r in rows}
    assert flags == {
        "ok-1": (False, False),
        "quote-off": (False, True),
        "quote-close": (False, False),
        "late-1": (True, False),
        "edge-late": (False, False),
        "dup-1": (False, False),
        "no-quote": (False, True),
        "offset-zone": (False, False),
    }
    # the first dup-1 (valid, price 3000) is the one kept
    assert next(r.price for r in rows if r.event_id == "dup-1") == 3000.0


def test_passed_has_the_trade_event_columns_and_types(batch1: Any) -> None:
    from pyspark.sql import functions as F

    from ctc.events import TRADE_EVENT_FIELDS

    types = dict(batch1.passed.dtypes)
    assert list(types) == [*TRADE_EVENT_FIELDS, "is_late", "quote_warning"]
    assert types["timestamp"] == "timestamp" and types["price"] == "double"
    assert types["is_late"] == "boolean"
    row = (
        batch1.passed.where("event_id = 'offset-zone'")
        .select(F.date_format("timestamp", "yyyy-MM-dd'T'HH:mm:ss").alias("ts"))
        .first()
    )
    assert row.ts == "2026-01-01T11:58:00"


def test_batch_metrics_are_exact_and_conserve(batch1: Any) -> None:
    m = batch1.metrics
    assert m == BATCH1_METRICS
    assert m["processed"] == m["passed"] + m["failed"] + m["duplicates"]
    assert m["late"] == len(LATE_1) and m["quote_warnings"] == len(QUOTE_WARNINGS_1)


def test_first_batch_state_holds_every_passed_id(batch1: Any) -> None:
    assert _seen(batch1) == SEEN_1


def test_duplicates_across_batches_within_the_window_are_dropped(
    spark: Any, rules: QualityRules, batch1: Any
) -> None:
    lines = [line for line, _, _ in BATCH2]
    result = gate(spark, _raw(spark, lines), rules, batch1.seen, P2)
    try:
        passed = {r.event_id: r.is_late for r in result.passed.collect()}
        want = {json_id(line): late for line, outcome, late in BATCH2 if outcome == PASSED}
        assert passed == want == {"late-1": True, "new-1": False, "quote-close": True}
        assert result.dead_letters.count() == 0
        m = result.metrics
        assert (m["processed"], m["passed"], m["failed"], m["duplicates"]) == (7, 3, 0, 4)
        assert (m["late"], m["quote_warnings"]) == (2, 0)
        assert m["quality_score"] == 3 / 7 * 100
        assert _seen(result) == SEEN_2

        # batch 3: a far-future event time must not purge the state (the horizon is capped
        # by processing time: 14:01 − 1 h = 13:01), and new-1 is still a duplicate
        p3 = datetime(2026, 1, 1, 14, 1, 0, tzinfo=UTC)
        lines3 = [
            _trade("future-1", "2099-01-01T00:00:00Z"),
            _trade("new-1", "2026-01-01T13:59:00Z"),
        ]
        third = gate(spark, _raw(spark, lines3), rules, result.seen, p3)
        try:
            assert (third.metrics["passed"], third.metrics["duplicates"]) == (1, 1)
            assert _seen(third) == {
                ("late-1", "2026-01-01T13:50:01"),
                ("new-1", "2026-01-01T13:59:00"),
                ("future-1", "2099-01-01T00:00:00"),
            }
        finally:
            third.unpersist()
    finally:
        result.unpersist()


def json_id(line: str) -> str:
    import json

    return str(json.loads(line)["event_id"])


def test_an_empty_batch_scores_100_and_keeps_the_state(
    spark: Any, rules: QualityRules, batch1: Any
) -> None:
    result = gate(spark, _raw(spark, []), rules, batch1.seen, P1)
    try:
        m = result.metrics
        assert (m["processed"], m["passed"], m["failed"], m["duplicates"]) == (0, 0, 0, 0)
        assert m["quality_score"] == 100.0
        assert _seen(result) == SEEN_1
    finally:
        result.unpersist()


def test_wildcards_and_the_files_rule_order(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "quality.yaml"
    path.write_text(
        "required: [event_id, timestamp]\n"
        "exchanges: '*'\n"
        "symbols: ['*']\n"
        "positive: [price]\n"
        "late_after: 1 day\n"
        "quote_volume_tolerance: 0\n"
        "dedupe_within: 10 minutes\n",
        encoding="utf-8",
    )
    rules = load_rules(path)
    assert rules.symbols is None and rules.exchanges is None
    lines = [
        '{"event_id":"a","exchange":"kraken","symbol":"DOGE-USDT","price":1.0,"quantity":1.0,'
        '"quote_volume":1.0,"timestamp":"2026-01-01T11:59:00Z"}',
        # no symbol is fine here (not required), quantity -1 is fine (not positive)
        '{"event_id":"b","price":2.0,"quantity":-1.0,"quote_volume":-2.0,'
        '"timestamp":"2026-01-01T11:59:00Z"}',
        '{"event_id":"c","exchange":"kraken","price":0.0,"timestamp":"2026-01-01T11:59:00Z"}',
    ]
    result = gate(spark, _raw(spark, lines), rules, None, P1)
    try:
        assert sorted(r.event_id for r in result.passed.collect()) == ["a", "b"]
        assert [(r.reason, r.rule) for r in result.dead_letters.collect()] == [
            ("invalid", "validity_price_positive")
        ]
        assert list(result.metrics["failed_by_rule"]) == [
            "parse",
            "parse_timestamp",
            "parse_ingestion_timestamp",
            "completeness_event_id",
            "completeness_timestamp",
            "validity_price_positive",
        ]
    finally:
        result.unpersist()

    # exchanges listed before positive: a kraken trade at price 0 fails on the exchange
    ordered = tmp_path / "ordered.yaml"
    ordered.write_text(
        "required: [event_id, timestamp]\n"
        "exchanges: [binance]\n"
        "positive: [price]\n"
        "symbols: '*'\n"
        "late_after: 5 minutes\n"
        "quote_volume_tolerance: 0.001\n"
        "dedupe_within: 1 hour\n",
        encoding="utf-8",
    )
    result = gate(spark, _raw(spark, lines[2:]), load_rules(ordered), None, P1)
    try:
        assert [r.rule for r in result.dead_letters.collect()] == ["validity_exchange_allowed"]
    finally:
        result.unpersist()
