"""The simulator gate: the simulator must reproduce the verdicts of its checks before its own verdicts count.

Checks come from the spec (front matter `checks` and the model block's `checks` section, see
spec/checks.py). A spec without checks lets a coding agent's simulator bring its own (a `CHECKS`
list in the module, asked for in the simulator prompt); the formal agent's simulator is compiled
from the model block and has none. Every check runs in one sandboxed process (templates/scorer.py).
A failed check is evidence for a simulator repair session; a simulator that still fails is
reported (NEMO411, on the check's line) and the run is not validated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..analysis import Analysis
from ..findings import Finding, Span, finding
from ..sandbox import Sandbox
from ..spec.checks import Check, read_check, read_checks
from .layout import Layout
from .scoring import score_batch
from .settings import Settings, Tolerance
from .validate import error_finding

MAX_EVIDENCE_CHECKS = 20


def spec_checks(analysis: Analysis) -> list[Check]:
    """The spec's checks, front matter first, then the model block's, each with its span."""
    front = analysis.spec.front.node.get("checks") if analysis.spec.front.node is not None else None
    model = analysis.model.checks_node if analysis.model is not None else None
    return read_checks(front)[0] + read_checks(model, "NEMO121")[0]


@dataclass(frozen=True)
class CheckResult:
    check: Check
    passed: bool
    got: dict[str, Any]
    """The simulator's verdict: feasible, objective, violations, error."""
    reason: str = ""
    """Why it failed, in a sentence (empty when it passed)."""
    own: bool = False
    """Written by the simulator's author (`CHECKS`), not by the spec."""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.check.name, "passed": self.passed, "reason": self.reason, "own": self.own,
                "expected": {"feasible": self.check.feasible, "objective": self.check.objective},
                "got": {k: self.got.get(k) for k in ("feasible", "objective", "error")},
                "line": self.check.span.line + 1 if self.check.span else None}


def judge(check: Check, got: dict[str, Any], tolerance: Tolerance, own: bool = False) -> CheckResult:
    """Pure: does the simulator's verdict on a check's decisions match what the check expects?"""
    if got.get("error"):
        return CheckResult(check, False, got, f"the simulator raised {got['error']}", own)
    if got.get("feasible") is not check.feasible:
        said = "feasible" if got.get("feasible") else "infeasible"
        broke = _violations(got)
        return CheckResult(check, False, got, f"the simulator says {said}{broke} but the check expects "
                           f"{'feasible' if check.feasible else 'infeasible'}", own)
    if check.objective is not None:
        value = got.get("objective")
        if value is None or not tolerance.agrees(check.objective, float(value)):
            return CheckResult(check, False, got, f"the simulator computes objective {_fmt(value)} but the check "
                               f"expects {check.objective:.10g}", own)
    return CheckResult(check, True, got, "", own)


def _fmt(value: Any) -> str:
    return format(value, ".10g") if isinstance(value, (int, float)) else str(value)


def _violations(got: dict[str, Any]) -> str:
    items = [v for v in got.get("violations") or [] if isinstance(v, dict)]
    if not items:
        return " (missing values)" if got.get("missing") else ""
    shown = ", ".join(f"`{v.get('constraint')}` by {_fmt(v.get('amount'))}" for v in items[:3])
    return f" (violated: {shown})"


@dataclass(frozen=True)
class Gate:
    """The gate's result for the simulator in use."""

    source: str
    """`spec` (the spec's checks), `simulator` (the module's own CHECKS) or `none`."""
    results: tuple[CheckResult, ...] = ()
    findings: tuple[Finding, ...] = ()
    """Why the checks could not run at all (the simulator does not load, a limit was hit)."""
    repairs: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def ok(self) -> bool:
        """The simulator may be trusted: every check passed (or there were none) and they all ran."""
        return not self.findings and self.passed == self.total

    def summary(self) -> str:
        if self.findings:
            return "the checks could not run"
        if not self.total:
            return "no checks"
        mark = "" if self.ok else " FAILED"
        whose = " (the simulator's own)" if self.source == "simulator" else ""
        return f"{self.passed}/{self.total} checks{whose}{mark}"

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "total": self.total, "passed": self.passed, "ok": self.ok,
                "summary": self.summary(), "checks": [r.to_json() for r in self.results],
                "repairs": list(self.repairs)}

    def report_findings(self, title: Span) -> list[Finding]:
        """NEMO411 for each failed check, on its line (the title for the simulator's own checks)."""
        out = list(self.findings)
        for r in self.results:
            if r.passed:
                continue
            whose = "its own check" if r.own else "the spec's check"
            out.append(finding("NEMO411", f"the simulator fails {whose} `{r.check.name}`: {r.reason}; its verdicts "
                               "do not count until it passes", r.check.span or title,
                               fixes=("repair_simulator", "regenerate"),
                               data={"check": r.check.to_json(), "got": r.got}))
        return out

    def evidence(self) -> dict[str, Any]:
        """What a simulator repair session is shown: the failed checks, their decisions and its verdicts."""
        failed = [r for r in self.results if not r.passed][:MAX_EVIDENCE_CHECKS]
        lines = [f"{_whose(r)} check `{r.check.name}`{' (' + r.check.why + ')' if r.check.why else ''}: {r.reason}"
                 for r in failed]
        lines += [f"{f.code}: {f.message}" for f in self.findings]
        return {"lines": lines, "failed_checks": [{**r.check.to_json(), "own": r.own, "got": r.got} for r in failed],
                "errors": [f.message for f in self.findings]}


def _whose(r: CheckResult) -> str:
    return "your" if r.own else "the spec's"


def gate_results(checks: list[Check], payload: dict[str, Any], tolerance: Tolerance) -> tuple[CheckResult, ...]:
    """Pure: the scorer's payload (the spec's checks, then the module's own) judged check by check."""
    scores = list(payload.get("scores") or [])
    scored = list(payload.get("checks") or [])
    out: list[CheckResult] = []
    for position, (raw, got) in enumerate(zip(scored, scores), start=1):
        own = bool(isinstance(raw, dict) and raw.get("own"))
        if own:
            check, _ = read_check({k: v for k, v in raw.items() if k != "own"}, position)
            if check is None:
                continue
        else:
            check = checks[position - 1]
        out.append(judge(check, got, tolerance, own))
    return tuple(out)


async def check_simulator(sandbox: Sandbox, analysis: Analysis, settings: Settings, layout: Layout, simulator: Path,
                          shape: dict[str, Any] | None, own: bool) -> Gate:
    """Run the spec's checks (or, with `own` and none in the spec, the simulator's CHECKS) once."""
    checks = spec_checks(analysis)
    if not checks and not own:
        return Gate("none")
    title = analysis.spec.title_span
    batch = {"checks": [c.to_json() for c in checks], "shape": shape, "own_checks": own and not checks}
    scored = await score_batch(sandbox, simulator, layout.root / "gate", layout.data, batch, settings, title,
                               "simulator gate")
    source = "spec" if checks else "simulator"
    if scored.payload is None:
        return Gate(source, findings=scored.findings)
    if not scored.ok:
        raised = error_finding("NEMO302", scored.payload, str(simulator), title)
        return Gate(source, findings=(replace(raised, message=f"the simulator gate could not run the checks: "
                                                              f"{raised.message}"),))
    results = gate_results(checks, scored.payload, settings.tolerance)
    return Gate(source if results else "none", results)


Repair = Callable[[dict[str, Any], int], Awaitable[str]]
"""Runs one simulator repair session with the gate's evidence and round; returns its outcome
(`repaired`, or why not: `agent failed`, `not ours`)."""


async def gate(sandbox: Sandbox, analysis: Analysis, settings: Settings, layout: Layout, simulator: Path,
               shape: dict[str, Any] | None, own: bool, rounds: int, repair: Repair) -> Gate:
    """Check the simulator; while it fails and rounds remain, repair it and check again."""
    result = await check_simulator(sandbox, analysis, settings, layout, simulator, shape, own)
    repairs: list[dict[str, Any]] = []
    for round_no in range(1, rounds + 1):
        if result.ok:
            break
        evidence = result.evidence()
        outcome = await repair(evidence, round_no)
        repairs.append({"round": round_no, "failed": [c["name"] for c in evidence["failed_checks"]],
                        "outcome": outcome})
        if outcome != "repaired":
            break
        result = await check_simulator(sandbox, analysis, settings, layout, simulator, shape, own)
    return Gate(result.source, result.results, result.findings, tuple(repairs))
