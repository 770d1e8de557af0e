"""Shared types for running untrusted generated code: limits, results, the Sandbox protocol, env."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

LIMIT_NAMES = ("wall", "cpu", "memory", "file_size", "output")
"""The values ExecResult.limit may take besides None."""

# Variables that older OpenBLAS builds need to start at all on some CPUs; copied only if set.
_PASSTHROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one run; generous defaults because real solves can take minutes."""

    wall_seconds: float = 120.0
    cpu_seconds: float | None = None
    memory_mb: int = 4096
    file_size_mb: int = 512
    output_bytes: int = 2_000_000
    network: bool = False
    processes: int = 512
    """Tasks (processes and threads) a run may have at once, where the pids cgroup is usable (pids.py)."""

    def __post_init__(self) -> None:
        # Reject nonsense early: a zero or negative limit would kill every run and hide the cause.
        if not self.wall_seconds > 0:
            raise ValueError(f"wall_seconds must be > 0, got {self.wall_seconds!r}")
        if self.cpu_seconds is not None and not self.cpu_seconds > 0:
            raise ValueError(f"cpu_seconds must be > 0 or None, got {self.cpu_seconds!r}")
        for name in ("memory_mb", "file_size_mb", "output_bytes", "processes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive int, got {value!r}")

    @property
    def effective_cpu_seconds(self) -> float:
        """CPU budget actually enforced: defaults to the wall budget so one busy core can't outlive it."""
        return self.cpu_seconds if self.cpu_seconds is not None else self.wall_seconds


@dataclass(frozen=True)
class ExecResult:
    """What happened to one child run; never an exception, so callers can report any failure."""

    argv: tuple[str, ...]
    returncode: int | None
    stdout: str
    stderr: str
    duration: float
    limit: str | None
    cancelled: bool
    isolation: str
    warm: bool = False
    """Ran in a child forked from a warm worker (sandbox/warm.py) rather than a fresh process."""

    @property
    def ok(self) -> bool:
        """True only for a clean exit that no limit cut short."""
        return self.returncode == 0 and self.limit is None


@runtime_checkable
class Sandbox(Protocol):
    """A way to run argv with limits; implementations differ in how strongly they isolate."""

    name: str

    def isolation(self) -> str:
        """Human text describing the isolation this machine gives, for reports."""
        ...

    async def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        writable: Sequence[Path] = (),
        limits: Limits = Limits(),
        env: Mapping[str, str] | None = None,
    ) -> ExecResult:
        """Run argv to completion (or to a limit) and report; raises only for bad arguments."""
        ...


def default_path() -> str:
    """PATH for the child: the running interpreter first, so `python` is the one with our packages."""
    parts = [os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]
    seen: list[str] = []
    for part in parts:
        if part and part not in seen:
            seen.append(part)
    return os.pathsep.join(seen)


def clean_env(extra: Mapping[str, str] | None = None, home: Path | None = None) -> dict[str, str]:
    """Allowlisted environment for generated code, so API keys and tokens never reach it.

    HOME and TMPDIR are set to ``home`` when given; otherwise they are left out and
    LocalSandbox.run fills them with a private per-run directory. ``extra`` is merged last.
    """
    env = {
        "PATH": default_path(),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    for key in _PASSTHROUGH:
        value = os.environ.get(key)
        if value is not None:
            env[key] = value
    if home is not None:
        env["HOME"] = str(home)
        env["TMPDIR"] = str(home)
    if extra:
        env.update({str(k): str(v) for k, v in extra.items()})
    return env
