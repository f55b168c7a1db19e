"""`ctc run`: one Spark Structured Streaming application for every compiled detector.

One query reads the landing directory (Spark's file source, JSON lines written
atomically by the producers). Each micro-batch, in ``foreachBatch``:

1. the raw lines are parsed and passed through the quality gate once, for all
   detectors (dead letters, duplicates, late and quote-volume flags, metrics);
2. every plan runs over the batch's new rows in dependency order
   (:mod:`ctc.runtime.incremental`), chained detectors reading the new output rows
   of the plans they depend on, alert readers the new alerts;
3. all alerts go through one sink: the hot store (upsert by alert_id) and the lake
   (``anomaly_alerts``, ``raw_trades``, ``dead_letters`` and each module's table,
   appended idempotently per batch);
4. the state for the next batch is committed (:mod:`ctc.runtime.state`) and the
   status (metrics, source lag, query status) is written.

Spark's checkpoint records which files each batch read; after a crash the same batch
is replayed over the same files, and every write above is idempotent, so no alert is
lost or doubled.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctc.compiler.plan import Plan
from ctc.events import ALERT_FIELDS
from ctc.runtime.batch import dependency_order
from ctc.runtime.incremental import run_plan_batch
from ctc.runtime.sources import empty, empty_onchain, read_reference
from ctc.runtime.state import StateStore, StateVersion
from ctc.runtime.stores.records import iso_utc

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

Say = Callable[[str], None]


@dataclass
class RunOptions:
    """Where a run reads, keeps its checkpoint and writes."""

    landing: Path
    checkpoint: Path
    store_url: str
    lake: Path | None
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


@dataclass
class RunTotals:
    """Counts over a whole run (this process), for the closing summary."""

    batches: int = 0
    processed: int = 0
    passed: int = 0
    failed: int = 0
    duplicates: int = 0
    late_events_dropped: int = 0
    alerts: int = 0
    by_module: dict[str, int] = field(default_factory=dict)


def _iso(us: int) -> str:
    """Epoch microseconds as the stores' fixed-width ISO 8601 UTC text."""
    return iso_utc(datetime.fromtimestamp(us / 1e6, tz=UTC))


class StreamRunner:
    """Runs the plans over the landing directory; one instance per application."""

    def __init__(
        self,
        spark: SparkSession,
        plans: Sequence[Plan],
        options: RunOptions,
        say: Say | None = None,
    ) -> None:
        from ctc.runtime.quality import load_rules
        from ctc.runtime.stores.factory import open_store

        self.spark = spark
        self.options = options
        self.say = say or (lambda _m: None)
        skipped = [p for p in plans if p.mode != "streaming"]
        for p in skipped:
            self.say(
                f"{p.module} {p.name} is a batch detector ({p.schedule or 'on demand'}); "
                "not run in the stream"
            )
        self.plans = dependency_order([p for p in plans if p.mode == "streaming"])
        self.rules = load_rules(options.quality)
        self.store = open_store(options.store_url)
        self.state = StateStore(options.checkpoint / "state")
        self.lake = None
        if options.lake is not None:
            from ctc.runtime.lake import Lake, ensure_core_tables, ensure_plan_tables

            self.lake = Lake(options.lake)
            ensure_core_tables(self.lake)
            ensure_plan_tables(self.lake, self.plans)
        self.totals = RunTotals()
        self.last_status: dict[str, Any] = {}
        self._cloudwatch: Any = None
        self._query: Any = None

    # -- set-up -----------------------------------------------------------------------
    def _register_static_views(self) -> None:
        for plan in self.plans:
            base = Path(plan.spec_path).parent
            for name, path, fmt, cols in plan.references:
                read_reference(self.spark, base, path, fmt, cols).cache().createOrReplaceTempView(
                    name
                )

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

    # -- one micro-batch ------------------------------------------------------------------
    def process_batch(self, batch: DataFrame, batch_id: int, flush: bool = False) -> None:
        """Gate, detect, sink and commit one micro-batch (idempotent per batch_id)."""
        from pyspark.sql import functions as F

        from ctc.runtime.quality import gate

        t0 = time.perf_counter()
        # the batch's own session: temp views made here are visible to its SQL
        spark = batch.sparkSession
        self.spark = spark
        state = self.state.load_before(batch_id) if not flush else self._flush_state(batch_id)
        now = datetime.now(tz=UTC)
        raw = batch.select("value", "source_file", F.monotonically_increasing_id().alias("_order"))
        seen = state.table(spark, "seen", "event_id string, `timestamp` timestamp")
        result = gate(spark, raw, self.rules, seen, now)
        passed = result.passed
        metrics = dict(result.metrics)
        phases = {"gate": time.perf_counter() - t0}
        mark = time.perf_counter()
        passed.createOrReplaceTempView("trades")
        self._register_static_views()
        empty_onchain(spark).createOrReplaceTempView("chain_events")
        empty(spark, ALERT_FIELDS).createOrReplaceTempView("alerts")

        alert_frames: list[tuple[Plan, DataFrame]] = []
        outputs: list[tuple[Plan, DataFrame]] = []
        tables: dict[str, DataFrame] = {"seen": result.seen}
        plan_meta: dict[str, Any] = {}
        late_dropped = 0
        for plan in self.plans:
            if plan.source_kind == "alerts":
                union = [a for p, a in alert_frames if p.module in plan.source_modules]
                view = union[0] if union else empty(spark, ALERT_FIELDS)
                for extra in union[1:]:
                    view = view.unionByName(extra)
                view.createOrReplaceTempView("alerts")
            out = run_plan_batch(spark, plan, state, flush)
            alerts = out.alerts.cache()
            output = out.output.cache()
            output.createOrReplaceTempView(plan.output_table)
            alert_frames.append((plan, alerts))
            outputs.append((plan, output))
            tables.update(out.state_tables)
            if out.meta:
                plan_meta[plan.module] = out.meta
            late_dropped += out.late_events

        all_alerts = [r for _, a in alert_frames for r in self._collect_alerts(a)]
        phases["detectors"] = time.perf_counter() - mark
        mark = time.perf_counter()
        batch_key = f"{batch_id}" + ("-flush" if flush else "")
        self.store.put_alerts(all_alerts)
        self._write_series(outputs)
        tables["market_minutes"], max_event_us = self._write_market(self._market(state))
        phases["hot_store"] = time.perf_counter() - mark
        mark = time.perf_counter()
        if self.lake is not None:
            self._write_lake(
                batch_key, alert_frames, outputs, passed, result.dead_letters, batch_id
            )
        phases["lake"] = time.perf_counter() - mark
        mark = time.perf_counter()
        # the market minutes keep every key's newest trade: their max is the stream's
        meta = {
            "batch_id": batch_id,
            "plans": plan_meta,
            "max_event_us": max_event_us,
            "flushed": flush,
        }
        self.state.commit(batch_id, tables, meta)
        phases["state"] = time.perf_counter() - mark
        seconds = time.perf_counter() - t0
        metrics["phase_seconds"] = {k: round(v, 3) for k, v in phases.items()}
        self._status(batch_id, metrics, all_alerts, late_dropped, seconds, meta, flush)
        result.unpersist()
        spark.catalog.clearCache()

    def _flush_state(self, batch_id: int) -> StateVersion:
        return (
            self.state.load(batch_id)
            if batch_id == self.state.latest()
            else self.state.load_before(batch_id)
        )

    def _collect_alerts(self, alerts: DataFrame) -> list[dict[str, Any]]:
        rows = alerts.selectExpr(
            "alert_id",
            "alert_type",
            "module_id",
            "symbol",
            "exchange",
            "severity",
            "UNIX_MICROS(detected_at) AS detected_us",
            "message",
            "ttl_epoch",
            "details",
        ).collect()
        out = []
        for r in rows:
            d = r.asDict()
            d["detected_at"] = _iso(d.pop("detected_us"))
            out.append(d)
        return out

    def _write_series(self, outputs: list[tuple[Plan, DataFrame]]) -> None:
        """Chart series for the dashboard: 60 s volumes (MOD-001) and spreads (MOD-003)."""
        series = {
            "MOD-001": (
                "volume",
                ("symbol", "exchange", "window_volume AS value", "z_score", "trade_count"),
            ),
            "MOD-003": (
                "spread",
                (
                    "symbol",
                    "CAST(NULL AS STRING) AS exchange",
                    "spread_pct AS value",
                    "vwap_a",
                    "vwap_b",
                ),
            ),
        }
        for plan, out in outputs:
            if plan.module not in series:
                continue
            kind, columns = series[plan.module]
            rows = []
            for r in out.selectExpr(*columns, "UNIX_MICROS(window_start) AS ws").collect():
                d = r.asDict()
                d["window_start"] = _iso(d.pop("ws"))
                rows.append(d)
            if rows:
                self.store.put_windows(kind, rows)

    def _market(self, state: StateVersion) -> DataFrame:
        """Per (symbol, exchange) and minute: quote volume and last price, the last hour kept."""
        from pyspark.sql import functions as F

        old = state.table(self.spark, "market_minutes", _MARKET_SCHEMA)
        new = self.spark.sql(
            "SELECT symbol, exchange, DATE_TRUNC('MINUTE', `timestamp`) AS minute, "
            "SUM(COALESCE(quote_volume, price * quantity)) AS volume, "
            "MAX_BY(price, `timestamp`) AS price, "
            "MAX(`timestamp`) AS last_time FROM trades GROUP BY symbol, exchange, "
            "DATE_TRUNC('MINUTE', `timestamp`)"
        )
        both = (
            old.unionByName(new)
            .groupBy("symbol", "exchange", "minute")
            .agg(
                F.sum("volume").alias("volume"),
                F.max_by("price", "last_time").alias("price"),
                F.max("last_time").alias("last_time"),
            )
        )
        return both.cache()

    def _write_market(self, minutes: DataFrame) -> tuple[DataFrame, int | None]:
        """Latest price and 1 h volume per (symbol, exchange) to the hot store; returns the
        minutes to keep (the last hour before each key's newest trade) and the newest event
        time of the whole stream (epoch µs; None before the first trade)."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        newest = Window.partitionBy("symbol", "exchange")
        recent = minutes.withColumn("newest", F.max("last_time").over(newest)).where(
            F.col("minute") > F.col("newest") - F.expr("INTERVAL 1 HOUR")
        )
        rows = (
            recent.groupBy("symbol", "exchange")
            .agg(
                F.sum("volume").alias("volume_1h"),
                F.max_by("price", "last_time").alias("price"),
                F.expr("UNIX_MICROS(MAX(last_time))").alias("ts_us"),
            )
            .collect()
        )
        if rows:
            self.store.put_market(
                [
                    {
                        "symbol": r["symbol"],
                        "exchange": r["exchange"],
                        "price": float(r["price"]),
                        "volume_1h": float(r["volume_1h"] or 0.0),
                        "updated_at": _iso(r["ts_us"]),
                    }
                    for r in rows
                ]
            )
        newest_us = max((int(r["ts_us"]) for r in rows), default=None)
        return recent.drop("newest"), newest_us

    def _write_lake(
        self,
        batch_key: str,
        alert_frames: list[tuple[Plan, DataFrame]],
        outputs: list[tuple[Plan, DataFrame]],
        passed: DataFrame,
        dead: DataFrame,
        batch_id: int,
    ) -> None:
        from pyspark.sql import functions as F

        assert self.lake is not None
        alerts = None
        for _, a in alert_frames:
            alerts = a if alerts is None else alerts.unionByName(a)
        if alerts is not None:
            self.lake.append("anomaly_alerts", alerts.toArrow(), batch_key)
        self.lake.append("raw_trades", passed.toArrow(), batch_key)
        self.lake.append(
            "dead_letters",
            dead.select(*DEAD_LETTER_COLUMNS).withColumn("batch_id", F.lit(batch_id)).toArrow(),
            batch_key,
        )
        for plan, out in outputs:
            self.lake.append(plan.output_table, out.toArrow(), batch_key)

    def _status(
        self,
        batch_id: int,
        metrics: dict[str, Any],
        alerts: list[dict[str, Any]],
        late_dropped: int,
        seconds: float,
        meta: dict[str, Any],
        flush: bool,
    ) -> None:
        t = self.totals
        t.batches += 1
        for k in ("processed", "passed", "failed", "duplicates"):
            setattr(t, k, getattr(t, k) + int(metrics.get(k, 0)))
        t.late_events_dropped += late_dropped
        t.alerts += len(alerts)
        for a in alerts:
            t.by_module[a["module_id"]] = t.by_module.get(a["module_id"], 0) + 1
        pending = self._pending_files()
        status = {
            "app": self.options.app,
            "batch_id": batch_id,
            "flush": flush,
            "updated_at": datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "batch_seconds": round(seconds, 3),
            "metrics": metrics,
            "alerts": len(alerts),
            "late_events_dropped": late_dropped,
            "max_event_time": _iso(meta["max_event_us"]) if meta.get("max_event_us") else None,
            "source_lag_seconds": pending["lag_seconds"],
            "pending_files": pending["files"],
            "query_status": "flushing" if flush else "running",
            "totals": {
                "batches": t.batches,
                "processed": t.processed,
                "passed": t.passed,
                "failed": t.failed,
                "duplicates": t.duplicates,
                "alerts": t.alerts,
            },
        }
        self.last_status = status
        _write_json_atomic(self.options.status_path, status)
        self.store.put_status(self.options.app, status)
        if self.options.cloudwatch_namespace:
            self._publish_cloudwatch(status)
        q = metrics.get("quality_score", 100.0)
        self.say(
            f"batch {batch_id}{' (flush)' if flush else ''}: "
            f"{metrics.get('processed', 0)} records, {metrics.get('passed', 0)} passed, "
            f"{metrics.get('failed', 0)} dead letters, {metrics.get('duplicates', 0)} "
            f"duplicates, quality {q:.1f}%, {len(alerts)} alerts, {seconds:.1f} s"
        )

    def _publish_cloudwatch(self, status: dict[str, Any]) -> None:
        import boto3

        from ctc.runtime.cloudwatch import publish_batch_metrics

        if self._cloudwatch is None:
            self._cloudwatch = boto3.client("cloudwatch")
        m = status["metrics"]
        figures = {
            k: m[k]
            for k in ("processed", "passed", "failed", "late", "duplicates", "quality_score")
            if k in m
        }
        figures.update(
            source_lag_seconds=status["source_lag_seconds"],
            batch_seconds=status["batch_seconds"],
            alerts=status["alerts"],
        )
        assert self.options.cloudwatch_namespace is not None
        publish_batch_metrics(
            self._cloudwatch,
            self.options.cloudwatch_namespace,
            self.options.app,
            figures,
            datetime.now(tz=UTC),
        )

    def _pending_files(self) -> dict[str, Any]:
        """Files in the landing directory that no committed batch has read yet."""
        if self.options.source and not self.options.source.startswith("landing:"):
            return {"files": None, "lag_seconds": None}
        done: set[str] = set()
        src = self.options.checkpoint / "query" / "sources" / "0"
        if src.is_dir():
            for f in src.iterdir():
                try:
                    for line in f.read_text(encoding="utf-8").splitlines()[1:]:
                        done.add(json.loads(line)["path"])
                except (OSError, ValueError, KeyError):
                    continue
        pending = [
            p
            for p in self.options.landing.glob("*.jsonl")
            if p.resolve().as_uri() not in done and f"file:{p.resolve()}" not in done
        ]
        oldest = min((p.stat().st_mtime for p in pending), default=None)
        return {
            "files": len(pending),
            "lag_seconds": round(time.time() - oldest, 1) if oldest else 0.0,
        }

    # -- the query ------------------------------------------------------------------------
    def run(self) -> RunTotals:
        """Start the query; with until_idle, stop when the input is drained and flushed."""
        source = self._source()
        writer = (
            source.writeStream.foreachBatch(self.process_batch)
            .option("checkpointLocation", str(self.options.checkpoint / "query"))
            .queryName(self.options.app)
        )
        if self.options.until_idle:
            writer = writer.trigger(availableNow=True)
        else:
            writer = writer.trigger(processingTime=f"{self.options.trigger_seconds} seconds")
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
            _write_json_atomic(self.options.status_path, self.last_status)
            self.store.put_status(self.options.app, self.last_status)
        return self.totals

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
        if self.state.load(latest).meta.get("flushed"):
            return
        empty_batch = self.spark.createDataFrame([], "value string, source_file string")
        self.process_batch(empty_batch, latest, flush=True)


DEAD_LETTER_COLUMNS = ("reason", "rule", "detail", "event_id", "raw", "source_file", "received_at")
_MARKET_SCHEMA = (
    "symbol string, exchange string, minute timestamp, volume double, "
    "price double, last_time timestamp"
)


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
    tmp.replace(path)


def stderr_say(msg: str) -> None:
    """Progress on stderr."""
    print(f"ctc: {msg}", file=sys.stderr, flush=True)
