"""Where a reference table may be read from: a file inside the spec's own folder.

A spec is untrusted, and a reference is read into rows that alerts can quote, so a
path that leaves the detectors folder would read any file of the host into alerts.
A reference path is relative, made of plain names (letters, digits, ``_ . -``, no
name starting with a dot, so no ``..``), with no URI scheme, glob or ``~``; once
symlinks are resolved it must still be inside the folder, and be a regular file.
"""

from __future__ import annotations

import re
from pathlib import Path

_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}"
_PATH = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT}){{0,9}}")


def reference_path_problem(path: str) -> str | None:
    """Why ``path`` is not an acceptable reference path on its face, or None."""
    if re.fullmatch(_PATH, path):
        return None
    if "://" in path or re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", path):
        why = "a URI"
    elif path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", path):
        why = "an absolute path"
    elif ".." in path.split("/"):
        why = "a path with '..'"
    elif path.startswith("~"):
        why = "a home-folder path"
    elif any(c in path for c in "*?[]{}"):
        why = "a glob"
    else:
        why = "not a plain relative file path"
    return (
        f"reference path {path!r} is {why}: reference files must be inside the spec's "
        "folder, written as a relative path of plain names (letters, digits, _ . -), "
        "e.g. reference/labels.csv"
    )


def resolve_reference(base: Path, path: str) -> Path:
    """The file a reference ``path`` names, relative to the spec folder ``base``.

    Raises ValueError if the path is not acceptable (see :func:`reference_path_problem`),
    leads out of ``base`` once symlinks are resolved, or is not a regular file.
    """
    problem = reference_path_problem(path)
    if problem is not None:
        raise ValueError(problem)
    root = base.resolve()
    full = (root / path).resolve()
    if not full.is_relative_to(root):
        raise ValueError(
            f"reference path {path!r} leads out of the spec's folder {base} (through a symlink)"
        )
    if not full.is_file():
        if full.is_dir():
            raise ValueError(f"reference path {path!r} is a folder: it must be a file in {base}")
        raise ValueError(
            f"reference path {path!r} is missing: it must be a file in {base} (a reference "
            "fetched by a command must be fetched first: `ctc labels load` writes "
            "reference/labels/known_wallets.csv)"
        )
    return full


def reference_file_problem(base: Path, path: str) -> str | None:
    """Why the reference ``path`` of a spec in ``base`` cannot be read, or None.

    A file that does not exist yet is accepted (a command may fetch it before a run);
    the runtime checks again with :func:`resolve_reference` when it reads it.
    """
    problem = reference_path_problem(path)
    if problem is not None:
        return problem
    full = base / path
    if not full.exists() and not full.is_symlink():
        return None
    try:
        resolve_reference(base, path)
    except ValueError as exc:
        return str(exc)
    return None
