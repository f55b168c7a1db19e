"""Rows for the Spark-catalog lake: a DataFrame aligned to a table's columns, lazily.

Everything here is a Spark transformation or reads a schema: no job runs and no row
reaches the driver. The same rules as the local lake's :func:`ctc.sinks.lake.arrow_rows.conform`:
table columns missing from the rows are null, a column the table lacks or a value of the
wrong kind is a :class:`LakeSchemaError` (raised before anything is written).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from ctc.sinks.lake.base import LakeSchemaError
from ctc.sinks.lake.tables import ARROW_TIMESTAMP, WRITABLE, column_kind

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import DataType


def spark_kind(t: DataType) -> str:
    """The kind of a Spark data type, as :data:`ctc.sinks.lake.tables.WRITABLE` names it."""
    from pyspark.sql import types as T

    kinds: tuple[tuple[type[DataType] | tuple[type[DataType], ...], str], ...] = (
        (T.NullType, "null"),
        ((T.TimestampType, T.TimestampNTZType), "timestamp"),
        (T.DateType, "date"),
        ((T.ByteType, T.ShortType, T.IntegerType, T.LongType), "integer"),
        ((T.FloatType, T.DoubleType), "float"),
        (T.DecimalType, "decimal"),
        (T.BooleanType, "boolean"),
        ((T.StringType, T.VarcharType, T.CharType), "string"),
    )
    for types, kind in kinds:
        if isinstance(t, types):
            return kind
    return t.simpleString()


def align(frame: DataFrame, columns: Sequence[tuple[str, str]]) -> DataFrame:
    """``frame`` as the table's columns ``(name, canonical Spark type)``, in table order.

    Each column is cast to its table type (Spark's cast; a ``timestamp_ntz`` is read in
    the session's zone, UTC for ctc); a table column the frame lacks is a typed null.
    """
    from pyspark.sql import functions as F

    names = frame.columns
    if len(set(names)) != len(names):
        dup = sorted({c for c in names if names.count(c) > 1})
        raise LakeSchemaError(f"rows repeat columns {dup}")
    table_types = dict(columns)
    extra = [c for c in names if c not in table_types]
    if extra:
        raise LakeSchemaError(
            f"rows have columns the table lacks: {extra}; add them with ensure_table first"
        )
    source = {f.name: f.dataType for f in frame.schema.fields}
    out = []
    for name, type_name in columns:
        if name not in source:
            out.append(F.lit(None).cast(type_name).alias(name))
            continue
        kind, target = spark_kind(source[name]), column_kind(type_name)
        if kind != "null" and kind not in WRITABLE.get(target, {target}):
            raise LakeSchemaError(
                f"column {name!r}: cannot write Spark {source[name].simpleString()} "
                f"into a {type_name} column"
            )
        out.append(F.col(f"`{name}`").cast(type_name).alias(name))
    return frame.select(*out)


def arrow_for_spark(rows: pa.Table) -> pa.Table:
    """Arrow rows Spark can take as they are: dictionaries decoded, timestamps as
    ``timestamp[us, tz=UTC]`` (naive ones read as UTC; nanoseconds truncated)."""
    arrays = []
    for column in rows.columns:
        t = column.type
        if pa.types.is_dictionary(t):
            column = column.cast(t.value_type)
            t = column.type
        if pa.types.is_timestamp(t):
            if t.tz is None or t.unit != "us":
                column = column.cast(pa.timestamp(t.unit, tz="UTC"))
            column = column.cast(ARROW_TIMESTAMP, safe=False)
        arrays.append(column)
    return pa.Table.from_arrays(arrays, names=rows.column_names)
