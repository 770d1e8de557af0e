"""Findings: what every stage reports instead of raising.

A finding has a stable code (``NEMO1xx`` spec, ``2xx`` generation, ``3xx`` execution, ``4xx``
validation, ``5xx`` agent and environment), a severity, a span in the spec when it concerns one,
and the names of the fixes that can address it. The CLI prints findings compiler-style; the
language server turns them into diagnostics. Both read the same objects.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any


class Severity(enum.IntEnum):
    """Ordered like LSP's DiagnosticSeverity so the server can map it one to one."""

    ERROR = 1
    """The run cannot be trusted or cannot proceed."""
    WARNING = 2
    """Probably a mistake; the run goes on."""
    INFO = 3
    """Worth knowing: a decision the tool made for the user."""
    HINT = 4
    """A suggestion."""

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_label(cls, label: Any) -> Severity | None:
        return next((s for s in cls if s.label == label), None)


@dataclass(frozen=True, order=True)
class Span:
    """A 0-based, end-exclusive range in the spec's text (lines and columns as in LSP)."""

    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def at(cls, line: int, col: int = 0, length: int = 0) -> Span:
        return cls(line, col, line, col + max(length, 0))

    @classmethod
    def whole_line(cls, line: int, text: str) -> Span:
        return cls(line, 0, line, len(text))

    def shift(self, lines: int, cols: int = 0) -> Span:
        """Move a span found in an embedded text (a YAML scalar, a fence) to file coordinates."""
        return Span(self.line + lines, self.col + (cols if self.line == 0 else 0),
                    self.end_line + lines, self.end_col + (cols if self.end_line == 0 else 0))

    def to_json(self) -> dict[str, int]:
        return {"line": self.line, "col": self.col, "end_line": self.end_line, "end_col": self.end_col}

    @classmethod
    def from_json(cls, data: Any) -> Span | None:
        """The inverse of `to_json`; None for anything but four non-negative integers."""
        if not isinstance(data, dict):
            return None
        values = [data.get(k) for k in ("line", "col", "end_line", "end_col")]
        if not all(type(v) is int and v >= 0 for v in values):
            return None
        return cls(*values)


@dataclass(frozen=True)
class Related:
    """A place elsewhere (a generated module, a log) that explains a finding."""

    path: str
    span: Span
    message: str


CATALOG: dict[str, tuple[Severity, str]] = {
    # 1xx: the spec
    "NEMO100": (Severity.ERROR, "spec file cannot be read"),
    "NEMO101": (Severity.ERROR, "spec is empty"),
    "NEMO102": (Severity.ERROR, "front matter is not valid YAML"),
    "NEMO103": (Severity.WARNING, "unknown front-matter key"),
    "NEMO104": (Severity.ERROR, "front-matter value has the wrong type"),
    "NEMO110": (Severity.ERROR, "table caption names no table"),
    "NEMO111": (Severity.ERROR, "table row has the wrong number of cells"),
    "NEMO112": (Severity.ERROR, "two tables have the same name"),
    "NEMO113": (Severity.ERROR, "data block cannot be read"),
    "NEMO114": (Severity.ERROR, "cell is not a number"),
    "NEMO115": (Severity.ERROR, "table or column not found"),
    "NEMO120": (Severity.ERROR, "model block is not valid YAML"),
    "NEMO121": (Severity.ERROR, "model block declaration is malformed"),
    "NEMO122": (Severity.ERROR, "expression has a syntax error"),
    "NEMO123": (Severity.ERROR, "expression uses a construct outside the model language"),
    "NEMO124": (Severity.ERROR, "undefined name"),
    "NEMO125": (Severity.ERROR, "wrong number of indices"),
    "NEMO126": (Severity.ERROR, "index outside its set"),
    "NEMO127": (Severity.ERROR, "nonlinear expression"),
    "NEMO128": (Severity.ERROR, "name declared twice"),
    "NEMO129": (Severity.WARNING, "declared but never used"),
    "NEMO130": (Severity.ERROR, "objective missing or repeated"),
    "NEMO131": (Severity.ERROR, "constraint is not a comparison"),
    "NEMO132": (Severity.ERROR, "decision variable where only data is allowed"),
    "NEMO133": (Severity.WARNING, "more than one model block"),
    "NEMO134": (Severity.ERROR, "parameter data is incomplete"),
    # 2xx: generation
    "NEMO201": (Severity.ERROR, "agent cannot work on this spec"),
    "NEMO202": (Severity.WARNING, "generated file was edited by the user and is kept"),
    "NEMO203": (Severity.ERROR, "generated module is broken"),
    "NEMO204": (Severity.ERROR, "proposed model block does not check"),
    "NEMO205": (Severity.INFO, "assumption made by the agent"),
    "NEMO206": (Severity.INFO, "question from the agent"),
    "NEMO207": (Severity.INFO, "another proposed model block is nearly as likely"),
    # 3xx: execution
    "NEMO301": (Severity.ERROR, "optimizer raised an error"),
    "NEMO302": (Severity.ERROR, "simulator raised an error"),
    "NEMO303": (Severity.ERROR, "time limit reached"),
    "NEMO304": (Severity.ERROR, "CPU-time limit reached"),
    "NEMO305": (Severity.ERROR, "memory limit reached"),
    "NEMO306": (Severity.ERROR, "output or file-size limit reached"),
    "NEMO307": (Severity.ERROR, "run produced no readable result"),
    "NEMO308": (Severity.INFO, "sandbox isolation is reduced on this machine"),
    "NEMO309": (Severity.ERROR, "solver not available"),
    "NEMO310": (Severity.ERROR, "process limit reached"),
    "NEMO311": (Severity.WARNING, "generated code left processes running"),
    # 4xx: validation
    "NEMO401": (Severity.ERROR, "simulator finds a constraint violated"),
    "NEMO402": (Severity.ERROR, "optimizer and simulator disagree on the objective"),
    "NEMO403": (Severity.ERROR, "solver did not prove optimality"),
    "NEMO404": (Severity.ERROR, "problem is infeasible"),
    "NEMO405": (Severity.ERROR, "problem is unbounded"),
    "NEMO406": (Severity.ERROR, "objective differs from the expected value"),
    "NEMO407": (Severity.ERROR, "status differs from the expected status"),
    "NEMO408": (Severity.ERROR, "decisions do not match the model's variables"),
    "NEMO409": (Severity.INFO, "outcome matches the expected status"),
    "NEMO410": (Severity.INFO, "optimizer candidates disagree"),
    "NEMO420": (Severity.WARNING, "answer is a local optimum only"),
    "NEMO411": (Severity.ERROR, "simulator fails a check"),
    "NEMO412": (Severity.ERROR, "a better feasible neighbour proves the answer not optimal"),
    # 5xx: agents and environment
    "NEMO501": (Severity.ERROR, "unknown agent"),
    "NEMO502": (Severity.ERROR, "agent failed"),
    "NEMO503": (Severity.ERROR, "sandbox unavailable"),
    "NEMO504": (Severity.ERROR, "agent program not installed"),
    "NEMO505": (Severity.ERROR, "model API rejected the credentials"),
    "NEMO506": (Severity.ERROR, "model API rate limit or quota reached"),
    "NEMO507": (Severity.ERROR, "agent session timed out"),
    "NEMO508": (Severity.ERROR, "agent output could not be understood"),
    "NEMO509": (Severity.WARNING, "agent reached outside its workspace"),
    "NEMO510": (Severity.ERROR, "agent ran out of turns"),
    "NEMO511": (Severity.ERROR, "model API unreachable"),
    "NEMO520": (Severity.ERROR, "cannot write the run's files"),
    "NEMO530": (Severity.ERROR, "no installed solver handles the problem class"),
    "NEMO590": (Severity.ERROR, "internal error"),
}


@dataclass(frozen=True)
class Finding:
    """One observation about a spec or a run, tied to a place when there is one."""

    code: str
    message: str
    span: Span | None = None
    severity: Severity = Severity.ERROR
    fixes: tuple[str, ...] = ()
    related: tuple[Related, ...] = ()
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def title(self) -> str:
        return CATALOG.get(self.code, (Severity.ERROR, self.code))[1]

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    def at(self, span: Span | None) -> Finding:
        return replace(self, span=span)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.label,
            "message": self.message,
            "span": self.span.to_json() if self.span else None,
            "fixes": list(self.fixes),
            "related": [{"path": r.path, "span": r.span.to_json(), "message": r.message}
                        for r in self.related],
            "data": self.data,
        }

    @classmethod
    def from_json(cls, data: Any) -> Finding | None:
        """The inverse of `to_json` (as read back from JSON); None for anything malformed, never an
        exception: a stored report may have been edited or truncated."""
        if not isinstance(data, dict):
            return None
        code, message, severity = data.get("code"), data.get("message"), Severity.from_label(data.get("severity"))
        if not (isinstance(code, str) and code and isinstance(message, str) and severity is not None):
            return None
        span = None
        if data.get("span") is not None:
            span = Span.from_json(data["span"])
            if span is None:
                return None
        fixes, related, extra = data.get("fixes", []), data.get("related", []), data.get("data", {})
        if not (isinstance(fixes, list) and all(isinstance(x, str) for x in fixes)
                and isinstance(related, list) and isinstance(extra, dict)):
            return None
        places = []
        for r in related:
            where = Span.from_json(r.get("span")) if isinstance(r, dict) else None
            if where is None or not isinstance(r.get("path"), str) or not isinstance(r.get("message"), str):
                return None
            places.append(Related(r["path"], where, r["message"]))
        return cls(code, message, span, severity, tuple(fixes), tuple(places), extra)


def finding(code: str, message: str, span: Span | None = None, *, severity: Severity | None = None,
            fixes: tuple[str, ...] = (), related: tuple[Related, ...] = (),
            data: dict[str, Any] | None = None) -> Finding:
    """Build a finding with the catalog's default severity for its code."""
    if code not in CATALOG:
        raise KeyError(f"unknown finding code {code}")
    return Finding(code, message, span, severity if severity is not None else CATALOG[code][0],
                   fixes, related, data or {})


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.is_error for f in findings)


class StageError(Exception):
    """Raised by a pipeline stage to stop the run; carries the findings that explain why."""

    def __init__(self, *findings: Finding) -> None:
        super().__init__("; ".join(f"{f.code}: {f.message}" for f in findings))
        self.findings = tuple(findings)
