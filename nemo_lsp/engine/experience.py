"""The engine's side of memory: which folder, which examples an agent's prompt gets, what a run saves.

A validated run by a coding agent is saved as an experience (unless memory is off); a `formal`
run only when asked (`memory_save: always`, i.e. `nemo memory save` or the editor's action). A
rejected run is never saved. Before a coding agent writes a module, k examples are retrieved
from the other entries (not the spec's own) by similarity to this problem's text, then maximal
marginal relevance; each generation records the entries it was shown in the manifest, and the
report lists them.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..analysis import Analysis
from ..memory import retrieve
from ..memory.index import Index
from ..memory.store import Experience, Store, StoreError, entry_id
from .layout import Layout, spec_name
from .report import Report
from .settings import Settings

ENV = "NEMO_MEMORY"
"""A memory folder for every spec that does not say otherwise (`off` turns memory off)."""
OFF = ("off", "false", "no", "none", "0")
DIVERSITY = 0.5
"""Lambda in maximal marginal relevance: how much similarity to an example already picked counts against."""
MAX_CODE_CHARS = 8000
MAX_SUMMARY_CHARS = 600
_ROLE_CODE = {"optimizer": "optimizer", "repair": "optimizer", "simulator": "simulator"}


def folder_for(spec_path: Path, settings: Settings) -> Path | None:
    """The memory folder for a spec, or None when memory is off. Settings (flags, front matter,
    editor) beat `NEMO_MEMORY`, which beats `.nemo/memory/` beside the spec; a relative folder is
    relative to the spec's folder."""
    value = settings.memory if settings.memory is not None else (os.environ.get(ENV) or None)
    if value is None:
        return spec_path.parent / ".nemo" / "memory"
    if value.strip().lower() in OFF:
        return None
    folder = Path(value).expanduser()
    return folder if folder.is_absolute() else spec_path.parent / folder


def own_id(spec_path: Path) -> str:
    return entry_id(spec_name(spec_path), str(spec_path.resolve()))


@dataclass(frozen=True)
class Example:
    id: str
    title: str
    similarity: float
    summary: str
    model: str
    optimizer: str
    simulator: str


@dataclass(frozen=True)
class Recall:
    """The examples retrieved for one run (the same for every session of the run)."""

    folder: Path | None
    examples: tuple[Example, ...] = ()

    def for_role(self, role: str) -> list[dict[str, str]]:
        """What a prompt template shows of each example: its id, title, summary, model block and
        the code of the same role (the simulator's author sees simulators only)."""
        kind = _ROLE_CODE.get(role)
        if kind is None:
            return []
        return [{"id": e.id, "title": e.title, "summary": e.summary, "model": e.model,
                 "code": _excerpt(e.optimizer if kind == "optimizer" else e.simulator)} for e in self.examples]

    def used(self, role: str) -> list[dict[str, Any]]:
        """The entries a session of `role` is shown, as the manifest and the report record them."""
        if role not in _ROLE_CODE:
            return []
        return [{"id": e.id, "title": e.title, "similarity": round(e.similarity, 4)} for e in self.examples]


def recall(spec_path: Path, analysis: Analysis, settings: Settings) -> Recall:
    """Up to `memory_examples` entries similar to this problem and diverse among themselves.
    A memory that cannot be read gives no examples; it never stops a run."""
    folder = folder_for(spec_path, settings)
    if folder is None or settings.memory_examples <= 0:
        return Recall(folder)
    store = Store(folder)
    query = retrieve.terms(retrieve.problem_text(analysis.spec.text))
    try:
        candidates = Index(store).candidates(query)
        candidates.pop(own_id(spec_path), None)
        picks = retrieve.select(query, candidates, settings.memory_examples, DIVERSITY)
        examples = []
        for p in picks:
            exp = store.load(p.id)
            if exp is not None:
                examples.append(Example(exp.id, exp.title, p.relevance, summary(exp.problem), exp.model or "",
                                        exp.optimizer, exp.simulator))
    except (OSError, StoreError):
        return Recall(folder)
    return Recall(folder, tuple(examples))


def summary(spec_text: str) -> str:
    """The problem's prose, without headings, tables and captions, shortened."""
    prose = [line for line in retrieve.problem_text(spec_text).splitlines()
             if not re.match(r"\s*(#|\||Table:)", line)]
    text = " ".join(" ".join(prose).split())
    return text if len(text) <= MAX_SUMMARY_CHARS else text[:MAX_SUMMARY_CHARS].rsplit(" ", 1)[0] + " ..."


def _excerpt(code: str) -> str:
    if len(code) <= MAX_CODE_CHARS:
        return code.rstrip("\n")
    return code[:MAX_CODE_CHARS].rsplit("\n", 1)[0] + "\n# ... (the rest of the module is left out)"


def should_save(report: Report, settings: Settings) -> bool:
    if settings.memory_save == "never":
        return False
    return report.outcome == "validated" and report.ok and (
        settings.memory_save == "always" or report.agent not in (None, "formal"))


def after_run(spec_path: Path, analysis: Analysis, settings: Settings, manifest: dict[str, Any],
              report: Report) -> Report:
    """Save a validated run when it should be, and put the entries used and saved into the report."""
    used = {role: list(rec["memory"]) for role, rec in (manifest.get("files") or {}).items()
            if isinstance(rec, dict) and rec.get("memory")}
    asked = settings.memory_save == "always"
    if report.agent in (None, "formal") and not used and not asked:
        return report  # the deterministic agent reads no examples and saves only when asked
    folder = folder_for(spec_path, settings)
    info: dict[str, Any] = {"folder": None if folder is None else str(folder), "used": used, "saved": None}
    if folder is None:
        info["note"] = "memory is off"
    elif should_save(report, settings):
        try:
            exp = experience(spec_path, analysis, report, used)
            changed = Store(folder).save(exp)
            info["saved"] = exp.id
            info["note"] = "saved" if changed else "already saved (unchanged)"
        except (OSError, StoreError) as exc:
            info["note"] = f"not saved: {exc}"
    elif asked:
        info["note"] = f"not saved: only a validated run is kept (this one was {report.outcome.replace('_', ' ')})"
    return replace(report, memory=info)


def experience(spec_path: Path, analysis: Analysis, report: Report, used: dict[str, Any]) -> Experience:
    """A validated run as an entry: its spec, model block, modules, outcome and provenance."""
    layout = Layout(spec_path)
    sol, ver = report.solution, report.verdict
    modules = {role: Path(report.files.get(role) or layout.module(role)).read_text(encoding="utf-8")
               for role in ("optimizer", "simulator")}
    meta = {"source": str(spec_path.resolve()), "saved": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "agent": report.agent,
            "outcome": {"outcome": report.outcome, "status": sol.status if sol else None,
                        "objective": sol.objective if sol else None, "sense": sol.sense if sol else None,
                        "checks": ver.checked if ver else None},
            "manifest": {"spec_sha256": report.spec_sha256, "generated": dict(report.generated),
                         "solver": f"{sol.solver} {sol.solver_version}" if sol and sol.solver else None,
                         "memory": sorted({m["id"] for ms in used.values() for m in ms})}}
    title = analysis.spec.title or analysis.spec.front.values.get("title") or layout.name
    model = analysis.spec.model.text if analysis.spec.model is not None else None
    return Experience(own_id(spec_path), str(title), analysis.spec.text, modules["optimizer"],
                      modules["simulator"], model, meta)
