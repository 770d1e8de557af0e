"""The NEMO pipeline for one spec: analyze -> generate optimizer and simulator -> execute -> validate.

`run` is the one entry point the CLI, the language server and the benchmark harness share. Stages
raise `StageError` carrying findings; this module is the one place that turns them into a report.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..agents import get_agent
from ..analysis import Analysis, analyze
from ..findings import Finding, StageError, finding, has_errors
from .. import jsonio
from ..fsutil import atomic_write
from ..sandbox import get_sandbox
from ..spec.reader import MAX_SPEC_BYTES, read_text
from .execute import run_module
from .generate import ensure_generated, inputs_hash, load_manifest, save_manifest
from .layout import Layout
from .report import Report
from .settings import Settings
from .validate import error_finding, validate

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
        return await _pipeline(spec_path, analysis, settings, findings, timings, progress, started)
    except StageError as exc:
        return Report(str(spec_path), "not_run", tuple(findings) + exc.findings, timings=timings)
    except OSError as exc:
        where = analysis.spec.title_span
        return Report(str(spec_path), "not_run", tuple(findings) + (finding(
            "NEMO100", f"cannot write next to the spec: {exc.strerror or exc} ({exc.filename})", where),),
            timings=timings)
    except Exception as exc:  # noqa: BLE001 - one place turns our own bugs into a report, not a crash
        return Report(str(spec_path), "error", tuple(findings) + (finding(
            "NEMO590", f"internal error: {type(exc).__name__}: {exc}. Please report it.",
            analysis.spec.title_span, data={"traceback": traceback.format_exc()}),), timings=timings)


async def _pipeline(spec_path: Path, analysis: Analysis, settings: Settings, findings: list[Finding],
                    timings: dict[str, float], progress: Progress, started: float) -> Report:
    layout = Layout(spec_path)
    title = analysis.spec.title_span
    agent_name = settings.agent or ("formal" if analysis.model is not None else None)
    if agent_name is None:
        raise StageError(finding("NEMO201", "this spec has no `model` block, so the offline `formal` agent cannot "
                                 "compile it; add a model block or choose a coding agent (`--agent NAME`)", title))
    try:
        agent = get_agent(agent_name)
    except ValueError as exc:
        raise StageError(finding("NEMO501", str(exc), analysis.spec.front.value_span("agent") or title)) from None
    refusal = agent.refuse(analysis)
    if refusal is not None:
        raise StageError(refusal)
    try:
        sandbox = get_sandbox(settings.sandbox)
    except ValueError as exc:
        raise StageError(finding("NEMO503", str(exc), analysis.spec.front.value_span("sandbox") or title)) from None

    layout.root.mkdir(parents=True, exist_ok=True)
    data_json = await asyncio.to_thread(
        lambda: jsonio.dumps(analysis.data_json(), True, sort_keys=True, separators=(",", ":")))
    await asyncio.to_thread(atomic_write, layout.data, data_json)
    manifest = load_manifest(layout)
    inputs = inputs_hash(analysis, data_json, agent)
    generated: dict[str, str] = {}
    t0 = time.perf_counter()
    modules = {}
    for role, percent in (("optimizer", 15), ("simulator", 30)):
        progress(f"{agent.name}: writing the {role}", percent)
        try:
            g = await ensure_generated(role, analysis, agent, layout, inputs, manifest, settings.regenerate)
        finally:
            save_manifest(layout, manifest)
        generated[role] = g.state
        modules[role] = g.path
        findings.extend(g.findings)
        if g.transcript:
            atomic_write(layout.root / f"{role}.transcript.txt", g.transcript)
    timings["generate"] = time.perf_counter() - t0
    files = {"optimizer": str(modules["optimizer"]), "simulator": str(modules["simulator"]),
             "data": str(layout.data), "run": str(layout.run)}

    if layout.run.exists():
        shutil.rmtree(layout.run)
    layout.run.mkdir(parents=True)
    isolation = await asyncio.to_thread(sandbox.isolation)  # probes bubblewrap once per process
    if not isolation.startswith("bubblewrap"):
        findings.append(finding("NEMO308", f"generated code ran with reduced isolation: {isolation}. Install "
                                "bubblewrap (`apt-get install bubblewrap`) to cut its network and hide your files.",
                                None))
    progress("solving (optimizer in the sandbox)", 45)
    t1 = time.perf_counter()
    opt = await run_module(sandbox, "optimizer", modules["optimizer"], layout.run, layout.data, settings, title)
    timings["optimizer"] = time.perf_counter() - t1
    findings.extend(opt.findings)
    common = dict(agent=agent.name, files=files, timings=timings, isolation=isolation, generated=generated,
                  expect=analysis.spec.front.values.get("expect"))
    if opt.payload is None:
        return _finish(layout, Report(str(spec_path), "rejected", tuple(findings), **common),
                       started)
    if opt.payload.get("ok") is False:
        unavailable = (opt.payload.get("error") or {}).get("type") == "SolverUnavailable"
        findings.append(finding("NEMO309", opt.payload["error"]["message"], title) if unavailable
                        else error_finding("NEMO301", opt.payload, files["optimizer"], title))
        return _finish(layout, Report(str(spec_path), "rejected", tuple(findings), **common), started)

    sim_payload = None
    decisions = opt.payload.get("decisions")
    if decisions is not None and opt.payload.get("status") not in ("infeasible", "unbounded"):
        progress("validating (simulator judges the decisions)", 75)
        t2 = time.perf_counter()
        sim = await run_module(sandbox, "simulator", modules["simulator"], layout.run, layout.data, settings,
                               title, decisions=decisions)
        timings["simulator"] = time.perf_counter() - t2
        findings.extend(sim.findings)
        sim_payload = sim.payload
    progress("comparing", 95)
    v = await asyncio.to_thread(validate, analysis, opt.payload, sim_payload, settings, files)
    findings.extend(v.findings)
    report = Report(str(spec_path), v.outcome, tuple(findings), solution=v.solution, verdict=v.verdict, **common)
    return await asyncio.to_thread(_finish, layout, report, started)


def _finish(layout: Layout, report: Report, started: float) -> Report:
    report.timings["total"] = time.perf_counter() - started
    try:
        atomic_write(layout.report, json.dumps(report.to_json(), indent=1, default=str))
    except OSError:
        pass  # the report is still returned; a read-only folder must not turn a result into a crash
    return report

