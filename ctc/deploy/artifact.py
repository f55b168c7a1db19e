"""Build what ``ctc deploy`` uploads: the EMR job bundle and the API's Lambda package.

The job bundle ``ctc-job.tar.gz`` (Spark unpacks it as ``./job``)::

    entrypoint.py   the job's entry point (also uploaded on its own: EMR's entryPoint)
    site/           the ctc package, and with python_env="pip" its dependencies for
                    EMR's platform (manylinux x86_64, CPython 3.11), without pyspark
    detectors/      the specs, tiers, quality rules and reference data
    manifest.json   version, ctc version, git commit, what site/ holds

The version is a hash of the content, so building twice gives the same key and a
re-deploy of the same content uploads nothing new.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Final

import ctc

#: How the job's dependencies reach EMR: built here for EMR's platform, or already in a
#: custom EMR image (Terraform's emr_image_uri).
PYTHON_ENVS: Final = ("pip", "image")
#: pip's target platform of the bundled dependencies (EMR Serverless X86_64 workers).
PIP_PLATFORM: Final = ("manylinux2014_x86_64", "3.11")
#: Dependencies EMR provides: pyspark (and py4j) come with the release.
PROVIDED_BY_EMR: Final = frozenset({"pyspark", "py4j"})
#: Third-party packages the API needs beyond ctc (the Lambda runtime has boto3).
API_PACKAGES: Final = ("yaml",)

_SKIP = ("__pycache__", ".pyc", ".mypy_cache")
_FIXED_MTIME = 1_700_000_000  # fixed file times make the archives reproducible


@dataclass(frozen=True)
class Bundle:
    """A built archive: its file, content version and manifest."""

    path: Path
    version: str
    manifest: dict[str, object]


def package_dir() -> Path:
    """The folder of the ctc package being deployed."""
    return Path(ctc.__file__).resolve().parent


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(part.endswith(_SKIP) for part in path.parts):
            yield path


def job_dependencies() -> list[str]:
    """ctc's runtime requirements minus what EMR provides (pyspark), from its metadata."""
    out = []
    for text in metadata.requires("ctc") or []:
        spec, _, marker = text.partition(";")
        if "extra" in marker:
            continue
        name = re.match(r"[A-Za-z0-9_.\-]+", spec.strip())
        if name is None or name.group(0).lower() in PROVIDED_BY_EMR:
            continue
        out.append(spec.strip())
    return out


def _pip_install(target: Path, requirements: list[str]) -> None:
    platform, python = PIP_PLATFORM
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--target",
        str(target),
        "--platform",
        platform,
        "--python-version",
        python,
        "--implementation",
        "cp",
        "--only-binary=:all:",
        *requirements,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise ValueError(f"pip could not build the job's dependencies: {tail[0]}")


def _git_commit(where: Path) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or None if done.returncode == 0 else None


def _content_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in _files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _tar(root: Path, out: Path) -> None:
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        for path in _files(root):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(root)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = _FIXED_MTIME, 0, 0, "", ""
            with open(path, "rb") as fh:
                tar.addfile(info, fh)


def build_job_bundle(
    detectors: Path, out_dir: Path, python_env: str = "pip", install: bool = True
) -> Bundle:
    """Build ``ctc-job.tar.gz`` in ``out_dir`` from the installed ctc package and the
    ``detectors`` folder (see the module docs). The version hashes the package, the specs,
    the entry point and the requirements, before pip adds the dependencies; ``install``
    False (a dry run) leaves them out and says so in the manifest."""
    if python_env not in PYTHON_ENVS:
        raise ValueError(f"python env {python_env!r}: use one of {', '.join(PYTHON_ENVS)}")
    if not (detectors / "tiers").is_dir():
        raise ValueError(f"{detectors} is not a detectors folder (no tiers/ in it)")
    staging = out_dir / "job"
    shutil.rmtree(staging, ignore_errors=True)
    site = staging / "site"
    shutil.copytree(package_dir(), site / "ctc", ignore=shutil.ignore_patterns(*_SKIP))
    shutil.copytree(detectors, staging / "detectors", ignore=shutil.ignore_patterns(*_SKIP))
    shutil.copy2(Path(__file__).with_name("entrypoint.py"), staging / "entrypoint.py")
    requirements = job_dependencies()
    (staging / "requirements.txt").write_text("\n".join(requirements) + "\n")
    version = "v-" + _content_hash(staging)
    if python_env == "pip" and install:
        _pip_install(site, requirements)
    manifest: dict[str, object] = {
        "version": version,
        "ctc_version": ctc.__version__,
        "git_commit": _git_commit(package_dir()),
        "python_env": python_env if install else f"{python_env} (dependencies not built)",
        "platform": list(PIP_PLATFORM) if python_env == "pip" else "the EMR image",
        "requirements": requirements,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    path = out_dir / "ctc-job.tar.gz"
    _tar(staging, path)
    return Bundle(path, version, manifest)


def _module_dir(name: str) -> Path:
    module = __import__(name)
    if module.__file__ is None:
        raise ValueError(f"cannot package {name}: it has no files")
    return Path(module.__file__).resolve().parent


def build_api_package(out_dir: Path) -> Bundle:
    """Build ``ctc-api.zip``: the ctc package (without the dashboard's static files, which
    CloudFront serves) and PyYAML, for the handler ``ctc.serve.aws_lambda.lambda_handler``."""
    buffer = io.BytesIO()
    digest = hashlib.sha256()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        roots = [(package_dir(), "ctc")] + [(_module_dir(m), m) for m in API_PACKAGES]
        for root, name in roots:
            for path in _files(root):
                rel = path.relative_to(root)
                if name == "ctc" and rel.parts[:2] == ("serve", "static"):
                    continue
                arcname = f"{name}/{rel.as_posix()}"
                data = path.read_bytes()
                digest.update(arcname.encode() + b"\0" + data)
                info = zipfile.ZipInfo(arcname, date_time=(2023, 11, 14, 22, 13, 20))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, data)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "ctc-api.zip"
    path.write_bytes(buffer.getvalue())
    version = "v-" + digest.hexdigest()[:12]
    return Bundle(path, version, {"version": version, "handler": HANDLER})


#: The API function's handler setting (infra/modules/api checks it against this).
HANDLER: Final = "ctc.serve.aws_lambda.lambda_handler"
