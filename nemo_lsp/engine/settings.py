"""Run settings: defaults, overridden by the spec's front matter, overridden by the caller."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class Tolerance:
    """Objective agreement: |F_opt - F_sim| <= abs + rel * |F_opt| (NEMO's asymmetric check)."""

    abs: float = 1e-9
    """Absolute part, for objectives near zero."""
    rel: float = 1e-6
    """Relative part."""

    def agrees(self, reference: float, other: float) -> bool:
        return abs(reference - other) <= self.abs + self.rel * abs(reference)


@dataclass(frozen=True)
class Settings:
    agent: str | None = None
    """Coding agent; None means `formal` when the spec has a model block."""
    sandbox: str = "local"
    """Where generated code runs."""
    time_limit: float = 60.0
    """Seconds the solver may take; the sandbox's wall limit adds start-up time to it."""
    memory_limit: int = 4096
    """Megabytes of address space for generated code."""
    tolerance: Tolerance = field(default_factory=Tolerance)
    """Objective agreement between optimizer and simulator."""
    expect_tolerance: Tolerance = field(default_factory=lambda: Tolerance(abs=1e-6, rel=1e-6))
    """Agreement with the spec's `expect.objective`."""
    accept_status: tuple[str, ...] = ("optimal",)
    """Solver statuses whose answer may be validated (add `time_limit` to accept incumbents)."""
    regenerate: bool = False
    """Back up and replace generated files even when the user edited them."""
    startup_seconds: float = 30.0
    """Wall-clock allowance on top of `time_limit` for imports and model building."""
    agent_options: dict[str, Any] = field(default_factory=dict)
    """Model, base_url, api_key_env, timeout, max_turns, command for the coding agent (see AgentOptions)."""
    repair_rounds: int | None = None
    """Repair rounds after a rejected answer; None: 2 for coding agents, 0 for `formal` (deterministic)."""
    repair_edited: bool = False
    """Let a repair replace an optimizer the user edited (backed up first): only on the user's explicit request."""
    samples: int = 1
    """Optimizer candidates for self-consistency (separate agent sessions, run in parallel sandboxes)."""
    autonomous: bool = False
    """For a prose-only spec: consolidate it into a model block first, accepting the agent's assumptions."""
    regenerate_roles: tuple[str, ...] = ()
    """Roles to regenerate even when up to date (backing up the user's edits), e.g. ("simulator",)."""
    solver: str | None = None
    """The backend the optimizer runs with (nemo_lsp/solvers); None: HiGHS for linear models, else the best
    installed nonlinear backend (`auto`, for modules whose class is unknown). Set by the engine per run."""
    solver_optimality: str = "global"
    """`local` when the chosen backend proves local optima only: its answer is `locally_optimal`."""
    memory: str | None = None
    """The memory folder (several projects may share one); None: `NEMO_MEMORY`, else `.nemo/memory/`
    beside the spec; `off`: no memory (see engine/experience.py)."""
    memory_examples: int = 2
    """Examples from memory shown to a coding agent per session (k); 0 shows none."""
    memory_save: str = "auto"
    """`auto`: validated runs by coding agents are saved; `always`: `formal` runs too; `never`."""
    probe: float = 1.0
    """Seconds the falsification probe may spend scoring neighbours of a validated answer (0: off)."""

    def with_front_matter(self, front: dict[str, Any]) -> Settings:
        """Apply a spec's front matter; explicit caller overrides are applied after this."""
        changes: dict[str, Any] = {}
        if "agent" in front:
            changes["agent"] = front["agent"]
        if "sandbox" in front:
            changes["sandbox"] = front["sandbox"]
        if "time_limit" in front:
            changes["time_limit"] = float(front["time_limit"])
        if "memory_limit" in front:
            changes["memory_limit"] = int(front["memory_limit"])
        if "tolerance" in front:
            changes["tolerance"] = replace(self.tolerance, **{k: float(v) for k, v in front["tolerance"].items()})
        if "agent_options" in front:
            changes["agent_options"] = {**self.agent_options, **front["agent_options"]}
        if "samples" in front:
            changes["samples"] = int(front["samples"])
        if "autonomous" in front:
            changes["autonomous"] = bool(front["autonomous"])
        if "repair_rounds" in front:
            changes["repair_rounds"] = int(front["repair_rounds"])
        if "probe" in front:
            changes["probe"] = float(front["probe"])
        if "memory" in front:
            memory = front["memory"]
            changes["memory"] = "off" if memory is False else None if memory is True else str(memory)
        if "memory_examples" in front:
            changes["memory_examples"] = int(front["memory_examples"])
        if "accept_status" in front:
            changes["accept_status"] = tuple(front["accept_status"])
        expect = front.get("expect") or {}
        if isinstance(expect.get("tolerance"), (int, float)):
            changes["expect_tolerance"] = Tolerance(abs=float(expect["tolerance"]), rel=float(expect["tolerance"]))
        return replace(self, **changes)

    def override(self, **changes: Any) -> Settings:
        """Caller overrides (CLI flags, editor settings); None means 'not given'."""
        known = {f.name for f in fields(self)}
        changes = {k: v for k, v in changes.items() if v is not None and k in known}
        if "agent_options" in changes:
            changes["agent_options"] = {**self.agent_options,
                                        **{k: v for k, v in changes["agent_options"].items() if v is not None}}
        return replace(self, **changes)
