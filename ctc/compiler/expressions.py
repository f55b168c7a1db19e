"""Parse, check and rewrite one SQL fragment of a spec.

A fragment must be a single Spark SQL *expression* over known columns:
no statements, no subqueries, no tables, only allow-listed functions.
``params.<name>`` is replaced by the param's literal value. Division is
rewritten to ``try_divide`` so that a zero divisor yields NULL (and NULL
never alerts) instead of failing the query under ANSI mode.
"""

from __future__ import annotations

import difflib
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError
from sqlglot.tokens import Token, TokenType

from ctc.compiler.functions import (
    BASELINE_FUNCTIONS,
    function_name,
    is_aggregate,
    is_allowed_function,
)
from ctc.dsl.errors import Position, SpecError
from ctc.dsl.limits import (
    MAX_DECIMALS,
    MAX_EXPRESSION_DEPTH,
    MAX_FRAGMENT_CHARS,
    MAX_FRAGMENT_TOKENS,
    MAX_LIKE_WILDCARDS,
    MAX_NESTING,
    MAX_PERCENTILE_ACCURACY,
    MAX_TEXT_LENGTH,
    MIN_APPROX_RSD,
)
from ctc.dsl.model import ParamValue, Spec, Sql

DIALECT = "spark"

# sqlglot logs warnings (unsupported syntax, "falling back to parsing as a Command") on
# stderr; every such case is turned into a positioned spec error here instead.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

#: Non-function node types a fragment may contain.
_ALLOWED_NODES: tuple[type[exp.Expr], ...] = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.Neg,
    exp.Not,
    exp.And,
    exp.Or,
    exp.EQ,
    exp.NEQ,
    exp.NullSafeEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.IntDiv,
    exp.Case,
    exp.If,
    exp.In,
    exp.Between,
    exp.Is,
    exp.Like,
    exp.ILike,
    exp.Cast,
    exp.TryCast,
    exp.DataType,
    exp.DataTypeParam,
    exp.Interval,
    exp.Var,
    exp.Filter,
    exp.Where,
    exp.Distinct,
    exp.Tuple,
    exp.PropertyEQ,
    exp.Alias,
    exp.Star,
    exp.SafeDivide,
    exp.JSONPath,
    exp.JSONPathRoot,
    exp.JSONPathKey,
    exp.JSONPathSubscript,
)


@dataclass
class Scope:
    """What a fragment may refer to: columns (name → Spark type) and qualified tables."""

    columns: Mapping[str, str]
    tables: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    aggregates: bool = False
    baseline: bool = False
    group_columns: frozenset[str] = frozenset()
    what: str = "this expression"


class FragmentError(Exception):
    """A problem at an offset (1-based line, col) inside the fragment text."""

    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.col = col
        self.message = message


def _offset_to_linecol(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n") + 1
    col = offset - (before.rfind("\n") + 1) + 1
    return line, col


def _node_position(node: exp.Expr, text: str) -> tuple[int, int]:
    """Best position of ``node`` inside ``text``: its own or a descendant's token offset."""
    for n in node.walk():
        meta = getattr(n, "_meta", None) or {}
        if "start" in meta:
            return _offset_to_linecol(text, int(meta["start"]))
    # functions carry no token offsets: find the name in the text
    name = function_name(node) if isinstance(node, exp.Func) else node.sql(DIALECT)
    idx = text.lower().find(name.lower().split("(")[0])
    return _offset_to_linecol(text, max(idx, 0))


def _literal(value: ParamValue) -> exp.Expr:
    """A param's SQL literal: never a bare word that a spec could define as a column."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FragmentError(1, 1, f"params must be finite numbers, got {value!r}")
        return exp.Literal.number(repr(value))
    if isinstance(value, int):
        return exp.Literal.number(str(value))
    return exp.Literal.string(value)


def _suggest(name: str, options: list[str]) -> str:
    hint = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f" (did you mean '{hint[0]}'?)" if hint else ""


def _tokens(text: str) -> list[Token]:
    """Tokenize ``text`` (sqlglot's tokenizer does not recurse); bound size and nesting.

    sqlglot's parser and generator recurse once or more per level of nesting, so
    brackets, CASE and NOT are counted here, before parsing, to keep a crafted fragment
    from exhausting Python's stack.
    """
    if len(text) > MAX_FRAGMENT_CHARS:
        raise FragmentError(
            1, 1, f"SQL fragment too long: more than {MAX_FRAGMENT_CHARS} characters"
        )
    try:
        tokens = Spark().tokenize(text)
    except TokenError as exc:
        raise FragmentError(1, 1, f"SQL syntax error: {str(exc).splitlines()[0][:200]}") from exc
    if len(tokens) > MAX_FRAGMENT_TOKENS:
        line, col = _offset_to_linecol(text, tokens[MAX_FRAGMENT_TOKENS].start)
        raise FragmentError(
            line, col, f"SQL fragment too long: more than {MAX_FRAGMENT_TOKENS} tokens"
        )
    # nesting: ( and CASE open a level, ) and END close it; each NOT or unary sign nests
    # until the level it is in closes
    levels: list[int] = [0]
    depth = 0
    previous: Token | None = None
    for tok in tokens:
        kind = tok.token_type
        if kind in (TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.CASE):
            levels.append(0)
            depth += 1
        elif kind in (TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.END) and len(levels) > 1:
            depth -= 1 + levels.pop()
        elif kind == TokenType.NOT or (
            kind in (TokenType.DASH, TokenType.PLUS)
            and (previous is None or previous.token_type not in _OPERAND_END)
        ):
            levels[-1] += 1
            depth += 1
        if depth > MAX_NESTING:
            line, col = _offset_to_linecol(text, tok.start)
            raise FragmentError(
                line,
                col,
                f"expression nested too deeply: more than {MAX_NESTING} levels of "
                "brackets, CASE, NOT and signs",
            )
        previous = tok
    return tokens


#: Tokens after which + and - are binary operators, not signs.
_OPERAND_END = {
    TokenType.R_PAREN,
    TokenType.R_BRACKET,
    TokenType.END,
    TokenType.NUMBER,
    TokenType.STRING,
    TokenType.VAR,
    TokenType.IDENTIFIER,
    TokenType.NULL,
    TokenType.TRUE,
    TokenType.FALSE,
    TokenType.STAR,
}


def _depth(tree: exp.Expr) -> int:
    """The depth of ``tree``, counted without recursion."""
    deepest = 0
    stack: list[tuple[exp.Expr, int]] = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        stack += [(child, d + 1) for child in node.iter_expressions()]
    return deepest


def parse_fragment(text: str) -> exp.Expr:
    """Parse one Spark SQL expression; raise FragmentError on syntax or statements."""
    _tokens(text)
    try:
        trees = sqlglot.parse(text, read=DIALECT)
    except (ParseError, TokenError) as exc:
        errs = getattr(exc, "errors", None) or [{}]
        first = errs[0]
        desc = str(first.get("description") or exc).split("\n")[0]
        raise FragmentError(
            int(first.get("line") or 1), int(first.get("col") or 1), f"SQL syntax error: {desc}"
        ) from exc
    except RecursionError as exc:  # pragma: no cover - the nesting bound comes first
        raise FragmentError(1, 1, "expression nested too deeply") from exc
    except (SqlglotError, ValueError, TypeError, IndexError, ArithmeticError) as exc:
        # sqlglot fails with plain exceptions on some malformed input (map(x), 1BD …)
        raise FragmentError(1, 1, "SQL syntax error: this is not a valid expression") from exc
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise FragmentError(1, 1, "write one SQL expression, not several statements")
    tree = trees[0]
    assert tree is not None
    if isinstance(tree, exp.Query | exp.DDL | exp.DML | exp.Command | exp.Block):
        raise FragmentError(1, 1, "write an SQL expression here, not a statement")
    if _depth(tree) > MAX_EXPRESSION_DEPTH:
        raise FragmentError(
            1, 1, f"expression nested too deeply: more than {MAX_EXPRESSION_DEPTH} levels"
        )
    for node in tree.walk():
        node.comments = None  # comments never reach the generated SQL
    return tree


def check_fragment(text: str, params: Mapping[str, ParamValue], scope: Scope) -> exp.Expr:
    """Parse, check and rewrite ``text``; raise FragmentError at the first problem.

    Besides the allow-lists, every size and count argument (lpad, format_string widths,
    decimals, LIKE wildcards …) is bounded (see ctc.dsl.limits), and the result must be
    expressible in Spark SQL exactly (sqlglot may not drop an argument it cannot write).
    """
    tree = parse_fragment(text)
    try:
        tree = _check(tree, text, params, scope)
        _check_bounds(tree, text)
        tree.sql(DIALECT, unsupported_level=ErrorLevel.RAISE)
    except FragmentError:
        raise
    except SqlglotError as exc:
        first = str(exc).splitlines()[0][:200]
        raise FragmentError(1, 1, f"cannot be written as Spark SQL: {first}") from exc
    except (ValueError, TypeError, IndexError, ArithmeticError, RecursionError) as exc:
        raise FragmentError(
            1, 1, f"cannot be written as Spark SQL: {str(exc).splitlines()[0][:200]}"
        ) from exc
    return tree


def _check(tree: exp.Expr, text: str, params: Mapping[str, ParamValue], scope: Scope) -> exp.Expr:
    """The allow-list and scope checks of :func:`check_fragment`; params inlined."""
    inside_agg: set[int] = set()
    for node in tree.walk():
        if isinstance(node, exp.Subquery | exp.Query | exp.Table | exp.Lambda):
            line, col = _node_position(node, text)
            raise FragmentError(line, col, "subqueries and table reads are not allowed in a spec")
        if isinstance(node, exp.Func) and not isinstance(node, _ALLOWED_NODES):
            name = function_name(node)
            if not is_allowed_function(node):
                line, col = _node_position(node, text)
                raise FragmentError(
                    line,
                    col,
                    f"function '{name}' is not allowed "
                    "(see the function allow-list in docs/dsl.md)",
                )
            if is_aggregate(node):
                if not scope.aggregates:
                    line, col = _node_position(node, text)
                    raise FragmentError(
                        line,
                        col,
                        f"aggregate function '{name}' is only allowed "
                        "in aggregate: and baseline.stats:",
                    )
                if scope.baseline and name not in BASELINE_FUNCTIONS:
                    line, col = _node_position(node, text)
                    raise FragmentError(
                        line,
                        col,
                        f"baseline.stats may use only "
                        f"{', '.join(BASELINE_FUNCTIONS)}; got '{name}'",
                    )
                inside_agg.update(id(n) for n in node.walk())
        elif not isinstance(node, _ALLOWED_NODES):
            line, col = _node_position(node, text)
            raise FragmentError(
                line, col, f"'{node.sql(DIALECT)[:40]}' is not allowed in a spec expression"
            )
        if isinstance(node, exp.Filter) and is_aggregate(node.this):
            inside_agg.update(id(n) for n in node.walk())  # agg(x) FILTER (WHERE cond)
        if isinstance(node, exp.In) and node.args.get("query"):
            line, col = _node_position(node, text)
            raise FragmentError(line, col, "IN (subquery) is not allowed")
        if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count):
            line, col = _node_position(node, text)
            raise FragmentError(line, col, "'*' is only allowed in count(*)")

    param_at: dict[int, tuple[str, int, int]] = {}

    def resolve(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column):
            new = _resolve_column(node, text, params, scope, id(node) in inside_agg)
            if new is not node:
                param_at[id(new)] = (node.name, *_node_position(node, text))
            return new
        return node

    tree = tree.transform(resolve, copy=False)
    _check_types(tree, scope, param_at)
    return _unwrap_atoms(_safe_divisions(tree))


_ATOMS = (exp.Column, exp.Literal, exp.Boolean, exp.Null)


def _unwrap_atoms(tree: exp.Expr) -> exp.Expr:
    """Drop brackets around a single column or literal: ``(flag)`` → ``flag``.

    Spark reads ``FROM v WHERE (flag)`` as the table alias ``WHERE`` with a column alias
    list, so generated SQL must never put a lone name in brackets.
    """
    for paren in list(tree.find_all(exp.Paren)):
        inner = paren.this
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, _ATOMS):
            if paren is tree:
                return inner
            paren.replace(inner)
    return tree


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
        line, col = _node_position(node, text)
        kind = "a whole number" if whole else "a number"
        raise FragmentError(
            line, col, f"{what} must be {kind} from {low:g} to {high:g} (a literal or a param)"
        )


#: Java format specifiers: %[index$][flags][width][.precision]conversion
_FORMAT_SPEC = re.compile(r"%(\d+\$)?([-#+ 0,(<]*)(\d+)?(\.\d+)?([a-zA-Z%])?")


def _check_bounds(tree: exp.Expr, text: str) -> None:
    """Bound every argument that sets a size or a count, so no row can be made huge."""
    for node in tree.walk():
        name = function_name(node) if isinstance(node, exp.Func) else ""
        args = _args(node) if isinstance(node, exp.Func) else []
        if isinstance(node, exp.Pad) and len(args) > 1:
            pad = "lpad" if node.args.get("is_left") else "rpad"
            _bounded(args[1], text, f"the length of {pad}", 0, MAX_TEXT_LENGTH)
        elif name in ("round", "bround") and len(args) > 1:
            _bounded(args[1], text, f"the decimals of {name}", -MAX_DECIMALS, MAX_DECIMALS)
        elif name == "format_number" and len(args) > 1:
            fmt = args[1]
            if isinstance(fmt, exp.Literal) and fmt.is_string:
                if len(fmt.this) > MAX_DECIMALS + 20:
                    line, col = _node_position(fmt, text)
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
                line, col = _node_position(pattern, text)
                raise FragmentError(line, col, "a LIKE pattern must be a text literal")
            if pattern.this.count("%") > MAX_LIKE_WILDCARDS:
                line, col = _node_position(pattern, text)
                raise FragmentError(
                    line,
                    col,
                    f"a LIKE pattern may have at most {MAX_LIKE_WILDCARDS} '%' wildcards",
                )


def _check_format_string(node: exp.Expr, text: str) -> None:
    """format_string: a literal format whose widths and precisions are bounded."""
    fmt = node.this
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        line, col = _node_position(node, text)
        raise FragmentError(line, col, "the format of format_string must be a text literal")
    for m in _FORMAT_SPEC.finditer(fmt.this):
        for part in (m.group(3), (m.group(4) or "")[1:]):
            if part and int(part) > MAX_TEXT_LENGTH:
                line, col = _node_position(fmt, text)
                raise FragmentError(
                    line,
                    col,
                    f"format_string widths and precisions must be at most {MAX_TEXT_LENGTH}, "
                    f"got {part}",
                )


def _safe_divisions(tree: exp.Expr) -> exp.Expr:
    """Rewrite every division, nested ones included, to TRY_DIVIDE (NULL on a zero divisor)."""
    for div in reversed(list(tree.find_all(exp.Div))):  # deepest first
        safe = exp.SafeDivide(this=div.this, expression=div.expression)
        if div is tree:
            return safe
        div.replace(safe)
    return tree


_NUMERIC = {"double", "float", "bigint", "int", "smallint", "tinyint", "decimal"}
_COMPARE = (
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.EQ,
    exp.NEQ,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
)


def _kind(node: exp.Expr, scope: Scope) -> str | None:
    """'number', 'text', 'boolean', 'timestamp' or None (unknown) for simple expressions."""
    if isinstance(node, exp.Paren):
        return _kind(node.this, scope)
    if isinstance(node, exp.Literal):
        return "text" if node.is_string else "number"
    if isinstance(node, exp.Boolean):
        return "boolean"
    if isinstance(node, exp.Column) and not node.table:
        t = scope.columns.get(node.name, "")
        if t in _NUMERIC:
            return "number"
        return {"string": "text", "boolean": "boolean", "timestamp": "timestamp"}.get(t)
    if isinstance(
        node,
        exp.Add
        | exp.Sub
        | exp.Mul
        | exp.Div
        | exp.Mod
        | exp.Neg
        | exp.Abs
        | exp.Sum
        | exp.Avg
        | exp.Count
        | exp.Stddev
        | exp.StddevSamp,
    ):
        return "number"
    return None


def _check_types(tree: exp.Expr, scope: Scope, param_at: dict[int, tuple[str, int, int]]) -> None:
    """Reject comparisons and arithmetic that mix numbers with text or true/false."""
    for node in tree.walk():
        if not isinstance(node, _COMPARE):
            continue
        left, right = node.this, node.expression
        kl, kr = _kind(left, scope), _kind(right, scope)
        if kl is None or kr is None or kl == kr or {kl, kr} == {"timestamp", "text"}:
            continue
        for side, other, k_side, k_other in ((left, right, kl, kr), (right, left, kr, kl)):
            if id(side) in param_at:
                name, line, col = param_at[id(side)]
                raise FragmentError(
                    line,
                    col,
                    f"params.{name} is {_WORDS[k_side]} "
                    f"({side.sql(DIALECT)}) but is used with "
                    f"{other.sql(DIALECT)}, which is {_WORDS[k_other]}",
                )
        line, col = _node_position(node, "")
        raise FragmentError(
            1,
            1,
            f"type mismatch: {left.sql(DIALECT)} is {_WORDS[kl]} but "
            f"{right.sql(DIALECT)} is {_WORDS[kr]}",
        )


_WORDS = {"number": "a number", "text": "text", "boolean": "true/false", "timestamp": "a timestamp"}


def _resolve_column(
    node: exp.Column, text: str, params: Mapping[str, ParamValue], scope: Scope, in_agg: bool
) -> exp.Expr:
    parts = [p.name for p in node.parts]
    line, col = _node_position(node, text)
    if len(parts) == 2 and parts[0] == "params":
        name = parts[1]
        if name not in params:
            raise FragmentError(
                line,
                col,
                f"unknown param '{name}'{_suggest(name, sorted(params))}; declare it under params:",
            )
        return _literal(params[name])
    if len(parts) == 2 and parts[0] in scope.tables:
        table, name = parts
        cols = scope.tables[table]
        if name not in cols:
            raise FragmentError(
                line,
                col + len(table) + 1,
                f"unknown column '{name}' of {table}{_suggest(name, sorted(cols))}",
            )
        return node
    if len(parts) > 1:
        raise FragmentError(
            line,
            col,
            f"unknown table '{'.'.join(parts[:-1])}': refer to columns "
            "by name, to params as params.<name>"
            + (
                f", to {', '.join(sorted(scope.tables))} as <table>.<column>"
                if scope.tables
                else ""
            ),
        )
    name = parts[0]
    if name not in scope.columns:
        raise FragmentError(
            line,
            col,
            f"unknown column '{name}' in {scope.what}{_suggest(name, sorted(scope.columns))}",
        )
    if scope.aggregates and not in_agg and name not in scope.group_columns:
        raise FragmentError(
            line,
            col,
            f"column '{name}' must be inside an aggregate function "
            "(e.g. sum, avg, count) or be a group_by column",
        )
    return node


def fragment_error(spec: Spec, sql: Sql, err: FragmentError) -> SpecError:
    """Turn a FragmentError inside ``sql`` into a positioned SpecError of the spec file."""
    pos = spec.located.offset_position(sql.path, err.line, err.col)
    return SpecError(spec.path, pos, err.message)


def error_at(spec: Spec, path: tuple[str | int, ...], message: str, key: bool = False) -> SpecError:
    """A SpecError at the YAML node (or its key) at ``path``."""
    loc = spec.located
    pos: Position = loc.key_at(path) if key else loc.at(path)
    return SpecError(spec.path, pos, message)


def to_sql(node: exp.Expr) -> str:
    """Spark SQL text of an expression, on one line."""
    return node.sql(DIALECT)
