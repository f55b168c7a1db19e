"""The EMR Serverless release that runs ctc: the Spark line of the pyspark pin (ADR 0001)."""

from __future__ import annotations

from typing import Final

#: EMR Serverless release with Spark 4.0.2 and Iceberg 1.10.1 (docs/adr/0001).
EMR_RELEASE: Final = "emr-spark-8.0.0"
#: The Spark line that release ships; pyproject pins pyspark to it.
SPARK_LINE: Final = "4.0"


def check_release(label: str) -> None:
    """Raise ValueError unless ``label`` is :data:`EMR_RELEASE`: a job built for Spark 4.0
    must not run on another Spark line."""
    if label != EMR_RELEASE:
        raise ValueError(
            f"the EMR application runs {label}, ctc needs {EMR_RELEASE} (Spark {SPARK_LINE}, "
            "docs/adr/0001): set release_label in Terraform and apply"
        )
