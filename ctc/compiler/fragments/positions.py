"""Where a problem is: a fragment's own positions, and a spec file's (``path:line:col``)."""

from __future__ import annotations

import difflib

from sqlglot import exp

from ctc.compiler.functions import function_name
from ctc.compiler.sql_text import DIALECT
from ctc.dsl.errors import Position, SpecError
from ctc.dsl.model import Spec, Sql


class FragmentError(Exception):
    """A problem at an offset (1-based line, col) inside the fragment text."""

    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.col = col
        self.message = message


def offset_to_linecol(text: str, offset: int) -> tuple[int, int]:
    """The 1-based (line, col) of the character at ``offset`` of ``text``."""
    before = text[:offset]
    line = before.count("\n") + 1
    col = offset - (before.rfind("\n") + 1) + 1
    return line, col


def node_position(node: exp.Expr, text: str) -> tuple[int, int]:
    """Best position of ``node`` inside ``text``: its own or a descendant's token offset."""
    for n in node.walk():
        meta = getattr(n, "_meta", None) or {}
        if "start" in meta:
            return offset_to_linecol(text, int(meta["start"]))
    # functions carry no token offsets: find the name in the text
    name = function_name(node) if isinstance(node, exp.Func) else node.sql(DIALECT)
    idx = text.lower().find(name.lower().split("(")[0])
    return offset_to_linecol(text, max(idx, 0))


def suggest(name: str, options: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the option closest to ``name``, or an empty string."""
    hint = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f" (did you mean '{hint[0]}'?)" if hint else ""


def fragment_error(spec: Spec, sql: Sql, err: FragmentError) -> SpecError:
    """Turn a FragmentError inside ``sql`` into a positioned SpecError of the spec file."""
    pos = spec.located.offset_position(sql.path, err.line, err.col)
    return SpecError(spec.path, pos, err.message)


def error_at(spec: Spec, path: tuple[str | int, ...], message: str, key: bool = False) -> SpecError:
    """A SpecError at the YAML node (or its key) at ``path``."""
    loc = spec.located
    pos: Position = loc.key_at(path) if key else loc.at(path)
    return SpecError(spec.path, pos, message)
