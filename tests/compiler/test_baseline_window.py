"""The baseline's OVER clause, built as a sqlglot tree, is the text it was written as."""

from __future__ import annotations

from ctc.compiler.expressions import parse_fragment, to_sql
from ctc.compiler.passes.baseline import earlier_windows


def test_earlier_windows_is_the_written_window() -> None:
    built = earlier_windows(("symbol", "window"), 3600)
    written = parse_fragment(
        "__agg__() OVER (PARTITION BY symbol, `window` ORDER BY UNIX_SECONDS(window_start) "
        "RANGE BETWEEN 3600 PRECEDING AND 1 PRECEDING)"
    )
    assert built == written
    assert to_sql(built) == to_sql(written)
    assert "PARTITION BY symbol, `window`" in to_sql(built)
