"""Confining an agent's program with bubblewrap: it sees its workspace, not your project or home.

The tools' own limits (Claude Code's `--restricted`, Codex's `workspace-write`) stop their file
tools, but a `python` command the agent runs could still read the optimizer beside the spec
(the simulator's author must never see it) or write anywhere. Under bubblewrap the system is
read-only, the user's home and the spec's folder are replaced by empty in-memory folders, and
only the workspace, the agent's private HOME and the programs it needs are mounted back.
The network stays shared: the agent must reach its model API.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..sandbox import bwrap as _bwrap


def confine_argv(bwrap: str, argv: Sequence[str], *, workspace: Path, hidden: Sequence[Path],
                 readable: Sequence[Path], writable: Sequence[Path]) -> list[str]:
    """The bwrap command line (pure): hide `hidden`, then mount back `readable` (ro) and `writable` (rw)."""
    args = [bwrap, "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--tmpfs", "/tmp"]
    hidden_paths = [h for h in _outermost(hidden) if h != Path("/")]
    for h in hidden_paths:
        args += ["--tmpfs", str(h)]
    # A readable path that is a hidden folder or contains one would expose it again (`python -m`
    # run from the spec's folder puts that folder on sys.path); paths inside one are fine.
    safe = [Path(os.path.abspath(r)) for r in readable]
    safe = [r for r in safe if not any(r == h or r in h.parents for h in hidden_paths)]
    for r in _outermost(safe):
        if r.exists():
            args += ["--ro-bind", str(r), str(r)]
    for w in [*writable, workspace]:
        args += ["--bind", str(w), str(w)]
    return [*args, "--chdir", str(workspace), "--", *argv]


def _outermost(paths: Sequence[Path]) -> list[Path]:
    """Distinct paths, dropping those inside another (mounting both would be redundant)."""
    unique = sorted({Path(os.path.abspath(p)) for p in paths}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for p in unique:
        if not any(p == k or k in p.parents for k in kept):
            kept.append(p)
    return kept


def bwrap_path() -> str | None:
    """bwrap's path when it works on this machine (the sandbox's cached probe), else None."""
    p = _bwrap.probe()
    return p.path if p.usable else None


def program_roots(executable: str) -> list[Path]:
    """What must stay readable for a program: its real file's folder tree up to its package root."""
    real = Path(os.path.realpath(executable))
    for parent in real.parents:
        if parent.name == "node_modules":
            return [parent.parent]
    return [real.parent.parent if real.parent.name == "bin" else real.parent]
