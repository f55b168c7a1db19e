"""The typed, immutable model of a detector spec.

Every SQL fragment is kept as :class:`Sql`: its text and the path of the YAML
node it came from, so the compiler can report problems at their line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from ctc.dsl.durations import Duration
from ctc.dsl.yaml_loader import Located, Path_

ParamValue = int | float | str | bool
Severity = Literal["low", "medium", "high", "critical"]


@dataclass(frozen=True)
class Sql:
    """A Spark SQL expression as written in a spec, with where it was written."""

    text: str
    path: Path_


@dataclass(frozen=True)
class Reference:
    """A static reference table (CSV, JSON or Parquet) with declared columns."""

    name: str
    path: str
    format: str
    refresh: str
    columns: tuple[tuple[str, str], ...]


class SourceKind(StrEnum):
    """What a detector reads (its ``source``). Code dispatches on these members; the value
    is the name the spec and explain use."""

    STREAM = "stream"
    DETECTOR = "detector"
    ALERTS = "alerts"
    REFERENCE = "reference"


@dataclass(frozen=True)
class Source:
    """What a detector reads. Exactly one of the fields is set."""

    stream: str | None = None
    detector: str | None = None
    alerts: tuple[str, ...] = ()
    reference: Reference | None = None

    @property
    def kind(self) -> SourceKind:
        """stream, detector, alerts or reference."""
        if self.stream:
            return SourceKind.STREAM
        if self.detector:
            return SourceKind.DETECTOR
        if self.alerts:
            return SourceKind.ALERTS
        return SourceKind.REFERENCE


@dataclass(frozen=True)
class Enrich:
    """A left join of each row to a reference table."""

    reference: Reference
    on: Sql
    columns: tuple[tuple[str, Sql], ...]


@dataclass(frozen=True)
class Lookup:
    """An as-of lookup of another source's last value at or before a time."""

    name: str
    source: str
    value: str
    match: tuple[tuple[str, Sql], ...]
    at: Sql
    within: Duration


@dataclass(frozen=True)
class Window:
    """Epoch-aligned event-time windows."""

    type: Literal["tumbling", "sliding"]
    size: Duration
    slide: Duration | None
    watermark: Duration
    time: str | None


@dataclass(frozen=True)
class Running:
    """Ordered running aggregates over a key's rows within its window (``running:``)."""

    #: the column the rows are ordered by (None: the event time); ties by the row id
    order_by: str | None
    #: the running columns, in order; each may read the ones above it
    columns: tuple[tuple[str, Sql], ...]


@dataclass(frozen=True)
class Baseline:
    """Statistics over the same key's earlier windows within ``lookback``."""

    lookback: Duration
    stats: tuple[tuple[str, Sql], ...]


@dataclass(frozen=True)
class SeverityBand:
    """One severity level and the condition for it (None: the catch-all last band)."""

    level: Severity
    when: Sql | None


@dataclass(frozen=True)
class AlertRule:
    """When to raise an alert, its severity, and what it says."""

    type: str
    when: Sql
    severity: tuple[SeverityBand, ...]
    message: Sql
    symbol: Sql | None
    exchange: Sql | None
    key: tuple[str, ...] | None
    details: tuple[str, ...]
    path: Path_
    #: the type in words for people (None: the spec gives none; the compiler derives one)
    label: str | None = None
    #: ``row``: one alert per row of a window plan's event stage, with its window's
    #: figures; None (or ``window``): one per key and window, or per row without a window
    per: Literal["window", "row"] | None = None

    @property
    def per_row_of_window(self) -> bool:
        """Whether the rule says ``per: row`` (one alert per row of a window)."""
        return self.per == "row"


@dataclass(frozen=True)
class Output:
    """The module's own lake table."""

    table: str
    partition_by: tuple[str, ...]
    rows: Literal["all", "alerted"]


@dataclass(frozen=True)
class Series:
    """One chart series a detector publishes (``publish.series.<name>``): a point per
    output row. Columns are output columns; None means the compiler's default."""

    name: str
    value: str
    label: str | None
    description: str | None
    unit: str | None
    time: str | None
    symbol: str | None
    exchange: str | None
    details: tuple[str, ...]
    chart: Literal["bars", "line"]
    markers: tuple[str, ...] | None
    guides: tuple[float | str, ...]
    metric: str | None
    missing: str | None


@dataclass(frozen=True)
class Publish:
    """What the API and the dashboard show of a detector besides its alerts."""

    series: tuple[Series, ...]


@dataclass(frozen=True)
class Spec:
    """A validated detector spec, as read from one YAML file."""

    path: str
    module: str
    name: str
    title: str
    description: str
    tier: Literal["small", "medium", "large"]
    mode: Literal["streaming", "batch"]
    schedule: str | None
    params: tuple[tuple[str, ParamValue], ...]
    source: Source
    filter: Sql | None
    enrich: tuple[Enrich, ...]
    lookups: tuple[Lookup, ...]
    prepare: tuple[tuple[str, Sql], ...]
    window: Window | None
    group_by: tuple[str, ...]
    aggregate: tuple[tuple[str, Sql], ...]
    baseline: Baseline | None
    derive: tuple[tuple[str, Sql], ...]
    alerts: tuple[AlertRule, ...]
    output: Output
    located: Located = field(compare=False, hash=False, repr=False)
    raw: Any = field(compare=False, hash=False, repr=False, default=None)
    #: the ``publish:`` section (None: the spec has none)
    publish: Publish | None = None
    #: the ``running:`` section (None: the spec has none)
    running: Running | None = None

    @property
    def param_map(self) -> dict[str, ParamValue]:
        """The params as a dict."""
        return dict(self.params)

    @property
    def stem(self) -> str:
        """A SQL-safe name for this detector, used in view names: whale_detector."""
        return self.name.replace("-", "_")
