"""Coding agents: a protocol and a name-to-factory registry. The engine never imports a concrete agent."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .base import CONTRACT, ROLES, Agent, AgentResult, AgentTask
from .options import AgentOptions


def _formal() -> Agent:
    from .formal import FormalAgent

    return FormalAgent()


def _scripted() -> Agent:
    from .scripted import ScriptedAgent

    return ScriptedAgent()


def _chat() -> Agent:
    from .chat import ChatAgent

    return ChatAgent()


def _claude() -> Agent:
    from .claude import ClaudeCodeAgent

    return ClaudeCodeAgent()


def _codex() -> Agent:
    from .codex import CodexAgent

    return CodexAgent()


def _openhands() -> Agent:
    from .openhands_agent import OpenHandsAgent

    return OpenHandsAgent()


def _replay() -> Agent:
    from .replay import replay_agent

    return replay_agent()


AGENTS: dict[str, Callable[[], Agent]] = {
    "formal": _formal,
    "claude-code": _claude,
    "codex": _codex,
    "openhands": _openhands,
    "chat": _chat,
    "scripted": _scripted,
    "replay": _replay,
}
"""Known agents by name; `formal` is the offline default for specs with a model block."""


def get_agent(name: str, options: Mapping[str, object] | None = None) -> Agent:
    """The agent called `name`, configured with `options` (see AgentOptions) over its defaults."""
    try:
        factory = AGENTS[name]
    except KeyError:
        raise ValueError(f"unknown agent `{name}`; known agents: {', '.join(AGENTS)}") from None
    agent = factory()
    with_options = getattr(agent, "with_options", None)
    return with_options(options) if (options and with_options is not None) else agent


__all__ = ["AGENTS", "CONTRACT", "ROLES", "Agent", "AgentOptions", "AgentResult", "AgentTask", "get_agent"]
