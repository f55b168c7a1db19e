"""Where an alert came from: the spec of its detector in the working tree, and the version
of that spec that raised it (the alert's ``spec_version``), found in the working tree or
in the spec file's git history."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from ctc.dsl.canonical import spec_version
from ctc.dsl.errors import SpecErrors
from ctc.dsl.load import load_spec, parse_spec, spec_files

#: How far back the spec file's git history is searched for the alert's version.
HISTORY_COMMITS = 500


@dataclass(frozen=True)
class Origin:
    """An alert's detector spec and where its version is."""

    module: str
    #: the working tree's spec of the module (None: no spec of it in the folder)
    spec_path: Path | None
    #: the working tree spec's version (None: no spec, or it does not load)
    current: str | None
    #: the version that raised the alert (None: stored before ctc recorded it)
    recorded: str | None
    #: a commit whose spec file has the recorded version, when the working tree's does not
    commit: str | None = None

    @property
    def same(self) -> bool:
        """Whether the working tree's spec still has the version that raised the alert."""
        return self.recorded is not None and self.recorded == self.current


def find_spec(folder: Path, module: str) -> Path | None:
    """The spec of ``module`` among the specs in ``folder`` (broken specs are skipped)."""
    for path in spec_files([folder]):
        try:
            if load_spec(path).module == module:
                return path
        except SpecErrors:
            continue
    return None


def _git(args: list[str], cwd: Path) -> str | None:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    return done.stdout.decode("utf-8", errors="replace") if done.returncode == 0 else None


def find_in_history(path: Path, version: str, max_commits: int = HISTORY_COMMITS) -> str | None:
    """The newest commit (of the last ``max_commits`` that touched ``path``) whose spec
    file there has ``version``; None when none has, or ``path`` is not in git."""
    folder = path.resolve().parent
    root = _git(["rev-parse", "--show-toplevel"], folder)
    if root is None:
        return None
    top = Path(root.strip()).resolve()
    rel = path.resolve().relative_to(top).as_posix()
    log = _git(["log", f"-n{max_commits}", "--format=%H", "--", rel], top) or ""
    for commit in log.split():
        text = _git(["show", f"{commit}:{rel}"], top)
        if text is None:
            continue
        try:
            if spec_version(parse_spec(text, f"{commit[:12]}:{rel}")) == version:
                return commit
        except SpecErrors:
            continue
    return None


def origin_of(module: str, recorded: str | None, folder: Path) -> Origin:
    """The origin of an alert of ``module`` raised by spec version ``recorded``, looked up
    in the specs in ``folder`` (and the git history of the module's spec file)."""
    path = find_spec(folder, module)
    if path is None:
        return Origin(module, None, None, recorded)
    current = spec_version(load_spec(path))
    commit = None
    if recorded is not None and recorded != current:
        commit = find_in_history(path, recorded)
    return Origin(module, path, current, recorded, commit)
