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

#: How deeply collections may nest, aliases expanded (a spec needs about 6 levels).
MAX_YAML_DEPTH = 40
#: How many nodes a spec may hold once every alias is expanded (a large spec has ~600).
MAX_YAML_NODES = 20_000


class _TooBig(Exception):
    """The document exceeds a bound; carries the error to report."""

    def __init__(self, error: SpecError) -> None:
        super().__init__(error.message)
        self.error = error


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


def _pos(mark: Any) -> Position:
    """The 1-based position of a PyYAML mark (1:1 when there is none)."""
    if mark is None:
        return Position(1, 1)
    return Position(mark.line + 1, mark.column + 1)


def _kind(node: yaml.Node) -> str:
    return "list" if isinstance(node, yaml.SequenceNode) else "mapping"


def _problem(path: str, exc: yaml.MarkedYAMLError) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    pos = _pos(mark) if mark is not None else Position(1, 1)
    what = exc.problem or exc.context or "invalid YAML"
    if exc.problem and exc.context and exc.context_mark is not None:
        c = _pos(exc.context_mark)
        what += f" ({exc.context} started at line {c.line}, column {c.col})"
    return SpecError(path, pos, f"YAML syntax error: {what}")


def _check_shape(text: str, path: str) -> SpecError | None:
    """The first place where the document nests too deeply or grows too large, or None.

    Works on PyYAML's event stream (its parser is a state machine, while its composer
    recurses once per level), with each anchor's expanded size and depth, so a recursive
    alias, a "billion laughs" or thousands of nested brackets are found before composing,
    and reported at the alias or bracket that crosses the bound.
    """
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (expanded nodes, depth below it)
    # one frame per open collection: [anchor, nodes so far, deepest child depth]
    stack: list[list[Any]] = []
    total = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, 1, 0])
            if len(stack) > MAX_YAML_DEPTH:
                return SpecError(
                    path, _pos(event.start_mark), f"YAML nested deeper than {MAX_YAML_DEPTH} levels"
                )
            total += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, nodes, below = stack.pop()
            if anchor is not None:
                sizes[anchor] = (nodes, below + 1)
            if stack:
                stack[-1][1] += nodes
                stack[-1][2] = max(stack[-1][2], below + 1)
        elif isinstance(event, yaml.ScalarEvent):
            total += 1
            if stack:
                stack[-1][1] += 1
        elif isinstance(event, yaml.AliasEvent):
            if any(frame[0] == event.anchor for frame in stack):
                return SpecError(
                    path,
                    _pos(event.start_mark),
                    f"recursive YAML alias: *{event.anchor} is used inside its own anchor",
                )
            nodes, below = sizes.get(event.anchor or "", (1, 0))
            total += nodes
            if total > MAX_YAML_NODES:
                return SpecError(
                    path,
                    _pos(event.start_mark),
                    f"YAML too large: more than {MAX_YAML_NODES} values once aliases are expanded",
                )
            if len(stack) + below > MAX_YAML_DEPTH:
                return SpecError(
                    path,
                    _pos(event.start_mark),
                    f"YAML nested deeper than {MAX_YAML_DEPTH} levels once aliases are expanded",
                )
            if stack:
                stack[-1][1] += nodes
                stack[-1][2] = max(stack[-1][2], below)
        if total > MAX_YAML_NODES:
            return SpecError(
                path, _pos(event.start_mark), f"YAML too large: more than {MAX_YAML_NODES} values"
            )
    return None


def load_yaml(text: str, path: str) -> tuple[Located | None, list[SpecError]]:
    """Parse ``text`` (the file at ``path``); return located data or the errors found.

    Nesting depth and the size after alias expansion are bounded (MAX_YAML_DEPTH,
    MAX_YAML_NODES), so a crafted file (a "billion laughs", a recursive alias, thousands
    of nested brackets) gives one positioned error instead of a hang or a crash.
    """
    try:
        bad_shape = _check_shape(text, path)
        if bad_shape is not None:
            return None, [bad_shape]
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
    count = 0
    open_nodes: set[int] = set()

    def build(n: yaml.Node, p: Path_) -> Any:
        nonlocal count
        count += 1
        if count > MAX_YAML_NODES:
            raise _TooBig(
                SpecError(
                    path,
                    _pos(n.start_mark),
                    f"YAML too large: more than {MAX_YAML_NODES} values once aliases are expanded",
                )
            )
        if len(p) > MAX_YAML_DEPTH:
            raise _TooBig(
                SpecError(
                    path,
                    _pos(n.start_mark),
                    f"YAML nested deeper than {MAX_YAML_DEPTH} levels once aliases are expanded",
                )
            )
        located.positions[p] = _pos(n.start_mark)
        if isinstance(n, yaml.MappingNode | yaml.SequenceNode):
            if id(n) in open_nodes:
                raise _TooBig(
                    SpecError(
                        path, _pos(n.start_mark), "recursive YAML alias: a node contains itself"
                    )
                )
            open_nodes.add(id(n))
            try:
                return build_collection(n, p)
            finally:
                open_nodes.discard(id(n))
        try:
            value = constructor.construct_object(n, deep=True)
        except (ValueError, OverflowError, ArithmeticError) as exc:
            if n.tag.endswith((":int", ":float")):
                why = f"number too long ({len(str(n.value))} characters)"
            else:
                why = f"invalid value for {n.tag.rsplit(':', 1)[-1]}: {str(exc)[:80]}"
            raise _TooBig(SpecError(path, _pos(n.start_mark), why)) from exc
        if isinstance(value, str):
            located.scalars[p] = ScalarSource(_pos(n.start_mark), getattr(n, "style", None), lines)
        return value

    def build_collection(n: yaml.MappingNode | yaml.SequenceNode, p: Path_) -> Any:
        if isinstance(n, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in n.value:
                # plain scalar keys stay text: YAML 1.1 would read `on:` as true
                if not isinstance(key_node, yaml.ScalarNode):
                    errors.append(
                        SpecError(
                            path,
                            _pos(key_node.start_mark),
                            f"keys must be text, got a {_kind(key_node)}",
                        )
                    )
                    continue
                key = key_node.value
                if key in out:
                    errors.append(
                        SpecError(path, _pos(key_node.start_mark), f"duplicate key '{key}'")
                    )
                    continue
                located.key_positions[(*p, key)] = _pos(key_node.start_mark)
                out[key] = build(value_node, (*p, key))
            return out
        return [build(item, (*p, i)) for i, item in enumerate(n.value)]

    try:
        located.data = build(node, ())
    except yaml.constructor.ConstructorError as exc:
        return None, [_problem(path, exc)]
    except _TooBig as exc:
        return None, [exc.error]
    return located, errors
