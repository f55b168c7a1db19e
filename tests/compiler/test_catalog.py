"""One catalog: the spec's JSON Schema, the spec model, the lake and the compiler read the
same table names, column types, partition syntax and severities."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any, get_args

import pytest

from ctc.compiler.catalog import (
    COLUMN_TYPES,
    CORE_LAKE_TABLES,
    OWN_LAKE_TABLES,
    PARTITION_ITEM_PATTERN,
    PARTITION_TRANSFORMS,
    SEVERITIES,
    SEVERITIES_MOST_FIRST,
    parse_partition,
    partition_type_problem,
    reserved_name_problem,
)
from ctc.dsl.model import Severity


def _schema() -> dict[str, Any]:
    text = resources.files("ctc.dsl").joinpath("schema/detector.schema.json").read_text()
    return json.loads(text)


def test_the_schema_reads_partition_items_as_the_catalog_does() -> None:
    output = _schema()["$defs"]["output"]["properties"]["partition_by"]
    assert output["items"]["pattern"] == PARTITION_ITEM_PATTERN
    for transform in PARTITION_TRANSFORMS:
        assert re.fullmatch(PARTITION_ITEM_PATTERN, f"{transform}(detected_at)")
        assert parse_partition(f"{transform}(detected_at)") == ("detected_at", transform)
    assert not re.fullmatch(PARTITION_ITEM_PATTERN, "week(detected_at)")


def test_severities_are_the_schemas_and_the_models() -> None:
    band = _schema()["$defs"]["severity_band"]["properties"]["level"]
    assert tuple(band["enum"]) == SEVERITIES
    assert get_args(Severity) == SEVERITIES
    assert SEVERITIES_MOST_FIRST == ("critical", "high", "medium", "low")


def test_reference_column_types_are_column_types() -> None:
    assert set(_schema()["$defs"]["type"]["enum"]) <= set(COLUMN_TYPES)


def test_the_lake_declares_its_tables_with_the_catalogs_names() -> None:
    from ctc.sinks.lake.tables import CORE_TABLES, GAPS

    assert tuple(t.name for t in CORE_TABLES) == CORE_LAKE_TABLES
    assert (*CORE_LAKE_TABLES, GAPS.name) == OWN_LAKE_TABLES


@pytest.mark.parametrize("name", OWN_LAKE_TABLES)
def test_ctcs_own_tables_are_reserved(name: str) -> None:
    problem = reserved_name_problem(name, "output table")
    assert problem is not None and f"'{name}' is reserved" in problem


def test_the_lake_takes_every_column_type() -> None:
    from ctc.sinks.lake.iceberg_schema import iceberg_type
    from ctc.sinks.lake.tables import spark_type

    for name in COLUMN_TYPES:
        assert spark_type(name) == name
        assert iceberg_type(name) is not None


@pytest.mark.parametrize(
    ("item", "type_name", "why"),
    [
        ("day(x)", "double", "day() needs a timestamp or date column"),
        ("hour(x)", "date", "hour() needs a timestamp column"),
        ("x", "double", None),
        ("month(x)", "date", None),
        ("hours(x)", "timestamp", None),
    ],
)
def test_partition_types(item: str, type_name: str, why: str | None) -> None:
    column, transform = parse_partition(item)
    problem = partition_type_problem(item, column, transform, type_name)
    assert (problem is None) if why is None else (why in (problem or ""))
