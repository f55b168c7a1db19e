"""quality.yaml: the project's rules load; a broken file reports `path:line:col: message`."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctc.dsl.errors import SpecErrors
from ctc.runtime.quality import load_rules

RULES_FILE = Path(__file__).parents[2] / "detectors" / "quality.yaml"

GOOD = (
    "required: [event_id, symbol, price, quantity, timestamp]\n"  # line 1
    "positive: [price, quantity]\n"  # line 2
    "symbols: [BTC-USDT, ETH-USDT, SOL-USDT]\n"  # line 3
    "exchanges: [binance, coinbase]\n"  # line 4
    "late_after: 5 minutes\n"  # line 5
    "quote_volume_tolerance: 0.001\n"  # line 6
    "dedupe_within: 1 hour\n"  # line 7
)


def test_the_projects_rules_load() -> None:
    rules = load_rules(RULES_FILE)
    assert rules.required == ("event_id", "symbol", "price", "quantity", "timestamp")
    assert rules.positive == ("price", "quantity")
    assert rules.symbols == ("BTC-USDT", "ETH-USDT", "SOL-USDT")
    assert rules.exchanges == ("binance", "binance-futures", "coinbase")
    assert rules.instruments is None  # "*": spot and perpetual pass
    assert rules.late_after.seconds == 300
    assert rules.quote_volume_tolerance == 0.001
    assert rules.dedupe_within.seconds == 3600


# (the line to replace, its replacement, the expected errors as "line:col: message")
BROKEN = [
    pytest.param(
        "late_after: 5 minutes\n",
        "late_aftr: 5 minutes\n",
        [
            "1:1: missing key 'late_after'",
            "5:1: unknown key 'late_aftr' (expected one of: required, positive, symbols, "
            "exchanges, late_after, quote_volume_tolerance, dedupe_within, instruments)",
        ],
        id="misspelt-key",
    ),
    pytest.param(
        "quote_volume_tolerance: 0.001\n",
        "quote_volume_tolerance: high\n",
        ["6:25: 'quote_volume_tolerance' must be a number >= 0 (0.001 = 0.1 %), got 'high'"],
        id="tolerance-not-a-number",
    ),
    pytest.param(
        "quote_volume_tolerance: 0.001\n",
        "quote_volume_tolerance: -0.5\n",
        ["6:25: 'quote_volume_tolerance' must be a number >= 0 (0.001 = 0.1 %), got -0.5"],
        id="tolerance-negative",
    ),
    pytest.param(
        "dedupe_within: 1 hour\n",
        "dedupe_within: 1 fortnight\n",
        [
            "7:16: 'dedupe_within': not a duration: '1 fortnight' "
            "(write e.g. '30 seconds', '5 minutes', '1 hour')"
        ],
        id="bad-duration",
    ),
    pytest.param(
        "late_after: 5 minutes\n",
        "late_after: 300\n",
        ["5:13: 'late_after' must be a duration such as '5 minutes', got 300"],
        id="duration-not-text",
    ),
    pytest.param(
        "positive: [price, quantity]\n",
        "positive: [price, side]\n",
        [
            "2:19: 'positive' names unknown field 'side' "
            "(expected one of: price, quantity, quote_volume)"
        ],
        id="positive-non-numeric",
    ),
    pytest.param(
        "required: [event_id, symbol, price, quantity, timestamp]\n",
        "required: [symbol, price, quantity, timestamp, colour]\n",
        [
            "1:11: 'required' must include 'event_id': the gate dedupes and times records by it",
            "1:48: 'required' names unknown field 'colour' (expected one of: event_id, exchange, "
            "symbol, market, instrument, price, quantity, quote_volume, side, timestamp, "
            "ingestion_timestamp)",
        ],
        id="required-unknown-and-missing-id",
    ),
    pytest.param(
        "symbols: [BTC-USDT, ETH-USDT, SOL-USDT]\n",
        "symbols: [BTC-USDT, '*']\n",
        ["3:21: 'symbols': \"*\" allows any and must stand alone"],
        id="wildcard-not-alone",
    ),
    pytest.param(
        "exchanges: [binance, coinbase]\n",
        "exchanges: binance\n",
        ["4:12: 'exchanges' must be a non-empty list of names or \"*\", got 'binance'"],
        id="exchanges-not-a-list",
    ),
    pytest.param(
        "symbols: [BTC-USDT, ETH-USDT, SOL-USDT]\n",
        "symbols: [BTC-USDT, ETH-USDT\n",
        [
            "4:10: YAML syntax error: expected ',' or ']', but got ':' "
            "(while parsing a flow sequence started at line 3, column 10)"
        ],
        id="yaml-syntax",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), BROKEN)
def test_a_broken_rules_file_reports_path_line_col(
    tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    assert old in GOOD
    path = tmp_path / "quality.yaml"
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    with pytest.raises(SpecErrors) as info:
        load_rules(path)
    lines = str(info.value).splitlines()
    assert lines == [f"{path}:{e}" for e in expected]


def test_a_non_mapping_and_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "quality.yaml"
    path.write_text("- required\n", encoding="utf-8")
    with pytest.raises(SpecErrors, match=r"quality\.yaml:1:1: quality rules must be a mapping"):
        load_rules(path)
    with pytest.raises(SpecErrors, match=r"nope\.yaml:1:1: cannot read file"):
        load_rules(tmp_path / "nope.yaml")


def test_instruments_are_an_optional_allow_list(tmp_path: Path) -> None:
    path = tmp_path / "quality.yaml"
    path.write_text(GOOD + "instruments: [spot]\n")
    rules = load_rules(path)
    assert rules.instruments == ("spot",)
    check = [c for c in rules.checks() if c.rule == "validity_instrument_allowed"]
    assert [(c.field, c.allowed) for c in check] == [("instrument", ("spot",))]
    default = tmp_path / "default.yaml"
    default.write_text(GOOD)
    assert "validity_instrument_allowed" not in load_rules(default).rule_names()
    path.write_text(GOOD + "instruments: [spot, futures]\n")
    with pytest.raises(SpecErrors) as info:
        load_rules(path)
    assert str(info.value).splitlines() == [
        f"{path}:8:21: 'instruments' names unknown instrument 'futures' "
        "(expected one of: spot, perpetual)"
    ]
