"""The enrich pass: stream-static left joins with reference tables, one stage each."""

from __future__ import annotations

from ctc.compiler.catalog import reserved_name_problem
from ctc.compiler.expressions import Scope
from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.plan import Stage, StageKind
from ctc.compiler.sql_text import INDENT, qualify, quote, select, to_sql


def run(ctx: LoweringContext) -> None:
    """Add one left-join stage per ``enrich:`` entry, with its new columns."""
    for i, en in enumerate(ctx.spec.enrich):
        problem = reserved_name_problem(en.reference.name, "reference")
        if problem:
            ctx.err(("enrich", i, "reference", "name"), problem)
        columns = ctx.columns
        ref_cols = dict(en.reference.columns)
        scope = Scope(columns, tables={en.reference.name: ref_cols}, what=f"enrich[{i}]")
        on = ctx.frag(en.on, scope)
        new_items = []
        ctx.new_names([(n, ("enrich", i, "columns", n)) for n, _ in en.columns], columns)
        added: dict[str, str] = {}
        for name, sql in en.columns:
            tree = ctx.frag(sql, scope)
            if tree is not None:
                new_items.append(f"{to_sql(qualify(tree, 'src', columns))} AS {quote(name)}")
                added[name] = ctx.typed(
                    tree, sql, f"enrich[{i}].{name}", columns, {en.reference.name: ref_cols}
                )
        if on is None:
            continue
        items = [f"src.{quote(c)}" for c in columns] + new_items
        join = [
            f"LEFT JOIN {en.reference.name}",
            f"{INDENT}ON {to_sql(qualify(on, 'src', columns))}",
        ]
        ctx.advance(
            Stage(
                StageKind.ENRICH,
                ctx.view(f"enrich_{en.reference.name}"),
                (ctx.current, en.reference.name),
                select(items, f"{ctx.current} AS src", joins=join),
                f"left join with reference {en.reference.name}",
                f"stream-static join; {en.reference.name} reloaded {en.reference.refresh}",
                tuple({**columns, **added}.items()),
            )
        )
