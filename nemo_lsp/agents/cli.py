"""The shared driver for agents that are programs (Claude Code, Codex, the OpenHands worker).

A backend says how to start its tool (argv, environment) and how to read its event lines; this
class runs it with a deadline in the task's workspace, forwards progress, records usage, keeps
the transcript, and turns failures into findings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from .. import __version__
from ..analysis import Analysis
from ..findings import Finding
from ..resources import templates_hash
from ..sandbox.base import default_path
from ..sandbox.bwrap import python_paths
from . import confine
from .base import AgentResult, AgentTask
from .failures import Failure, classify, to_finding
from .options import AgentOptions, from_environment
from .process import ProcessOutcome, run_program
from .session import Session

PROMPT_TEMPLATES = ("agents/contract.md.j2", "agents/optimizer.md.j2", "agents/simulator.md.j2",
                    "agents/repair.md.j2", "agents/consolidate.md.j2", "agents/examples.md.j2")


PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY")
"""Copied from our environment when set: an agent behind a proxy must reach its model."""


def base_environment(home: Path, extra: Mapping[str, str] | None = None,
                     passthrough: tuple[str, ...] = PROXY_VARS) -> dict[str, str]:
    """A small environment for an agent's program: no secrets but the ones the backend adds, and
    the `passthrough` variables that are set here.

    PATH starts with this interpreter's folder so the agent's `python` has Pyomo and HiGHS.
    """
    env = {"PATH": default_path(), "HOME": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "dumb",
           "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(home / "tmp")}
    env.update({name: os.environ[name] for name in passthrough if os.environ.get(name)})
    env.update(extra or {})
    return env


class ProgramAgent:
    """Base for program-driven backends; subclasses fill in the class attributes and three hooks."""

    name = "program"
    program = "program"
    """Executable name looked up on PATH."""
    command_env = ""
    """Environment variable that may give the executable's path."""
    install_hint = ""
    native_env: Mapping[str, str] = {}
    """Option -> the tool's own environment variable (e.g. base_url -> ANTHROPIC_BASE_URL)."""
    defaults = AgentOptions()

    def __init__(self, options: AgentOptions | None = None) -> None:
        self.options = options or from_environment(self.defaults, self.native_env)

    @property
    def version(self) -> str:
        return __version__

    def with_options(self, values: Mapping[str, object] | None) -> ProgramAgent:
        return type(self)(self.options.merged(values))

    def refuse(self, analysis: Analysis) -> Finding | None:
        return None

    def fingerprint(self) -> str:
        return f"{self.name}-{self.options.model}-{templates_hash(*PROMPT_TEMPLATES)}"

    def executable(self) -> str | None:
        """agent_options.command, then the backend's variable, then PATH, then `nemo agents install`'s copy."""
        candidate = self.options.command or os.environ.get(self.command_env) or self.program
        if os.sep in candidate:
            return candidate if os.access(candidate, os.X_OK) else None
        found = shutil.which(candidate)
        if found is None:
            cached = self.cached_executable()
            found = str(cached) if cached is not None else None
        return found

    def cached_executable(self) -> Path | None:
        """The copy `nemo agents install NAME` put in the user's cache, if any."""
        return None

    def availability(self, options: AgentOptions | None = None) -> tuple[bool, str]:
        exe = self.executable()
        if exe is None:
            return False, f"`{self.program}` not found ({self.install_hint})"
        try:
            out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30,
                                 stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"{exe} does not start: {exc}"
        text = (out.stdout or out.stderr).strip().splitlines()
        return out.returncode == 0, f"{text[0] if text else '?'} ({exe})"

    # --- hooks -----------------------------------------------------------------------------

    def argv(self, exe: str, task: AgentTask, home: Path) -> list[str]:
        raise NotImplementedError

    def environment(self, task: AgentTask, home: Path) -> dict[str, str]:
        return base_environment(home)

    def parse(self, line: str, session: Session, task: AgentTask) -> None:
        """Read one stdout line into the session (set `turns_exhausted` to stop the tool)."""
        raise NotImplementedError

    def prepare_home(self, task: AgentTask, home: Path) -> None:
        """Write the tool's configuration into its private HOME."""

    def extra_readable(self, task: AgentTask) -> list[Path]:
        """Folders the program needs that confinement would otherwise hide (e.g. a venv in ~/.cache)."""
        return []

    def extra_writable(self, task: AgentTask) -> list[Path]:
        return []

    def confined(self, argv: list[str], exe: str, task: AgentTask, home: Path) -> list[str]:
        """argv under bubblewrap when it works here (NEMO_AGENT_CONFINE=0 turns it off)."""
        bw = confine.bwrap_path() if os.environ.get("NEMO_AGENT_CONFINE", "1") != "0" else None
        if bw is None:
            return argv
        readable = [*map(Path, python_paths()), *confine.program_roots(exe), Path(os.path.realpath(exe)),
                    *self.extra_readable(task)]
        return confine.confine_argv(bw, argv, workspace=task.workspace, hidden=[Path.home(), task.spec_path.parent],
                                    readable=readable, writable=[home, *self.extra_writable(task)])

    # --- the session -----------------------------------------------------------------------

    async def generate(self, task: AgentTask) -> AgentResult:
        where = task.analysis.spec.title_span
        exe = self.executable()
        if exe is None:
            failure = classify("", returncode=None, missing=True)
            assert failure is not None
            return AgentResult(transcript=f"{self.name}: `{self.program}` not found\n", findings=(to_finding(
                failure, agent=self.name, role=task.role, where=where, timeout=self.options.timeout,
                endpoint=self.options.base_url, key_env=self.options.api_key_env,
                install_hint=self.install_hint),))
        home = task.workspace.with_name(task.workspace.name + ".home")
        if home.exists():
            shutil.rmtree(home)
        (home / "tmp").mkdir(parents=True)
        self.prepare_home(task, home)
        session = Session(task.workspace)
        lines: list[str] = []

        def on_line(line: str) -> None:
            lines.append(line)
            before = (session.turns, session.tool_calls)
            self.parse(line, session, task)
            if (session.turns, session.tool_calls) != before:
                task.say(f"{self.name}: turn {session.turns}, {session.tool_calls} tool calls")

        argv = self.confined(self.argv(exe, task, home), exe, task, home)
        task.say(f"{self.name}: starting")
        outcome = await run_program(argv, cwd=task.workspace, env=self.environment(task, home),
                                    timeout=self.options.timeout, on_line=on_line,
                                    stop=lambda: session.turns_exhausted or session.abort)
        transcript = "\n".join([f"$ {' '.join(argv[:1] + ['...'])}", "--- prompt ---", task.prompt,
                                "--- events ---", *lines, "--- stderr ---", outcome.stderr])
        findings: list[Finding] = []
        failure = session_failure(session, outcome, lines)
        if failure is not None:
            findings.append(to_finding(failure, agent=self.name, role=task.role, where=where,
                                       timeout=self.options.timeout, endpoint=self.options.base_url,
                                       key_env=self.options.api_key_env, install_hint=self.install_hint))
        details = {"turns": session.turns, "tool_calls": session.tool_calls, "returncode": outcome.returncode,
                   "duration": round(outcome.duration, 3), "outside": session.outside, **session.details}
        return AgentResult(transcript=transcript, findings=tuple(findings), cost=session.cost,
                           usage=dict(session.usage), details=details)


def session_failure(session: Session, outcome: ProcessOutcome, lines: list[str]) -> Failure | None:
    """Why a session failed, or None when it finished cleanly (its output is then judged on disk)."""
    clean = (outcome.returncode == 0 and not outcome.timed_out and session.finished and not session.errors
             and not session.turns_exhausted and not session.abort)
    if clean:
        return None
    text = "\n".join(session.errors + [outcome.stderr])
    failure = classify(text, returncode=outcome.returncode, timed_out=outcome.timed_out,
                       missing=outcome.missing, turns_exhausted=session.turns_exhausted)
    if failure is not None and failure.kind != "failed":
        return failure
    if session.malformed and not session.finished:
        return Failure("malformed", "\n".join(lines[-20:]))
    return Failure("failed", "\n".join(session.errors[-5:]) or outcome.stderr[-1500:]
                   or "the tool stopped without reporting a result")
