"""The problem class and the chosen solver, for the objective's code lens and hover. Pure over the analysis
(availability is probed once per process, without importing any solver)."""

from __future__ import annotations

from ..analysis import Analysis
from ..model.classify import ProblemClass, classify_cached
from ..solvers import Recommendation, available_solvers, recommend


def problem_of(analysis: Analysis) -> tuple[ProblemClass, Recommendation] | None:
    """The model block's class and the backend it would run with; None without a readable objective."""
    model = analysis.model
    if model is None or model.objective is None or not analysis.ok:
        return None
    problem = classify_cached(analysis.spec.sha256, model, analysis.data)
    return problem, recommend(problem, available_solvers())


def class_lens_title(analysis: Analysis) -> str | None:
    """`MINLP (nonconvex) · solver scip`, or `NLP (...) · no solver installed: install SCIP`."""
    found = problem_of(analysis)
    if found is None:
        return None
    problem, r = found
    if r.solver is None:
        return f"{problem.label} · no solver installed: {r.install}"
    local = " (local optima)" if r.optimality == "local" else ""
    return f"{problem.label} · solver {r.solver}{local}"


def class_hover(analysis: Analysis) -> str | None:
    """On `minimize`/`maximize`: the class, why, and the solver choice with its reason."""
    found = problem_of(analysis)
    if found is None:
        return None
    problem, r = found
    solver = (f"**solver:** {r.solver} {r.version or ''}".rstrip() if r.solver else
              f"**solver:** none installed; install with `{r.install}`")
    return f"**problem class: {problem.label}**\n\n{problem.reason}\n\n{solver}\n\n{r.reason}"
