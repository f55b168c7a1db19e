"""YAML loading that keeps the line and column of every node.

The result is plain Python data (dicts, lists, scalars) plus a map from each
node's path (a tuple of keys and indexes) to where it starts in the file, so
that schema and SQL errors can point at the exact place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from ctc.dsl.errors import Position, SpecError

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class ScalarSource:
    """How a scalar string sits in the file, to map offsets inside it to positions."""

    start: Position
    style: str | None  # None (plain), "'", '"', "|" or ">"
    text_lines: tuple[str, ...]  # for block scalars: the file's lines of the content


@dataclass
class Located:
    """Loaded YAML data with the position of every node."""

    data: Any
    positions: dict[Path_, Position] = field(default_factory=dict)
    key_positions: dict[Path_, Position] = field(default_factory=dict)
    scalars: dict[Path_, ScalarSource] = field(default_factory=dict)

    def at(self, path: Path_) -> Position:
        """The position of the node at ``path``, or of its nearest ancestor."""
        p = tuple(path)
        while p:
            if p in self.positions:
                return self.positions[p]
            p = p[:-1]
        return self.positions.get((), Position(1, 1))

    def key_at(self, path: Path_) -> Position:
        """The position of the mapping key naming ``path`` (falls back to the value)."""
        return self.key_positions.get(tuple(path), self.at(path))

    def offset_position(self, path: Path_, line: int, col: int) -> Position:
        """Map a 1-based (line, col) inside the string scalar at ``path`` to a file position."""
        src = self.scalars.get(tuple(path))
        if src is None:
            return self.at(path)
        if src.style in ("|", ">"):
            # content starts on the line after the indicator; find its indentation
            content_line = src.start.line + line
            text = (
                src.text_lines[content_line - 1] if content_line - 1 < len(src.text_lines) else ""
            )
            indent = len(text) - len(text.lstrip(" "))
            return Position(content_line, indent + col)
        quote = 1 if src.style in ("'", '"') else 0
        if line > 1:
            return Position(src.start.line + line - 1, col)
        return Position(src.start.line, src.start.col + quote + col - 1)


def _pos(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def _problem(path: str, exc: yaml.MarkedYAMLError) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    pos = _pos(mark) if mark is not None else Position(1, 1)
    what = exc.problem or exc.context or "invalid YAML"
    if exc.problem and exc.context and exc.context_mark is not None:
        c = _pos(exc.context_mark)
        what += f" ({exc.context} started at line {c.line}, column {c.col})"
    return SpecError(path, pos, f"YAML syntax error: {what}")


def load_yaml(text: str, path: str) -> tuple[Located | None, list[SpecError]]:
    """Parse ``text`` (the file at ``path``); return located data or the errors found."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        return None, [_problem(path, exc)]
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        return None, [SpecError(path, Position(1, 1), f"YAML error: {exc}")]
    if node is None:
        return None, [SpecError(path, Position(1, 1), "the file is empty; expected a mapping")]
    lines = tuple(text.splitlines())
    located = Located(data=None)
    errors: list[SpecError] = []
    constructor = yaml.SafeLoader("")

    def build(n: yaml.Node, p: Path_) -> Any:
        located.positions[p] = _pos(n.start_mark)
        if isinstance(n, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in n.value:
                # plain scalar keys stay text: YAML 1.1 would read `on:` as true
                key = (
                    key_node.value
                    if isinstance(key_node, yaml.ScalarNode)
                    else constructor.construct_object(key_node, deep=True)
                )
                if not isinstance(key, str):
                    errors.append(
                        SpecError(
                            path, _pos(key_node.start_mark), f"keys must be text, got {key!r}"
                        )
                    )
                    continue
                if key in out:
                    errors.append(
                        SpecError(path, _pos(key_node.start_mark), f"duplicate key '{key}'")
                    )
                    continue
                located.key_positions[(*p, key)] = _pos(key_node.start_mark)
                out[key] = build(value_node, (*p, key))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(item, (*p, i)) for i, item in enumerate(n.value)]
        value = constructor.construct_object(n, deep=True)
        if isinstance(value, str):
            located.scalars[p] = ScalarSource(_pos(n.start_mark), getattr(n, "style", None), lines)
        return value

    try:
        located.data = build(node, ())
    except yaml.constructor.ConstructorError as exc:
        return None, [_problem(path, exc)]
    return located, errors
