"""Symbol checks of a model: names, index arity, linearity, use, and indices outside their sets.

The static pass needs only the parsed model; the dynamic pass enumerates index assignments over
the resolved data (within a step budget so that a keystroke in a large spec stays cheap).
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field

from ..findings import Finding, Span, finding
from .data import ModelData
from .evaluate import Budget, BudgetExceeded, EvalError, Evaluator
from .expr import UNARY, Expr, relation
from .syntax import Index, Model

DATA, LINEAR, QUADRATIC, NONLINEAR = 0, 1, 2, 3
"""Degree of an expression in the decision variables: data only, linear, quadratic, anything else."""
_DATA_ERRORS = (TypeError, ValueError, ArithmeticError)
"""What evaluating a checked expression on the data can still raise (`'bread' < 1`, `-'bread'`)."""
DEFAULT_BUDGET = 200_000


@dataclass
class _Scope:
    """Index names in scope, with their dimension (a name bound to a pair set has dimension 2)."""

    names: dict[str, int] = field(default_factory=dict)

    def bind(self, names: tuple[str, ...], dim: int) -> _Scope:
        inner = dict(self.names)
        if len(names) == 1:
            inner[names[0]] = dim
        else:
            inner.update({n: 1 for n in names})
        return _Scope(inner)


class _Checker:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.findings: list[Finding] = []
        self.used: set[str] = set()
        self.dims = {n: (len(s.columns) if s.kind == "pairs" else 1) for n, s in model.sets.items()}

    def error(self, code: str, message: str, span: Span) -> None:
        self.findings.append(finding(code, message, span))

    def undefined(self, name: str, span: Span, scope: _Scope) -> None:
        known = [*self.model.sets, *self.model.params, *self.model.vars, *scope.names]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        self.error("NEMO124", f"`{name}` is not defined{hint}", span)

    def shadows(self, name: str, span: Span) -> None:
        """Report an index name that hides a declared set, parameter or variable (NEMO128).

        Inside its scope `d` would mean the index, so a later `d` meant as the declaration would
        silently read the index instead: the reader (and an agent) cannot tell which one is meant.
        """
        for kind, decls in (("set", self.model.sets), ("parameter", self.model.params),
                            ("variable", self.model.vars)):
            decl = decls.get(name)
            if decl is not None:
                self.error("NEMO128", f"index `{name}` hides the {kind} `{name}` declared on line "
                           f"{decl.span.line + 1}; give the index another name", span)
                return

    def index_scope(self, index: Index | None, span: Span) -> _Scope | None:
        scope = _Scope()
        if index is None:
            return scope
        for b in index.bindings:
            self.used.add(b.set)
            if b.set not in self.model.sets:  # the set's name ends the binding `i in SET`
                self.undefined(b.set, Span(b.span.end_line, b.span.end_col - len(b.set), b.span.end_line,
                                           b.span.end_col), scope)
                return None
            dim = self.dims[b.set]
            if len(b.names) > 1 and len(b.names) != dim:
                self.error("NEMO125", f"`{b.set}` holds {dim}-tuples but {len(b.names)} names are bound", b.span)
                return None
            for n in b.names:
                self.shadows(n, Span.at(b.span.line, b.span.col, len(n)) if len(b.names) == 1 else b.span)
            scope = scope.bind(b.names, dim) if b.names else scope
        if index.condition is not None:
            self.data_expr(index.condition, scope, "an `if` filter")
        return scope

    def data_expr(self, e: Expr, scope: _Scope, where: str) -> None:
        if self.degree(e, e.tree, scope, condition=True) > DATA:
            self.error("NEMO132", f"{where} may use data and indices, not decision variables", e.span)

    def degree(self, e: Expr, node: ast.expr, scope: _Scope, condition: bool = False) -> int:
        """The degree in the decision variables: DATA, LINEAR, QUADRATIC or NONLINEAR (see model/classify.py)."""
        d = self._degree(e, node, scope, condition)
        return d

    def _degree(self, e: Expr, node: ast.expr, scope: _Scope, cond: bool) -> int:
        if isinstance(node, ast.Constant):
            return DATA
        if isinstance(node, ast.Name):
            return self._name(e, node, scope)
        if isinstance(node, ast.Subscript):
            return self._subscript(e, node, scope)
        if isinstance(node, ast.BinOp):
            a = self._degree(e, node.left, scope, cond)
            b = self._degree(e, node.right, scope, cond)
            if isinstance(node.op, (ast.Add, ast.Sub)):
                return max(a, b)
            if isinstance(node.op, ast.Mult):
                return _times(a, b)
            if isinstance(node.op, ast.Div):
                return NONLINEAR if b >= LINEAR else a
            if isinstance(node.op, ast.Mod):
                if max(a, b) >= LINEAR:
                    self.error("NEMO127", "`%` applies to data and indices, not decision variables",
                               e.span_of(node))
                    return NONLINEAR
                return DATA
            if isinstance(node.op, ast.Pow):
                exp = ast.literal_eval(node.right) if not isinstance(node.right, ast.Name) else None
                return _power(a, exp)
        if isinstance(node, ast.UnaryOp):
            d = self._degree(e, node.operand, scope, cond)
            if isinstance(node.op, ast.Not) and not cond:
                self.error("NEMO123", "`not` belongs in conditions", e.span_of(node))
            return d
        if isinstance(node, ast.BoolOp):
            if not cond:
                self.error("NEMO123", f"`{'and' if isinstance(node.op, ast.And) else 'or'}` belongs in "
                           "conditions (`if ...`)", e.span_of(node))
            return max(self._degree(e, v, scope, True) for v in node.values)
        if isinstance(node, ast.Compare):
            if not cond:
                self.error("NEMO131", "a comparison can only be a whole constraint or a condition",
                           e.span_of(node))
            d = self._degree(e, node.left, scope, True)
            for op, comp in zip(node.ops, node.comparators):
                if isinstance(op, (ast.In, ast.NotIn)):
                    self._set_ref(e, comp, scope)
                else:
                    d = max(d, self._degree(e, comp, scope, True))
            return d
        if isinstance(node, ast.IfExp):
            test = self._degree(e, node.test, scope, True)
            if test > DATA:
                self.error("NEMO132", "the condition of `if ... else` may use data and indices, not decision "
                           "variables (that would be a disjunction: use a binary variable)", e.span_of(node.test))
            return max(self._degree(e, node.body, scope, cond), self._degree(e, node.orelse, scope, cond))
        if isinstance(node, ast.Tuple):
            return max((self._degree(e, x, scope, cond) for x in node.elts), default=DATA)
        if isinstance(node, ast.Call):
            return self._call(e, node, scope)
        return DATA

    def _set_ref(self, e: Expr, node: ast.expr, scope: _Scope) -> None:
        if isinstance(node, ast.Name) and node.id in self.model.sets:
            self.used.add(node.id)
            return
        if isinstance(node, ast.Name):
            self.undefined(node.id, e.span_of(node), scope)
        else:
            self.error("NEMO123", "`in` tests membership of a declared set by name", e.span_of(node))

    def _call(self, e: Expr, node: ast.Call, scope: _Scope) -> int:
        fn = node.func.id  # type: ignore[union-attr]
        if fn == "len":
            self._set_ref(e, node.args[0], scope)
            return DATA
        if len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp):
            gen = node.args[0]
            inner = scope
            for g in gen.generators:
                if not isinstance(g.iter, ast.Name):
                    continue
                if g.iter.id not in self.model.sets:
                    if g.iter.id in self.model.params or g.iter.id in self.model.vars:
                        self.error("NEMO123", f"`for` runs over a set; `{g.iter.id}` is not a set", e.span_of(g.iter))
                    else:
                        self.undefined(g.iter.id, e.span_of(g.iter), inner)
                    return DATA
                self.used.add(g.iter.id)
                # parse_expr admits only `i` and `(i, j)` as targets
                targets: list[ast.Name] = [g.target] if isinstance(g.target, ast.Name) else list(
                    g.target.elts)  # type: ignore[attr-defined]
                names = tuple(x.id for x in targets)
                for x in targets:
                    self.shadows(x.id, e.span_of(x))
                dim = self.dims[g.iter.id]
                if len(names) > 1 and len(names) != dim:
                    self.error("NEMO125", f"`{g.iter.id}` holds {dim}-tuples but {len(names)} names are unpacked",
                               e.span_of(g.target))
                inner = inner.bind(names, dim)
                for c in g.ifs:
                    if self._degree(e, c, inner, True) > DATA:
                        self.error("NEMO132", "a `sum` filter may use data and indices, not decision variables",
                                   e.span_of(c))
            d = self._degree(e, gen.elt, inner, False)
        else:
            d = max((self._degree(e, a, scope, False) for a in node.args), default=DATA)
        if fn in ("min", "max") and d > DATA:
            self.error("NEMO127", f"`{fn}` of decision variables is not smooth and no backend takes it as it is; "
                       "model it with an auxiliary variable and two constraints", e.span_of(node))
            return NONLINEAR
        if fn in UNARY and d > DATA:
            return NONLINEAR
        return d

    def _name(self, e: Expr, node: ast.Name, scope: _Scope) -> int:
        n = node.id
        if n in scope.names:
            return DATA
        if n in self.model.params:
            self.used.add(n)
            if self.model.params[n].index is not None:
                self.error("NEMO125", f"`{n}` is indexed by {', '.join(self.model.params[n].index.sets)}: write "
                           f"`{n}[...]`", e.span_of(node))
            return DATA
        if n in self.model.vars:
            self.used.add(n)
            if self.model.vars[n].index is not None:
                self.error("NEMO125", f"`{n}` is indexed by {', '.join(self.model.vars[n].index.sets)}: write "
                           f"`{n}[...]`", e.span_of(node))
            return LINEAR
        if n in self.model.sets:
            self.used.add(n)
            self.error("NEMO123", f"`{n}` is a set; use it in `for ... in {n}`, `in {n}` or `len({n})`",
                       e.span_of(node))
            return DATA
        self.undefined(n, e.span_of(node), scope)
        return DATA

    def _subscript(self, e: Expr, node: ast.Subscript, scope: _Scope) -> int:
        if not isinstance(node.value, ast.Name):
            self.error("NEMO123", "only parameters and variables can be indexed", e.span_of(node))
            return DATA
        n = node.value.id
        decl = self.model.params.get(n) or self.model.vars.get(n)
        if decl is None:
            if n in self.model.sets:
                self.error("NEMO123", f"`{n}` is a set and cannot be indexed", e.span_of(node.value))
            else:
                self.undefined(n, e.span_of(node.value), scope)
            return DATA
        self.used.add(n)
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        given = 0
        for p in parts:
            if self._degree(e, p, scope, True) > DATA:
                self.error("NEMO132", "an index may use data and indices, not decision variables", e.span_of(p))
            given += scope.names.get(p.id, 1) if isinstance(p, ast.Name) else 1
        sets = decl.index.sets if decl.index else ()
        expected = sum(self.dims.get(s, 1) for s in sets)
        if not sets:
            self.error("NEMO125", f"`{n}` has no index; write `{n}` without brackets", e.span_of(node))
        elif given != expected:
            self.error("NEMO125", f"`{n}` takes {expected} ind{'ex' if expected == 1 else 'ices'} "
                       f"({', '.join(sets)}); {given} given", e.span_of(node))
        return LINEAR if n in self.model.vars else DATA


def _times(a: int, b: int) -> int:
    """The degree of a product: degrees add, and anything past quadratic is general nonlinear."""
    return NONLINEAR if a + b > QUADRATIC else a + b


def _power(a: int, exp: object) -> int:
    """The degree of `E ** exp` for a constant exponent (a whole power of a linear term stays polynomial)."""
    if isinstance(exp, float) and exp.is_integer():
        exp = int(exp)
    if a == DATA or exp == 0:
        return DATA
    if exp == 1:
        return a
    if isinstance(exp, int) and exp > 1 and a * exp <= QUADRATIC:
        return a * exp
    return NONLINEAR


def expression_degrees(model: Model) -> tuple[int | None, dict[str, int]]:
    """The objective's degree and each constraint's (the larger side), for classifying the problem."""
    c = _Checker(model)
    objective = None
    if model.objective is not None and not isinstance(model.objective.expr.tree, ast.Compare):
        objective = c.degree(model.objective.expr, model.objective.expr.tree, _Scope())
    constraints: dict[str, int] = {}
    for con in model.constraints.values():
        scope = c.index_scope(con.index, con.span)
        rel = relation(con.expr.tree)
        if scope is not None and rel is not None:
            constraints[con.name] = max(c.degree(con.expr, o, scope) for o in rel[0])
    return objective, constraints


def check_model(model: Model, data: ModelData | None = None, budget: int = DEFAULT_BUDGET) -> list[Finding]:
    """All symbol findings for a parsed model; with data, also indices outside their sets."""
    c = _Checker(model)
    c.used.update(model.mentioned)
    for s in model.sets.values():
        if s.kind == "range" and s.bounds:
            c.used.update(b for b in s.bounds if isinstance(b, str))  # `T: 1..n` uses `n`
    for v in model.vars.values():
        scope = c.index_scope(v.index, v.span)
        for bound in (v.lb, v.ub):
            if bound is not None and scope is not None:
                c.data_expr(bound, scope, "a bound")
    for p in model.params.values():
        if p.index is not None:
            c.index_scope(p.index, p.span)
    if model.objective is not None:
        obj = model.objective
        if isinstance(obj.expr.tree, ast.Compare):
            c.error("NEMO131", "the objective is an expression to minimize or maximize, not a comparison",
                    obj.expr.span)
        else:
            c.degree(obj.expr, obj.expr.tree, _Scope())
    for con in model.constraints.values():
        scope = c.index_scope(con.index, con.span)
        if scope is None:
            continue
        rel = relation(con.expr.tree)
        if rel is None:
            c.error("NEMO131", "a constraint compares two sides with `<=`, `>=` or `==` (strict `<`/`>` "
                    "are not allowed), or is a range `lo <= expression <= hi`", con.expr.span)
            continue
        operands, _ = rel
        degrees = [c.degree(con.expr, o, scope) for o in operands]
        if len(operands) == 3 and (degrees[0] > DATA or degrees[2] > DATA):
            c.error("NEMO131", "in a range `lo <= expression <= hi` the outer sides must be data", con.expr.span)
    for kind, decls in (("set", model.sets), ("parameter", model.params), ("variable", model.vars)):
        for name, d in decls.items():
            if name not in c.used:
                c.findings.append(finding("NEMO129", f"{kind} `{name}` is declared but never used", d.span))
    if data is not None and not any(f.is_error for f in c.findings):
        c.findings.extend(check_indices(model, data, budget))
    return c.findings


def check_indices(model: Model, data: ModelData, budget: int = DEFAULT_BUDGET) -> list[Finding]:
    """Enumerate every constraint, bound and the objective over the data; report the first bad index."""
    var_index = {n: (v.index.sets if v.index else ()) for n, v in model.vars.items()}
    ev = Evaluator(data, var_index, budget=Budget(budget))
    out: list[Finding] = []
    items: list[tuple[str, Index | None, list[Expr]]] = []
    if model.objective is not None:
        items.append(("the objective", None, [model.objective.expr]))
    for v in model.vars.values():
        items.append((f"the bounds of `{v.name}`", v.index, [b for b in (v.lb, v.ub) if b is not None]))
    for con in model.constraints.values():
        items.append((f"constraint `{con.name}`", con.index, [con.expr]))
    try:
        for label, index, exprs in items:
            if not exprs:
                continue
            gens = [(b.names or ("_",), b.set) for b in index.bindings] if index else []
            cond = index.condition.tree if index and index.condition else None
            reported = False
            try:
                for env in ev.bindings(gens, cond, {}):
                    for e in exprs:
                        try:
                            ev.eval(e.tree, env)
                        except (EvalError, *_DATA_ERRORS) as err:
                            where = ", ".join(f"{k} = {v!r}" for k, v in env.items() if k != "_")
                            code = "NEMO126" if "outside" in str(err) else "NEMO121"
                            what = err if isinstance(err, EvalError) else f"cannot be evaluated on the data ({err})"
                            out.append(finding(code, f"in {label}{f' (when {where})' if where else ''}: {what}",
                                               e.span_of(err.node) if isinstance(err, EvalError) else e.span))
                            reported = True
                            break
                    if reported:
                        break
            except (EvalError, *_DATA_ERRORS) as err:
                out.append(finding("NEMO121", f"in {label}: the filter cannot be evaluated: {err}",
                                   index.condition.span if index and index.condition else Span.at(0)))
    except BudgetExceeded:
        pass
    return out


def data_sensitive_params(model: Model) -> set[str]:
    """Parameters whose *values* can change which indices are visited: those in filters, `if`
    tests, index positions, range bounds and divisors. Other parameters matter to the index check only
    through their keys, so editing their values cannot change its findings."""
    exprs: list[tuple[ast.expr, bool]] = []
    for decl in [*model.vars.values(), *model.constraints.values(), *model.params.values()]:
        index = decl.index
        if index is not None and index.condition is not None:
            exprs.append((index.condition.tree, True))
    for v in model.vars.values():
        exprs.extend((b.tree, False) for b in (v.lb, v.ub) if b is not None)
    for c in model.constraints.values():
        exprs.append((c.expr.tree, False))
    if model.objective is not None:
        exprs.append((model.objective.expr.tree, False))
    names: set[str] = {b for s in model.sets.values() if s.bounds for b in s.bounds if isinstance(b, str)}
    for tree, whole in exprs:
        for node in ast.walk(tree):
            parts: list[ast.AST] = []
            if whole:
                parts = [node]
            elif isinstance(node, ast.Subscript):
                parts = [node.slice]
            elif isinstance(node, ast.IfExp):
                parts = [node.test]
            elif isinstance(node, ast.comprehension):
                parts = list(node.ifs)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Mod)):
                parts = [node.right]  # a zero divisor is an evaluation finding
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
                parts = [node.left]  # so is a power too large to compute
            for part in parts:
                names.update(n.id for n in ast.walk(part) if isinstance(n, ast.Name) and n.id in model.params)
    return names
