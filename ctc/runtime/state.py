"""Versioned state of the streaming runtime, kept beside Spark's checkpoint.

Each micro-batch ``b`` reads the state committed by the batch before it and commits
its own as version ``b``: a folder of Parquet tables plus ``meta.json``, written under
a temporary name and renamed into place, so a crash leaves either the old or the new
version whole. A replayed batch (after a crash, Spark runs the same batch id over the
same files again) reads version ``b - 1`` again and overwrites version ``b``, so the
state, like the sinks, ends up as if the batch had run once.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FLUSH = "flush"


@dataclass
class StateVersion:
    """The tables and metadata of one committed version (None: the empty initial state)."""

    version: int | None
    folder: Path | None
    meta: dict[str, Any] = field(default_factory=dict)

    def table(self, spark: SparkSession, name: str, schema: str) -> DataFrame:
        """A state table (empty with ``schema`` when this version has none)."""
        if self.folder is not None and (self.folder / name).is_dir():
            return spark.read.schema(schema).parquet(str(self.folder / name))
        return spark.createDataFrame([], schema)


class StateStore:
    """Versions of the runtime's state in ``root`` (checkpoint/state)."""

    def __init__(self, root: Path, keep: int = 3) -> None:
        self.root = root
        self.keep = keep
        root.mkdir(parents=True, exist_ok=True)

    def _versions(self) -> list[int]:
        out = []
        for p in self.root.iterdir():
            if p.is_dir() and p.name.startswith("v") and (p / "meta.json").exists():
                try:
                    out.append(int(p.name[1:]))
                except ValueError:
                    continue
        return sorted(out)

    def latest(self) -> int | None:
        """The newest committed version, or None."""
        versions = self._versions()
        return versions[-1] if versions else None

    def load_before(self, batch_id: int) -> StateVersion:
        """The newest version committed by a batch before ``batch_id``."""
        older = [v for v in self._versions() if v < batch_id]
        if not older:
            return StateVersion(None, None, {})
        return self.load(older[-1])

    def load(self, version: int) -> StateVersion:
        """One committed version."""
        folder = self.root / f"v{version}"
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        return StateVersion(version, folder, meta)

    def commit(self, version: int, tables: dict[str, DataFrame], meta: dict[str, Any]) -> None:
        """Write ``tables`` and ``meta`` as ``version``, atomically, and prune old versions."""
        tmp = self.root / f".v{version}.tmp-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        for name, df in tables.items():
            df.write.mode("overwrite").parquet(str(tmp / name))
        (tmp / "meta.json").write_text(json.dumps(meta, sort_keys=True), encoding="utf-8")
        final = self.root / f"v{version}"
        if final.exists():
            old = self.root / f".v{version}.old-{os.getpid()}"
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(final)
        for v in self._versions()[: -self.keep]:
            shutil.rmtree(self.root / f"v{v}", ignore_errors=True)
        for junk in self.root.glob(".v*"):
            if junk.is_dir() and str(os.getpid()) not in junk.name:
                shutil.rmtree(junk, ignore_errors=True)
