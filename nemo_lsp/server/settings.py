"""Server settings: defaults < `[tool.nemo]` in pyproject.toml < the client's settings.

A file's front matter wins over all of these for that file (the engine applies it). Invalid
values never stop the server: they produce a message and the default is used.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..engine.settings import Settings


@dataclass(frozen=True)
class ServerSettings:
    agent: str | None = None
    """Coding agent for specs that do not name one (None: `formal` when there is a model block)."""
    sandbox: str = "local"
    """Where generated code runs."""
    time_limit: float = 60.0
    """Solver time limit in seconds."""
    memory_limit: int = 4096
    """Memory for generated code, in MB."""
    run_on_save: bool = True
    """Run the pipeline when a spec is saved."""
    lint_delay_ms: int = 50
    """Debounce between a keystroke and the re-lint."""
    watch_files: bool = True
    """Watch the workspace for specs changed outside the editor."""
    lint_budget: int = 50_000
    """Steps the linter may spend enumerating constraints to find indices outside their sets."""
    agent_options: dict[str, Any] = field(default_factory=dict)
    """model, base_url, api_key_env, timeout, max_turns, command for the coding agent."""
    repair_rounds: int | None = None
    """Repair rounds after a rejected answer on save (None: the engine's default, 2 for coding agents)."""
    warm_workers: int = 2
    """Warm execution workers started with the server for the `local` sandbox (0: every run cold)."""
    memory: str | bool | None = None
    """The memory folder (shared by several projects if you like); false: no memory; None: `NEMO_MEMORY`,
    else `.nemo/memory/` beside each spec."""
    memory_examples: int = 2
    """Examples from memory shown to a coding agent per session."""
    probe: float = 1.0
    """Seconds the falsification probe may spend on a validated answer (0: off); front matter `probe:` wins."""
    extra: dict[str, Any] = field(default_factory=dict)

    def engine(self) -> Settings:
        return Settings(agent=self.agent, sandbox=self.sandbox, time_limit=self.time_limit,
                        memory_limit=self.memory_limit, agent_options=dict(self.agent_options),
                        repair_rounds=self.repair_rounds, probe=self.probe, memory_examples=self.memory_examples,
                        memory="off" if self.memory is False else None if self.memory in (None, True)
                        else str(self.memory))


_TYPES: dict[str, tuple[type, ...]] = {
    "agent": (str, type(None)), "sandbox": (str,), "time_limit": (int, float), "memory_limit": (int,),
    "run_on_save": (bool,), "lint_delay_ms": (int,), "watch_files": (bool,), "lint_budget": (int,),
    "agent_options": (dict,), "repair_rounds": (int, type(None)), "warm_workers": (int,), "probe": (int, float),
    "memory": (str, bool, type(None)), "memory_examples": (int,),
}


def snake(name: str) -> str:
    """`timeLimit` -> `time_limit`: clients speak camelCase JSON, pyproject speaks snake_case."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("-", "_")


def apply(base: ServerSettings, raw: Any, origin: str) -> tuple[ServerSettings, list[str]]:
    """Apply a settings mapping; return the new settings and a message per rejected value."""
    if raw is None:
        return base, []
    if not isinstance(raw, dict):
        return base, [f"{origin}: settings must be an object, got {type(raw).__name__}; using defaults"]
    if isinstance(raw.get("nemo"), dict):
        raw = raw["nemo"]
    changes: dict[str, Any] = {}
    problems: list[str] = []
    known = {f.name for f in fields(ServerSettings)} - {"extra"}
    for key, value in raw.items():
        name = snake(str(key))
        if name not in known:
            problems.append(f"{origin}: unknown setting `{key}` ignored")
            continue
        if isinstance(value, bool) and bool not in _TYPES[name] or not isinstance(value, _TYPES[name]):
            problems.append(f"{origin}: `{key}` = {value!r} is not a valid {name.replace('_', ' ')}; "
                            "keeping the default")
            continue
        if name == "warm_workers" and not 0 <= value <= 8:
            problems.append(f"{origin}: `{key}` must be between 0 and 8; keeping the default")
            continue
        if name == "memory_examples" and value < 0:
            problems.append(f"{origin}: `{key}` must be 0 or more; keeping the default")
            continue
        if name in ("time_limit", "memory_limit", "lint_budget") and value <= 0:
            problems.append(f"{origin}: `{key}` must be positive; keeping the default")
            continue
        if name == "probe" and value < 0:
            problems.append(f"{origin}: `{key}` must be 0 (off) or more seconds; keeping the default")
            continue
        changes[name] = float(value) if name in ("time_limit", "probe") else value
    return replace(base, **changes), problems


def from_pyproject(root: Path | None) -> tuple[dict[str, Any] | None, list[str]]:
    """`[tool.nemo]` from the workspace's pyproject.toml, if any."""
    if root is None:
        return None, []
    path = root / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, []
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        return None, [f"{path}: cannot read [tool.nemo]: {exc}"]
    section = data.get("tool", {}).get("nemo")
    return section, []
