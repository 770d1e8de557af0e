"""The recommender: class + installed backends -> the backend, why, or the one to install."""

from __future__ import annotations

import pytest

from nemo_lsp.model.classify import ProblemClass
from nemo_lsp.solvers import recommend

BOTH = {"highs": "1.16.0", "scip": "6.3.0"}


@pytest.mark.parametrize("name, convex, integer, solver", [
    pytest.param("LP", True, False, "highs", id="lp"),
    pytest.param("MILP", True, True, "highs", id="milp"),
    pytest.param("QP", True, False, "highs", id="convex-qp"),
    pytest.param("QP", False, False, "scip", id="nonconvex-qp"),
    pytest.param("QP", None, False, "scip", id="undecided-qp"),
    pytest.param("MIQP", True, True, "scip", id="miqp"),
    pytest.param("NLP", None, False, "scip", id="nlp"),
    pytest.param("MINLP", False, True, "scip", id="minlp"),
])
def test_each_class_goes_to_a_backend_that_proves_its_optimum(name: str, convex: bool | None, integer: bool,
                                                              solver: str) -> None:
    r = recommend(ProblemClass(name, convex, integer), BOTH)
    assert (r.solver, r.optimality, r.version) == (solver, "global", BOTH[solver])


def test_the_reason_says_why_highs_was_passed_over() -> None:
    r = recommend(ProblemClass("MIQP", True, True), BOTH)
    assert "HiGHS has no mixed-integer quadratic solver" in r.reason and "SCIP" in r.reason


def test_without_a_nonlinear_backend_the_class_names_the_solver_that_would_solve_it() -> None:
    r = recommend(ProblemClass("MINLP", False, True), {"highs": "1.16.0"})
    assert not r.ok
    assert (r.needed, r.install) == ("scip", "pip install pyscipopt")
    assert "SCIP would (so would Gurobi)" in r.reason


def test_gurobi_is_chosen_when_it_is_the_only_nonlinear_backend() -> None:
    r = recommend(ProblemClass("MINLP", None, True), {"highs": "1", "gurobi": "13.0.3"})
    assert (r.solver, r.optimality) == ("gurobi", "global")


def test_a_local_solver_is_a_last_resort_and_says_its_optimum_is_local() -> None:
    r = recommend(ProblemClass("NLP", None, False), {"highs": "1", "ipopt": "3.14"})
    assert (r.solver, r.optimality) == ("ipopt", "local")
    assert "local optimum only" in r.reason


def test_a_local_solver_proves_the_optimum_of_a_convex_problem() -> None:
    r = recommend(ProblemClass("NLP", True, False), {"highs": "1", "ipopt": "3.14"})
    assert (r.solver, r.optimality) == ("ipopt", "global")
