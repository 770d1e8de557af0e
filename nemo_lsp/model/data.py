"""Resolve the model's sets and parameters from the spec's tables.

The result is the one data file that both the optimizer and the simulator read, so the two can
never disagree about the numbers. Pure: tables in, data and findings out.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from ..findings import Finding, Span, finding
from ..spec.document import Table, parse_number
from .syntax import Model, ParamDecl, SetDecl

Key = tuple[Any, ...]
MAX_MISSING_SHOWN = 4
MAX_ELEMENTS = 1_000_000
"""Largest set, and largest index of a parameter (the product of its sets), resolved here: beyond it,
a keystroke would build millions of keys (`T: 1..1000000000`, `p[T, T, T]: 0`)."""


@dataclass
class ModelData:
    """Concrete sets (ordered, de-duplicated) and parameters (scalars or dicts keyed by tuples)."""

    sets: dict[str, list[Any]] = field(default_factory=dict)
    dims: dict[str, int] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    param_index: dict[str, tuple[str, ...]] = field(default_factory=dict)
    defaults: dict[str, float | int | None] = field(default_factory=dict)

    def param_dim(self, name: str) -> int:
        return sum(self.dims.get(s, 1) for s in self.param_index.get(name, ()))

    def to_json(self, tables: dict[str, Table]) -> dict[str, Any]:
        """The data file's content: resolved sets and params, plus the raw tables for agents."""
        params: dict[str, Any] = {}
        for name, value in self.params.items():
            if name not in self.param_index:
                params[name] = value
            else:
                params[name] = {"index": list(self.param_index[name]), "default": self.defaults.get(name),
                                "values": [[*k, v] for k, v in value.items()]}
        return {
            "sets": {n: [list(e) if isinstance(e, tuple) else e for e in v] for n, v in self.sets.items()},
            "params": params,
            "tables": {n: t.to_json() for n, t in tables.items()},
        }


def tables_only(tables: dict[str, Table]) -> dict[str, Any]:
    """The data file for a spec without a model block: agents read the raw tables."""
    return {"sets": {}, "params": {}, "tables": {n: t.to_json() for n, t in tables.items()}}


def resolve(model: Model, tables: dict[str, Table]) -> tuple[ModelData, list[Finding]]:
    r = _Resolver(model, tables)
    for p in model.params.values():
        if p.kind == "scalar":
            r.data.params[p.name] = p.value
    for s in model.sets.values():
        r.set(s)
    for p in model.params.values():
        if p.kind != "scalar":
            r.param(p)
    return r.data, r.findings


class _Resolver:
    def __init__(self, model: Model, tables: dict[str, Table]) -> None:
        self.model = model
        self.tables = tables
        self.data = ModelData()
        self.findings: list[Finding] = []
        self.unreadable: dict[str, set[Key]] = {}
        """Per parameter, keys whose cell was already reported as bad (no second finding for them)."""

    def error(self, code: str, message: str, span: Span | None) -> None:
        self.findings.append(finding(code, message, span))

    def table(self, name: str, span: Span | None) -> Table | None:
        t = self.tables.get(name)
        if t is None:
            known = ", ".join(sorted(self.tables)) or "none"
            self.error("NEMO115", f"no table named `{name}` (tables in this spec: {known}). Name a table by "
                       f"writing `Table: {name}` on the line after it.", span)
        return t

    def column(self, t: Table, name: str, span: Span | None) -> int | None:
        i = t.column_index(name)
        if i is None:
            self.error("NEMO115", f"table `{t.name}` has no column `{name}` (columns: {', '.join(t.columns)})", span)
        return i

    def set(self, s: SetDecl) -> None:
        elements: list[Any] = []
        if s.kind == "list":
            elements = list(s.values)
        elif s.kind == "range":
            bounds = [self._bound(b, s) for b in s.bounds or ()]
            if None in bounds:
                return
            size = bounds[1] - bounds[0] + 1  # type: ignore[operator]
            if size > MAX_ELEMENTS:
                self.error("NEMO121", f"set `{s.name}` would have {size:,} elements; a set may have at most "
                           f"{MAX_ELEMENTS:,}", s.value_span)
                return
            elements = list(range(bounds[0], bounds[1] + 1))  # type: ignore[operator]
        else:
            t = self.table(s.table or "", s.value_span)
            if t is None:
                return
            cols = [self.column(t, c, s.value_span) for c in s.columns]
            if None in cols:
                return
            for row in t.rows:
                cells = [row[c] for c in cols]  # type: ignore[index]
                if any(not c.text for c in cells):
                    continue
                e = tuple(c.value for c in cells)
                elements.append(e if len(e) > 1 else e[0])
            elements = list(dict.fromkeys(elements))
        self.data.sets[s.name] = elements
        self.data.dims[s.name] = len(s.columns) if s.kind == "pairs" else 1

    def _bound(self, b: int | str, s: SetDecl) -> int | None:
        if isinstance(b, int):
            return b
        v = self.data.params.get(b)
        if isinstance(v, int) or (isinstance(v, float) and v.is_integer()):
            return int(v)
        self.error("NEMO124" if v is None else "NEMO121",
                   f"range bound `{b}` must be a whole number or a scalar parameter holding one", s.value_span)
        return None

    def param(self, p: ParamDecl) -> None:
        sets = p.index.sets if p.index else ()
        missing_sets = [s for s in sets if s not in self.data.sets]
        if missing_sets:
            for s in missing_sets:
                if s not in self.model.sets:
                    self.error("NEMO124", f"`{s}` is not a declared set", p.span)
            return
        size = 1
        for s in sets:
            size *= len(self.data.sets[s])
        if size > MAX_ELEMENTS:
            self.error("NEMO121", f"`{p.name}[{', '.join(sets)}]` would have {size:,} values; a parameter may have "
                       f"at most {MAX_ELEMENTS:,}", p.span)
            return
        self.data.param_index[p.name] = sets
        self.data.defaults[p.name] = p.default
        values: dict[Key, Any] = {}
        if p.kind == "constant":
            values = {k: p.value for k in self._keys(sets)}
        elif p.kind == "mapping":
            if len(sets) != 1 or self.data.dims[sets[0]] != 1:
                self.error("NEMO121", f"a mapping gives `{p.name}` one value per element of one set", p.value_span)
                return
            for k, v in p.value.items():
                values[(k,)] = v
            self._check_members(p, values, p.value_span)
        elif p.kind == "column":
            values = self._from_column(p, sets)
        elif p.kind == "matrix":
            values = self._from_matrix(p, sets)
        if values is None:
            return
        self._check_complete(p, sets, values)
        self.data.params[p.name] = values

    def _keys(self, sets: tuple[str, ...]) -> list[Key]:
        parts = [[e if isinstance(e, tuple) else (e,) for e in self.data.sets[s]] for s in sets]
        return [tuple(itertools.chain.from_iterable(combo)) for combo in itertools.product(*parts)]

    def _key_columns(self, p: ParamDecl, t: Table, sets: tuple[str, ...], value_col: int) -> list[int] | None:
        if p.keys:
            cols = [self.column(t, k, p.value_span) for k in p.keys]
            return None if None in cols else cols  # type: ignore[return-value]
        wanted: list[str] = []
        for s in sets:
            decl = self.model.sets.get(s)
            wanted.extend(decl.columns if decl and decl.columns else (s,))
        found = [t.column_index(w) for w in wanted]
        if None not in found and value_col not in found:
            return found  # type: ignore[return-value]
        others = [i for i in range(len(t.columns)) if i != value_col]
        if len(others) < len(wanted):
            self.error("NEMO115", f"table `{t.name}` needs {len(wanted)} key column(s) for `{p.name}` "
                       f"({', '.join(wanted)}); name them with `keys: [...]`", p.value_span)
            return None
        return others[:len(wanted)]

    def _from_column(self, p: ParamDecl, sets: tuple[str, ...]) -> dict[Key, Any] | None:
        t = self.table(p.table or "", p.value_span)
        if t is None:
            return None
        vc = self.column(t, p.column or "", p.value_span)
        if vc is None:
            return None
        kcs = self._key_columns(p, t, sets, vc)
        if kcs is None:
            return None
        values: dict[Key, Any] = {}
        bad = 0
        for row in t.rows:
            key = tuple(row[k].value for k in kcs)
            cell = row[vc]
            if cell.padded:
                self.unreadable.setdefault(p.name, set()).add(key)
                continue
            if not cell.text:
                continue
            n = cell.number
            if n is None:
                self.unreadable.setdefault(p.name, set()).add(key)
                bad += 1
                if bad <= MAX_MISSING_SHOWN:
                    self.error("NEMO114", f"`{cell.text}` in column `{t.columns[vc]}` is not a number "
                               f"(needed by `{p.name}`)", cell.span)
                continue
            if key in values:
                self.error("NEMO121", f"`{p.name}{list(key)}` is given twice in table `{t.name}`", cell.span)
            values[key] = n
        self._check_members(p, values, p.value_span, t, kcs)
        return values

    def _from_matrix(self, p: ParamDecl, sets: tuple[str, ...]) -> dict[Key, Any] | None:
        t = self.table(p.table or "", p.value_span)
        if t is None:
            return None
        if any(self.data.dims[s] != 1 for s in sets):
            self.error("NEMO121", "a matrix table indexes two simple sets", p.value_span)
            return None
        col_keys = [parse_number(h.text) if parse_number(h.text) is not None else h.text for h in t.header[1:]]
        values: dict[Key, Any] = {}
        for row in t.rows:
            r = row[0].value
            for j, cell in enumerate(row[1:]):
                if not cell.text and not cell.padded:
                    continue
                n = cell.number
                if n is None or cell.padded:
                    self.unreadable.setdefault(p.name, set()).add((r, col_keys[j]))
                    if not cell.padded:
                        self.error("NEMO114", f"`{cell.text}` is not a number (needed by `{p.name}`)", cell.span)
                    continue
                values[(r, col_keys[j])] = n
        rows_set, cols_set = set(self.data.sets[sets[0]]), set(self.data.sets[sets[1]])
        for row in t.rows:
            if row[0].value not in rows_set:
                self.error("NEMO126", f"row `{row[0].text}` of table `{t.name}` is not in set `{sets[0]}`",
                           row[0].span)
        for h, k in zip(t.header[1:], col_keys):
            if k not in cols_set:
                self.error("NEMO126", f"column `{h.text}` of table `{t.name}` is not in set `{sets[1]}`", h.span)
        return values

    def _check_members(self, p: ParamDecl, values: dict[Key, Any], span: Span | None,
                       t: Table | None = None, kcs: list[int] | None = None) -> None:
        valid = set(self._keys(p.index.sets)) if p.index else set()
        for key in values:
            if key not in valid:
                where = span
                if t is not None and kcs is not None:
                    row = next((r for r in t.rows if tuple(r[k].value for k in kcs) == key), None)
                    where = row[kcs[0]].span if row else span
                label = key[0] if len(key) == 1 else key
                self.error("NEMO126", f"`{label}` (a key of `{p.name}`) is not in "
                           f"{' x '.join(p.index.sets) if p.index else 'its index'}", where)

    def _check_complete(self, p: ParamDecl, sets: tuple[str, ...], values: dict[Key, Any]) -> None:
        if p.default is not None:
            return
        reported = self.unreadable.get(p.name, set())
        missing = [k for k in self._keys(sets) if k not in values and k not in reported]
        if missing:
            shown = ", ".join(str(k[0]) if len(k) == 1 else "(" + ", ".join(str(x) for x in k) + ")"
                              for k in missing[:MAX_MISSING_SHOWN])
            more = f" and {len(missing) - MAX_MISSING_SHOWN} more" if len(missing) > MAX_MISSING_SHOWN else ""
            self.error("NEMO134", f"`{p.name}` has no value for {shown}{more}; add the rows, or give a "
                       f"default: `{p.name}[{', '.join(sets)}]: {{from: ..., default: 0}}`", p.span)
