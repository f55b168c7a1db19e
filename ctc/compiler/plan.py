"""The compiled form of a detector: a Plan of ordered Spark SQL stages.

Each stage is one SELECT over the views of the stages before it and defines a
temporary view of its own. The same SQL runs in batch and in streaming; only the rows
each view holds differ:

* batch (``ctc backtest``, ``ctc test``, :mod:`ctc.runtime.batch`): every stage over all
  the rows at once;
* streaming (``ctc run``): one Structured Streaming query whose ``foreachBatch`` runs
  every plan's stages over each micro-batch's new rows (:mod:`ctc.runtime.detect_levels`
  over :mod:`ctc.runtime.incremental`). Spark's own stateful operators and watermark
  are not used: the runtime keeps each window plan's state on the driver (the buffered
  rows of open windows, the closed windows of the baseline's lookback) and its own
  watermark on the rows of the :attr:`Plan.event_view`; it runs the aggregate stage over
  the windows the watermark has passed, and the baseline over the history plus them
  (:meth:`Plan.windowed` splits the stages for it). docs/runtime.md has the details,
  ADR 0005 and 0008 the choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ctc.dsl.model import ParamValue, SourceKind  # SourceKind: the type of Plan.source_kind


class StageKind(StrEnum):
    """What a stage computes. Code dispatches on these members (or on the typed
    accessors of :class:`Plan`), never on strings or positions; the value is the name
    printed in explain, review and the golden SQL."""

    INPUT = "input"
    ENRICH = "enrich"
    LOOKUP = "lookup"
    PREPARE = "prepare"
    FILTER = "filter"
    RUNNING = "running"
    AGGREGATE = "aggregate"
    BASELINE = "baseline"
    DERIVE = "derive"
    WINDOW_ROWS = "window_rows"
    ALERTS = "alerts"
    OUTPUT = "output"


class PlanShapeError(ValueError):
    """A plan's stages are not in a shape the runtime can run (a compiler bug)."""


@dataclass(frozen=True)
class StateBound:
    """What state a stage keeps in streaming and how large it can grow."""

    what: str
    per_key: int
    keys: tuple[str, ...]
    retention_seconds: int

    def describe(self) -> str:
        """e.g. '|symbol × exchange| keys × 60 windows, kept 3600 s'."""
        keys = " × ".join(self.keys) if self.keys else "1"
        return (
            f"{self.what}: |{keys}| keys × {self.per_key} rows each, "
            f"each kept {self.retention_seconds} s"
        )


@dataclass(frozen=True)
class Stage:
    """One SELECT of the plan."""

    kind: StageKind
    view: str
    reads: tuple[str, ...]
    sql: str
    note: str
    streaming: str
    columns: tuple[tuple[str, str], ...]
    state: StateBound | None = None


@dataclass(frozen=True)
class WindowedStages:
    """A window plan's stages around the aggregation (:meth:`Plan.windowed`)."""

    #: the row stages before the aggregation (the event stage among them)
    before: tuple[Stage, ...]
    aggregate: Stage
    #: the baseline, reading the aggregate directly (None: the plan has none)
    baseline: Stage | None
    #: the stages after the aggregation (and the baseline)
    after: tuple[Stage, ...]


@dataclass(frozen=True)
class AlertRulePlan:
    """An alert rule as compiled, for explain and review."""

    type: str
    when_text: str
    when_sql: str
    bands: tuple[tuple[str, str | None], ...]
    band_texts: tuple[str | None, ...]
    message_template: str
    message_sql: str
    details: tuple[str, ...]
    key: tuple[str, ...]
    anchor: str
    detected_at: str
    #: ``row``: one alert per row of the window plan's event stage, read from the
    #: :attr:`StageKind.WINDOW_ROWS` stage; ``window``: one per row of the last row stage
    per: str = "window"


@dataclass(frozen=True)
class SeriesPlan:
    """A chart series as compiled (``publish.series``, ctc.compiler.publish): the output
    columns of its points, checked, and every default filled in."""

    name: str
    label: str
    description: str
    unit: str
    #: output columns: the value drawn, the point's time, its symbol, its exchange (None:
    #: a cross-exchange series) and what is kept with it
    value: str
    time: str
    symbol: str
    exchange: str | None
    details: tuple[str, ...]
    chart: str
    #: alert types of the plan marked on the chart
    markers: tuple[str, ...]
    #: horizontal guide lines (params resolved)
    guides: tuple[float, ...]
    #: the name GET /metrics/{symbol} reports the latest value under (None: not reported)
    metric: str | None
    #: why a point may have no value ("" when the spec does not say)
    missing: str


@dataclass(frozen=True)
class PublishPlan:
    """What a plan publishes for the API and the dashboard besides its rows: each alert
    type in words, and its chart series. Metadata: no stage reads it."""

    #: (alert type, label), in rule order
    alert_labels: tuple[tuple[str, str], ...] = ()
    series: tuple[SeriesPlan, ...] = ()


@dataclass(frozen=True)
class LookupPlan:
    """An as-of lookup as compiled, for the stream (ctc.runtime.asof): a row waits until
    the looked-up stream's clock minus the plan's watermark passes ``at``."""

    name: str
    #: the looked-up stream (``trades``), its event-time and id columns, the value read
    source: str
    time_column: str
    id_column: str
    value: str
    #: the stream's columns the lookup matches on -> the row's SQL for each (unqualified)
    match: tuple[tuple[str, str], ...]
    #: the lookup time, SQL over the row's columns before the lookups (unqualified)
    at_sql: str
    within_seconds: int


@dataclass(frozen=True)
class WindowPlan:
    """Window and watermark of a plan."""

    type: str
    size_seconds: int
    slide_seconds: int
    watermark_seconds: int
    time_column: str
    size_text: str
    watermark_text: str
    #: the baseline's lookback (0: no baseline): how long closed windows are kept
    baseline_lookback_seconds: int = 0


@dataclass(frozen=True)
class Plan:
    """Everything needed to run one detector, in batch or streaming."""

    module: str
    name: str
    title: str
    description: str
    spec_path: str
    tier: str
    mode: str
    schedule: str | None
    params: tuple[tuple[str, ParamValue], ...]
    source_kind: SourceKind
    source_view: str
    source_modules: tuple[str, ...]
    time_column: str
    id_column: str | None
    watermark_seconds: int
    #: the view whose rows carry the event-time column: streaming sets the watermark here
    event_view: str
    window: WindowPlan | None
    stages: tuple[Stage, ...]
    alert_rules: tuple[AlertRulePlan, ...]
    output_table: str
    output_partition_by: tuple[str, ...]
    output_rows: str
    depends_on: tuple[str, ...]
    references: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = field(default=())
    #: the version of the spec compiled (ctc.dsl.canonical.spec_version): alert provenance
    spec_version: str = ""
    #: alert labels and chart series for the API and the dashboard (ctc.compiler.publish)
    publish: PublishPlan = PublishPlan()
    #: the as-of lookups (``lookups:``), in plan order
    lookups: tuple[LookupPlan, ...] = ()

    def stages_of(self, kind: StageKind) -> tuple[Stage, ...]:
        """The stages of ``kind``, in plan order."""
        return tuple(s for s in self.stages if s.kind is kind)

    def _only(self, kind: StageKind) -> Stage | None:
        found = self.stages_of(kind)
        if len(found) > 1:
            raise PlanShapeError(f"{self.module}: {len(found)} {kind} stages, at most one expected")
        return found[0] if found else None

    def _one(self, kind: StageKind) -> Stage:
        stage = self._only(kind)
        if stage is None:
            raise PlanShapeError(f"{self.module}: the plan has no {kind} stage")
        return stage

    @property
    def alerts_stage(self) -> Stage:
        """The stage of this plan's base alert records."""
        return self._one(StageKind.ALERTS)

    @property
    def output_stage(self) -> Stage:
        """The stage of this plan's output-table rows."""
        return self._one(StageKind.OUTPUT)

    @property
    def aggregate_stage(self) -> Stage | None:
        """The window aggregation (None: the plan has no window)."""
        return self._only(StageKind.AGGREGATE)

    @property
    def baseline_stage(self) -> Stage | None:
        """The baseline over earlier windows (None: the plan has none)."""
        return self._only(StageKind.BASELINE)

    @property
    def window_rows_stage(self) -> Stage | None:
        """The event rows joined with their window's figures, which ``per: row`` alert
        rules read (None: the plan has no such rule)."""
        return self._only(StageKind.WINDOW_ROWS)

    @property
    def event_stage(self) -> Stage:
        """The stage whose rows carry the event time (its view is :attr:`event_view`)."""
        found = [s for s in self.stages if s.view == self.event_view]
        if len(found) != 1:
            raise PlanShapeError(f"{self.module}: no single stage defines {self.event_view}")
        return found[0]

    @property
    def alerts_view(self) -> str:
        """The view holding this plan's base alert records."""
        return self.alerts_stage.view

    @property
    def output_view(self) -> str:
        """The view holding this plan's output-table rows."""
        return self.output_stage.view

    @property
    def output_columns(self) -> tuple[tuple[str, str], ...]:
        """Columns of the output table."""
        return self.output_stage.columns

    def windowed(self) -> WindowedStages:
        """The stages of a window plan split around its aggregation, as the incremental
        runtime runs them. Raises :class:`PlanShapeError` for a shape it cannot run
        faithfully: a baseline that does not read the aggregation directly would lose
        the closed windows of its lookback (the history holds aggregated windows only)."""
        agg = self.aggregate_stage
        if agg is None:
            raise PlanShapeError(f"{self.module}: the plan has no aggregate stage")
        i = self.stages.index(agg)
        before, after = self.stages[:i], self.stages[i + 1 :]
        event = self.event_stage
        if event not in before:
            raise PlanShapeError(
                f"{self.module}: the event stage {event.view} must come before the aggregation"
            )
        base = self.baseline_stage
        if base is None:
            return WindowedStages(before, agg, None, after)
        if not after or after[0] is not base or base.reads != (agg.view,):
            between = ", ".join(s.kind for s in after[: after.index(base)]) if base in after else ""
            raise PlanShapeError(
                f"{self.module}: the baseline stage must read the aggregate stage "
                f"directly (it reads {', '.join(base.reads)}"
                + (f"; between them: {between}" if between else "")
                + "): the runtime keeps only aggregated windows as the baseline's history"
            )
        return WindowedStages(before, agg, base, after[1:])

    @property
    def sinks(self) -> tuple[str, ...]:
        """Where results go, for people."""
        part = ", ".join(self.output_partition_by) or "unpartitioned"
        return (
            "alerts → shared alert sink: hot store (SQLite locally, DynamoDB in AWS) and lake "
            "table anomaly_alerts (day(detected_at), alert_type)",
            f"rows → lake table {self.output_table} ({part})",
        )

    def sql_script(self) -> str:
        """All stages as one reviewable SQL script (the golden-file form)."""
        parts = [f"-- {self.module} {self.name}: generated by ctc from {self.spec_path}"]
        if self.window:
            parts.append(
                f"-- event time {self.time_column}; {self.window.type} window "
                f"{self.window.size_text}; watermark {self.window.watermark_text}"
            )
        for stage in self.stages:
            parts.append(
                f"\n-- stage {stage.kind}: {stage.note}\n"
                f"CREATE OR REPLACE TEMPORARY VIEW {stage.view} AS\n{stage.sql};"
            )
        return "\n".join(parts) + "\n"
