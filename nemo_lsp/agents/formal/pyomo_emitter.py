"""The optimizer's code path: model block -> readable Pyomo, one named component per declaration."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ...model.expr import relation
from ...model.syntax import Index, Model
from .naming import PYOMO_RESERVED, safe, unparse

LOCALS = frozenset({"model", "pyo", "data", "sets", "params", "math"})
DOMAIN = {"continuous": "pyo.Reals", "integer": "pyo.Integers", "binary": "pyo.Binary"}
FUNCTIONS = {"exp": "pyo.exp", "log": "pyo.log", "sqrt": "pyo.sqrt"}
"""Model functions as Pyomo expressions (they also evaluate plain numbers); `abs` is Python's, which Pyomo overloads."""


@dataclass(frozen=True)
class Component:
    """One block of generated code with the spec line it implements."""

    line: int
    source: str
    code: str


class PyomoEmitter:
    def __init__(self, model: Model, dims: dict[str, int], lines: tuple[str, ...]) -> None:
        self.m = model
        self.dims = dims
        self.lines = lines
        self.component = {n: safe(n, PYOMO_RESERVED) for n in [*model.sets, *model.vars, *model.constraints]}
        self.local = {n: safe(n, LOCALS) for n in model.params}

    def cite(self, line: int) -> str:
        return self.lines[line].strip() if 0 <= line < len(self.lines) else ""

    def expr(self, tree: ast.expr) -> str:
        def rename(name: str, node: ast.Name) -> str | None:
            if name in self.m.sets or name in self.m.vars:
                return f"model.{self.component[name]}"
            if name in self.m.params:
                return self.local[name]
            return safe(name, LOCALS | set(self.m.params))
        return unparse(tree, rename, FUNCTIONS)

    def rule_args(self, index: Index) -> tuple[str, str]:
        """The Pyomo index sets and the rule's parameters for an indexed declaration."""
        sets = ", ".join(f"model.{self.component[b.set]}" for b in index.bindings)
        params: list[str] = []
        for b in index.bindings:
            if len(b.names) == 1 and self.dims.get(b.set, 1) > 1:
                params.append("*" + safe(b.names[0], LOCALS))
            else:
                params.extend(safe(n, LOCALS) for n in (b.names or ("_",)))
        return sets, ", ".join(params)

    def sets(self) -> list[Component]:
        out = []
        for name, s in self.m.sets.items():
            dimen = f", dimen={self.dims[name]}" if self.dims.get(name, 1) > 1 else ""
            init = f"[tuple(e) for e in sets[{name!r}]]" if dimen else f"sets[{name!r}]"
            code = f"model.{self.component[name]} = pyo.Set(initialize={init}, ordered=True{dimen})"
            out.append(Component(s.span.line + 1, self.cite(s.span.line), code))
        return out

    def params(self) -> list[Component]:
        out = []
        for name, p in self.m.params.items():
            if p.index is None:
                code = f"{self.local[name]} = params[{name!r}]"
            else:
                code = f"{self.local[name]} = _param(params[{name!r}])"
            out.append(Component(p.span.line + 1, self.cite(p.span.line), code))
        return out

    def vars(self) -> list[Component]:
        out = []
        for name, v in self.m.vars.items():
            domain = DOMAIN[v.domain]
            lb = None if v.free_lb else "0"
            if v.lb is not None:
                lb = self.expr(v.lb.tree)
            ub = self.expr(v.ub.tree) if v.ub is not None else None
            if v.domain == "binary" and v.lb is None and v.ub is None:
                bounds = ""
            elif v.index is not None and any(b.names for b in v.index.bindings) and (v.lb or v.ub):
                _, args = self.rule_args(v.index)
                bounds = f", bounds=lambda model, {args}: ({lb}, {ub})"
            else:
                bounds = f", bounds=({lb}, {ub})"
            sets = f"{self.rule_args(v.index)[0]}, " if v.index else ""
            code = f"model.{self.component[name]} = pyo.Var({sets}domain={domain}{bounds})"
            out.append(Component(v.span.line + 1, self.cite(v.span.line), code))
        return out

    def objective(self) -> Component | None:
        o = self.m.objective
        if o is None:
            return None
        code = (f"model.objective = pyo.Objective(\n        expr={self.expr(o.expr.tree)},\n"
                f"        sense=pyo.{o.sense})")
        return Component(o.span.line + 1, self.cite(o.span.line), code)

    def body(self, tree: ast.expr) -> str:
        rel = relation(tree)
        assert rel is not None, "the checker admits only relations as constraints"
        operands, ops = rel
        parts = [self.expr(o) for o in operands]
        if len(parts) == 3:
            lo, mid, hi = parts if ops[0] == "<=" else (parts[2], parts[1], parts[0])
            return f"pyo.inequality({lo}, {mid}, {hi})"
        return f"{parts[0]} {ops[0]} {parts[1]}"

    def constraints(self) -> list[Component]:
        out = []
        for name, c in self.m.constraints.items():
            comp = self.component[name]
            body = self.body(c.expr.tree)
            if c.index is None:
                code = f"model.{comp} = pyo.Constraint(expr={body})"
            else:
                sets, args = self.rule_args(c.index)
                lines = [f"@model.Constraint({sets})", f"def {comp}(model, {args}):"]
                if c.index.condition is not None:
                    lines += [f"    if not ({self.expr(c.index.condition.tree)}):",
                              "        return pyo.Constraint.Skip"]
                lines.append(f"    return {body}")
                code = "\n    ".join(lines)
            out.append(Component(c.span.line + 1, self.cite(c.span.line), code))
        return out

    def decision_names(self) -> list[tuple[str, str]]:
        return [(name, self.component[name]) for name in self.m.vars]
