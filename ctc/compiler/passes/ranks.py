"""Ranks across the keys of a window, in ``derive:``: ``percent_rank(x)``, ``rank(x)``,
``dense_rank(x)`` and ``ntile(n, x)`` (``desc(x)`` ranks descending) become window
functions over the rows of the same window, every key.

``x`` is ranked among the rows of the same ``window_start`` whose ``x`` is not NULL; a row
whose ``x`` is NULL gets a NULL rank and does not count for the others. ``ntile`` breaks
ties by the group_by columns, so its buckets do not depend on the order Spark reads the
rows in (the other ranks give tied rows the same rank).

In streaming the derive stage runs over the windows that close in the micro-batch; windows
are epoch-aligned and a plan has one watermark, so every key's window of one start closes
in the same micro-batch, and the ranks are those of the batch.
"""

from __future__ import annotations

from sqlglot import exp

from ctc.compiler.fragments.positions import FragmentError, node_position
from ctc.compiler.functions import DESCENDING, rank_name
from ctc.compiler.sql_text import identifier

#: The column that identifies a window among the derive stage's rows.
WINDOW_COLUMN = "window_start"

_FUNCTIONS: dict[str, type[exp.Func]] = {
    "percent_rank": exp.PercentRank,
    "rank": exp.Rank,
    "dense_rank": exp.DenseRank,
}


def _ranked(node: exp.Expr) -> tuple[exp.Expr, bool]:
    """The value a rank node ranks, and whether descending (``desc(x)``)."""
    value = node.expressions[-1]
    if rank_name(value) == DESCENDING:
        return value.expressions[0], True
    return value, False


def _window(rank: str, node: exp.Expr, keys: tuple[str, ...], text: str) -> exp.Expr:
    """The window function of the rank ``node``; NULL where the ranked value is NULL."""
    value, descending = _ranked(node)
    if value.find(exp.Window):
        line, col = node_position(node, text)
        raise FragmentError(
            line, col, f"{rank}() cannot rank a column computed by a rank: rank the value itself"
        )
    func: exp.Expr = (
        exp.Ntile(this=node.expressions[0].copy()) if rank == "ntile" else _FUNCTIONS[rank]()
    )
    is_null = exp.Is(this=value.copy(), expression=exp.Null())
    order = [exp.Ordered(this=value.copy(), desc=descending, nulls_first=not descending)]
    if rank == "ntile":
        order += [exp.Ordered(this=identifier(k), nulls_first=True) for k in keys]
    window = exp.Window(
        this=func,
        partition_by=[identifier(WINDOW_COLUMN), exp.Paren(this=is_null)],
        order=exp.Order(expressions=order),
        over="OVER",
    )
    return exp.Case(ifs=[exp.If(this=is_null.copy(), true=exp.Null())], default=window)


def over_window(tree: exp.Expr, keys: tuple[str, ...], text: str) -> exp.Expr:
    """``tree`` (a derive column, earlier ones written in) with each rank replaced by its
    window function over the rows of the same window; ``keys`` break ntile's ties.
    Raises FragmentError for a rank of a rank."""

    def replace(node: exp.Expr) -> exp.Expr:
        rank = rank_name(node)
        if rank is None or rank == DESCENDING:
            return node
        return _window(rank, node, keys, text)

    return tree.transform(replace, copy=True)


def has_rank(tree: exp.Expr) -> bool:
    """True when ``tree`` calls a rank."""
    return any(rank_name(n) not in (None, DESCENDING) for n in tree.walk())
