"""Completion in the model block and the front matter. Pure functions."""

from __future__ import annotations

import re

from lsprotocol import types

from ..agents import AGENTS
from ..analysis import Analysis
from ..model.expr import FUNCTIONS
from ..model.syntax import DOMAINS, SECTIONS
from ..spec.frontmatter import KEYS
from .symbols import column_name, in_front_matter, in_model

KEYWORDS = ("for", "in", "if", "else", "and", "or", "not")
VAR_OPTIONS = ("domain", "lb", "ub")
K = types.CompletionItemKind


def _item(label: str, kind: types.CompletionItemKind, detail: str | None = None) -> types.CompletionItem:
    return types.CompletionItem(label=label, kind=kind, detail=detail)


def complete(analysis: Analysis, line: int, col: int) -> list[types.CompletionItem]:
    text = analysis.spec.lines[line][:col] if line < len(analysis.spec.lines) else ""
    if in_front_matter(analysis, line):
        return _front_matter(text)
    if not in_model(analysis, line):
        return []
    if m := re.search(r"([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z0-9_]*)$", text):
        table = analysis.spec.tables.get(m.group(1))
        if table is not None:
            return [_item(column_name(c), K.Field, f"column `{c}` of {table.name}") for c in table.columns]
    if re.fullmatch(r"\s*", text):
        return [_item(s, K.Keyword, "model section") for s in SECTIONS]
    if re.search(r"domain\s*:\s*\w*$", text):
        return [_item(d, K.EnumMember, "variable domain") for d in DOMAINS]
    items: list[types.CompletionItem] = []
    model = analysis.model
    if model is not None:
        items += [_item(n, K.Enum, "set") for n in model.sets]
        items += [_item(n, K.Constant, "parameter") for n in model.params]
        items += [_item(n, K.Variable, f"{d.domain} variable") for n, d in model.vars.items()]
    items += [_item(n, K.Struct, f"table ({', '.join(t.columns)})") for n, t in analysis.spec.tables.items()]
    items += [_item(f, K.Function, "function") for f in sorted(FUNCTIONS)]
    items += [_item(k, K.Keyword) for k in KEYWORDS]
    if re.search(r"\{[^}]*$", text):
        items += [_item(o, K.Property, "variable option") for o in VAR_OPTIONS]
    return items


def _front_matter(text: str) -> list[types.CompletionItem]:
    if re.search(r"^\s*agent\s*:\s*\w*$", text):
        return [_item(a, K.Module, "coding agent") for a in sorted(AGENTS)]
    if re.fullmatch(r"[A-Za-z_]*", text):
        return [_item(k, K.Property, doc) for k, (doc, _) in sorted(KEYS.items())]
    return []
