"""Checks of a fragment's size and count arguments (lpad lengths, decimals, format widths,
LIKE wildcards …): literals within the bounds of :mod:`ctc.dsl.limits`, so no row can be
made huge."""

from __future__ import annotations

import math
import re

from sqlglot import exp

from ctc.compiler.fragments.positions import FragmentError, node_position
from ctc.compiler.functions import function_name
from ctc.dsl.limits import (
    MAX_DECIMALS,
    MAX_LIKE_WILDCARDS,
    MAX_NTILE_BUCKETS,
    MAX_PERCENTILE_ACCURACY,
    MAX_TEXT_LENGTH,
    MIN_APPROX_RSD,
)


def _args(node: exp.Expr) -> list[exp.Expr]:
    """A function's arguments in the order they are written."""
    if isinstance(node, exp.Anonymous):
        return list(node.expressions)
    out: list[exp.Expr] = []
    for key in node.arg_types:
        value = node.args.get(key)
        if isinstance(value, exp.Expr):
            out.append(value)
        elif isinstance(value, list):
            out += [v for v in value if isinstance(v, exp.Expr)]
    return out


def _number(node: exp.Expr) -> float | None:
    """The value of a numeric literal (``-3`` included), or None for anything else."""
    sign = 1
    while isinstance(node, exp.Paren | exp.Neg):
        if isinstance(node, exp.Neg):
            sign = -sign
        node = node.this
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            value = float(node.this)
        except ValueError:
            return None
        return sign * value if math.isfinite(value) else None
    return None


def _bounded(
    node: exp.Expr, text: str, what: str, low: float, high: float, whole: bool = True
) -> None:
    """``node`` must be a literal number in [low, high] (a whole one if ``whole``)."""
    value = _number(node)
    ok = value is not None and low <= value <= high and (not whole or value == int(value))
    if not ok:
        line, col = node_position(node, text)
        kind = "a whole number" if whole else "a number"
        raise FragmentError(
            line, col, f"{what} must be {kind} from {low:g} to {high:g} (a literal or a param)"
        )


#: Java format specifiers: %[index$][flags][width][.precision]conversion
_FORMAT_SPEC = re.compile(r"%(\d+\$)?([-#+ 0,(<]*)(\d+)?(\.\d+)?([a-zA-Z%])?")


def check_bounds(tree: exp.Expr, text: str) -> None:
    """Bound every argument that sets a size or a count, so no row can be made huge."""
    for node in tree.walk():
        name = function_name(node) if isinstance(node, exp.Func) else ""
        args = _args(node) if isinstance(node, exp.Func) else []
        if isinstance(node, exp.Pad) and len(args) > 1:
            pad = "lpad" if node.args.get("is_left") else "rpad"
            _bounded(args[1], text, f"the length of {pad}", 0, MAX_TEXT_LENGTH)
        elif isinstance(node, exp.Anonymous) and name == "ntile" and args:
            _bounded(args[0], text, "the number of buckets of ntile", 1, MAX_NTILE_BUCKETS)
        elif name in ("round", "bround") and len(args) > 1:
            _bounded(args[1], text, f"the decimals of {name}", -MAX_DECIMALS, MAX_DECIMALS)
        elif name == "format_number" and len(args) > 1:
            fmt = args[1]
            if isinstance(fmt, exp.Literal) and fmt.is_string:
                if len(fmt.this) > MAX_DECIMALS + 20:
                    line, col = node_position(fmt, text)
                    raise FragmentError(line, col, "the format of format_number is too long")
            else:
                _bounded(fmt, text, "the decimals of format_number", 0, MAX_DECIMALS)
        elif isinstance(node, exp.Format):
            _check_format_string(node, text)
        elif isinstance(node, exp.ApproxQuantile) and node.args.get("accuracy") is not None:
            _bounded(
                node.args["accuracy"],
                text,
                "the accuracy of percentile_approx",
                1,
                MAX_PERCENTILE_ACCURACY,
            )
        elif isinstance(node, exp.ApproxDistinct) and node.args.get("accuracy") is not None:
            _bounded(
                node.args["accuracy"],
                text,
                "the relative error of approx_count_distinct",
                MIN_APPROX_RSD,
                1,
                whole=False,
            )
        elif isinstance(node, exp.Like | exp.ILike):
            pattern = node.expression
            if not (isinstance(pattern, exp.Literal) and pattern.is_string):
                line, col = node_position(pattern, text)
                raise FragmentError(line, col, "a LIKE pattern must be a text literal")
            if pattern.this.count("%") > MAX_LIKE_WILDCARDS:
                line, col = node_position(pattern, text)
                raise FragmentError(
                    line,
                    col,
                    f"a LIKE pattern may have at most {MAX_LIKE_WILDCARDS} '%' wildcards",
                )


def _check_format_string(node: exp.Expr, text: str) -> None:
    """format_string: a literal format whose widths and precisions are bounded."""
    fmt = node.this
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        line, col = node_position(node, text)
        raise FragmentError(line, col, "the format of format_string must be a text literal")
    for m in _FORMAT_SPEC.finditer(fmt.this):
        for part in (m.group(3), (m.group(4) or "")[1:]):
            if part and int(part) > MAX_TEXT_LENGTH:
                line, col = node_position(fmt, text)
                raise FragmentError(
                    line,
                    col,
                    f"format_string widths and precisions must be at most {MAX_TEXT_LENGTH}, "
                    f"got {part}",
                )
