"""The NEMO pipeline for one spec: analyze -> generate optimizer and simulator -> execute -> validate.

`run` is the one entry point the CLI, the language server and the benchmark harness share. Stages
raise `StageError` carrying findings; this module is the one place that turns them into a report.
"""

from __future__ import annotations

import asyncio
import errno
import json
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..agents import get_agent
from ..analysis import Analysis, analyze
from ..findings import Finding, Span, StageError, finding, has_errors
from .. import jsonio
from ..fsutil import atomic_write
from ..sandbox import get_sandbox
from ..spec.reader import MAX_SPEC_BYTES, read_text
from .samples import disagreement, self_consistent
from .consolidate import consolidate, insert_block, note_findings, with_assumptions
from . import experience
from .backend import choose_backend
from .execute import Execution, run_module
from .generate import backup_file, ensure_generated, inputs_hash, is_ours, load_manifest, run_agent, save_manifest
from .layout import Layout
from .report import Report
from .settings import Settings
from .gate import Gate, gate
from .probe import Probe, falsify
from .validate import Locator, error_finding, validate

Progress = Callable[[str, int], None]
"""Called with a stage message and a percentage (0-100)."""


def _quiet(message: str, percent: int) -> None:
    return None


def resolve_settings(analysis: Analysis, base: Settings, overrides: dict[str, Any] | None) -> Settings:
    return base.with_front_matter(analysis.spec.front.values).override(**(overrides or {}))


async def run(spec_path: Path, *, base: Settings | None = None, overrides: dict[str, Any] | None = None,
              progress: Progress | None = None, text: str | None = None,
              max_spec_bytes: int = MAX_SPEC_BYTES) -> Report:
    """Run the whole pipeline on a spec file (or on `text`, the editor's unsaved buffer for it)."""
    progress = progress or _quiet
    spec_path = spec_path.resolve()
    started = time.perf_counter()
    timings: dict[str, float] = {}
    if text is None:
        text, problems = read_text(spec_path, max_spec_bytes)
        if text is None:
            return Report(str(spec_path), "not_run", tuple(problems))
    progress("reading the spec", 5)
    # CPU-bound steps run in a worker thread: the language server's event loop must stay free.
    analysis = await asyncio.to_thread(analyze, text)
    timings["analyze"] = time.perf_counter() - started
    findings: list[Finding] = list(analysis.findings)
    if has_errors(findings):
        return Report(str(spec_path), "not_run", tuple(findings), timings=timings)
    settings = resolve_settings(analysis, base or Settings(), overrides)
    try:
        if analysis.model is None and settings.autonomous and settings.agent not in (None, "formal"):
            return await _autonomous(spec_path, analysis, settings, findings, timings, progress, started)
        return await _pipeline(spec_path, analysis, settings, findings, timings, progress, started)
    except StageError as exc:
        return Report(str(spec_path), "not_run", tuple(findings) + exc.findings, timings=timings)
    except OSError as exc:
        return Report(str(spec_path), "not_run", tuple(findings) + (write_failure(exc, spec_path,
                                                                                  analysis.spec.title_span),),
                      timings=timings)
    except Exception as exc:  # noqa: BLE001 - one place turns our own bugs into a report, not a crash
        return Report(str(spec_path), "error", tuple(findings) + (finding(
            "NEMO590", f"internal error: {type(exc).__name__}: {exc}. Please report it.",
            analysis.spec.title_span, data={"traceback": traceback.format_exc()}),), timings=timings)


async def _autonomous(spec_path: Path, analysis: Analysis, settings: Settings, findings: list[Finding],
                      timings: dict[str, float], progress: Progress, started: float) -> Report:
    """Consolidate a prose-only spec (accepting the agent's assumptions), then run on the result.

    The user's file is not touched: the consolidated spec is `.nemo/NAME/consolidated.opt.md`, and
    findings about its model lines point at the spec's title with that file's line in the message.
    """
    t0 = time.perf_counter()
    c = await consolidate(spec_path, analysis, settings, progress)
    timings["consolidate"] = time.perf_counter() - t0
    if not c.ok:
        raise StageError(*c.findings)
    text = with_assumptions(insert_block(analysis.spec.text, c.block or ""), [a.text for a in c.assumptions])
    layout = Layout(spec_path)
    consolidated = layout.root / "consolidated.opt.md"
    atomic_write(consolidated, text)
    findings.extend(f for f in c.findings if not f.is_error)
    findings.extend(note_findings(c, analysis.spec.title_span))
    full = await asyncio.to_thread(analyze, text)
    if has_errors(full.findings):
        raise StageError(*[f for f in full.findings if f.is_error])
    report = await _pipeline(spec_path, full, settings, findings, timings, progress, started)
    moved = tuple(_outside_to_title(f, len(analysis.spec.lines), analysis.spec.title_span, consolidated)
                  for f in report.findings)
    files = {**report.files, "consolidated": str(consolidated)}
    usage = {"consolidate": c.usage, **report.usage} if c.usage else report.usage
    return await asyncio.to_thread(_finish, layout, replace(report, findings=moved, files=files, usage=usage),
                                   started)


def _outside_to_title(f: Finding, lines: int, title: Span, consolidated: Path) -> Finding:
    """A finding on a line the user's file does not have (the consolidated block) moves to the title."""
    if f.span is None or f.span.line < lines:
        return f
    return replace(f, span=title, message=f"{f.message} (in the consolidated model, "
                                          f"{consolidated.name}:{f.span.line + 1})")


_WRITE_ADVICE = {errno.ENOSPC: "the disk is full: free some space and save again",
                 errno.EDQUOT: "the disk quota is used up: free some space and save again",
                 errno.EROFS: "the folder is on a read-only file system: move the spec to a writable folder",
                 errno.EACCES: "no permission to write there: check the folder's owner and permissions",
                 errno.EPERM: "no permission to write there: check the folder's owner and permissions"}


def write_failure(exc: OSError, spec_path: Path, where: Span) -> Finding:
    """NEMO520: what could not be written, where, and what to do about it."""
    place = exc.filename or Layout(spec_path).root
    advice = _WRITE_ADVICE.get(exc.errno or 0, "check the folder")
    return finding("NEMO520", f"cannot write the run's files ({place}): {exc.strerror or exc}; {advice}", where,
                   data={"errno": exc.errno, "path": str(place)})


def choose_agent(analysis: Analysis, settings: Settings) -> str:
    """The caller's override, then front matter `agent:`, then the editor/pyproject setting (all folded
    into settings in that order of precedence), then auto: `formal` when there is a model block."""
    if settings.agent:
        return settings.agent
    if analysis.model is not None:
        return "formal"
    raise StageError(finding(
        "NEMO201", "this spec has no `model` block, so the offline `formal` agent cannot compile it; add a model "
        "block or choose a coding agent: `agent: claude-code` (or codex, openhands, chat) in the front matter, "
        "or `--agent NAME`; `nemo doctor` lists the agents available here", analysis.spec.title_span))


@dataclass
class _Round:
    """One pass of execute -> validate over the current modules."""

    opt: Any
    sim_payload: dict[str, Any] | None
    validation: Any


async def _pipeline(spec_path: Path, analysis: Analysis, settings: Settings, findings: list[Finding],
                    timings: dict[str, float], progress: Progress, started: float) -> Report:
    layout = Layout(spec_path)
    title = analysis.spec.title_span
    agent_name = choose_agent(analysis, settings)
    try:
        agent = get_agent(agent_name, settings.agent_options)
    except ValueError as exc:
        raise StageError(finding("NEMO501", str(exc), analysis.spec.front.value_span("agent") or title)) from None
    refusal = agent.refuse(analysis)
    if refusal is not None:
        raise StageError(refusal)
    try:
        sandbox = get_sandbox(settings.sandbox)
    except ValueError as exc:
        raise StageError(finding("NEMO503", str(exc), analysis.spec.front.value_span("sandbox") or title)) from None
    backend = await asyncio.to_thread(choose_backend, analysis)
    unsolvable = backend.refusal(analysis)
    if unsolvable is not None:
        raise StageError(unsolvable)
    settings = backend.settings(settings)

    layout.root.mkdir(parents=True, exist_ok=True)
    data_json = await asyncio.to_thread(
        lambda: jsonio.dumps(analysis.data_json(), True, sort_keys=True, separators=(",", ":")))
    await asyncio.to_thread(atomic_write, layout.data, data_json)
    manifest = load_manifest(layout)
    inputs = inputs_hash(analysis, data_json, agent)
    generated: dict[str, str] = {}
    usage: dict[str, dict[str, Any]] = {}
    modules: dict[str, Path] = {}
    files = {"optimizer": str(layout.module("optimizer")), "simulator": str(layout.module("simulator")),
             "data": str(layout.data), "run": str(layout.run), "transcripts": str(layout.transcripts)}

    async def generate(role: str, percent: int, schema: str = "") -> None:
        progress(f"{agent.name}: writing the {role}", percent)
        t0 = time.perf_counter()
        try:
            g = await ensure_generated(role, analysis, agent, layout, inputs, manifest,
                                       settings.regenerate or role in settings.regenerate_roles,
                                       _relay(progress, percent), schema=schema, memory=recall)
        finally:
            save_manifest(layout, manifest)
        timings["generate"] = timings.get("generate", 0.0) + time.perf_counter() - t0
        generated[role] = g.state
        modules[role] = g.path
        findings.extend(g.findings)
        if g.usage:
            usage[role] = g.usage

    # Examples from memory for a coding agent's prompts (the offline `formal` agent reads none).
    recall = None if agent.name == "formal" else await asyncio.to_thread(experience.recall, spec_path, analysis,
                                                                          settings)
    isolation = await asyncio.to_thread(sandbox.isolation)  # probes bubblewrap once per process
    if not isolation.startswith(("bubblewrap", "docker")):
        findings.append(finding("NEMO308", f"generated code ran with reduced isolation: {isolation}. Install "
                                "bubblewrap (`apt-get install bubblewrap`) to cut its network and hide your files.",
                                None))
    common = dict(agent=agent.name, files=files, timings=timings, isolation=isolation, generated=generated,
                  expect=analysis.spec.front.values.get("expect"), usage=usage, spec_sha256=analysis.spec.sha256,
                  problem_class=backend.problem.to_json() if backend.problem else None,
                  solver_choice=backend.recommendation.to_json() if backend.recommendation else None)
    # The optimizer runs before the simulator is written: the simulator's author then learns the
    # decisions' names and shapes (an interface, never the optimizer's code).
    await generate("optimizer", 10)
    opt = await _optimize(sandbox, analysis, settings, layout, modules, files, timings, progress, 30)
    if settings.samples > 1 and agent.name != "formal" and is_ours("optimizer", layout, manifest):
        stored = manifest.get("samples") or {}
        if generated["optimizer"] == "up to date" and stored.get("inputs") == inputs \
                and stored.get("total") == settings.samples:
            samples = stored  # the consensus module is the one on disk: no new sessions for an unchanged spec
        else:
            opt, samples = await self_consistent(opt, sandbox, analysis, agent, settings, layout, inputs,
                                                   manifest, usage, timings, progress, memory=recall)
            manifest["samples"] = {**samples, "inputs": inputs}
            save_manifest(layout, manifest)
        common["samples"] = {k: v for k, v in samples.items() if k != "inputs"}
        findings.extend(disagreement(common["samples"], analysis.spec.title_span))
    await generate("simulator", 50, decision_schema((opt.payload or {}).get("decisions")))
    rounds = settings.repair_rounds if settings.repair_rounds is not None else (0 if agent.name == "formal" else 2)
    sim_gate = await _simulator_gate(sandbox, analysis, agent, settings, layout, inputs, manifest, modules, opt,
                                     rounds, findings, generated, usage, timings, progress)
    common["gate"] = sim_gate.to_json()
    findings.extend(sim_gate.report_findings(title))
    repairs: list[dict[str, Any]] = []
    round_no = 0
    while True:
        r = await _judge(opt, sandbox, analysis, settings, layout, modules, files, timings, progress,
                         repaired=round_no > 0)
        if sim_gate.ok:  # an untrusted simulator's verdicts, and so its neighbours' scores, do not count
            exact = agent.name == "formal" and backend.problem is not None and backend.problem.name == "LP" \
                and is_ours("optimizer", layout, manifest)
            r, probed = await _falsify(r, sandbox, analysis, settings, layout, modules, timings, progress, exact)
            common["probe"] = probed.to_json()
        if not sim_gate.ok or not _repairable(r) or round_no >= rounds:
            break
        if not is_ours("optimizer", layout, manifest):
            if not settings.repair_edited:
                break
            backup_file(layout.module("optimizer"), layout.backups)
        round_no += 1
        evidence = _evidence(r)
        progress(f"{agent.name}: repair round {round_no} of {rounds}", 80)
        try:
            g = await run_agent("repair", analysis, agent, layout, inputs, manifest, _relay(progress, 80),
                                evidence=evidence, round=round_no, memory=recall)
        except StageError as exc:
            repairs.append({"round": round_no, "evidence": evidence, "outcome": "agent failed",
                            "findings": [f.code for f in exc.findings]})
            findings.extend(exc.findings)
            break
        finally:
            save_manifest(layout, manifest)
        generated["optimizer"] = g.state
        if g.usage:
            usage[f"repair-{round_no}"] = g.usage
        findings.extend(g.findings)
        repairs.append({"round": round_no, "evidence": evidence, "outcome": "repaired"})
        opt = await _optimize(sandbox, analysis, settings, layout, modules, files, timings, progress, 85)
    if repairs:
        common["repairs"] = repairs
    if r.validation is None:
        report = Report(str(spec_path), "rejected", tuple(findings) + r.opt.findings, **common)
        return _finish(layout, experience.after_run(spec_path, analysis, settings, manifest, report), started)
    v = r.validation
    all_findings = tuple(findings) + tuple(r.opt.findings) + tuple(v.findings)
    outcome = "rejected" if v.outcome == "validated" and not sim_gate.ok else v.outcome
    report = Report(str(spec_path), outcome, all_findings, solution=v.solution, verdict=v.verdict, **common)
    report = await asyncio.to_thread(experience.after_run, spec_path, analysis, settings, manifest, report)
    return await asyncio.to_thread(_finish, layout, report, started)


def _relay(progress: Progress, percent: int) -> Callable[[str], None]:
    return lambda message: progress(message, percent)


_REPAIRABLE = {"NEMO401", "NEMO402", "NEMO408", "NEMO301", "NEMO412"}


def _repairable(r: _Round) -> bool:
    """A rejected answer whose evidence an optimizer agent can act on."""
    found = tuple(r.opt.findings) + (tuple(r.validation.findings) if r.validation is not None else ())
    rejected = r.validation is None or r.validation.outcome == "rejected"
    return rejected and any(f.code in _REPAIRABLE for f in found)


def _evidence(r: _Round) -> dict[str, Any]:
    """The simulator's structured report on the rejected decisions: what the repair prompt quotes."""
    sim = r.sim_payload or {}
    sol = r.validation.solution if r.validation is not None else None
    codes = (tuple(r.validation.findings) if r.validation is not None else ()) + tuple(r.opt.findings)
    return {"status": sol.status if sol else None,
            "optimizer_objective": sol.objective if sol else None,
            "simulator_objective": sim.get("objective"),
            "feasible": sim.get("feasible"),
            "violations": (sim.get("violations") or [])[:50],
            "missing": (sim.get("missing") or [])[:50],
            "messages": [f"{f.code}: {f.message}" for f in codes if f.is_error],
            "decisions": _truncate(sol.decisions if sol else None),
            "better_neighbour": next((f.data.get("neighbour") for f in codes if f.code == "NEMO412"), None)}


def _truncate(decisions: Any, limit: int = 200) -> Any:
    if not isinstance(decisions, dict):
        return decisions
    return {k: (v[:limit] if isinstance(v, list) else v) for k, v in list(decisions.items())[:limit]}


async def _optimize(sandbox: Any, analysis: Analysis, settings: Settings, layout: Layout,
                    modules: dict[str, Path], files: dict[str, str], timings: dict[str, float],
                    progress: Progress, percent: int) -> Execution:
    """Run the optimizer in a fresh run folder; a crash or a missing solver is added as a finding."""
    title = analysis.spec.title_span
    if layout.run.exists():
        shutil.rmtree(layout.run)
    layout.run.mkdir(parents=True)
    progress("solving (optimizer in the sandbox)", percent)
    t1 = time.perf_counter()
    opt = await run_module(sandbox, "optimizer", modules["optimizer"], layout.run, layout.data, settings, title)
    timings["optimizer"] = time.perf_counter() - t1
    if opt.payload is not None and opt.payload.get("ok") is False:
        unavailable = (opt.payload.get("error") or {}).get("type") == "SolverUnavailable"
        failed = (finding("NEMO309", opt.payload["error"]["message"], title) if unavailable
                  else error_finding("NEMO301", opt.payload, files["optimizer"], title))
        return replace(opt, findings=tuple(opt.findings) + (failed,))
    return opt


async def _judge(opt: Execution, sandbox: Any, analysis: Analysis, settings: Settings, layout: Layout,
                 modules: dict[str, Path], files: dict[str, str], timings: dict[str, float],
                 progress: Progress, repaired: bool = False) -> _Round:
    """The simulator evaluates the optimizer's decisions, then the two are compared."""
    if opt.payload is None or opt.payload.get("ok") is False:
        return _Round(opt, None, None)
    title = analysis.spec.title_span
    sim_payload = None
    decisions = opt.payload.get("decisions")
    sim_findings: tuple[Finding, ...] = ()
    if decisions is not None and opt.payload.get("status") not in ("infeasible", "unbounded"):
        progress("validating (simulator judges the decisions)", 90 if repaired else 75)
        t2 = time.perf_counter()
        sim = await run_module(sandbox, "simulator", modules["simulator"], layout.run, layout.data, settings,
                               title, decisions=decisions)
        timings["simulator"] = time.perf_counter() - t2
        sim_findings = sim.findings
        sim_payload = sim.payload
    progress("comparing", 95)
    v = await asyncio.to_thread(validate, analysis, opt.payload, sim_payload, settings, files)
    return _Round(replace(opt, findings=tuple(opt.findings) + tuple(sim_findings)), sim_payload, v)


async def _simulator_gate(sandbox: Any, analysis: Analysis, agent: Any, settings: Settings, layout: Layout, inputs: str,
                          manifest: dict[str, Any], modules: dict[str, Path], opt: Execution, rounds: int,
                          findings: list[Finding], generated: dict[str, str], usage: dict[str, Any],
                          timings: dict[str, float], progress: Progress) -> Gate:
    """Run the simulator's checks before its verdicts count; a failing simulator gets repair sessions."""
    async def repair(evidence: dict[str, Any], round_no: int) -> str:
        if not is_ours("simulator", layout, manifest):
            return "not repaired: the simulator was edited by hand"
        progress(f"{agent.name}: simulator repair round {round_no} of {rounds}", 62)
        try:
            g = await run_agent("repair_simulator", analysis, agent, layout, inputs, manifest, _relay(progress, 62),
                                evidence=evidence, round=round_no)
        except StageError as exc:
            findings.extend(exc.findings)
            return "agent failed"
        finally:
            save_manifest(layout, manifest)
        generated["simulator"] = g.state
        if g.usage:
            usage[f"repair-simulator-{round_no}"] = g.usage
        findings.extend(g.findings)
        return "repaired"

    progress("simulator gate: running its checks", 60)
    t0 = time.perf_counter()
    decisions = (opt.payload or {}).get("decisions")
    result = await gate(sandbox, analysis, settings, layout, modules["simulator"],
                        decisions if isinstance(decisions, dict) else None, agent.name != "formal", rounds, repair)
    timings["gate"] = time.perf_counter() - t0
    return result


async def _falsify(r: _Round, sandbox: Any, analysis: Analysis, settings: Settings, layout: Layout,
                   modules: dict[str, Path], timings: dict[str, float], progress: Progress,
                   exact: bool = False) -> tuple[_Round, Probe]:
    """After an answer validates, the probe looks for a better feasible neighbour; one rejects the answer.

    `exact`: an LP the formal agent compiled (unedited) and HiGHS proved optimal; a single move
    cannot beat a proven LP optimum, so the probe's time is saved (MILPs are probed: a MIP may stop
    within its gap)."""
    v = r.validation
    if v is None or v.outcome != "validated" or v.verdict is None or v.solution is None:
        return r, Probe("skipped: the answer did not validate")
    if exact:
        return r, Probe("skipped: a proven LP optimum of the formal agent's unedited model")
    model_sense = analysis.model.objective.sense if analysis.model is not None and analysis.model.objective else None
    progress("falsification probe: scoring neighbours of the answer", 96)
    t0 = time.perf_counter()
    p = await falsify(sandbox, analysis, settings, layout, modules["simulator"], v.solution.decisions,
                      v.verdict.objective, v.solution.sense or model_sense, Locator(analysis).objective())
    timings["probe"] = timings.get("probe", 0.0) + time.perf_counter() - t0
    if p.finding is None:
        return r, p
    return replace(r, validation=replace(v, outcome="rejected", findings=tuple(v.findings) + (p.finding,))), p


def decision_schema(decisions: Any, rows: int = 3) -> str:
    """The decisions' names and shapes for the simulator's author: keys kept, values hidden."""
    if not isinstance(decisions, dict) or not decisions:
        return ""
    lines = []
    for name, value in list(decisions.items())[:50]:
        if isinstance(value, list):
            shown = [[*row[:-1], "<number>"] for row in value[:rows] if isinstance(row, list) and row]
            arity = len(value[0]) - 1 if value and isinstance(value[0], list) else 0
            more = f", ... ({len(value)} entries)" if len(value) > rows else ""
            lines.append(f"- `{name}`: indexed by {arity} key(s): {json.dumps(shown)[:-1]}{more}]")
        else:
            lines.append(f"- `{name}`: a single number")
    return "\n".join(lines)


def _finish(layout: Layout, report: Report, started: float) -> Report:
    report.timings["total"] = time.perf_counter() - started
    try:
        atomic_write(layout.report, json.dumps(report.to_json(), indent=1, default=str))
    except OSError:
        pass  # the report is still returned; a read-only folder must not turn a result into a crash
    return report

