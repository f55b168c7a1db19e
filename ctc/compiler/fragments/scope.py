"""What a fragment may refer to at its place in the plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class Scope:
    """What a fragment may refer to: columns (name → Spark type) and qualified tables."""

    columns: Mapping[str, str]
    tables: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    aggregates: bool = False
    baseline: bool = False
    group_columns: frozenset[str] = frozenset()
    what: str = "this expression"
