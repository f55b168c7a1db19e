"""The JVM class archive (ctc/runtime/jvm_archive.py): named by what it depends on, mapped
only when it exists, never in the way of a JVM option ctc needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctc.runtime import jvm_archive
from ctc.runtime.spark import BASE_CONF, _join_options


def test_off_and_explicit_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(jvm_archive.ARCHIVE_ENV, "off")
    assert jvm_archive.archive_path() is None and jvm_archive.java_options() == ""
    file = tmp_path / "x.jsa"
    monkeypatch.setenv(jvm_archive.ARCHIVE_ENV, str(file))
    assert jvm_archive.java_options() == ""  # not built yet: nothing to map
    file.write_bytes(b"archive")
    options = jvm_archive.java_options()
    assert f"-XX:SharedArchiveFile={file}" in options and "-Xshare:auto" in options


def test_the_name_follows_java_and_the_cache_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(jvm_archive.ARCHIVE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = jvm_archive.archive_path()
    if path is None:
        pytest.skip("no Java on this machine")
    assert path.parent == tmp_path / "ctc" / "jvm" and path.suffix == ".jsa"
    # another Java executable: another archive
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_bytes(b"#!/bin/sh\n")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    other = jvm_archive.archive_path()
    assert other is not None and other != path and other.parent == path.parent


def test_the_same_jars_in_another_virtualenv_get_their_own_archive(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The JVM maps an archive only on the class path it was made on: a second checkout
    (another .venv, the same pyspark) must not reuse the first one's and lose it."""
    import pyspark

    monkeypatch.delenv(jvm_archive.ARCHIVE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = jvm_archive.archive_path()
    if path is None:
        pytest.skip("no Java on this machine")
    real = Path(pyspark.__file__).parent / "jars"
    jars = tmp_path / "venv2" / "pyspark" / "jars"
    jars.mkdir(parents=True)
    for jar in real.glob("*.jar"):
        (jars / jar.name).symlink_to(jar)  # the same files (sizes, times), another place
    monkeypatch.setattr(pyspark, "__file__", str(jars.parent / "__init__.py"))
    other = jvm_archive.archive_path()
    assert other is not None and other != path and other.parent == path.parent
    monkeypatch.setattr(pyspark, "__file__", str(real.parent / "__init__.py"))
    assert jvm_archive.archive_path() == path  # and the same place names the same one


def test_driver_options_keep_the_time_zone_and_the_collector() -> None:
    key = "spark.driver.extraJavaOptions"
    joined = _join_options(BASE_CONF[key], "", "-XX:SharedArchiveFile=/a.jsa")
    assert joined.split() == [
        "-Duser.timezone=UTC",
        "-XX:+UseParallelGC",
        "-XX:SharedArchiveFile=/a.jsa",
    ]


def test_setup_removes_only_the_archives_no_jvm_can_map(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each checkout's setup leaves a 170 MiB archive; one whose virtualenv is gone or whose
    jars changed can never be mapped again, and is deleted. The current one, another live
    checkout's, and one without a note (made before notes were kept) stay."""
    import shutil

    import pyspark

    monkeypatch.delenv(jvm_archive.ARCHIVE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    current = jvm_archive.archive_path()
    if current is None:
        pytest.skip("no Java on this machine")
    folder = current.parent
    folder.mkdir(parents=True)
    real = Path(pyspark.__file__).parent / "jars"

    def made_in(venv: Path) -> Path:
        """An archive as setup makes it for a checkout whose pyspark jars are in ``venv``."""
        jars = venv / "pyspark" / "jars"
        jars.mkdir(parents=True)
        for jar in sorted(real.glob("*.jar"))[:3]:
            (jars / jar.name).write_bytes(b"jar " + jar.name.encode())
        monkeypatch.setattr(pyspark, "__file__", str(jars.parent / "__init__.py"))
        path = jvm_archive.archive_path()
        assert path is not None
        path.write_bytes(b"archive")
        jvm_archive._write_source(path)
        monkeypatch.setattr(pyspark, "__file__", str(real.parent / "__init__.py"))
        return path

    live = made_in(tmp_path / "live-venv")
    deleted = made_in(tmp_path / "deleted-venv")
    shutil.rmtree(tmp_path / "deleted-venv")
    upgraded = made_in(tmp_path / "upgraded-venv")
    next((tmp_path / "upgraded-venv" / "pyspark" / "jars").glob("*.jar")).write_bytes(b"v2")
    current.write_bytes(b"archive")
    jvm_archive._write_source(current)
    unknown = folder / "spark-4.0.0-0123456789abcdef.jsa"
    unknown.write_bytes(b"archive, no note")
    dead_build = folder / f".{current.name}.999999999.tmp"
    dead_build.write_bytes(b"half")

    gone = jvm_archive.remove_stale(folder)

    assert sorted(gone) == sorted([deleted, upgraded, dead_build])
    assert all(p.is_file() for p in (current, live, unknown))
    assert not any(p.exists() for p in gone)
    assert not jvm_archive._source_file(deleted).exists()
    assert jvm_archive.remove_stale(folder) == []  # nothing more to remove
