"""The one place that builds a SparkSession for ctc."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Driver heap when nothing else is said (``--driver-memory`` / ``CTC_DRIVER_MEMORY``).
#: With the JVM's own overhead and the Python driver this keeps a run within 3 GiB.
DEFAULT_DRIVER_MEMORY = "1536m"

#: More driver JVM options, appended to ctc's own (e.g. ``-XX:TieredStopAtLevel=1``, which
#: the test suite sets: its JVMs see little data, so the JIT's C2 compiler costs more CPU
#: than it wins back; ADR 0022, second revision).
DRIVER_JAVA_OPTIONS_ENV = "CTC_DRIVER_JAVA_OPTIONS"

#: Settings every ctc session uses, local or on EMR.
BASE_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
    # every detector together generates more classes than Spark's default cache holds
    # (100): they were compiled again every micro-batch (ADR 0008)
    "spark.sql.codegen.cache.maxEntries": "2000",
    "spark.sql.streaming.stateStore.stateSchemaCheck": "true",
    # the parallel collector: G1's write barriers and refinement cost the short, CPU-bound
    # JVMs of ctc's commands about a tenth of their CPU, half of it in the JIT (ADR 0022)
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC -XX:+UseParallelGC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}


def settings() -> dict[str, str]:
    """The settings that depend on the machine: driver memory and shuffle partitions.

    ``CTC_DRIVER_MEMORY`` (default 1536m) and ``CTC_SHUFFLE_PARTITIONS`` (default: the
    number of cores, at least 2), set by ``ctc --driver-memory/--shuffle-partitions``.
    """
    cores = os.cpu_count() or 2
    return {
        "spark.driver.memory": os.environ.get("CTC_DRIVER_MEMORY") or DEFAULT_DRIVER_MEMORY,
        "spark.sql.shuffle.partitions": os.environ.get("CTC_SHUFFLE_PARTITIONS")
        or str(max(2, cores)),
    }


def _join_options(*options: str) -> str:
    return " ".join(o for o in options if o)


def get_spark(
    app_name: str = "ctc",
    master: str | None = None,
    conf: Mapping[str, str] | None = None,
    java_options: str | None = None,
) -> SparkSession:
    """Return the process's SparkSession, creating it with ctc's settings on first use.

    ``master`` defaults to ``$CTC_SPARK_MASTER`` or ``local[2]``. ``conf``: more settings,
    e.g. a Spark-catalog lake's (:meth:`ctc.sinks.lake.factory.LakeTarget.spark_conf`:
    the Iceberg catalog, extensions and jars). ``java_options``: more driver JVM options
    (default: those that map the class archive, :mod:`ctc.runtime.jvm_archive`), and
    ``$CTC_DRIVER_JAVA_OPTIONS`` after them. JVM options and jars only take effect when
    this call starts the JVM; later calls reuse the running session. The JVM is guarded to
    die with this process (:mod:`ctc.runtime.jvm_guard`). Unless ``ctc --verbose``, the
    JVM starts quietly (:mod:`ctc.runtime.jvm_output`: no start-up lines) and Spark's log
    is off once the session is up.
    """
    from pyspark.sql import SparkSession

    from ctc.dsl.errors import verbose
    from ctc.runtime.jvm_guard import guard_jvm
    from ctc.runtime.jvm_output import launch_quiet_gateway, quiet_conf

    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", "python3"))
    os.environ.setdefault("TZ", "UTC")
    master = master or os.environ.get("CTC_SPARK_MASTER", "local[2]")
    from ctc.runtime.jvm_archive import java_options as archive_options

    every = {**BASE_CONF, **settings(), **(conf or {})}
    key = "spark.driver.extraJavaOptions"
    extra = archive_options() if java_options is None else java_options
    every[key] = _join_options(
        BASE_CONF[key],
        (conf or {}).get(key, ""),
        extra,
        os.environ.get(DRIVER_JAVA_OPTIONS_ENV, ""),
    )
    if not verbose():
        every = quiet_conf(every)
        launch_quiet_gateway({**every, "spark.master": master, "spark.app.name": app_name})
    builder = SparkSession.builder.appName(app_name).master(master)
    for key, value in every.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR" if verbose() else "OFF")
    guard_jvm(spark)
    return spark


def stop_spark(spark: SparkSession, timeout: float = 30.0) -> None:
    """Stop ``spark`` and end the JVM pyspark started for it (``SparkSession.stop`` alone
    leaves the JVM running, with its heap). A later :func:`get_spark` starts a new one."""
    from pyspark import SparkContext

    spark.stop()
    if threading.current_thread() is threading.main_thread():
        # pyspark's Ctrl-C handler cancels the context's jobs; with no context left it
        # would fail instead of interrupting
        signal.signal(signal.SIGINT, signal.default_int_handler)
    gateway = SparkContext._gateway
    if gateway is None:
        return
    proc = getattr(gateway, "proc", None)
    gateway.shutdown()
    SparkContext._gateway = None
    SparkContext._jvm = None
    if proc is None:
        return  # a JVM this process did not start
    if proc.stdin is not None:
        proc.stdin.close()  # pyspark's JVM exits when its stdin closes
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
