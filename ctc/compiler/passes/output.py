"""The output pass: the rows written to the detector's lake table (all, or only those
an alert rule holds for), its name and partitioning checked against the catalog."""

from __future__ import annotations

from ctc.compiler.catalog import parse_partition, partition_type_problem, reserved_name_problem
from ctc.compiler.fragments.infer_type import UNTYPED
from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.plan import Stage, StageKind
from ctc.compiler.sql_text import bracketed, quote, select


def run(ctx: LoweringContext) -> None:
    """Add the output stage: the current columns plus ``detected_at``."""
    spec, detected = ctx.spec, ctx.detected_at
    out_cols = dict(ctx.columns)
    out_items = [quote(c) for c in ctx.columns]
    if "detected_at" not in out_cols and detected:
        out_items.append(f"{quote(detected)} AS detected_at")
        out_cols["detected_at"] = "timestamp"
    where = None
    if spec.output.rows == "alerted" and ctx.rules:
        # a per: row rule holds for event rows, not these (the window_rows pass says so)
        where = " OR ".join(bracketed(r.when_sql) for r in ctx.rules if r.per == "window")
    problem = reserved_name_problem(spec.output.table, "output table")
    if problem:
        ctx.err(("output", "table"), problem)
    for i, part in enumerate(spec.output.partition_by):
        _check_partition(ctx, i, part, out_cols)
    ctx.add(
        Stage(
            StageKind.OUTPUT,
            ctx.view("output"),
            (ctx.current,),
            select(out_items, ctx.current, where=where),
            f"rows for lake table {spec.output.table}" + (" (alerted rows only)" if where else ""),
            "stateless; appended to the lake table",
            tuple(out_cols.items()),
        )
    )


def _check_partition(ctx: LoweringContext, i: int, item: str, columns: dict[str, str]) -> None:
    """The ``partition_by`` item ``item`` must name an output column of a type its
    transform can partition."""
    at = ("output", "partition_by", i)
    try:
        column, transform = parse_partition(item)
    except ValueError as exc:
        ctx.err(at, str(exc))
        return
    if column not in columns:
        ctx.err(
            at,
            f"unknown column '{column}' in partition_by"
            " (output columns: " + ", ".join(columns) + ")",
        )
        return
    if columns[column] == UNTYPED:
        return  # its own error is reported already
    problem = partition_type_problem(item, column, transform, columns[column])
    if problem:
        ctx.err(at, problem)
