"""The built-in `chat` agent against the scripted model server (the only stand-in: the remote model).

Loop details drive ChatAgent.generate directly on a task built the way engine/generate.run_agent
builds it; end-to-end behaviours go through nemo_lsp.engine.run on the prose-only furniture example.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from nemo_lsp import jsonio
from nemo_lsp.agents import AgentResult, AgentTask, workspace
from nemo_lsp.agents.chat import ChatAgent
from nemo_lsp.analysis import analyze
from nemo_lsp.engine import Report, run
from nemo_lsp.engine.layout import Layout
from tests.agents import support
from tests.agents.model_server import Call, Route, Step, text, tool

OPTIMIZER = "furniture.optimizer.py"
MODULE = "def solve(data):\n    return {'status': 'optimal', 'objective': 0.0, 'decisions': {}}\n"


# --- helpers -----------------------------------------------------------------------------------

def task_for(tmp_path: Path, role: str = "optimizer", progress: list[str] | None = None) -> AgentTask:
    """A task as engine/generate.run_agent builds it: a prepared workspace and the rendered prompt."""
    spec = support.furniture(tmp_path)
    analysis = analyze(spec.read_text(encoding="utf-8"))
    layout = Layout(spec)
    layout.root.mkdir(parents=True)
    layout.data.write_text(jsonio.dumps(analysis.data_json(), True, sort_keys=True, separators=(",", ":")),
                           encoding="utf-8")
    target = layout.module("optimizer" if role == "repair" else role)
    work = layout.work / role
    workspace.prepare(work, analysis, spec_name=spec.name, data_file=layout.data, stem=layout.name)
    prompt = workspace.render_prompt(role, analysis, workspace=work, target=target.name, spec_name=spec.name)
    return AgentTask(role, spec, analysis, work, target.name, layout.data, prompt=prompt,
                     progress=None if progress is None else progress.append)


def chat(server: Any, **options: Any) -> ChatAgent:
    return ChatAgent().with_options({"base_url": server.url + "/v1", "timeout": 20, "api_key_env": "NEMO_TEST_KEY",
                                     **options})


def generate(agent: ChatAgent, task: AgentTask) -> AgentResult:
    return asyncio.run(agent.generate(task))


def raw(name: str, arguments: str, **kw: Any) -> Step:
    """A tool call whose arguments are sent verbatim (possibly not JSON)."""
    return Step(calls=[Call(name, {})], raw_arguments=arguments, **kw)


def write(content: str = MODULE, path: str = OPTIMIZER) -> Step:
    return tool("write_file", path=path, content=content)


def finish() -> Step:
    return tool("finish", summary="done")


def solve(spec: Path, url: str, **options: Any) -> Report:
    return asyncio.run(run(spec, overrides={"agent": "chat", "agent_options": {
        "base_url": url, "timeout": 20, "api_key_env": "NEMO_TEST_KEY", **options}}))


def codes(report: Report) -> list[str]:
    return [f.code for f in report.findings]


def only(report: Report, code: str):
    found = [f for f in report.findings if f.code == code]
    assert found, f"no {code} in {[(f.code, f.message) for f in report.findings]}"
    return found[0]


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- the loop ----------------------------------------------------------------------------------

def test_the_model_writes_the_module_with_write_file_and_finishes(tmp_path, model_server) -> None:
    server = model_server([write(), finish()])
    task = task_for(tmp_path)
    result = generate(chat(server), task)
    assert result.findings == ()
    assert (task.workspace / OPTIMIZER).read_text(encoding="utf-8") == MODULE
    assert result.details["turns"] == 2 and result.details["tool_calls"] == 2
    assert workspace.inspect(task.workspace, OPTIMIZER, "optimizer").problems == ()


def test_the_first_request_carries_the_rendered_prompt_and_the_four_tools(tmp_path, model_server) -> None:
    server = model_server([write(), finish()])
    task = task_for(tmp_path)
    generate(chat(server, model="scripted-model"), task)
    body = server.model_requests()[0]["body"]
    assert body["model"] == "scripted-model" and body["stream"] is False
    assert body["messages"][1] == {"role": "user", "content": task.prompt}
    assert f"Your workspace: `{task.workspace}`" in server.request_text(0)
    assert [t["function"]["name"] for t in body["tools"]] == ["write_file", "read_file", "run_python", "finish"]


def test_run_python_runs_in_the_sandbox_and_its_output_reaches_the_next_request(tmp_path, model_server) -> None:
    server = model_server([write("import os\nprint('hello from the sandbox', 6 * 7, os.getcwd())\n", "probe.py"),
                           tool("run_python", file="probe.py"), finish()])
    task = task_for(tmp_path)
    generate(chat(server), task)
    assert server.tool_results(2)[-1] == f"exit code 0\nhello from the sandbox 42 {task.workspace}\n"


def test_run_python_reports_a_failing_script_to_the_model(tmp_path, model_server) -> None:
    server = model_server([write("raise SystemExit('no good')\n", "probe.py"), tool("run_python", file="probe.py"),
                           finish()])
    generate(chat(server), task_for(tmp_path))
    assert server.tool_results(2)[-1] == "exit code 1\nno good\n"


def test_run_python_can_run_the_harness_on_the_module(tmp_path, model_server) -> None:
    server = model_server([write(support.canned("optimizer.py")),
                           tool("run_python", file="nemo_harness.py",
                                args=["optimize", OPTIMIZER, "data.json", "result.json"]),
                           finish()])
    task = task_for(tmp_path)
    generate(chat(server), task)
    assert server.tool_results(2)[-1].startswith("exit code 0")
    result = json.loads((task.workspace / "result.json").read_text(encoding="utf-8"))
    assert result["status"] == "optimal" and result["objective"] == pytest.approx(2200)


def test_read_file_returns_the_file_to_the_model(tmp_path, model_server) -> None:
    server = model_server([tool("read_file", path="CONTRACT.md"), write(), finish()])
    generate(chat(server), task_for(tmp_path))
    assert server.tool_results(1)[0].startswith("# The contract your module must meet")


@pytest.mark.parametrize("arguments", [
    '{"path": "furniture.optimizer.py", "content": "def solve(data):\\n    return {}\\n",}',
    '```json\n{"path": "furniture.optimizer.py", "content": "def solve(data):\\n    return {}\\n"}\n```',
    '{"path": "furniture.optimizer.py", "content": "def solve(data):\\n    return {}\\n"',
], ids=["trailing comma", "code fence", "missing brace"])
def test_fixable_damage_to_tool_call_arguments_is_repaired(tmp_path, model_server, arguments: str) -> None:
    server = model_server([raw("write_file", arguments), finish()])
    task = task_for(tmp_path)
    result = generate(chat(server), task)
    assert result.findings == ()
    assert (task.workspace / OPTIMIZER).read_text(encoding="utf-8") == "def solve(data):\n    return {}\n"
    assert server.tool_results(1) == [f"wrote 31 characters to {OPTIMIZER}"]


def test_hopeless_arguments_are_answered_with_an_error_the_model_sees_and_the_session_goes_on(
        tmp_path, model_server) -> None:
    server = model_server([raw("write_file", "path=furniture.optimizer.py content=oops"), write(), finish()])
    task = task_for(tmp_path)
    result = generate(chat(server), task)
    (reply,) = server.tool_results(1)
    assert reply.startswith("error: the arguments are not valid JSON") and "send them again" in reply
    assert result.findings == () and (task.workspace / OPTIMIZER).read_text(encoding="utf-8") == MODULE


def test_arguments_that_are_json_but_not_an_object_are_refused(tmp_path, model_server) -> None:
    server = model_server([raw("write_file", '["furniture.optimizer.py", "x"]'), write(), finish()])
    generate(chat(server), task_for(tmp_path))
    assert server.tool_results(1) == ["error: the arguments must be one JSON object"]


def test_tool_calls_sent_with_finish_reason_stop_are_still_executed(tmp_path, model_server) -> None:
    server = model_server([Step(calls=write().calls, finish_reason="stop"), finish()])
    task = task_for(tmp_path)
    generate(chat(server), task)
    assert server.model_requests()[0]["reply"]["kind"] == "tool_calls"
    assert (task.workspace / OPTIMIZER).read_text(encoding="utf-8") == MODULE


def test_a_reply_without_tool_calls_ends_the_session(tmp_path, model_server) -> None:
    server = model_server([write(), text("All done, the module is written.")])
    task = task_for(tmp_path)
    result = generate(chat(server), task)
    assert result.findings == () and result.details["turns"] == 2
    assert len(server.model_requests()) == 2
    assert "assistant: All done, the module is written." in result.transcript


def test_an_unknown_tool_is_answered_with_the_list_of_tools(tmp_path, model_server) -> None:
    server = model_server([tool("Bash", command="rm -rf /"), write(), finish()])
    generate(chat(server), task_for(tmp_path))
    assert server.tool_results(1) == ["error: unknown tool `Bash`; use write_file, read_file, run_python or finish"]


def test_writing_to_a_folder_is_an_error_for_the_model_not_the_end_of_the_session(tmp_path, model_server) -> None:
    server = model_server([write(path="."), write(), finish()])
    task = task_for(tmp_path)
    result = generate(chat(server), task)
    (reply,) = server.tool_results(1)
    assert reply.startswith("error: cannot write '.'")
    assert result.findings == () and (task.workspace / OPTIMIZER).is_file()


@pytest.mark.parametrize("where", ["../escape.py", "ABSOLUTE"])
def test_a_write_outside_the_workspace_is_refused_and_recorded(tmp_path, model_server, where: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = str(elsewhere / "escape.py") if where == "ABSOLUTE" else where
    server = model_server([write("x = 1\n", path), write(), finish()])
    task = task_for(tmp_path)
    result = generate(chat(server), task)
    escaped = (elsewhere / "escape.py") if where == "ABSOLUTE" else (task.workspace.parent / "escape.py")
    assert not escaped.exists()
    assert result.details["outside"] == [str(escaped.resolve())]
    (reply,) = server.tool_results(1)
    assert reply.startswith(f"error: {path!r} is outside the workspace")
    assert (task.workspace / OPTIMIZER).read_text(encoding="utf-8") == MODULE  # the session went on


def test_a_symlink_the_model_planted_does_not_carry_writes_out_of_the_workspace(tmp_path, model_server) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    plant = f"import os\nos.symlink({str(elsewhere)!r}, 'out')\n"
    server = model_server([write(plant, "plant.py"), tool("run_python", file="plant.py"),
                           write("stolen = True\n", "out/stolen.py"), write(), finish()])
    task = task_for(tmp_path)
    result = generate(chat(server), task)
    assert not (elsewhere / "stolen.py").exists()
    assert result.details["outside"] == [str((elsewhere / "stolen.py").resolve())]


def test_usage_tokens_are_summed_over_the_turns(tmp_path, model_server) -> None:
    server = model_server([write(), tool("read_file", path=OPTIMIZER), finish()])
    result = generate(chat(server), task_for(tmp_path))
    # the server reports input 100*step + 7 and output 20 per turn
    assert result.usage == {"input_tokens": 7 + 107 + 207, "output_tokens": 60}


def test_progress_names_the_turn_and_the_tool(tmp_path, model_server) -> None:
    said: list[str] = []
    server = model_server([write(), finish()])
    generate(chat(server), task_for(tmp_path, progress=said))
    assert said == ["chat: turn 1, write_file", "chat: turn 2, finish"]


def test_the_key_is_sent_as_a_bearer_token_from_the_named_variable(tmp_path, model_server, monkeypatch) -> None:
    monkeypatch.setenv("NEMO_TEST_KEY", "sk-scripted")
    server = model_server([write(), finish()])
    generate(chat(server), task_for(tmp_path))
    assert server.model_requests()[0]["headers"]["authorization"] == "Bearer sk-scripted"


def test_running_out_of_turns_is_nemo510(tmp_path, model_server) -> None:
    server = model_server([tool("read_file", path="CONTRACT.md")] * 5)
    result = generate(chat(server, max_turns=3), task_for(tmp_path))
    assert [f.code for f in result.findings] == ["NEMO510"]
    assert len(server.model_requests()) == 3 and result.details["turns"] == 3


# --- through the engine ------------------------------------------------------------------------

def test_the_chat_agent_writes_both_modules_and_the_answer_validates(tmp_path, model_server) -> None:
    server = model_server(support.chat_routes())
    report = solve(support.furniture(tmp_path), server.url + "/v1")
    assert report.outcome == "validated", [(f.code, f.message) for f in report.findings]
    assert report.solution is not None and report.solution.objective == pytest.approx(2200)
    assert report.usage["optimizer"] == {"input_tokens": 321, "output_tokens": 60, "turns": 3, "tool_calls": 3}
    assert report.usage["simulator"] == {"input_tokens": 114, "output_tokens": 40, "turns": 2, "tool_calls": 2}


def test_a_write_outside_is_a_nemo509_warning_and_the_module_is_still_used(tmp_path, model_server) -> None:
    routes = support.chat_routes()
    routes[1] = Route(support.OPTIMIZER_PROMPT, [write("x = 1\n", "../../../../stolen.py"),
                                                 write(support.canned("optimizer.py")), finish()])
    server = model_server(routes)
    report = solve(support.furniture(tmp_path), server.url + "/v1")
    assert report.outcome == "validated"
    warning = only(report, "NEMO509")
    assert str(tmp_path / "stolen.py") in warning.message
    assert not (tmp_path / "stolen.py").exists()


def test_a_rejected_key_is_nemo505_naming_the_key_variable(tmp_path, model_server) -> None:
    server = model_server(support.chat_routes(), fault="401")
    report = solve(support.furniture(tmp_path), server.url + "/v1")
    assert report.outcome == "not_run" and codes(report) == ["NEMO505"]
    assert "check `NEMO_TEST_KEY`" in only(report, "NEMO505").message
    assert len(server.model_requests()) == 1  # no retries of a rejected key, no simulator session
    assert not (tmp_path / OPTIMIZER).exists()


def test_a_rate_limit_is_nemo506(tmp_path, model_server) -> None:
    server = model_server(support.chat_routes(), fault="429")
    report = solve(support.furniture(tmp_path), server.url + "/v1")
    assert report.outcome == "not_run" and codes(report) == ["NEMO506"]


def test_a_model_server_that_never_answers_is_nemo507_at_the_deadline(tmp_path, model_server) -> None:
    server = model_server(support.chat_routes(), fault="hang")
    started = time.monotonic()
    report = solve(support.furniture(tmp_path), server.url + "/v1", timeout=2)
    elapsed = time.monotonic() - started
    assert report.outcome == "not_run" and codes(report) == ["NEMO507"]
    assert "within 2 s" in only(report, "NEMO507").message
    assert elapsed < 8


def test_a_closed_port_is_nemo511(tmp_path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    report = solve(support.furniture(tmp_path), url)
    assert report.outcome == "not_run" and codes(report) == ["NEMO511"]
    assert url in only(report, "NEMO511").message


def test_a_reply_that_is_not_json_is_nemo508(tmp_path, model_server) -> None:
    server = model_server(support.chat_routes(), fault="garbage")
    report = solve(support.furniture(tmp_path), server.url + "/v1")
    assert codes(report) == ["NEMO508"]


def test_a_session_that_ends_without_writing_the_module_is_nemo203(tmp_path, model_server) -> None:
    server = model_server([Route(support.OPTIMIZER_PROMPT, [text("I would rather not.")])])
    report = solve(support.furniture(tmp_path), server.url + "/v1")
    assert report.outcome == "not_run" and codes(report) == ["NEMO203"]
    assert f"{OPTIMIZER} was not written" in only(report, "NEMO203").message


def test_running_out_of_turns_through_the_engine_is_nemo510_not_nemo203(tmp_path, model_server) -> None:
    server = model_server([Route(support.OPTIMIZER_PROMPT, [tool("read_file", path="CONTRACT.md")] * 5)])
    report = solve(support.furniture(tmp_path), server.url + "/v1", max_turns=2)
    assert codes(report) == ["NEMO510"]
