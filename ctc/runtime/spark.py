"""The one place that builds a SparkSession for ctc."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Settings every ctc session uses, local or on EMR.
BASE_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
    "spark.driver.memory": "4g",
    "spark.sql.streaming.stateStore.stateSchemaCheck": "true",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}


def get_spark(app_name: str = "ctc", master: str | None = None) -> SparkSession:
    """Return the process's SparkSession, creating it with ctc's settings on first use.

    ``master`` defaults to ``$CTC_SPARK_MASTER`` or ``local[2]``. JVM options only take
    effect when this call starts the JVM; later calls reuse the running session.
    """
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", "python3"))
    os.environ.setdefault("TZ", "UTC")
    builder = SparkSession.builder.appName(app_name).master(
        master or os.environ.get("CTC_SPARK_MASTER", "local[2]")
    )
    for key, value in BASE_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
