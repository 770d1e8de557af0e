"""What the server knows about each spec: the last lint, the last run, and their findings by id.

Lint and run findings are kept apart and merged only when published, so typing re-lints without
erasing the last run's findings; a new run replaces them. The run may also be one restored from its
stored report when the document was opened (`restored`): it is shown and kept exactly like a run
made in this session.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..analysis import Analysis
from ..engine import Report
from ..findings import Finding, Span

def is_spec_uri(uri: str) -> bool:
    return uri.split("?")[0].split("#")[0].endswith(".opt.md")


@dataclass
class DocState:
    uri: str
    path: Path | None
    analysis: Analysis | None = None
    lint_text: str | None = None
    lint: list[Finding] = field(default_factory=list)
    run: list[Finding] = field(default_factory=list)
    report: Report | None = None
    generation: int = 0
    """Bumped on every publish so finding ids from older diagnostics are recognisably stale."""
    findings: dict[str, Finding] = field(default_factory=dict)
    restored: bool = False
    """The report was read back from `.nemo/NAME/report.json`, not made by a run in this session."""
    restore_pending: bool = False
    """Opened with no run in memory: the next lint looks for a stored report of the same text."""
    proposal: Any = None
    """The last consolidation (engine.consolidate.Consolidation) for a prose-only spec."""
    proposal_notes: list[Finding] = field(default_factory=list)
    """Its findings: NEMO204 problems, NEMO205 assumptions, NEMO206 questions."""

    def set_run(self, report: Report, restored: bool = False) -> None:
        """Keep a run's own findings; its NEMO1xx copies of the lint are dropped (the lint has them)."""
        self.report, self.restored, self.restore_pending = report, restored, False
        self.run = [f for f in report.findings if not f.code.startswith("NEMO1")]

    def follow_edit(self, start_line: int, end_line: int, new_text: str) -> None:
        """Keep the last run's findings on their lines while the user types above them.

        An edit replaced lines `start_line`..`end_line` by `new_text`: findings below it move by the
        number of lines it added or removed; findings inside it stay (clamped when published).
        """
        delta = new_text.count("\n") - (end_line - start_line)
        if delta == 0:
            return

        def moved(span: Span | None) -> Span | None:
            if span is None or span.line <= end_line:
                return span
            return Span(span.line + delta, span.col, span.end_line + delta, span.end_col)

        self.run = [replace(f, span=moved(f.span)) for f in self.run]
        self.proposal_notes = [replace(f, span=moved(f.span)) for f in self.proposal_notes]

    def merged(self) -> list[tuple[str, Finding]]:
        """All findings to publish, each with a fresh id that code actions can look up."""
        self.generation += 1
        self.findings = {}
        out = []
        text = self.analysis.spec.text if self.analysis is not None else ""
        # An assumption already written into the spec (accepted or rejected) is no longer news.
        has_model = self.analysis is not None and self.analysis.spec.model is not None
        notes = [f for f in self.proposal_notes if not (f.code == "NEMO205" and str(f.data.get("assumption")) in text)
                 and not (f.code == "NEMO204" and has_model)]
        for i, f in enumerate([*self.lint, *self.run, *notes]):
            fid = f"{self.generation}:{i}"
            self.findings[fid] = f
            out.append((fid, f))
        return out
