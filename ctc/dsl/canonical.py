"""A spec's canonical form and its version: what alert provenance records.

The canonical form is the validated spec (:class:`ctc.dsl.model.Spec`) as compact JSON:
every field but where the file is, SQL fragments as their text, durations in seconds,
params sorted by name. Comments, formatting, key order, YAML quoting styles and the unit a
duration is written in do not change it; any other edit does (a param, a threshold, the
message, the title). The version is the first 16 hex digits of its SHA-256.

It is computed from the model, not from the file's text, so a spec changed in memory (a
review's variant with one param changed) has the version of what it computes.

Keys added to the language later (an alert's ``label`` and ``per``, the ``publish:`` and
``running:`` sections) are left out while a spec does not use them, so a spec written
before them keeps its version (the versions of its history, which alert provenance looks
up, stay the same); a spec that uses one has a new version, like any other edit of what it
says.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields, is_dataclass
from typing import Any

from ctc.dsl.durations import Duration
from ctc.dsl.model import AlertRule, Spec, Sql

#: Hex digits of the SHA-256 kept as the version (64 bits: no two versions of a detector
#: collide in practice).
VERSION_DIGITS = 16

#: Fields left out of the canonical form: where the spec file is, and the YAML node a rule
#: came from (both say nothing about what the detector computes).
_LEFT_OUT = {(Spec, "path"), (AlertRule, "path")}

#: Fields added to the language later: left out while None (see the module docstring).
_LATER = {(Spec, "publish"), (Spec, "running"), (AlertRule, "label"), (AlertRule, "per")}


def _plain(value: Any) -> Any:
    """``value`` as JSON-able data (see the module docstring)."""
    if isinstance(value, Sql):
        return value.text
    if isinstance(value, Duration):
        return value.seconds
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in fields(value)
            if f.compare
            and (type(value), f.name) not in _LEFT_OUT
            and not ((type(value), f.name) in _LATER and getattr(value, f.name) is None)
        }
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def canonical_form(spec: Spec) -> str:
    """The canonical JSON text of ``spec`` (see the module docstring)."""
    data = _plain(spec)
    data["params"] = sorted(data["params"], key=lambda kv: kv[0])
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def spec_version(spec: Spec) -> str:
    """The version of ``spec``: 16 hex digits of the SHA-256 of its canonical form."""
    digest = hashlib.sha256(canonical_form(spec).encode("utf-8")).hexdigest()
    return digest[:VERSION_DIGITS]
