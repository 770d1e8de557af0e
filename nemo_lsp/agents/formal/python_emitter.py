"""The simulator's code path: model block -> plain Python that evaluates a decision, never optimizes.

Separate from the Pyomo emitter on purpose: the simulator must be a second opinion on the
optimizer's answer, so it shares no generated code, no library and no solver with it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ...model.expr import relation
from ...model.syntax import Index, Model
from .naming import safe, unparse

LOCALS = frozenset({"data", "decisions", "sets", "params", "check", "objective", "math"})
FUNCTIONS = {"exp": "math.exp", "log": "math.log", "sqrt": "math.sqrt"}


@dataclass(frozen=True)
class Block:
    line: int
    source: str
    code: list[str]


class PythonEmitter:
    def __init__(self, model: Model, dims: dict[str, int], lines: tuple[str, ...]) -> None:
        self.m = model
        self.dims = dims
        self.lines = lines
        self.names = {n: safe(n, LOCALS) for n in [*model.sets, *model.params, *model.vars]}

    def cite(self, line: int) -> str:
        return self.lines[line].strip() if 0 <= line < len(self.lines) else ""

    def expr(self, tree: ast.expr) -> str:
        return unparse(tree, lambda name, node: self.names.get(name) or safe(name, LOCALS | set(self.names)),
                       FUNCTIONS)

    def loops(self, index: Index | None) -> tuple[list[str], str]:
        """`for` headers for an index (one per binding, then the filter) and the key expression."""
        if index is None:
            return [], "None"
        heads, key = [], []
        for b in index.bindings:
            names = [safe(n, LOCALS | set(self.names)) for n in (b.names or ("_k",))]
            target = names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"
            heads.append(f"for {target} in {self.names[b.set]}:")
            if len(names) == 1 and self.dims.get(b.set, 1) > 1:
                key.append(f"*{names[0]}")
            else:
                key.extend(names)
        if index.condition is not None:
            heads.append(f"if {self.expr(index.condition.tree)}:")
        return heads, "(" + ", ".join(key) + ("," if len(key) == 1 else "") + ")"

    def sets(self) -> list[Block]:
        out = []
        for name, s in self.m.sets.items():
            out.append(Block(s.span.line + 1, self.cite(s.span.line),
                             [f"{self.names[name]} = _set(sets[{name!r}])"]))
        return out

    def params(self) -> list[Block]:
        out = []
        for name, p in self.m.params.items():
            code = f"params[{name!r}]" if p.index is None else f"_param(params[{name!r}])"
            out.append(Block(p.span.line + 1, self.cite(p.span.line), [f"{self.names[name]} = {code}"]))
        return out

    def vars(self) -> list[Block]:
        """Read each variable's values and check its domain and bounds for every index."""
        out = []
        for name, v in self.m.vars.items():
            local = self.names[name]
            if v.index is None:
                keys = "None"
            else:
                keys = f"_product({', '.join(self.names[s] for s in v.index.sets)})"
            code = [f"{local} = _decision(check, decisions, {name!r}, {keys})"]
            lb = "None" if v.free_lb else "0"
            if v.lb is not None:
                lb = self.expr(v.lb.tree)
            ub = self.expr(v.ub.tree) if v.ub is not None else "None"
            if v.domain == "binary":
                lb = lb if v.lb is not None else "0"
                ub = ub if v.ub is not None else "1"
            integer = v.domain in ("integer", "binary")
            line = v.span.line + 1
            if v.index is None:
                code.append(f"check.bounds({name!r}, None, {local}, {lb}, {ub}, integer={integer}, line={line})")
            else:
                heads, key = self.loops(v.index) if any(b.names for b in v.index.bindings) else ([], "")
                if heads:
                    code += _nest(heads, [f"check.bounds({name!r}, {key}, {local}[{key[1:-1].rstrip(',')}], "
                                          f"{lb}, {ub}, integer={integer}, line={line})"])
                else:
                    code += [f"for _key, _value in {local}.items():",
                             f"    check.bounds({name!r}, _key, _value, {lb}, {ub}, integer={integer}, line={line})"]
            out.append(Block(line, self.cite(v.span.line), code))
        return out

    def constraints(self) -> list[Block]:
        out = []
        for name, c in self.m.constraints.items():
            rel = relation(c.expr.tree)
            assert rel is not None, "the checker admits only relations as constraints"
            operands, ops = rel
            parts = [self.expr(o) for o in operands]
            line = c.span.line + 1
            heads, key = self.loops(c.index)
            if len(parts) == 3:
                calls = [f"check.constraint({name!r}, {key}, {parts[0]}, {ops[0]!r}, {parts[1]}, line={line})",
                         f"check.constraint({name!r}, {key}, {parts[1]}, {ops[1]!r}, {parts[2]}, line={line})"]
            else:
                calls = [f"check.constraint({name!r}, {key}, {parts[0]}, {ops[0]!r}, {parts[1]}, line={line})"]
            out.append(Block(line, self.cite(c.span.line), _nest(heads, calls)))
        return out

    def objective(self) -> tuple[int, str, str, str] | None:
        o = self.m.objective
        if o is None:
            return None
        return o.span.line + 1, self.cite(o.span.line), o.sense, self.expr(o.expr.tree)


def _nest(heads: list[str], body: list[str]) -> list[str]:
    out = []
    for depth, h in enumerate(heads):
        out.append("    " * depth + h)
    out.extend("    " * len(heads) + b for b in body)
    return out
