"""The two versions a review compares: git refs or files and folders, compiled.

A git ref's detectors are taken out of git into a temporary folder (``git archive``), with
their reference data, so they load and back-test exactly as a checkout would; errors name
them ``REF:path``. A file or folder is read as it is on disk (the working tree).
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ctc.compiler import Plan, compile_specs
from ctc.dsl.errors import Position, SpecError, SpecErrors
from ctc.dsl.load import load_specs, spec_files
from ctc.dsl.model import Spec


class VersionError(ValueError):
    """A version that cannot be read: neither a file, a folder nor a git ref."""


@dataclass(frozen=True)
class Version:
    """One side of a review: its specs (those under review, and their neighbours, which
    chained detectors may read) and their compiled plans."""

    #: how the version is named to a person: a ref, "working tree", or a path
    label: str
    #: the specs under review, by module
    selected: dict[str, Spec]
    #: every spec that loads in the folders involved (context for chained detectors)
    context: tuple[Spec, ...]
    #: the compiled plans of the specs under review, by module
    plans: dict[str, Plan]
    #: the file text of each spec under review, by module
    texts: dict[str, str]

    def text(self, module: str) -> str | None:
        """The file text of ``module``'s spec (None: not in this version)."""
        return self.texts.get(module)

    def plans_for(self, modules: Sequence[str]) -> list[Plan]:
        """Compiled plans of ``modules`` (from the whole folder, not only those under
        review), followed by the plans they read."""
        by_module = {s.module: s for s in self.context}
        wanted = [by_module[m] for m in modules if m in by_module]
        return compile_specs(wanted, self.context, with_dependencies=True)

    def readers(self) -> dict[str, set[str]]:
        """For each module, the modules that read its output or its alerts."""
        out: dict[str, set[str]] = {}
        for spec in self.context:
            for up in (spec.source.detector, *spec.source.alerts):
                if up:
                    out.setdefault(up, set()).add(spec.module)
        return out


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)


def _git_root(cwd: Path) -> Path | None:
    done = _git(["rev-parse", "--show-toplevel"], cwd)
    return Path(done.stdout.decode().strip()) if done.returncode == 0 else None


def is_git_ref(name: str, cwd: Path | None = None) -> bool:
    """Whether ``name`` names a commit in the git repository around ``cwd``."""
    here = cwd or Path.cwd()
    if _git_root(here) is None:
        return False
    return _git(["rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"], here).returncode == 0


def _relabel(errors: SpecErrors, prefix: str, label: str) -> SpecErrors:
    return SpecErrors(
        [
            replace(e, path=label + e.path[len(prefix) :]) if e.path.startswith(prefix) else e
            for e in errors.errors
        ]
    )


def _load(label: str, paths: Sequence[Path], display: tuple[str, str] | None = None) -> Version:
    """Load and compile the specs at ``paths`` (files or folders); their folders' other
    specs are context. ``display``: (folder prefix, label) to rename paths in errors."""
    try:
        files = spec_files(paths)
        if not files:
            raise SpecErrors(
                [
                    SpecError(str(p), Position(1, 1), "no detector specs (*.yaml) here")
                    for p in paths
                ]
            )
        selected = load_specs(files)
        chosen = {f.resolve() for f in files}
        context: list[Spec] = list(selected)
        for f in spec_files(sorted({f.parent for f in files})):
            if f.resolve() in chosen:
                continue
            try:
                context += load_specs([f])
            except SpecErrors:
                continue  # a broken neighbour only matters if it is read
        plans = compile_specs(selected, context)
    except SpecErrors as exc:
        if display is None:
            raise
        raise _relabel(exc, *display) from exc
    return Version(
        label,
        {s.module: s for s in selected},
        tuple(context),
        {p.module: p for p in plans},
        {s.module: Path(s.path).read_text(encoding="utf-8") for s in selected},
    )


@contextmanager
def open_version(name: str | None, paths: Sequence[Path]) -> Iterator[Version]:
    """The version ``name``: a git ref (its ``paths``, taken out of git), a file or
    folder (itself; ``paths`` are ignored), or None: ``paths`` in the working tree."""
    if name is None:
        yield _load("working tree", paths)
        return
    here = Path.cwd()
    if Path(name).exists():
        yield _load(name, [Path(name)])
        return
    root = _git_root(here)
    if root is None or not is_git_ref(name, here):
        raise VersionError(f"{name!r} is neither a file, a folder nor a git ref")
    tmp = Path(tempfile.mkdtemp(prefix="ctc-review-"))
    try:
        inside: list[Path] = []
        for p in paths:
            rel = (here / p).resolve().relative_to(root)
            folder = rel if (here / p).is_dir() else rel.parent
            archive = _git(["archive", "--format=tar", name, "--", str(folder)], root)
            if archive.returncode != 0:
                raise VersionError(
                    f"{name}: {rel} is not in that commit "
                    f"({archive.stderr.decode(errors='replace').strip()})"
                )
            tar_path = tmp / "a.tar"
            tar_path.write_bytes(archive.stdout)
            with tarfile.open(tar_path) as tar:
                tar.extractall(tmp / "tree", filter="data")
            tar_path.unlink()
            inside.append(tmp / "tree" / rel)
        missing = [p for p in inside if not p.exists()]
        if missing:
            raise VersionError(f"{name}: no {missing[0].relative_to(tmp / 'tree')} in that commit")
        yield _load(name, inside, (str(tmp / "tree") + "/", f"{name}:"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
