"""Fixtures for driving agents offline: scripted model servers and the pinned agent CLIs.

- ``model_server(routes, **kw)``: a factory; every server it starts is closed after the test.
- ``claude_bin`` / ``codex_bin``: session fixtures, the real binaries of the pinned CLIs, installed
  on first use (tests/agents/clis.py). Skipped when npm is missing or the install fails, except
  with ``CI=true``, where that is a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.agents import clis
from tests.agents.model_server import ScriptedModelServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "agent_cli: runs a real agent CLI (installed from npm) against the scripted server")


def _binary(get: Callable[[], Path]) -> Path:
    try:
        return get()
    except clis.CliUnavailable as e:
        if clis.in_ci():
            pytest.fail(f"agent CLI unavailable in CI: {e}")
        pytest.skip(f"agent CLI unavailable: {e}")


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    return _binary(clis.claude_binary)


@pytest.fixture(scope="session")
def codex_bin() -> Path:
    return _binary(clis.codex_binary)


@pytest.fixture
def model_server() -> Iterator[Callable[..., ScriptedModelServer]]:
    servers: list[ScriptedModelServer] = []

    def start(routes, **kwargs) -> ScriptedModelServer:
        server = ScriptedModelServer(routes, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
