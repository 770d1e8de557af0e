"""The real agent CLIs (Claude Code, Codex) and the built-in chat loop, driven by `nemo solve`.

The model behind each agent is the scripted server on 127.0.0.1; everything else is real: the
CLI installed from npm, its tools writing files in the workspace, the sandbox running the
modules, HiGHS solving, the simulator judging.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agents import support
from tests.agents.model_server import Route, text, tool

pytestmark = pytest.mark.agent_cli


def solve(spec: Path, *extra: str, env: dict[str, str] | None = None, timeout: float = 240) -> tuple[int, dict]:
    run = subprocess.run([sys.executable, "-m", "nemo_lsp.cli", "solve", spec.name, "--json", *extra],
                         cwd=spec.parent, capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "NEMO_TEST_KEY": "dummy", **(env or {})})
    assert "Traceback" not in run.stderr, run.stderr
    return run.returncode, json.loads(run.stdout)


def front(agent: str, url: str, command: Path | None, timeout: float = 60) -> str:
    lines = [f"agent: {agent}", "agent_options:", f"  base_url: {url}", "  api_key_env: NEMO_TEST_KEY",
             f"  timeout: {timeout}"]
    if command is not None:
        lines.append(f"  command: {command}")
    return "\n".join(lines) + "\n"


def codes(report: dict) -> list[str]:
    return [f["code"] for f in report["findings"]]


# --- Claude Code --------------------------------------------------------------------------------

def test_claude_code_writes_modules_that_validate(tmp_path, model_server, claude_bin):
    server = model_server(support.claude_routes())
    spec = support.furniture(tmp_path, front("claude-code", server.url, claude_bin))
    rc, report = solve(spec)
    assert rc == 0, report["findings"]
    assert report["outcome"] == "validated"
    assert report["objective"] == pytest.approx(2200)
    assert report["generated"] == {"optimizer": "generated", "simulator": "generated"}
    assert (tmp_path / "furniture.optimizer.py").read_text() == support.canned("optimizer.py")


def test_claude_code_session_records_cost_tokens_and_turns(tmp_path, model_server, claude_bin):
    server = model_server(support.claude_routes())
    spec = support.furniture(tmp_path, front("claude-code", server.url, claude_bin))
    _, report = solve(spec)
    usage = report["usage"]["optimizer"]
    assert usage["turns"] == 3 and usage["tool_calls"] == 2
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0 and usage["cost_usd"] > 0


def test_claude_code_ran_the_harness_in_its_workspace(tmp_path, model_server, claude_bin):
    server = model_server(support.claude_routes())
    spec = support.furniture(tmp_path, front("claude-code", server.url, claude_bin))
    solve(spec)
    results = [r for i in range(len(server.requests)) for r in server.tool_results(i)]
    assert any("Traceback" not in r and "result.json" not in r for r in results)
    assert (tmp_path / ".nemo" / "furniture" / "work" / "optimizer" / "result.json").is_file()


def test_claude_code_repairs_a_wrong_constraint_sense_with_the_simulators_evidence(tmp_path, model_server,
                                                                                  claude_bin):
    server = model_server(support.claude_routes(optimizer="optimizer_wrong_sense.py"))
    spec = support.furniture(tmp_path, front("claude-code", server.url, claude_bin))
    rc, report = solve(spec)
    assert rc == 0 and report["outcome"] == "validated", report["findings"]
    assert report["objective"] == pytest.approx(2200)
    assert [r["outcome"] for r in report["repairs"]] == ["repaired"]
    repair = [i for i in range(len(server.requests)) if support.REPAIR_PROMPT in server.request_text(i)]
    assert repair, "no repair session reached the model"
    prompt = server.request_text(repair[0])
    assert "`labour` is violated by 350" in prompt
    assert "800" in prompt and "450" in prompt
    assert "At most 400 board-feet of wood and 450 hours of labour" in prompt


def test_claude_code_missing_binary_is_nemo504(tmp_path, model_server):
    server = model_server(support.claude_routes())
    spec = support.furniture(tmp_path, front("claude-code", server.url, tmp_path / "no-such-claude"))
    rc, report = solve(spec)
    assert rc == 1 and "NEMO504" in codes(report)
    assert report["outcome"] == "not_run"


def test_claude_code_rejected_key_is_nemo505(tmp_path, model_server, claude_bin):
    server = model_server(support.claude_routes(), fault="401")
    spec = support.furniture(tmp_path, front("claude-code", server.url, claude_bin))
    rc, report = solve(spec)
    assert rc == 1 and "NEMO505" in codes(report), report["findings"]
    message = next(f["message"] for f in report["findings"] if f["code"] == "NEMO505")
    assert "NEMO_TEST_KEY" in message


def test_claude_code_silent_model_server_is_a_timeout(tmp_path, model_server, claude_bin):
    server = model_server(support.claude_routes(), fault="hang")
    spec = support.furniture(tmp_path, front("claude-code", server.url, claude_bin, timeout=5))
    rc, report = solve(spec)
    assert rc == 1 and "NEMO507" in codes(report), report["findings"]


def test_claude_code_cannot_write_outside_its_workspace(tmp_path, model_server, claude_bin):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    routes = [Route(support.OPTIMIZER_PROMPT, [
        tool("Write", file_path=str(outside / "stolen.py"), content="x = 1\n"),
        support.claude_write("furniture.optimizer.py", support.canned("optimizer.py")),
        text("done")])] + support.claude_routes()
    server = model_server(routes)
    spec = support.furniture(tmp_path, front("claude-code", server.url, claude_bin))
    rc, report = solve(spec)
    assert not (outside / "stolen.py").exists()
    assert "NEMO509" in codes(report), report["findings"]
    assert report["outcome"] == "validated"


# --- Codex ----------------------------------------------------------------------------------------

def test_codex_writes_modules_that_validate(tmp_path, model_server, codex_bin):
    server = model_server(support.codex_routes())
    spec = support.furniture(tmp_path, front("codex", server.url + "/v1", codex_bin))
    rc, report = solve(spec)
    assert rc == 0 and report["outcome"] == "validated", report["findings"]
    assert report["objective"] == pytest.approx(2200)
    assert report["usage"]["optimizer"]["input_tokens"] > 0


def test_codex_repairs_a_wrong_constraint_sense(tmp_path, model_server, codex_bin):
    server = model_server(support.codex_routes(optimizer="optimizer_wrong_sense.py"))
    spec = support.furniture(tmp_path, front("codex", server.url + "/v1", codex_bin))
    rc, report = solve(spec)
    assert rc == 0 and report["outcome"] == "validated", report["findings"]
    assert [r["outcome"] for r in report["repairs"]] == ["repaired"]
    assert any("`labour` is violated by 350" in server.request_text(i) for i in range(len(server.requests)))


def test_codex_rejected_key_is_nemo505(tmp_path, model_server, codex_bin):
    server = model_server(support.codex_routes(), fault="401")
    spec = support.furniture(tmp_path, front("codex", server.url + "/v1", codex_bin))
    rc, report = solve(spec)
    assert rc == 1 and "NEMO505" in codes(report), report["findings"]


# --- chat (the built-in loop) ---------------------------------------------------------------------

def test_chat_agent_writes_modules_that_validate(tmp_path, model_server):
    server = model_server(support.chat_routes())
    spec = support.furniture(tmp_path, front("chat", server.url + "/v1", None))
    rc, report = solve(spec)
    assert rc == 0 and report["outcome"] == "validated", report["findings"]
    assert report["objective"] == pytest.approx(2200)


def test_chat_agent_repairs_a_wrong_constraint_sense(tmp_path, model_server):
    server = model_server(support.chat_routes(optimizer="optimizer_wrong_sense.py"))
    spec = support.furniture(tmp_path, front("chat", server.url + "/v1", None))
    rc, report = solve(spec)
    assert rc == 0 and report["outcome"] == "validated", report["findings"]
    assert any("`labour` is violated by 350" in server.request_text(i) for i in range(len(server.requests)))


# --- OpenHands (the SDK in its own Python >= 3.12 venv, as a worker) -----------------------------

@pytest.fixture(scope="session")
def openhands_ready() -> None:
    from nemo_lsp.agents import openhands_env

    ready, why = openhands_env.status()
    if ready:
        return
    if os.environ.get("NEMO_TEST_OPENHANDS") != "1":
        pytest.skip(f"OpenHands venv not installed ({why}); `nemo agents install openhands` or "
                    "NEMO_TEST_OPENHANDS=1 installs it")
    if openhands_env.find_python() is None:
        pytest.skip(f"OpenHands cannot be installed here: {why}")
    openhands_env.ensure_venv()


def test_openhands_writes_modules_that_validate(tmp_path, model_server, openhands_ready):
    server = model_server(support.openhands_routes())
    spec = support.furniture(tmp_path, front("openhands", server.url + "/v1", None, timeout=180))
    rc, report = solve(spec)
    assert rc == 0 and report["outcome"] == "validated", report["findings"]
    assert report["objective"] == pytest.approx(2200)
    assert report["usage"]["optimizer"]["input_tokens"] > 0


def test_openhands_repairs_a_wrong_constraint_sense(tmp_path, model_server, openhands_ready):
    server = model_server(support.openhands_routes(optimizer="optimizer_wrong_sense.py"))
    spec = support.furniture(tmp_path, front("openhands", server.url + "/v1", None, timeout=180))
    rc, report = solve(spec)
    assert rc == 0 and report["outcome"] == "validated", report["findings"]
    assert any("`labour` is violated by 350" in server.request_text(i) for i in range(len(server.requests)))


def test_openhands_rejected_key_is_nemo505(tmp_path, model_server, openhands_ready):
    server = model_server(support.openhands_routes(), fault="401")
    spec = support.furniture(tmp_path, front("openhands", server.url + "/v1", None, timeout=180))
    rc, report = solve(spec)
    assert rc == 1 and "NEMO505" in codes(report), report["findings"]


# --- confinement (bubblewrap around the agent's program) -----------------------------------------

needs_bwrap = pytest.mark.skipif(not __import__("nemo_lsp.agents.confine", fromlist=["x"]).bwrap_path(),
                                 reason="bubblewrap is not usable here: agents run with their tools' own limits")


@needs_bwrap
def test_the_simulators_author_cannot_read_the_optimizer_beside_the_spec(tmp_path, model_server, claude_bin):
    peek = ("python3 -c \"import glob; print('SEEN:', glob.glob('" + str(tmp_path) + "/*.py'), "
            "open('" + str(tmp_path / "furniture.optimizer.py") + "').read()[:40])\"")
    routes = [Route(support.SIMULATOR_PROMPT, [tool("Bash", command=peek, description="look around"),
                                               support.claude_write("furniture.simulator.py",
                                                                    support.canned("simulator.py")),
                                               text("done")])] + support.claude_routes()
    server = model_server(routes)
    spec = support.furniture(tmp_path, front("claude-code", server.url, claude_bin))
    rc, report = solve(spec)
    assert rc == 0, report["findings"]
    results = "\n".join(r for i in range(len(server.requests)) for r in server.tool_results(i))
    assert "No such file or directory" in results
    assert "import pyomo" not in results and "build_model" not in results


@needs_bwrap
def test_python_run_by_the_agent_cannot_write_outside_its_workspace(tmp_path, model_server, claude_bin):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    write = f"python3 -c \"open('{outside / 'planted.py'}', 'w').write('x = 1')\""
    routes = [Route(support.OPTIMIZER_PROMPT, [tool("Bash", command=write, description="plant a file"),
                                               support.claude_write("furniture.optimizer.py",
                                                                    support.canned("optimizer.py")),
                                               text("done")])] + support.claude_routes()
    server = model_server(routes)
    spec = support.furniture(tmp_path, front("claude-code", server.url, claude_bin))
    rc, report = solve(spec)
    assert rc == 0, report["findings"]
    assert not (outside / "planted.py").exists()
