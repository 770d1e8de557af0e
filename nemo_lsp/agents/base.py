"""The contract between the engine and a coding agent.

An agent gets a task (one role at a time) and a private workspace, and writes the module for that
role into the workspace. The engine trusts only what is on disk afterwards: it checks the file,
then installs it beside the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..analysis import Analysis
from ..findings import Finding
from .options import AgentOptions

ROLES = ("optimizer", "simulator", "repair", "repair_simulator", "consolidate")
"""`repair` rewrites the optimizer with the simulator's evidence; it writes the optimizer's file.
`repair_simulator` rewrites the simulator with the checks it failed (the simulator gate); it writes
the simulator's file. `consolidate` writes a model block (NAME.model.md) and assumptions.json, not code."""
CONTRACT = {
    "optimizer": ("build_model", "solve"),
    "simulator": ("simulate",),
    "repair": ("build_model", "solve"),
    "repair_simulator": ("simulate",),
    "consolidate": (),
}
"""Functions each role's module must define (the optimizer needs one of the two)."""
WRITES = {"repair": "optimizer", "repair_simulator": "simulator"}
"""Roles that rewrite another role's module: the module they write."""


def writes(role: str) -> str:
    """The module a role's session writes: a repair writes the module it repairs."""
    return WRITES.get(role, role)


def session_name(role: str, round: int = 1) -> str:
    """`repair-N` / `repair-simulator-N` for repairs (their workspace, transcript and canned file), else the role."""
    return f"{role.replace('_', '-')}-{round}" if role in WRITES else role


@dataclass(frozen=True)
class AgentTask:
    role: str
    """"optimizer" or "simulator"."""
    spec_path: Path
    analysis: Analysis
    workspace: Path
    """A private folder: the agent writes `target` here and nowhere else."""
    target: str
    """The file name to write, e.g. `diet.optimizer.py`."""
    data_file: Path
    prompt: str = ""
    """The rendered prompt (templates/agents/ROLE.md.j2); coding agents send it, `formal` ignores it."""
    options: AgentOptions = field(default_factory=lambda: AgentOptions())
    progress: Callable[[str], None] | None = None
    """Short human messages (turns, tool calls) the engine forwards as progress."""
    evidence: dict[str, Any] | None = None
    """For `repair`: the simulator's report on the previous optimizer's decisions."""
    sample: int = 1
    """Which self-consistency candidate this session writes (1 for the first or only one)."""

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    @property
    def contract_role(self) -> str:
        """The role whose contract the written module must meet (repair writes an optimizer)."""
        return writes(self.role)


@dataclass(frozen=True)
class AgentResult:
    transcript: str = ""
    findings: tuple[Finding, ...] = ()
    cost: float | None = None
    """Money the tool reports having spent (USD); None when it does not say."""
    usage: dict[str, int] = field(default_factory=dict)
    """Tokens the tool reports: input_tokens, output_tokens, and whatever else it gives."""
    details: dict[str, object] = field(default_factory=dict)


class Agent(Protocol):
    name: str
    version: str

    def refuse(self, analysis: Analysis) -> Finding | None:
        """Why this agent cannot work on the spec (None when it can)."""

    def availability(self, options: AgentOptions) -> tuple[bool, str]:
        """Whether it can run on this machine, with its version or what is missing (for `nemo doctor`)."""

    async def generate(self, task: AgentTask) -> AgentResult:
        """Write `task.target` into `task.workspace`."""

    def fingerprint(self) -> str:
        """Changes when the agent would write different code for the same spec."""
