"""Write a small file so that a reader sees the old content or the whole new one."""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomic(path: Path, text: str, *, durable: bool = False) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` through a temporary file
    beside it and a rename.

    The temporary name carries the process id, so two writers never share one, and it is
    removed when the write fails (a later run would not reuse the name). ``durable``: the
    data is flushed to disk before the rename, so the file survives a power cut as well
    as a crash. The folder is made when it is missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
