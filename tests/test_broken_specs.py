"""A corpus of broken specs: each gives its expected `line:col: message`, without a traceback.

A case is a file, or a folder of specs validated together (cross-spec problems such as
duplicate names); a folder's ``a.yaml`` holds its expectation, ``file:line:col: message``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from spec_texts import WHALE_WHEN

from ctc.cli import main

CORPUS = Path(__file__).parent / "broken_specs"
CASES = sorted([*CORPUS.glob("*.yaml"), *(d for d in CORPUS.iterdir() if (d / "a.yaml").is_file())])

#: One error line: path:line:col: message, with no control character in it.
_LINE = re.compile(r"[^\x00-\x1f\x7f]+:\d+:\d+: [^\x00-\x1f\x7f]+")


def _expected(path: Path) -> str:
    spec = path / "a.yaml" if path.is_dir() else path
    first = spec.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{spec.name} must start with '# expect: '"
    return first.removeprefix("# expect: ")


def test_corpus_is_not_empty() -> None:
    assert len(CASES) >= 70


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_broken_spec_reports_position_and_message(path: Path) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert time.monotonic() - started < 10, "validation must fail fast"
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    *errors, summary = result.stderr.splitlines()
    assert re.fullmatch(r"ctc: \d+ problems? found", summary), result.stderr
    for line in errors:  # nothing else on stderr: no warnings, no split or forged lines
        assert _LINE.fullmatch(line), f"not one clean error line: {line!r}"
        assert line.startswith(str(path)), line
    want = f"{path}/{_expected(path)}" if path.is_dir() else f"{path}:{_expected(path)}"
    assert any(ln.startswith(want) for ln in errors), f"wanted {want!r} in:\n{result.stderr}"


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    spec = (CORPUS.parent.parent / "detectors" / "whale.yaml").read_text(encoding="utf-8")
    assert WHALE_WHEN in spec
    spec = spec.replace(WHALE_WHEN, "    when: quote_volum > 1")
    spec = spec.replace("{{ side }}", "{{ sid }}").replace("tier: small", "tier: tiny")
    bad = tmp_path / "whale.yaml"
    bad.write_text(spec, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1
    # the schema error stops the SQL checks: fix the shape first, then the SQL
    assert "tier must be one of 'small', 'medium', 'large', got 'tiny'" in result.stderr
    bad.write_text(spec.replace("tier: tiny", "tier: small"), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(bad)])
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith(str(bad))]
    assert len(errors) == 2, result.stderr
    assert "unknown column 'quote_volum'" in errors[0]
    assert "unknown column 'sid'" in errors[1]


def test_usage_error_exits_2() -> None:
    result = CliRunner().invoke(main, ["validate", "/no/such/spec.yaml"])
    assert result.exit_code == 2


def test_yaml_1_1_boolean_words_stay_keys() -> None:
    from ctc.dsl.yaml_loader import load_yaml

    located, errors = load_yaml("on: x\nyes: 1\n", "t.yaml")
    assert errors == [] and located is not None
    assert located.data == {"on": "x", "yes": 1}
