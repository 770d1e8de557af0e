"""Running generated modules through the fixed harness, inside a sandbox, never in this process."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import jsonio
from ..findings import Finding, Span, finding
from ..resources import templates_dir
from ..sandbox import ExecResult, Limits, Sandbox, clean_env
from ..solvers import available_solvers
from .settings import Settings

LIMIT_CODES = {"wall": "NEMO303", "cpu": "NEMO304", "memory": "NEMO305", "file_size": "NEMO306",
               "output": "NEMO306", "processes": "NEMO310"}


@dataclass(frozen=True)
class Execution:
    payload: dict[str, Any] | None
    result: ExecResult
    findings: tuple[Finding, ...]


def limits_for(settings: Settings) -> Limits:
    wall = settings.time_limit + settings.startup_seconds
    return Limits(wall_seconds=wall, cpu_seconds=wall, memory_mb=settings.memory_limit)


def _limit_message(limit: str, settings: Settings, role: str) -> str:
    if limit == "wall":
        return (f"the {role} ran past its time limit ({settings.time_limit:g} s for the solver + "
                f"{settings.startup_seconds:g} s start-up) and was stopped; raise it with `time_limit:` in the "
                "front matter or `--time-limit`")
    if limit == "cpu":
        return f"the {role} used up its CPU-time limit and was stopped; raise `time_limit:` if the model is large"
    if limit == "memory":
        return (f"the {role} exceeded its memory limit ({settings.memory_limit} MB) and was stopped; raise it with "
                "`memory_limit:` in the front matter or `--memory-limit`")
    if limit == "processes":
        return (f"the {role} tried to start more than {limits_for(settings).processes} processes and threads at once "
                "(a fork bomb?) and was stopped with every process it started")
    if limit == "file_size":
        return (f"the {role} wrote a file larger than the file-size limit ({limits_for(settings).file_size_mb} MB) "
                "and was stopped")
    return (f"the {role} printed more output than the sandbox accepts and was stopped; the run log keeps the "
            "beginning and the end of it")


def _payload_limit(payload: dict[str, Any] | None) -> str | None:
    """A limit that the generated code hit and the harness caught as an exception (so it exited cleanly)."""
    if payload is None or payload.get("ok") is not False:
        return None
    err = payload.get("error") or {}
    if err.get("limit") == "memory":
        return "memory"
    if "[Errno 27]" in str(err.get("message", "")):  # EFBIG: RLIMIT_FSIZE (Python ignores SIGXFSZ)
        return "file_size"
    return None


async def run_module(sandbox: Sandbox, role: str, module: Path, run_dir: Path, data_file: Path,
                     settings: Settings, where: Span, decisions: dict[str, Any] | None = None) -> Execution:
    """Copy the module, the data and the harness into the run folder and run them there."""
    local = f"{role}.py"
    shutil.copyfile(module, run_dir / local)
    shutil.copyfile(templates_dir() / "harness.py", run_dir / "harness.py")
    if not (run_dir / "data.json").exists():
        shutil.copyfile(data_file, run_dir / "data.json")
    out = f"{role}.result.json"
    (run_dir / out).unlink(missing_ok=True)
    if role == "optimizer":
        argv = [sys.executable, "-I", "-B", "harness.py", "optimize", local, "data.json", out,
                "--time-limit", str(settings.time_limit), *solver_args(settings)]
    else:
        await asyncio.to_thread(
            lambda: (run_dir / "decisions.json").write_text(jsonio.dumps(decisions or {}, True), encoding="utf-8"))
        argv = [sys.executable, "-I", "-B", "harness.py", "simulate", local, "data.json", "decisions.json", out]
    result = await sandbox.run(argv, cwd=run_dir, limits=limits_for(settings), env=clean_env())
    marker = " (in a warm worker)" if result.warm else ""
    (run_dir / f"{role}.log").write_text(f"$ {' '.join(argv)}{marker}\n--- stdout ---\n{result.stdout}\n"
                                         f"--- stderr ---\n{result.stderr}\n", encoding="utf-8")
    payload = await asyncio.to_thread(_read, run_dir / out)
    findings: list[Finding] = []
    caught = _payload_limit(payload)
    if result.limit or caught:
        limit = result.limit or caught or "memory"
        findings.append(finding(LIMIT_CODES.get(limit, "NEMO306"), _limit_message(limit, settings, role), where,
                                data={"stderr_tail": result.stderr[-2000:]}))
        return Execution(None, result, tuple(findings))
    if payload is None:
        tail = (result.stderr or result.stdout).strip()[-1500:]
        findings.append(finding("NEMO307", f"the {role} ended (exit code {result.returncode}) without writing a "
                                f"result. Last output:\n{tail}" if tail else
                                f"the {role} ended (exit code {result.returncode}) without writing a result",
                                where, data={"stderr_tail": result.stderr[-4000:]}))
    elif payload.get("background"):
        left = [p for p in payload["background"] if isinstance(p, dict)]
        names = ", ".join(sorted({str(p.get("comm")) for p in left}))
        findings.append(finding("NEMO311", f"the {role} left {len(left)} process(es) running in the background "
                                f"({names}); the sandbox killed them with the run", where,
                                data={"background": left}))
    return Execution(payload, result, tuple(findings))


def solver_args(settings: Settings) -> list[str]:
    """The harness's backend flags: the engine's choice, or `auto` with the best nonlinear fallback."""
    if settings.solver is not None:
        return ["--solver", settings.solver, "--optimality", settings.solver_optimality]
    fallback = next((s for s in ("scip", "gurobi") if s in available_solvers()), None)
    return ["--solver", "auto", *(["--fallback", fallback] if fallback else [])]


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = jsonio.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None
