"""The problem class of a model block (LP, MILP, QP, MIQP, NLP, MINLP) and, where cheap, its convexity.

A pure function of the parsed model (and its data, for the convexity of quadratic terms): the degree
of every expression in the decision variables, whether any variable is integer, and, for quadratic
parts, whether the quadratic form has the right curvature (positive semidefinite where it is minimized
or bounded above, negative semidefinite where it is maximized or bounded below). General nonlinear
expressions (`exp`, `log`, `sqrt`, `abs`, division by a variable, higher powers) are not analysed:
their convexity is reported as not decided.
"""

from __future__ import annotations

import ast
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .check import DATA, LINEAR, NONLINEAR, QUADRATIC, expression_degrees
from .data import ModelData
from .evaluate import Budget, BudgetExceeded, EvalError, Evaluator
from .expr import relation
from .syntax import Model

CLASSES = ("LP", "MILP", "QP", "MIQP", "NLP", "MINLP")
MAX_DENSE = 120
"""Largest quadratic form whose definiteness is tested by factorization (pure Python, O(n^3))."""
DEFAULT_BUDGET = 50_000
"""Evaluation steps spent expanding quadratic expressions over the data before giving up (undecided)."""


@dataclass(frozen=True)
class ProblemClass:
    """What kind of problem the model is, which decides the solver that can prove its optimum."""

    name: str
    """LP, MILP, QP, MIQP, NLP or MINLP."""
    convex: bool | None
    """True: convex (its continuous relaxation, for integer classes); False: proven nonconvex; None: not decided."""
    integer: bool
    """Some variable is integer or binary."""
    nonlinear: tuple[str, ...] = ()
    """Where the model is not linear: `objective` and constraint names."""
    reason: str = ""
    """One sentence on why, for the report, the lens and hover."""

    @property
    def label(self) -> str:
        """`QP (convex)`, `MINLP (nonconvex)`, `NLP (convexity not decided)`; LP and MILP as they are."""
        if self.name in ("LP", "MILP"):
            return self.name
        shape = {True: "convex", False: "nonconvex", None: "convexity not decided"}[self.convex]
        return f"{self.name} ({shape})"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "convex": self.convex, "integer": self.integer,
                "nonlinear": list(self.nonlinear), "reason": self.reason, "label": self.label}

    @classmethod
    def from_json(cls, data: Any) -> ProblemClass | None:
        if not isinstance(data, dict) or data.get("name") not in CLASSES:
            return None
        convex = data.get("convex")
        nonlinear = data.get("nonlinear") or []
        if convex not in (True, False, None) or not isinstance(nonlinear, list):
            return None
        return cls(data["name"], convex, bool(data.get("integer")), tuple(str(n) for n in nonlinear),
                   str(data.get("reason") or ""))


def classify(model: Model, data: ModelData | None = None, budget: int = DEFAULT_BUDGET) -> ProblemClass:
    """The class of a parsed model; with data, the convexity of its quadratic parts too."""
    objective, constraints = expression_degrees(model)
    integer = any(v.domain in ("integer", "binary") for v in model.vars.values())
    obj_degree = objective if objective is not None else DATA
    con_degree = max(constraints.values(), default=DATA)
    nonlinear = (("objective",) if obj_degree > LINEAR else ()) + tuple(
        n for n, d in constraints.items() if d > LINEAR)
    if obj_degree <= LINEAR and con_degree <= LINEAR:
        name = "MILP" if integer else "LP"
        return ProblemClass(name, True, integer, (), "every expression is linear in the decision variables"
                            + (" and some variables are integer" if integer else ""))
    if obj_degree == QUADRATIC and con_degree <= LINEAR:
        name = "MIQP" if integer else "QP"
        convex = _objective_convexity(model, data, budget)
        return ProblemClass(name, convex, integer, nonlinear, "the objective is quadratic and every constraint is "
                            f"linear{' (some variables are integer)' if integer else ''}; {_curvature(convex)}")
    name = "MINLP" if integer else "NLP"
    where = ", ".join(f"`{n}`" for n in nonlinear[:4]) + (" ..." if len(nonlinear) > 4 else "")
    general = obj_degree == NONLINEAR or con_degree == NONLINEAR
    convex = None if general else _quadratic_convexity(model, data, budget, constraints)
    what = ("uses nonlinear functions, divisions by variables or higher powers" if general
            else "has quadratic constraints")
    return ProblemClass(name, convex, integer, nonlinear, f"the model {what} (in {where})"
                        f"{' and integer variables' if integer else ''}; {_curvature(convex)}")


def _curvature(convex: bool | None) -> str:
    if convex is True:
        return "its quadratic forms have the curvature of a convex problem"
    if convex is False:
        return "a quadratic form has the wrong curvature, so local optima may not be global"
    return "its convexity is not decided cheaply"


_CACHE: OrderedDict[tuple[str, int], ProblemClass] = OrderedDict()


def classify_cached(key: str, model: Model, data: ModelData | None) -> ProblemClass:
    """`classify`, memoized on a key for the model and data (the spec's hash): hover and lenses ask often."""
    found = _CACHE.get((key, id(model)))
    if found is None:
        found = classify(model, data)
        _CACHE[(key, id(model))] = found
        while len(_CACHE) > 8:
            _CACHE.popitem(last=False)
    return found


# --- curvature of quadratic forms -----------------------------------------------------------------

def _objective_convexity(model: Model, data: ModelData | None, budget: int) -> bool | None:
    assert model.objective is not None
    q = _quadratic_form(model, data, [model.objective.expr.tree], {}, budget)
    if q is None:
        return None
    return _semidefinite(q, 1.0 if model.objective.sense == "minimize" else -1.0)


def _quadratic_convexity(model: Model, data: ModelData | None, budget: int,
                         constraints: dict[str, int]) -> bool | None:
    """Convexity of a model whose nonlinear parts are all quadratic (a QCQP)."""
    verdicts: list[bool | None] = []
    if model.objective is not None:
        verdicts.append(_objective_convexity(model, data, budget) if _is_quadratic_objective(model) else True)
    for name, degree in constraints.items():
        if degree != QUADRATIC:
            continue
        verdicts.append(_constraint_convexity(model, data, name, budget))
    if False in verdicts:
        return False
    return None if None in verdicts else True


def _is_quadratic_objective(model: Model) -> bool:
    objective, _ = expression_degrees(model)
    return objective == QUADRATIC


def _constraint_convexity(model: Model, data: ModelData | None, name: str, budget: int) -> bool | None:
    """`g <= h` is convex when g - h is convex, `g >= h` when it is concave; a quadratic equality never is."""
    con = model.constraints[name]
    rel = relation(con.expr.tree)
    if rel is None or data is None:
        return None
    operands, ops = rel
    if ops[0] == "==":
        return False
    if len(operands) == 3:
        return None  # a range on a quadratic expression bounds it on both sides: convex only when it is linear
    diff = ast.BinOp(left=operands[0], op=ast.Sub(), right=operands[1])
    gens = [(b.names or ("_",), b.set) for b in con.index.bindings] if con.index else []
    cond = con.index.condition.tree if con.index and con.index.condition else None
    verdict: bool | None = True
    ev = _PolyEvaluator(model, data, budget)
    try:
        for env in ev.bindings(gens, cond, {}):
            q = _form(ev.eval(diff, env))
            if q is None:
                return None
            ok = _semidefinite(q, 1.0 if ops[0] == "<=" else -1.0)
            if ok is not True:
                return ok
    except (BudgetExceeded, EvalError, TypeError, ValueError, ArithmeticError):
        return None
    return verdict


def _quadratic_form(model: Model, data: ModelData | None, trees: list[ast.expr], env: dict[str, Any],
                    budget: int) -> dict[tuple[Any, Any], float] | None:
    if data is None:
        return None
    ev = _PolyEvaluator(model, data, budget)
    try:
        return _form(ev.eval(trees[0], env))
    except (BudgetExceeded, EvalError, TypeError, ValueError, ArithmeticError):
        return None


def _form(value: Any) -> dict[tuple[Any, Any], float] | None:
    """The quadratic part of a polynomial as {(a, b): coefficient}, symmetric; None past degree 2."""
    if not isinstance(value, Poly):
        return {}
    q: dict[tuple[Any, Any], float] = {}
    for mono, coef in value.terms.items():
        if len(mono) > 2:
            return None
        if len(mono) == 2:
            a, b = mono
            if a == b:
                q[(a, a)] = q.get((a, a), 0.0) + coef
            else:
                q[(a, b)] = q.get((a, b), 0.0) + coef / 2
                q[(b, a)] = q.get((b, a), 0.0) + coef / 2
    return q


def _semidefinite(q: dict[tuple[Any, Any], float], sign: float, tol: float = 1e-9) -> bool | None:
    """Is sign * Q positive semidefinite? Diagonal forms at once; others by an LDLᵀ factorization."""
    keys = sorted({a for a, _ in q}, key=repr)
    if all(a == b for a, b in q):
        return all(sign * q[(a, a)] >= -tol for a in keys)
    if len(keys) > MAX_DENSE:
        return None
    n = len(keys)
    at = {k: i for i, k in enumerate(keys)}
    m = [[0.0] * n for _ in range(n)]
    for (a, b), c in q.items():
        m[at[a]][at[b]] += sign * c
    scale = max((abs(v) for row in m for v in row), default=1.0) or 1.0
    eps = tol * scale
    # Gaussian elimination with diagonal pivots: PSD iff every pivot is >= 0 and a zero pivot has a zero column.
    for k in range(n):
        pivot = m[k][k]
        if pivot < -eps:
            return False
        if pivot <= eps:
            if any(abs(m[i][k]) > eps for i in range(k + 1, n)):
                return False
            continue
        for i in range(k + 1, n):
            f = m[i][k] / pivot
            if f:
                row_i, row_k = m[i], m[k]
                for j in range(k, n):
                    row_i[j] -= f * row_k[j]
    return True


class Poly:
    """A polynomial in decision variables: {sorted tuple of variable keys: coefficient}."""

    __slots__ = ("terms",)

    def __init__(self, terms: dict[tuple[Any, ...], float]) -> None:
        self.terms = terms

    @staticmethod
    def of(value: Any) -> Poly:
        if isinstance(value, Poly):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError("not a number")
        return Poly({(): float(value)} if value else {})

    def __add__(self, other: Any) -> Poly:
        out = dict(self.terms)
        for k, v in Poly.of(other).terms.items():
            out[k] = out.get(k, 0.0) + v
        return Poly(out)

    __radd__ = __add__

    def __neg__(self) -> Poly:
        return Poly({k: -v for k, v in self.terms.items()})

    def __pos__(self) -> Poly:
        return self

    def __sub__(self, other: Any) -> Poly:
        return self + (-Poly.of(other))

    def __rsub__(self, other: Any) -> Poly:
        return Poly.of(other) + (-self)

    def __mul__(self, other: Any) -> Poly:
        out: dict[tuple[Any, ...], float] = {}
        for ka, va in self.terms.items():
            for kb, vb in Poly.of(other).terms.items():
                k = tuple(sorted(ka + kb, key=repr))
                if len(k) > 2:
                    raise ValueError("past quadratic")
                out[k] = out.get(k, 0.0) + va * vb
        return Poly(out)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Poly:
        if isinstance(other, Poly) or not other:
            raise ValueError("division by a variable or by zero")
        return Poly({k: v / other for k, v in self.terms.items()})

    def __pow__(self, exponent: Any) -> Poly:
        if exponent == 0:
            return Poly({(): 1.0})
        if exponent == 1:
            return self
        if exponent == 2:
            return self * self
        raise ValueError("past quadratic")


class _PolyEvaluator(Evaluator):
    """The data evaluator, with each decision variable read as a symbol of a polynomial."""

    def __init__(self, model: Model, data: ModelData, budget: int) -> None:
        var_index = {n: (v.index.sets if v.index else ()) for n, v in model.vars.items()}
        super().__init__(data, var_index, budget=Budget(budget))

    def _var(self, name: str, key: tuple[Any, ...], node: ast.AST) -> Any:
        sets = self.var_index[name]
        if sets and not self.in_product(sets, key):
            raise EvalError("outside", node)
        return Poly({((name, key),): 1.0})

    def eval(self, node: ast.expr, env: dict[str, Any]) -> Any:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            base = self.eval(node.left, env)
            if isinstance(base, Poly):
                return base ** self.eval(node.right, env)
        return super().eval(node, env)
