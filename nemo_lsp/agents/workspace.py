"""An agent's workspace: what goes in before a session, and what is trusted after it.

Before: the spec, the data file, the contract, the harness to try the module with, and for a
repair the previous optimizer and the evidence. After: only the target file counts, and only if
it is a regular UTF-8 file inside the workspace that compiles and defines the contract's functions.
Anything else the agent left (symlinks out of the workspace, huge or binary files) is reported.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis import Analysis
from ..solvers import available_solvers
from ..resources import render, templates_dir
from .base import CONTRACT

DATA_FILE = "data.json"
HARNESS_FILE = "nemo_harness.py"
MAX_MODULE_BYTES = 2_000_000
"""A generated module larger than this is not a model anyone can read; reject it."""
MAX_EVIDENCE_LINES = 30


def tables_of(analysis: Analysis) -> list[tuple[str, list[str]]]:
    return [(name, list(t.columns)) for name, t in analysis.spec.tables.items()]


def var_names(analysis: Analysis) -> list[str]:
    return list(analysis.model.vars) if analysis.model is not None else []


def evidence_lines(evidence: dict[str, Any]) -> list[str]:
    """The simulator's report as short sentences for the repair prompt (the full JSON is a file)."""
    lines: list[str] = []
    for v in (evidence.get("violations") or [])[:MAX_EVIDENCE_LINES]:
        where = f" (spec: \"{v['source']}\")" if v.get("source") else ""
        index = f"[{', '.join(map(str, v['index']))}]" if isinstance(v.get("index"), list) else ""
        detail = ""
        if v.get("lhs") is not None and v.get("rhs") is not None:
            detail = f": {v['lhs']} {v.get('sense', '?')} {v['rhs']}"
        lines.append(f"constraint `{v.get('constraint')}{index}` is violated by {v.get('amount')}{detail}{where}")
    for m in (evidence.get("missing") or [])[:MAX_EVIDENCE_LINES]:
        lines.append(f"the decisions lack a value for `{m.get('variable')}` {m.get('index', '')}".rstrip())
    opt, sim = evidence.get("optimizer_objective"), evidence.get("simulator_objective")
    if opt is not None and sim is not None and opt != sim:
        lines.append(f"your model reports objective {opt}, but the simulator computes {sim} for the same decisions")
    for message in (evidence.get("messages") or [])[:MAX_EVIDENCE_LINES]:
        lines.append(str(message))
    if evidence.get("status") and evidence.get("status") != "optimal":
        lines.append(f"the solver status was `{evidence['status']}`")
    return lines or ["the simulator rejected the decisions (see evidence.json)"]


def render_prompt(role: str, analysis: Analysis, *, workspace: Path, target: str, spec_name: str,
                  evidence: dict[str, Any] | None = None, round: int = 1,
                  memory: list[dict[str, str]] | None = None, schema: str = "") -> str:
    context: dict[str, Any] = dict(workspace=str(workspace), target=target, spec_name=spec_name,
                                   data_file=DATA_FILE, spec_text=analysis.spec.text, memory=memory or [])
    if role == "simulator":
        checks = (analysis.spec.front.values.get("checks") or []) + list(
            (analysis.model.checks if analysis.model is not None else None) or [])
        context["checks"] = json.dumps(checks, indent=1, default=str) if checks else ""
        context["schema"] = schema
    if role == "repair":
        context["evidence_lines"] = evidence_lines(evidence or {})
        context["round"] = round
    if role == "repair_simulator":
        context["evidence_lines"] = list((evidence or {}).get("lines") or ["the simulator failed its checks"])
        context["round"] = round
    return render(f"agents/{role}.md.j2", **context)


def prepare(workspace: Path, analysis: Analysis, *, spec_name: str, data_file: Path, stem: str,
            previous: Path | None = None, evidence: dict[str, Any] | None = None) -> None:
    """Fill a fresh workspace for one session."""
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / spec_name).write_text(analysis.spec.text, encoding="utf-8")
    shutil.copyfile(data_file, workspace / DATA_FILE)
    shutil.copyfile(templates_dir() / "harness.py", workspace / HARNESS_FILE)
    (workspace / "CONTRACT.md").write_text(render("agents/contract.md.j2", data_file=DATA_FILE, stem=stem,
                                                  tables=tables_of(analysis), var_names=var_names(analysis),
                                                  solvers=sorted(available_solvers().items())),
                                           encoding="utf-8")
    if previous is not None and previous.is_file():
        shutil.copyfile(previous, workspace / previous.name)
    if evidence is not None:
        (workspace / "evidence.json").write_text(json.dumps(evidence, indent=1, default=str), encoding="utf-8")


@dataclass(frozen=True)
class Inspection:
    problems: tuple[str, ...]
    """Why the target cannot be used (empty when it can)."""
    escapes: tuple[str, ...]
    """Symlinks the agent left that point outside the workspace (never followed)."""


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        return False


def escaping_links(workspace: Path) -> list[str]:
    """Symlinks under the workspace whose target lies outside it."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(workspace):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if p.is_symlink() and not _inside(p, workspace):
                found.append(f"{p.relative_to(workspace)} -> {os.readlink(p)}")
    return found


def contract_problems_in(source: str, filename: str, role: str) -> list[str]:
    """Compiles, and defines the role's functions (pure: takes the text)."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        return [f"{filename}:{exc.lineno}: syntax error: {exc.msg}"]
    except ValueError as exc:
        return [f"{filename}: cannot be compiled: {exc}"]
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    needed = CONTRACT[role]
    if role in ("optimizer", "repair") and not defined & set(needed):
        return [f"{filename} defines neither build_model(data) nor solve(data)"]
    if role in ("simulator", "repair_simulator") and "simulate" not in defined:
        return [f"{filename} does not define simulate(data, decisions)"]
    return []


def read_module(path: Path, max_bytes: int = MAX_MODULE_BYTES) -> tuple[str | None, str | None]:
    """(source, None) or (None, why not): regular file, bounded size, UTF-8 text without NUL bytes."""
    try:
        if path.is_symlink():
            return None, f"{path.name} is a symbolic link (to {os.readlink(path)}), not a file the agent wrote"
        if not path.exists():
            return None, f"{path.name} was not written"
        if not path.is_file():
            return None, f"{path.name} is not a regular file"
        size = path.stat().st_size
        if size > max_bytes:
            return None, f"{path.name} is {size:,} bytes, more than the {max_bytes:,} a module may have"
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"{path.name} cannot be read: {exc.strerror or exc}"
    if b"\0" in raw:
        return None, f"{path.name} is binary, not Python source"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"{path.name} is not UTF-8 text (byte {exc.start})"


def inspect(workspace: Path, target: str, role: str) -> Inspection:
    """Trust only what is on disk: the target, inside the workspace, usable for its role."""
    path = workspace / target
    problems: list[str] = []
    source, why = read_module(path)
    if source is None:
        problems.append(why or f"{target} is unusable")
    elif not _inside(path, workspace):
        problems.append(f"{target} lies outside the agent's workspace")
    else:
        problems.extend(contract_problems_in(source, target, role))
    return Inspection(tuple(problems), tuple(escaping_links(workspace)))
