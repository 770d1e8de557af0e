"""Running untrusted generated code: limits, results, and the registry of sandbox implementations."""

from __future__ import annotations

from collections.abc import Callable

from .base import LIMIT_NAMES, ExecResult, Limits, Sandbox, clean_env
from .local import LocalSandbox


def _docker() -> Sandbox:
    """Lazy, so the local path never imports docker_sandbox; raises SandboxUnavailable (a ValueError)."""
    from .docker_sandbox import checked_docker_sandbox

    return checked_docker_sandbox()


def _warm() -> Sandbox:
    """LocalSandbox with the process-wide warm pool (sandbox/warm.py) started on first use."""
    from .warm import WarmSandbox

    return WarmSandbox()


SANDBOXES: dict[str, Callable[[], Sandbox]] = {"local": LocalSandbox, "warm": _warm, "docker": _docker}
"""Name -> factory; the CLI and server pick one by name from configuration."""


def get_sandbox(name: str) -> Sandbox:
    """A fresh sandbox by registry name; the error lists the known names so config typos are obvious."""
    factory = SANDBOXES.get(name)
    if factory is None:
        known = ", ".join(sorted(SANDBOXES))
        raise ValueError(f"unknown sandbox {name!r}; known sandboxes: {known}")
    return factory()


__all__ = [
    "LIMIT_NAMES",
    "SANDBOXES",
    "ExecResult",
    "Limits",
    "LocalSandbox",
    "Sandbox",
    "clean_env",
    "get_sandbox",
]
