"""YAML with source positions.

PyYAML's composer keeps a mark (line, column) on every node; the plain ``safe_load`` drops them.
We compose, then build a small tree of :class:`YNode` so that every key and value of the front
matter and the model block can be pointed at by a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from ..findings import Span


@dataclass(frozen=True)
class YNode:
    """A YAML value with its span. Mappings keep their keys' nodes (and their order)."""

    value: Any
    """A scalar (str, int, float, bool, None), a list of YNode, or a list of (YNode, YNode) pairs."""
    span: Span
    kind: str
    """"scalar", "seq" or "map"."""
    style: str | None = None
    """The scalar's quoting style (None for plain), so that `'x'` can be told from `x`."""
    raw: str | None = None
    """A scalar as written (`1e9` for the value 1000000000.0)."""

    @property
    def is_map(self) -> bool:
        return self.kind == "map"

    @property
    def is_seq(self) -> bool:
        return self.kind == "seq"

    @property
    def is_scalar(self) -> bool:
        return self.kind == "scalar"

    def items(self) -> list[tuple[YNode, YNode]]:
        return list(self.value) if self.is_map else []

    def get(self, key: str) -> YNode | None:
        for k, v in self.items():
            if k.value == key:
                return v
        return None

    def shifted(self, lines: int) -> YNode:
        """The same tree moved down by `lines` (YAML parsed from a block that starts later in the file)."""
        span = self.span.shift(lines)
        if self.is_map:
            return YNode([(k.shifted(lines), v.shifted(lines)) for k, v in self.value], span, "map")
        if self.is_seq:
            return YNode([v.shifted(lines) for v in self.value], span, "seq")
        return YNode(self.value, span, "scalar", self.style, self.raw)

    def plain(self) -> Any:
        """The value without positions, as safe_load would give it."""
        if self.is_map:
            return {k.plain(): v.plain() for k, v in self.value}
        if self.is_seq:
            return [v.plain() for v in self.value]
        return self.value


class YamlError(Exception):
    """A YAML syntax error with the span it concerns."""

    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


_EXPONENT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)[eE][-+]?[0-9]+$")
"""A float in exponent notation that YAML 1.1 (PyYAML) leaves as text: `1e3`, `2.5E-4`."""


def _span(node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(s.line, s.column, e.line, e.column)


MAX_DEPTH = 50
"""Deepest nesting of mappings and lists kept; deeper YAML is an error (the tree is walked recursively)."""


def _convert(node: yaml.Node, loader: yaml.SafeLoader, depth: int = 0) -> YNode:
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and depth >= MAX_DEPTH:
        raise YamlError(f"nested more than {MAX_DEPTH} levels deep", Span.at(node.start_mark.line,
                                                                              node.start_mark.column, 1))
    if isinstance(node, yaml.MappingNode):
        pairs = [(_convert(k, loader, depth + 1), _convert(v, loader, depth + 1)) for k, v in node.value]
        return YNode(pairs, _span(node), "map")
    if isinstance(node, yaml.SequenceNode):
        return YNode([_convert(v, loader, depth + 1) for v in node.value], _span(node), "seq")
    try:
        value = loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError):  # ValueError: `2024-13-45`, an integer of more than 4300 digits
        value = node.value
    if not isinstance(value, (str, int, float, bool, type(None))):
        value = str(value)  # dates and timestamps stay text: specs never need them as objects
    elif node.style is None and isinstance(value, str) and _EXPONENT.match(value):
        value = float(value)  # `budget: 1e6` is a number, as in YAML 1.2 and in table cells
    return YNode(value, _span(node), "scalar", node.style, node.value)


_YAML_ONLY_BREAKS = {0x85: " ", 0x2028: " ", 0x2029: " "}
"""Characters YAML 1.1 reads as line breaks but the spec (and LSP) does not: read as spaces, so that
PyYAML's line numbers stay the file's."""


def _char_span(text: str, line: int, col: int) -> Span:
    """The character at a mark, or an empty span where the mark is past the end of its line
    (PyYAML reports `<stream end>` one column after the last character)."""
    lines = text.split("\n")
    if line >= len(lines):
        return Span.at(len(lines) - 1, len(lines[-1]))
    return Span.at(line, min(col, len(lines[line])), 1 if col < len(lines[line]) else 0)


def parse_yaml(text: str) -> YNode | None:
    """Parse one YAML document into a YNode tree (None for an empty document).

    Raises :class:`YamlError` with the position PyYAML reports.
    """
    text = text.translate(_YAML_ONLY_BREAKS)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        opened = exc.context_mark
        if opened and ("end of stream" in (exc.problem or "") or (
                (exc.context or "").startswith("while parsing a flow") and mark and mark.line > opened.line)):
            # An unclosed quote or bracket is noticed lines later (at the next `:` or at the end):
            # the mistake is where it opens.
            mark = opened
        line, col = (mark.line, mark.column) if mark else (0, 0)
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise YamlError(f"{problem}{context}", _char_span(text, line, col)) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc), Span.at(0, 0)) from None
    except RecursionError:
        # PyYAML's composer recurses once per level of nesting (`[[[[...`).
        raise YamlError(f"nested more than {MAX_DEPTH} levels deep", Span.at(0, 0)) from None
    if node is None:
        return None
    return _convert(node, yaml.SafeLoader(""))
