"""The ctc command as a user runs it: validate, compile --explain, no JVM for either."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from ctc.cli import main
from ctc.dsl.load import spec_files

ROOT = Path(__file__).resolve().parents[1]


def test_validate_all_detectors() -> None:
    result = CliRunner().invoke(main, ["validate", str(ROOT / "detectors")])
    assert result.exit_code == 0, result.output
    assert f"{len(spec_files([ROOT / 'detectors']))} specs valid" in result.output


def test_explain_whale_reads_as_a_description() -> None:
    result = CliRunner().invoke(main, ["compile", "--explain", str(ROOT / "detectors/whale.yaml")])
    assert result.exit_code == 0, result.output
    out = result.output
    for part in [
        "MOD-002 whale-detector",
        "Reads",
        "Params",
        "whale_usd",
        "Stages",
        "Alerts",
        "critical  if quote_volume > params.critical_usd",
        "medium    otherwise",
        "message   Whale {{ side }}",
        "Sinks",
        "hot store",
        "whale_trades",
    ]:
        assert part in out, part


def test_explain_window_detector_shows_window_watermark_and_state() -> None:
    result = CliRunner().invoke(
        main, ["compile", "--explain", str(ROOT / "detectors/volume-anomaly.yaml")]
    )
    assert result.exit_code == 0
    assert "window: tumbling 60 seconds on timestamp" in result.output
    assert "watermark: 30 seconds" in result.output
    assert "state: closed windows: |symbol × exchange| keys × 60 rows each" in result.output


def test_compile_out_writes_sql_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["compile", str(ROOT / "detectors"), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert len(list(tmp_path.glob("*.sql"))) == len(spec_files([ROOT / "detectors"]))
    assert (
        "CREATE OR REPLACE TEMPORARY VIEW whale_detector__alerts"
        in (tmp_path / "whale-detector.sql").read_text()
    )


def test_validate_and_compile_start_no_jvm() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from ctc.cli import main\n"
        f"r = CliRunner().invoke(main, ['compile', '--explain', {str(ROOT / 'detectors')!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'pyspark' not in sys.modules, 'pyspark was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_every_command_has_help() -> None:
    """Every command, its own and those of other units, answers --help."""
    for name in [
        "validate",
        "compile",
        "backtest",
        "test",
        "simulate",
        "run",
        "demo",
        "serve",
        "ingest",
        "labels",
    ]:
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
