"""The solver backends nemo-lsp can route a model to, and what each one proves.

Each is reached through Pyomo's solver interface (`pyomo.contrib.solver`) inside the sandbox (see
templates/harness.py). `global_classes` are solved to a proven global optimum, `convex_classes` only
when the problem is convex, `local_classes` to a local optimum (reported as `locally_optimal`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backend:
    name: str
    """The name used in reports, settings and `--solver` (highs, scip, gurobi, ipopt)."""
    label: str
    """How people write it."""
    distribution: str
    """The package that brings it: a PyPI distribution, or an executable on PATH for `ipopt`."""
    pyomo: str
    """Its name in Pyomo's solver factory (pyomo.contrib.solver)."""
    install: str
    """One command that installs it here."""
    global_classes: frozenset[str]
    convex_classes: frozenset[str] = frozenset()
    local_classes: frozenset[str] = frozenset()
    note: str = ""

    def solves(self, name: str, convex: bool | None) -> str | None:
        """`global`, `local` or None: how this backend solves a class."""
        if name in self.global_classes or (convex is True and name in self.convex_classes):
            return "global"
        if name in self.local_classes:
            return "local"
        return None


HIGHS = Backend("highs", "HiGHS", "highspy", "highs", "pip install highspy",
                frozenset({"LP", "MILP"}), convex_classes=frozenset({"QP"}),
                note="simplex, interior point and branch and cut; QP only when convex, no MIQP or nonlinear terms")
SCIP = Backend("scip", "SCIP", "pyscipopt", "scip_direct", "pip install pyscipopt",
               frozenset({"LP", "MILP", "QP", "MIQP", "NLP", "MINLP"}),
               note="spatial branch and bound, for nonconvex and mixed-integer nonlinear models")
GUROBI = Backend("gurobi", "Gurobi", "gurobipy", "gurobi_direct_minlp", "pip install gurobipy",
                 frozenset({"LP", "MILP", "QP", "MIQP", "NLP", "MINLP"}),
                 note="the pip licence is limited to 2000 variables and 2000 constraints")
IPOPT = Backend("ipopt", "IPOPT", "ipopt", "ipopt", "put an `ipopt` executable (a COIN-OR build) on PATH",
                frozenset(), convex_classes=frozenset({"QP", "NLP"}), local_classes=frozenset({"QP", "NLP"}),
                note="interior point: a local optimum of a continuous nonlinear problem (global when convex)")

BACKENDS: dict[str, Backend] = {b.name: b for b in (HIGHS, SCIP, GUROBI, IPOPT)}
"""In order of preference: the open-source, unlimited backends first."""
