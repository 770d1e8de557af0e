"""The harness's direct route to HiGHS against Pyomo's own HiGHS interface, on every example and on
models built to hit the corners (zero coefficients, fixed variables, constants on both sides,
ranges, named expressions, mutable parameters, variables only in the objective, no or two
objectives, quadratic terms, infeasible and unbounded models).

Where the route applies, HiGHS must receive the very LP that pyomo.contrib.solver's Highs builds
(columns, rows, bounds, costs, offset, integrality, matrix), and both routes must give the same
result: status, objective, bound and decisions, bit for bit. Where it does not apply, the harness
must fall back to Pyomo's interface (`route: pyomo`).
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pyo = pytest.importorskip("pyomo.environ")
highspy = pytest.importorskip("highspy")

from nemo_lsp.engine import Settings, run  # noqa: E402
from nemo_lsp.resources import templates_dir  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _linear(path: Path) -> bool:
    """The direct route is for the linear examples (LP, MILP); the others go to their own solvers."""
    from nemo_lsp.analysis import analyze
    from nemo_lsp.model.classify import classify

    a = analyze(path.read_text(encoding="utf-8"))
    return a.model is not None and classify(a.model, a.data).name in ("LP", "MILP")


EXAMPLES = [e for e in sorted((REPO / "examples").glob("*.opt.md")) + sorted((REPO / "examples" / "large").glob(
    "*.opt.md")) if _linear(e)]


def load_harness() -> Any:
    spec = importlib.util.spec_from_file_location("nemo_test_harness", templates_dir() / "harness.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


H = load_harness()


def contrib_lp(model: Any) -> Any:
    """The LP pyomo.contrib.solver's Highs hands to HiGHS for this model, after its own solve."""
    from pyomo.contrib.solver.common.factory import SolverFactory

    opt = SolverFactory("highs")
    opt.solve(model, load_solutions=False, raise_exception_on_nonoptimal_result=False)
    return opt._solver_model.getLp(), opt._pyomo_var_to_solver_var_map


def lp_arrays(lp: Any) -> dict[str, list[float]]:
    m = lp.a_matrix_
    return {"cost": list(lp.col_cost_), "col_lower": list(lp.col_lower_), "col_upper": list(lp.col_upper_),
            "row_lower": list(lp.row_lower_), "row_upper": list(lp.row_upper_), "start": list(m.start_),
            "index": list(m.index_), "value": list(m.value_), "integrality": [int(i) for i in lp.integrality_],
            "sense": [int(lp.sense_)], "offset": [lp.offset_], "shape": [lp.num_col_, lp.num_row_]}


def same_lp(build: Callable[[], Any]) -> None:
    """compile_lp's LP is contrib's LP, column for column."""
    model = build()
    objectives = list(model.component_data_objects(pyo.Objective, active=True))
    built = H.direct_highs(model, objectives)
    assert built is not None, "the direct route refused a model it should cover"
    h, columns = built
    h.run()  # both LPs as HiGHS keeps them once it has solved (column-wise)
    theirs, var_map = contrib_lp(build())
    mine = lp_arrays(h.getLp())
    assert mine == lp_arrays(theirs)
    assert len(columns) == len(var_map)


def both_routes(module_text: str, data: dict[str, Any], tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    path = tmp_path / "optimizer.py"
    path.write_text(module_text, encoding="utf-8")
    data_path = tmp_path / "data.json"
    import json

    data_path.write_text(json.dumps(data), encoding="utf-8")
    direct = H.optimize(str(path), str(data_path), None, 30.0, "direct")
    pyomo = H.optimize(str(path), str(data_path), None, 30.0, "pyomo")
    return direct, pyomo


FIELDS = ("ok", "status", "termination", "solution_status", "objective", "bound", "decisions", "sense",
          "solver", "solver_version", "conflict", "conflicting_constraints", "rays")


def assert_same(direct: dict[str, Any], pyomo: dict[str, Any]) -> None:
    for key in FIELDS:
        assert direct.get(key) == pyomo.get(key), (key, direct.get(key), pyomo.get(key))


# --- every example -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each example solved once by the engine: its run folder holds the generated optimizer and data."""
    out = {}
    base = tmp_path_factory.mktemp("examples")
    for example in EXAMPLES:
        spec = Path(shutil.copyfile(example, base / example.name))
        asyncio.run(run(spec, base=Settings()))
        out[example.name] = spec.parent / ".nemo" / example.name[: -len(".opt.md")] / "run"
    return out


@pytest.mark.parametrize("example", [pytest.param(e.name, id=e.stem) for e in EXAMPLES])
def test_both_routes_give_the_same_result_on_every_example(generated: dict[str, Path], example: str) -> None:
    folder = generated[example]
    module, data = str(folder / "optimizer.py"), str(folder / "data.json")
    direct = H.optimize(module, data, None, 60.0, "direct")
    pyomo = H.optimize(module, data, None, 60.0, "pyomo")
    assert direct["route"] == "direct" and pyomo["route"] == "pyomo"
    assert_same(direct, pyomo)
    assert {"build", "compile", "highs", "solve"} <= set(direct["timing"])


@pytest.mark.parametrize("example", [pytest.param(e.name, id=e.stem) for e in EXAMPLES])
def test_highs_receives_the_same_lp_on_every_example(generated: dict[str, Path], example: str) -> None:
    import json

    folder = generated[example]
    module = H.load_module(str(folder / "optimizer.py"), "optimizer")
    data = json.loads((folder / "data.json").read_text(encoding="utf-8"))
    same_lp(lambda: module.build_model(data))


# --- corners --------------------------------------------------------------------------------------------------

CORNER = """\
    m = pyo.ConcreteModel()
    m.I = pyo.Set(initialize=["a", "b", "c"], ordered=True)
    m.p = pyo.Param(m.I, initialize={"a": 2.0, "b": 0.0, "c": 3.5}, mutable=True)
    m.x = pyo.Var(m.I, bounds=(0, 10))
    m.y = pyo.Var(domain=pyo.Binary)
    m.z = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(None, 7))
    m.w = pyo.Var()  # free, bounded only through the constraints
    m.only_objective = pyo.Var(bounds=(1, 2))
    m.unused = pyo.Var(bounds=(0, 1))
    m.e = pyo.Expression(expr=m.x["a"] + 2 * m.x["b"])
    m.c1 = pyo.Constraint(expr=m.x["c"] - m.x["c"] + m.y <= 1)  # x[c] with a zero coefficient
    m.c2 = pyo.Constraint(expr=3 + m.e >= m.z - 4)  # constants and variables on both sides
    m.c3 = pyo.Constraint(expr=pyo.inequality(-5, m.w + m.x["a"], 5))  # a range
    m.c4 = pyo.Constraint(expr=m.e + m.w == 4)  # the named expression again, an equality
    m.c5 = pyo.Constraint(expr=sum(m.p[i] * m.x[i] for i in m.I) <= 20)  # a zero data coefficient
    m.c6 = pyo.Constraint(expr=0 * m.x["a"] + m.z <= 6)
    m.obj = pyo.Objective(expr=sum(m.x[i] for i in m.I) + 5 * m.y + m.z + m.only_objective - m.w + 12.5,
                          sense=pyo.maximize)
    return m"""


def builder_source(body: str) -> str:
    return "import pyomo.environ as pyo\n\n\ndef corner_model():\n" + body + "\n"


def corner_model() -> Any:
    namespace: dict[str, Any] = {}
    exec(builder_source(CORNER), namespace)  # noqa: S102 - the test's own model
    return namespace["corner_model"]()


def test_the_corners_reach_highs_as_pyomo_would_hand_them() -> None:
    same_lp(corner_model)


CORNER_MODULE = '''
import pyomo.environ as pyo


def build_model(data):
    namespace = {}
    with open(data["here"] + "/corner.py", encoding="utf-8") as fh:
        exec(fh.read(), namespace)
    return namespace["corner_model"]()
'''


def module_for(tmp_path: Path, builder: str) -> dict[str, Any]:
    (tmp_path / "corner.py").write_text(builder, encoding="utf-8")
    return {"here": str(tmp_path)}


VARIANTS = {
    # covered by the direct route
    "corner": (CORNER, "direct"),
    "infeasible": ("    m = pyo.ConcreteModel()\n    m.x = pyo.Var(bounds=(0, 1))\n    m.y = pyo.Var(bounds=(0, 1))\n"
                   "    m.a = pyo.Constraint(expr=m.x + m.y >= 3)\n    m.b = pyo.Constraint(expr=m.x <= 2)\n"
                   "    m.o = pyo.Objective(expr=m.x + m.y)\n    return m", "direct"),
    "unbounded": ("    m = pyo.ConcreteModel()\n    m.x = pyo.Var(bounds=(0, None))\n    m.y = pyo.Var(bounds=(0, 4))\n"
                  "    m.a = pyo.Constraint(expr=m.x - m.y >= 1)\n"
                  "    m.o = pyo.Objective(expr=m.x + m.y, sense=pyo.maximize)\n"
                  "    return m", "direct"),
    "integer": ("    m = pyo.ConcreteModel()\n    m.I = pyo.RangeSet(1, 12)\n"
                "    m.x = pyo.Var(m.I, domain=pyo.Binary)\n"
                "    m.cap = pyo.Constraint(expr=sum((i % 5 + 1) * m.x[i] for i in m.I) <= 17)\n"
                "    m.o = pyo.Objective(expr=sum((i * 7 % 11 + 1) * m.x[i] for i in m.I), sense=pyo.maximize)\n"
                "    return m", "direct"),
    # left to Pyomo's interface
    "fixed variable": ("    m = pyo.ConcreteModel()\n    m.x = pyo.Var(bounds=(0, 5))\n"
                       "    m.y = pyo.Var(bounds=(0, 5))\n"
                       "    m.y.fix(2)\n    m.a = pyo.Constraint(expr=m.x + m.y <= 4)\n"
                       "    m.o = pyo.Objective(expr=m.x + m.y, sense=pyo.maximize)\n    return m", "pyomo"),
    "quadratic objective": ("    m = pyo.ConcreteModel()\n    m.x = pyo.Var(bounds=(-3, 5))\n"
                            "    m.o = pyo.Objective(expr=(m.x - 1) ** 2)\n    return m", "pyomo"),
    "no objective": ("    m = pyo.ConcreteModel()\n    m.x = pyo.Var(bounds=(0, 5))\n"
                     "    m.a = pyo.Constraint(expr=m.x >= 1)\n    return m", "pyomo"),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_both_routes_agree_on_the_corners(tmp_path: Path, name: str) -> None:
    body, route = VARIANTS[name]
    data = module_for(tmp_path, builder_source(body))
    direct, pyomo = both_routes(CORNER_MODULE, data, tmp_path)
    assert direct["route"] == route
    assert_same(direct, pyomo)
    if name == "corner":
        assert direct["decisions"]["unused"] is None  # never handed to HiGHS by either route
        assert direct["decisions"]["only_objective"] == 2
