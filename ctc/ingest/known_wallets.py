"""Known-wallet labels: the label sets merged into the one reference table the specs read.

MOD-005 (known-wallet activity), MOD-008 (on-chain ingester) and MOD-004 (wallet scorer)
join on-chain events to ``reference/labels/known_wallets.csv`` in the detectors folder
(columns ``address,name,family,type``). That file is not in git: ``ctc labels load``
writes it (docs/ingest.md, "Known-wallet labels"), from

1. the hand-kept list ``reference/labels.csv`` (always, first);
2. the label sets given, in the order given: the Etherscan JSON of
   ``brianleect/etherscan-labels`` (``{address: {"name", "labels": [...]}}``) and CSV
   files with a header naming ``address``, ``name``, ``family`` (or ``label``) and
   ``type`` (Raphtory's ``etherscan_tags.csv``). A folder stands for its ``.json`` and
   ``.csv`` files in name order.

The rule, one row per address:

* the key is the address in lower case; a row whose address is not ``0x`` and 40 hex
  digits is skipped (counted);
* each column is the first non-empty value among the rows of that address, in source
  order, then file order within a source (so the hand-kept list wins, and for a JSON entry
  the family is its first label; the JSON has no type);
* an address with no name anywhere is named by its family (``phish-hack``), so that an
  address on a list always has a label;
* text is made safe for Spark's CSV reader: control characters, ``"`` and ``\\`` are
  dropped and white space collapsed.

The file is written sorted by address, atomically (a temporary file renamed into place),
with ``known_wallets.sources.json`` beside it: each source's path, SHA-256 and counts.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ctc.atomic_file import write_text_atomic

#: The hand-kept list, relative to the detectors folder.
SEED: Final = "reference/labels.csv"

#: The merged table the specs read, relative to the detectors folder (git-ignored).
KNOWN_WALLETS: Final = "reference/labels/known_wallets.csv"

#: Its columns, in file order (the specs declare them in this order).
COLUMNS: Final = ("address", "name", "family", "type")

#: The real label sets of ``../shared/data/real`` (PROVENANCE.md, section 3), relative to
#: that folder, in the order they are merged.
SHARED_SOURCES: Final = ("etherscan-labels", "raphtory-data/etherscan_tags.csv")

_ADDRESS = re.compile(r"0x[0-9a-f]{40}")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"\\]")

Row = dict[str, str]


class LabelSourceError(ValueError):
    """A label set that cannot be read, as ``path:line:col: message``."""


@dataclass
class SourceCount:
    """What one source gave: rows read, rows skipped (no address), addresses it named
    first (not named by an earlier source)."""

    path: str
    sha256: str
    rows: int = 0
    skipped: int = 0
    first: int = 0


@dataclass
class LoadResult:
    """The file written and what each source gave."""

    path: Path
    addresses: int
    sources: list[SourceCount] = field(default_factory=list)

    def summary(self) -> str:
        """One line per source and the total, for people."""
        lines = [f"wrote {self.path}: {self.addresses:,} addresses"]
        for s in self.sources:
            lines.append(
                f"  {s.path}: {s.rows:,} rows, {s.first:,} addresses first named here"
                + (f", {s.skipped:,} rows skipped (not an address)" if s.skipped else "")
            )
        return "\n".join(lines)


def clean(text: object) -> str:
    """``text`` without control characters, ``"`` or ``\\``, white space collapsed."""
    return " ".join(_UNSAFE.sub(" ", str(text or "")).split())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _json_rows(path: Path) -> Iterator[Row]:
    """Rows of an Etherscan labels JSON object (``{address: {name, labels}}``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise LabelSourceError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelSourceError(f"{path}:1:1: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise LabelSourceError(
            f"{path}:1:1: expected an object of address -> {{name, labels}}, "
            f"not a JSON {type(data).__name__}"
        )
    for address, entry in data.items():
        entry = entry if isinstance(entry, dict) else {}
        labels = entry.get("labels")
        first = labels[0] if isinstance(labels, list) and labels else ""
        yield {"address": address, "name": entry.get("name") or "", "family": first, "type": ""}


def _csv_rows(path: Path) -> Iterator[Row]:
    """Rows of a CSV label file whose header names address, name, family/label, type."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in reader.fieldnames or ()]
            family = "family" if "family" in header else "label"
            missing = [c for c in ("address", "name", family, "type") if c not in header]
            if missing:
                raise LabelSourceError(
                    f"{path}:1:1: the header lacks {', '.join(missing)} "
                    f"(it has: {', '.join(header) or 'nothing'})"
                )
            names = dict(zip(reader.fieldnames or (), header, strict=True))
            for raw in reader:
                row = {names[k]: v or "" for k, v in raw.items() if k in names}
                yield {
                    "address": row["address"],
                    "name": row["name"],
                    "family": row[family],
                    "type": row["type"],
                }
    except csv.Error as exc:
        raise LabelSourceError(f"{path}:{reader.line_num}:1: bad CSV: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelSourceError(f"{path}:1:1: cannot read: {exc}") from exc


def source_files(paths: Iterable[Path]) -> list[Path]:
    """The label files of ``paths``: a file as given, a folder's ``.json`` and ``.csv``
    files in name order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix in (".json", ".csv") and f.is_file())
            if not found:
                raise LabelSourceError(f"{p}:1:1: a folder without .json or .csv label files")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise LabelSourceError(f"{p}:1:1: no such label file or folder")
    return out


def read_source(path: Path) -> Iterator[Row]:
    """The rows of one label file, by its suffix (``.json``: Etherscan JSON, else CSV)."""
    return _json_rows(path) if path.suffix == ".json" else _csv_rows(path)


def merge(sources: Sequence[tuple[Path, Iterable[Row]]]) -> tuple[list[Row], list[SourceCount]]:
    """One row per address of ``sources`` (in precedence order), by the module's rule."""
    merged: dict[str, Row] = {}
    counts: list[SourceCount] = []
    for path, rows in sources:
        count = SourceCount(str(path), _sha256(path))
        counts.append(count)
        for row in rows:
            count.rows += 1
            address = clean(row["address"]).lower()
            if not _ADDRESS.fullmatch(address):
                count.skipped += 1
                continue
            have = merged.get(address)
            if have is None:
                have = merged[address] = dict.fromkeys(COLUMNS, "")
                have["address"] = address
                count.first += 1
            for column in COLUMNS[1:]:
                if not have[column]:
                    have[column] = clean(row[column])
    for row in merged.values():
        row["name"] = row["name"] or row["family"]
    return [merged[a] for a in sorted(merged)], counts


def write_table(rows: Sequence[Row], target: Path) -> None:
    """Write ``rows`` as the CSV the specs read, atomically."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(target, text.getvalue())


def load_labels(detectors_dir: Path, sources: Sequence[Path] = ()) -> LoadResult:
    """Merge the hand-kept list and the label sets ``sources`` (files or folders) into
    ``<detectors_dir>/reference/labels/known_wallets.csv``; returns what was written."""
    seed = detectors_dir / SEED
    files = [seed, *source_files(sources)]
    rows, counts = merge([(f, read_source(f)) for f in files])
    target = detectors_dir / KNOWN_WALLETS
    write_table(rows, target)
    manifest = {
        "rule": "ctc.ingest.known_wallets (docs/ingest.md, Known-wallet labels)",
        "addresses": len(rows),
        "sources": [c.__dict__ for c in counts],
    }
    sidecar = target.with_name("known_wallets.sources.json")
    sidecar.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return LoadResult(target, len(rows), counts)


def shared_sources(real_dir: Path) -> list[Path]:
    """The real label sets under ``real_dir`` (``../shared/data/real``), those present."""
    return [real_dir / s for s in SHARED_SOURCES if (real_dir / s).exists()]


def ensure_labels(detectors_dir: Path) -> LoadResult | None:
    """Write the table from the hand-kept list alone when it is missing (a fresh clone that
    never ran ``ctc labels load``); None when it exists already."""
    if (detectors_dir / KNOWN_WALLETS).is_file():
        return None
    return load_labels(detectors_dir)
