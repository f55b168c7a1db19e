"""Quiet start-up of the Spark JVM: a log4j2 configuration shipped with ctc, and a filter
on the JVM's stderr.

Without ``ctc --verbose`` a Spark command would print eight or nine lines before doing
anything: log4j's default profile, the loopback-hostname and native-hadoop warnings, and
the JVM's own ``WARNING: Using incubator modules`` (Spark adds the module; no JVM option
silences the warning). :func:`launch_quiet_gateway` starts pyspark's JVM with
``log4j2-quiet.properties`` (errors only) and reads its stderr through a thread that drops
the known start-up lines and passes everything else on, unchanged, to this process's
stderr. ``ctc --verbose`` skips all of this: Spark's defaults, every line.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO

#: The log4j2 configuration of a quiet session (errors only).
LOG4J2_QUIET = Path(__file__).with_name("log4j2-quiet.properties")

#: Start-up lines of the JVM and of Spark's default log4j profile that say nothing to a user.
NOISE = (
    b"WARNING: Using incubator modules",
    b"Using Spark's default log4j profile",
    b"Setting default log level to",
    b"To adjust logging level use sc.setLogLevel",
)


def quiet_conf(conf: Mapping[str, str]) -> dict[str, str]:
    """``conf`` with the driver JVM told to read :data:`LOG4J2_QUIET`."""
    out = dict(conf)
    option = f"-Dlog4j2.configurationFile={LOG4J2_QUIET.resolve().as_uri()}"
    out["spark.driver.extraJavaOptions"] = " ".join(
        o for o in (conf.get("spark.driver.extraJavaOptions", ""), option) if o
    )
    return out


def forward_filtered(source: IO[bytes], target_fd: int = 2) -> threading.Thread:
    """Copy ``source`` line by line to ``target_fd``, leaving out the :data:`NOISE` lines,
    in a daemon thread (until ``source`` ends)."""

    def pump() -> None:
        with source:
            for line in iter(source.readline, b""):
                if line.lstrip().startswith(NOISE):
                    continue
                with contextlib.suppress(OSError):
                    os.write(target_fd, line)

    thread = threading.Thread(target=pump, name="ctc-jvm-stderr", daemon=True)
    thread.start()
    return thread


def launch_quiet_gateway(conf: Mapping[str, str]) -> bool:
    """Start pyspark's JVM with ``conf`` (every setting, JVM options included) and its
    stderr filtered, unless a JVM is already running or pyspark is told to connect to an
    existing one. Returns whether this call started it."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None or "PYSPARK_GATEWAY_PORT" in os.environ:
        return False
    spark_conf = SparkConf(loadDefaults=False)
    for key, value in conf.items():
        spark_conf.set(key, value)
    gateway = launch_gateway(spark_conf, popen_kwargs={"stderr": subprocess.PIPE})
    forward_filtered(gateway.proc.stderr)
    SparkContext._ensure_initialized(gateway=gateway)
    return True
