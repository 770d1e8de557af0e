"""The simulator gate and the falsification probe through a real agent CLI (Claude Code) and `nemo solve`.

The model is the scripted server on 127.0.0.1; the CLI from npm writes the files. Its first
simulator forgets the labour limit and fails the spec's check (a simulator repair session fixes
it); its first optimizer caps production at 12 of each, which validates but is not optimal (the
probe finds a better neighbour and an optimizer repair session fixes it).
"""

from __future__ import annotations

import pytest

from tests.agents import support
from tests.agents.model_server import Route, text
from tests.agents.test_real_agents import front, solve

pytestmark = pytest.mark.agent_cli

from tests.agents.support import CAPPED, CHECK, JUDGE, NO_LABOUR, RIGHT  # noqa: E402
SIMULATOR_REPAIR_PROMPT = "it got some of them wrong"


def routes() -> list[Route]:
    write = support.claude_write
    return [
        Route(SIMULATOR_REPAIR_PROMPT, [write("furniture.simulator.py", JUDGE), text("Added the labour limit.")]),
        Route(support.REPAIR_PROMPT, [write("furniture.optimizer.py", RIGHT), text("Removed the invented cap.")]),
        Route(support.OPTIMIZER_PROMPT, [write("furniture.optimizer.py", CAPPED), text("Wrote the optimizer.")]),
        Route(support.SIMULATOR_PROMPT, [write("furniture.simulator.py", NO_LABOUR), text("Wrote the simulator.")]),
    ]


def test_claude_code_simulator_is_gated_and_its_suboptimal_optimizer_falsified(tmp_path, model_server, claude_bin):
    server = model_server(routes())
    spec = support.furniture(tmp_path, front("claude-code", server.url, claude_bin) + CHECK)
    rc, report = solve(spec)
    assert rc == 0 and report["outcome"] == "validated", report["findings"]
    assert report["objective"] == pytest.approx(2200)
    assert report["gate"]["summary"] == "1/1 checks"
    assert [r["outcome"] for r in report["gate"]["repairs"]] == ["repaired"]
    (repair,) = report["repairs"]
    assert repair["evidence"]["better_neighbour"]["objective"] > 1500
    prompts = [server.request_text(i) for i in range(len(server.requests))]
    assert any("`too much labour`" in p for p in prompts if SIMULATOR_REPAIR_PROMPT in p)
    assert any("falsification probe moved" in p for p in prompts if support.REPAIR_PROMPT in p)
