"""Fixed harness that runs a generated optimizer or simulator inside the sandbox.

It is copied next to the generated module into the run folder and started as

    python -I harness.py optimize OPTIMIZER.py DATA.json RESULT.json [--time-limit S] [--route direct|pyomo]
                              [--solver highs|scip|gurobi|ipopt|auto] [--optimality global|local]
                              [--fallback scip|gurobi]
    python -I harness.py simulate SIMULATOR.py DATA.json DECISIONS.json RESULT.json

Agents never write it. The result file is the only channel back: solver banners and stray prints
go to stdout, which the engine keeps as a log but never parses.

A `build_model(data)` module is handed to HiGHS by the direct route (see `compile_lp`): the same LP
that Pyomo's HiGHS interface would build, in a fraction of the time; `--route pyomo` forces
Pyomo's interface. Warm workers (nemo_lsp/sandbox/warm.py) import this file once and call `main`
in a forked child, with the same arguments.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import math
import os
import sys
import time
import traceback
import types

INFINITY_TEST_BOUND = 1e9
"""Box used to show which variables run away in an unbounded model."""


class SolverUnavailable(RuntimeError):
    """HiGHS cannot be loaded in the sandbox's Python."""


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_json(path, payload):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, separators=(",", ":"), default=_jsonable, allow_nan=False)
    os.replace(tmp, path)


def _jsonable(value):
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _clean(value):
    """JSON has no inf/nan: write them as strings the engine understands."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def error_payload(stage, exc):
    tb = traceback.extract_tb(exc.__traceback__)
    frames = [{"file": os.path.basename(f.filename), "line": f.lineno, "function": f.name, "code": f.line}
              for f in tb]
    return {"ok": False, "stage": stage, "error": {
        "type": type(exc).__name__, "message": str(exc)[:4000], "frames": frames[-12:],
        "traceback": "".join(traceback.format_exception(exc))[-8000:]}}


# --- optimizer --------------------------------------------------------------------------------

STATUS = {
    "convergenceCriteriaSatisfied": "optimal", "maxTimeLimit": "time_limit", "iterationLimit": "iteration_limit",
    "objectiveLimit": "objective_limit", "minStepLength": "error", "unbounded": "unbounded",
    "provenInfeasible": "infeasible", "locallyInfeasible": "infeasible",
    "infeasibleOrUnbounded": "infeasible_or_unbounded", "error": "error", "interrupted": "interrupted",
    "licensingProblems": "error", "emptyModel": "optimal", "unknown": "unknown",
}


def var_values(model):
    import pyomo.environ as pyo

    out = {}
    for var in model.component_objects(pyo.Var, active=True, descend_into=True):
        if var.is_indexed():
            rows = []
            for idx, v in var.items():
                key = list(idx) if isinstance(idx, tuple) else [idx]
                rows.append(key + [v.value])
            out[var.local_name] = rows
        else:
            out[var.local_name] = var.value
    return out


def _solve(model, time_limit):
    if BACKEND["solver"] != "highs":
        return backend_solve(model, time_limit)
    import pyomo.environ as pyo  # noqa: F401  (registers the solver plugins)
    from pyomo.contrib.solver.common.factory import SolverFactory

    opt = SolverFactory("highs")
    if opt is None or not opt.available():
        raise SolverUnavailable("HiGHS is not available to Pyomo in the sandbox's Python: install `highspy`")
    options = {"load_solutions": False, "raise_exception_on_nonoptimal_result": False, "tee": False}
    if time_limit:
        options["time_limit"] = float(time_limit)
    return opt, opt.solve(model, **options)


# --- nonlinear backends (SCIP, Gurobi, IPOPT) ---------------------------------------------------------
#
# The engine classifies the model block (LP, MILP, QP, MIQP, NLP, MINLP) and passes the backend it chose
# as `--solver NAME` (nemo_lsp/solvers/recommend.py). HiGHS keeps the direct route above; the others go
# through Pyomo's solver interface. `--optimality local` marks a backend that proves local optima only
# (IPOPT on a problem not known to be convex): its converged answer is `locally_optimal`, never `optimal`.
# BACKEND holds the run's choice so that the helpers that re-solve (infeasibility and unboundedness
# explanations) use the same backend: one run per process, or per forked child in a warm worker.

BACKEND = {"solver": "highs", "optimality": "global"}
PYOMO_SOLVERS = {"scip": "scip_direct", "gurobi": "gurobi_direct_minlp", "ipopt": "ipopt"}
"""Backend name -> Pyomo solver-factory name (pyomo.contrib.solver)."""
PACKAGES = {"scip": "`pyscipopt` (pip install pyscipopt)", "gurobi": "`gurobipy` (pip install gurobipy)",
            "ipopt": "an `ipopt` executable on PATH"}
GAP = 1e-9
"""Relative optimality gap asked of branch-and-bound backends (SCIP's default, 1e-4, is looser than the
objective agreement that validation checks against a spec's `expect`)."""


def backend_solve(model, time_limit):
    """Solve with the run's non-HiGHS backend through Pyomo's interface; results as `_solve` returns them."""
    import pyomo.environ as pyo  # noqa: F401  (registers the solver plugins)
    from pyomo.contrib.solver.common.factory import SolverFactory

    name = BACKEND["solver"]
    if name not in PYOMO_SOLVERS:
        raise SolverUnavailable(f"unknown solver backend `{name}`")
    opt = SolverFactory(PYOMO_SOLVERS[name])
    if opt is None or not opt.available():
        raise SolverUnavailable(f"{name} is not available to Pyomo in the sandbox's Python: install "
                                f"{PACKAGES.get(name, name)}")
    if name == "scip":
        _scip_takes_abs()
    options = {"load_solutions": False, "raise_exception_on_nonoptimal_result": False, "tee": False}
    if name in ("scip", "gurobi"):
        options["rel_gap"] = GAP
    if time_limit:
        options["time_limit"] = float(time_limit)
    return opt, opt.solve(model, **options)


def _scip_takes_abs():
    """Let Pyomo's SCIP interface translate `abs(e)`, which it handles as a function but not as
    Pyomo's own AbsExpression type (Pyomo 6.10): the same handler, registered for that type."""
    try:
        from pyomo.contrib.solver.solvers.scip import base
        from pyomo.core.expr.numeric_expr import AbsExpression
    except ImportError:
        return
    table = getattr(base, "_operator_map", None)
    handler = getattr(base, "_handle_unary", None)
    if isinstance(table, dict) and handler is not None:
        table.setdefault(AbsExpression, handler)


def auto_backend(model, objectives, fallback):
    """For a module whose class the engine does not know (a coding agent's, without a model block):
    HiGHS for linear models and continuous quadratic objectives, else `fallback` (SCIP or Gurobi)."""
    import pyomo.environ as pyo

    def degree(expr):
        d = expr.polynomial_degree()
        return 99 if d is None else d

    linear = all(degree(c.body) <= 1 for c in model.component_data_objects(pyo.Constraint, active=True))
    objective = max((degree(o.expr) for o in objectives), default=0)
    integer = any(not v.is_continuous() for v in model.component_data_objects(pyo.Var, descend_into=True))
    if linear and (objective <= 1 or (objective == 2 and not integer)) or not fallback:
        return "highs"
    return fallback


def backend_status(status):
    """A converged local solver's answer is a local optimum, and its infeasibility is local too."""
    if BACKEND["optimality"] != "local":
        return status
    return {"optimal": "locally_optimal", "infeasible": "locally_infeasible"}.get(status, status)


# --- the direct route to HiGHS -----------------------------------------------------------------
#
# Pyomo's HiGHS interface (pyomo.contrib.solver) spends most of a large LP's time walking the model
# twice (collecting variables, then a standard representation per constraint) before HiGHS starts.
# The direct route walks each constraint once with Pyomo's LinearRepnVisitor (the LP writer's
# compiler) and hands HiGHS the same LP, built with the same calls in the same order: the columns in
# order of first appearance (constraints first, then the objective), the rows in component order,
# the same bounds, costs and offset. So HiGHS sees an identical model and returns the same answer.
# Models the route does not cover (nonlinear terms, SOS, fixed variables, no or several
# objectives, unusual domains) go through Pyomo's interface as before.

_HIGHS_TERMINATION = {
    "kOptimal": "convergenceCriteriaSatisfied", "kInfeasible": "provenInfeasible",
    "kUnboundedOrInfeasible": "infeasibleOrUnbounded", "kUnbounded": "unbounded",
    "kObjectiveBound": "objectiveLimit", "kObjectiveTarget": "objectiveLimit", "kTimeLimit": "maxTimeLimit",
    "kIterationLimit": "iterationLimit", "kSolutionLimit": "iterationLimit", "kLoadError": "error",
    "kModelError": "error", "kPresolveError": "error", "kSolveError": "error", "kPostsolveError": "error",
    "kNotset": "unknown", "kModelEmpty": "unknown", "kUnknown": "unknown",
}
"""HiGHS model status -> Pyomo's TerminationCondition name, as pyomo.contrib.solver's Highs maps it."""


class _Named:
    def __init__(self, name):
        self.name = name


class _DirectLoader:
    def __init__(self, columns, values):
        self._columns, self._values = columns, values

    def load_vars(self):
        for var, val in zip(self._columns, self._values):
            var.set_value(val, skip_validation=True)


class _DirectResults:
    """The part of pyomo.contrib.solver's Results that optimize() reads."""

    def __init__(self, termination, solution_status, objective_bound, loader):
        self.termination_condition = _Named(termination)
        self.solution_status = _Named(solution_status)
        self.objective_bound = objective_bound
        self.solution_loader = loader


class _DirectSolver:
    def version(self):
        import highspy

        return (highspy.HIGHS_VERSION_MAJOR, highspy.HIGHS_VERSION_MINOR, highspy.HIGHS_VERSION_PATCH)


class _FirstSeen:
    """A LinearRepnVisitor var recorder that numbers each variable where it first appears."""

    def __init__(self):
        self.var_map = {}
        self.position = {}

    def add(self, var):
        key = id(var)
        self.var_map[key] = var
        self.position[key] = len(self.position)


def compile_lp(model, objective):
    """The LP HiGHS is given, as arrays; None when the direct route does not cover the model."""
    import pyomo.environ as pyo
    from pyomo.repn.linear import LinearRepnVisitor

    if next(model.component_data_objects(pyo.SOSConstraint, active=True, descend_into=True), None) is not None:
        return None
    if any(v.fixed for v in model.component_data_objects(pyo.Var, descend_into=True)):
        return None
    recorder = _FirstSeen()
    visitor = LinearRepnVisitor({}, var_recorder=recorder)
    position = recorder.position
    inf = float("inf")
    row_lower, row_upper, starts, index, value = [], [], [], [], []
    for con in model.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        repn = visitor.walk_expression(con.body)
        if repn.nonlinear is not None:
            return None
        starts.append(len(value))
        index.extend(map(position.__getitem__, repn.linear))
        value.extend(repn.linear.values())
        constant = repn.constant
        row_lower.append(pyo.value(con.lower) - constant if con.has_lb() else -inf)
        row_upper.append(pyo.value(con.upper) - constant if con.has_ub() else inf)
    repn = visitor.walk_expression(objective.expr)
    if repn.nonlinear is not None or getattr(repn, "quadratic", None):
        return None
    columns = list(recorder.var_map.values())
    cost = [0.0] * len(columns)
    for key, coef in repn.linear.items():
        cost[position[key]] = coef
    col_lower, col_upper, integer = [], [], []
    steps = {}
    for var in columns:
        domain = var.domain
        step = steps.get(id(domain))
        if step is None:
            step = steps[id(domain)] = domain.get_interval()[2]
        if step not in (0, 1):
            return None
        lb, ub = var.bounds
        col_lower.append(-inf if lb is None else lb)
        col_upper.append(inf if ub is None else ub)
        integer.append(step == 1)
    return {"columns": columns, "col_lower": col_lower, "col_upper": col_upper, "integer": integer,
            "cost": cost, "offset": repn.constant, "maximize": objective.sense == pyo.maximize,
            "row_lower": row_lower, "row_upper": row_upper, "starts": starts, "index": index, "value": value}


def direct_highs(model, objectives, time_limit=None):
    """A highspy.Highs holding the model's LP (not yet run) and its columns; None when not covered."""
    if len(objectives) != 1:
        return None
    lp = compile_lp(model, objectives[0])
    if lp is None:
        return None
    import highspy
    import numpy as np

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    n = len(lp["columns"])
    # The calls, and their order, of pyomo.contrib.solver's Highs.set_instance: the same LP results.
    h.addVars(n, np.array(lp["col_lower"], dtype=np.double), np.array(lp["col_upper"], dtype=np.double))
    kinds = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in lp["integer"]]
    h.changeColsIntegrality(n, np.arange(n), np.array(kinds))
    h.addRows(len(lp["row_lower"]), np.array(lp["row_lower"], dtype=np.double),
              np.array(lp["row_upper"], dtype=np.double), len(lp["value"]), np.array(lp["starts"]),
              np.array(lp["index"]), np.array(lp["value"], dtype=np.double))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize if lp["maximize"] else highspy.ObjSense.kMinimize)
    h.changeColsCost(n, np.arange(n), np.array(lp["cost"], dtype=np.double))
    h.changeObjectiveOffset(float(lp["offset"]))
    if time_limit:
        h.setOptionValue("time_limit", float(time_limit))
    return h, lp["columns"]


def _direct_solve(model, objectives, time_limit, timing):
    """Solve through highspy with the LP compile_lp builds; None when the model needs Pyomo's interface."""
    t0 = time.perf_counter()
    built = direct_highs(model, objectives, time_limit)
    if built is None:
        return None
    h, columns = built
    t1 = time.perf_counter()
    timing["compile"] = t1 - t0
    h.run()
    timing["highs"] = time.perf_counter() - t1
    status = h.getModelStatus().name
    info = h.getInfo()
    feasible = info.primal_solution_status == 2  # 0: none, 1: infeasible, 2: feasible
    termination = _HIGHS_TERMINATION.get(status, "unknown")
    solution_status = "optimal" if status == "kOptimal" else ("feasible" if feasible else "noSolution")
    if info.mip_node_count == -1:
        bound = info.objective_function_value if feasible and termination == "convergenceCriteriaSatisfied" else None
    else:
        bound = info.mip_dual_bound
    values = list(h.getSolution().col_value) if feasible else []
    return _DirectSolver(), _DirectResults(termination, solution_status, bound, _DirectLoader(columns, values))


def conflicting_components(model, time_limit, budget=60):
    """Deletion filter over constraint components: a minimal set of named constraints that conflict.

    Each step drops one component and re-solves without an objective; a component whose removal
    keeps the model infeasible is not needed to explain the conflict. Stops at `budget` solves.
    """
    import pyomo.environ as pyo

    m = model.clone()
    for obj in m.component_data_objects(pyo.Objective, active=True):
        obj.deactivate()
    m._nemo_zero = pyo.Objective(expr=0)
    components = [c for c in m.component_objects(pyo.Constraint, active=True)]
    if len(components) > budget:
        return None
    needed = []
    for comp in components:
        comp.deactivate()
        _, res = _solve(m, time_limit)
        if res.termination_condition.name == "convergenceCriteriaSatisfied":
            comp.activate()
            needed.append(comp.local_name)
    return needed


def explain_infeasible(model, time_limit):
    """Elastic filter: relax every constraint with slacks and report those that must give way."""
    import pyomo.environ as pyo

    m = model.clone()
    for obj in m.component_data_objects(pyo.Objective, active=True):
        obj.deactivate()
    m._nemo_slack = pyo.VarList(domain=pyo.NonNegativeReals)
    terms, owners = [], []
    for con in list(m.component_data_objects(pyo.Constraint, active=True)):
        lo, body, hi = con.lower, con.body, con.upper
        up = m._nemo_slack.add()
        down = m._nemo_slack.add()
        con.set_value((lo, body + down - up, hi) if lo is not None or hi is not None else con.expr)
        terms.extend([up, down])
        owners.append((con, up, down))
    m._nemo_elastic = pyo.Objective(expr=sum(terms), sense=pyo.minimize)
    _, res = _solve(m, time_limit)
    if res.solution_status.name not in ("optimal", "feasible"):
        return []
    res.solution_loader.load_vars()
    blamed = []
    for con, up, down in owners:
        amount = (up.value or 0.0) + (down.value or 0.0)
        if amount > 1e-7:
            blamed.append({"constraint": con.parent_component().local_name, "index": _index(con),
                           "name": con.name, "relaxation": amount})
    return blamed


def _index(component_data):
    idx = component_data.index()
    if idx is None:
        return None
    return list(idx) if isinstance(idx, tuple) else [idx]


def explain_unbounded(model, time_limit):
    """Box the free directions and report the variables that run to the box."""
    import pyomo.environ as pyo

    m = model.clone()
    boxed = []
    for v in m.component_data_objects(pyo.Var, active=True):
        if v.fixed:
            continue
        if v.lb is None:
            v.setlb(-INFINITY_TEST_BOUND)
        if v.ub is None:
            v.setub(INFINITY_TEST_BOUND)
        boxed.append(v)
    _, res = _solve(m, time_limit)
    if res.solution_status.name not in ("optimal", "feasible"):
        return []
    res.solution_loader.load_vars()
    return [{"variable": v.parent_component().local_name, "index": _index(v), "name": v.name, "value": v.value}
            for v in boxed if v.value is not None and abs(v.value) >= 0.5 * INFINITY_TEST_BOUND]


def is_feasible(model, time_limit):
    """Resolve HiGHS's `infeasible or unbounded` by dropping the objective."""
    import pyomo.environ as pyo

    m = model.clone()
    for obj in m.component_data_objects(pyo.Objective, active=True):
        obj.deactivate()
    m._nemo_zero = pyo.Objective(expr=0)
    _, res = _solve(m, time_limit)
    return res.termination_condition.name == "convergenceCriteriaSatisfied"


def optimize(module_path, data_path, out_path, time_limit, route="direct", solver="highs", optimality="global",
             fallback=None):
    timing = {}
    BACKEND.update(solver=solver, optimality=optimality)
    t0 = time.perf_counter()
    import pyomo.environ as pyo

    timing["import"] = time.perf_counter() - t0
    with open(data_path, encoding="utf-8") as fh:
        data = json.load(fh)
    module = load_module(module_path, "optimizer")
    if hasattr(module, "solve") and not hasattr(module, "build_model"):
        t1 = time.perf_counter()
        result = module.solve(data)
        timing["solve"] = time.perf_counter() - t1
        result = dict(result)
        result.setdefault("ok", True)
        result["timing"] = timing
        return result
    if not hasattr(module, "build_model"):
        raise AttributeError("the optimizer defines neither build_model(data) nor solve(data)")
    # Like Pyomo's own writers (PauseGC), no cyclic garbage collection while the model is built,
    # handed to HiGHS and read back: a large model is tens of thousands of objects that the
    # collector would otherwise scan again and again (about a quarter of the build time).
    paused = gc.isenabled()
    gc.disable()
    try:
        t1 = time.perf_counter()
        model = module.build_model(data)
        timing["build"] = time.perf_counter() - t1
        objectives = list(model.component_data_objects(pyo.Objective, active=True))
        if solver == "auto":
            solver = auto_backend(model, objectives, fallback)
            BACKEND["solver"] = solver
        t2 = time.perf_counter()
        direct = (_direct_solve(model, objectives, time_limit, timing)
                  if route != "pyomo" and solver == "highs" else None)
        opt, res = direct if direct is not None else _solve(model, time_limit)
        timing["solve"] = time.perf_counter() - t2
        result = _read_solution(module, model, objectives, opt, res, timing, direct is not None)
    finally:
        if paused:
            gc.enable()
    status = result["status"]
    if status == "infeasible_or_unbounded":
        status = "unbounded" if is_feasible(model, time_limit) else "infeasible"
        result["status"] = status
    if status == "infeasible":
        result["conflict"] = explain_infeasible(model, time_limit)
        result["conflicting_constraints"] = conflicting_components(model, time_limit)
    elif status == "unbounded":
        result["rays"] = explain_unbounded(model, time_limit)
    return result


def _read_solution(module, model, objectives, opt, res, timing, direct):
    """The result the engine reads: status, objective, bound and the decisions, once loaded."""
    import pyomo.environ as pyo

    termination = res.termination_condition.name
    status = backend_status(STATUS.get(termination, "unknown"))
    result = {"ok": True, "status": status, "termination": termination,
              "solution_status": res.solution_status.name, "objective": None, "bound": None,
              "decisions": None, "sense": None, "solver": BACKEND["solver"],
              "solver_version": ".".join(map(str, opt.version() or ())), "timing": timing,
              "route": "direct" if direct else "pyomo"}
    if objectives:
        result["sense"] = "maximize" if objectives[0].sense == pyo.maximize else "minimize"
    if res.solution_status.name in ("optimal", "feasible"):
        t0 = time.perf_counter()
        res.solution_loader.load_vars()
        result["objective"] = pyo.value(objectives[0]) if objectives else None
        result["bound"] = res.objective_bound if isinstance(res.objective_bound, float) else None
        decisions = module.decisions(model) if hasattr(module, "decisions") else var_values(model)
        result["decisions"] = decisions
        timing["read"] = time.perf_counter() - t0
    return result


# --- simulator --------------------------------------------------------------------------------

def simulate(module_path, data_path, decisions_path):
    with open(data_path, encoding="utf-8") as fh:
        data = json.load(fh)
    with open(decisions_path, encoding="utf-8") as fh:
        decisions = json.load(fh)
    module = load_module(module_path, "simulator")
    if not hasattr(module, "simulate"):
        raise AttributeError("the simulator does not define simulate(data, decisions)")
    t0 = time.perf_counter()
    verdict = module.simulate(data, decisions)
    if not isinstance(verdict, dict) or "feasible" not in verdict:
        raise TypeError("simulate() must return a dict with `feasible`, `objective` and `violations`")
    verdict = dict(verdict)
    verdict["ok"] = True
    verdict["timing"] = {"simulate": time.perf_counter() - t0}
    return verdict


def _score(argv):
    """`score SIMULATOR DATA BATCH OUT`: the simulator gate's checks or the probe's neighbours, by
    scorer.py copied beside this file into the run folder (a mode of the harness, so that warm
    workers, which run only the harness, take these jobs too)."""
    spec = importlib.util.spec_from_file_location("nemo_scorer", os.path.join(os.getcwd(), "scorer.py"))
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    tools = types.SimpleNamespace(load_module=load_module, error_payload=error_payload, write_json=write_json,
                                  _clean=_clean)
    return scorer.main(argv, harness=tools)


def _namespace_pids():
    """The processes of this PID namespace when it is a sandbox's own (pid 1 is bubblewrap), else None:
    outside one, /proc lists the whole machine and says nothing about this run."""
    try:
        with open("/proc/1/comm", encoding="utf-8") as fh:
            if fh.read().strip() != "bwrap":
                return None
        return {int(p) for p in os.listdir("/proc") if p.isdigit()}
    except OSError:
        return None


def _left_running(before, settle=0.05):
    """Processes started during the run that still run (not zombies): daemons the sandbox will kill.
    Those found are looked at again after `settle` seconds: a process on its way out is not one."""
    now = _namespace_pids() if before is not None else None
    found = _running((now or set()) - (before or set()) - {os.getpid()})
    if found and settle:
        time.sleep(settle)
        found = _running({p["pid"] for p in found})
    return found[:20]


def _running(pids):
    found = []
    for pid in sorted(pids):
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
                stat = fh.read()
        except OSError:
            continue
        comm, rest = stat[stat.find("(") + 1:stat.rfind(")")], stat[stat.rfind(")") + 2:].split()
        if rest and rest[0] != "Z":
            found.append({"pid": pid, "comm": comm, "ppid": int(rest[1]) if len(rest) > 1 else None})
    return found


def main(argv):
    before = _namespace_pids()
    mode = argv[1] if len(argv) > 1 else ""
    if mode == "optimize" and len(argv) >= 5:
        out = argv[4]
        limit = float(argv[argv.index("--time-limit") + 1]) if "--time-limit" in argv else None
        route = argv[argv.index("--route") + 1] if "--route" in argv else "direct"
        solver = argv[argv.index("--solver") + 1] if "--solver" in argv else "highs"
        optimality = argv[argv.index("--optimality") + 1] if "--optimality" in argv else "global"
        fallback = argv[argv.index("--fallback") + 1] if "--fallback" in argv else None
        run = lambda: optimize(argv[2], argv[3], out, limit, route, solver, optimality, fallback)  # noqa: E731
    elif mode == "simulate" and len(argv) >= 6:
        out = argv[5]
        run = lambda: simulate(argv[2], argv[3], argv[4])  # noqa: E731
    elif mode == "score" and len(argv) >= 6:
        return _score(argv[1:])
    else:
        sys.stderr.write(__doc__)
        return 2
    try:
        payload = run()
    except MemoryError as exc:
        payload = error_payload(mode, exc)
        payload["error"]["limit"] = "memory"
    except BaseException as exc:  # the generated code's failure is the result we report
        payload = error_payload(mode, exc)
    left = _left_running(before)
    if left:
        payload["background"] = left
    write_json(out, _clean(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
