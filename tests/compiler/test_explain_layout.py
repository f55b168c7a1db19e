"""`ctc compile --explain` reads at a readable width: prose wrapped, long SQL lines laid
out over several, and the SQL itself unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlglot.dialects.spark import Spark

from ctc.compiler import Plan, compile_paths
from ctc.compiler.explain import explain
from ctc.compiler.explain_layout import WIDTH, fill_parts, fill_template, reflow_sql

DETECTORS = Path(__file__).resolve().parents[2] / "detectors"


@pytest.fixture(scope="module")
def plans() -> list[Plan]:
    return compile_paths([DETECTORS])


def _tokens(sql: str) -> list[str]:
    return [t.text for t in Spark().tokenize(sql)]


def test_no_line_of_any_explanation_is_wider_than_the_width(plans: list[Plan]) -> None:
    for plan in plans:
        text = explain(plan).replace(plan.spec_path, "detectors/x.yaml")
        wide = [line for line in text.splitlines() if len(line) > WIDTH]
        assert not wide, (plan.module, wide)
        assert not [line for line in text.splitlines() if line != line.rstrip()]


def test_reflowed_sql_is_the_same_sql(plans: list[Plan]) -> None:
    reflowed = 0
    for plan in plans:
        for stage in plan.stages:
            text = reflow_sql(stage.sql, WIDTH - 8)
            assert _tokens(text) == _tokens(stage.sql), stage.view
            reflowed += text != stage.sql
    assert reflowed > 10


def test_a_message_is_never_broken_inside_a_placeholder() -> None:
    template = "Whale {{ side }} of {{ quantity | number(4) }} {{ symbol }} on {{ exchange }} " * 3
    lines = fill_template("    message   ", template, width=60)
    assert len(lines) > 3
    for line in lines:
        assert line.count("{{") == line.count("}}"), line
        assert len(line) <= 60


def test_an_alert_id_breaks_after_a_separator() -> None:
    parts = ["MOD-009", "large_dex_swap", "blockchain", "protocol", "token_in", "token_out"]
    lines = fill_parts("    alert id  sha256(", [*parts, "window_start (epoch ms))"], "|", 60)
    assert len(lines) > 1 and all(len(line) <= 60 for line in lines)
    assert all(line.endswith("|") for line in lines[:-1])
    assert "".join(line.strip() for line in lines).endswith("token_out|window_start (epoch ms))")
