"""A pure-Python evaluator of model expressions over resolved data.

Used by the linter to find indices outside their sets (`inv[t - 1]` when `t` is the first period)
and, with decision values, to score a candidate decision. It walks `ast` nodes that the whitelist in
:mod:`expr` admitted; it never calls `eval`.
"""

from __future__ import annotations

import ast
import itertools
import math
import operator
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .data import ModelData

_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Pow: operator.pow, ast.Mod: operator.mod}
_CMP = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
        ast.Eq: operator.eq, ast.NotEq: operator.ne}


_MATH = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt}
_OP_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.Mod: "%"}
MAX_POWER_BITS = 4096
"""An integer power larger than this many bits is computed as a float (9**99999999 would take minutes)."""


class EvalError(Exception):
    """An expression cannot be evaluated for one assignment of its indices."""

    def __init__(self, message: str, node: ast.AST) -> None:
        super().__init__(message)
        self.node = node


class BudgetExceeded(Exception):
    """The enumeration took more steps than allowed (large models are checked partly)."""


@dataclass
class Budget:
    steps: int

    def spend(self, n: int = 1) -> None:
        self.steps -= n
        if self.steps < 0:
            raise BudgetExceeded


class Evaluator:
    """Evaluates expressions; variables read their value from `values` (default 0 when checking)."""

    def __init__(self, data: ModelData, var_index: Mapping[str, tuple[str, ...]],
                 values: Mapping[str, Any] | None = None, budget: Budget | None = None) -> None:
        self.data = data
        self.var_index = var_index
        self.values = values
        self.budget = budget or Budget(10**9)
        self._members: dict[tuple[str, ...], set[tuple[Any, ...]] | None] = {}

    def members(self, sets: tuple[str, ...]) -> set[tuple[Any, ...]]:
        """All flattened keys of a product of sets (cached: membership checks are the hot path)."""
        if sets not in self._members:
            parts = [[e if isinstance(e, tuple) else (e,) for e in self.data.sets.get(s, [])] for s in sets]
            self._members[sets] = {tuple(itertools.chain.from_iterable(c)) for c in itertools.product(*parts)}
        return self._members[sets]  # type: ignore[return-value]

    def in_product(self, sets: tuple[str, ...], key: tuple[Any, ...]) -> bool:
        """`key in members(sets)`, one set at a time: the product of large sets is never built."""
        at = 0
        for s in sets:
            dim = self.data.dims.get(s, 1)
            if key[at:at + dim] not in self.members((s,)):
                return False
            at += dim
        return at == len(key)

    def bindings(self, generators: list[tuple[tuple[str, ...], str]], condition: ast.expr | None,
                 env: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Assignments of index names over sets (a product), filtered by the condition."""
        if not generators:
            if condition is None or self.eval(condition, env):
                yield env
            return
        (names, set_name), rest = generators[0], generators[1:]
        for e in self.data.sets.get(set_name, []):
            self.budget.spend()
            inner = dict(env)
            if len(names) == 1:
                inner[names[0]] = e
            else:
                inner.update(zip(names, e if isinstance(e, tuple) else (e,)))
            yield from self.bindings(rest, condition, inner)

    def eval(self, node: ast.expr, env: dict[str, Any]) -> Any:
        self.budget.spend()
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self._name(node, env)
        if isinstance(node, ast.Subscript):
            return self._subscript(node, env)
        if isinstance(node, ast.BinOp):
            left, right = self.eval(node.left, env), self.eval(node.right, env)
            try:
                if isinstance(node.op, ast.Pow):
                    return _power(left, right, node)
                return _BIN[type(node.op)](left, right)
            except EvalError:
                if self.checking(node.left):
                    return 0.0
                raise
            except ZeroDivisionError:
                if self.checking(node.left if isinstance(node.op, ast.Pow) else node.right):
                    return 0.0
                raise EvalError("division by zero", node) from None
            except OverflowError:
                raise EvalError("the result is too large to compute", node) from None
            except TypeError:
                raise EvalError(f"cannot compute {_shown(left)} {_OP_TEXT[type(node.op)]} {_shown(right)}",
                                node) from None
        if isinstance(node, ast.UnaryOp):
            v = self.eval(node.operand, env)
            return -v if isinstance(node.op, ast.USub) else (not v if isinstance(node.op, ast.Not) else v)
        if isinstance(node, ast.BoolOp):
            vals = (self.eval(v, env) for v in node.values)
            return all(vals) if isinstance(node.op, ast.And) else any(vals)
        if isinstance(node, ast.Compare):
            left = self.eval(node.left, env)
            for op, comp in zip(node.ops, node.comparators):
                right = self._membership_target(comp, env) if isinstance(op, (ast.In, ast.NotIn)) else self.eval(comp, env)
                if isinstance(op, ast.In):
                    ok = _as_key(left) in right
                elif isinstance(op, ast.NotIn):
                    ok = _as_key(left) not in right
                else:
                    ok = _CMP[type(op)](left, right)
                if not ok:
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.eval(node.body if self.eval(node.test, env) else node.orelse, env)
        if isinstance(node, ast.Tuple):
            return tuple(self.eval(e, env) for e in node.elts)
        if isinstance(node, ast.Call):
            return self._call(node, env)
        raise EvalError(f"cannot evaluate {type(node).__name__}", node)

    def _membership_target(self, node: ast.expr, env: dict[str, Any]) -> set[tuple[Any, ...]]:
        if isinstance(node, ast.Name) and node.id in self.data.sets:
            return self.members((node.id,))
        raise EvalError("`in` tests membership of a declared set", node)

    def _name(self, node: ast.Name, env: dict[str, Any]) -> Any:
        if node.id in env:
            return env[node.id]
        if node.id in self.data.params and node.id not in self.data.param_index:
            return self.data.params[node.id]
        if node.id in self.var_index and not self.var_index[node.id]:
            return self._var(node.id, (), node)
        raise EvalError(f"`{node.id}` has no value here", node)

    def _key(self, node: ast.Subscript, env: dict[str, Any]) -> tuple[Any, ...]:
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        key: list[Any] = []
        for p in parts:
            v = self.eval(p, env)
            key.extend(v if isinstance(v, tuple) else (v,))
        return tuple(_normal(k) for k in key)

    def _subscript(self, node: ast.Subscript, env: dict[str, Any]) -> Any:
        name = node.value.id if isinstance(node.value, ast.Name) else ""
        key = self._key(node, env)
        if name in self.var_index:
            return self._var(name, key, node)
        values = self.data.params.get(name)
        if isinstance(values, dict):
            if key in values:
                return values[key]
            if self.data.defaults.get(name) is not None:
                if not self.in_product(self.data.param_index[name], key):
                    raise EvalError(_outside(name, key, self.data.param_index[name]), node)
                return self.data.defaults[name]
            raise EvalError(_outside(name, key, self.data.param_index[name]), node)
        raise EvalError(f"`{name}` cannot be indexed", node)

    def _var(self, name: str, key: tuple[Any, ...], node: ast.AST) -> Any:
        sets = self.var_index[name]
        if sets and not self.in_product(sets, key):
            raise EvalError(_outside(name, key, sets), node)
        if self.values is None:
            return 0.0
        v = self.values.get(name)
        if isinstance(v, Mapping):
            return v.get(key, 0.0)
        return 0.0 if v is None else v

    def _call(self, node: ast.Call, env: dict[str, Any]) -> Any:
        fn = node.func.id  # type: ignore[union-attr]
        if fn == "len":
            return len(self.data.sets.get(node.args[0].id, []))  # type: ignore[union-attr]
        if len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp):
            items = list(self.generate(node.args[0], env))
            if fn == "sum":
                return sum(items)
            if not items:
                raise EvalError(f"`{fn}` over an empty set", node)
            return min(items) if fn == "min" else max(items)
        args = [self.eval(a, env) for a in node.args]
        if fn in _MATH:
            try:
                return _MATH[fn](args[0])
            except (ValueError, OverflowError, TypeError) as err:
                if self.checking(node.args[0]):
                    return 0.0
                raise EvalError(f"`{fn}({_shown(args[0])})` cannot be computed ({err})", node) from None
        return {"abs": lambda: abs(args[0]), "min": lambda: min(args), "max": lambda: max(args)}[fn]()

    def checking(self, node: ast.AST) -> bool:
        """True when an operand that failed holds decision variables, read as placeholders while checking.

        Checking indices reads every variable as 0, so `log(x)` or `a / x` fail there without any
        error in the data: the solver's values will differ. Decision values (`values`) get no pass.
        """
        if self.values is not None:
            return False
        return any(isinstance(n, ast.Name) and n.id in self.var_index for n in ast.walk(node))

    def generate(self, gen: ast.GeneratorExp, env: dict[str, Any]) -> Iterator[Any]:
        gens = [(_names(g.target), g.iter.id) for g in gen.generators]  # type: ignore[attr-defined]
        conds = [c for g in gen.generators for c in g.ifs]
        cond = conds[0] if len(conds) == 1 else (ast.BoolOp(op=ast.And(), values=conds) if conds else None)
        for inner in self.bindings(gens, cond, env):
            yield self.eval(gen.elt, inner)


def _shown(v: Any) -> str:
    """A value for a message, short even when it is a huge number or a long text."""
    if isinstance(v, int) and v.bit_length() > 200:
        return "a very large number"
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _power(base: Any, exponent: Any, node: ast.AST) -> Any:
    """`base ** exponent` that cannot hang on a huge integer power nor turn complex."""
    if isinstance(base, bool) or isinstance(exponent, bool):
        base, exponent = int(base), int(exponent)
    if isinstance(base, int) and isinstance(exponent, int) and exponent >= 0 and (
            abs(base) <= 1 or base.bit_length() * exponent <= MAX_POWER_BITS):
        return base**exponent
    if not isinstance(base, (int, float)) or not isinstance(exponent, (int, float)):
        raise TypeError
    result = float(base) ** float(exponent)  # OverflowError and ZeroDivisionError are reported by eval
    if isinstance(result, complex):
        raise EvalError(f"{_shown(base)} ** {_shown(exponent)} is not a real number", node)
    return result


def _names(target: ast.expr) -> tuple[str, ...]:
    if isinstance(target, ast.Tuple):
        return tuple(e.id for e in target.elts)  # type: ignore[attr-defined]
    return (target.id,)  # type: ignore[attr-defined]


def _normal(v: Any) -> Any:
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _as_key(v: Any) -> tuple[Any, ...]:
    return tuple(_normal(x) for x in v) if isinstance(v, tuple) else (_normal(v),)


def _outside(name: str, key: tuple[Any, ...], sets: tuple[str, ...]) -> str:
    shown = _shown(key[0]) if len(key) == 1 else "(" + ", ".join(_shown(k) for k in key) + ")"
    return f"`{name}[{shown}]` is outside {' x '.join(sets)}"
