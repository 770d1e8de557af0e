"""The run's solver backend: the model block's problem class, the recommender's choice, NEMO530.

Availability is probed once per process (nemo_lsp/solvers/probe.py); the choice itself is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..analysis import Analysis
from ..findings import Finding, finding
from ..model.classify import ProblemClass, classify
from ..solvers import Recommendation, available_solvers, recommend
from .settings import Settings


@dataclass(frozen=True)
class Choice:
    """What the run solves with; `problem` is None for a spec without a model block (class unknown)."""

    problem: ProblemClass | None
    recommendation: Recommendation | None

    def settings(self, settings: Settings) -> Settings:
        r = self.recommendation
        if r is None or r.solver is None:
            return settings
        return replace(settings, solver=r.solver, solver_optimality=r.optimality or "global")

    def refusal(self, analysis: Analysis) -> Finding | None:
        """NEMO530 on the objective when no installed backend solves the class, naming the one that would."""
        r = self.recommendation
        if self.problem is None or r is None or r.ok:
            return None
        where = analysis.model.objective.span if analysis.model and analysis.model.objective else analysis.spec.title_span
        return finding("NEMO530", f"this model is {self.problem.label} ({self.problem.reason}), and no installed "
                       f"solver handles it: {r.reason.split('; ', 1)[-1]}. Install it with `{r.install}` (or "
                       "`pip install 'nemo-lsp[nonlinear]'`); `nemo doctor` lists the solvers found here.", where,
                       data={"problem_class": self.problem.to_json(), "needed": r.needed, "install": r.install})


def choose_backend(analysis: Analysis) -> Choice:
    if analysis.model is None or analysis.model.objective is None:
        return Choice(None, None)
    problem = classify(analysis.model, analysis.data)
    return Choice(problem, recommend(problem, available_solvers()))
