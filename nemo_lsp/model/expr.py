"""Expressions of the model language: Python syntax, parsed with `ast`, checked against a whitelist.

User text is never evaluated in-process: it is parsed, checked here, and later translated into
generated code that runs in the sandbox.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from ..findings import Finding, Span, finding

FUNCTIONS = {"sum", "min", "max", "abs", "len", "exp", "log", "sqrt"}
"""Callable names. `sum` takes a generator; `min` and `max` only data; `abs`, `exp`, `log` and `sqrt` take
one argument, data or decision variables (a variable inside makes the model nonlinear: see model/classify.py)."""

UNARY = ("abs", "exp", "log", "sqrt")
"""The functions of one argument, which the nonlinear backends (SCIP, Gurobi, IPOPT) take as they are."""

MAX_DEPTH = 100
"""Deepest expression the checker and the evaluator (which recurse, several frames a level) will take."""

_ALLOWED = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Name, ast.Constant,
    ast.Subscript, ast.Tuple, ast.Call, ast.GeneratorExp, ast.comprehension, ast.IfExp, ast.Load, ast.Store,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or,
    ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq, ast.In, ast.NotIn,
)
_NAMES = {
    ast.FloorDiv: "`//`", ast.Lambda: "lambda", ast.Attribute: "attribute access (`a.b`)",
    ast.ListComp: "a list comprehension", ast.List: "a list", ast.Dict: "a dict", ast.Set: "a set literal",
    ast.Starred: "`*` unpacking", ast.NamedExpr: "`:=`", ast.Slice: "a slice", ast.JoinedStr: "an f-string",
    ast.Is: "`is`", ast.IsNot: "`is not`", ast.BitAnd: "`&`", ast.BitOr: "`|`", ast.BitXor: "`^`",
    ast.MatMult: "`@`", ast.Await: "await", ast.Yield: "yield",
}


@dataclass(frozen=True)
class Expr:
    """A checked expression and where it sits in the file."""

    text: str
    tree: ast.expr
    line: int
    col: int
    multiline: bool = False

    @property
    def span(self) -> Span:
        if self.multiline:
            return Span(self.line, self.col, self.line + 1, 0)
        return Span(self.line, self.col, self.line, self.col + len(self.text))

    def span_of(self, node: ast.AST) -> Span:
        """The file span of a node inside this expression (the whole expression when folded over lines)."""
        if self.multiline or not hasattr(node, "col_offset"):
            return self.span
        start = char_offset(self.text, node.col_offset)
        end_bytes = getattr(node, "end_col_offset", None)
        end = char_offset(self.text, end_bytes) if end_bytes is not None else start + 1
        return Span(self.line, self.col + start, self.line, self.col + end)


def char_offset(text: str, byte_offset: int) -> int:
    """`ast` positions count UTF-8 bytes; spans count characters (`è` is 2 bytes, 1 character)."""
    if text.isascii():
        return byte_offset
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def parse_expr(text: str, line: int, col: int, *, multiline: bool = False) -> tuple[Expr | None, list[Finding]]:
    """Parse and whitelist-check one expression. Returns None with findings when it is not usable."""
    source = " ".join(text.split("\n")) if "\n" in text else text
    where = Span(line, col, line, col + len(source)) if not multiline else Span(line, col, line + 1, 0)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        at = Span.at(line, col + max((exc.offset or 1) - 1, 0), 1) if not multiline else where
        return None, [finding("NEMO122", f"syntax error in `{_clip(source.strip())}`: {exc.msg}", at)]
    except (RecursionError, MemoryError):
        # CPython's parser gives up on very deep nesting (`-` * 100000 + `1`) with these, not SyntaxError.
        return None, [finding("NEMO122", f"`{_clip(source.strip())}` is nested too deeply to read", where)]
    if _depth(tree) > MAX_DEPTH:
        return None, [finding("NEMO123", f"this expression is nested more than {MAX_DEPTH} levels deep (or chains "
                              f"more than {MAX_DEPTH} operators); write long sums as `sum(... for i in SET)`",
                              where)]
    expr = Expr(source, tree.body, line, col, multiline)
    problems: list[Finding] = []
    for node in _walk_allowed(tree):
        if not isinstance(node, _ALLOWED):
            what = _NAMES.get(type(node), type(node).__name__)
            problems.append(finding("NEMO123", f"{what} is not part of the model language", expr.span_of(node)))
        elif isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str)) or (
                isinstance(node, ast.Constant) and isinstance(node.value, bool)):
            problems.append(finding("NEMO123", f"the constant {node.value!r} is not allowed; use numbers "
                                    "or quoted set elements", expr.span_of(node)))
        elif isinstance(node, ast.Call):
            problems.extend(_check_call(node, expr))
        elif isinstance(node, ast.comprehension):
            if node.is_async:
                problems.append(finding("NEMO123", "async comprehensions are not allowed", expr.span_of(node.target)))
            if not isinstance(node.iter, ast.Name):
                problems.append(finding("NEMO123", "`for` runs over a declared set by name: `for i in SET`",
                                        expr.span_of(node.iter)))
            if not _plain_target(node.target):
                problems.append(finding("NEMO123", "`for` binds a name or a tuple of names: `for i in SET`, "
                                        "`for (i, j) in PAIRS`", expr.span_of(node.target)))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            if not _is_number(node.right):
                problems.append(finding("NEMO123", "the exponent of `**` must be a number", expr.span_of(node.right)))
    if problems:
        return None, problems
    return expr, []


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _depth(tree: ast.AST) -> int:
    """The nesting depth of a syntax tree, found without recursion (the checker and evaluator recurse)."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if d <= MAX_DEPTH:
            stack.extend((child, d + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _walk_allowed(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, breadth first like `ast.walk`, but not the insides of a disallowed node.

    A `lambda` is reported once, not again for its `arguments`, nor an f-string for its parts.
    """
    queue: deque[ast.AST] = deque([tree])
    while queue:
        node = queue.popleft()
        yield node
        if isinstance(node, _ALLOWED):
            queue.extend(ast.iter_child_nodes(node))


def _plain_target(target: ast.expr) -> bool:
    """`i` or `(i, j)`: what the checker and the evaluator can bind (not `(i, (j, k))`, not `c[0]`)."""
    if isinstance(target, ast.Tuple):
        return all(isinstance(e, ast.Name) for e in target.elts)
    return isinstance(target, ast.Name)


def _is_number(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _is_number(node.operand)
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _check_call(node: ast.Call, expr: Expr) -> list[Finding]:
    if not isinstance(node.func, _ALLOWED):
        return []  # `(lambda: 0)()`, `os.system(...)`: the callee itself is reported
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        name = node.func.id if isinstance(node.func, ast.Name) else "this call"
        return [finding("NEMO123", f"`{name}` is not a function of the model language "
                        f"(known: {', '.join(sorted(FUNCTIONS))})", expr.span_of(node.func))]
    if node.keywords:
        return [finding("NEMO123", "keyword arguments are not allowed", expr.span_of(node))]
    name = node.func.id
    if name == "sum" and not (len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp)):
        return [finding("NEMO123", "write sums as `sum(EXPR for i in SET)`", expr.span_of(node))]
    if name == "len" and not (len(node.args) == 1 and isinstance(node.args[0], ast.Name)):
        return [finding("NEMO123", "`len` takes a set name: `len(SET)`", expr.span_of(node))]
    if name in UNARY and (len(node.args) != 1 or isinstance(node.args[0], ast.GeneratorExp)):
        return [finding("NEMO123", f"`{name}` takes one argument: `{name}(EXPR)`", expr.span_of(node))]
    if name in ("min", "max") and len(node.args) < 2 and not (
            len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp)):
        return [finding("NEMO123", f"`{name}` takes two or more arguments or a generator", expr.span_of(node))]
    return []


COMPARE_OPS = {ast.LtE: "<=", ast.GtE: ">=", ast.Eq: "=="}


def relation(tree: ast.expr) -> tuple[list[ast.expr], list[str]] | None:
    """Split a constraint `a <= b` or a range `lo <= e <= hi` into its operands and operators."""
    if not isinstance(tree, ast.Compare):
        return None
    ops = [COMPARE_OPS.get(type(op)) for op in tree.ops]
    if any(op is None for op in ops) or len(ops) > 2:
        return None
    if len(ops) == 2 and (ops[0] != ops[1] or ops[0] == "=="):
        return None
    return [tree.left, *tree.comparators], ops  # type: ignore[list-item]
