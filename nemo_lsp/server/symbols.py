"""Where things are in a spec: the identifier under the cursor, declarations, and the outline."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types

from ..analysis import Analysis
from ..findings import Span

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Word:
    text: str
    span: Span
    qualifier: str | None
    """The name before a dot (`foods` in `foods.cost`), when there is one."""


def word_at(lines: tuple[str, ...] | list[str], line: int, col: int) -> Word | None:
    if not 0 <= line < len(lines):
        return None
    text = lines[line]
    for m in _WORD.finditer(text):
        if m.start() <= col <= m.end():
            qualifier = None
            if m.start() > 0 and text[m.start() - 1] == ".":
                q = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\.$", text[:m.start()])
                qualifier = q.group(1) if q else None
            return Word(m.group(0), Span.at(line, m.start(), len(m.group(0))), qualifier)
    return None


def column_name(header: str) -> str:
    """How the model names a column: `energy (kcal)` is `energy`, `unit cost` is `unit_cost`."""
    name = re.sub(r"\s*[\(\[].*?[\)\]]\s*$", "", header.strip())
    return name.strip().lower().replace(" ", "_")


def in_model(analysis: Analysis, line: int) -> bool:
    block = analysis.spec.model
    return block is not None and block.span.line < line < block.span.end_line


def in_front_matter(analysis: Analysis, line: int) -> bool:
    span = analysis.spec.front.span
    return span is not None and span.line < line < span.end_line


def declaration(analysis: Analysis, name: str) -> tuple[str, Span] | None:
    """The kind and span of a model symbol's declaration (set, parameter, variable, constraint)."""
    m = analysis.model
    if m is None:
        return None
    for kind, decls in (("set", m.sets), ("parameter", m.params), ("variable", m.vars),
                        ("constraint", m.constraints)):
        if name in decls:
            return kind, decls[name].span
    return None


def _symbol(name: str, kind: types.SymbolKind, span: Span, detail: str | None = None,
            children: list[types.DocumentSymbol] | None = None) -> types.DocumentSymbol:
    rng = types.Range(start=types.Position(line=span.line, character=span.col),
                      end=types.Position(line=span.end_line, character=span.end_col))
    return types.DocumentSymbol(name=name or "(untitled)", kind=kind, range=rng, selection_range=rng, detail=detail,
                                children=children)


def outline(analysis: Analysis) -> list[types.DocumentSymbol]:
    """Sections, tables and the model's components, for the editor's outline."""
    spec = analysis.spec
    out = [_symbol(s.title, types.SymbolKind.Namespace, s.span, f"h{s.level}") for s in spec.sections]
    for name, t in spec.tables.items():
        out.append(_symbol(name, types.SymbolKind.Struct, t.name_span,
                           f"table {len(t.rows)} x {len(t.columns)}: {', '.join(t.columns)}"))
    m = analysis.model
    if m is not None and spec.model is not None:
        kids: list[types.DocumentSymbol] = []
        kids += [_symbol(n, types.SymbolKind.Enum, d.span, "set") for n, d in m.sets.items()]
        kids += [_symbol(n, types.SymbolKind.Constant, d.span, "parameter") for n, d in m.params.items()]
        kids += [_symbol(n, types.SymbolKind.Variable, d.span, f"{d.domain} variable") for n, d in m.vars.items()]
        if m.objective is not None:
            kids.append(_symbol(m.objective.sense, types.SymbolKind.Function, m.objective.span, "objective"))
        kids += [_symbol(n, types.SymbolKind.Event, d.span, "constraint") for n, d in m.constraints.items()]
        out.append(_symbol("model", types.SymbolKind.Module, spec.model.span, "formal model", kids))
    out.sort(key=lambda s: (s.range.start.line, s.range.start.character))
    return out
