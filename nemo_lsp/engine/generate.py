"""Generation with a manifest: regenerate only when inputs changed, never clobber the user's edits.

The manifest (`.nemo/NAME/manifest.json`) records the hash of each generated file and of the
inputs it came from (spec text, data, agent fingerprint). A generated file whose hash no longer
matches was edited by the user: it is kept and used as theirs, unless the caller asks to
regenerate, in which case it is backed up first.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..agents import Agent, AgentResult, AgentTask, workspace
from ..agents.base import session_name, writes
from ..agents.session import Session, boundary_findings
from ..analysis import Analysis
from ..findings import Finding, Related, Severity, Span, StageError, finding
from ..fsutil import atomic_write, sha256_bytes, sha256_file
from .layout import Layout

if TYPE_CHECKING:
    from .experience import Recall


@dataclass(frozen=True)
class Generated:
    role: str
    path: Path
    state: str
    """`generated`, `up to date` or `user-edited (kept)`."""
    findings: tuple[Finding, ...] = ()
    transcript: str = ""
    usage: dict[str, Any] = field(default_factory=dict)
    """Tokens, cost, turns the agent reported for the session that wrote it."""


def load_manifest(layout: Layout) -> dict[str, Any]:
    try:
        data = json.loads(layout.manifest.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}


def save_manifest(layout: Layout, manifest: dict[str, Any]) -> None:
    atomic_write(layout.manifest, json.dumps(manifest, indent=2, sort_keys=True))


def inputs_hash(analysis: Analysis, data_json: str, agent: Agent) -> str:
    return sha256_bytes("\0".join([analysis.spec.text, data_json, agent.fingerprint()]).encode())[:32]


def contract_problems(path: Path, role: str) -> list[str]:
    """Check a module on disk without running it: UTF-8, compiles, defines the contract's functions."""
    try:
        source = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return [f"{path.name} was not written"]
    except UnicodeDecodeError:
        return [f"{path.name} is not UTF-8 text"]
    return workspace.contract_problems_in(source, path.name, role)


def backup_file(path: Path, folder: Path) -> Path:
    """Copy a user's file to a new, never-reused name under `folder` (the user's code must survive)."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    n = 0
    while True:
        candidate = folder / f"{path.stem}.{stamp}{f'-{n}' if n else ''}{path.suffix or '.py'}"
        try:
            with open(candidate, "xb") as fh:
                fh.write(path.read_bytes())
            return candidate
        except FileExistsError:
            n += 1


async def ensure_generated(role: str, analysis: Analysis, agent: Agent, layout: Layout, inputs: str,
                           manifest: dict[str, Any], regenerate: bool,
                           say: Callable[[str], None] | None = None, schema: str = "",
                           memory: Recall | None = None) -> Generated:
    """Make sure `role`'s module beside the spec is current, respecting the user's edits.
    `memory` (an experience.Recall) gives the examples a new session's prompt shows."""
    target = layout.module(role)
    record = (manifest.get("files") or {}).get(role) or {}
    on_disk = sha256_file(target)
    title = analysis.spec.title_span
    edited = on_disk is not None and on_disk != record.get("sha256")
    if edited and not regenerate:
        why = "was changed since nemo wrote it" if record else "was not written by nemo"
        problems = contract_problems(target, role)
        if problems:
            raise StageError(finding("NEMO203", f"{target.name} {why}, so it is kept as yours, but it cannot be "
                                     f"used: {'; '.join(problems)}. Fix it, or run `nemo solve --regenerate` "
                                     "(your version is backed up).", title, fixes=("regenerate",),
                                     related=(Related(str(target), Span.at(0), "your version"),)))
        return Generated(role, target, "user-edited (kept)", (finding(
            "NEMO202", f"{target.name} {why}: using your version. `nemo solve --regenerate` backs it up under "
            ".nemo/ and writes a fresh one.", title, fixes=("regenerate",),
            related=(Related(str(target), Span.at(0), "your version"),)),))
    if not edited and not regenerate and on_disk is not None and record.get("inputs") == inputs:
        return Generated(role, target, "up to date")
    if edited:
        backup_file(target, layout.backups)
    return await run_agent(role, analysis, agent, layout, inputs, manifest, say, schema=schema, memory=memory)


def is_ours(role: str, layout: Layout, manifest: dict[str, Any]) -> bool:
    """True when the module on disk is the one nemo wrote last (so a repair may replace it)."""
    record = (manifest.get("files") or {}).get(role) or {}
    return sha256_file(layout.module(role)) == record.get("sha256") is not None


async def run_agent(role: str, analysis: Analysis, agent: Agent, layout: Layout, inputs: str,
                    manifest: dict[str, Any], say: Callable[[str], None] | None = None,
                    evidence: dict[str, Any] | None = None, round: int = 1, schema: str = "",
                    sample: int | None = None, memory: Recall | None = None) -> Generated:
    """One agent session in a fresh workspace; the module is installed only if it passes inspection.

    With `sample`, the session writes a self-consistency candidate: it stays in its workspace
    (`work/optimizer-K/`) and is not installed beside the spec.
    """
    installs_as = writes(role)
    target = layout.module(installs_as)
    title = analysis.spec.title_span
    repairs = role != installs_as
    name = session_name(role, round) if repairs else (f"{role}-{sample}" if sample else role)
    work = layout.work / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    workspace.prepare(work, analysis, spec_name=layout.spec.name, data_file=layout.data, stem=layout.name,
                      previous=target if repairs else None, evidence=evidence)
    # A repair's workspace starts with the previous optimizer: finding it there afterwards is no repair.
    before = (work / target.name).read_bytes() if repairs and (work / target.name).is_file() else None
    prompt = workspace.render_prompt(role, analysis, workspace=work, target=target.name, spec_name=layout.spec.name,
                                     evidence=evidence, round=round, schema=schema,
                                     memory=memory.for_role(role) if memory is not None else None)
    task = AgentTask(role, layout.spec, analysis, work, target.name, layout.data, prompt=prompt, progress=say,
                     evidence=None if evidence is None else {**evidence, "round": round}, sample=sample or 1)
    try:
        result = await agent.generate(task)
    except StageError:
        raise
    except Exception as exc:  # noqa: BLE001 - an agent's failure is a finding about the run
        raise StageError(finding("NEMO502", f"the {agent.name} agent failed while writing the {role}: "
                                 f"{type(exc).__name__}: {exc}", title)) from exc
    save_transcript(layout, name, result)
    seen = workspace.inspect(work, target.name, role)
    notes = boundary_findings(_session_view(result, work), seen.escapes, agent.name, title)
    if seen.problems:
        tail = result.transcript[-2000:]
        failed = tuple(result.findings)
        unusable = finding("NEMO203", f"the {agent.name} agent's {role} is unusable: {'; '.join(seen.problems)}",
                           title, fixes=("regenerate",), data={"transcript_tail": tail})
        raise StageError(*failed, *notes, *(() if any(f.is_error for f in failed) else (unusable,)))
    content = (work / target.name).read_bytes()
    if before is not None and content == before:
        failed = tuple(result.findings)
        unchanged = finding("NEMO502", f"the {agent.name} agent's repair left {target.name} unchanged",
                            title, data={"transcript_tail": result.transcript[-2000:]})
        raise StageError(*failed, *notes, *(() if any(f.is_error for f in failed) else (unchanged,)))
    # The module is usable: a failure the tool reported after writing it is worth a warning, not a stop.
    kept = tuple(replace(f, severity=Severity.WARNING) if f.is_error else f for f in result.findings)
    if sample:
        return Generated(installs_as, work / target.name, "candidate", kept + tuple(notes), result.transcript,
                         usage_of(result))
    atomic_write(target, content)
    files = manifest.setdefault("files", {})
    files[installs_as] = {"path": target.name, "sha256": sha256_bytes(content), "inputs": inputs,
                          "agent": agent.name, "written": time.strftime("%Y-%m-%dT%H:%M:%S")}
    if memory is not None and memory.used(role):
        files[installs_as]["memory"] = memory.used(role)  # the examples this module's prompt showed
    return Generated(installs_as, target, "generated" if not repairs else f"repaired (round {round})",
                     kept + tuple(notes), result.transcript, usage_of(result))


def install(layout: Layout, role: str, content: bytes, inputs: str, manifest: dict[str, Any], agent: str) -> None:
    """Put a module beside the spec and record it as nemo's (a chosen candidate, for instance)."""
    target = layout.module(role)
    atomic_write(target, content)
    manifest.setdefault("files", {})[role] = {"path": target.name, "sha256": sha256_bytes(content), "inputs": inputs,
                                              "agent": agent, "written": time.strftime("%Y-%m-%dT%H:%M:%S")}


def usage_of(result: AgentResult) -> dict[str, Any]:
    out: dict[str, Any] = dict(result.usage)
    if result.cost is not None:
        out["cost_usd"] = result.cost
    for key in ("turns", "tool_calls", "duration"):
        if key in result.details:
            out[key] = result.details[key]
    return out


def _session_view(result: AgentResult, work: Path) -> Session:
    session = Session(work)
    for path in result.details.get("outside") or []:  # type: ignore[union-attr]
        session.note_path(str(path))
    return session


def save_transcript(layout: Layout, name: str, result: AgentResult) -> None:
    """Keep every session's transcript (prompt, events, errors) under .nemo/NAME/transcripts/."""
    if not result.transcript:
        return
    try:
        atomic_write(layout.transcripts / f"{name}.txt", result.transcript)
    except OSError:
        pass
