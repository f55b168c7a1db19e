"""The first hour of a new user: quiet Spark, progress on a terminal, clear verdicts on bad
input, the README's walk-through ending with alerts, and the demo stopping Spark before
it serves the dashboard. Commands run as a user runs them (a fresh process, a fresh JVM),
except where the test's own Spark session is enough."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from streamkit import DETECTORS

from ctc.cli import main

ROOT = Path(__file__).resolve().parents[2]
HFT = ROOT.parent / "shared" / "data" / "real" / "hftbacktest" / "spot"

pytestmark = pytest.mark.spark


def _ctc(*args: str, cwd: Path = ROOT, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctc", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        **kw,
    )


def _not_ctc(stderr: str) -> list[str]:
    """Lines of stderr that ctc did not write (Spark's or the JVM's start-up noise)."""
    ours = ("ctc: ", "ctc serve: ")
    return [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith(ours)]


def _run_args(tmp: Path, landing: Path) -> list[str]:
    return [
        "run",
        "--tier",
        "small",
        "--detectors",
        str(DETECTORS),
        "--landing",
        str(landing),
        "--checkpoint",
        str(tmp / "ckpt"),
        "--store",
        f"sqlite:///{tmp / 'alerts.db'}",
        "--lake",
        "none",
        "--status",
        str(tmp / "status.json"),
        "--until-idle",
    ]


def test_backtest_of_a_file_that_is_not_json_lines_fails_in_one_quiet_line(
    tmp_path: Path,
) -> None:
    result = _ctc("backtest", "detectors/whale.yaml", "--input", "README.md", "--no-cache")
    assert result.returncode == 1, result.stderr
    assert _not_ctc(result.stderr) == []  # no log4j, hostname, native-hadoop, JVM lines
    assert "\r" not in result.stderr  # not a terminal: no progress line
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ctc: error: README.md is not JSON lines of trade events: ")
    assert result.stdout == ""


def test_verbose_brings_sparks_start_up_lines_back(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    result = _ctc(
        "--verbose", "backtest", "detectors/whale.yaml", "--input", str(empty), "--no-cache"
    )
    assert result.returncode == 0, result.stderr
    assert _not_ctc(result.stderr) != []  # the control: Spark's own start-up output
    assert f"ctc: warning: {empty} is empty: no records" in result.stderr


def test_run_until_idle_over_a_missing_landing_folder_is_an_error(tmp_path: Path) -> None:
    landing = tmp_path / "nowhere"
    result = _ctc(*_run_args(tmp_path, landing))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"ctc: error: landing folder {landing} does not exist: nothing to run over "
        "(ctc ingest --sink landing:DIR writes one)"
    )
    assert not landing.exists()


def test_run_over_an_empty_landing_folder_says_so(spark: Any, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    result = CliRunner().invoke(main, _run_args(tmp_path, landing))
    assert result.exit_code == 0, result.output
    assert f"ctc: landing folder {landing} has no *.jsonl files: nothing to process" in (
        result.output
    )


def test_run_where_nothing_parses_fails_and_keeps_the_dead_letters(
    spark: Any, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    (landing / "readme.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, _run_args(tmp_path, landing))
    assert result.exit_code == 1, result.output
    read = sum(1 for ln in lines if ln.strip()) or len(lines)
    assert f"ctc: error: {landing} is not JSON lines of trade events:" in result.output
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["totals"]["passed"] == 0
    assert status["totals"]["failed"] == status["totals"]["processed"] >= read


def _pty_run(argv: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``argv`` on a pseudo-terminal (stdout and stderr both); its exit status and output."""
    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.chdir(cwd)
        os.environ["PYTHONPATH"] = str(ROOT)
        os.execv(argv[0], argv)
    out = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 600)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


@pytest.mark.realdata
def test_the_readme_walk_through_ends_with_alerts_and_says_why_others_cannot_fire(
    tmp_path: Path,
) -> None:
    """README "Using ctc": replay both hftbacktest recordings, then `ctc run --tier small
    --until-idle`, in a terminal: progress shows, whales alert, and the output says why
    the volume and spread detectors cannot fire on six minutes of Binance alone."""
    if not HFT.is_dir():
        pytest.skip(f"real recordings not found at {HFT} (../shared beside the project)")
    (tmp_path / "detectors").symlink_to(DETECTORS)
    ingest = _ctc(
        "ingest",
        "--replay",
        str(HFT / "btcusdt_20240808.gz"),
        "--replay",
        str(HFT / "ethusdt_20240808.gz"),
        "--sink",
        "landing:var/landing",
        cwd=tmp_path,
    )
    assert ingest.returncode == 0, ingest.stderr
    code, out = _pty_run(
        [sys.executable, "-m", "ctc", "run", "--tier", "small", "--until-idle"], tmp_path
    )
    assert code == 0, out
    lines = [ln.split("\r")[-1].replace("\x1b[K", "") for ln in out.splitlines()]
    summary = next(ln for ln in lines if "micro-batches:" in ln)
    assert "alerts (MOD-002 " in summary and " 0 alerts" not in summary
    assert any(ln.startswith("  MOD-001 volume-anomaly: needs 10 earlier windows") for ln in lines)
    assert any(
        ln.startswith("  MOD-003 spread-calculator: needs trades on binance and coinbase")
        for ln in lines
    )
    assert "events/s" in out  # the progress line, drawn on the terminal
    noise = [ln for ln in lines if ln.strip() and ln.startswith(("WARNING", "Using Spark", "2"))]
    assert noise == []


def _descendants(pid: int) -> dict[int, str]:
    """Every live descendant process of ``pid``: pid → command name."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            parents[int(entry.name)] = (int(stat[stat.rindex(")") + 2 :].split()[1]), name)
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        p = frontier.pop()
        for child, (ppid, name) in parents.items():
            if ppid == p and child not in found:
                found[child] = name
                frontier.append(child)
    return found


def test_demo_stops_spark_before_serving_the_dashboard(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ctc",
            "demo",
            "--hours",
            "0.25",
            "--workdir",
            str(tmp_path / "demo"),
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        out = []
        for line in proc.stdout:
            out.append(line)
            if line.startswith("dashboard:"):
                break
        assert any(ln.startswith("dashboard:") for ln in out), "".join(out)
        children = _descendants(proc.pid)
        assert "java" not in children.values(), children
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=10) as r:
            health = json.load(r)
        assert health["query_status"] == "stopped"
        assert "Alerts in the hot store" in "".join(out)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert _not_ctc(err) == [], err
