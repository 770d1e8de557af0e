"""The contract between the engine and a coding agent.

An agent gets a task (one role at a time) and a private workspace, and writes the module for that
role into the workspace. The engine trusts only what is on disk afterwards: it checks the file,
then installs it beside the spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..analysis import Analysis
from ..findings import Finding

ROLES = ("optimizer", "simulator")
CONTRACT = {
    "optimizer": ("build_model", "solve"),
    "simulator": ("simulate",),
}
"""Functions each role's module must define (the optimizer needs one of the two)."""


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


@dataclass(frozen=True)
class AgentResult:
    transcript: str = ""
    findings: tuple[Finding, ...] = ()
    cost: float = 0.0
    details: dict[str, object] = field(default_factory=dict)


class Agent(Protocol):
    name: str
    version: str

    def refuse(self, analysis: Analysis) -> Finding | None:
        """Why this agent cannot work on the spec (None when it can)."""

    async def generate(self, task: AgentTask) -> AgentResult:
        """Write `task.target` into `task.workspace`."""

    def fingerprint(self) -> str:
        """Changes when the agent would write different code for the same spec."""
