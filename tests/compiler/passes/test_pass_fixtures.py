"""Each lowering pass against its fixtures: a spec fragment → the stage the pass builds
(or the problems it reports). See pass_fixture.py for the fixture format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pass_fixture import context_as_fixture, run_pass, stage_as_fixture

from ctc.compiler.passes import PASSES

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(FIXTURES.glob("*/*.yaml"))
REQUIRED = ["kind", "view", "columns", "sql"]


def _case(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and "spec" in data and "expect" in data, path
    return data


def test_every_pass_has_fixtures() -> None:
    assert sorted({p.parent.name for p in CASES}) == sorted(PASSES)
    for name in PASSES:
        assert len(list((FIXTURES / name).glob("*.yaml"))) >= 2, name


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_pass_fixture(path: Path) -> None:
    case = _case(path)
    expect = case["expect"]
    result = run_pass(path.parent.name, case, path.parent)
    assert result.errors == expect.get("errors", []), result.errors
    wanted = expect.get("stages", [])
    assert len(result.stages) == len(wanted), [s.view for s in result.stages]
    for got, want in zip(result.stages, wanted, strict=True):
        assert set(REQUIRED) <= set(want), f"a fixture stage needs {REQUIRED}"
        assert stage_as_fixture(got, list(want)) == want
    if "context" in expect:
        assert result.context is not None
        assert context_as_fixture(result.context, list(expect["context"])) == expect["context"]
