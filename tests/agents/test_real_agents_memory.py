"""Memory through a real agent CLI (Claude Code): a run validated in one project is shown, as an
example, to the agent writing the same kind of problem in another project that shares the folder."""

from __future__ import annotations

import pytest

from tests.agents import support
from tests.agents.test_real_agents import front, solve

pytestmark = pytest.mark.agent_cli


def test_claude_code_is_shown_a_validated_run_from_a_shared_memory(tmp_path, model_server, claude_bin):
    server = model_server(support.claude_routes())
    shared = tmp_path / "shared-memory"
    first = support.furniture(_folder(tmp_path / "project-a"), front("claude-code", server.url, claude_bin))
    code, report = solve(first, "--memory", str(shared))
    assert code == 0 and report["outcome"] == "validated", report["findings"]
    assert report["memory"]["saved"], report["memory"]
    asked_before = len(server.requests)

    second = support.furniture(_folder(tmp_path / "project-b"), front("claude-code", server.url, claude_bin))
    code, report = solve(second, "--memory", str(shared))
    assert code == 0 and report["outcome"] == "validated", report["findings"]
    prompts = [server.request_text(i) for i in range(asked_before, len(server.requests))]
    optimizer_prompt = next(p for p in prompts if support.OPTIMIZER_PROMPT in p)
    assert "--- memory entry " in optimizer_prompt and "m.labour = pyo.Constraint(" in optimizer_prompt
    assert report["memory"]["used"]["optimizer"], report["memory"]


def _folder(path):
    path.mkdir(parents=True)
    return path
