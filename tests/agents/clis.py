"""The pinned agent CLIs for the tests: installed from npm on first use (nemo_lsp/agents/install.py)."""

from __future__ import annotations

import os

from nemo_lsp.agents.install import (CLAUDE_PACKAGE, CLAUDE_VERSION, CODEX_PACKAGE, CODEX_VERSION, CliUnavailable,
                                     cache_dir, cache_root, claude_binary, codex_binary, install)

__all__ = ["CLAUDE_PACKAGE", "CLAUDE_VERSION", "CODEX_PACKAGE", "CODEX_VERSION", "CliUnavailable", "cache_dir",
           "cache_root", "claude_binary", "codex_binary", "in_ci", "install"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"
