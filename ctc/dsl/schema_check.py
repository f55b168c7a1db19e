"""Check loaded YAML against the detector JSON Schema, with friendly, positioned messages."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from ctc.dsl.errors import SpecError
from ctc.dsl.yaml_loader import Located

SCHEMA_FILE = "detector.schema.json"


@cache
def detector_schema() -> dict[str, Any]:
    """The detector spec JSON Schema shipped inside the package."""
    text = resources.files("ctc.dsl").joinpath("schema", SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _whole_pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """``pattern`` that must match the whole text: Python's ``$`` also matches before a final
    newline, so ``'trades\\n'`` would pass ``^[a-z_]+$``. (Editors read the schema as
    ECMA-262 regexes, where ``$`` is the end of the text: both now agree.)"""
    if not validator.is_type(instance, "string"):
        return
    anchored = pattern.startswith("^") and pattern.endswith("$")
    ok = re.fullmatch(pattern, instance) if anchored else re.search(pattern, instance)
    if not ok:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = detector_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    cls = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _whole_pattern})
    return cls(schema)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "nothing" if value is None else type(value).__name__


_TYPE_WORDS = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
}


def _where(path: list[str | int]) -> str:
    return ".".join(str(p) for p in path) or "the spec"


def _message(err: ValidationError) -> tuple[tuple[str | int, ...], bool, str]:
    """(path to point at, point at the key?, message) for one schema error."""
    path = tuple(err.absolute_path)
    v = err.validator
    if v == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = (
            [k for k in err.instance if k not in allowed] if isinstance(err.instance, dict) else []
        )
        key = extra[0] if extra else "?"
        hint = difflib.get_close_matches(key, allowed, n=1)
        tip = f" (did you mean '{hint[0]}'?)" if hint else f"; allowed: {', '.join(allowed)}"
        return (*path, key), True, f"unknown key '{key}' in {_where(list(path))}{tip}"
    if v == "required":
        missing = str(err.message).split("'")[1] if "'" in err.message else err.message
        return path, True, f"missing required key '{missing}' in {_where(list(path))}"
    if v == "type":
        want = err.validator_value
        wants = want if isinstance(want, list) else [want]
        words = " or ".join(_TYPE_WORDS.get(str(w), str(w)) for w in wants)
        return (
            path,
            False,
            (
                f"{_where(list(path))} must be {words}, "
                f"got {_type_name(err.instance)} {err.instance!r}"
            ),
        )
    if v == "enum":
        opts = ", ".join(repr(o) for o in err.validator_value)
        return path, False, f"{_where(list(path))} must be one of {opts}, got {err.instance!r}"
    if v == "const":
        return path, False, f"{_where(list(path))} must be {err.validator_value!r} here"
    if v == "pattern":
        desc = err.schema.get("description", "")
        if desc.lower().startswith("one line of text"):
            return (
                path,
                False,
                f"{_where(list(path))} must be one line of text, without control characters "
                "(newlines, escapes)",
            )
        if "duration" in desc.lower() or "(second|minute" in str(err.validator_value):
            return (
                path,
                False,
                (
                    f"{_where(list(path))}: {err.instance!r} is not a duration "
                    "(write e.g. '30 seconds', '5 minutes', '1 hour')"
                ),
            )
        return (
            path,
            False,
            (
                f"{_where(list(path))}: {err.instance!r} does not match the expected form "
                f"{err.validator_value}"
            ),
        )
    if v in ("minItems", "minProperties", "minLength"):
        return path, False, f"{_where(list(path))} must not be empty"
    if v == "maxProperties" and path and path[-1] == "source":
        return path, False, "source must name exactly one of: stream, detector, alerts, reference"
    if v == "uniqueItems":
        return path, False, f"{_where(list(path))} lists an item twice"
    if v == "not":
        return path, False, f"{_where(list(path))}: 'slide' is only for sliding windows"
    if v == "propertyNames":
        return (
            path,
            False,
            (f"{_where(list(path))}: name {err.instance!r} must be lower_snake_case"),
        )
    return path, False, f"{_where(list(path))}: {err.message}"


def check_schema(located: Located, path: str) -> list[SpecError]:
    """Every JSON Schema violation of the loaded spec, positioned in the file."""
    errors: list[SpecError] = []
    for err in _validator().iter_errors(located.data):
        nested = err.validator in ("if", "allOf") and err.context
        leaves = list(err.context) if nested else [err]
        for leaf in leaves:
            at, on_key, msg = _message(leaf)
            pos = located.key_at(at) if on_key else located.at(at)
            errors.append(SpecError(path, pos, msg))
    return errors
