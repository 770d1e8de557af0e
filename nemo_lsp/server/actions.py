"""Code actions and code lenses, built from findings and the last run. Pure functions.

A diagnostic carries its finding's id; the fixes are looked up from the finding, never recomputed
from the diagnostic's text.
"""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types

from ..analysis import Analysis
from ..engine import Report
from ..findings import Finding, Span
from ..spec.document import Table
from .problem import class_lens_title
from .symbols import column_name

COMMANDS = {
    "solve": "nemo.solve",
    "regenerate": "nemo.regenerate",
    "repair_optimizer": "nemo.repairOptimizer",
    "repair_simulator": "nemo.repairSimulator",
    "open_optimizer": "nemo.openOptimizer",
    "open_simulator": "nemo.openSimulator",
    "open_log": "nemo.openLog",
    "show_report": "nemo.showReport",
    "consolidate": "nemo.consolidate",
    "open_candidate": "nemo.openCandidate",
    "save_memory": "nemo.saveToMemory",
}
"""Command ids shared with the editor clients (their package.json must list the same)."""

_TITLES = {
    "regenerate": "Regenerate the optimizer and simulator",
    "repair_optimizer": "Repair the optimizer with the simulator's evidence",
    "repair_simulator": "Repair the simulator",
}
ASSUMPTIONS = ("accept_assumption", "reject_assumption")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _range(span: Span) -> types.Range:
    return types.Range(start=types.Position(line=span.line, character=span.col),
                       end=types.Position(line=span.end_line, character=span.end_col))


def _edit(uri: str, title: str, edits: list[types.TextEdit], diagnostic: types.Diagnostic | None = None,
          kind: str = types.CodeActionKind.QuickFix, preferred: bool = False) -> types.CodeAction:
    return types.CodeAction(title=title, kind=kind, diagnostics=[diagnostic] if diagnostic else None,
                            edit=types.WorkspaceEdit(changes={uri: edits}), is_preferred=preferred or None)


def _command(title: str, name: str, args: list, diagnostic: types.Diagnostic | None = None,
             kind: str = types.CodeActionKind.QuickFix) -> types.CodeAction:
    return types.CodeAction(title=title, kind=kind, diagnostics=[diagnostic] if diagnostic else None,
                            command=types.Command(title=title, command=COMMANDS[name], arguments=args))


def insert_at(line: int, text: str) -> types.TextEdit:
    pos = types.Position(line=line, character=0)
    return types.TextEdit(range=types.Range(start=pos, end=pos), new_text=text)


def fixes_for(uri: str, finding_id: str, f: Finding, diagnostic: types.Diagnostic,
              analysis: Analysis | None) -> list[types.CodeAction]:
    actions = [_command(_TITLES[fix], fix, [uri, finding_id], diagnostic) for fix in f.fixes if fix in _TITLES]
    if analysis is None or f.span is None:
        return actions
    suggestion = re.search(r"did you mean `([^`]+)`", f.message)
    if suggestion and f.code in ("NEMO103", "NEMO124"):
        # The diagnostic's range is the finding's span in the client's position encoding.
        actions.append(_edit(uri, f"Change to `{suggestion.group(1)}`",
                             [types.TextEdit(range=diagnostic.range, new_text=suggestion.group(1))], diagnostic,
                             preferred=True))
    if f.code == "NEMO207" and isinstance(f.data.get("block"), str) and analysis.spec.model is None:
        from ..engine.consolidate import insert_block

        actions.append(whole_document(uri, f"Insert proposal {f.data.get('candidate')}'s model block instead",
                                      analysis, insert_block(analysis.spec.text, f.data["block"]), diagnostic))
    if f.code == "NEMO410":
        actions.extend(_dissenters(uri, f, diagnostic))
    if f.code == "NEMO205" and isinstance(f.data.get("assumption"), str):
        actions.extend(_assumption_edits(uri, f.data["assumption"], diagnostic, analysis))
    if f.code == "NEMO124":
        actions.extend(_declare_set(uri, f, diagnostic, analysis))
    if f.code == "NEMO115":
        actions.extend(_caption(uri, f, diagnostic, analysis))
    return actions


def _dissenters(uri: str, f: Finding, diagnostic: types.Diagnostic) -> list[types.CodeAction]:
    """NEMO410: one action per candidate outside the agreeing cluster, opening its module."""
    samples = f.data.get("samples") if isinstance(f.data.get("samples"), dict) else {}
    agreeing = set(samples.get("agreeing") or ())
    out = []
    for k, c in (samples.get("candidates") or {}).items():
        if int(k) in agreeing or not isinstance(c, dict) or not c.get("module"):
            continue
        answer = c.get("status") or "error"
        if isinstance(c.get("objective"), (int, float)):
            answer += f" {c['objective']:.10g}"
        out.append(_command(f"Open dissenting candidate {k} ({answer})", "open_candidate", [uri, int(k)],
                            diagnostic))
    return out


def whole_document(uri: str, title: str, analysis: Analysis, new_text: str,
                   diagnostic: types.Diagnostic | None = None, preferred: bool = False) -> types.CodeAction:
    """An edit that replaces the whole text (for changes placed by the text's structure, not a position)."""
    end = types.Position(line=len(analysis.spec.lines), character=0)
    edit = types.TextEdit(range=types.Range(start=types.Position(line=0, character=0), end=end), new_text=new_text)
    return _edit(uri, title, [edit], diagnostic, preferred=preferred)


def _assumption_edits(uri: str, assumption: str, diagnostic: types.Diagnostic,
                      analysis: Analysis) -> list[types.CodeAction]:
    """Accept: the assumption goes into `## Assumptions`; reject: it goes there negated, so the
    next consolidation respects it."""
    from ..engine.consolidate import with_assumptions

    text = analysis.spec.text
    return [whole_document(uri, "Accept the assumption (add it to ## Assumptions)", analysis,
                           with_assumptions(text, [assumption]), diagnostic, preferred=True),
            whole_document(uri, "Reject the assumption (record it as not assumed)", analysis,
                           with_assumptions(text, [], [assumption]), diagnostic)]


def proposal_actions(uri: str, analysis: Analysis, proposal: object | None, agent: str | None) -> list[types.CodeAction]:
    """For a prose-only spec: ask the agent for a model block, or insert the one it proposed."""
    if analysis.spec.model is not None:
        return []
    from ..engine.consolidate import insert_block

    out = [_command(f"Consolidate into a model block ({agent or 'choose an agent'})", "consolidate", [uri],
                    kind=types.CodeActionKind.Source)]
    block = getattr(proposal, "block", None)
    if block and getattr(proposal, "ok", False):
        out.insert(0, whole_document(uri, f"Insert the model block proposed by {getattr(proposal, 'agent', 'the agent')}",
                                     analysis, insert_block(analysis.spec.text, block), preferred=True))
    return out


def _declare_set(uri: str, f: Finding, diagnostic: types.Diagnostic, analysis: Analysis) -> list[types.CodeAction]:
    """`for i in S` with `S` undefined: offer `S: table.column` for each table's columns."""
    name = analysis.spec.lines[f.span.line][f.span.col:f.span.end_col] if f.span else ""
    block = analysis.spec.model
    if not _IDENT.fullmatch(name) or block is None:
        return []
    lines = analysis.spec.lines
    sets_line = next((i for i in range(block.first_line, block.span.end_line) if lines[i].startswith("sets:")), None)
    out = []
    for t in analysis.spec.tables.values():
        for column in map(column_name, t.columns[:3]):
            if not _IDENT.fullmatch(column):
                continue
            decl = f"  {name}: {t.name}.{column}\n"
            edit = insert_at(sets_line + 1, decl) if sets_line is not None else insert_at(block.first_line,
                                                                                         "sets:\n" + decl)
            out.append(_edit(uri, f"Declare set `{name}` from column `{column}` of table `{t.name}`", [edit],
                             diagnostic))
    return out


def _caption(uri: str, f: Finding, diagnostic: types.Diagnostic, analysis: Analysis) -> list[types.CodeAction]:
    m = re.search(r"no table named `([^`]+)`", f.message)
    if not m:
        return []
    out = []
    for span in analysis.spec.uncaptioned:
        header = analysis.spec.lines[span.line].strip()
        out.append(_edit(uri, f"Name the table at line {span.line + 1} ({header[:40]}) `{m.group(1)}`",
                         [insert_at(span.end_line + 1, f"\nTable: {m.group(1)}\n")], diagnostic))
    return out


def _set_name(table: Table) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", column_name(table.columns[0]) if table.columns else table.name)
    return (base[:1].upper() + base[1:]) if base else "S"


def model_skeleton(analysis: Analysis) -> str:
    """A starting model block from the spec's tables: their key columns become sets, numeric ones parameters."""
    sets, params = [], []
    for t in analysis.spec.tables.values():
        if not t.columns:
            continue
        s = _set_name(t)
        sets.append(f"  {s}: {t.name}.{column_name(t.columns[0])}")
        for i, header in enumerate(t.columns[1:], start=1):
            c = column_name(header)
            if _IDENT.fullmatch(c) and all(r[i].number is not None for r in t.rows if r[i].text):
                params.append(f"  {c}[{s}]: {t.name}.{c}")
    first_set = sets[0].split(":")[0].strip() if sets else "S"
    first_param = params[0].split("[")[0].strip() if params else None
    objective = (f"minimize: sum({first_param}[i] * x[i] for i in {first_set})" if first_param
                 else f"minimize: sum(x[i] for i in {first_set})")
    body = ["```model", "sets:", *(sets or ["  S: [a, b]"]), "params:", *(params or ["  p: 1"]), "vars:",
            f"  x[{first_set}]: {{domain: continuous}}", objective, "constraints:",
            f"  # name[i in {first_set}]: x[i] <= ...", "```"]
    return "\n".join(body) + "\n"


def document_actions(uri: str, analysis: Analysis, report: Report | None, path: Path | None) -> list[types.CodeAction]:
    """Actions that need no diagnostic: solve, open the generated files, insert a model skeleton."""
    source = types.CodeActionKind.Source
    actions = [_command("Solve now (nemo)", "solve", [uri], kind=source)]
    if path is not None:
        from ..engine.layout import Layout

        layout = Layout(path)
        for role in ("optimizer", "simulator"):
            if layout.module(role).exists():
                actions.append(_command(f"Open the generated {role} ({layout.module(role).name})", f"open_{role}",
                                        [uri], kind=source))
        if (layout.run / "optimizer.log").exists():
            actions.append(_command("Open the last run's log", "open_log", [uri], kind=source))
    if report is not None and report.outcome == "validated" and report.ok and not (report.memory or {}).get("saved"):
        actions.append(_command("Save this run to memory (an example for coding agents)", "save_memory", [uri],
                                kind=source))
    if analysis.spec.model is None:
        last = len(analysis.spec.lines)
        prefix = "" if not analysis.spec.lines or not analysis.spec.lines[-1].strip() else "\n"
        actions.append(_edit(uri, "Insert a model block built from the tables",
                             [insert_at(last, prefix + "\n" + model_skeleton(analysis))], kind=types.CodeActionKind.QuickFix))
    return actions


def _fmt(v: float) -> str:
    return str(int(round(v))) if abs(v - round(v)) < 1e-9 else f"{v:.6g}"


def memory_entries(report: Report) -> dict[str, str]:
    """The memory entries (id -> title) the prompts of this run's modules showed."""
    found: dict[str, str] = {}
    for entries in ((report.memory or {}).get("used") or {}).values():
        for e in entries if isinstance(entries, list) else ():
            if isinstance(e, dict) and e.get("id"):
                found[str(e["id"])] = str(e.get("title") or e["id"])
    return found


def lenses(uri: str, analysis: Analysis, report: Report | None, running: bool,
           icons: bool = False, restored: bool = False) -> list[types.CodeLens]:
    """`icons`: the client renders VS Code's `$(name)` icon syntax (others would show it literally).
    `restored`: the report was read back from disk, not made in this session (`validated (last run)`)."""
    title = analysis.spec.title_span
    busy = "$(sync~spin) solving..." if icons else "solving..."
    out = [types.CodeLens(range=_range(title), command=types.Command(
        title=busy if running else "▶ Solve", command=COMMANDS["solve"], arguments=[uri]))]
    if report is not None:
        sol = report.solution
        parts = [("locally optimal" if sol.status == "locally_optimal" else sol.status) if sol else report.outcome]
        if sol is not None and sol.objective is not None:
            parts.append(f"objective {_fmt(sol.objective)}")
        verdict = {"validated": "validated", "expected": "as expected", "rejected": "rejected"}.get(
            report.outcome, report.outcome.replace("_", " "))
        parts.append(f"{verdict} (last run)" if restored else verdict)
        if report.samples and report.samples.get("summary"):
            parts.append(str(report.samples["summary"]))  # self-consistency: "3/5 agree on 34"
        examples = memory_entries(report)
        if examples:
            parts.append(f"{len(examples)} example{'s' if len(examples) > 1 else ''} from memory")
        if "total" in report.timings:
            parts.append(f"{report.timings['total']:.1f} s")
        out.append(types.CodeLens(range=_range(title), command=types.Command(
            title=" · ".join(parts), command=COMMANDS["show_report"], arguments=[uri])))
    if analysis.model is not None and analysis.model.objective is not None:
        klass = class_lens_title(analysis)  # the problem class and its solver, known before any run
        if klass:
            out.append(types.CodeLens(range=_range(analysis.model.objective.span), command=types.Command(
                title=klass, command=COMMANDS["show_report"], arguments=[uri])))
    if report is not None:
        model = analysis.model
        if report.verdict is not None and model is not None:
            for name, slack in report.verdict.slack.items():
                decl = model.constraints.get(name)
                if decl is None:
                    continue
                text = (f"violated by {_fmt(-slack)}" if slack < -1e-9 else
                        "tight (binding)" if abs(slack) <= 1e-9 else f"slack {_fmt(slack)}")
                out.append(types.CodeLens(range=_range(decl.name_span), command=types.Command(
                    title=text, command=COMMANDS["show_report"], arguments=[uri])))
    return out
