"""Turning model-language expressions into Python source for the generated modules.

Both emitters (Pyomo optimizer, plain-Python simulator) rename symbols and unparse; they differ in
what a symbol becomes, which is all that this module's `Renamer` is told.
"""

from __future__ import annotations

import ast
import builtins
import keyword
from collections.abc import Callable

PYOMO_RESERVED = frozenset({
    "Skip", "activate", "active", "add_component", "block_data_objects", "clear", "clone", "component",
    "config", "construct", "deactivate", "del_component", "dim", "display", "doc", "index", "index_set",
    "items", "keys", "load", "local_name", "model", "name", "parent_block", "parent_component", "pprint",
    "preprocess", "reconstruct", "root_block", "set_value", "solutions", "statistics", "type", "values",
    "write", "ctype", "cname", "getname", "objective",
})
"""Attributes of a Pyomo ConcreteModel that a component name must not shadow."""


def safe(name: str, reserved: frozenset[str] | set[str]) -> str:
    """A Python identifier for a user name that would clash with generated code or builtins."""
    if name in reserved or keyword.iskeyword(name) or hasattr(builtins, name):
        return name + "_"
    return name


class Renamer(ast.NodeTransformer):
    """Replaces each Name by what `rename` returns (an expression's source text)."""

    def __init__(self, rename: Callable[[str, ast.Name], str | None], functions: dict[str, str] | None = None) -> None:
        self.rename = rename
        self.functions = functions or {}

    def visit_Name(self, node: ast.Name) -> ast.AST:
        new = self.rename(node.id, node)
        if new is None or new == node.id:
            return node
        return ast.copy_location(ast.parse(new, mode="eval").body, node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node.args = [self.visit(a) for a in node.args]  # builtins (sum, len, abs...) keep their name
        fn = node.func.id if isinstance(node.func, ast.Name) else None
        if fn in self.functions:
            node.func = ast.copy_location(ast.parse(self.functions[fn], mode="eval").body, node.func)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        node.target = self._bind(node.target)
        node.iter = self.visit(node.iter)
        node.ifs = [self.visit(c) for c in node.ifs]
        return node

    def _bind(self, target: ast.expr) -> ast.expr:
        if isinstance(target, ast.Name):
            new = self.rename(target.id, target)
            return ast.Name(id=new or target.id, ctx=ast.Store())
        if isinstance(target, ast.Tuple):
            target.elts = [self._bind(e) for e in target.elts]
        return target


def unparse(tree: ast.expr, rename: Callable[[str, ast.Name], str | None],
            functions: dict[str, str] | None = None) -> str:
    """The expression's source with names renamed and model functions (`exp`, ...) spelled for the target."""
    import copy

    return ast.unparse(Renamer(rename, functions).visit(copy.deepcopy(tree)))
