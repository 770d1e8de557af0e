"""Choosing the backend for a problem class: a pure function of the class and the installed solvers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..model.classify import ProblemClass
from .catalog import BACKENDS, Backend

PREFERENCE: dict[str, tuple[str, ...]] = {
    "LP": ("highs", "scip", "gurobi"),
    "MILP": ("highs", "scip", "gurobi"),
    "QP": ("highs", "scip", "gurobi", "ipopt"),
    "MIQP": ("scip", "gurobi"),
    "NLP": ("scip", "gurobi", "ipopt"),
    "MINLP": ("scip", "gurobi"),
}
"""Per class, the backends that can solve it, best first: proven global optima before local ones."""


@dataclass(frozen=True)
class Recommendation:
    """The backend chosen for a problem, why, and what to install when nothing here can solve it."""

    solver: str | None
    """The chosen backend's name; None when no installed backend solves the class."""
    reason: str
    optimality: str | None = None
    """`global`: its optimum is proven; `local`: a local optimum only (reported `locally_optimal`)."""
    needed: str | None = None
    """When no backend is installed: the one that would solve the class."""
    install: str | None = None
    """How to install `needed`."""
    version: str | None = None

    @property
    def ok(self) -> bool:
        return self.solver is not None

    def to_json(self) -> dict[str, Any]:
        return {"solver": self.solver, "version": self.version, "reason": self.reason,
                "optimality": self.optimality, "needed": self.needed, "install": self.install}

    @classmethod
    def from_json(cls, data: Any) -> Recommendation | None:
        if not isinstance(data, dict) or not isinstance(data.get("reason"), str):
            return None
        fields = ("solver", "optimality", "needed", "install", "version")
        if any(data.get(k) is not None and not isinstance(data.get(k), str) for k in fields):
            return None
        return cls(data.get("solver"), data["reason"], data.get("optimality"), data.get("needed"),
                   data.get("install"), data.get("version"))


def recommend(problem: ProblemClass, available: Mapping[str, str]) -> Recommendation:
    """The best installed backend for the class (`available`: name -> version), with the reason.

    A backend that proves a global optimum beats one that finds a local optimum, whatever the order.
    """
    candidates = [BACKENDS[n] for n in PREFERENCE[problem.name]]
    ranked = [b for b in candidates if b.solves(problem.name, problem.convex) == "global"] + [
        b for b in candidates if b.solves(problem.name, problem.convex) == "local"]
    for b in ranked:
        if b.name in available:
            how = b.solves(problem.name, problem.convex)
            return Recommendation(b.name, _reason(problem, b, how, ranked), how, version=available[b.name])
    best, others = ranked[0], ", ".join(b.label for b in ranked[1:])
    return Recommendation(None, f"{problem.label}: no installed solver handles it; {best.label} would"
                          f"{f' (so would {others})' if others else ''}", None, best.name, best.install)


def _reason(problem: ProblemClass, chosen: Backend, how: str | None, ranked: list[Backend]) -> str:
    passed = [b.label for b in ranked[:ranked.index(chosen)]]
    skipped = f"; {', '.join(passed)} not installed" if passed else ""
    if how == "local":
        return (f"{problem.label}: {chosen.label} finds a local optimum only ({chosen.note}){skipped}; "
                "install SCIP (`pip install pyscipopt`) for a proven global optimum")
    if chosen.name == "highs":
        return f"{problem.label}: HiGHS solves it to proven optimality"
    why = {"QP": "HiGHS takes a quadratic objective only when it is convex",
           "MIQP": "HiGHS has no mixed-integer quadratic solver",
           "NLP": "HiGHS takes no nonlinear terms",
           "MINLP": "HiGHS takes no nonlinear terms"}.get(problem.name, "HiGHS is not installed")
    return f"{problem.label}: {why}; {chosen.label} proves a global optimum ({chosen.note}){skipped}"
