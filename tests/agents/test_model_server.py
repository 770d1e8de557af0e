"""The scripted model server: what each wire format looks like, how a reply is chosen, and faults.

The last tests drive the real Claude Code and Codex CLIs (pinned, installed from npm on first use)
against it, offline, and check side effects: the file the agent wrote and the command output it
sent back as a tool result.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.agents.model_server import Route, ScriptedModelServer, Step, text, tool, tools

ANTHROPIC_HEADERS = {"x-api-key": "dummy", "anthropic-version": "2023-06-01"}
OPENAI_HEADERS = {"authorization": "Bearer dummy"}
TOOL_DEFS = {
    "messages": [{"name": "Write", "input_schema": {"type": "object"}}],
    "chat": [{"type": "function", "function": {"name": "Write", "parameters": {"type": "object"}}}],
    "responses": [{"type": "function", "name": "Write", "parameters": {"type": "object"}}],
}
PATHS = {"messages": "/v1/messages?beta=true", "chat": "/v1/chat/completions", "responses": "/v1/responses"}
SCRIPT = [
    Route("task A", [tool("Write", file_path="{{WORKSPACE}}/a.py", content="print('a')\n"),
                     tool("Bash", command="python3 a.py"), text("A done.")]),
    Route("task B", [text("B done.")]),
]


# ------------------------------------------------------------------------------------- helpers


def post(server: ScriptedModelServer, path: str, body: dict, headers: dict | None = None,
         conn: http.client.HTTPConnection | None = None) -> tuple[int, dict, bytes]:
    c = conn or http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    c.request("POST", path, body=json.dumps(body), headers={"content-type": "application/json", **(headers or {})})
    r = c.getresponse()
    data = r.read()
    if conn is None:
        c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def sse(data: bytes) -> list[tuple[str | None, object]]:
    """(event, parsed data) pairs of an SSE body; `[DONE]` stays a string."""
    events = []
    for block in data.decode().split("\n\n"):
        if not block.strip():
            continue
        event, payload = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: "):
                payload.append(line[len("data: "):])
        joined = "\n".join(payload)
        events.append((event, joined if joined == "[DONE]" else json.loads(joined)))
    return events


def conversation(api: str, first_user: str, turns: int = 0, system: str | None = None) -> dict:
    """A request body for `api` whose history holds `turns` completed tool-call turns."""
    if api == "responses":
        items: list[dict] = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": first_user}]}]
        for k in range(turns):
            items += [{"type": "function_call", "call_id": f"c{k}", "name": "Write", "arguments": "{}"},
                      {"type": "function_call_output", "call_id": f"c{k}", "output": f"result {k}"}]
        body = {"model": "m", "input": items, "tools": TOOL_DEFS[api]}
        if system:
            body["instructions"] = system
        return body
    messages: list[dict] = [{"role": "user", "content": first_user}]
    for k in range(turns):
        if api == "messages":
            messages += [{"role": "assistant", "content": [{"type": "tool_use", "id": f"t{k}", "name": "Write", "input": {}}]},
                         {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{k}", "content": f"result {k}"}]}]
        else:
            messages += [{"role": "assistant", "content": None,
                          "tool_calls": [{"id": f"c{k}", "type": "function", "function": {"name": "Write", "arguments": "{}"}}]},
                         {"role": "tool", "tool_call_id": f"c{k}", "content": f"result {k}"}]
    body: dict = {"model": "m", "max_tokens": 100, "messages": messages, "tools": TOOL_DEFS[api]}
    if system and api == "messages":
        body["system"] = system
    elif system:
        messages.insert(0, {"role": "system", "content": system})
    return body


def reply_of(api: str, data: bytes) -> dict:
    """The reply of a non-streaming request, reduced to {"tools": [(name, args)], "text": str|None}."""
    d = json.loads(data)
    if api == "messages":
        return {"tools": [(b["name"], b["input"]) for b in d["content"] if b["type"] == "tool_use"],
                "text": next((b["text"] for b in d["content"] if b["type"] == "text"), None)}
    if api == "chat":
        m = d["choices"][0]["message"]
        return {"tools": [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in m.get("tool_calls", [])],
                "text": m["content"]}
    return {"tools": [(i["name"], json.loads(i["arguments"])) for i in d["output"] if i["type"] == "function_call"],
            "text": next((i["content"][0]["text"] for i in d["output"] if i["type"] == "message"), None)}


def ask(server: ScriptedModelServer, api: str, body: dict) -> dict:
    status, _, data = post(server, PATHS[api], body, ANTHROPIC_HEADERS if api == "messages" else OPENAI_HEADERS)
    assert status == 200, data
    return reply_of(api, data)


# ----------------------------------------------------------------------------- choosing replies


@pytest.mark.parametrize("api", ["messages", "chat", "responses"])
def test_the_route_is_chosen_by_a_substring_of_the_first_user_message(model_server, api):
    server = model_server(SCRIPT)
    assert ask(server, api, conversation(api, "Do task B please"))["text"] == "B done."
    assert ask(server, api, conversation(api, "Your workspace: `/w`\nDo task A"))["tools"][0][0] == "Write"
    assert [r["route"] for r in server.requests] == [1, 0]


def test_later_user_messages_do_not_change_the_route(model_server):
    server = model_server(SCRIPT)
    body = conversation("messages", "Do task B", turns=1)
    body["messages"][-1]["content"].append({"type": "text", "text": "now task A"})
    ask(server, "messages", body)
    assert server.requests[0]["route"] == 1


@pytest.mark.parametrize("api", ["messages", "chat", "responses"])
def test_the_system_text_takes_part_in_route_matching(model_server, api):
    server = model_server([Route("SYSTEM-MARK", [text("from system")]), Route("", [text("fallback")])])
    assert ask(server, api, conversation(api, "hi", system="You are SYSTEM-MARK."))["text"] == "from system"
    assert ask(server, api, conversation(api, "hi"))["text"] == "fallback"


def test_the_first_matching_route_wins_and_an_empty_match_matches_everything(model_server):
    server = model_server([Route("", [text("catch-all")]), Route("task B", [text("B done.")])])
    assert ask(server, "chat", conversation("chat", "task B"))["text"] == "catch-all"


def test_a_conversation_no_route_matches_gets_a_400_that_names_the_problem(model_server):
    server = model_server([Route("task A", [text("A")])])
    status, _, data = post(server, PATHS["chat"], conversation("chat", "something else"))
    assert status == 400 and "no route" in data.decode()


@pytest.mark.parametrize("api", ["messages", "chat", "responses"])
def test_the_step_is_the_number_of_assistant_turns_in_the_history(model_server, api):
    server = model_server(SCRIPT)
    replies = [ask(server, api, conversation(api, "Your workspace: `/w`\nDo task A", turns=k)) for k in (0, 1, 2, 3, 1)]
    assert [r["tools"][0][0] if r["tools"] else r["text"] for r in replies] == ["Write", "Bash", "A done.", "A done.", "Bash"]
    assert [r["step"] for r in server.requests] == [0, 1, 2, 3, 1]


def test_past_the_last_step_without_a_text_step_the_reply_is_done(model_server):
    server = model_server([Route("", [tool("Write", file_path="x")])])
    assert ask(server, "chat", conversation("chat", "go", turns=1))["text"] == "done"


def test_claude_codes_system_message_inside_messages_is_tolerated(model_server):
    server = model_server(SCRIPT)
    body = conversation("messages", "Your workspace: `/w`\nDo task A", turns=1)
    body["messages"].insert(1, {"role": "system", "content": [{"type": "text", "text": "# Environment"}]})
    assert ask(server, "messages", body)["tools"][0][0] == "Bash"


def test_responses_counts_one_step_for_a_multi_call_turn_and_its_text_preamble(model_server):
    two = tools(tool("Write", path="a"), tool("Write", path="b"))
    two.text = "Writing both files."
    server = model_server([Route("", [two, text("both written")])])
    status, _, data = post(server, PATHS["responses"], conversation("responses", "go"))
    output = json.loads(data)["output"]
    assert [i["type"] for i in output] == ["message", "function_call", "function_call"]
    body = conversation("responses", "go")
    for item in output:
        body["input"].append(item)
    for item in output[1:]:
        body["input"].append({"type": "function_call_output", "call_id": item["call_id"], "output": "ok"})
    assert ask(server, "responses", body)["text"] == "both written"


def test_a_custom_tool_call_counts_as_a_responses_step(model_server):
    server = model_server([Route("", [tool("custom:apply_patch", input="*** Begin Patch"), text("patched")])])
    body = conversation("responses", "go")
    body["input"] += [{"type": "custom_tool_call", "call_id": "x", "name": "apply_patch", "input": "p"},
                      {"type": "custom_tool_call_output", "call_id": "x", "output": "ok"}]
    assert ask(server, "responses", body)["text"] == "patched"


@pytest.mark.parametrize("api", ["messages", "chat", "responses"])
def test_a_request_without_tools_is_a_side_request_and_gets_side_text(model_server, api):
    server = model_server(SCRIPT, side_text="A title")
    body = conversation(api, "Do task A", turns=2)
    del body["tools"]
    assert ask(server, api, body) == {"tools": [], "text": "A title"}
    assert server.requests[0]["reply"]["kind"] == "side"


def test_workspace_placeholders_are_filled_from_the_conversation(model_server):
    server = model_server([Route("", [tool("Edit", path="{{WORKSPACE}}/m.py", nested={"cwd": ["{{WORKDIR}}"]}),
                                      tool("custom:apply_patch", input="*** Add File: {{WORKSPACE}}/x\n")])])
    body = conversation("responses", "Your workspace: `/srv/ws 1`\nBuild the model.")
    assert ask(server, "responses", body)["tools"] == [("Edit", {"path": "/srv/ws 1/m.py", "nested": {"cwd": ["/srv/ws 1"]}})]
    body["input"] += [{"type": "function_call", "call_id": "x", "name": "Edit", "arguments": "{}"}]
    _, _, data = post(server, PATHS["responses"], body)
    assert json.loads(data)["output"][0]["input"] == "*** Add File: /srv/ws 1/x\n"


# ------------------------------------------------------------------------------ wire formats


def test_anthropic_streaming_is_chunked_sse_with_one_json_delta_per_tool_block(model_server):
    server = model_server(SCRIPT)
    status, headers, data = post(server, PATHS["messages"], {**conversation("messages", "Your workspace: `/w` task A"), "stream": True})
    assert status == 200 and headers["transfer-encoding"] == "chunked"
    assert headers["content-type"].startswith("text/event-stream")
    events = sse(data)
    assert [e for e, _ in events] == ["message_start", "content_block_start", "content_block_delta",
                                      "content_block_stop", "message_delta", "message_stop"]
    assert all(d["type"] == e for e, d in events)
    start, block, delta = events[0][1], events[1][1], events[2][1]
    assert start["message"]["role"] == "assistant" and start["message"]["content"] == []
    assert block["content_block"]["type"] == "tool_use" and block["content_block"]["name"] == "Write"
    assert json.loads(delta["delta"]["partial_json"]) == {"file_path": "/w/a.py", "content": "print('a')\n"}
    assert events[4][1]["delta"]["stop_reason"] == "tool_use"
    assert events[4][1]["usage"] == {"input_tokens": 7, "output_tokens": 20, "cache_read_input_tokens": 0,
                                     "cache_creation_input_tokens": 0}


def test_anthropic_final_text_streams_as_a_text_delta_and_ends_the_turn(model_server):
    server = model_server(SCRIPT)
    _, _, data = post(server, PATHS["messages"], {**conversation("messages", "task B"), "stream": True})
    events = sse(data)
    assert events[2][1]["delta"] == {"type": "text_delta", "text": "B done."}
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"


def test_anthropic_non_streaming_reply_is_a_message_with_usage(model_server):
    server = model_server(SCRIPT)
    status, headers, data = post(server, PATHS["messages"], conversation("messages", "task A", turns=1))
    d = json.loads(data)
    assert int(headers["content-length"]) == len(data)
    assert d["type"] == "message" and d["stop_reason"] == "tool_use"
    assert d["content"][0]["type"] == "tool_use" and d["content"][0]["input"] == {"command": "python3 a.py"}
    assert d["usage"]["input_tokens"] == 107 and d["usage"]["cache_read_input_tokens"] == 50


def test_chat_streaming_sends_indexed_tool_calls_a_finish_reason_a_usage_chunk_and_done(model_server):
    server = model_server([Route("", [tools(tool("Write", path="a"), tool("Bash", command="ls"))])])
    _, headers, data = post(server, PATHS["chat"], {**conversation("chat", "go"), "stream": True})
    assert headers["transfer-encoding"] == "chunked"
    events = sse(data)
    assert events[-1] == (None, "[DONE]")
    chunks = [d for _, d in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    calls: dict[int, dict] = {}
    for c in chunks:
        for choice in c["choices"]:
            for tc in choice["delta"].get("tool_calls", []):
                slot = calls.setdefault(tc["index"], {"name": "", "arguments": ""})
                slot["name"] += tc.get("function", {}).get("name", "")
                slot["arguments"] += tc.get("function", {}).get("arguments", "")
    assert calls == {0: {"name": "Write", "arguments": '{"path": "a"}'}, 1: {"name": "Bash", "arguments": '{"command": "ls"}'}}
    assert [ch["finish_reason"] for c in chunks for ch in c["choices"] if ch["finish_reason"]] == ["tool_calls"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 7


def test_chat_non_streaming_reply_carries_tool_calls_with_json_string_arguments(model_server):
    server = model_server(SCRIPT)
    _, _, data = post(server, PATHS["chat"], conversation("chat", "Your workspace: `/w` task A"))
    d = json.loads(data)
    choice = d["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["type"] == "function" and call["id"] and call["function"]["name"] == "Write"
    assert json.loads(call["function"]["arguments"]) == {"file_path": "/w/a.py", "content": "print('a')\n"}
    assert d["usage"] == {"prompt_tokens": 7, "completion_tokens": 20, "total_tokens": 27,
                          "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 5}}
    _, _, data = post(server, PATHS["chat"], conversation("chat", "task B"))
    assert json.loads(data)["choices"][0]["finish_reason"] == "stop"


def test_responses_streaming_sends_item_events_and_a_completed_response_with_usage(model_server):
    server = model_server([Route("", [tools(tool("exec_command", cmd="ls"), tool("custom:apply_patch", input="PATCH")),
                                      text("All done.")])])
    _, _, data = post(server, PATHS["responses"], {**conversation("responses", "go"), "stream": True})
    events = sse(data)
    assert all(d["type"] == e for e, d in events)
    names = [e for e, _ in events]
    assert names[0] == "response.created" and names[-1] == "response.completed"
    assert names.count("response.output_item.added") == names.count("response.output_item.done") == 2
    done = [d["item"] for e, d in events if e == "response.output_item.done"]
    assert done[0]["type"] == "function_call" and json.loads(done[0]["arguments"]) == {"cmd": "ls"}
    assert done[1]["type"] == "custom_tool_call" and done[1]["input"] == "PATCH"
    assert done[0]["call_id"] != done[1]["call_id"]
    completed = events[-1][1]["response"]
    assert completed["id"] and completed["status"] == "completed"
    assert completed["usage"] == {"input_tokens": 7, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 20,
                                  "output_tokens_details": {"reasoning_tokens": 5}, "total_tokens": 27}

    body = {**conversation("responses", "go"), "stream": True}
    body["input"] += [dict(item) for item in done]
    _, _, data = post(server, PATHS["responses"], body)
    events = sse(data)
    assert [d["delta"] for e, d in events if e == "response.output_text.delta"] == ["All done."]
    assert events[-1][1]["response"]["usage"]["input_tokens"] == 107


def test_responses_non_streaming_reply_is_a_response_object(model_server):
    server = model_server(SCRIPT)
    _, _, data = post(server, PATHS["responses"], conversation("responses", "task B"))
    d = json.loads(data)
    assert d["object"] == "response" and d["status"] == "completed"
    assert d["output"][0]["content"][0] == {"type": "output_text", "text": "B done.", "annotations": []}


def test_raw_arguments_and_finish_reason_override_what_is_sent(model_server):
    quirky = Step(calls=tool("Write", path="a").calls, raw_arguments='{"path": "a"', finish_reason="stop")
    server = model_server([Route("", [quirky])])
    _, _, data = post(server, PATHS["chat"], conversation("chat", "go"))
    choice = json.loads(data)["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["tool_calls"][0]["function"]["arguments"] == '{"path": "a"'
    _, _, data = post(server, PATHS["messages"], {**conversation("messages", "go"), "stream": True})
    assert [d["delta"]["partial_json"] for e, d in sse(data) if e == "content_block_delta"] == ['{"path": "a"']


def test_keep_alive_serves_several_requests_on_one_connection(model_server):
    server = model_server(SCRIPT)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for stream in (True, False, True):
        status, _, _ = post(server, PATHS["messages"], {**conversation("messages", "task B"), "stream": stream}, conn=conn)
        assert status == 200
    conn.close()
    assert len(server.requests) == 3


def test_count_tokens_models_and_unknown_paths(model_server):
    server = model_server(SCRIPT)
    status, _, data = post(server, "/v1/messages/count_tokens", conversation("messages", "task A"))
    assert status == 200 and json.loads(data)["input_tokens"] > 0
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/v1/models")
    assert json.loads(conn.getresponse().read())["data"][0]["id"] == "scripted-model"
    conn.request("GET", "/v1/nope")
    assert conn.getresponse().status == 404
    conn.close()
    assert [r["api"] for r in server.requests] == ["count_tokens", "models", "unknown"]
    assert server.requests[-1]["reply"] == {"kind": "404"}


def test_paths_without_the_v1_prefix_work_too(model_server):
    server = model_server(SCRIPT)
    status, _, data = post(server, "/chat/completions", conversation("chat", "task B"))
    assert status == 200 and reply_of("chat", data)["text"] == "B done."


def test_every_request_is_logged_with_headers_body_route_step_and_reply(model_server):
    server = model_server(SCRIPT)
    post(server, PATHS["messages"], conversation("messages", "task A", turns=1), {"X-Api-Key": "k1"})
    r = server.requests[0]
    assert r["method"] == "POST" and r["path"] == "/v1/messages?beta=true" and r["api"] == "messages"
    assert r["headers"]["x-api-key"] == "k1"
    assert r["body"]["messages"][0]["content"] == "task A"
    assert (r["route"], r["step"]) == (0, 1)
    assert r["reply"] == {"kind": "tool_calls", "tools": ["Bash"]}


@pytest.mark.parametrize("api", ["messages", "chat", "responses"])
def test_request_text_flattens_the_conversation_including_tool_results(model_server, api):
    server = model_server(SCRIPT)
    post(server, PATHS[api], conversation(api, "Fix violation V-17 in task A", turns=2, system="SYS"))
    flat = server.request_text(0)
    for piece in ("SYS", "Fix violation V-17", "result 0", "result 1"):
        assert piece in flat
    assert server.tool_results(0) == ["result 0", "result 1"]


# -------------------------------------------------------------------------------------- faults


@pytest.mark.parametrize(("api", "error_type"), [("messages", "authentication_error"), ("chat", "invalid_request_error"),
                                                 ("responses", "invalid_request_error")])
def test_fault_401_answers_with_an_auth_error_in_the_apis_own_shape(model_server, api, error_type):
    server = model_server(SCRIPT, fault="401")
    status, _, data = post(server, PATHS[api], conversation(api, "task A"))
    d = json.loads(data)
    assert status == 401
    if api == "messages":
        assert d["type"] == "error" and d["error"]["type"] == error_type
    else:
        assert d["error"]["type"] == error_type and d["error"]["code"] == "invalid_api_key"


def test_fault_429_says_retry_after_zero(model_server):
    server = model_server(SCRIPT, fault="429")
    status, headers, data = post(server, PATHS["chat"], conversation("chat", "task A"))
    assert status == 429 and headers["retry-after"] == "0"
    assert json.loads(data)["error"]["code"] == "rate_limit_exceeded"


def test_fault_500_and_a_route_fault_leaves_other_routes_alone(model_server):
    server = model_server([Route("broken", [text("never")], fault="500"), Route("", [text("fine")])])
    status, _, data = post(server, PATHS["messages"], conversation("messages", "the broken task"))
    assert status == 500 and json.loads(data)["error"]["type"] == "api_error"
    assert ask(server, "messages", conversation("messages", "other task"))["text"] == "fine"
    assert server.requests[0]["reply"] == {"kind": "fault", "fault": "500"}


def test_a_step_fault_fails_only_that_step(model_server):
    server = model_server([Route("", [tool("Write", path="a"), Step(text="never", fault="503")])])
    assert ask(server, "chat", conversation("chat", "go"))["tools"]
    status, _, _ = post(server, PATHS["chat"], conversation("chat", "go", turns=1))
    assert status == 503


@pytest.mark.parametrize("stream", [True, False])
def test_fault_garbage_is_a_200_whose_body_does_not_parse(model_server, stream):
    server = model_server(SCRIPT, fault="garbage")
    status, _, data = post(server, PATHS["messages"], {**conversation("messages", "task A"), "stream": stream})
    assert status == 200
    with pytest.raises(ValueError):
        sse(data) if stream else json.loads(data)


def test_fault_hang_never_answers_and_closing_the_server_returns_promptly():
    server = ScriptedModelServer(SCRIPT, fault="hang")
    outcome: dict = {}

    def client() -> None:
        try:
            outcome["status"] = post(server, PATHS["responses"], {**conversation("responses", "task A"), "stream": True})[0]
        except (http.client.HTTPException, OSError) as e:
            outcome["error"] = e

    t = threading.Thread(target=client)
    t.start()
    server.wait_for_requests(1)
    idle = socket.create_connection(("127.0.0.1", server.port))  # an idle keep-alive connection too
    t.join(0.3)
    assert t.is_alive(), "a hanging request must not be answered"
    started = time.monotonic()
    server.close()
    assert time.monotonic() - started < 2
    t.join(5)
    assert not t.is_alive() and "error" in outcome
    assert server.requests[0]["reply"] == {"kind": "fault", "fault": "hang"}
    idle.close()


def test_fault_drop_closes_the_connection_without_a_reply(model_server):
    server = model_server(SCRIPT, fault="drop")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        post(server, PATHS["chat"], conversation("chat", "task A"))


# ---------------------------------------------------------------------------- the real CLIs

HELLO = "print('hello from scripted agent')\n"
PROMPT = "Your workspace: `{ws}`\nCreate hello.py that prints a greeting and run it."
CLI_TIMEOUT = 60
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "TERM": "dumb", "LANG": "C.UTF-8"}


def run_cli(argv: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float, list[dict]]:
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=CLI_TIMEOUT)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc, time.monotonic() - started, lines


@pytest.mark.agent_cli
def test_claude_code_writes_and_runs_hello_py_against_the_scripted_server(claude_bin, model_server, tmp_path):
    ws, home = tmp_path / "ws", tmp_path / "home"
    ws.mkdir(), home.mkdir()
    server = model_server([Route("Create hello.py", [
        tool("Write", file_path="{{WORKSPACE}}/hello.py", content=HELLO),
        tool("Bash", command="python3 hello.py", description="Run hello.py"),
        text("Created and ran hello.py."),
    ])])
    env = {**BASE_ENV, "HOME": str(home), "ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "dummy",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1",
           "DISABLE_ERROR_REPORTING": "1", "DISABLE_BUG_COMMAND": "1", "DISABLE_NON_ESSENTIAL_MODEL_CALLS": "1"}
    argv = [str(claude_bin), "-p", PROMPT.format(ws=ws), "--output-format", "stream-json", "--verbose",
            "--permission-mode", "acceptEdits", "--allowedTools", "Write", "Bash(python3 *)"]
    proc, _, lines = run_cli(argv, cwd=ws, env=env)

    assert proc.returncode == 0, proc.stderr
    assert (ws / "hello.py").read_text() == HELLO
    calls = server.model_requests()
    assert [r["path"] for r in calls] == ["/v1/messages?beta=true"] * 3
    assert [r["step"] for r in calls] == [0, 1, 2]
    assert server.tool_results(2)[-1].strip() == "hello from scripted agent"
    assert [line["type"] for line in lines] == ["system", "assistant", "user", "assistant", "user", "assistant", "result"]
    result = lines[-1]
    assert result["subtype"] == "success" and result["result"] == "Created and ran hello.py."
    assert result["usage"]["input_tokens"] == 7 + 107 + 207 and result["permission_denials"] == []


CODEX_CONFIG = """\
model = "gpt-5.5"
model_provider = "scripted"
approval_policy = "never"
check_for_update_on_startup = false
[model_providers.scripted]
name = "Scripted local"
base_url = "{url}/v1"
wire_api = "responses"
env_key = "SCRIPTED_API_KEY"
stream_max_retries = 0
request_max_retries = 0
[analytics]
enabled = false
[feedback]
enabled = false
"""


@pytest.mark.agent_cli
def test_codex_exec_patches_and_runs_hello_py_against_the_scripted_server(codex_bin, model_server, tmp_path):
    ws, home, codex_home, tmp = (tmp_path / n for n in ("ws", "home", "codex_home", "tmp"))
    for d in (ws, home, codex_home, tmp):
        d.mkdir()
    server = model_server([Route("Create hello.py", [
        tool("custom:apply_patch", input="*** Begin Patch\n*** Add File: hello.py\n+" + HELLO + "*** End Patch\n"),
        tool("exec_command", cmd="python3 hello.py", workdir="{{WORKSPACE}}"),
        text("Created and ran hello.py."),
    ])])
    (codex_home / "config.toml").write_text(CODEX_CONFIG.format(url=server.url))
    # TMPDIR must not contain CODEX_HOME: codex refuses to create its helper binaries (the sandbox
    # launcher among them) under the temp dir, and then every sandboxed tool call fails.
    env = {**BASE_ENV, "HOME": str(home), "CODEX_HOME": str(codex_home), "TMPDIR": str(tmp),
           "SCRIPTED_API_KEY": "dummy", "RUST_LOG": "warn"}
    argv = [str(codex_bin), "exec", "--json", "--skip-git-repo-check", "-s", "workspace-write",
            "--disable", "plugins", "--disable", "remote_plugin", "--disable", "apps", "--disable", "in_app_updates",
            "--disable", "api_key_model_discovery", "-C", str(ws), PROMPT.format(ws=ws)]
    proc, _, lines = run_cli(argv, cwd=ws, env=env)

    assert proc.returncode == 0, proc.stderr
    assert (ws / "hello.py").read_text() == HELLO
    calls = server.model_requests()
    assert [r["path"] for r in calls] == ["/v1/responses"] * 3
    assert [r["step"] for r in calls] == [0, 1, 2]
    assert calls[0]["headers"]["authorization"] == "Bearer dummy"
    assert "hello from scripted agent" in server.tool_results(2)[-1]
    items = [line["item"] for line in lines if line["type"] == "item.completed"]
    assert [(i["type"], i.get("status")) for i in items] == [
        ("file_change", "completed"), ("command_execution", "completed"), ("agent_message", None)]
    assert items[1]["exit_code"] == 0 and items[1]["aggregated_output"] == "hello from scripted agent\n"
    assert lines[-1] == {"type": "turn.completed", "usage": {
        "input_tokens": 321, "cached_input_tokens": 150, "cache_write_input_tokens": 0, "output_tokens": 60,
        "reasoning_output_tokens": 15}}
