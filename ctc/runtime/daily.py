"""``ctc run --batch --date D``: the batch detectors (``mode: batch``) for one day, from the lake.

The scheduled step of the daily work (infra/modules/batch: EventBridge Scheduler starts a
Step Functions state machine whose ``BatchDetectors`` step runs this through the job's
entry point). For the UTC day ``D`` it:

1. reads its inputs from the lake, each bounded in time: the passed trades
   (``raw_trades``), the alerts (``anomaly_alerts``) and the output table of every
   streaming detector a batch detector reads,
   from the history the plans need (each plan's window size and baseline lookback before
   the end of ``D``, and a day more for the lookups' ``within``) up to the end of the day
   after ``D`` (the horizon of the lookups that look ahead: MOD-011's price 24 h after an
   alert; MOD-004 runs in the stream since ADR 0021);
2. runs the batch plans in dependency order over them (the back-test's stage runner,
   :func:`ctc.runtime.batch.register_stages`);
3. keeps the day's results: the rows and alerts of the windows that end within ``D``
   (``detected_at`` in ``(D, D + 1 day]``: MOD-011's day window), or of a per-row plan
   the rows of ``D``;
4. writes them through the stream's sink (:class:`ctc.runtime.publish.Publisher`): the
   alerts to the hot store (an upsert by ``alert_id``) and, with each plan's output rows,
   to the lake, under the batch key ``daily:<D>:<module>``.

Per day it is idempotent: alert ids are derived from the window and key, the hot store
upserts them and the lake writes a batch key once, so a second run for ``D`` writes no
row twice (a run cut short is completed by the next one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ctc.compiler.plan import Plan, SourceKind
from ctc.events import ALERT_FIELDS
from ctc.runtime.batch import dependency_order, register_stages
from ctc.runtime.sources import empty, empty_onchain

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from ctc.sinks.lake.base import Lake

Say = Callable[[str], None]

#: How far after the day the inputs reach: the lookups' horizon (24 h) and its slack.
LOOKAHEAD = timedelta(days=1)

#: Extra history before each plan's window and baseline: the lookups' ``within``.
HISTORY_SLACK = timedelta(days=1)

#: How many days back the default date is: the latest day whose every 24-hour horizon
#: (MOD-011's prices) has passed by the time the step runs.
DEFAULT_DAYS_BACK = 2


class DailyBatchError(ValueError):
    """A daily batch that cannot run (one line for the user)."""


def parse_day(text: str) -> date:
    """``YYYY-MM-DD`` as a date; DailyBatchError otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DailyBatchError(f"--date {text!r} is not a day (YYYY-MM-DD)") from None


def default_day(now: datetime | None = None) -> date:
    """The day a scheduled run processes: :data:`DEFAULT_DAYS_BACK` days before today (UTC)."""
    return (now or datetime.now(UTC)).astimezone(UTC).date() - timedelta(days=DEFAULT_DAYS_BACK)


@dataclass(frozen=True)
class DayBounds:
    """The times of day ``day``: its start and end (UTC) and the inputs' horizon."""

    day: date

    @property
    def start(self) -> datetime:
        """00:00 UTC of the day."""
        return datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """00:00 UTC of the next day."""
        return self.start + timedelta(days=1)

    @property
    def horizon(self) -> datetime:
        """Inputs are read up to this time (exclusive)."""
        return self.end + LOOKAHEAD

    def history_start(self, plans: Sequence[Plan]) -> datetime:
        """Inputs are read from this time: the longest window and baseline of ``plans``
        before the day's end, and :data:`HISTORY_SLACK`."""
        longest = max(
            (
                p.window.size_seconds + p.window.baseline_lookback_seconds
                for p in plans
                if p.window is not None
            ),
            default=24 * 3600,
        )
        return min(self.end - timedelta(seconds=longest), self.start) - HISTORY_SLACK


@dataclass
class PlanDay:
    """One batch plan's results for the day."""

    module: str
    name: str
    rows: int
    alerts: int
    #: lake tables this run appended to
    written: list[str] = field(default_factory=list)
    #: lake tables an earlier run for the day had written to already
    already: list[str] = field(default_factory=list)

    def lake_note(self) -> str:
        """What this run did to the lake, for people."""
        if self.written:
            return f"lake: {', '.join(self.written)} written"
        if self.already:
            return "lake: already written for this day"
        return "lake: nothing to write"


@dataclass
class DailyResult:
    """What a daily batch read and what each plan produced."""

    day: date
    since: datetime
    until: datetime
    #: rows read per input view
    inputs: dict[str, int]
    plans: list[PlanDay]

    def lines(self) -> list[str]:
        """A summary for people."""
        out = [
            f"daily batch for {self.day}: inputs from {self.since:%Y-%m-%d %H:%M} to "
            f"{self.until:%Y-%m-%d %H:%M} UTC: "
            + ", ".join(f"{name} {n:,}" for name, n in self.inputs.items())
        ]
        for p in self.plans:
            out.append(f"  {p.module} {p.name}: {p.rows} rows, {p.alerts} alerts; {p.lake_note()}")
        return out


def batch_plans(plans: Sequence[Plan]) -> list[Plan]:
    """The batch plans of ``plans`` in dependency order."""
    return [p for p in dependency_order(plans) if p.mode == "batch"]


def _seconds(t: datetime) -> str:
    return f"timestamp_seconds({int(t.timestamp())})"


def _lake_frame(spark: SparkSession, lake: Lake, table: str) -> DataFrame | None:
    """The rows of lake ``table`` as a DataFrame (None: no such table). Spark's catalog
    gives the table itself (filters reach Iceberg's partitions); the local lake's rows
    come as Arrow."""
    from ctc.sinks.lake.spark_catalog import SparkCatalogLake

    if table not in lake.tables():
        return None
    if isinstance(lake, SparkCatalogLake):
        return lake.frame(table)
    arrow = lake.read(table)
    return spark.createDataFrame(arrow) if arrow.num_rows else None


def _register_input(
    spark: SparkSession,
    lake: Lake,
    table: str,
    view: str,
    columns: dict[str, str],
    time_column: str,
    since: datetime,
    until: datetime,
) -> int:
    """Register ``view``: the rows of lake ``table`` with ``time_column`` in
    ``[since, until)``, as ``columns``; returns how many."""
    from pyspark.sql import functions as F

    frame = _lake_frame(spark, lake, table)
    if frame is None:
        rows = empty(spark, columns)
    else:
        rows = frame.where(
            f"`{time_column}` >= {_seconds(since)} AND `{time_column}` < {_seconds(until)}"
        ).select(*[F.col(c).cast(t).alias(c) for c, t in columns.items()])
    rows = rows.cache()
    rows.createOrReplaceTempView(view)
    return rows.count()


def _day_filter(plan: Plan, bounds: DayBounds) -> str:
    """The SQL condition on ``detected_at`` of the day's rows of ``plan``."""
    if plan.window is not None:  # the windows that end within the day
        return f"detected_at > {_seconds(bounds.start)} AND detected_at <= {_seconds(bounds.end)}"
    return f"detected_at >= {_seconds(bounds.start)} AND detected_at < {_seconds(bounds.end)}"


def run_daily(
    spark: SparkSession,
    plans: Sequence[Plan],
    day: date,
    store_url: str,
    lake_url: str,
    say: Say | None = None,
) -> DailyResult:
    """Run the batch plans of ``plans`` (compiled with their dependencies) for ``day``,
    reading the lake at ``lake_url`` and writing to the hot store at ``store_url`` and the
    lake. Raises DailyBatchError when there is no batch plan or no lake."""
    from ctc.events import TRADE_EVENT_FIELDS
    from ctc.runtime.publish import Publisher, alert_records
    from ctc.runtime.stream_gate import empty_gate
    from ctc.sinks.lake.factory import open_lake
    from ctc.sinks.lake.tables import ensure_core_tables, ensure_plan_tables
    from ctc.sinks.stores.factory import open_store

    say = say or (lambda _m: None)
    todo = batch_plans(plans)
    if not todo:
        raise DailyBatchError(
            "no batch detectors (mode: batch) among the specs: "
            + ", ".join(f"{p.module} {p.name}" for p in plans)
        )
    lake = open_lake(lake_url, spark)
    if lake is None:
        raise DailyBatchError("a daily batch reads the lake: give --lake (not 'none')")
    ensure_core_tables(lake)
    ensure_plan_tables(lake, todo)
    bounds = DayBounds(day)
    since, until = bounds.history_start(todo), bounds.horizon
    by_module = {p.module: p for p in plans}
    inputs = {
        "trades": _register_input(
            spark,
            lake,
            "raw_trades",
            "trades",
            {**TRADE_EVENT_FIELDS, "is_late": "boolean", "quote_warning": "boolean"},
            "timestamp",
            since,
            until,
        ),
        "alerts": _register_input(
            spark, lake, "anomaly_alerts", "alerts", dict(ALERT_FIELDS), "detected_at", since, until
        ),
    }
    # no batch detector reads the raw on-chain stream (the lake keeps MOD-008's rows)
    empty_onchain(spark).createOrReplaceTempView("chain_events")
    for plan in todo:
        for dep in plan.depends_on if plan.source_kind == SourceKind.DETECTOR else ():
            up = by_module.get(dep)
            # a batch upstream is computed here, before its reader (dependency order)
            if up is None or up.mode == "batch" or up.output_table in inputs:
                continue
            inputs[up.output_table] = _register_input(
                spark,
                lake,
                up.output_table,
                up.output_table,
                dict(up.output_columns),
                up.time_column,
                since,
                until,
            )
    store = open_store(store_url)
    publisher = Publisher(store, lake, todo)
    results: list[PlanDay] = []
    try:
        for plan in todo:
            say(f"{plan.module} {plan.name}: running for {day}")
            register_stages(spark, plan, keep_output=True, cache_shared=True)
            where = _day_filter(plan, bounds)
            alerts: pa.Table = spark.sql(
                f"SELECT {', '.join(ALERT_FIELDS)} FROM {plan.alerts_view} WHERE {where}"
            ).toArrow()
            output: pa.Table = spark.sql(
                f"SELECT * FROM {plan.output_view} WHERE {where}"
            ).toArrow()
            publisher.hot_store(alert_records(alerts), [(plan, output)], [])
            key = f"daily:{day.isoformat()}:{plan.module}"
            tables = ("anomaly_alerts", plan.output_table)
            already = [t for t in tables if lake.has_batch(t, key)]
            nothing = empty_gate()
            publisher.lake_tables(
                key, [alerts], [(plan, output)], nothing.passed, nothing.dead_letters
            )
            written = [t for t in tables if t not in already and lake.has_batch(t, key)]
            results.append(
                PlanDay(plan.module, plan.name, output.num_rows, alerts.num_rows, written, already)
            )
    finally:
        store.close()
    return DailyResult(day, since, until, inputs, results)


def run_daily_command(
    specs: Sequence[Path], day_text: str | None, store_url: str, lake_url: str, say: Say
) -> list[str]:
    """``ctc run --batch``: compile ``specs`` (with what they read), start Spark with the
    lake's configuration, run the day (default :func:`default_day`); the summary lines."""
    from ctc.compiler import compile_paths
    from ctc.runtime.spark import get_spark
    from ctc.sinks.lake.factory import parse_lake_url

    day = parse_day(day_text) if day_text else default_day()
    target = parse_lake_url(lake_url)  # a bad URL fails here, before Spark starts
    if target.kind == "none":
        raise DailyBatchError("a daily batch reads the lake: give --lake (not 'none')")
    plans = compile_paths(list(specs), with_dependencies=True)
    todo = batch_plans(plans)
    say(
        f"daily batch for {day}: "
        + (", ".join(f"{p.module} {p.name}" for p in todo) or "no batch detectors")
        + "; starting Spark"
    )
    spark = get_spark("ctc-batch", conf=target.spark_conf())
    return run_daily(spark, plans, day, store_url, lake_url, say).lines()
