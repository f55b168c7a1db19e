"""Data-quality rules for the unified trade stream, read from ``detectors/quality.yaml``.

The rules are configuration, not code: :func:`load_rules` reads the YAML file and
reports every problem in it as ``path:line:col: message`` (:class:`SpecErrors`).
:mod:`ctc.runtime.quality` applies them. docs/quality.md describes the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from ctc.dsl.durations import Duration, parse_duration
from ctc.dsl.errors import Position, SpecError, SpecErrors
from ctc.dsl.yaml_loader import Located, load_yaml
from ctc.events import INSTRUMENTS, TRADE_EVENT_FIELDS

#: The dead-letter reasons, in the order the gate checks them.
REASONS: Final = ("malformed", "incomplete", "invalid")

#: The rule of a line that is not a JSON object of the trade event's field types.
PARSE_RULE: Final = "parse"

#: Trade event fields that hold times (ISO 8601 text in the JSON line).
TIME_FIELDS: Final = tuple(n for n, t in TRADE_EVENT_FIELDS.items() if t == "timestamp")

#: Trade event fields that hold numbers (what ``positive`` may name).
NUMERIC_FIELDS: Final = tuple(n for n, t in TRADE_EVENT_FIELDS.items() if t == "double")

#: Fields the gate itself needs: dedupe keys on event_id, lateness and dedupe on timestamp.
ALWAYS_REQUIRED: Final = ("event_id", "timestamp")

#: Every key of quality.yaml, in the order docs/quality.md lists them.
KEYS: Final = (
    "required",
    "positive",
    "symbols",
    "exchanges",
    "late_after",
    "quote_volume_tolerance",
    "dedupe_within",
)

#: Keys a quality.yaml may leave out: ``instruments`` (default ``"*"``, any instrument).
OPTIONAL_KEYS: Final = ("instruments",)

#: The keys that define validity rules; their order in the file is the order of the checks.
VALIDITY_KEYS: Final = ("positive", "symbols", "exchanges", "instruments")

WILDCARD: Final = "*"

Reason = Literal["malformed", "incomplete", "invalid"]
CheckKind = Literal["parse", "parse_time", "required", "positive", "allowed"]


@dataclass(frozen=True)
class Check:
    """One rule of the gate: its name (``rule``), dead-letter ``reason``, kind and field."""

    rule: str
    reason: Reason
    kind: CheckKind
    field: str | None = None
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class QualityRules:
    """The data-quality rules of one quality.yaml.

    ``symbols`` / ``exchanges`` are ``None`` when the file allows any (``"*"``).
    ``validity_order`` is the order in which the validity keys appear in the file.
    """

    path: str
    required: tuple[str, ...]
    positive: tuple[str, ...]
    symbols: tuple[str, ...] | None
    exchanges: tuple[str, ...] | None
    late_after: Duration
    quote_volume_tolerance: float
    dedupe_within: Duration
    validity_order: tuple[str, ...] = VALIDITY_KEYS
    #: ``spot`` / ``perpetual`` allowed (None: any, the default when the key is absent)
    instruments: tuple[str, ...] | None = None

    def checks(self) -> tuple[Check, ...]:
        """Every rule in evaluation order: malformed, then incomplete, then invalid.

        Within ``invalid`` the order is the file's (key order, then list order); the
        first failing check names a record's dead letter.
        """
        out: list[Check] = [Check(PARSE_RULE, "malformed", "parse")]
        out += [Check(f"parse_{f}", "malformed", "parse_time", f) for f in TIME_FIELDS]
        out += [Check(f"completeness_{f}", "incomplete", "required", f) for f in self.required]
        for key in self.validity_order:
            if key == "positive":
                out += [
                    Check(f"validity_{f}_positive", "invalid", "positive", f) for f in self.positive
                ]
            elif key == "symbols" and self.symbols is not None:
                out.append(
                    Check("validity_symbol_allowed", "invalid", "allowed", "symbol", self.symbols)
                )
            elif key == "instruments" and self.instruments is not None:
                out.append(
                    Check(
                        "validity_instrument_allowed",
                        "invalid",
                        "allowed",
                        "instrument",
                        self.instruments,
                    )
                )
            elif key == "exchanges" and self.exchanges is not None:
                out.append(
                    Check(
                        "validity_exchange_allowed",
                        "invalid",
                        "allowed",
                        "exchange",
                        self.exchanges,
                    )
                )
        return tuple(out)

    def rule_names(self) -> tuple[str, ...]:
        """The names of every rule, in evaluation order (the keys of ``failed_by_rule``)."""
        return tuple(c.rule for c in self.checks())


def load_rules(path: str | Path) -> QualityRules:
    """Read quality rules from the YAML file at ``path``.

    Raises :class:`SpecErrors` listing every problem as ``path:line:col: message``
    (unreadable file, YAML syntax, unknown or missing keys, wrong types, bad values).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecErrors(
            [SpecError(str(path), Position(1, 1), f"cannot read file: {exc}")]
        ) from exc
    return parse_rules(text, str(path))


def parse_rules(text: str, path: str) -> QualityRules:
    """Parse the quality rules in ``text`` (the contents of the file at ``path``)."""
    loc, errors = load_yaml(text, path)
    if loc is None:
        raise SpecErrors(errors)
    if not isinstance(loc.data, dict):
        raise SpecErrors([*errors, SpecError(path, loc.at(()), "quality rules must be a mapping")])
    rules, more = _build(loc, path)
    errors += more
    if errors or rules is None:
        raise SpecErrors(errors)
    return rules


def _build(loc: Located, path: str) -> tuple[QualityRules | None, list[SpecError]]:
    data: dict[str, Any] = loc.data
    errors: list[SpecError] = []

    def err(at: Position, message: str) -> None:
        errors.append(SpecError(path, at, message))

    for key in data:
        if key not in KEYS and key not in OPTIONAL_KEYS:
            expected = ", ".join((*KEYS, *OPTIONAL_KEYS))
            err(loc.key_at((key,)), f"unknown key '{key}' (expected one of: {expected})")
    for key in KEYS:
        if key not in data:
            err(loc.at(()), f"missing key '{key}'")

    required = _field_list(data, "required", TRADE_EVENT_FIELDS, loc, err)
    if isinstance(data.get("required"), list) and data["required"]:
        for name in ALWAYS_REQUIRED:
            if name not in data["required"]:
                err(
                    loc.at(("required",)),
                    f"'required' must include '{name}': the gate dedupes and times records by it",
                )
    positive = _field_list(data, "positive", NUMERIC_FIELDS, loc, err, may_be_empty=True)
    symbols = _allow_list(data, "symbols", loc, err)
    exchanges = _allow_list(data, "exchanges", loc, err)
    instruments = _allow_list(data, "instruments", loc, err) if "instruments" in data else None
    for i, item in enumerate(instruments or ()):
        if item != WILDCARD and item not in INSTRUMENTS:
            err(
                loc.at(("instruments", i)),
                f"'instruments' names unknown instrument '{item}' "
                f"(expected one of: {', '.join(INSTRUMENTS)})",
            )
    late_after = _duration(data, "late_after", loc, err)
    dedupe_within = _duration(data, "dedupe_within", loc, err)
    tolerance = _tolerance(data, loc, err)

    if errors:
        return None, errors
    assert required is not None and positive is not None
    assert late_after is not None and dedupe_within is not None and tolerance is not None
    return (
        QualityRules(
            path=path,
            required=required,
            positive=positive,
            symbols=symbols if symbols != (WILDCARD,) else None,
            exchanges=exchanges if exchanges != (WILDCARD,) else None,
            instruments=instruments if instruments != (WILDCARD,) else None,
            late_after=late_after,
            quote_volume_tolerance=tolerance,
            dedupe_within=dedupe_within,
            validity_order=tuple(k for k in data if k in VALIDITY_KEYS),
        ),
        errors,
    )


def _field_list(
    data: dict[str, Any],
    key: str,
    fields: Any,
    loc: Located,
    err: Any,
    *,
    may_be_empty: bool = False,
) -> tuple[str, ...] | None:
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, list) or (not value and not may_be_empty):
        what = "a list of field names" if may_be_empty else "a non-empty list of field names"
        err(loc.at((key,)), f"'{key}' must be {what}, got {_show(value)}")
        return None
    out: list[str] = []
    ok = True
    for i, item in enumerate(value):
        if not isinstance(item, str) or item not in fields:
            err(
                loc.at((key, i)),
                f"'{key}' names unknown field {_show(item)} (expected one of: {', '.join(fields)})",
            )
            ok = False
        elif item in out:
            err(loc.at((key, i)), f"'{key}' lists '{item}' twice")
            ok = False
        else:
            out.append(item)
    return tuple(out) if ok else None


def _allow_list(data: dict[str, Any], key: str, loc: Located, err: Any) -> tuple[str, ...] | None:
    if key not in data:
        return None
    value = data[key]
    if value == WILDCARD:
        return (WILDCARD,)
    if not isinstance(value, list) or not value:
        err(
            loc.at((key,)),
            f"'{key}' must be a non-empty list of names or \"*\", got {_show(value)}",
        )
        return None
    out: list[str] = []
    ok = True
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            err(loc.at((key, i)), f"'{key}' entries must be non-empty text, got {_show(item)}")
            ok = False
        elif item == WILDCARD and len(value) > 1:
            err(loc.at((key, i)), f"'{key}': \"*\" allows any and must stand alone")
            ok = False
        elif item in out:
            err(loc.at((key, i)), f"'{key}' lists '{item}' twice")
            ok = False
        else:
            out.append(item)
    return tuple(out) if ok else None


def _duration(data: dict[str, Any], key: str, loc: Located, err: Any) -> Duration | None:
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, str):
        err(loc.at((key,)), f"'{key}' must be a duration such as '5 minutes', got {_show(value)}")
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        err(loc.at((key,)), f"'{key}': {exc}")
        return None


def _tolerance(data: dict[str, Any], loc: Located, err: Any) -> float | None:
    key = "quote_volume_tolerance"
    if key not in data:
        return None
    value = data[key]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        err(loc.at((key,)), f"'{key}' must be a number >= 0 (0.001 = 0.1 %), got {_show(value)}")
        return None
    return float(value)


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "an empty list" if not value else "a list"
    return repr(value)


def rules_beside(spec_path: str | Path, quality: str | None = None) -> QualityRules | None:
    """The quality rules for a back-test of the specs at ``spec_path`` (a file or folder).

    ``quality``: a quality.yaml, or ``any`` (None: every symbol and exchange passes);
    default: the ``quality.yaml`` beside the specs, else ``any``.
    """
    if quality == "any":
        return None
    if quality:
        return load_rules(quality)
    p = Path(spec_path)
    beside = (p if p.is_dir() else p.parent) / "quality.yaml"
    return load_rules(beside) if beside.exists() else None
