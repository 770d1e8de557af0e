"""The model block's declarations, parsed from YAML into typed, span-carrying objects.

The grammar (see README, "The model block"):

    sets:        NAME: TABLE.COLUMN | [a, b] | 1..N | TABLE.(COL1, COL2)
    params:      NAME: 5 | NAME[S, ...]: TABLE.COLUMN | TABLE | {a: 1} | 3 | {from: T.C, keys: [..], default: 0}
    vars:        NAME[i in S, ...]: {domain: continuous|integer|binary, lb: EXPR, ub: EXPR}
    minimize | maximize: EXPR
    constraints: NAME[i in S, j in T if COND]: EXPR (<=|>=|==) EXPR
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from typing import Any

from ..findings import Finding, Span, finding
from ..spec.checks import read_checks
from ..spec.document import ModelBlock
from ..spec.yamlnodes import YamlError, YNode, parse_yaml
from .expr import Expr, char_offset, parse_expr

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_HEAD = re.compile(rf"^\s*({IDENT})\s*(?:\[(.*)\])?\s*$", re.S)
_COLUMN = re.compile(rf"^\s*({IDENT})\s*\.\s*({IDENT})\s*$")
_PAIRS = re.compile(rf"^\s*({IDENT})\s*\.\s*\(\s*({IDENT}(?:\s*,\s*{IDENT})+)\s*\)\s*$")
_RANGE = re.compile(rf"^\s*(-?\d+|{IDENT})\s*\.\.\s*(-?\d+|{IDENT})\s*$")
DOMAINS = ("continuous", "integer", "binary")
SECTIONS = ("sets", "params", "vars", "minimize", "maximize", "constraints", "checks")


@dataclass(frozen=True)
class IndexBinding:
    """One `i in S` (or `(i, j) in A`, or a bare `S`) inside a declaration's brackets."""

    names: tuple[str, ...]
    """The index names bound; empty for a bare set (`x[F]`)."""
    set: str
    span: Span


@dataclass(frozen=True)
class Index:
    bindings: tuple[IndexBinding, ...]
    condition: Expr | None = None

    @property
    def sets(self) -> tuple[str, ...]:
        return tuple(b.set for b in self.bindings)


@dataclass(frozen=True)
class SetDecl:
    name: str
    span: Span
    kind: str
    """"column", "pairs", "list" or "range"."""
    table: str | None = None
    columns: tuple[str, ...] = ()
    values: tuple[Any, ...] = ()
    bounds: tuple[int | str, int | str] | None = None
    value_span: Span | None = None


@dataclass(frozen=True)
class ParamDecl:
    name: str
    span: Span
    index: Index | None
    kind: str
    """"scalar", "column", "matrix", "mapping" or "constant"."""
    value: Any = None
    table: str | None = None
    column: str | None = None
    keys: tuple[str, ...] = ()
    default: float | int | None = None
    value_span: Span | None = None


@dataclass(frozen=True)
class VarDecl:
    name: str
    span: Span
    index: Index | None
    domain: str = "continuous"
    lb: Expr | None = None
    ub: Expr | None = None
    free_lb: bool = False
    """True when the user wrote `lb: null`: the variable has no lower bound."""


@dataclass(frozen=True)
class Objective:
    sense: str
    expr: Expr
    span: Span


@dataclass(frozen=True)
class ConstraintDecl:
    name: str
    span: Span
    """The whole `name[...]: expression` line(s)."""
    name_span: Span
    index: Index | None
    expr: Expr


@dataclass(frozen=True)
class Model:
    """A parsed model block. Declarations keep the order in which they were written."""

    sets: dict[str, SetDecl] = field(default_factory=dict)
    params: dict[str, ParamDecl] = field(default_factory=dict)
    vars: dict[str, VarDecl] = field(default_factory=dict)
    objective: Objective | None = None
    constraints: dict[str, ConstraintDecl] = field(default_factory=dict)
    checks: Any = None
    checks_node: YNode | None = field(default=None, compare=False)
    """The `checks` section with its positions (read by spec.checks.read_checks)."""
    span: Span | None = None
    mentioned: frozenset[str] = frozenset()
    """Names written in declarations or expressions that could not be read (and were dropped):
    they count as used, so a typo in one expression does not also warn its names unused."""


def parse_model(block: ModelBlock) -> tuple[Model, list[Finding]]:
    """Parse a model block; every problem becomes a finding and the rest of the block still parses."""
    findings: list[Finding] = []
    try:
        root = parse_yaml(block.text)
    except YamlError as exc:
        findings.append(finding("NEMO120", f"model block is not valid YAML: {exc.message}. Quote an "
                                "expression that contains `: ` or ` #`.", exc.span.shift(block.first_line)))
        return Model(span=block.span), findings
    if root is None:
        return Model(span=block.span), findings
    root = root.shifted(block.first_line)
    if not root.is_map:
        findings.append(finding("NEMO121", "the model block must be a mapping with sections "
                                f"{', '.join(SECTIONS)}", root.span))
        return Model(span=block.span), findings
    p = _Parser(findings)
    model = Model(span=block.span)
    sense: YNode | None = None
    """The first `minimize`/`maximize` key, even when its expression has errors."""
    for key, value in root.items():
        name = key.value
        if name == "sets":
            p.section(value, key, p.set_decl, model.sets)
        elif name == "params":
            p.section(value, key, p.param_decl, model.params)
        elif name == "vars":
            p.section(value, key, p.var_decl, model.vars)
        elif name == "constraints":
            p.section(value, key, p.constraint_decl, model.constraints)
        elif name in ("minimize", "maximize"):
            if sense is not None:
                findings.append(finding("NEMO130", "a model has exactly one objective; this one repeats "
                                        f"the {sense.value} on line {sense.span.line + 1}", key.span))
                continue
            sense = key
            expr = p.expr(value)
            if expr is not None:
                model = replace(model, objective=Objective(name, expr, Span(key.span.line, key.span.col,
                                                                            value.span.end_line,
                                                                            value.span.end_col)))
        elif name == "checks":
            model = replace(model, checks=value.plain(), checks_node=value)
            findings.extend(read_checks(value, "NEMO121")[1])
        else:
            findings.append(finding("NEMO121", f"unknown model section `{name}`; the sections are "
                                    f"{', '.join(SECTIONS)}", key.span))
    model = replace(model, mentioned=frozenset(p.mentioned))
    if sense is None:
        findings.append(finding("NEMO130", "the model has no objective: add `minimize: EXPR` or "
                                "`maximize: EXPR`", Span.whole_line(block.span.line, "```model")))
    return model, findings


_KIND = {"sets": "set", "params": "parameter", "vars": "variable", "constraints": "constraint"}


class _Parser:
    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        self.declared: dict[str, tuple[str, Span]] = {}
        """Every declared name, whatever its section: one namespace, as in the generated code."""
        self.mentioned: set[str] = set()

    def mention(self, *nodes: YNode) -> None:
        """Remember the names in text that is dropped because it cannot be read."""
        for node in nodes:
            if node.is_scalar and isinstance(node.value, str):
                self.mentioned.update(re.findall(IDENT, node.value))
            else:
                for k, v in node.items():
                    self.mention(k, v)
                for v in (node.value if node.is_seq else ()):
                    self.mention(v)

    def error(self, code: str, message: str, span: Span) -> None:
        self.findings.append(finding(code, message, span))

    def section(self, node: YNode, key: YNode, parse, into: dict) -> None:
        if node.is_scalar and node.value is None:
            return
        if not node.is_map:
            self.error("NEMO121", f"`{key.value}` must be a mapping of `name: definition` lines", node.span)
            return
        for k, v in node.items():
            decl = parse(k, v)
            if decl is None:
                self.mention(k, v)
                continue
            if decl.name in self.declared:
                kind, where = self.declared[decl.name]
                self.error("NEMO128", f"`{decl.name}` is already declared as a {kind} on line "
                           f"{where.line + 1}", k.span)
                continue
            self.declared[decl.name] = (_KIND.get(str(key.value), "declaration"), decl.span)
            into[decl.name] = decl

    def expr(self, node: YNode, what: str = "expression") -> Expr | None:
        if node.is_scalar and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            # As written when Python reads it as the same number (`1e9`), so spans match the text.
            text = node.raw if node.raw is not None and _python_number(node.raw) == node.value else str(node.value)
        elif node.is_scalar and isinstance(node.value, str):
            text = node.value
        else:
            self.error("NEMO121", f"expected an {what} here", node.span)
            return None
        expr, problems = parse_expr(text, node.span.line, node.span.col + (1 if node.style in ("'", '"') else 0),
                                    multiline=node.span.end_line > node.span.line)
        self.findings.extend(problems)
        if expr is None:
            self.mention(node)
        return expr

    def head(self, key: YNode) -> tuple[str, Index | None] | None:
        """Parse `name` or `name[i in S, j in T if COND]` from a mapping key."""
        text = str(key.value)
        m = _HEAD.match(text)
        if not m:
            self.error("NEMO121", f"`{text}` is not a declaration name: write `name` or `name[i in SET]`",
                       key.span)
            return None
        name, inner = m.group(1), m.group(2)
        if inner is None:
            return name, None
        base = key.span.col + text.index("[") + 1
        index = self.index(inner, key.span.line, base, key.span)
        return (name, index) if index is not None else None

    def index(self, inner: str, line: int, col: int, key_span: Span) -> Index | None:
        bare = [s.strip() for s in inner.split(",")]
        if all(re.fullmatch(IDENT, s) for s in bare):
            bindings, pos = [], 0
            for s in bare:
                at = inner.index(s, pos)
                pos = at + len(s)
                bindings.append(IndexBinding((), s, Span.at(line, col + at, len(s))))
            return Index(tuple(bindings))
        bindings = []
        condition = None
        segments = _top_level_split(inner)
        for k, (at, seg) in enumerate(segments):
            # Each `i in S` (the last may end with `if COND`) is read as a comprehension clause, so
            # Python's parser gives positions and handles brackets inside the condition.
            source = f"[0 for {seg}]"
            offset = len("[0 for ") - at
            try:
                gen = ast.parse(source, mode="eval").body.generators[0]  # type: ignore[attr-defined]
            except (SyntaxError, AttributeError, RecursionError, MemoryError):
                self.error("NEMO121", f"cannot read `{seg.strip()}` in the index: write "
                           "`[i in SET, j in SET if CONDITION]` or `[SET]`", key_span)
                return None
            if not isinstance(gen.iter, ast.Name):
                self.error("NEMO121", "an index runs over a declared set by name: `i in SET`",
                           Span.at(line, col + char_offset(source, gen.iter.col_offset) - offset, 1))
                return None
            names = _target_names(gen.target)
            if names is None:
                self.error("NEMO121", "an index name must be a plain name or a tuple of names such as `(i, j)`",
                           Span.at(line, col + char_offset(source, gen.target.col_offset) - offset, 1))
                return None
            start = char_offset(source, gen.target.col_offset) - offset
            end = char_offset(source, gen.iter.end_col_offset or 0) - offset
            bindings.append(IndexBinding(names, gen.iter.id, Span(line, col + start, line, col + end)))
            if gen.ifs:
                if k != len(segments) - 1:
                    self.error("NEMO121", "put the `if` filter after the last index", key_span)
                    return None
                text = ast.get_source_segment(source, gen.ifs[0]) or ""
                if len(gen.ifs) > 1:
                    text = " and ".join(f"({ast.get_source_segment(source, c)})" for c in gen.ifs)
                expr, problems = parse_expr(text, line, col + char_offset(source, gen.ifs[0].col_offset) - offset)
                self.findings.extend(problems)
                condition = expr
        return Index(tuple(bindings), condition)

    def set_decl(self, key: YNode, value: YNode) -> SetDecl | None:
        name = str(key.value)
        if not re.fullmatch(IDENT, name):
            self.error("NEMO121", f"a set name is a plain identifier; got `{name}`", key.span)
            return None
        if value.is_seq:
            items = value.plain()
            if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in items):
                self.error("NEMO121", "set elements must be names or whole numbers", value.span)
                return None
            if len(set(items)) != len(items):
                self.error("NEMO121", f"set `{name}` lists an element twice", value.span)
            return SetDecl(name, key.span, "list", values=tuple(items), value_span=value.span)
        text = str(value.value) if value.is_scalar else ""
        if m := _PAIRS.match(text):
            cols = tuple(c.strip() for c in m.group(2).split(","))
            return SetDecl(name, key.span, "pairs", table=m.group(1), columns=cols, value_span=value.span)
        if m := _COLUMN.match(text):
            return SetDecl(name, key.span, "column", table=m.group(1), columns=(m.group(2),),
                           value_span=value.span)
        if m := _RANGE.match(text):
            if any(len(g) > 18 for g in m.groups()):
                self.error("NEMO121", f"the range of set `{name}` is too large: its bounds must be whole numbers "
                           "of at most 18 digits", value.span)
                return None
            lo, hi = (int(g) if re.fullmatch(r"-?\d+", g) else g for g in m.groups())
            return SetDecl(name, key.span, "range", bounds=(lo, hi), value_span=value.span)
        self.error("NEMO121", f"cannot read set `{name}`: write TABLE.COLUMN, a list `[a, b, c]`, a range "
                   "`1..12`, or pairs TABLE.(COL1, COL2)", value.span)
        return None

    def param_decl(self, key: YNode, value: YNode) -> ParamDecl | None:
        head = self.head(key)
        if head is None:
            return None
        name, index = head
        if index is not None and any(b.names for b in index.bindings):
            self.error("NEMO121", f"a parameter is indexed by sets only: write `{name}[{', '.join(index.sets)}]`",
                       key.span)
            return None
        if index is not None and index.condition is not None:
            self.error("NEMO121", "a parameter's index cannot have an `if` filter", key.span)
            return None
        span = key.span
        if value.is_map:
            spec = {k.value: v for k, v in value.items()}
            if "from" in spec:
                src = spec["from"]
                default = spec.get("default")
                keys = spec.get("keys")
                for extra in set(spec) - {"from", "default", "keys"}:
                    self.error("NEMO121", f"unknown parameter option `{extra}` (known: from, keys, default)",
                               value.span)
                d = default.value if default is not None else None
                if d is not None and not isinstance(d, (int, float)):
                    self.error("NEMO121", "`default` must be a number", default.span)
                    d = None
                key_cols = tuple(str(k) for k in keys.plain()) if keys is not None and keys.is_seq else ()
                base = self._param_source(name, index, src, span)
                if base is None:
                    return None
                return replace(base, default=d, keys=key_cols or base.keys)
            if index is None:
                self.error("NEMO121", f"`{name}` has no index, so it takes one number, not a mapping", value.span)
                return None
            mapping = {}
            for k, v in value.items():
                if not isinstance(v.value, (int, float)) or isinstance(v.value, bool):
                    self.error("NEMO114", f"`{name}[{k.value}]` must be a number; got {v.value!r}", v.span)
                    continue
                mapping[k.value] = v.value
            return ParamDecl(name, span, index, "mapping", value=mapping, value_span=value.span)
        return self._param_source(name, index, value, span)

    def _param_source(self, name: str, index: Index | None, value: YNode, span: Span) -> ParamDecl | None:
        v = value.value
        if value.is_scalar and isinstance(v, (int, float)) and not isinstance(v, bool):
            return ParamDecl(name, span, index, "scalar" if index is None else "constant", value=v,
                             value_span=value.span)
        if value.is_scalar and isinstance(v, str):
            if m := _COLUMN.match(v):
                if index is None:
                    self.error("NEMO121", f"`{name}` reads a table column, so it needs an index: "
                               f"`{name}[SET]: {v}`", span)
                    return None
                return ParamDecl(name, span, index, "column", table=m.group(1), column=m.group(2),
                                 value_span=value.span)
            if re.fullmatch(IDENT, v.strip()) and index is not None and len(index.bindings) == 2:
                return ParamDecl(name, span, index, "matrix", table=v.strip(), value_span=value.span)
        self.error("NEMO121", f"cannot read parameter `{name}`: write a number, TABLE.COLUMN, a matrix "
                   "TABLE (for two indices), a mapping `{a: 1, b: 2}`, or `{from: TABLE.COLUMN, default: 0}`",
                   value.span)
        return None

    def var_decl(self, key: YNode, value: YNode) -> VarDecl | None:
        head = self.head(key)
        if head is None:
            return None
        name, index = head
        if index is not None and index.condition is not None:
            self.error("NEMO121", "a variable's index cannot have an `if` filter; index it by a set of "
                       "pairs instead", key.span)
            return None
        if value.is_scalar and value.value is None:
            return VarDecl(name, key.span, index)
        if value.is_scalar and value.value in DOMAINS:
            return VarDecl(name, key.span, index, domain=value.value)
        if not value.is_map:
            self.error("NEMO121", f"variable `{name}` takes `{{domain: continuous|integer|binary, lb: ..., "
                       "ub: ...}`", value.span)
            return None
        domain = "continuous"
        lb = ub = None
        free = False
        for k, v in value.items():
            if k.value == "domain":
                if v.value not in DOMAINS:
                    self.error("NEMO121", f"domain must be one of {', '.join(DOMAINS)}; got {v.value!r}", v.span)
                else:
                    domain = v.value
            elif k.value in ("lb", "ub"):
                if v.is_scalar and v.value is None:
                    free = free or k.value == "lb"
                    continue
                e = self.expr(v, "bound expression")
                if k.value == "lb":
                    lb = e
                else:
                    ub = e
            else:
                self.error("NEMO121", f"unknown variable option `{k.value}` (known: domain, lb, ub)", k.span)
        return VarDecl(name, key.span, index, domain, lb, ub, free)

    def constraint_decl(self, key: YNode, value: YNode) -> ConstraintDecl | None:
        head = self.head(key)
        if head is None:
            return None
        name, index = head
        if index is not None and any(not b.names for b in index.bindings):
            self.error("NEMO121", f"name the index of constraint `{name}`: write `{name}[i in SET]`", key.span)
            return None
        expr = self.expr(value, "constraint")
        if expr is None:
            return None
        span = Span(key.span.line, key.span.col, value.span.end_line, value.span.end_col)
        return ConstraintDecl(name, span, Span.at(key.span.line, key.span.col, len(name)), index, expr)


def _python_number(text: str) -> int | float | None:
    """The number a numeric literal stands for in Python (`1e9`, `0o17`, `1_000`), else None."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return None
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, (ast.USub, ast.UAdd)):
        sign, tree = (-1 if isinstance(tree.op, ast.USub) else 1), tree.operand
    else:
        sign = 1
    if isinstance(tree, ast.Constant) and type(tree.value) in (int, float):
        return sign * tree.value
    return None


def _top_level_split(text: str) -> list[tuple[int, str]]:
    """Split at commas outside brackets, keeping each part's offset in the text."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append((start, text[start:i]))
            start = i + 1
    parts.append((start, text[start:]))
    return parts


def _target_names(target: ast.expr) -> tuple[str, ...] | None:
    if isinstance(target, ast.Name):
        return (target.id,)
    if isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
        return tuple(e.id for e in target.elts)  # type: ignore[union-attr]
    return None
