"""Type inference of spec expressions: a known type, or an error, never a guess."""

from __future__ import annotations

import pytest

from ctc.compiler.expressions import parse_fragment
from ctc.compiler.fragments.infer_type import TypeUnknown, infer_type

COLUMNS = {"s": "string", "d": "double", "b": "bigint", "t": "timestamp"}


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("d * 2", "double"),
        ("COUNT(*)", "bigint"),
        ("MAX_BY(s, d)", "string"),  # was double: sqlglot does not type MAX_BY
        ("MIN_BY(b, d)", "bigint"),
        ("DATE_TRUNC('hour', t)", "timestamp"),
        ("TIMESTAMP_SECONDS(b)", "timestamp"),
        ("FORMAT_NUMBER(d, 2)", "string"),
        ("ISNULL(d)", "boolean"),
        ("CAST(NULL AS string)", "string"),
    ],
)
def test_inferred_types(sql: str, expected: str) -> None:
    assert infer_type(parse_fragment(sql), COLUMNS) == expected


@pytest.mark.parametrize(
    ("sql", "why"),
    [("IF(d > 0, NULL, NULL)", "null"), ("NAMED_STRUCT('a', d)", "struct")],
)
def test_what_has_no_column_type_is_reported(sql: str, why: str) -> None:
    with pytest.raises(TypeUnknown, match=why):
        infer_type(parse_fragment(sql), COLUMNS)


@pytest.mark.parametrize("sql", ["CAST(b AS smallint)", "CAST(b AS tinyint)"])
def test_types_the_lake_cannot_store_are_reported(sql: str) -> None:
    with pytest.raises(TypeUnknown, match="not a column type"):
        infer_type(parse_fragment(sql), COLUMNS)
