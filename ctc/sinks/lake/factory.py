"""Open the lake a URL names: the ``--lake`` setting of ``ctc run``.

* ``var/lake``, ``/abs/folder``, ``file:var/lake``, ``file:///abs/folder`` — the local
  lake (pyiceberg, SQLite catalog in the folder): the default.
* ``glue://DATABASE?warehouse=s3://BUCKET/PREFIX`` — Iceberg through Spark's catalog,
  the AWS Glue Data Catalog (database = namespace), data in S3. Optional ``catalog=NAME``
  (Spark's catalog name, default ``lake``), ``region=eu-west-1``, ``packages=false``
  (leave the Iceberg jars to the environment, e.g. EMR's; default: Maven coordinates on
  ``spark.jars.packages``).
* ``hadoop://DATABASE?warehouse=URI`` — the same with a Hadoop catalog (metadata in the
  warehouse only; a single writer): ``s3://…``, ``hdfs://…``, ``file:/…`` or a folder.
* ``none`` — no lake.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qs, unquote, urlsplit

from ctc.sinks.lake.base import NAMESPACE, LakeError
from ctc.sinks.lake.spark_conf import spark_iceberg_conf

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ctc.sinks.lake.base import Lake

#: What ``--lake`` accepts, for error messages and help.
LAKE_URL_FORMS: Final = (
    "a folder (var/lake) or file:PATH, glue://DATABASE?warehouse=s3://BUCKET/PREFIX, "
    "hadoop://DATABASE?warehouse=URI, or none"
)

_PARAMS: Final = {"warehouse", "catalog", "region", "packages"}
_BOOL: Final = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


class LakeUrlError(LakeError, ValueError):
    """A ``--lake`` URL that names no lake ctc can open."""


@dataclass(frozen=True)
class LakeTarget:
    """Where a lake URL points; :meth:`spark_conf` is what the Spark session needs."""

    #: ``local``, ``glue``, ``hadoop`` or ``none``
    kind: str
    path: Path | None = None
    namespace: str = NAMESPACE
    catalog: str = "lake"
    warehouse: str | None = None
    region: str | None = None
    packages: bool = True

    @property
    def uses_spark(self) -> bool:
        """Whether the lake is written through Spark's catalog."""
        return self.kind in ("glue", "hadoop")

    def spark_conf(self) -> dict[str, str]:
        """Spark settings for the catalog (empty for the local lake or none)."""
        if not self.uses_spark or self.warehouse is None:
            return {}
        return spark_iceberg_conf(
            self.catalog,
            self.warehouse,
            glue=self.kind == "glue",
            region=self.region,
            packages=self.packages,
        )


def parse_lake_url(url: str | Path | None) -> LakeTarget:
    """The :class:`LakeTarget` of ``url`` (see the module docstring); LakeUrlError if bad."""
    if url is None or (isinstance(url, str) and url.strip() == "none"):
        return LakeTarget("none")
    if isinstance(url, Path):
        return LakeTarget("local", path=url)
    if not isinstance(url, str) or not url.strip():
        raise LakeUrlError(f"empty lake URL: use {LAKE_URL_FORMS}")
    parts = urlsplit(url.strip())
    if parts.scheme == "":
        return LakeTarget("local", path=Path(url.strip()))
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or parts.query or not parts.path:
            raise LakeUrlError(f"expected file:PATH or file:///ABS/PATH, not {url!r}")
        return LakeTarget("local", path=Path(unquote(parts.path)))
    if parts.scheme in ("glue", "hadoop"):
        return _catalog_target(url, parts.scheme, parts.netloc, parts.path, parts.query)
    raise LakeUrlError(f"unknown lake URL {url!r}: use {LAKE_URL_FORMS}")


def _catalog_target(url: str, kind: str, netloc: str, path: str, query: str) -> LakeTarget:
    """A glue:// or hadoop:// URL, checked: the conf is built once here to validate it."""
    if not netloc or path not in ("", "/"):
        raise LakeUrlError(f"expected {kind}://DATABASE?warehouse=…, not {url!r}")
    params = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(params) - _PARAMS)
    if unknown:
        raise LakeUrlError(f"unknown parameters {unknown} in {url!r} (known: {sorted(_PARAMS)})")
    repeated = sorted(k for k, v in params.items() if len(v) > 1)
    if repeated:
        raise LakeUrlError(f"repeated parameters {repeated} in {url!r}")
    values = {k: v[0] for k, v in params.items()}
    warehouse = values.get("warehouse", "")
    if not warehouse:
        example = "s3://BUCKET/PREFIX" if kind == "glue" else "URI"
        raise LakeUrlError(f"{url!r} has no warehouse: add ?warehouse={example}")
    if kind == "hadoop" and "://" not in warehouse and not warehouse.startswith("file:"):
        warehouse = Path(warehouse).resolve().as_uri()
    packages = _BOOL.get(values.get("packages", "true").lower())
    if packages is None:
        raise LakeUrlError(f"packages must be true or false in {url!r}")
    target = LakeTarget(
        kind,
        namespace=netloc,
        catalog=values.get("catalog", "lake"),
        warehouse=warehouse,
        region=values.get("region"),
        packages=packages,
    )
    try:
        if not netloc.isidentifier() or not netloc.isascii():
            raise ValueError(f"bad database name {netloc!r}: letters, digits and _ only")
        target.spark_conf()
    except ValueError as exc:
        raise LakeUrlError(f"{exc} (in {url!r})") from None
    return target


def preload_lake(url: str | Path | None) -> threading.Thread | None:
    """Import what the local lake ``url`` opens and writes with (pyiceberg and its
    dependencies: 0.6–0.9 s of Python imports) in a background thread; returns it (None
    for a lake of another kind). Called just before Spark starts, it overlaps the JVM's
    start, during which the main thread only waits; :func:`open_lake` later finds the
    modules imported (Python's import lock makes it wait for one still in progress)."""
    if parse_lake_url(url).kind != "local":
        return None

    def load() -> None:
        try:
            import pyiceberg.catalog.sql
            import pyiceberg.io.pyarrow  # noqa: F401

            import ctc.sinks.lake.local  # noqa: F401
        except Exception:  # open_lake imports them again and reports it
            return

    thread = threading.Thread(target=load, name="ctc-lake-imports", daemon=True)
    thread.start()
    return thread


def open_lake(url: str | Path | None, spark: SparkSession | None = None) -> Lake | None:
    """The lake ``url`` names, or None for ``none``.

    A glue:// or hadoop:// lake needs ``spark``: its catalog settings are applied to the
    session if missing (the Iceberg jars must already be on its class path).
    """
    target = parse_lake_url(url)
    if target.kind == "none":
        return None
    if target.kind == "local":
        from ctc.sinks.lake.local import LocalLake

        assert target.path is not None
        return LocalLake(target.path)
    if spark is None:
        raise LakeUrlError(f"a {target.kind}:// lake is written through Spark: pass a session")
    from ctc.sinks.lake.spark_catalog import SparkCatalogLake

    return SparkCatalogLake(spark, target.catalog, target.namespace, conf=target.spark_conf())
