"""Self-consistency: T optimizer candidates from separate agent sessions, run in parallel sandboxes;
the majority answer's module is installed (engine/selection.py holds the pure vote)."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..analysis import Analysis
from ..findings import Finding, Span, StageError, finding
from .execute import Execution, run_module
from .generate import install, run_agent
from .layout import Layout
from .selection import Candidate, self_consistency
from .settings import Settings

Progress = Callable[[str, int], None]


def _relay(progress: Progress, percent: int) -> Callable[[str], None]:
    return lambda message: progress(message, percent)


async def self_consistent(first: Execution, sandbox: Any, analysis: Analysis, agent: Any, settings: Settings,
                            layout: Layout, inputs: str, manifest: dict[str, Any], usage: dict[str, Any],
                            timings: dict[str, float], progress: Progress,
                            memory: Any = None) -> tuple[Execution, dict[str, Any]]:
    """T optimizer candidates from separate sessions, run in parallel sandboxes; the consensus is used.

    Candidate 1 is the optimizer already written and run; the others are written concurrently, each
    in its own workspace, and run in their own folders under `.nemo/NAME/candidates/`.
    """
    t0 = time.perf_counter()
    title = analysis.spec.title_span
    folder = layout.root / "candidates"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    count = settings.samples
    progress(f"{agent.name}: writing {count - 1} more optimizer candidates", 32)
    sessions = await asyncio.gather(*(run_agent("optimizer", analysis, agent, layout, inputs, manifest,
                                                _relay(progress, 32), sample=k, memory=memory)
                                      for k in range(2, count + 1)),
                                    return_exceptions=True)
    modules: dict[int, Path] = {1: folder / "optimizer-1.py"}
    shutil.copyfile(layout.module("optimizer"), modules[1])
    for k, g in zip(range(2, count + 1), sessions):
        if isinstance(g, BaseException):
            if not isinstance(g, StageError):
                raise g
            continue
        modules[k] = folder / f"optimizer-{k}.py"
        shutil.copyfile(g.path, modules[k])
        if g.usage:
            usage[f"optimizer-{k}"] = g.usage

    async def execute(k: int) -> Execution:
        run_dir = folder / f"run-{k}"
        run_dir.mkdir()
        return await run_module(sandbox, "optimizer", modules[k], run_dir, layout.data, settings, title)

    progress(f"solving {len(modules) - 1} more candidates in parallel sandboxes", 40)
    runs = {1: first, **dict(zip([k for k in modules if k > 1],
                                 await asyncio.gather(*(execute(k) for k in modules if k > 1))))}
    candidates = [Candidate(k, _status_of(runs.get(k)), _objective_of(runs.get(k))) for k in range(1, count + 1)]
    consensus = self_consistency(candidates, settings.tolerance.agrees)
    chosen = consensus.chosen or 1
    if chosen != 1:
        install(layout, "optimizer", modules[chosen].read_bytes(), inputs, manifest, agent.name)
    timings["samples"] = time.perf_counter() - t0
    info = {"summary": consensus.summary, "status": consensus.status, "objective": consensus.objective,
            "chosen": chosen, "agreeing": list(consensus.agreeing), "total": consensus.total,
            "clusters": [{"objective": m, "candidates": list(ids)} for m, ids in consensus.clusters],
            "candidates": {str(k): {"module": str(modules[k]) if k in modules else None, "status": c.status,
                                    "objective": c.objective} for k, c in zip(range(1, count + 1), candidates)}}
    return runs[chosen], info


def _status_of(e: Execution | None) -> str:
    if e is None or e.payload is None or e.payload.get("ok") is False:
        return "error"
    return str(e.payload.get("status") or "error")


def _objective_of(e: Execution | None) -> float | None:
    value = (e.payload or {}).get("objective") if e is not None else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def disagreement(samples: dict[str, Any], title: Span) -> list[Finding]:
    """NEMO410 when the candidates do not all agree: the other answers and where each candidate is."""
    if len(samples["agreeing"]) == samples["total"]:
        return []
    others = [f"{c['status']}{'' if c['objective'] is None else ' ' + format(c['objective'], '.10g')} "
              f"(candidate {k})" for k, c in samples["candidates"].items() if int(k) not in samples["agreeing"]]
    return [finding("NEMO410", f"{samples['summary']} (candidate {samples['chosen']} is used); the others: "
                    f"{', '.join(others)}; they are in .nemo/*/candidates/", title, data={"samples": samples},
                    fixes=("open_candidate",))]
