"""Which backends are installed here: found without importing them (the language server stays light).

`NEMO_HIDE_SOLVERS=scip,gurobi` hides backends, as if they were not installed: the real code path of
a machine without them (tests, or a user checking what their colleagues without SCIP would get).
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess

from .catalog import BACKENDS

HIDE_ENV = "NEMO_HIDE_SOLVERS"


def hidden() -> frozenset[str]:
    return frozenset(s.strip().lower() for s in os.environ.get(HIDE_ENV, "").split(",") if s.strip())


def available_solvers() -> dict[str, str]:
    """Installed backends, best first, with their package's version (hidden ones left out)."""
    gone = hidden()
    return {name: version for name, version in _installed().items() if name not in gone}


@functools.cache
def _installed() -> dict[str, str]:
    found: dict[str, str] = {}
    for name, b in BACKENDS.items():
        version = _executable_version(b.distribution) if name == "ipopt" else _package_version(b.distribution)
        if version is not None:
            found[name] = version
    return found


def _package_version(distribution: str) -> str | None:
    if importlib.util.find_spec(distribution) is None:
        return None
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown version"


def _executable_version(program: str) -> str | None:
    path = shutil.which(program)
    if path is None:
        return None
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10,
                             stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown version"
    words = out.split()
    return words[1] if len(words) > 1 and words[0].lower() == "ipopt" else "unknown version"
