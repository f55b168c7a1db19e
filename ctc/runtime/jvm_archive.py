"""A class-data-sharing (CDS) archive of the JVM classes a ctc run loads.

A Spark JVM loads and verifies some twenty thousand classes before its first query
returns, and more for each new kind of query: on 2 cores that is seconds of every
``ctc`` command, of the first micro-batch of a run, and of each test that starts Spark.
Java's application class-data sharing keeps those classes parsed and verified in a file
that the JVM maps at start (``-XX:SharedArchiveFile``). Measured here: a process that
starts Spark and runs two small queries took 6.0–12.5 s with the archive against
8.8–14.5 s without, over three interleaved runs on a busy machine (ADR 0016).

``scripts/setup.sh`` builds the archive once per machine (:func:`build`, about half a
minute): a JVM started with ``-XX:ArchiveClassesAtExit`` runs a small back-test and a
small streaming run, and writes the archive when it exits. It is named by what must not
change under it: the Java executable, pyspark's version, and its jars (where they are,
their sizes and times: the JVM maps an archive only on the class path it was made on).
An upgrade of either, or another checkout's virtualenv, makes a new one; a note beside
each archive (``<name>.source``) says what it was made from, and setup deletes the
archives no JVM can map any more (:func:`remove_stale`: their virtualenv deleted, pyspark
or Java upgraded; about 170 MiB each).
:func:`java_options` returns the options that map it, or none while there is no
archive: a command never waits for one to be built. A JVM that cannot use an archive
(another classpath, say) runs without it, silently.

``CTC_JVM_ARCHIVE=off`` turns it off; ``CTC_JVM_ARCHIVE=/path/x.jsa`` names the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ctc.runtime.process_alive import pid_alive

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: The environment variable that names the archive file, or turns the archive off.
ARCHIVE_ENV: Final = "CTC_JVM_ARCHIVE"

#: JVM options that keep an unusable archive quiet (the JVM then runs without it).
_QUIET: Final = "-Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"


def _java() -> Path | None:
    """The Java executable pyspark will start (``$JAVA_HOME/bin/java``, else ``java``)."""
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    return Path(found).resolve() if found and Path(found).exists() else None


def _archive_name(java: Path, jars: Path, version: str) -> str:
    """The file name of the archive of ``java`` with pyspark ``version``'s ``jars`` folder."""
    # the JVM maps an archive only on the class path it was made on, jar by jar (path,
    # size, time), so another checkout's virtualenv needs its own
    found = sorted(jars.glob("*.jar")) if jars.is_dir() else []
    entries = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in found]
    stat = java.stat()
    key = f"{java}\n{stat.st_size}\n{stat.st_mtime_ns}\n{version}\n{jars}\n{entries}\n"
    return f"spark-{version}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.jsa"


def _jars() -> Path:
    import pyspark

    return (Path(pyspark.__file__).parent / "jars").resolve()


def archive_path() -> Path | None:
    """Where the archive for this Java and this pyspark is (or would be) kept; None
    when it is turned off or no Java is found."""
    setting = os.environ.get(ARCHIVE_ENV, "")
    if setting.lower() == "off":
        return None
    if setting:
        return Path(setting)
    java = _java()
    if java is None:
        return None
    import pyspark

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ctc" / "jvm" / _archive_name(java, _jars(), pyspark.__version__)


def _source_file(archive: Path) -> Path:
    """The note beside an archive of what it was made from (Java, jars, pyspark)."""
    return archive.with_name(archive.name + ".source")


def _write_source(archive: Path) -> None:
    import pyspark

    java = _java()
    note = {"java": str(java), "jars": str(_jars()), "pyspark": pyspark.__version__}
    _source_file(archive).write_text(json.dumps(note) + "\n", encoding="utf-8")


def _usable(archive: Path) -> bool:
    """Whether a JVM could still map ``archive``: the Java, the jars folder and every jar
    it was made from are as they were (judged by its source note; True without one)."""
    try:
        note = json.loads(_source_file(archive).read_text(encoding="utf-8"))
        java, jars, version = Path(note["java"]), Path(note["jars"]), str(note["pyspark"])
    except FileNotFoundError:
        return True  # made before notes were kept: not ours to judge
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if not java.is_file() or not jars.is_dir():
        return False
    return _archive_name(java, jars, version) == archive.name


def remove_stale(folder: Path) -> list[Path]:
    """Delete the archives in ``folder`` that no JVM can map any more (their virtualenv,
    jars or Java changed or are gone; 170 MiB each) and the partial files of builds whose
    process is gone; returns what was deleted."""
    gone: list[Path] = []
    if not folder.is_dir():
        return gone
    for archive in sorted(folder.glob("spark-*.jsa")):
        if not _usable(archive):
            archive.unlink(missing_ok=True)
            _source_file(archive).unlink(missing_ok=True)
            gone.append(archive)
    for tmp in sorted(folder.glob(".spark-*.tmp")):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not pid_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            gone.append(tmp)
    return gone


def java_options() -> str:
    """The driver JVM options that map the archive; empty while there is none."""
    path = archive_path()
    if path is None or not path.is_file():
        return ""
    return f"-XX:SharedArchiveFile={path} {_QUIET}"


def _workload(spark: SparkSession, spark_dir: Path) -> None:
    """What a ctc command does, small: a back-test of the small tier and a bounded
    streaming run over the same simulated trades (the classes they load are archived)."""
    from ctc.compiler import compile_paths
    from ctc.runtime.backtest import run_backtest
    from ctc.runtime.quality import load_rules
    from ctc.runtime.stream import RunOptions, StreamRunner
    from ctc.simulate import simulate

    detectors = Path(__file__).resolve().parents[2] / "detectors"
    specs = [detectors / n for n in ("volume-anomaly.yaml", "whale.yaml", "spread-calculator.yaml")]
    landing = spark_dir / "landing"
    landing.mkdir()
    simulate(0.1, landing / "trades.jsonl", seed=1)
    plans = compile_paths(specs)
    rules = load_rules(detectors / "quality.yaml")
    run_backtest(spark, plans, landing, rules=rules, cache_dir=spark_dir / "cache")
    options = RunOptions(
        landing=landing,
        checkpoint=spark_dir / "checkpoint",
        store_url=f"sqlite:///{spark_dir / 'alerts.db'}",
        lake=str(spark_dir / "lake"),
        quality=detectors / "quality.yaml",
        status_path=spark_dir / "status.json",
        until_idle=True,
    )
    StreamRunner(spark, plans, options).run()


def build(force: bool = False) -> Path | None:
    """Make the archive (unless it exists and not ``force``); returns its path, or None
    when it is turned off, no Java is found, or the JVM wrote none.

    The JVM writes it at exit under a temporary name, which is renamed into place
    afterwards: a reader never maps half a file.
    """
    from ctc.runtime.spark import get_spark, stop_spark

    path = archive_path()
    if path is None or (path.is_file() and not force):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tempfile.TemporaryDirectory(prefix="ctc-jvm-archive-") as work:
            spark = get_spark(
                "ctc-jvm-archive", java_options=f"-XX:ArchiveClassesAtExit={tmp} {_QUIET}"
            )
            _workload(spark, Path(work))
            stop_spark(spark, timeout=600)  # the JVM writes the archive as it exits
        if not tmp.is_file() or tmp.stat().st_size == 0:
            return None
        os.replace(tmp, path)
        _write_source(path)
        _say_removed(remove_stale(path.parent))
        return path
    finally:
        tmp.unlink(missing_ok=True)


def _say_removed(gone: list[Path]) -> None:
    archives = [p for p in gone if p.suffix == ".jsa"]
    if archives:
        print(
            f"ctc: removed {len(archives)} JVM class archive(s) no JVM can map any more "
            f"(their virtualenv, jars or Java changed): {', '.join(p.name for p in archives)}",
            file=sys.stderr,
        )


def main() -> None:
    """``python -m ctc.runtime.jvm_archive [--force]``: build the archive, say where."""
    t0 = time.perf_counter()
    path = archive_path()
    if path is None:
        print("ctc: JVM class archive off (CTC_JVM_ARCHIVE=off, or no Java found)", file=sys.stderr)
        return
    if path.is_file() and "--force" not in sys.argv:
        if not _source_file(path).is_file():
            _write_source(path)
        _say_removed(remove_stale(path.parent))
        print(f"ctc: JVM class archive {path} is there", file=sys.stderr)
        return
    print(
        "ctc: building the JVM class archive (once per machine, about half a minute)",
        file=sys.stderr,
    )
    made = build(force=True)
    if made is None:
        print("ctc: the JVM wrote no class archive; commands run without one", file=sys.stderr)
        return
    size = made.stat().st_size / 2**20
    print(
        f"ctc: JVM class archive {made} ({size:.0f} MiB) in {time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
