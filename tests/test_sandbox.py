"""The spec sandbox around the expression checks (issue 9, docs/adr/0002): reference paths,
reserved names, resource bounds, and errors that are one clean line. No JVM."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctc.cli import main
from ctc.cli_errors import _spark_message, reports_errors
from ctc.compiler.catalog import CORE_LAKE_TABLES, reserved_name_problem
from ctc.compiler.expressions import FragmentError, Scope, check_fragment, to_sql
from ctc.dsl.errors import VERBOSE_ENV, Position, SpecError, escape_controls
from ctc.dsl.references import reference_path_problem, resolve_reference
from ctc.dsl.yaml_loader import load_yaml
from ctc.events import TRADE_EVENT_FIELDS

ROOT = Path(__file__).resolve().parents[1]
SCOPE = Scope(dict(TRADE_EVENT_FIELDS), what="test")


# -- reference paths (hole 1) -------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "/proc/self/environ",
        "../secrets.csv",
        "reference/../../x.csv",
        "file:///etc/passwd",
        "s3://bucket/labels.csv",
        "hdfs:/x",
        "reference/*.csv",
        "reference/[ab].csv",
        "~/.aws/credentials",
        ".hidden.csv",
        "C:/x.csv",
        "reference\\labels.csv",
        "reference//labels.csv",
        "reference/labels.csv\n",
        "",
    ],
)
def test_reference_paths_that_could_leave_the_folder_are_rejected(path: str) -> None:
    assert reference_path_problem(path) is not None


@pytest.mark.parametrize("path", ["labels.csv", "reference/labels.csv", "a/b-c/d_e.v2.csv"])
def test_plain_relative_reference_paths_are_accepted(path: str) -> None:
    assert reference_path_problem(path) is None


def test_reference_symlinks_may_not_lead_out_and_folders_are_refused(tmp_path: Path) -> None:
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "labels.csv").write_text("a\n", encoding="utf-8")
    (tmp_path / "ref" / "inside.csv").symlink_to(tmp_path / "ref" / "labels.csv")
    (tmp_path / "ref" / "out.csv").symlink_to("/etc/hostname")
    (tmp_path / "linkdir").symlink_to("/etc")
    assert resolve_reference(tmp_path, "ref/inside.csv") == (tmp_path / "ref/labels.csv").resolve()
    for bad in ("ref/out.csv", "linkdir/hostname", "ref", "ref/missing.csv"):
        with pytest.raises(ValueError):
            resolve_reference(tmp_path, bad)


def test_the_runtime_checks_the_reference_path_again(tmp_path: Path) -> None:
    from ctc.runtime.sources import read_reference

    (tmp_path / "out.csv").symlink_to("/etc/hostname")
    with pytest.raises(ValueError, match="leads out"):
        read_reference(None, tmp_path, "out.csv", "csv", (("a", "string"),))  # type: ignore[arg-type]


# -- reserved names (holes 2, 3) ----------------------------------------------------------
def test_core_lake_tables_match_the_lake() -> None:
    from ctc.sinks.lake.tables import CORE_TABLES

    assert set(CORE_LAKE_TABLES) == {t.name for t in CORE_TABLES}


@pytest.mark.parametrize(
    "name", ["trades", "chain_events", "alerts", "anomaly_alerts", "whale_detector__alerts"]
)
def test_shared_views_core_tables_and_stage_views_are_reserved(name: str) -> None:
    assert reserved_name_problem(name, "output table") is not None


def test_every_stage_view_of_every_detector_is_reserved() -> None:
    from ctc.compiler import compile_paths

    for plan in compile_paths([ROOT / "detectors"]):
        assert reserved_name_problem(plan.output_table, "output table") is None
        for stage in plan.stages:
            assert reserved_name_problem(stage.view, "reference") is not None, stage.view


# -- params (hole 6) ----------------------------------------------------------------------
def test_param_literals_are_never_bare_words() -> None:
    tree = check_fragment("price > params.x", {"x": 1e300}, SCOPE)
    assert to_sql(tree) == "price > 1e+300"
    with pytest.raises(FragmentError, match="finite"):
        check_fragment("price > params.x", {"x": float("inf")}, SCOPE)


# -- resource bounds ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "sql",
    [
        "lpad(symbol, 1001, 'x')",
        "rpad(symbol, -1)",
        "lpad(symbol, length(symbol) * 1000)",
        "format_string('%1001s', symbol)",
        "format_string('%.5000f', price)",
        "format_string(symbol, price)",
        "format_number(price, 31)",
        "round(price, 100)",
        "symbol LIKE '%a%a%a%a%'",
        "symbol LIKE concat('%', symbol)",
    ],
)
def test_size_and_count_arguments_are_bounded(sql: str) -> None:
    with pytest.raises(FragmentError):
        check_fragment(sql, {}, SCOPE)


@pytest.mark.parametrize(
    "sql",
    [
        "lpad(symbol, 12, '*')",
        "format_string('%-10s %8.2f', symbol, price)",
        "format_number(price, 2)",
        "format_number(price, '#,##0.00')",
        "round(price, -2)",
        "symbol LIKE 'BTC-%'",
        "date_format(timestamp, 'yyyy-MM-dd')",
        "to_timestamp(symbol, 'yyyy-MM-dd')",
    ],
)
def test_reasonable_sizes_still_compile(sql: str) -> None:
    check_fragment(sql, {}, SCOPE)


def test_aggregate_accuracy_arguments_are_bounded() -> None:
    agg = Scope(dict(TRADE_EVENT_FIELDS), aggregates=True)
    check_fragment("percentile_approx(price, 0.5, 10000)", {}, agg)
    with pytest.raises(FragmentError, match="accuracy"):
        check_fragment("percentile_approx(price, 0.5, 2000000000)", {}, agg)
    with pytest.raises(FragmentError, match="relative error"):
        check_fragment("approx_count_distinct(symbol, 0.0001)", {}, agg)


def test_a_pathological_like_over_a_padded_string_fails_fast() -> None:
    started = time.monotonic()
    with pytest.raises(FragmentError, match="lpad"):
        check_fragment("lpad(symbol, 100000000, 'a') LIKE '%a%a%b'", {}, SCOPE)
    assert time.monotonic() - started < 1


def test_a_billion_laughs_fails_fast() -> None:
    text = (ROOT / "tests/broken_specs/res-billion-laughs.yaml").read_text(encoding="utf-8")
    started = time.monotonic()
    located, errors = load_yaml(text, "x.yaml")
    assert located is None and "too large" in errors[0].message
    assert time.monotonic() - started < 1


def test_yaml_aliases_within_the_bounds_still_work() -> None:
    located, errors = load_yaml("a: &x [1, 2]\nb: *x\nc: {d: *x}\n", "x.yaml")
    assert errors == [] and located is not None
    assert located.data == {"a": [1, 2], "b": [1, 2], "c": {"d": [1, 2]}}


def test_a_deeply_nested_neighbour_does_not_break_a_good_spec(tmp_path: Path) -> None:
    good = tmp_path / "whale.yaml"
    good.write_text((ROOT / "detectors/whale.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    (tmp_path / "loop.yaml").write_text("a: &a [*a]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(good)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.stderr.splitlines()) == 3  # two errors and the summary


# -- one clean line per error -------------------------------------------------------------
def test_control_characters_are_escaped() -> None:
    assert escape_controls("a\nb\r\tc\x1b[2J\u202e\u2028") == "a\\nb\\r\\tc\\x1b[2J\\u202e\\u2028"
    assert escape_controls("café ✓ €") == "café ✓ €"
    err = SpecError("s\n.yaml", Position(1, 2), "x\nspec.yaml:1:1: forged")
    assert str(err) == "s\\n.yaml:1:2: x\\nspec.yaml:1:1: forged"


def test_validating_every_detector_prints_nothing_on_stderr() -> None:
    result = CliRunner().invoke(main, ["validate", str(ROOT / "detectors")])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_compile_out_writes_one_file_per_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["compile", str(ROOT / "detectors/whale.yaml"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["whale-detector.sql"]


PY4J_TEXT = (
    "An error occurred while calling o45.collectToPython.\n"
    ": org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 failed: "
    "org.apache.spark.SparkNumberFormatException: [CAST_INVALID_INPUT] The value 'x' ...\n"
    "\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAG.scala:1)\n"
    "\tat java.base/java.lang.Thread.run(Thread.java:840)\n"
)


def test_a_java_error_becomes_its_first_meaningful_line() -> None:
    class Py4JJavaError(Exception):
        pass

    msg = _spark_message(Py4JJavaError(PY4J_TEXT))
    assert msg.startswith("org.apache.spark.SparkException: Job aborted")
    assert "\n" not in msg and "DAGScheduler" not in msg


#: A streaming query stopped by an exception in its foreachBatch function (abridged).
FOREACH_BATCH_TEXT = (
    "[STREAM_FAILED] Query [id = 1, runId = 2] terminated with exception: "
    "[FOREACH_BATCH_USER_FUNCTION_ERROR] An error occurred in the user provided function in "
    "foreach batch sink. Reason: An exception was raised by the Python Proxy. Return Message: "
    "Traceback (most recent call last):\n"
    '  File "/x/py4j/clientserver.py", line 644, in _call_proxy\n'
    "    return_value = getattr(self.pool[obj_id], method)(*params)\n"
    '  File "/x/ctc/runtime/stream.py", line 221, in process_batch\n'
    "pyspark.errors.exceptions.captured.AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The "
    "table or view `v` cannot be found.\n"
    "If you did not qualify the name with a schema, verify the current_schema() output.\n"
    "\tat org.apache.spark.sql.execution.streaming.StreamExecution.runStream(X.scala:1)\n"
)


def test_an_error_in_a_micro_batch_shows_the_python_error_not_the_traceback_header() -> None:
    class StreamingQueryException(Exception):
        pass

    msg = _spark_message(StreamingQueryException(FOREACH_BATCH_TEXT))
    assert msg == (
        "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `v` cannot be found."
    )


def _boom() -> None:
    raise RuntimeError("bad\nstate \x1b[31m")


def test_unexpected_errors_are_one_line_unless_verbose(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    with pytest.raises(SystemExit) as info:
        reports_errors(_boom)()
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err == (
        "ctc: error: internal error: RuntimeError: bad\\nstate \\x1b[31m "
        "(ctc --verbose shows the traceback)\n"
    )
    monkeypatch.setenv(VERBOSE_ENV, "1")
    with pytest.raises(RuntimeError):
        reports_errors(_boom)()


def test_verbose_is_a_global_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VERBOSE_ENV, "0")  # restored after the test
    result = CliRunner().invoke(main, ["--verbose", "validate", str(ROOT / "detectors")])
    assert result.exit_code == 0
    import os

    assert os.environ.get(VERBOSE_ENV) == "1"


def test_pyspark_does_not_log_java_stack_traces_by_default() -> None:
    CliRunner().invoke(main, ["validate", str(ROOT / "detectors/whale.yaml")])
    assert not logging.getLogger("SQLQueryContextLogger").isEnabledFor(logging.ERROR)
