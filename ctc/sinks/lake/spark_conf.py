"""Spark settings for an Iceberg catalog: Glue (EMR) or Hadoop, and the jars it needs.

Pure text: nothing here starts Spark. The Iceberg Spark runtime is not shipped with
pyspark; :data:`ICEBERG_PACKAGES` names it (and the AWS bundle for Glue and S3) for
``spark.jars.packages``, or on EMR the release's jar :data:`EMR_ICEBERG_JAR` goes on
``spark.jars`` (docs/lake.md).
"""

from __future__ import annotations

import re
from typing import Final

#: The Iceberg release for Spark 4.0 (EMR Serverless emr-spark-8.0.0).
ICEBERG_VERSION: Final = "1.10.1"

#: Maven coordinates of the Iceberg Spark runtime and the AWS bundle (Glue, S3 clients).
ICEBERG_PACKAGES: Final = (
    f"org.apache.iceberg:iceberg-spark-runtime-4.0_2.13:{ICEBERG_VERSION}",
    f"org.apache.iceberg:iceberg-aws-bundle:{ICEBERG_VERSION}",
)

#: Where EMR (Serverless) ships the Iceberg Spark runtime jar; add it to ``spark.jars``.
EMR_ICEBERG_JAR: Final = "/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar"

#: Settings that only take effect when the JVM starts (they cannot be set on a session).
STATIC_KEYS: Final = ("spark.sql.extensions", "spark.jars.packages", "spark.jars")

_S3 = re.compile(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?")
_URI = re.compile(r"(s3a|hdfs|file):/{0,2}\S+|/\S*")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")


def spark_iceberg_conf(
    catalog: str,
    warehouse: str,
    glue: bool = True,
    *,
    region: str | None = None,
    packages: bool = False,
) -> dict[str, str]:
    """Spark settings for an Iceberg catalog ``catalog`` over ``warehouse``.

    With ``glue`` the catalog is the AWS Glue Data Catalog (a namespace is a Glue
    database) and ``warehouse`` must be ``s3://bucket[/prefix]``; without, a Hadoop
    catalog (metadata in the warehouse only, no concurrent writers) over ``s3://…``,
    ``hdfs://…``, ``file:/…`` or an absolute path. An ``s3://`` warehouse goes through
    ``S3FileIO``. ``region`` sets the AWS clients' region (default: the AWS chain);
    ``packages`` adds :data:`ICEBERG_PACKAGES` as ``spark.jars.packages`` (downloaded
    from Maven when the JVM starts). Merge ``spark.sql.extensions`` with commas yourself
    if you set it elsewhere too.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", catalog or ""):
        raise ValueError(f"bad catalog name {catalog!r}: letters, digits and _ only")
    s3 = bool(_S3.fullmatch(warehouse or ""))
    if glue and not s3:
        raise ValueError(f"warehouse must be an s3://bucket[/prefix] URI, not {warehouse!r}")
    if not glue and not (s3 or _URI.fullmatch(warehouse or "")):
        raise ValueError(
            f"warehouse must be s3://bucket[/prefix], hdfs://…, file:/… or an absolute path, "
            f"not {warehouse!r}"
        )
    if region is not None and not _REGION.fullmatch(region):
        raise ValueError(f"bad AWS region {region!r} (for example eu-west-1)")
    prefix = f"spark.sql.catalog.{catalog}"
    conf = {
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        f"{prefix}.warehouse": warehouse,
    }
    if s3:
        conf[f"{prefix}.io-impl"] = "org.apache.iceberg.aws.s3.S3FileIO"
    if glue:
        conf[f"{prefix}.catalog-impl"] = "org.apache.iceberg.aws.glue.GlueCatalog"
    else:
        conf[f"{prefix}.type"] = "hadoop"
    if region is not None:
        conf[f"{prefix}.client.region"] = region
    if packages:
        conf["spark.jars.packages"] = ",".join(ICEBERG_PACKAGES)
    return conf


def session_keys(conf: dict[str, str]) -> dict[str, str]:
    """The settings of ``conf`` that a running session accepts (the catalog's own)."""
    return {k: v for k, v in conf.items() if k not in STATIC_KEYS}
