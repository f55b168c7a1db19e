"""What the quality gate must make of each line of tests/quality/broken_trades.jsonl,
written by hand (shared by the gate tests and the streaming dead-letter test)."""

from __future__ import annotations

from typing import Any

PASSED = "passed"
DUPLICATE = "duplicate"

#: line (0-based) → outcome: "passed" | "duplicate" | (reason, rule)
EXPECTED: dict[int, Any] = {
    0: PASSED,  # ok-1: a clean trade
    1: ("malformed", "parse"),  # not JSON (",,")
    2: ("malformed", "parse"),  # truncated line
    3: ("malformed", "parse"),  # JSON, but an array, not an object
    4: ("malformed", "parse"),  # price "abc": wrong type
    5: ("incomplete", "completeness_price"),  # no price key
    6: ("invalid", "validity_price_positive"),  # price 0
    7: ("invalid", "validity_quantity_positive"),  # quantity -1.5
    8: ("invalid", "validity_symbol_allowed"),  # DOGE-USDT
    9: ("invalid", "validity_exchange_allowed"),  # kraken
    10: ("malformed", "parse_timestamp"),  # month 13
    11: ("malformed", "parse_timestamp"),  # no zone
    12: PASSED,  # quote_volume 201 vs 200: 0.5 % off → quote_warning
    13: PASSED,  # quote_volume 200.1 vs 200: 0.05 % → no warning
    14: PASSED,  # 11:50:00 → late
    15: PASSED,  # 11:55:00, exactly 5 min: not older than the limit → not late
    16: PASSED,  # dup-1, first arrival
    17: DUPLICATE,  # dup-1 again, same batch
    18: ("invalid", "validity_price_positive"),  # dup-1 with price 0: invalid, not a duplicate
    19: ("incomplete", "completeness_symbol"),  # no symbol and price 0: incomplete wins
    20: ("invalid", "validity_price_positive"),  # price 0 and DOGE: positive comes first
    21: ("malformed", "parse"),  # blank line
    22: ("incomplete", "completeness_event_id"),  # event_id ""
    23: ("incomplete", "completeness_timestamp"),  # no timestamp
    24: ("invalid", "validity_exchange_allowed"),  # no exchange
    25: ("malformed", "parse"),  # NaN is not JSON
    26: PASSED,  # no quote_volume → quote_warning
    27: ("malformed", "parse_ingestion_timestamp"),  # ingestion_timestamp "soon"
    28: ("invalid", "validity_price_positive"),  # 1e400 = infinite
    29: PASSED,  # 12:58+01:00 = 11:58Z, not late
}
