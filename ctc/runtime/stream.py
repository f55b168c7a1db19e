"""`ctc run`: one Spark Structured Streaming application for every compiled detector.

One query reads the source (the landing folder's JSON lines, or Kinesis/Kafka on AWS).
Each micro-batch, in ``foreachBatch``, costs two Spark jobs:

1. **gate** (:mod:`ctc.runtime.stream_gate`): the raw lines are parsed and checked
   once, for all detectors, and come to the driver as Arrow; duplicates of earlier
   batches are dropped there and every count is taken;
2. **detect** (:mod:`ctc.runtime.detect_levels` over :mod:`ctc.runtime.incremental`):
   every plan runs its own SQL over the batch's new rows (window plans over their
   buffered open windows too) in dependency order, one ``toArrow`` a level;

then, with no further Spark job: the shared alert sink (:mod:`ctc.runtime.publish`: hot
store, then the lake while the state for the next batch is committed,
:mod:`ctc.runtime.state`, through Hadoop's FileSystem API) and the status
(:mod:`ctc.runtime.status`).

This module is the orchestration: the query, the order of the steps, the state version
of each batch, warm-up, stop and flush. What it is told is :class:`RunOptions`
(:mod:`ctc.runtime.run_options`).

Spark's checkpoint records which files each batch read; after a crash the same batch
is replayed over the same files, and every write above is idempotent, so no alert is
lost or doubled.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ctc.compiler.plan import Plan
from ctc.progress import Progress
from ctc.runtime.batch import dependency_order
from ctc.runtime.chain_events import CHAIN_FOLDER, ChainFeed
from ctc.runtime.coverage import Coverage
from ctc.runtime.detect_levels import DetectorLevels, batch_settings, settings_kept
from ctc.runtime.gap_records import GapRecords
from ctc.runtime.hadoop_fs import CheckpointFS
from ctc.runtime.incremental import (
    PlanFrames,
)
from ctc.runtime.market import fold
from ctc.runtime.publish import Publisher, alert_records, iso_from_us
from ctc.runtime.quality import CheckColumns, check_columns
from ctc.runtime.run_options import RunOptions
from ctc.runtime.sources import empty_frame
from ctc.runtime.state import RunState, StateStore
from ctc.runtime.status import PendingFiles, RunTotals, StatusOutlets, batch_status
from ctc.runtime.stream_gate import GatedBatch, empty_gate, gate_batch

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["RunOptions", "RunTotals", "StreamRunner"]

Say = Callable[[str], None]


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
        self.detectors = DetectorLevels(self.plans, early_rows=self._early_level)
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
        # what the API labels and charts (it has no specs): every compiled plan's catalog
        self.publisher.catalog(options.app, plans, self.rules)
        self.status = StatusOutlets(
            options.app, options.status_path, self.store, options.cloudwatch_namespace
        )
        self.totals = RunTotals()
        #: what the passed trades of this process's batches covered (for why_silent)
        self.coverage = Coverage()
        landing = self._landing()
        self._pending = PendingFiles(self.checkpoint, landing)
        self._gaps = GapRecords(landing, lake)
        chain = options.chain_landing or (landing / CHAIN_FOLDER if landing else None)
        self._chain = ChainFeed(chain, self.checkpoint, lake)
        self.last_status: dict[str, Any] = {}
        self._query: Any = None
        #: the state committed by the last batch of this process (None: load it)
        self._memory: RunState | None = None
        self._gate_columns: CheckColumns | None = None
        #: writes a batch's lake tables while its state is committed
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ctc-lake")

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
        # throughput first in a bounded run: the gate's query compiled (batch_settings)
        compiled = self.options.until_idle
        if compiled:
            batch_settings(batch.sparkSession, compiled_gate=True)
        try:
            gated = gate_batch(raw, self.rules, state.seen, now_us, batch_id, self._gate_columns)
        finally:
            if compiled:
                batch_settings(batch.sparkSession)  # the rest of the batch: interpreted
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
        """Every plan over the gated batch (:class:`DetectorLevels`), with the on-chain
        events of the batch as ``chain_events``."""
        self._chain.view(spark)
        return self.detectors.run(spark, gated, state, flush, self._chain.rows, on_level)

    def process_batch(self, batch: DataFrame, batch_id: int, flush: bool = False) -> None:
        """Gate, detect, sink and commit one micro-batch (idempotent per batch_id)."""
        t0 = time.perf_counter()
        spark = batch.sparkSession  # temp views made here are visible to its SQL
        batch_settings(spark)
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
        batch_key = f"{batch_id}" + ("-flush" if flush else "")

        def lake() -> float:
            begun = time.perf_counter()
            self.publisher.lake_tables(
                batch_key,
                alert_tables,
                outputs,
                gated.passed,
                gated.dead_letters,
                gated.frame(spark),
            )
            return time.perf_counter() - begun

        # the lake and the state are written at once: neither reads the other, and a
        # replay of this batch (after a crash in either) starts from the state before it
        # and skips the lake tables already written, so their order does not matter
        lake_written = self._writer.submit(lake)
        mark = time.perf_counter()
        state.flushed = closing
        self.state.commit(batch_id, state, full=closing)
        phases["state"] = time.perf_counter() - mark
        phases["lake"] = lake_written.result()
        self._memory = state
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
        with settings_kept(self.spark):
            self._warm_up()

    def _warm_up(self) -> None:
        t0 = time.perf_counter()
        spark = self.spark
        batch_settings(spark)
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
        self._detect(spark, gated, state, flush=False)
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
        status = batch_status(
            app=self.options.app,
            batch_id=batch_id,
            closing=closing,
            flush=flush,
            seconds=seconds,
            metrics=metrics,
            alerts=len(alerts),
            late_dropped=late_dropped,
            state=state,
            pending=self._pending(),
            totals=self.totals,
            gaps=self._gaps(),
        )
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
        with settings_kept(self.spark):  # a batch on the runner's own session
            self.process_batch(empty_batch, latest, flush=True)
