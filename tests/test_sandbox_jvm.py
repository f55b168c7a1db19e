"""A killed ctc process takes its Spark JVM with it (issue 9: an orphaned JVM of a back-test
killed on a timeout kept running at 54 % CPU and 4.6 GB)."""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ctc.runtime.jvm_guard import GRACE_SECONDS

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc to find the JVM"),
]

ROOT = Path(__file__).resolve().parents[1]


def _java_children(pid: int) -> list[int]:
    """Pids of java processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and cmd.endswith(b"java"):
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_and_check(
    proc: subprocess.Popen[bytes], wait_for_jvm: float = 120, gone_within: float = 30
) -> None:
    """Wait for ``proc``'s JVM, SIGKILL ``proc``, and check the JVM is gone within
    ``gone_within`` seconds."""
    deadline = time.monotonic() + wait_for_jvm
    jvms: list[int] = []
    while time.monotonic() < deadline and not jvms:
        assert proc.poll() is None, "the process ended before its JVM was seen"
        jvms = _java_children(proc.pid)
        time.sleep(0.2)
    assert jvms, "no JVM child appeared"
    time.sleep(5)  # let Spark get going: the JVM is busy when the process is killed
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + gone_within
    while time.monotonic() < deadline and any(_alive(j) for j in jvms):
        time.sleep(0.2)
    alive = [j for j in jvms if _alive(j)]
    for j in alive:  # do not leave it behind for the next test
        os.kill(j, signal.SIGKILL)
    assert not alive, "the JVM outlived the process that started it"


def _guarded_script(guard: bool) -> str:
    """A Spark program whose JVM cannot notice that it died.

    pyspark's JVM exits when its stdin pipe closes, which is usually when Python dies; but
    a JVM busy or stuck in its shutdown hooks (as in the audit) stays. Here a sleeping child
    holds a copy of the pipe, so the JVM never sees the pipe close: only the guard is left.
    """
    # get_spark guards its JVM; the control builds a session the plain way
    start = (
        "from ctc.runtime.spark import get_spark\n"
        "from ctc.runtime.jvm_guard import guard_jvm\n"
        "spark = get_spark('ctc-guard-test')\n"
        "assert guard_jvm(spark) is not None\n"
        if guard
        else "from pyspark.sql import SparkSession\n"
        "spark = SparkSession.builder.master('local[1]').appName('ctc-unguarded').getOrCreate()\n"
    )
    # the guarded JVM is busy when its process dies; the control's waits in a task (its
    # process dies all the same), so it does not keep a core busy for the 15 s it is given
    work = (
        "spark.range(10**12).selectExpr('sum(id * id)').collect()  # busy until killed\n"
        if guard
        else "spark.sql(\"SELECT reflect('java.lang.Thread', 'sleep', 600000L)\").collect()\n"
    )
    return (
        "import subprocess\n" + start + "fd = spark.sparkContext._gateway.proc.stdin.fileno()\n"
        "holder = subprocess.Popen(['sleep', '600'], pass_fds=[fd])\n"
        "print(holder.pid, flush=True)\n" + work
    )


@pytest.mark.parametrize("guard", [True, False], ids=["guarded", "unguarded-control"])
def test_guard_jvm_kills_the_jvm_of_a_killed_process(guard: bool) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _guarded_script(guard)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    holder = int(proc.stdout.readline())
    try:
        if guard:
            _kill_and_check(proc)
        else:  # the control: without the guard this JVM outlives its process, and
            # outlives the longest a guard takes (its grace, SIGTERM, its grace, SIGKILL)
            with pytest.raises(AssertionError, match="outlived"):
                _kill_and_check(proc, gone_within=3 * GRACE_SECONDS)
    finally:
        os.kill(holder, signal.SIGKILL)


def _get_spark_guards_the_jvm() -> bool:
    from ctc.runtime import spark

    return "guard_jvm" in inspect.getsource(spark)


@pytest.mark.skipif(
    not _get_spark_guards_the_jvm(),
    reason="ctc.runtime.spark.get_spark does not call ctc.runtime.jvm_guard.guard_jvm yet",
)
def test_killing_ctc_backtest_kills_its_jvm(tmp_path: Path) -> None:
    from ctc.simulate import simulate

    trades = tmp_path / "trades.jsonl"
    simulate(3.0, trades, seed=7)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ctc",
            "backtest",
            str(ROOT / "detectors"),
            "--input",
            str(trades),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _kill_and_check(proc)
