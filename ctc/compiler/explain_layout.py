"""The layout of ``ctc compile --explain``: prose wrapped and long SQL lines reflowed to a
readable width, so no line of an explanation runs to hundreds of characters."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

import sqlglot
from sqlglot.dialects.spark import Spark
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from ctc.compiler.sql_text import DIALECT

#: Stands for a space that may not break a line (inside a template placeholder).
_GLUE = "\x00"

#: The widest line an explanation prints (where a line can be broken at all).
WIDTH = 100


def fill(first: str, text: str, indent: int | None = None, width: int = WIDTH) -> list[str]:
    """``text`` after the prefix ``first``, wrapped at spaces (not at a :func:`glued`
    one); the lines after the first are indented to ``indent`` (default: the width of
    ``first``)."""
    lines = textwrap.wrap(
        text.replace("\n", " "),
        width,
        initial_indent=first,
        subsequent_indent=" " * (len(first) if indent is None else indent),
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first.rstrip()]
    return [line.replace(_GLUE, " ") for line in lines]


def glued(text: str) -> str:
    """``text`` with spaces :func:`fill` will not break a line at."""
    return text.replace(" ", _GLUE)


def fill_template(first: str, template: str, width: int = WIDTH) -> list[str]:
    """A message template after ``first``, wrapped like :func:`fill` but never inside a
    ``{{ … }}`` placeholder."""
    kept = re.sub(r"\{\{.*?\}\}", lambda m: glued(m.group(0)), " ".join(template.split()))
    return fill(first, kept, width=width)


def fill_parts(first: str, parts: Sequence[str], sep: str, width: int = WIDTH) -> list[str]:
    """``parts`` joined by ``sep`` after ``first``, broken after a ``sep`` where a line would
    grow past ``width`` (for text without spaces, such as an alert id's key)."""
    lines = [first]
    indent = " " * len(first)
    for i, part in enumerate(parts):
        piece = part + (sep if i < len(parts) - 1 else "")
        if len(lines[-1]) + len(piece) > width and lines[-1].strip():
            lines.append(indent)
        lines[-1] += piece
    return lines


def _pretty(line: str, width: int) -> list[str] | None:
    """One SELECT item or condition line of generated SQL laid out by sqlglot over lines
    no wider than ``width``; None when sqlglot would not write it back exactly as it is
    (the layout may change, never the SQL)."""
    indent = line[: len(line) - len(line.lstrip())]
    body = line.strip()
    head = ""
    if body.startswith(("WHERE ", "ON ", "AND ")):
        head, body = body.split(" ", 1)
        head += " "
    comma = "," if body.endswith(",") else ""
    body = body.removesuffix(",")
    try:
        tree = sqlglot.parse_one(body, read=DIALECT)
        if tree.sql(DIALECT) != body:
            return None
    except (SqlglotError, ValueError, TypeError, IndexError, RecursionError):
        return None
    # sqlglot measures a call or a CASE without what follows it (an alias, a comma):
    # narrow its width until the lines fit
    lines: list[str] = []
    for text_width in range(width - len(indent) - len(head), 19, -10):
        text = tree.sql(DIALECT, pretty=True, max_text_width=text_width)
        out = (head + text + comma).splitlines()
        lines = [indent + out[0]] + [indent + " " * len(head) + ln for ln in out[1:]]
        if max(len(ln) for ln in lines) <= width:
            break
    return lines


def _broken_after_commas(line: str, width: int) -> list[str]:
    """``line`` broken after a comma, or else at a space, between tokens (never inside a
    string literal), the lines after the first indented 4 more: the text is kept as it
    is."""
    indent = len(line) - len(line.lstrip())
    try:
        tokens = Spark().tokenize(line)
    except (SqlglotError, ValueError):
        return [line]
    after_commas = [t.end + 1 for t in tokens if t.token_type == TokenType.COMMA]
    between = [t.start for t in tokens if t.start > 0 and line[t.start - 1] == " "]
    lines: list[str] = []
    start, pad = 0, ""
    while len(pad) + len(line) - start > width:
        fits = [c for c in after_commas if c > start and len(pad) + c - start <= width] or [
            c for c in between if c > start + 1 and len(pad) + c - start <= width
        ]
        if not fits:
            break
        lines.append(
            (pad + line[start : fits[-1]].strip(" ")) if lines else line[: fits[-1]].rstrip()
        )
        start, pad = fits[-1], " " * (indent + 4)
    lines.append(pad + line[start:].strip(" ") if lines else line)
    return lines


def reflow_sql(sql: str, width: int = WIDTH) -> str:
    """``sql`` (a stage's SELECT, one item a line) with each line over ``width`` laid out
    over several lines; lines sqlglot cannot read back stay as they are."""
    out: list[str] = []
    for line in sql.splitlines():
        if len(line) <= width:
            out.append(line)
        else:
            out += _pretty(line, width) or _broken_after_commas(line, width)
    return "\n".join(out)
