"""The result of one run: what the CLI prints, the server shows and the benchmark scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import jsonio
from ..findings import Finding, Severity
from ..spec.document import text_sha256

MAX_REPORT_BYTES = 64 * 1024 * 1024
"""A stored report larger than this is not read back (a 40,000-variable run writes about 2 MB)."""


@dataclass(frozen=True)
class Solution:
    """What the optimizer returned, in the harness's words."""

    status: str
    """optimal | infeasible | unbounded | time_limit | iteration_limit | error | unknown ..."""
    objective: float | None = None
    sense: str | None = None
    decisions: dict[str, Any] | None = None
    bound: float | None = None
    solver: str | None = None
    solver_version: str | None = None
    timing: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """What the simulator said about the optimizer's decisions."""

    feasible: bool
    objective: float | None
    violations: tuple[dict[str, Any], ...] = ()
    checked: int = 0
    slack: dict[str, float] = field(default_factory=dict)
    """Per constraint name, the smallest slack over its indices (negative: violated)."""


@dataclass(frozen=True)
class Report:
    spec: str
    outcome: str
    """validated | expected (the declared infeasible/unbounded outcome) | rejected | infeasible |
    unbounded | not_run (stopped before execution) | error."""
    findings: tuple[Finding, ...]
    agent: str | None = None
    solution: Solution | None = None
    verdict: Verdict | None = None
    files: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    isolation: str | None = None
    generated: dict[str, str] = field(default_factory=dict)
    """Per role: `generated`, `up to date`, `user-edited (kept)`."""
    expect: dict[str, Any] | None = None
    usage: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per agent session (optimizer, simulator, repair-N): tokens, cost_usd, turns, as the tool reported."""
    repairs: list[dict[str, Any]] = field(default_factory=list)
    """Repair rounds: the evidence sent back to the agent and what came of it."""
    samples: dict[str, Any] | None = None
    """Self-consistency over several optimizer candidates: summary, clusters, chosen, candidates."""
    gate: dict[str, Any] | None = None
    """The simulator gate: its checks' source, total, passed, each check's result and the simulator repairs."""
    probe: dict[str, Any] | None = None
    """The falsification probe: state, neighbours generated and scored, seconds, the better neighbour if any."""
    memory: dict[str, Any] | None = None
    """External memory: `folder`, `used` (per role, the entries its module's prompt showed), `saved`
    (the entry this run was saved as) and a `note`; None when memory played no part."""
    problem_class: dict[str, Any] | None = None
    """The model block's class (LP, MILP, QP, MIQP, NLP, MINLP), convexity and why (ProblemClass.to_json)."""
    solver_choice: dict[str, Any] | None = None
    """The backend chosen for that class and why (solvers.Recommendation.to_json)."""
    spec_sha256: str | None = None
    """`text_sha256` of the spec text the run analysed (the editor's buffer when it ran on one):
    a stored report describes the spec only while the spec's text still has this hash."""

    @property
    def ok(self) -> bool:
        return self.outcome in ("validated", "expected") and not any(
            f.severity == Severity.ERROR for f in self.findings)

    @property
    def exit_code(self) -> int:
        if self.outcome == "error":
            return 2
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "outcome": self.outcome,
            "ok": self.ok,
            "agent": self.agent,
            "status": self.solution.status if self.solution else None,
            "objective": self.solution.objective if self.solution else None,
            "solution": None if self.solution is None else {
                "status": self.solution.status, "objective": self.solution.objective,
                "sense": self.solution.sense, "bound": self.solution.bound, "decisions": self.solution.decisions,
                "solver": self.solution.solver, "solver_version": self.solution.solver_version,
                "timing": self.solution.timing},
            "validation": None if self.verdict is None else {
                "feasible": self.verdict.feasible, "objective": self.verdict.objective,
                "violations": list(self.verdict.violations), "checked": self.verdict.checked,
                "slack": self.verdict.slack},
            "expect": self.expect,
            "findings": [f.to_json() for f in self.findings],
            "files": self.files,
            "generated": self.generated,
            "timings": self.timings,
            "isolation": self.isolation,
            "usage": self.usage,
            "repairs": self.repairs,
            "samples": self.samples,
            "gate": self.gate,
            "probe": self.probe,
            "spec_sha256": self.spec_sha256,
            "memory": self.memory,
            "problem_class": self.problem_class,
            "solver_choice": self.solver_choice,
        }

    @classmethod
    def from_json(cls, data: Any) -> Report | None:
        """The inverse of `to_json` (as read back from JSON): `.nemo/NAME/report.json` back into a
        Report. Anything malformed (edited, truncated, another program's JSON) is None, never an
        exception. Keys a report of an older version lacks take their defaults; `ok`, `status` and
        `objective` are derived and not read."""
        try:
            return _report(data)
        except (_Malformed, TypeError, ValueError, AttributeError, KeyError, RecursionError):
            return None

    def describes(self, text: str) -> bool:
        """True when this report was made from `text` (same hash); a report without a hash never is."""
        return self.spec_sha256 is not None and self.spec_sha256 == text_sha256(text)


def load_report(path: Path) -> Report | None:
    """A stored report (`.nemo/NAME/report.json`), or None when it is missing, unreadable or malformed."""
    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            return None
        text = path.read_bytes().decode("utf-8")
        data = jsonio.loads(text)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return Report.from_json(data)


class _Malformed(Exception):
    pass


def _need(ok: bool) -> None:
    if not ok:
        raise _Malformed


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _opt(data: dict[str, Any], key: str, kind: type, default: Any = None) -> Any:
    """`data[key]` when it is a `kind`; `default` when it is null or absent."""
    v = data.get(key)
    if v is None:
        return default
    _need(isinstance(v, kind) and not isinstance(v, bool))
    return v


def _number(data: dict[str, Any], key: str) -> float | None:
    v = data.get(key)
    _need(v is None or _is_number(v))
    return v


def _dict_of(data: dict[str, Any], key: str, check: Any) -> dict[str, Any]:
    v = _opt(data, key, dict, {})
    _need(all(isinstance(k, str) and check(x) for k, x in v.items()))
    return dict(v)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _report(data: Any) -> Report:
    """Strict where the server formats or places a value (statuses, numbers, findings, decisions by
    variable name); values only shown as they are (sense, solver, violations) come back as stored."""
    _need(isinstance(data, dict))
    spec, outcome, raw_findings = data["spec"], data["outcome"], data["findings"]
    _need(isinstance(spec, str) and isinstance(outcome, str) and bool(outcome) and isinstance(raw_findings, list))
    findings = tuple(Finding.from_json(f) for f in raw_findings)
    _need(all(f is not None for f in findings))
    solution = None
    if data.get("solution") is not None:
        s = data["solution"]
        _need(isinstance(s, dict) and isinstance(s.get("status"), str))
        solution = Solution(s["status"], _number(s, "objective"), s.get("sense"), _opt(s, "decisions", dict),
                            _number(s, "bound"), s.get("solver"), s.get("solver_version"),
                            _dict_of(s, "timing", _is_number))
    verdict = None
    if data.get("validation") is not None:
        v = data["validation"]
        _need(isinstance(v, dict) and isinstance(v.get("feasible"), bool))
        verdict = Verdict(v["feasible"], _number(v, "objective"), tuple(_opt(v, "violations", list, [])),
                          _opt(v, "checked", int, 0), _dict_of(v, "slack", _is_number))
    repairs = _opt(data, "repairs", list, [])
    _need(all(isinstance(r, dict) for r in repairs))
    return Report(spec, outcome, findings, agent=_opt(data, "agent", str), solution=solution, verdict=verdict,
                  files=_dict_of(data, "files", _is_str), timings=_dict_of(data, "timings", _is_number),
                  isolation=_opt(data, "isolation", str), generated=_dict_of(data, "generated", _is_str),
                  expect=_opt(data, "expect", dict), usage=_dict_of(data, "usage", lambda x: isinstance(x, dict)),
                  repairs=list(repairs), samples=_opt(data, "samples", dict), gate=_opt(data, "gate", dict),
                  probe=_opt(data, "probe", dict),
                  spec_sha256=_opt(data, "spec_sha256", str), memory=_opt(data, "memory", dict),
                  problem_class=_opt(data, "problem_class", dict), solver_choice=_opt(data, "solver_choice", dict))
