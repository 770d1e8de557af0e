"""Findings and spans in LSP terms. Pure functions over lsprotocol types."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from ..findings import Finding, Severity, Span
from ..resources import readme_uri

SOURCE = "nemo"
_SEVERITY = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning,
             Severity.INFO: types.DiagnosticSeverity.Information, Severity.HINT: types.DiagnosticSeverity.Hint}


def to_range(span: Span | None, lines: Sequence[str], codec: PositionCodec | None = None) -> types.Range:
    """A span (code points) as an LSP range (the client's code units: UTF-16 unless negotiated)."""
    if span is None:
        span = Span.at(0)
    codec = codec or PositionCodec()
    last = max(len(lines) - 1, 0)

    def pos(line: int, col: int) -> types.Position:
        line = min(max(line, 0), last)
        text = lines[line] if lines else ""
        return codec.position_to_client_units(lines, types.Position(line=line, character=min(max(col, 0), len(text))))

    return types.Range(start=pos(span.line, span.col), end=pos(span.end_line, span.end_col))


def from_position(position: types.Position, lines: Sequence[str], codec: PositionCodec | None = None) -> tuple[int, int]:
    codec = codec or PositionCodec()
    p = codec.position_from_client_units(lines, types.Position(line=position.line, character=position.character))
    return p.line, p.character


def to_diagnostic(f: Finding, finding_id: str, lines: Sequence[str], codec: PositionCodec | None = None,
                  docs: str | None = None) -> types.Diagnostic:
    related = [types.DiagnosticRelatedInformation(
        location=types.Location(uri=Path(r.path).resolve().as_uri(), range=types.Range(
            start=types.Position(line=r.span.line, character=r.span.col),
            end=types.Position(line=r.span.end_line, character=r.span.end_col))),
        message=r.message) for r in f.related if r.path]
    return types.Diagnostic(
        range=to_range(f.span, lines, codec),
        message=f.message,
        severity=_SEVERITY[f.severity],
        code=f.code,
        code_description=types.CodeDescription(href=f"{docs or readme_uri()}#{f.code.lower()}"),
        source=SOURCE,
        related_information=related or None,
        data={"id": finding_id, "fixes": list(f.fixes)},
    )
