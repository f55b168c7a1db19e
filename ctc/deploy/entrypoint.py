"""Entry point of the EMR Serverless job runs, shipped beside the job bundle.

    entrypoint.py [--dry-run] JOB [ctc options...]

JOB is ``stream`` (``ctc run``: the detectors of a tier over Kinesis, into DynamoDB and the
Glue lake) or a daily batch step: ``batch`` (``ctc run --batch``: the batch detectors,
MOD-011, for one day from the lake; docs/runtime.md, "Daily batch"), and
``history``, ``quality``, ``catalog``, each the ``ctc`` command of the same name. The
bundle (``ctc-job.tar.gz``, unpacked by Spark from ``spark.archives`` as ``./job``, or the
folder this file is in) holds ``site/`` (the ctc package and its dependencies, without
pyspark, which EMR ships) and ``detectors/``.
``--detectors`` defaults to the bundle's detectors.

A JOB whose command this build of ctc lacks exits with status 2 and says so; nothing is
pretended. ``--dry-run`` imports the bundled package, compiles the specs, checks their
reference data and prints the ``ctc`` command it would run, without starting Spark.

Standard library only until the bundle's ``site/`` is on ``sys.path``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: JOB → the ctc command it runs (its (sub)command names, then its fixed options).
JOBS = {
    "stream": ("run",),
    "history": ("history",),
    "batch": ("run", "--batch"),
    "quality": ("quality",),
    "catalog": ("catalog",),
}

#: The status file of a job run (the driver's working folder may be read-only).
STATUS_PATH = "/tmp/ctc/status.json"


def bundle_root() -> Path:
    """The unpacked bundle: $CTC_JOB_ROOT, else ./job (Spark's archive), else this folder."""
    env = os.environ.get("CTC_JOB_ROOT")
    if env:
        return Path(env)
    archive = Path.cwd() / "job"
    if (archive / "site").is_dir():
        return archive
    return Path(__file__).resolve().parent


def _usage(message: str) -> int:
    print(f"ctc job: error: {message}", file=sys.stderr)
    print(
        f"usage: entrypoint.py [--dry-run] {{{','.join(JOBS)}}} [ctc options...]", file=sys.stderr
    )
    return 2


def command_exists(path: tuple[str, ...]) -> bool:
    """Whether the ``ctc`` click group has the (sub)command ``path`` (names, then options
    such as ``--batch`` that the command must accept)."""
    import click

    from ctc.cli import main

    group: click.Command = main
    for name in path:
        if name.startswith("-"):
            if not any(name in p.opts for p in group.params):
                return False
            continue
        if not isinstance(group, click.Group):
            return False
        found = group.commands.get(name)
        if found is None:
            return False
        group = found
    return True


def _has_option(args: list[str], name: str) -> bool:
    return any(a == name or a.startswith(name + "=") for a in args)


def ctc_arguments(job: str, args: list[str], root: Path) -> list[str]:
    """The ``ctc`` command line of ``job``: its command, the bundle's detectors unless
    given, and for the stream a status file the driver can write."""
    out = [*JOBS[job], *args]
    if job in ("stream", "batch") and not _has_option(args, "--detectors"):
        out += ["--detectors", str(root / "detectors")]
    if job == "stream" and not _has_option(args, "--status"):
        out += ["--status", STATUS_PATH]
    return out


def check_bundle(root: Path, ctc_args: list[str]) -> list[str]:
    """Lines describing what the job would use; raises ValueError when the package, a spec
    or a reference file is missing. Compiles the specs (no JVM)."""
    import ctc
    from ctc.compiler import compile_paths
    from ctc.dsl.references import resolve_reference
    from ctc.tiers import tier_specs

    package = Path(ctc.__file__).resolve().parent
    lines = [f"ctc package: {package}"]
    if not package.is_relative_to((root / "site").resolve()):
        raise ValueError(f"ctc was imported from {package}, not from the bundle {root}/site")
    detectors = Path(ctc_args[ctc_args.index("--detectors") + 1])
    default_tier = "large" if "--batch" in ctc_args else "small"  # as `ctc run` defaults
    tier = ctc_args[ctc_args.index("--tier") + 1] if "--tier" in ctc_args else default_tier
    plans = compile_paths(tier_specs(detectors, tier), with_dependencies=True)
    lines.append(f"detectors: {detectors} (tier {tier}: {len(plans)} specs compiled)")
    refs = 0
    for plan in plans:
        for _name, ref, _fmt, _cols in plan.references:
            resolve_reference(Path(plan.spec_path).parent, ref)
            refs += 1
    lines.append(f"reference data: {refs} files found")
    quality = detectors / "quality.yaml"
    if not quality.is_file():
        raise ValueError(f"no quality rules at {quality}")
    lines.append(f"quality rules: {quality}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run (or with --dry-run, describe) one job; return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    dry_run = "--dry-run" in args[:1]
    if dry_run:
        args = args[1:]
    if not args or args[0] not in JOBS:
        return _usage(f"name a job first, one of {', '.join(JOBS)}")
    job, rest = args[0], args[1:]
    root = bundle_root()
    site = root / "site"
    if not site.is_dir():
        return _usage(f"no bundle at {root} (expected {site}): is spark.archives set?")
    sys.path.insert(0, str(site))
    if not command_exists(JOBS[job]):
        print(
            f"ctc job: error: this build of ctc has no `ctc {' '.join(JOBS[job])}` command, "
            f"which the {job} step runs; nothing was run",
            file=sys.stderr,
        )
        return 2
    ctc_args = ctc_arguments(job, rest, root)
    if dry_run:
        try:
            lines = check_bundle(root, ctc_args) if job in ("stream", "batch") else []
        except Exception as exc:  # the check's one-line verdict
            print(f"ctc job: error: {exc}", file=sys.stderr)
            return 1
        for line in lines:
            print(line)
        print("would run: ctc " + " ".join(ctc_args))
        return 0
    from ctc.cli import main as ctc_main

    ctc_main(args=ctc_args, prog_name="ctc")  # exits with the command's status
    return 0


if __name__ == "__main__":
    sys.exit(main())
