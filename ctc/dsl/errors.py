"""Errors that point at a place in a spec file: ``path:line:col: message``."""

from __future__ import annotations

from dataclasses import dataclass


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
        return f"{self.path}:{self.position.line}:{self.position.col}: {self.message}"


class SpecErrors(Exception):
    """Every problem found in one or more spec files, reported together."""

    def __init__(self, errors: list[SpecError]) -> None:
        self.errors = sorted(set(errors), key=lambda e: (e.path, e.position, e.message))
        super().__init__("\n".join(str(e) for e in self.errors))
