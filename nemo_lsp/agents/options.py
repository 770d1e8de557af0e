"""How a coding agent is reached and bounded: model, endpoint, key, timeout, turns.

Resolved in this order, later wins: the backend's defaults, the environment (each backend's
native variables such as ANTHROPIC_BASE_URL, then NEMO_AGENT_*), the spec's `agent_options`
front matter, and the caller's overrides (CLI flags, editor settings).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from ..spec.frontmatter import AGENT_OPTION_KEYS as OPTION_KEYS


@dataclass(frozen=True)
class AgentOptions:
    model: str | None = None
    """Model name sent to the endpoint; None lets the tool choose its default."""
    base_url: str | None = None
    """The model API's base URL (e.g. http://localhost:11434/v1); None keeps the tool's default."""
    api_key_env: str | None = None
    """Name of the environment variable holding the API key (the key itself is never stored)."""
    timeout: float = 900.0
    """Seconds one agent session may take before it is killed (CLIs retry a dead API for minutes)."""
    max_turns: int = 40
    """Model turns (tool-call rounds) one session may take."""
    command: str | None = None
    """Path of the agent's program when it is not found on PATH."""

    def merged(self, values: Mapping[str, Any] | None) -> AgentOptions:
        """Apply `values` (None and unknown keys skipped), converting numbers given as text."""
        changes: dict[str, Any] = {}
        for f in fields(self):
            value = (values or {}).get(f.name)
            if value is None:
                continue
            if f.name == "timeout":
                value = float(value)
            elif f.name == "max_turns":
                value = int(value)
            else:
                value = str(value)
            changes[f.name] = value
        return replace(self, **changes)

    def api_key(self, environ: Mapping[str, str] | None = None) -> str | None:
        env = os.environ if environ is None else environ
        return env.get(self.api_key_env) if self.api_key_env else None


def from_environment(defaults: AgentOptions, native: Mapping[str, str],
                     environ: Mapping[str, str] | None = None) -> AgentOptions:
    """Defaults overridden by a backend's native variables (`native`: option -> variable) and NEMO_AGENT_*."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for option, variable in native.items():
        if env.get(variable):
            values[option] = env[variable]
    for option in OPTION_KEYS:
        variable = f"NEMO_AGENT_{option.upper()}"
        if env.get(variable):
            values[option] = env[variable]
    return defaults.merged(values)
