"""A :class:`TableDef` as pyiceberg objects (schema, partition spec), and back.

Used by the local lake; the Spark-catalog lake speaks Spark SQL DDL instead
(:mod:`ctc.sinks.lake.spark_sql`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ctc.sinks.lake.tables import partition_field_name, spark_type

if TYPE_CHECKING:
    from pyiceberg.partitioning import PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.types import IcebergType


def iceberg_type(spark_name: str) -> IcebergType:
    """The Iceberg type of a Spark SQL type name (``timestamp`` → ``timestamptz``)."""
    from pyiceberg.types import (
        BooleanType,
        DateType,
        DoubleType,
        FloatType,
        IntegerType,
        LongType,
        StringType,
        TimestamptzType,
    )

    mapping: dict[str, IcebergType] = {
        "string": StringType(),
        "double": DoubleType(),
        "float": FloatType(),
        "bigint": LongType(),
        "int": IntegerType(),
        "boolean": BooleanType(),
        "timestamp": TimestamptzType(),
        "date": DateType(),
    }
    return mapping[spark_type(spark_name)]


def spark_name(t: IcebergType) -> str:
    """The canonical Spark SQL name of an Iceberg type (``long`` → ``bigint``)."""
    names = {
        "string": "string",
        "double": "double",
        "float": "float",
        "long": "bigint",
        "int": "int",
        "boolean": "boolean",
        "timestamptz": "timestamp",
        "timestamp": "timestamp_ntz",
        "date": "date",
    }
    return names.get(str(t), str(t))


def build_schema(columns: Sequence[tuple[str, str]]) -> Schema:
    """An Iceberg schema of optional fields from ``(name, Spark SQL type)`` pairs
    (checked beforehand by :func:`ctc.sinks.lake.tables.validate`)."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import NestedField

    fields = [
        NestedField(field_id=i, name=name, field_type=iceberg_type(t), required=False)
        for i, (name, t) in enumerate(columns, start=1)
    ]
    return Schema(*fields)


def build_partition_spec(schema: Schema, partitioning: Sequence[tuple[str, str]]) -> PartitionSpec:
    """The partition spec of validated ``(column, transform)`` pairs over ``schema``."""
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.transforms import (
        DayTransform,
        HourTransform,
        IdentityTransform,
        MonthTransform,
        Transform,
        YearTransform,
    )

    transforms: dict[str, Transform[Any, Any]] = {
        "identity": IdentityTransform(),
        "year": YearTransform(),
        "month": MonthTransform(),
        "day": DayTransform(),
        "hour": HourTransform(),
    }
    fields = [
        PartitionField(
            source_id=schema.find_field(column).field_id,
            field_id=1000 + i,
            transform=transforms[transform],
            name=partition_field_name(column, transform),
        )
        for i, (column, transform) in enumerate(partitioning)
    ]
    return PartitionSpec(*fields)


def table_columns(table: Table) -> list[tuple[str, str]]:
    """A pyiceberg table's columns as ``(name, canonical Spark type)``."""
    return [(f.name, spark_name(f.field_type)) for f in table.schema().fields]


def table_partitioning(table: Table) -> tuple[tuple[str, str], ...]:
    """A pyiceberg table's current partitioning as ``(column, transform)`` pairs."""
    schema = table.schema()
    return tuple(
        (schema.find_column_name(f.source_id) or "?", str(f.transform)) for f in table.spec().fields
    )
