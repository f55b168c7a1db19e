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
    #: a ``running:`` column: aggregates over the key's rows so far (RUNNING_FUNCTIONS)
    running: bool = False
    #: ``derive:`` of a window spec: ranks across the window's keys (RANK_FUNCTIONS)
    ranks: bool = False
    group_columns: frozenset[str] = frozenset()
    what: str = "this expression"
