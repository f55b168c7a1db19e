"""Arrow rows cast to a lake table's columns before pyiceberg writes them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from ctc.sinks.lake.base import LakeSchemaError
from ctc.sinks.lake.tables import WRITABLE

if TYPE_CHECKING:
    from pyiceberg.schema import Schema


def arrow_kind(t: pa.DataType) -> str:
    """The kind of an Arrow type, as :data:`ctc.sinks.lake.tables.WRITABLE` names it."""
    if pa.types.is_dictionary(t):
        return arrow_kind(t.value_type)
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    return str(t)


def _convert(
    name: str, column: pa.ChunkedArray, target: pa.DataType, n: int
) -> pa.ChunkedArray | pa.Array:
    """Cast one column to its table type, or raise LakeSchemaError saying why not."""
    source = column.type
    src_kind, dst_kind = arrow_kind(source), arrow_kind(target)
    if src_kind == "null":
        return pa.nulls(n, type=target)
    if src_kind not in WRITABLE.get(dst_kind, {dst_kind}):
        raise LakeSchemaError(
            f"column {name!r}: cannot write Arrow {source} into a {dst_kind} column"
        )
    if pa.types.is_dictionary(source):
        column = column.cast(source.value_type)
        source = column.type
    if dst_kind == "timestamp":
        if pa.types.is_timestamp(source):
            # a tz-aware timestamp is already an instant: relabelling it UTC keeps the
            # instant; a naive one is read as UTC (Spark's session zone is UTC).
            if source.tz is None or source.unit != "us":
                column = column.cast(pa.timestamp(source.unit, tz="UTC"))
            # ns → us drops the nanoseconds (Iceberg v2 stores microseconds)
            return column.cast(target, safe=False)
        return column.cast(target)  # date → midnight UTC
    try:
        return column.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise LakeSchemaError(f"column {name!r}: cannot cast {source} to {target}: {exc}") from exc


def conform(rows: pa.Table, schema: Schema) -> pa.Table:
    """``rows`` cast to the Arrow form of the Iceberg ``schema``.

    Timestamps become ``timestamp[us, tz=UTC]`` whatever their unit or zone (naive ones
    are taken as UTC; nanoseconds are truncated); integers and floats are cast to the
    declared width (safely: overflow or a lost fraction is an error); columns of the
    table missing from ``rows`` are null; a column of ``rows`` the table lacks is an error.
    """
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    target_schema = schema_to_pyarrow(schema, include_field_ids=False)
    names = rows.column_names
    if len(set(names)) != len(names):
        dup = sorted({c for c in names if names.count(c) > 1})
        raise LakeSchemaError(f"rows repeat columns {dup}")
    extra = [c for c in names if c not in target_schema.names]
    if extra:
        raise LakeSchemaError(
            f"rows have columns the table lacks: {extra}; add them with ensure_table first"
        )
    n = rows.num_rows
    arrays = []
    for field in target_schema:
        if field.name in names:
            arrays.append(_convert(field.name, rows.column(field.name), field.type, n))
        else:
            arrays.append(pa.nulls(n, type=field.type))
    nullable = pa.schema([f.with_nullable(True) for f in target_schema])
    return pa.Table.from_arrays(arrays, schema=nullable)
