"""What an input turned out to be, in one line for the person who gave it: empty, mostly
rejected by the quality gate (with the main reasons), or no trade events at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Rejections above this share of the records read are worth a warning.
WARN_SHARE = 0.5

_RULES = {
    "parse": "not a JSON object of a trade event",
    "parse_timestamp": "timestamp not an ISO 8601 date-time with a zone",
    "parse_ingestion_timestamp": "ingestion_timestamp not an ISO 8601 date-time with a zone",
    "validity_symbol_allowed": "symbol not allowed by the quality rules",
    "validity_exchange_allowed": "exchange not allowed by the quality rules",
}


def rule_meaning(rule: str) -> str:
    """A quality rule's name (docs/quality.md) as a short phrase."""
    if rule in _RULES:
        return _RULES[rule]
    if rule.startswith("completeness_"):
        return f"no {rule.removeprefix('completeness_')}"
    if rule.startswith("validity_") and rule.endswith("_positive"):
        return f"{rule.removeprefix('validity_').removesuffix('_positive')} not > 0"
    return rule


def main_reasons(by_rule: dict[str, int], n: int = 3) -> str:
    """The ``n`` rules that rejected most records: ``count phrase (rule)``, joined by ``;``."""
    top = sorted(((c, r) for r, c in by_rule.items() if c), key=lambda x: (-x[0], x[1]))[:n]
    return "; ".join(f"{c:,} {rule_meaning(r)} ({r})" for c, r in top)


@dataclass(frozen=True)
class Verdict:
    """``kind``: ok, empty (nothing read), warn (most records rejected) or error (none
    passed); ``message``: one line, empty when ok."""

    kind: Literal["ok", "empty", "warn", "error"]
    message: str = ""


def judge_input(
    what: str, read: int, passed: int, rejected: int, by_rule: dict[str, int]
) -> Verdict:
    """The verdict on an input named ``what`` (a file or folder) from the gate's counts."""
    if read == 0:
        return Verdict("empty", f"{what} is empty: no records")
    reasons = main_reasons(by_rule)
    if passed == 0:
        top = max(by_rule, key=lambda r: by_rule[r], default="")
        if top == "parse" and by_rule[top] * 2 > rejected:
            return Verdict(
                "error",
                f"{what} is not JSON lines of trade events: {rejected:,} of {read:,} lines "
                f"rejected ({reasons})",
            )
        return Verdict(
            "error",
            f"{what} has no usable trade events: {rejected:,} of {read:,} records rejected "
            f"({reasons})",
        )
    if rejected > WARN_SHARE * read:
        return Verdict(
            "warn",
            f"{rejected:,} of {read:,} records of {what} rejected by the quality gate ({reasons})",
        )
    return Verdict("ok")
