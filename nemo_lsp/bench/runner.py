"""Run problems through the engine and keep every finished result: the store and the local executor.

Layout of a run folder (`--out`):

    bench.json                     the run's configuration (agent, options, datasets); checked on --resume
    results/NAME.json              one per finished problem, written atomically (fsync, rename, fsync dir)
    problems/NAME/problem.json     the question and reference answer (never shown to an agent)
    problems/NAME/run-K/NAME.opt.md    the spec of attempt K, with the engine's files beside it:
                                   NAME.optimizer.py, NAME.simulator.py, .nemo/NAME/ (report.json,
                                   manifest, transcripts/, work/ with each agent session's workspace)

A problem is done when its result file exists; nothing else is trusted. A kill at any moment leaves
the problems in flight without a result, so `--resume` runs them again, each in a fresh `run-K`
folder (a process of the killed run that outlived it may still write into the old one).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .. import __version__
from ..fsutil import atomic_write
from . import scoring
from .datasets import Problem
from .specgen import safe_name, write_problem

RECORD_SCHEMA = 1


class BenchError(Exception):
    """A run that cannot start or continue (a used --out without --resume, a changed agent...)."""


@dataclass(frozen=True)
class RunConfig:
    """What every problem of a run shares; stored in bench.json."""

    agent: str
    agent_options: dict[str, Any] = field(default_factory=dict)
    """model, base_url, api_key_env, timeout, max_turns (as `nemo solve`'s flags)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Engine overrides: time_limit, memory_limit, sandbox, repair_rounds, autonomous."""
    samples: int | None = None
    """Written to each spec's front matter (`samples: T`) for the self-consistency features."""
    datasets: tuple[str, ...] = ()

    def overrides(self) -> dict[str, Any]:
        """What engine.run receives, exactly as `nemo solve` builds it from its flags."""
        return {**{k: v for k, v in self.settings.items() if v is not None}, "agent": self.agent,
                "agent_options": {k: v for k, v in self.agent_options.items() if v is not None} or None}

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "datasets": list(self.datasets)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunConfig:
        return cls(str(data["agent"]), dict(data.get("agent_options") or {}), dict(data.get("settings") or {}),
                   data.get("samples"), tuple(data.get("datasets") or ()))

    def same_run(self, other: RunConfig) -> bool:
        """Whether results made under `other` may be mixed with results made under this one."""
        return (self.agent, self.agent_options, self.settings, self.samples) == (
            other.agent, other.agent_options, other.settings, other.samples)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Store:
    """The run folder: configuration, one result file per finished problem, workspaces."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.results = root / "results"
        self.problems = root / "problems"

    @property
    def config_path(self) -> Path:
        return self.root / "bench.json"

    def open(self, config: RunConfig, resume: bool) -> None:
        """Start a new run here, or continue one (`resume`); refuse to mix runs."""
        stored = self.read_config()
        if stored is not None or self.records():
            if not resume:
                raise BenchError(f"{self.root} already holds a run: pass --resume to continue it, or choose "
                                 "another --out")
            if stored is not None and not stored.same_run(config):
                raise BenchError(f"{self.root} holds a run with other settings ({_describe(stored)}); this one "
                                 f"is {_describe(config)}: choose another --out")
        self.results.mkdir(parents=True, exist_ok=True)
        self.problems.mkdir(parents=True, exist_ok=True)
        merged = config if stored is None else RunConfig(
            config.agent, config.agent_options, config.settings, config.samples,
            tuple(dict.fromkeys((*stored.datasets, *config.datasets))))
        atomic_write(self.config_path, json.dumps({"nemo_lsp": __version__, **merged.to_json()}, indent=1))

    def read_config(self) -> RunConfig | None:
        try:
            return RunConfig.from_json(json.loads(self.config_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def result_path(self, problem_id: str) -> Path:
        return self.results / f"{safe_name(problem_id)}.json"

    def save(self, record: Mapping[str, Any]) -> None:
        """Write one problem's result durably: temp file, fsync, rename, fsync the folder."""
        atomic_write(self.result_path(str(record["id"])), json.dumps(record, indent=1, default=str))
        _fsync_dir(self.results)

    def records(self) -> list[dict[str, Any]]:
        """Every finished problem's record (unreadable files are skipped: they were never renamed in)."""
        out = []
        if not self.results.is_dir():
            return out
        for path in sorted(self.results.glob("*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and "id" in record:
                out.append(record)
        return out

    def done(self) -> set[str]:
        """Problems with a result; a harness error is retried."""
        return {str(r["id"]) for r in self.records() if not r.get("harness_error")}

    def new_attempt(self, problem: Problem) -> str:
        """A fresh `problems/NAME/run-K` (relative to the root); older attempts are removed."""
        folder = self.problems / safe_name(problem.id)
        folder.mkdir(parents=True, exist_ok=True)
        old = [p for p in folder.glob("run-*") if p.is_dir() and p.name[4:].isdigit()]
        k = 1 + max((int(p.name[4:]) for p in old), default=0)
        for p in old:
            shutil.rmtree(p, ignore_errors=True)
        return f"problems/{safe_name(problem.id)}/run-{k}"


def _describe(config: RunConfig) -> str:
    opts = ", ".join(f"{k}={v}" for k, v in sorted(config.agent_options.items()) if v is not None)
    return f"agent {config.agent}{f' ({opts})' if opts else ''}" + (
        f", samples {config.samples}" if config.samples else "")


def make_record(problem: Problem, report: Any, *, seconds: float, workspace: str, executor: str,
                samples: int | None) -> dict[str, Any]:
    """One problem's result as stored: the reference, what the run produced, its costs and where its files are."""
    sol = report.solution
    name = safe_name(problem.id)
    usage = dict(report.usage or {})
    return {
        "schema": RECORD_SCHEMA,
        "id": problem.id,
        "benchmark": problem.benchmark,
        "expected": problem.expected(),
        "agent": report.agent,
        "outcome": report.outcome,
        "status": sol.status if sol else None,
        "objective": sol.objective if sol else None,
        "sense": sol.sense if sol else None,
        "executed": sol is not None,
        "validated": report.outcome in ("validated", "expected"),
        "repairs": len(report.repairs or ()),
        "repair_outcomes": [r.get("outcome") for r in report.repairs or ()],
        "findings": [f.code for f in report.findings],
        "generated": dict(report.generated or {}),
        "timings": {k: round(v, 4) for k, v in (report.timings or {}).items()},
        "seconds": round(seconds, 4),
        "usage": usage,
        "cost_usd": scoring.cost_of({"usage": usage}),
        "samples": samples,
        "workspace": workspace,
        "spec": f"{workspace}/{name}.opt.md",
        "transcripts": f"{workspace}/.nemo/{name}/transcripts",
        "executor": executor,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


async def solve_problem(problem: Problem, root: Path, workspace: str, config: RunConfig,
                        executor: str) -> dict[str, Any]:
    """Write the problem's spec under `root/workspace` and run it through the same engine as `nemo solve`."""
    from ..engine import run
    from ..agents.replay import ensure_registered

    ensure_registered()
    spec = await asyncio.to_thread(write_problem, problem, root / workspace, config.samples)
    started = time.perf_counter()
    report = await run(spec, overrides=config.overrides())
    return make_record(problem, report, seconds=time.perf_counter() - started, workspace=workspace,
                       executor=executor, samples=config.samples)


def error_record(problem: Problem, workspace: str, message: str, executor: str, seconds: float) -> dict[str, Any]:
    """A problem the harness itself could not run (an internal failure, a lost Ray task): stored so the
    reports show it, but not counted as done, so `--resume` runs it again."""
    return {"schema": RECORD_SCHEMA, "id": problem.id, "benchmark": problem.benchmark, "harness_error": True,
            "expected": problem.expected(), "agent": None, "outcome": "error", "status": None, "objective": None,
            "sense": None, "executed": False, "validated": False, "repairs": 0, "repair_outcomes": [],
            "findings": ["NEMO590"], "error": message, "generated": {}, "timings": {}, "seconds": round(seconds, 4),
            "usage": {}, "cost_usd": None, "workspace": workspace, "executor": executor,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}


# --- progress -----------------------------------------------------------------------------------

def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ProgressLine:
    """done/total, accuracy so far (default convention), rate and ETA on stderr.

    On a terminal one line is redrawn in place; otherwise each finished problem prints a plain line.
    """

    def __init__(self, total: int, previous: Iterable[Mapping[str, Any]], stream: TextIO | None = None,
                 tty: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.total = total
        self.done = self.scored = self.correct = 0
        for record in previous:
            self._count(record)
        self.resumed = self.done
        self.started = time.monotonic()

    def _count(self, record: Mapping[str, Any]) -> None:
        mark = scoring.verdict(record)
        self.done += 1
        self.scored += mark != "unscored"
        self.correct += mark == "correct"

    def line(self, last: Mapping[str, Any] | None = None) -> str:
        done = self.done
        acc_text = (f"acc {self.correct / self.scored:.1%} ({scoring.DEFAULT.label}, {self.scored} scored)"
                    if self.scored else "acc -")
        fresh = done - self.resumed
        elapsed = time.monotonic() - self.started
        rate = fresh / elapsed * 60 if fresh and elapsed > 0 else None
        eta = (self.total - done) / rate * 60 if rate else None
        parts = [f"[{done}/{self.total}]", acc_text, f"{rate:.1f}/min" if rate else "-/min",
                 f"ETA {_clock(eta)}" if eta is not None else "ETA -"]
        if last is not None:
            parts.append(f"last {last['id']}: {last.get('outcome')} -> {scoring.verdict(last)}")
        return "  ".join(parts)

    def start(self) -> None:
        if self.tty:
            self._draw(self.line())
        else:
            self.stream.write(f"bench: {self.total} problems, {self.resumed} already done\n")
            self.stream.flush()

    def finished(self, record: Mapping[str, Any]) -> None:
        self._count(record)
        if self.tty:
            self._draw(self.line(record))
        else:
            self.stream.write(self.line(record) + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, text: str) -> None:
        width = shutil.get_terminal_size((120, 20)).columns
        self.stream.write("\r\033[K" + text[: max(20, width - 1)])
        self.stream.flush()


# --- the local executor -------------------------------------------------------------------------

Finished = Callable[[dict[str, Any]], None]


async def run_local(problems: list[Problem], store: Store, config: RunConfig, workers: int,
                    finished: Finished) -> None:
    """Run `problems` `workers` at a time in this process (each in its own sandboxed subprocesses);
    each result is saved the moment it is known, then passed to `finished`."""
    gate = asyncio.Semaphore(max(1, workers))

    async def one(problem: Problem) -> None:
        async with gate:
            workspace = store.new_attempt(problem)
            started = time.perf_counter()
            try:
                record = await solve_problem(problem, store.root, workspace, config, "local")
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as exc:  # noqa: BLE001 - one problem's failure must not stop the others
                record = error_record(problem, workspace, f"{type(exc).__name__}: {exc}", "local",
                                      time.perf_counter() - started)
            store.save(record)
            finished(record)

    await asyncio.gather(*(one(p) for p in problems))


def pending(problems: list[Problem], store: Store) -> list[Problem]:
    done = store.done()
    return [p for p in problems if p.id not in done]


def check_names(problems: list[Problem]) -> None:
    seen: dict[str, str] = {}
    for p in problems:
        name = safe_name(p.id)
        if name in seen and seen[name] != p.id:
            raise BenchError(f"problem ids {seen[name]!r} and {p.id!r} map to the same file name {name!r}")
        seen[name] = p.id
