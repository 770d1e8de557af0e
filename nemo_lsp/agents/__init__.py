"""Coding agents: a protocol and a name-to-factory registry. The engine never imports a concrete agent."""

from __future__ import annotations

from collections.abc import Callable

from .base import CONTRACT, ROLES, Agent, AgentResult, AgentTask


def _formal() -> Agent:
    from .formal import FormalAgent

    return FormalAgent()


AGENTS: dict[str, Callable[[], Agent]] = {"formal": _formal}
"""Known agents by name. Backends that drive agent CLIs register here."""


def get_agent(name: str) -> Agent:
    try:
        return AGENTS[name]()
    except KeyError:
        raise ValueError(f"unknown agent `{name}`; known agents: {', '.join(sorted(AGENTS))}") from None


__all__ = ["AGENTS", "CONTRACT", "ROLES", "Agent", "AgentResult", "AgentTask", "get_agent"]
