"""Hover and go-to-definition over the model block and table captions. Pure functions."""

from __future__ import annotations

from typing import Any

from ..analysis import Analysis
from ..engine import Report
from ..findings import Span
from .actions import memory_entries
from .problem import class_hover
from .symbols import Word, declaration, in_model, word_at

MAX_VALUES = 6


def _fmt(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _key(k: Any) -> str:
    return ", ".join(_fmt(x) for x in k) if isinstance(k, tuple) else _fmt(k)


def _decl_line(analysis: Analysis, span: Span) -> str:
    return analysis.spec.lines[span.line].strip()


def memory_hover(report: Report | None) -> str | None:
    """On the title: the memory entries whose examples the last run's modules were written with."""
    entries = memory_entries(report) if report is not None else {}
    if not entries:
        return None
    folder = (report.memory or {}).get("folder") if report is not None else None
    lines = [f"**Examples from memory** ({folder}):", ""]
    lines += [f"- `{entry}`: {title}" for entry, title in entries.items()]
    return "\n".join(lines)


def hover_text(analysis: Analysis, report: Report | None, line: int, col: int) -> tuple[str, Span] | None:
    title = analysis.spec.title_span
    if line == title.line and memory_hover(report):
        return memory_hover(report) or "", title
    w = word_at(analysis.spec.lines, line, col)
    if w is None:
        return None
    if w.qualifier and w.qualifier in analysis.spec.tables:
        t = analysis.spec.tables[w.qualifier]
        i = t.column_index(w.text)
        if i is not None:
            sample = ", ".join(_fmt(r[i].value) for r in t.rows[:MAX_VALUES])
            return f"column `{t.columns[i]}` of table `{t.name}` ({len(t.rows)} rows): {sample}", w.span
    if w.text in analysis.spec.tables and (not in_model(analysis, line) or w.qualifier is None):
        t = analysis.spec.tables[w.text]
        if w.span.line == t.name_span.line or in_model(analysis, line):
            return (f"**table `{t.name}`**: {len(t.rows)} rows x {len(t.columns)} columns "
                    f"({t.origin})\n\ncolumns: {', '.join(f'`{c}`' for c in t.columns)}"), w.span
    if not in_model(analysis, line) or analysis.model is None:
        return None
    objective = analysis.model.objective
    if objective is not None and w.text in ("minimize", "maximize") and line == objective.span.line:
        text = class_hover(analysis)
        return (text, w.span) if text else None
    found = declaration(analysis, w.text)
    if found is None:
        return None
    kind, span = found
    parts = [f"**{kind} `{w.text}`** (line {span.line + 1})", f"```yaml\n{_decl_line(analysis, span)}\n```"]
    data = analysis.data
    if kind == "set" and data is not None and w.text in data.sets:
        elems = data.sets[w.text]
        more = f", ... ({len(elems)} in all)" if len(elems) > MAX_VALUES else ""
        parts.append(f"{len(elems)} elements: {', '.join(_key(e) for e in elems[:MAX_VALUES])}{more}")
    elif kind == "parameter" and data is not None and w.text in data.params:
        value = data.params[w.text]
        if isinstance(value, dict):
            index = " x ".join(data.param_index.get(w.text, ()))
            shown = ", ".join(f"{_key(k)}: {_fmt(v)}" for k, v in list(value.items())[:MAX_VALUES])
            more = ", ..." if len(value) > MAX_VALUES else ""
            parts.append(f"indexed by {index}, {len(value)} values: {shown}{more}")
        else:
            parts.append(f"value: {_fmt(value)}")
    elif kind == "variable":
        parts.append(_solution_values(w.text, report))
    elif kind == "constraint" and report is not None and report.verdict is not None:
        slack = report.verdict.slack.get(w.text)
        if slack is not None:
            parts.append(f"last run: {'violated by ' + _fmt(-slack) if slack < 0 else 'slack ' + _fmt(slack)}")
    return "\n\n".join(p for p in parts if p), w.span


def _solution_values(name: str, report: Report | None) -> str:
    if report is None or report.solution is None or not report.solution.decisions:
        return "no solution yet: save to solve"
    value = report.solution.decisions.get(name)
    if isinstance(value, list):
        nonzero = [r for r in value if isinstance(r, list) and r and isinstance(r[-1], (int, float)) and abs(r[-1]) > 1e-9]
        rows = "\n".join(f"| {', '.join(_fmt(k) for k in r[:-1])} | {_fmt(r[-1])} |" for r in nonzero[:20])
        more = f"\n\n... {len(nonzero) - 20} more" if len(nonzero) > 20 else ""
        if not nonzero:
            return "last solution: all zero"
        return f"last solution ({len(nonzero)} nonzero):\n\n| index | value |\n| --- | --- |\n{rows}{more}"
    if isinstance(value, (int, float)):
        return f"last solution: {_fmt(float(value))}"
    return "not in the last solution"


def definition(analysis: Analysis, line: int, col: int) -> Span | None:
    w: Word | None = word_at(analysis.spec.lines, line, col)
    if w is None or not in_model(analysis, line):
        return None
    if w.qualifier is None and w.text in analysis.spec.tables:
        return analysis.spec.tables[w.text].name_span
    if w.qualifier in analysis.spec.tables:
        t = analysis.spec.tables[w.qualifier]
        i = t.column_index(w.text)
        return t.header[i].span if i is not None else t.name_span
    found = declaration(analysis, w.text)
    return found[1] if found else None
