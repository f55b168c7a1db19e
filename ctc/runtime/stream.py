"""`ctc run`: one Spark Structured Streaming application for every compiled detector.

One query reads the source (the landing folder's JSON lines, or Kinesis/Kafka on AWS).
Each micro-batch, in ``foreachBatch``, costs two Spark jobs:

1. **gate** (:mod:`ctc.runtime.stream_gate`): the raw lines are parsed and checked
   once, for all detectors, and come to the driver as Arrow; duplicates of earlier
   batches are dropped there and every count is taken;
2. **detect** (:mod:`ctc.runtime.incremental`): every plan runs its own SQL over the
   batch's new rows (window plans over their buffered open windows too) in dependency
   order, and all results come back in one ``toArrow``;

then, with no further Spark job: the shared alert sink (:mod:`ctc.runtime.publish`: hot
store and lake), the state for the next batch (:mod:`ctc.runtime.state`, one file under
the checkpoint through Hadoop's FileSystem API) and the status (:mod:`ctc.runtime.status`).

Spark's checkpoint records which files each batch read; after a crash the same batch
is replayed over the same files, and every write above is idempotent, so no alert is
lost or doubled.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ctc.compiler.plan import Plan
from ctc.events import ALERT_FIELDS
from ctc.progress import Progress
from ctc.runtime.batch import dependency_order
from ctc.runtime.chain_events import CHAIN_FOLDER, ChainFeed
from ctc.runtime.coverage import Coverage
from ctc.runtime.gap_records import GapRecords
from ctc.runtime.hadoop_fs import CheckpointFS
from ctc.runtime.incremental import (
    PlanFrames,
    SchemaMemo,
    advance,
    collect_all,
    plan_frames,
    watermarks,
)
from ctc.runtime.market import fold
from ctc.runtime.publish import Publisher, alert_records, iso_from_us
from ctc.runtime.quality import CheckColumns, check_columns
from ctc.runtime.sources import ddl, empty, empty_frame, read_reference
from ctc.runtime.state import RunState, StateStore
from ctc.runtime.status import PendingFiles, RunTotals, StatusOutlets
from ctc.runtime.stream_gate import GatedBatch, empty_gate, gate_batch
from ctc.sinks.lake.tables import RAW_TRADES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["RunOptions", "RunTotals", "StreamRunner"]

Say = Callable[[str], None]

#: Spark DDL of an alerts view.
_ALERTS_DDL = ddl(ALERT_FIELDS)

#: Spark DDL of the ``trades`` view (the gate's passed rows).
_TRADES_DDL = ddl(dict(RAW_TRADES.columns))


@dataclass
class RunOptions:
    """Where a run reads, keeps its checkpoint and writes."""

    landing: Path
    #: a local folder or a URI (``s3://bucket/prefix`` on EMR)
    checkpoint: Path | str
    store_url: str
    #: a lake URL (ctc.sinks.lake.factory); None or "none": no lake
    lake: str | None
    quality: Path
    status_path: Path
    until_idle: bool = False
    trigger_seconds: float = 2.0
    max_files_per_trigger: int | None = None
    app: str = "ctc"
    #: a source URL (landing:DIR, kinesis:STREAM?..., kafka:HOSTS/TOPIC); default: landing
    source: str | None = None
    #: CloudWatch namespace for per-batch metrics (AWS); None: status file and store only
    cloudwatch_namespace: str | None = None
    #: per-row plans over the stream (whales) in a Spark job of their own, their alerts
    #: published before the window plans run: lower latency, one more job a batch.
    #: None: on for a long-running query, off with ``until_idle``
    rows_first: bool | None = None
    #: the on-chain events folder (``ctc ingest --chain``); None: ``<landing>/_chain``
    chain_landing: Path | None = None


def _arrow_frame(spark: SparkSession, table: pa.Table, schema: str) -> DataFrame:
    """A small collected result back in Spark (a local relation)."""
    if table.num_rows == 0:
        return empty_frame(spark, schema)
    return spark.createDataFrame(table, schema)


def _nothing_to_do(
    plan: Plan, state: RunState, stream_rows: dict[str, int], done: dict[str, PlanFrames]
) -> bool:
    """Whether ``plan`` has no new input rows and no buffered rows, so it cannot emit
    anything in this batch (its Spark branches are left out)."""
    buffer = state.plan(plan.module).buffer if plan.window is not None else None
    if buffer is not None and buffer.num_rows:
        return False
    if plan.source_kind == "stream":
        return stream_rows.get(plan.source_view, 1) == 0
    if plan.source_kind == "detector":
        return all(d not in done or done[d].arrow["output"].num_rows == 0 for d in plan.depends_on)
    if plan.source_kind == "alerts":
        return all(
            m not in done or done[m].arrow["alerts"].num_rows == 0 for m in plan.source_modules
        )
    return False


def _batch_settings(spark: SparkSession) -> None:
    """Session settings of a micro-batch: whole-stage code generation off, since for small
    batches compiling whole stages (new literals every batch) costs more than it saves
    (ADR 0008)."""
    spark.conf.set("spark.sql.codegen.wholeStage", "false")


def plan_levels(plans: Sequence[Plan], early_rows: bool = False) -> list[list[Plan]]:
    """``plans`` (in dependency order) grouped by depth: a plan comes one level after the
    deepest plan it reads. ``early_rows``: the per-row plans over a source stream form
    the first level on their own (so their results are collected first)."""
    depth: dict[str, int] = {}
    for plan in plans:
        depth[plan.module] = 1 + max((depth[d] for d in plan.depends_on if d in depth), default=-1)
    levels: list[list[Plan]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for plan in plans:
        levels[depth[plan.module]].append(plan)
    if early_rows and levels:
        first = [p for p in levels[0] if p.window is None and p.source_kind == "stream"]
        if first and len(first) < len(levels[0]):
            levels = [first, [p for p in levels[0] if p not in first], *levels[1:]]
    return levels


class StreamRunner:
    """Runs the plans over the source; one instance per application."""

    def __init__(
        self,
        spark: SparkSession,
        plans: Sequence[Plan],
        options: RunOptions,
        say: Say | None = None,
        progress: Progress | None = None,
    ) -> None:
        from ctc.runtime.quality import load_rules
        from ctc.sinks.stores.factory import open_store

        self.spark = spark
        self.options = options
        self.say = say or (lambda _m: None)
        #: the progress line: each micro-batch's phase, events done, events/s, ETA
        self.progress = progress or Progress(live=False)
        for p in plans:
            if p.mode != "streaming":
                self.say(
                    f"{p.module} {p.name} is a batch detector ({p.schedule or 'on demand'}); "
                    "not run in the stream"
                )
        self.plans = dependency_order([p for p in plans if p.mode == "streaming"])
        #: a long-running query puts the per-row plans over the stream (whales) in a level
        #: of their own and publishes their alerts first (latency over throughput)
        self._early_level = (
            not options.until_idle if options.rows_first is None else options.rows_first
        )
        self._levels = plan_levels(self.plans, early_rows=self._early_level)
        self.rules = load_rules(options.quality)
        self.store = open_store(options.store_url)
        self.checkpoint = CheckpointFS(spark, options.checkpoint)
        self.state = StateStore(self.checkpoint, self.rules.dedupe_within.seconds * 1_000_000)
        from ctc.sinks.lake.factory import open_lake
        from ctc.sinks.lake.tables import ensure_core_tables, ensure_plan_tables

        lake = open_lake(options.lake, spark)
        if lake is not None:
            ensure_core_tables(lake)
            ensure_plan_tables(lake, self.plans)
        self.publisher = Publisher(self.store, lake, self.plans)
        self.status = StatusOutlets(
            options.app, options.status_path, self.store, options.cloudwatch_namespace
        )
        self.totals = RunTotals()
        #: what the passed trades of this process's batches covered (for why_silent)
        self.coverage = Coverage()
        self._pending = PendingFiles(self.checkpoint, self._landing())
        self._gaps = GapRecords(self._landing(), lake)
        landing = self._landing()
        chain = options.chain_landing or (landing / CHAIN_FOLDER if landing else None)
        self._chain = ChainFeed(chain, self.checkpoint, lake)
        self.last_status: dict[str, Any] = {}
        self._query: Any = None
        #: the state committed by the last batch of this process (None: load it)
        self._memory: RunState | None = None
        self._gate_columns: CheckColumns | None = None
        #: reference tables, read and cached once per Spark session
        self._references: tuple[SparkSession, dict[str, DataFrame]] | None = None
        #: each detector result's row type, found once (collect_all)
        self._schemas: SchemaMemo = {}

    # -- set-up -----------------------------------------------------------------------
    def _landing(self) -> Path | None:
        source = self.options.source
        if source and not source.startswith("landing:"):
            return None
        return Path(source.removeprefix("landing:")) if source else self.options.landing

    def _source(self) -> DataFrame:
        from pyspark.sql import functions as F

        from ctc.runtime.source_options import parse_source

        spec = parse_source(
            self.options.source or f"landing:{self.options.landing}",
            self.options.max_files_per_trigger,
        )
        reader = self.spark.readStream.format(spec.format).options(**spec.options)
        if spec.path is not None:
            Path(spec.path).mkdir(parents=True, exist_ok=True)
            raw = reader.load(spec.path)
        else:
            raw = reader.load()
        return raw.select(
            F.expr(spec.value_sql).alias("value"), F.expr(spec.origin_sql).alias("source_file")
        )

    def _state_for(self, batch_id: int, flush: bool) -> RunState:
        memory, self._memory = self._memory, None  # a failed batch must reload
        if memory is not None and memory.version == (batch_id if flush else batch_id - 1):
            return memory
        if flush and batch_id == self.state.latest():
            return self.state.load(batch_id)
        return self.state.load_before(batch_id)

    def _views(self, spark: SparkSession, gated: GatedBatch) -> None:
        trades = gated.passed_frame.coalesce(1) if gated.passed_frame is not None else None
        if trades is None:
            trades = empty_frame(spark, _TRADES_DDL)
        trades.createOrReplaceTempView("trades")
        self._chain.view(spark)
        empty(spark, ALERT_FIELDS).createOrReplaceTempView("alerts")
        if self._references is None or not self._references[0]._jsparkSession.equals(
            spark._jsparkSession
        ):
            frames = {}
            for plan in self.plans:
                base = Path(plan.spec_path).parent
                for name, path, fmt, cols in plan.references:
                    frames[name] = read_reference(spark, base, path, fmt, cols).cache()
            self._references = (spark, frames)
        for name, frame in self._references[1].items():
            frame.createOrReplaceTempView(name)

    # -- one micro-batch ------------------------------------------------------------------
    def _gate(self, batch: DataFrame, batch_id: int, state: RunState, flush: bool) -> GatedBatch:
        """The quality gate over the batch's raw lines (none when flushing); moves the
        trade stream's clock."""
        from pyspark.sql import functions as F

        if flush:
            return empty_gate()
        now_us = int(datetime.now(tz=UTC).timestamp() * 1_000_000)
        raw = batch.select("value", "source_file", F.monotonically_increasing_id().alias("_order"))
        if self._gate_columns is None:
            self._gate_columns = check_columns(self.rules)
        gated = gate_batch(raw, self.rules, state.seen, now_us, batch_id, self._gate_columns)
        if gated.newest_us is not None:
            state.clocks["trades"] = max(
                state.clocks.get("trades", gated.newest_us), gated.newest_us
            )
        return gated

    def _detect(
        self,
        spark: SparkSession,
        gated: GatedBatch,
        state: RunState,
        flush: bool,
        on_level: Callable[[int, list[PlanFrames]], None] | None = None,
    ) -> tuple[list[PlanFrames], int]:
        """Every plan over the gated batch, level by level (one Spark job a level), and
        the state folded forward; returns the plans' results and the late-event count.
        ``on_level(i, results)`` sees level ``i``'s results as soon as they are collected."""
        self._views(spark, gated)
        marks = watermarks(self.plans, state, flush)
        steps: list[PlanFrames] = []
        skipped: list[Plan] = []
        stream_rows = {"trades": gated.passed.num_rows, "chain_events": self._chain.rows}
        for i, level in enumerate(self._levels):
            # a level reads only the collected (small) results of the levels before it,
            # so no upstream plan is computed again inside a downstream plan's branch
            done = {s.plan.module: s for s in steps}
            current: list[PlanFrames] = []
            for plan in level:
                if _nothing_to_do(plan, state, stream_rows, done):
                    skipped.append(plan)
                    continue
                current.append(
                    plan_frames(
                        spark,
                        plan,
                        state,
                        marks.get(plan.module),
                        gated.passed,
                        self._inputs(spark, plan, done),
                    )
                )
            collect_all(spark, current, self._schemas)
            for step in current:
                step.release()
            steps += current
            if on_level is not None:
                on_level(i, current)
        for plan in skipped:  # no rows in, none buffered: only the watermark moves
            m = marks.get(plan.module)
            if m is not None and not flush:
                state.plan(plan.module).watermark_us = m.close
        late = 0
        for step in steps:
            if step.marks is not None:
                late += advance(step, state.plan(step.plan.module))
        return steps, late

    def _inputs(
        self, spark: SparkSession, plan: Plan, done: dict[str, PlanFrames]
    ) -> dict[str, str]:
        """Register what ``plan`` reads from the levels before it (their collected rows)
        as views; returns the views its SQL names -> the view that holds them."""
        inputs = {}
        if plan.source_kind == "alerts":
            view = empty(spark, ALERT_FIELDS)
            for module in plan.source_modules:
                if module in done:
                    view = view.unionByName(
                        _arrow_frame(spark, done[module].arrow["alerts"], _ALERTS_DDL)
                    )
            # each alert reader reads its own modules' alerts
            inputs["alerts"] = "__ctc_alerts_" + plan.module.replace("-", "_")
            view.createOrReplaceTempView(inputs["alerts"])
        for dep in plan.depends_on:
            if dep in done and plan.source_kind == "detector":
                up = done[dep].plan
                _arrow_frame(
                    spark, done[dep].arrow["output"], ddl(dict(up.output_columns))
                ).createOrReplaceTempView(up.output_table)
        return inputs

    def process_batch(self, batch: DataFrame, batch_id: int, flush: bool = False) -> None:
        """Gate, detect, sink and commit one micro-batch (idempotent per batch_id)."""
        t0 = time.perf_counter()
        spark = batch.sparkSession  # temp views made here are visible to its SQL
        _batch_settings(spark)
        name = f"batch {batch_id}" + (" (flush)" if flush else "")
        self.progress.stage(f"{name}: quality gate")
        state = self._state_for(batch_id, flush)
        gated = self._gate(batch, batch_id, state, flush)
        self._chain.take(spark, batch_id, flush, state)
        # the last batch of a bounded run closes every window itself (no flush batch)
        closing = flush or self._last_of_bounded_run(batch_id)
        phases = {"gate": time.perf_counter() - t0}

        mark = time.perf_counter()
        self.progress.stage(f"{name}: {gated.metrics.get('processed', 0):,} records: detectors")
        published: set[str] = set()

        def publish_early(i: int, level: list[PlanFrames]) -> None:
            # the per-row plans over the stream (whales) are level 0 on their own: their
            # alerts go to the hot store before the window plans run
            if i == 0:
                first = [r for step in level for r in alert_records(step.arrow["alerts"])]
                self.publisher.hot_store(first, [], [])
                published.update(a["alert_id"] for a in first)

        early = publish_early if self._early_level else None
        steps, late = self._detect(spark, gated, state, closing, early)
        phases["detectors"] = time.perf_counter() - mark

        mark = time.perf_counter()
        self.progress.stage(f"{name}: writing alerts, lake and state")
        alert_tables = [s.arrow["alerts"] for s in steps]
        alerts = [r for t in alert_tables for r in alert_records(t)]
        outputs = [(s.plan, s.arrow["output"]) for s in steps]
        market_rows: list[dict[str, Any]] = []
        if gated.passed.num_rows:
            state.market, market_rows = fold(state.market, gated.passed)
            self.coverage.add_trades(gated.passed)
        self.publisher.hot_store(
            [a for a in alerts if a["alert_id"] not in published], outputs, market_rows
        )
        phases["hot_store"] = time.perf_counter() - mark
        mark = time.perf_counter()
        batch_key = f"{batch_id}" + ("-flush" if flush else "")
        self.publisher.lake_tables(
            batch_key, alert_tables, outputs, gated.passed, gated.dead_letters, gated.passed_frame
        )
        phases["lake"] = time.perf_counter() - mark

        mark = time.perf_counter()
        state.flushed = closing
        self.state.commit(batch_id, state, full=closing)
        self._memory = state
        phases["state"] = time.perf_counter() - mark
        gated.unpersist()
        metrics = dict(gated.metrics)
        metrics["phase_seconds"] = {k: round(v, 3) for k, v in phases.items()}
        self._report(
            batch_id, metrics, alerts, late, time.perf_counter() - t0, state, flush, closing
        )

    def _last_of_bounded_run(self, batch_id: int) -> bool:
        """Whether batch ``batch_id`` of an ``until_idle`` run is its last: every file in
        the landing folder has been read (``availableNow`` reads no file that lands
        later). Decided once and recorded under the checkpoint before anything is
        written, so a replay of the batch closes the same windows."""
        if not self.options.until_idle:
            return False
        marker = f"state/last-batch-{batch_id:012d}"
        if self.checkpoint.exists(marker):
            return True
        if self._pending()["files"] != 0:  # unread files, or not a landing folder
            return False
        self.checkpoint.write_bytes(marker, b"every window closes in this batch\n")
        return True

    def warm_up(self) -> None:
        """One tiny made-up batch through the gate and every plan it reaches, with a
        throwaway state and nothing written, before a long-running query starts: the
        JVM's first pass over these plans costs seconds, and it should not delay the
        first real alerts."""
        t0 = time.perf_counter()
        spark = self.spark
        _batch_settings(spark)
        now = iso_from_us(int(datetime.now(tz=UTC).timestamp() * 1_000_000))
        lines = [
            json.dumps(
                {
                    "event_id": f"ctc-warm-up:{exchange}",
                    "exchange": exchange,
                    "symbol": "BTC-USDT",
                    "market": "BTCUSDT",
                    "price": 1.0,
                    "quantity": 1.0,
                    "quote_volume": 1.0,
                    "side": "buy",
                    "timestamp": now,
                    "ingestion_timestamp": now,
                }
            )
            for exchange in ("binance", "coinbase")
        ]
        batch = spark.createDataFrame(
            pa.table({"value": lines, "source_file": ["ctc-warm-up"] * len(lines)}),
            "value string, source_file string",
        )
        state = self.state.empty()
        gated = self._gate(batch, -1, state, flush=False)
        try:
            self._detect(spark, gated, state, flush=False)
        finally:
            gated.unpersist()
        self.say(f"warmed up in {time.perf_counter() - t0:.1f} s")

    def _report(
        self,
        batch_id: int,
        metrics: dict[str, Any],
        alerts: list[dict[str, Any]],
        late_dropped: int,
        seconds: float,
        state: RunState,
        flush: bool,
        closing: bool = False,
    ) -> None:
        self.totals.add(metrics, alerts, late_dropped)
        pending = self._pending()
        newest = state.max_event_us
        status = {
            "app": self.options.app,
            "batch_id": batch_id,
            "flush": closing,
            "updated_at": datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "batch_seconds": round(seconds, 3),
            "metrics": metrics,
            "alerts": len(alerts),
            "late_events_dropped": late_dropped,
            "max_event_time": iso_from_us(newest) if newest is not None else None,
            "watermarks": {
                m: iso_from_us(p.watermark_us)
                for m, p in state.plans.items()
                if p.watermark_us is not None and abs(p.watermark_us) < 2**61
            },
            "source_lag_seconds": pending["lag_seconds"],
            "pending_files": pending["files"],
            "query_status": "flushing" if flush else "running",
            "totals": self.totals.as_dict(),
            "gaps": self._gaps(),
        }
        self.last_status = status
        self.status.publish(status)
        label = " (flush)" if flush else " (last: every window closed)" if closing else ""
        self.progress.advance(int(metrics.get("processed", 0)))
        then = "finishing" if closing else "next micro-batch"
        self.progress.stage(
            f"batch {batch_id}{label} done in {seconds:.1f} s, {self.totals.alerts:,} alerts "
            f"so far; {then}"
        )

    # -- the query ------------------------------------------------------------------------
    def run(self) -> RunTotals:
        """Start the query; with until_idle, stop when the input is drained and flushed."""
        source = self._source()
        writer = (
            source.writeStream.foreachBatch(self.process_batch)
            .option("checkpointLocation", self.checkpoint.uri("query"))
            .queryName(self.options.app)
        )
        if self.options.until_idle:
            writer = writer.trigger(availableNow=True)
        else:
            writer = writer.trigger(processingTime=f"{self.options.trigger_seconds} seconds")
        if not self.options.until_idle:
            self.progress.stage("warming up the detectors")
            self.warm_up()
        self.progress.task(self._events_to_read())
        self.progress.stage("starting the streaming query")
        query = writer.start()
        self._query = query
        try:
            query.awaitTermination()
        except KeyboardInterrupt:
            self.say("stopping (Ctrl-C): the current micro-batch finishes first")
            self.stop()
        if self.options.until_idle:
            self.flush()
        if self.last_status:
            self.last_status["query_status"] = "stopped"
            self.status.publish(self.last_status)
        return self.totals

    def _events_to_read(self) -> int | None:
        """The lines of the landing folder's unread files, when a bounded run will read
        them all (the progress line's total, for an ETA); None when not known."""
        from ctc.runtime.landing import count_lines

        paths = self._pending.paths() if self.options.until_idle else None
        return count_lines(paths) if paths is not None else None

    def stop(self, timeout: float = 120.0) -> None:
        """Stop the query between micro-batches: wait (up to ``timeout`` s) for the running
        one to finish, so its writes complete and Spark does not interrupt it mid-way."""
        query = self._query
        if query is None or not query.isActive:
            return
        deadline = time.monotonic() + timeout
        while (
            query.isActive and query.status.get("isTriggerActive") and (time.monotonic() < deadline)
        ):
            time.sleep(0.05)
        query.stop()

    def flush(self) -> None:
        """End of a bounded run: close every open window (the watermark goes to the end)."""
        latest = self.state.latest()
        if latest is None:
            return
        memory = self._memory
        flushed = memory.flushed if memory is not None and memory.version == latest else None
        if flushed is None:
            flushed = self.state.load(latest).flushed
        if flushed:
            return
        empty_batch = empty_frame(self.spark, "value string, source_file string")
        self.process_batch(empty_batch, latest, flush=True)
