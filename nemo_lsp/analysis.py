"""One pure entry point from a spec's text to everything the linter knows about it.

Used by `nemo check`, by the engine before a run, and by the language server on every edit.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .findings import Finding, Severity
from .model.check import DEFAULT_BUDGET, check_indices, check_model, data_sensitive_params
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


_MODEL_CACHE: OrderedDict[str, tuple[Model, ModelData, tuple[Finding, ...]]] = OrderedDict()
_MODEL_CACHE_SIZE = 8


def _model_key(spec: Spec, spec_clean: bool, budget: int) -> str:
    """Everything the model's findings depend on: its block, the tables' lines, where they sit."""
    h = hashlib.sha256()
    assert spec.model is not None
    h.update(f"{spec.model.first_line}\0{spec.model.text}\0{spec_clean}\0{budget}".encode())
    for name, t in sorted(spec.tables.items()):
        h.update(f"\0{name}\0{t.name_span}\0{t.span}\0".encode())
        h.update("\n".join(spec.lines[t.span.line:t.span.end_line + 1]).encode())
    return h.hexdigest()


_INDEX_CACHE: OrderedDict[str, tuple[Finding, ...]] = OrderedDict()


def _indices(spec: Spec, model: Model, data: ModelData, budget: int) -> tuple[Finding, ...]:
    """The index enumeration, memoized on what it can depend on: the model block, the sets, and
    parameter keys (values only for parameters in filters, tests and index positions). Editing a
    cost in a large table then re-resolves the data but does not re-enumerate the model."""
    assert spec.model is not None
    sensitive = data_sensitive_params(model)
    h = hashlib.sha256(f"{spec.model.first_line}\0{spec.model.text}\0{budget}".encode())
    h.update(repr(sorted(data.sets.items())).encode())
    for name, value in sorted(data.params.items()):
        shown = value if name in sensitive or not isinstance(value, dict) else list(value)
        h.update(f"\0{name}\0{data.defaults.get(name)}\0{shown!r}".encode())
    key = h.hexdigest()
    found = _INDEX_CACHE.get(key)
    if found is None:
        found = tuple(check_indices(model, data, budget))
        _INDEX_CACHE[key] = found
        while len(_INDEX_CACHE) > _MODEL_CACHE_SIZE:
            _INDEX_CACHE.popitem(last=False)
    return found


def analyze(text: str, budget: int = DEFAULT_BUDGET) -> Analysis:
    """Read, parse, resolve and check a spec. Never raises on bad input.

    The model's part is memoized on the model block and the tables, so that typing prose in a
    large spec does not re-enumerate its constraints.
    """
    spec = parse_spec(text)
    findings = list(spec.findings)
    if spec.model is None:
        return Analysis(spec, None, None, tuple(findings))
    spec_clean = not any(f.is_error for f in findings)
    key = _model_key(spec, spec_clean, budget)
    cached = _MODEL_CACHE.get(key)
    if cached is None:
        model, problems = parse_model(spec.model)
        data, data_problems = resolve(model, spec.tables)
        model_findings = [*problems, *data_problems]
        model_findings.extend(check_model(model, None, budget))
        if spec_clean and not any(f.is_error for f in model_findings):
            model_findings.extend(_indices(spec, model, data, budget))
        cached = (model, data, tuple(model_findings))
        _MODEL_CACHE[key] = cached
        while len(_MODEL_CACHE) > _MODEL_CACHE_SIZE:
            _MODEL_CACHE.popitem(last=False)
    else:
        _MODEL_CACHE.move_to_end(key)
    model, data, model_findings = cached
    findings.extend(model_findings)
    findings.sort(key=lambda f: (f.span.line if f.span else -1, f.span.col if f.span else -1))
    return Analysis(spec, model, data, tuple(findings))
