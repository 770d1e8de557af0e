"""Installing the agent CLIs nemo-lsp is tested with, pinned, into a per-user cache (`nemo agents install`).

Each npm package goes to ``$NEMO_AGENT_CLI_CACHE/<pkg>-<version>`` (default root:
``~/.cache/nemo-lsp/agent-clis``) with ``npm install --prefix``, under an exclusive file lock so
parallel installs do not race; a ``.nemo-installed`` marker is written only once the real
binary is in place, so an interrupted install is redone. The agents find these binaries when
their program is not on PATH.

The binaries are the native executables inside node_modules, not the Node wrappers (Claude Code
needs no Node at run time; its package.json asks for Node >= 22 but Node 20 is fine):

- claude: ``node_modules/@anthropic-ai/claude-code/bin/claude.exe`` (postinstall hard-links it from
  ``@anthropic-ai/claude-code-<platform>/claude``, which is the fallback).
- codex: ``node_modules/@openai/codex-<platform>/vendor/<target triple>/bin/codex``.
"""


from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CLAUDE_PACKAGE, CLAUDE_VERSION = "@anthropic-ai/claude-code", "2.1.332"
CODEX_PACKAGE, CODEX_VERSION = "@openai/codex", "0.171.0"
INSTALL_TIMEOUT = 900
MARKER = ".nemo-installed"


class CliUnavailable(RuntimeError):
    """npm is missing, or the pinned package could not be installed."""


def cache_root() -> Path:
    env = os.environ.get("NEMO_AGENT_CLI_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "nemo-lsp" / "agent-clis"


def cache_dir(package: str, version: str) -> Path:
    """``@anthropic-ai/claude-code`` 2.1.332 -> ``<root>/anthropic-ai-claude-code-2.1.332``."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", package.lstrip("@"))
    return cache_root() / f"{name}-{version}"


def _is_executable_file(p: Path) -> bool:
    return p.is_file() and os.access(p, os.X_OK)


def _find_claude(prefix: Path) -> Path | None:
    scope = prefix / "node_modules" / "@anthropic-ai"
    main = scope / "claude-code" / "bin" / "claude.exe"
    if _is_executable_file(main) and main.stat().st_size > 1_000_000:  # not the placeholder stub
        return main
    for p in sorted(scope.glob("claude-code-*/claude")):
        if _is_executable_file(p):
            return p
    return None


def _find_codex(prefix: Path) -> Path | None:
    for p in sorted((prefix / "node_modules" / "@openai").glob("codex-*/vendor/*/bin/codex")):
        if _is_executable_file(p):
            return p
    for p in sorted((prefix / "node_modules" / "@openai").glob("codex*/vendor/*/codex/codex")):  # older layout
        if _is_executable_file(p):
            return p
    return None


def install(package: str, version: str, find) -> Path:
    """Install ``package@version`` into its cache folder (once) and return the binary ``find`` locates."""
    prefix = cache_dir(package, version)
    marker = prefix / MARKER
    if marker.exists() and (binary := find(prefix)):
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise CliUnavailable(f"npm is not on PATH; cannot install {package}@{version}")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with open(prefix.parent / f"{prefix.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be installing the same package
        if marker.exists() and (binary := find(prefix)):
            return binary
        shutil.rmtree(prefix, ignore_errors=True)
        prefix.mkdir(parents=True)
        started = time.monotonic()
        try:
            proc = subprocess.run(
                [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error",
                 f"{package}@{version}"],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            shutil.rmtree(prefix, ignore_errors=True)
            raise CliUnavailable(f"npm install {package}@{version} timed out after {INSTALL_TIMEOUT} s") from None
        binary = find(prefix) if proc.returncode == 0 else None
        if binary is not None and version not in _version_of(binary):
            binary = None
        if binary is None:
            shutil.rmtree(prefix, ignore_errors=True)
            tail = (proc.stderr or proc.stdout or "").strip()[-2000:]
            raise CliUnavailable(
                f"npm install {package}@{version} failed (rc {proc.returncode}"
                f"{'' if proc.returncode else ', no working binary of this version in node_modules'}): {tail}"
            )
        marker.write_text(f"{package}@{version} installed in {time.monotonic() - started:.1f} s\n")
        return binary


def _version_of(binary: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="nemo-cli-version-") as home:
        try:
            out = subprocess.run([str(binary), "--version"], stdin=subprocess.DEVNULL, capture_output=True,
                                 text=True, timeout=60, env={"PATH": os.environ.get("PATH", ""), "HOME": home})
        except (OSError, subprocess.TimeoutExpired):
            return ""
    return out.stdout + out.stderr


def claude_binary() -> Path:
    return install(CLAUDE_PACKAGE, CLAUDE_VERSION, _find_claude)


def codex_binary() -> Path:
    return install(CODEX_PACKAGE, CODEX_VERSION, _find_codex)


def installed(package: str, version: str, find) -> Path | None:
    """The cached binary when an earlier install finished, else None (never installs)."""
    prefix = cache_dir(package, version)
    return find(prefix) if (prefix / MARKER).exists() else None


def installed_claude() -> Path | None:
    return installed(CLAUDE_PACKAGE, CLAUDE_VERSION, _find_claude)


def installed_codex() -> Path | None:
    return installed(CODEX_PACKAGE, CODEX_VERSION, _find_codex)
