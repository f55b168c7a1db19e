"""The ctc command as a user runs it: validate, compile --explain, no JVM for either."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from ctc.cli import main
from ctc.cli_help import EXAMPLES
from ctc.dsl.load import spec_files
from ctc.plural import plural
from ctc.report import input_counts_line

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
    assert {"validate", "compile", "backtest", "test", "simulate", "run", "demo"} <= set(
        main.commands
    )
    for name in main.commands:
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)


def test_ctc_help_lists_every_command_with_an_example() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    assert set(EXAMPLES) == set(main.commands)
    for name, example in EXAMPLES.items():
        assert example.startswith(f"ctc {name} ")
        assert f"  {name}  " in result.output, name
        assert f"e.g. ctc {name} " in result.output, name


def test_compile_help_names_the_files_it_writes(tmp_path: Path) -> None:
    help_text = " ".join(CliRunner().invoke(main, ["compile", "--help"]).output.split())
    assert "detectors/whale.yaml gives whale-detector.sql" in help_text
    CliRunner().invoke(
        main, ["compile", str(ROOT / "detectors/whale.yaml"), "--out", str(tmp_path)]
    )
    assert [p.name for p in tmp_path.iterdir()] == ["whale-detector.sql"]


def test_one_of_a_thing_is_singular() -> None:
    result = CliRunner().invoke(main, ["validate", str(ROOT / "detectors/whale.yaml")])
    assert result.output.splitlines()[-1] == "1 spec valid"
    assert plural(1, "detector") == "1 detector"
    assert plural(2, "alert") == "2 alerts"
    assert plural(1234, "trade", grouped=True) == "1,234 trades"
    assert plural(1, "micro-batch", "micro-batches") == "1 micro-batch"
    assert input_counts_line("input", 1, 1, 0, 1) == (
        "input: 1 record, 1 used, 0 rejected, 1 duplicate dropped"
    )
    assert input_counts_line("input", 3, 1, 1, 1).startswith("input: 3 records,")
