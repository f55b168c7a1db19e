"""Errors that point at a place in a spec file: ``path:line:col: message``.

Every message is printed on one line: control characters (newlines, terminal escape
sequences, bidirectional overrides …) in a spec's values or file names are shown escaped,
so a spec can neither split nor forge an error line, nor drive the terminal.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """``text`` with every control, format and line/paragraph separator character escaped.

    ``'a\\nb'`` becomes ``'a\\\\nb'`` and ESC becomes ``\\x1b``; printable text is unchanged.
    """
    out = []
    for ch in text:
        if ch in _NAMED:
            out.append(_NAMED[ch])
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and column in a file."""

    line: int
    col: int

    def shifted(self, lines: int, col: int) -> Position:
        """The position ``lines`` lines below and, on the same line, ``col`` columns right."""
        if lines:
            return Position(self.line + lines, col)
        return Position(self.line, self.col + col)


@dataclass(frozen=True)
class SpecError:
    """One problem in a spec, at a position of its file."""

    path: str
    position: Position
    message: str

    def __str__(self) -> str:
        return escape_controls(
            f"{self.path}:{self.position.line}:{self.position.col}: {self.message}"
        )


class SpecErrors(Exception):
    """Every problem found in one or more spec files, reported together."""

    def __init__(self, errors: list[SpecError]) -> None:
        self.errors = sorted(set(errors), key=lambda e: (e.path, e.position, e.message))
        super().__init__("\n".join(str(e) for e in self.errors))


#: Set to "1" by ``ctc --verbose``: keep full tracebacks, Java stack traces and Spark logs.
VERBOSE_ENV = "CTC_VERBOSE"


def verbose() -> bool:
    """True when errors should be reported in full (``ctc --verbose`` or CTC_VERBOSE=1)."""
    import os

    return os.environ.get(VERBOSE_ENV, "") == "1"
