"""NEMO's asymmetric validation, as a pure function of the two results.

The optimizer proposes; the simulator judges. An answer is validated only when the solver proved
it optimal (or reached a status the spec accepts), the simulator finds every constraint satisfied,
and both compute the same objective within tolerance. Everything else becomes a finding placed on
the spec line it concerns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..analysis import Analysis
from ..findings import Finding, Related, Severity, Span, finding
from .report import Solution, Verdict
from .settings import Settings

MAX_VIOLATION_FINDINGS = 20


@dataclass(frozen=True)
class Validation:
    outcome: str
    solution: Solution | None
    verdict: Verdict | None
    findings: tuple[Finding, ...]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("inf", "-inf", "nan"):
        return float(value)
    return None


class Locator:
    """Finds the spec span a named model component or a quoted sentence stands for."""

    def __init__(self, analysis: Analysis) -> None:
        self.a = analysis

    def title(self) -> Span:
        return self.a.spec.title_span

    def constraint(self, name: str | None, line: int | None = None, quote: str | None = None) -> Span:
        model = self.a.model
        if model is not None and name:
            base = name.split("[")[0]
            if base in model.constraints:
                return model.constraints[base].name_span
            if base in model.vars:
                return model.vars[base].span
        if isinstance(line, int) and 1 <= line <= len(self.a.spec.lines):
            return self.a.spec.line_span(line - 1)
        if quote:
            s = self.a.spec.find_sentence(quote)
            if s is not None:
                return s.span
        return self.title()

    def objective(self) -> Span:
        if self.a.model is not None and self.a.model.objective is not None:
            return self.a.model.objective.span
        return self.title()

    def variable(self, name: str | None) -> Span:
        if self.a.model is not None and name in self.a.model.vars:
            return self.a.model.vars[name].span  # type: ignore[index]
        return self.title()


def error_finding(code: str, payload: dict[str, Any], module: str, where: Span) -> Finding:
    """A finding for code that raised, pointing into the generated module at the failing line."""
    err = payload.get("error") or {}
    frames = [f for f in err.get("frames", []) if f.get("file") in (module.split("/")[-1], "optimizer.py",
                                                                      "simulator.py")]
    related: tuple[Related, ...] = ()
    at = ""
    if frames:
        line = int(frames[-1].get("line") or 1)
        related = (Related(module, Span.at(line - 1, 0), f"raised here: {frames[-1].get('code') or ''}".strip()),)
        at = f" (at {module.split('/')[-1]}:{line})"
    message = f"{err.get('type', 'Error')}: {err.get('message', '')}{at}".strip()
    fixes = ("repair_optimizer", "regenerate") if code == "NEMO301" else ("repair_simulator", "regenerate")
    return finding(code, message, where, fixes=fixes, related=related,
                   data={"traceback": err.get("traceback", "")})


def _key(index: Any) -> str:
    if index is None:
        return ""
    parts = index if isinstance(index, list) else [index]
    return "[" + ", ".join(str(p) for p in parts) + "]"


def validate(analysis: Analysis, optimizer: dict[str, Any], simulator: dict[str, Any] | None,
             settings: Settings, files: dict[str, str]) -> Validation:
    loc = Locator(analysis)
    out: list[Finding] = []
    status = str(optimizer.get("status") or "unknown")
    solution = Solution(
        status=status, objective=_number(optimizer.get("objective")), sense=optimizer.get("sense"),
        decisions=optimizer.get("decisions"), bound=_number(optimizer.get("bound")),
        solver=optimizer.get("solver"), solver_version=optimizer.get("solver_version"),
        timing={k: float(v) for k, v in (optimizer.get("timing") or {}).items() if isinstance(v, (int, float))})
    expect = analysis.spec.front.values.get("expect") or {}
    expected_status = expect.get("status")

    if status in ("infeasible", "unbounded"):
        solution = Solution(status=status, sense=solution.sense, solver=solution.solver,
                            solver_version=solution.solver_version, timing=solution.timing)
    if status == "infeasible":
        out.extend(_infeasible(optimizer, loc, expected_status == "infeasible"))
        return Validation(_expected_or(status, expected_status, out), solution, None, tuple(out))
    if status == "unbounded":
        out.extend(_unbounded(optimizer, loc, expected_status == "unbounded"))
        return Validation(_expected_or(status, expected_status, out), solution, None, tuple(out))
    if status == "locally_optimal":
        out.append(finding("NEMO420", f"{optimizer.get('solver') or 'the solver'} proves a local optimum only: "
                           "a better solution may exist elsewhere. The answer is validated as a local optimum; "
                           "install SCIP (`pip install pyscipopt`) for a proven global optimum.", loc.objective()))
    if status not in settings.accept_status and not (status == "locally_optimal" and "optimal" in settings.accept_status):
        out.append(finding("NEMO403", f"the solver stopped with status `{status}` "
                           f"({optimizer.get('termination')}); accepted statuses are "
                           f"{', '.join(settings.accept_status)}. Raise `time_limit` or add the status to "
                           "`accept_status` in the front matter.", loc.title(), fixes=("regenerate",)))
        if solution.decisions is None:
            return Validation("rejected", solution, None, tuple(out))
    if expected_status in ("infeasible", "unbounded"):
        out.append(finding("NEMO407", f"the spec expects the problem to be {expected_status}, but the solver "
                           f"found a solution (status `{status}`)", loc.title()))

    verdict = None
    if simulator is not None and simulator.get("ok") is False:
        out.append(error_finding("NEMO302", simulator, files.get("simulator", ""), loc.title()))
    elif simulator is not None:
        verdict = Verdict(feasible=bool(simulator.get("feasible")), objective=_number(simulator.get("objective")),
                          violations=tuple(simulator.get("violations") or ()),
                          checked=int(simulator.get("checked") or 0),
                          slack={str(k): float(v) for k, v in (simulator.get("slack") or {}).items()
                                 if _number(v) is not None})
        out.extend(_simulator_findings(simulator, loc))
        out.extend(_objective_agreement(solution, verdict, settings, loc))
    outcome = "validated" if verdict is not None and not any(f.is_error for f in out) else "rejected"
    if "objective" in expect and solution.objective is not None:
        target = float(expect["objective"])
        if not settings.expect_tolerance.agrees(target, solution.objective):
            source = f" ({expect['source']})" if expect.get("source") else ""
            out.append(finding("NEMO406", f"objective {solution.objective:.10g} differs from the expected "
                               f"{target:.10g}{source}", loc.objective(), fixes=("regenerate",)))
    return Validation(outcome, solution, verdict, tuple(out))


def _expected_or(status: str, expected: str | None, out: list[Finding]) -> str:
    if expected == status:
        out.append(finding("NEMO409", f"the problem is {status}, as the spec's `expect.status` says", None))
        return "expected"
    if expected == "optimal":
        out.append(finding("NEMO407", f"the spec expects an optimal solution, but the problem is {status}", None))
    return status


def _infeasible(optimizer: dict[str, Any], loc: Locator, expected: bool) -> list[Finding]:
    severity = Severity.INFO if expected else Severity.ERROR
    conflict = optimizer.get("conflict") or []
    minimal = optimizer.get("conflicting_constraints")
    names = list(minimal) if minimal else list(dict.fromkeys(c.get("constraint", "?") for c in conflict))
    if minimal:
        listed = (f": {', '.join(f'`{n}`' for n in names)} cannot all hold together (dropping any one of them "
                  "makes the rest feasible)")
    elif names:
        listed = f": relaxing {', '.join(f'`{n}`' for n in names)} makes it feasible"
    else:
        listed = ""
    out = [finding("NEMO404", f"the problem is infeasible{listed}", loc.title(), severity=severity,
                   data={"conflict": conflict, "conflicting_constraints": minimal})]
    amounts = {c.get("constraint"): c for c in conflict}
    for name in names[:MAX_VIOLATION_FINDINGS]:
        relax = amounts.get(name)
        by = (f"; relaxing `{name}{_key(relax.get('index'))}` alone by {float(relax.get('relaxation', 0)):.6g} "
              "restores feasibility") if relax else ""
        out.append(finding("NEMO404", f"`{name}` is part of the conflict{by}", loc.constraint(name),
                           severity=severity))
    return out


def _unbounded(optimizer: dict[str, Any], loc: Locator, expected: bool) -> list[Finding]:
    severity = Severity.INFO if expected else Severity.ERROR
    rays = optimizer.get("rays") or []
    names = list(dict.fromkeys(r.get("variable", "?") for r in rays))
    listed = f"; it grows without limit through {', '.join(f'`{n}`' for n in names)}" if names else ""
    out = [finding("NEMO405", f"the problem is unbounded: the objective can improve forever{listed}. A limit "
                   "from the text is probably missing from the model.", loc.objective(), severity=severity,
                   data={"rays": rays})]
    for name in names[:MAX_VIOLATION_FINDINGS]:
        out.append(finding("NEMO405", f"`{name}` has no upper limit in the direction that improves the "
                           "objective", loc.variable(name), severity=severity))
    return out


def _simulator_findings(simulator: dict[str, Any], loc: Locator) -> list[Finding]:
    out: list[Finding] = []
    missing = simulator.get("missing") or []
    if missing:
        shown = ", ".join(f"{m.get('variable')}{_key(m.get('index'))}" for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        out.append(finding("NEMO408", f"the optimizer's decisions lack values for {shown}{more}",
                           loc.variable(missing[0].get("variable")), fixes=("repair_optimizer",),
                           data={"missing": missing}))
    by_name: dict[str, list[dict[str, Any]]] = {}
    for v in simulator.get("violations") or []:
        by_name.setdefault(str(v.get("constraint")), []).append(v)
    for name, items in list(by_name.items())[:MAX_VIOLATION_FINDINGS]:
        worst = max(items, key=lambda v: _number(v.get("amount")) or 0.0)
        more = f" ({len(items)} indices violated in all)" if len(items) > 1 else ""
        kind = worst.get("kind")
        what = {"bound": "bound", "integrality": "integrality"}.get(kind, "constraint")
        lhs, rhs = _number(worst.get("lhs")), _number(worst.get("rhs"))
        detail = (f": {lhs:.10g} {worst.get('sense')} {rhs:.10g} fails by {_number(worst.get('amount')) or 0:.6g}"
                  if lhs is not None and rhs is not None else "")
        out.append(finding("NEMO401", f"the simulator finds {what} `{name}{_key(worst.get('index'))}` violated by "
                           f"the optimizer's decisions{detail}{more}",
                           loc.constraint(name, worst.get("line"), worst.get("source")),
                           fixes=("repair_optimizer", "repair_simulator"), data={"violations": items[:50]}))
    return out


def _objective_agreement(solution: Solution, verdict: Verdict, settings: Settings, loc: Locator) -> list[Finding]:
    if solution.objective is None or verdict.objective is None:
        if verdict.feasible:
            return [finding("NEMO402", "the objective could not be compared: "
                            f"optimizer {solution.objective}, simulator {verdict.objective}", loc.objective())]
        return []
    if not (math.isfinite(solution.objective) and math.isfinite(verdict.objective)) or not settings.tolerance.agrees(
            solution.objective, verdict.objective):
        gap = verdict.objective - solution.objective
        return [finding("NEMO402", f"the optimizer reports objective {solution.objective:.10g} but the simulator "
                        f"computes {verdict.objective:.10g} for the same decisions (gap {gap:.3g}; tolerance "
                        f"{settings.tolerance.abs:g} + {settings.tolerance.rel:g}·|F|)", loc.objective(),
                        fixes=("repair_optimizer", "repair_simulator"),
                        data={"optimizer": solution.objective, "simulator": verdict.objective})]
    return []
