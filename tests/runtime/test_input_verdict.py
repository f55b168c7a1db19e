"""The one-line verdict on an input: empty, mostly rejected, not trade events."""

from __future__ import annotations

from ctc.runtime.input_verdict import judge_input, main_reasons


def test_nothing_parsed_says_what_the_file_is_not() -> None:
    v = judge_input("README.md", 156, 0, 156, {"parse": 156})
    assert v.kind == "error"
    assert v.message.startswith("README.md is not JSON lines of trade events: 156 of 156")


def test_json_without_the_fields_is_not_called_unparsable() -> None:
    v = judge_input("x.jsonl", 10, 0, 10, {"completeness_event_id": 10})
    assert v.kind == "error"
    assert "has no usable trade events" in v.message and "10 no event_id" in v.message


def test_mostly_rejected_warns_with_counts_and_main_reasons() -> None:
    by_rule = {"parse": 50, "validity_exchange_allowed": 20, "completeness_price": 1}
    v = judge_input("in.jsonl", 100, 29, 71, by_rule)
    assert v.kind == "warn"
    assert v.message.startswith("71 of 100 records of in.jsonl rejected")
    assert "50 not a JSON object" in v.message and "20 exchange not allowed" in v.message


def test_empty_and_healthy_inputs() -> None:
    assert judge_input("e.jsonl", 0, 0, 0, {}).kind == "empty"
    assert judge_input("ok.jsonl", 100, 90, 10, {"parse": 10}).kind == "ok"


def test_main_reasons_are_the_largest_first_and_at_most_three() -> None:
    text = main_reasons({"parse": 1, "validity_price_positive": 5, "a": 3, "b": 2, "c": 0})
    assert text.split("; ")[0] == "5 price not > 0 (validity_price_positive)"
    assert len(text.split("; ")) == 3
