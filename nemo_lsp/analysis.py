"""One pure entry point from a spec's text to everything the linter knows about it.

Used by `nemo check`, by the engine before a run, and by the language server on every edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .findings import Finding, Severity
from .model.check import DEFAULT_BUDGET, check_model
from .model.data import ModelData, resolve, tables_only
from .model.syntax import Model, parse_model
from .spec.document import Spec
from .spec.reader import parse_spec


@dataclass(frozen=True)
class Analysis:
    """A read spec, its parsed model and resolved data (when there is a model), and all findings."""

    spec: Spec
    model: Model | None
    data: ModelData | None
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not any(f.severity == Severity.ERROR for f in self.findings)

    def data_json(self) -> dict[str, Any]:
        """The one data file the optimizer and the simulator both read."""
        if self.data is not None:
            return self.data.to_json(self.spec.tables)
        return tables_only(self.spec.tables)


def analyze(text: str, budget: int = DEFAULT_BUDGET) -> Analysis:
    """Read, parse, resolve and check a spec. Never raises on bad input."""
    spec = parse_spec(text)
    findings = list(spec.findings)
    if spec.model is None:
        return Analysis(spec, None, None, tuple(findings))
    model, problems = parse_model(spec.model)
    findings.extend(problems)
    data, data_problems = resolve(model, spec.tables)
    findings.extend(data_problems)
    clean = not any(f.is_error for f in findings)
    findings.extend(check_model(model, data if clean else None, budget))
    findings.sort(key=lambda f: (f.span.line if f.span else -1, f.span.col if f.span else -1))
    return Analysis(spec, model, data, tuple(findings))
