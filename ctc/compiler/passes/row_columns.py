"""Named row-level columns (``prepare:`` and ``derive:``): one SELECT adding them, each
may use the ones above it, which are written out into it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlglot import exp

from ctc.compiler.expressions import FragmentError, Scope, fragment_error
from ctc.compiler.fragments.infer_type import UNTYPED
from ctc.compiler.passes.context import LoweringContext
from ctc.compiler.plan import Stage, StageKind
from ctc.compiler.sql_text import quote, select, to_sql
from ctc.dsl.limits import MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_NODES
from ctc.dsl.model import Sql


def _own_columns(tree: exp.Expr) -> list[exp.Column]:
    """The unqualified columns ``tree`` reads."""
    return [c for c in tree.find_all(exp.Column) if not c.table]


def inlined_size(tree: exp.Expr, sizes: Mapping[str, tuple[int, int]]) -> tuple[int, int]:
    """(nodes, depth) of ``tree`` once the earlier columns in ``sizes`` are inlined into it,
    computed without building it: each column may use the ones above it twice, so the
    written-out expression can double with every column."""
    nodes, deepest = 0, 0
    stack: list[tuple[exp.Expr, int]] = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, exp.Column) and not node.table and node.name in sizes:
            n, below = sizes[node.name]
            nodes += n + 1  # the bracket around it
            deepest = max(deepest, d + below)
            continue
        nodes += 1
        deepest = max(deepest, d)
        stack += [(child, d + 1) for child in node.iter_expressions()]
    return nodes, deepest


#: A rewrite of a column's tree once the columns above it are written in (its text given
#: for error positions); raises FragmentError.
Rewrite = Callable[[exp.Expr, str], exp.Expr]


def row_stage(
    ctx: LoweringContext,
    kind: StageKind,
    entries: tuple[tuple[str, Sql], ...],
    note: str,
    ranks: bool = False,
    rewrite: Rewrite | None = None,
) -> None:
    """Add a SELECT of the current columns plus the named row-level ``entries`` (none:
    no stage). ``ranks``: the entries may rank (``derive:`` of a window spec), and
    ``rewrite`` turns each column's tree into its SQL (the ranks' window functions)."""
    if not entries:
        return
    columns = ctx.columns
    derived: dict[str, exp.Expr] = {}
    out = dict(columns)
    failed: set[str] = set()
    sizes: dict[str, tuple[int, int]] = {}  # (nodes, depth) of each, inlined
    items = [quote(c) for c in columns]
    for name, sql in entries:
        ctx.new_names([(name, (kind, name))], columns)
        scope = Scope(out, ranks=ranks, what=f"{kind}.{name}")
        tree = ctx.frag(sql, scope)
        if tree is None or any(c.name in failed for c in _own_columns(tree)):
            failed.add(name)  # reported already: no second error about its type
            derived[name] = exp.Null()
            out[name] = UNTYPED
            continue
        size, depth = inlined_size(tree, sizes)
        if size > MAX_EXPRESSION_NODES or depth > MAX_EXPRESSION_DEPTH:
            ctx.err(
                (kind, name),
                f"{kind}.{name} is too large once the {kind} columns it uses are "
                f"written out ({size} nodes, {depth} levels; at most "
                f"{MAX_EXPRESSION_NODES} and {MAX_EXPRESSION_DEPTH})",
            )
            failed.add(name)
            derived[name] = exp.Null()
            out[name] = UNTYPED
            sizes[name] = (1, 1)
            continue
        sizes[name] = (size, depth)
        tree = tree.transform(
            lambda n: (
                exp.Paren(this=derived[n.name].copy())
                if isinstance(n, exp.Column) and not n.table and n.name in derived
                else n
            ),
            copy=True,
        )
        if rewrite is not None:
            try:
                tree = rewrite(tree, sql.text)
            except FragmentError as err:
                ctx.errors.append(fragment_error(ctx.spec, sql, err))
                failed.add(name)
                derived[name] = exp.Null()
                out[name] = UNTYPED
                continue
        derived[name] = tree
        out[name] = ctx.typed(tree, sql, f"{kind}.{name}", columns)
        items.append(f"{to_sql(tree)} AS {quote(name)}")
    ctx.advance(
        Stage(
            kind,
            ctx.view(kind),
            (ctx.current,),
            select(items, ctx.current),
            note,
            "stateless",
            tuple(out.items()),
        )
    )
