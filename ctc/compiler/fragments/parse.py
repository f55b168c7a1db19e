"""Parse one SQL fragment: bounded in size and nesting before sqlglot reads it."""

from __future__ import annotations

import logging
from typing import ClassVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.errors import ParseError, SqlglotError, TokenError
from sqlglot.tokens import Token, TokenType

from ctc.compiler.fragments.positions import FragmentError, offset_to_linecol
from ctc.dsl.limits import (
    MAX_EXPRESSION_DEPTH,
    MAX_FRAGMENT_CHARS,
    MAX_FRAGMENT_TOKENS,
    MAX_NESTING,
)


class _SpecSpark(Spark):
    """Spark SQL as a spec writes it: also the rank forms ``ntile(n, x)`` and ``desc(x)``
    (Spark's ``NTILE(n)`` takes no value, and ``DESC`` is a keyword), read as anonymous
    calls that only a rank in ``derive:`` accepts (ctc.compiler.passes.ranks)."""

    class Parser(Spark.Parser):  # type: ignore[misc,valid-type]
        FUNC_TOKENS: ClassVar = {*Spark.Parser.FUNC_TOKENS, TokenType.DESC}
        FUNCTIONS: ClassVar = {
            **Spark.Parser.FUNCTIONS,
            "NTILE": lambda args: exp.Anonymous(this="NTILE", expressions=args),
            "DESC": lambda args: exp.Anonymous(this="DESC", expressions=args),
        }


# sqlglot logs warnings (unsupported syntax, "falling back to parsing as a Command") on
# stderr; every such case is turned into a positioned spec error here instead.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

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
        line, col = offset_to_linecol(text, tokens[MAX_FRAGMENT_TOKENS].start)
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
            line, col = offset_to_linecol(text, tok.start)
            raise FragmentError(
                line,
                col,
                f"expression nested too deeply: more than {MAX_NESTING} levels of "
                "brackets, CASE, NOT and signs",
            )
        previous = tok
    return tokens


def tree_depth(tree: exp.Expr) -> int:
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
        trees = sqlglot.parse(text, read=_SpecSpark)
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
    if isinstance(tree, exp.Describe):
        raise FragmentError(
            1,
            1,
            "desc(x) ranks descending only inside a rank: percent_rank(desc(x)), "
            "rank(desc(x)), dense_rank(desc(x)), ntile(n, desc(x))",
        )
    if isinstance(tree, exp.Query | exp.DDL | exp.DML | exp.Command | exp.Block):
        raise FragmentError(1, 1, "write an SQL expression here, not a statement")
    if tree_depth(tree) > MAX_EXPRESSION_DEPTH:
        raise FragmentError(
            1, 1, f"expression nested too deeply: more than {MAX_EXPRESSION_DEPTH} levels"
        )
    for node in tree.walk():
        node.comments = None  # comments never reach the generated SQL
    return tree
