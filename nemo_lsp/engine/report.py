"""The result of one run: what the CLI prints, the server shows and the benchmark scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..findings import Finding, Severity


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
        }
