"""The gated input of back-tests, kept as Parquet and reused while nothing it depends on changes.

A back-test first passes its input through the quality gate (:func:`ctc.runtime.quality.gate_rows`,
one map-only pass over the JSON lines, written as Parquet), then finds the in-batch
duplicates and counts everything on the driver, over the Parquet's narrow columns
(:mod:`ctc.runtime.gate_counts`, no Spark job). This module stores that result under
``<cache dir>/<key>/``::

    rows/          every line's parsed fields, quote_warning, reason, rule, _order (Parquet)
    duplicates/    _order of the rows dropped as duplicate event ids (Parquet)
    counts.json    the gate's metrics (read = used + rejected + duplicates), the key's parts
    results/       each detector's alerts over this input (:mod:`ctc.runtime.result_cache`)

The key is a SHA-256 over the content of every input file (with its name relative to the
input, which fixes Spark's read order), the quality rules, this format's version, the
source of the gate's modules and the Spark version. Change a byte of any of them and the
key changes: a cache entry is never invalidated in place, a new one is made.

An entry is written in a hidden ``.tmp-<key>-<pid>-<random>`` folder beside it and renamed
into place only when complete (``counts.json`` last), so a crash or Ctrl-C leaves at most a
hidden folder, which is never read and is removed by a later run once its process is gone.
Entries are not evicted; delete the cache folder to reclaim the space.

``is_late`` depends on the processing time, so it is not stored: it is computed when the
entry is read, as the gate computes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote, urlparse

import pyarrow as pa

from ctc.runtime.gate_counts import COUNT_COLUMNS, in_batch_counts
from ctc.runtime.process_alive import pid_alive
from ctc.runtime.sources import InputCounts, ddl

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from ctc.runtime.quality_rules import QualityRules

#: The default cache folder of ``ctc backtest`` (relative to the working directory).
DEFAULT_CACHE_DIR: Final = Path("var/cache/gated")

#: Bumped whenever what an entry holds, or how it is read, changes.
FORMAT: Final = 1

_COUNTS: Final = "counts.json"
_ROWS: Final = "rows"
_DUPLICATES: Final = "duplicates"
_TMP_PREFIX: Final = ".tmp-"

Progress = Callable[[str], None]


@dataclass
class GatedInput:
    """The trade events that passed the gate, with their counts and where they came from.

    ``trades``: ``TRADE_EVENT_FIELDS`` + ``is_late`` + ``quote_warning``. ``hit``: read
    from an existing cache entry. ``entry``: the cache entry (None without a cache).
    Call :meth:`release` when ``trades`` is no longer needed.
    """

    trades: DataFrame
    counts: InputCounts
    metrics: dict[str, Any]
    hit: bool
    entry: Path | None
    _persisted: list[DataFrame]

    def release(self) -> None:
        """Free what was held in Spark's memory for this input (nothing for a cache entry)."""
        for df in self._persisted:
            df.unpersist()
        self._persisted.clear()


def local_files(path: str | Path) -> list[Path] | None:
    """Every file under ``path`` (or ``path`` itself), hidden ones included; None when
    ``path`` is not on the local file system (the cache then stays out of the way).

    A superset of what Spark's text source reads (it skips names starting with ``_`` or
    ``.``): a change to any file Spark reads changes the key, and listing here needs no
    Spark job before the cache is looked up.
    """
    text = str(path)
    parsed = urlparse(text)
    if parsed.scheme == "file":
        text = unquote(parsed.path)
    elif parsed.scheme and len(parsed.scheme) > 1:  # s3://, hdfs://, … (not C:\)
        return None
    root = Path(text)
    if root.is_file():
        return [root]
    if not root.is_dir():
        return None
    return sorted(p for p in root.rglob("*") if p.is_file())


def _local(path: str | Path) -> Path:
    parsed = urlparse(str(path))
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(path)


def _digest_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def input_fingerprint(root: str | Path, files: Iterable[Path]) -> str:
    """SHA-256 over each file's name relative to ``root`` and its content's SHA-256."""
    base = Path(root).resolve()
    h = hashlib.sha256()
    for f in sorted(Path(p).resolve() for p in files):
        name = f.relative_to(base).as_posix() if f.is_relative_to(base) else str(f)
        h.update(f"{name}\0{_digest_file(f)}\n".encode())
    return h.hexdigest()


def rules_fingerprint(rules: QualityRules) -> str:
    """SHA-256 of the rules' content (not of the file's path: a moved file is the same rules)."""
    return hashlib.sha256(repr(replace(rules, path="")).encode()).hexdigest()


def _code_fingerprint() -> str:
    """SHA-256 of what decides an entry's content besides input and rules: the gate's
    source, the event fields, this module's format and the Spark version."""
    import pyspark

    from ctc import events
    from ctc.runtime import gate_counts, quality, quality_rules

    h = hashlib.sha256(f"format {FORMAT}; pyspark {pyspark.__version__}\n".encode())
    for module in (quality, quality_rules, gate_counts, events):
        assert module.__file__ is not None
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()


def cache_key(input_digest: str, rules: QualityRules) -> str:
    """The entry name for input content ``input_digest`` gated by ``rules``."""
    parts = f"{input_digest}\n{rules_fingerprint(rules)}\n{_code_fingerprint()}\n"
    return hashlib.sha256(parts.encode()).hexdigest()[:32]


def _read_counts(entry: Path, key: str) -> dict[str, Any] | None:
    """The entry's counts.json, or None when the entry is absent, incomplete or foreign."""
    try:
        data = json.loads((entry / _COUNTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
        return None
    if (
        not (entry / _ROWS / "_SUCCESS").is_file()
        or not (entry / _DUPLICATES / "_SUCCESS").is_file()
    ):
        return None
    return data


def counts_of(metrics: dict[str, Any]) -> InputCounts:
    """The conservation counts (read, used, rejected, duplicates) of the gate's metrics."""
    return InputCounts(
        int(metrics["processed"]),
        int(metrics["passed"]),
        int(metrics["failed"]),
        int(metrics["duplicates"]),
    )


def remove_stale_temporaries(cache_dir: Path) -> None:
    """Delete the hidden folders of cache writes whose process is gone (a crash, a kill)."""
    if not cache_dir.is_dir():
        return
    for tmp in cache_dir.glob(f"{_TMP_PREFIX}*"):
        try:
            pid = int(tmp.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not pid_alive(pid):
            shutil.rmtree(tmp, ignore_errors=True)


def _read_entry(
    spark: SparkSession,
    entry: Path,
    data: dict[str, Any],
    rules: QualityRules,
    processing_time: datetime,
) -> DataFrame:
    from ctc.runtime.quality import GATED_ROW_FIELDS, batch_passed

    rows = spark.read.schema(ddl(GATED_ROW_FIELDS)).parquet(str(entry / _ROWS))
    dups = None
    if data["metrics"]["duplicates"]:
        dups = spark.read.schema("_order bigint").parquet(str(entry / _DUPLICATES))
    return batch_passed(rows, dups, rules, processing_time)


def _gate_and_count(
    spark: SparkSession,
    rows: DataFrame,
    rules: QualityRules,
    processing_time: datetime,
) -> tuple[DataFrame | None, dict[str, Any]]:
    """(duplicates, metrics) of materialised gate rows; duplicates None when there are none."""
    from ctc.runtime.quality import batch_duplicates, batch_metrics

    dup_rows = batch_duplicates(rows).localCheckpoint(eager=True)
    dups = dup_rows if not dup_rows.isEmpty() else None
    return dups, batch_metrics(rows, dups, rules, processing_time)


@dataclass(frozen=True)
class CacheLookup:
    """Where the gated input of one input and rules is (or would be) kept."""

    key: str
    entry: Path
    files: list[Path]
    #: the complete entry's counts.json; None when there is no complete entry yet
    data: dict[str, Any] | None


def lookup(
    path: str | Path, rules: QualityRules, cache_dir: str | Path | None = DEFAULT_CACHE_DIR
) -> CacheLookup | None:
    """The cache entry of ``path`` gated by ``rules`` (no Spark: the input's content is
    hashed here); None when the cache is off or the input is not on the local file system."""
    files = local_files(path) if cache_dir is not None else None
    if cache_dir is None or files is None:
        return None
    key = cache_key(input_fingerprint(_local(path), files), rules)
    entry = Path(cache_dir) / key
    return CacheLookup(key, entry, files, _read_counts(entry, key))


def gated_input(
    spark: SparkSession,
    path: str | Path,
    rules: QualityRules,
    cache_dir: str | Path | None = DEFAULT_CACHE_DIR,
    processing_time: datetime | None = None,
    progress: Progress | None = None,
    found: CacheLookup | None = None,
) -> GatedInput:
    """The trade events of ``path`` that pass ``rules``, with the gate's counts.

    With ``cache_dir``, an entry for the same input content, rules and gate code is read
    (no JSON is parsed); otherwise the input is gated once into a new entry, which is then
    read. Without ``cache_dir`` (or for input that is not on the local file system), the
    gated rows are held in Spark's memory instead.
    ``processing_time`` (default now, UTC) decides ``is_late``, as in the gate.
    ``found``: this input's :func:`lookup`, when the caller has made it already.
    """
    from pyspark import StorageLevel

    from ctc.runtime.quality import epoch_micros, gate_rows

    say = progress or (lambda _msg: None)
    now = processing_time or datetime.now(UTC)
    if found is None:
        found = lookup(path, rules, cache_dir)
    if found is None:
        if cache_dir is not None:
            say("gated-input cache off: the input is not on the local file system")
        rows = gate_rows(spark, path, rules).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            dups, metrics = _gate_and_count(spark, rows, rules, now)
        except BaseException:
            rows.unpersist()
            raise
        from ctc.runtime.quality import batch_passed

        trades = batch_passed(rows, dups, rules, now)
        return GatedInput(trades, counts_of(metrics), metrics, False, None, [rows])

    key, entry, files, data = found.key, found.entry, found.files, found.data
    cache = entry.parent
    if data is not None:
        say(f"gated input from cache {entry}")
        metrics = data["metrics"]
        return GatedInput(
            _read_entry(spark, entry, data, rules, now),
            counts_of(metrics),
            metrics,
            True,
            entry,
            [],
        )

    say(f"gating {path} into cache {entry}")
    cache.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(cache)
    if entry.exists():  # incomplete or foreign: never read, replaced
        shutil.rmtree(entry, ignore_errors=True)
    tmp = cache / f"{_TMP_PREFIX}{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        # no dictionaries: event ids are unique, and the write is a third of the gating
        gate_rows(spark, path, rules).write.option("parquet.enable.dictionary", "false").parquet(
            str(tmp / _ROWS)
        )
        # the dedupe and every count over the narrow columns, on the driver: no Spark job
        dup_orders, metrics = in_batch_counts(_read_columns(tmp / _ROWS), rules, epoch_micros(now))
        _write_duplicates(tmp / _DUPLICATES, dup_orders)
        data = {
            "format": FORMAT,
            "key": key,
            "input": str(path),
            "files": [str(f) for f in files],
            "rules": rules.path,
            "gated_at": now.isoformat(),
            "metrics": metrics,
        }
        _write_json(tmp / _COUNTS, data)
        _commit(tmp, entry)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    final = _read_counts(entry, key) or data  # another process may have won the race
    metrics = final["metrics"]
    return GatedInput(
        _read_entry(spark, entry, final, rules, now), counts_of(metrics), metrics, False, entry, []
    )


def _read_columns(rows: Path) -> pa.Table:
    """The columns the counts need (:data:`COUNT_COLUMNS`) of the Parquet rows Spark wrote."""
    import pyarrow.parquet as pq

    return pq.read_table(rows, columns=list(COUNT_COLUMNS))


def _write_duplicates(folder: Path, orders: pa.Array) -> None:
    """The duplicates' ``_order`` as Parquet, with Spark's ``_SUCCESS`` marker."""
    import pyarrow.parquet as pq

    folder.mkdir(parents=True)
    pq.write_table(pa.table({"_order": orders.cast(pa.int64())}), folder / "part-0.parquet")
    (folder / "_SUCCESS").touch()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())


def _commit(tmp: Path, entry: Path) -> None:
    """Rename the complete ``tmp`` folder to ``entry`` (atomic on one file system)."""
    try:
        os.rename(tmp, entry)
    except OSError:
        if not entry.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)  # a concurrent run committed the same key
