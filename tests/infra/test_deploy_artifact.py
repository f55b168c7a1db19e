"""The built artifacts, unpacked into fresh folders and run there: the job bundle's entry
point (dry-run: finds the bundled package, the specs and their reference data) and the
API package's handler (imports only what it ships and what Lambda provides)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from ctc.deploy.artifact import (
    PROVIDED_BY_EMR,
    build_api_package,
    build_job_bundle,
    job_dependencies,
)

ROOT = Path(__file__).resolve().parents[2]

#: Imports everything through a finder that refuses third-party modules that are neither
#: in the unpacked folder nor in ALLOWED (what the target runtime provides).
_ISOLATED = r"""
import importlib.abc, sys
from pathlib import Path
root, allowed = Path(sys.argv[1]), set(sys.argv[2].split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top in allowed or top.startswith("_"):
            return None
        if (root / top).exists() or (root / f"{top}.py").exists():
            return None
        raise ImportError(f"not in the package: {name}")
sys.meta_path.insert(0, Block())
sys.path.insert(0, str(root))
exec(sys.argv[3])
"""


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The job bundle (python env "image": dependencies from the interpreter, as from a
    custom EMR image), unpacked into a fresh folder."""
    built = build_job_bundle(ROOT / "detectors", tmp_path_factory.mktemp("build"), "image")
    fresh = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(built.path) as tar:
        tar.extractall(fresh, filter="data")
    manifest = json.loads((fresh / "manifest.json").read_text())
    assert manifest["version"] == built.version
    return fresh


def _entry(folder: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(folder / "entrypoint.py"), *args],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_entrypoint_dry_run_finds_package_specs_and_reference_data(
    bundle_dir: Path, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    done = _entry(
        bundle_dir,
        "--dry-run",
        "stream",
        "--source",
        f"landing:{landing}",
        "--tier",
        "large",
        "--store",
        "sqlite:///:memory:",
        "--lake",
        "none",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"ctc package: {(bundle_dir / 'site' / 'ctc').resolve()}" in out
    assert f"detectors: {bundle_dir / 'detectors'} (tier large:" in out
    refs = int(out.split("reference data: ")[1].split()[0])
    assert refs >= 1
    assert f"would run: ctc run --source landing:{landing}" in out
    assert (
        f"--detectors {bundle_dir / 'detectors'}" in out and "--status /tmp/ctc/status.json" in out
    )


def test_entrypoint_finds_the_bundle_as_sparks_archive(bundle_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "job").symlink_to(bundle_dir)  # what spark.archives=...#job leaves in cwd
    done = _entry(bundle_dir, "--dry-run", "stream", "--tier", "small", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "tier small:" in done.stdout


def test_entrypoint_batch_step_is_ctc_run_batch(bundle_dir: Path, tmp_path: Path) -> None:
    done = _entry(bundle_dir, "--dry-run", "batch", "--lake", "var/lake", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "tier large:" in done.stdout
    assert "would run: ctc run --batch --lake var/lake --detectors" in done.stdout


def test_entrypoint_refuses_a_job_this_build_lacks(bundle_dir: Path, tmp_path: Path) -> None:
    done = _entry(bundle_dir, "history", cwd=tmp_path)
    assert done.returncode == 2
    assert "has no `ctc history` command" in done.stderr and "nothing was run" in done.stderr
    done = _entry(bundle_dir, "nonsense", cwd=tmp_path)
    assert done.returncode == 2 and "name a job first" in done.stderr


def test_entrypoint_reports_a_missing_reference_file(bundle_dir: Path, tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "bundle"
    shutil.copytree(bundle_dir, broken)
    shutil.rmtree(broken / "detectors" / "reference")
    done = _entry(broken, "--dry-run", "stream", "--tier", "large", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("ctc job: error:") and "reference" in done.stderr.lower()


def test_job_dependencies_leave_pyspark_to_emr() -> None:
    deps = job_dependencies()
    names = {d.split(">")[0].split("=")[0].split("<")[0].split("[")[0].lower() for d in deps}
    assert not names & PROVIDED_BY_EMR
    assert {"sqlglot", "boto3", "pyarrow"} <= names


def test_api_package_answers_with_only_what_it_ships(tmp_path: Path) -> None:
    built = build_api_package(tmp_path / "build")
    fresh = tmp_path / "unpacked"
    with zipfile.ZipFile(built.path) as zf:
        zf.extractall(fresh)
    assert not (fresh / "ctc" / "serve" / "static").exists()
    code = (
        "import json, os\n"
        "os.environ['CTC_STORE_URL'] = 'sqlite:///' + sys.argv[1] + '/hot.db'\n"
        "import ctc.serve.aws_lambda as m\n"
        "assert m.__file__.startswith(sys.argv[1]), m.__file__\n"
        "get = {'requestContext': {'http': {'method': 'GET'}}}\n"
        "r = m.lambda_handler({**get, 'rawPath': '/api/alerts'})\n"
        "assert r['statusCode'] == 200, r\n"
        "r = m.lambda_handler({**get, 'rawPath': '/api/catalog'})\n"
        "assert r['statusCode'] == 200 and 'series' in json.loads(r['body']), r\n"
        "r = m.lambda_handler({**get, 'rawPath': '/openapi.json'})\n"
        "assert r['statusCode'] == 200 and 'openapi' in json.loads(r['body']), r['statusCode']\n"
        "print('ok')\n"
    )
    lambda_provides = "boto3,botocore,s3transfer,jmespath,dateutil,urllib3,six"
    done = subprocess.run(
        [sys.executable, "-c", _ISOLATED, str(fresh), lambda_provides, code],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
