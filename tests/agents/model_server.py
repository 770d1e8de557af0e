"""A scripted model server: real agent CLIs and our own chat loop run offline against canned turns.

Standard library only. One `ThreadingHTTPServer` on 127.0.0.1 (port 0) speaks three wire formats:

- ``POST /v1/messages`` (``?beta=true`` allowed): Anthropic Messages, SSE or JSON.
- ``POST /v1/messages/count_tokens``: ``{"input_tokens": N}``.
- ``POST /v1/chat/completions``: OpenAI Chat Completions, SSE or JSON.
- ``POST /v1/responses``: OpenAI Responses, SSE or JSON.
- ``GET /v1/models``: one model, in a shape both OpenAI and Anthropic clients accept.
- anything else: a logged 404. The same paths without ``/v1`` are accepted too.

HTTP/1.1 with keep-alive; JSON replies carry ``Content-Length``, SSE replies use chunked transfer
encoding. Usage, the same in every API's own field names, so cost recording can be tested:
``input = 100*step + 7``, ``cached = 50*step`` (Anthropic: ``cache_read_input_tokens``, reported
beside ``input_tokens``; OpenAI: ``*_tokens_details.cached_tokens``, counted inside the input),
``output = 20`` (Responses: ``reasoning_tokens = 5`` of them). Side requests: input 5, output 1.

Script
------
    server = ScriptedModelServer([
        Route("hello.py", [tool("Write", file_path="{{WORKSPACE}}/hello.py", content="print(1)\\n"),
                           tool("Bash", command="python3 hello.py", description="run"),
                           text("Done.")]),
    ])

- A route is chosen by a plain substring test against the *opening* of the conversation: the
  system text (Anthropic ``system``, Chat ``system``/``developer`` messages, Responses
  ``instructions``) plus the messages before the first assistant output. For Messages and Chat
  that is the first user message (and the ``role: "system"`` entry Claude Code puts after it).
  For Responses it is every leading message item, because Codex sends its AGENTS.md/environment
  context as a first user item and the real prompt as the next one. First matching route wins;
  ``Route("")`` matches everything.
- The step is stateless, read from the conversation, so retries and parallel runs cannot get the
  server out of sync: Messages/Chat count ``role: "assistant"`` messages; Responses counts
  ``function_call``, ``custom_tool_call`` and assistant ``message`` items, except that a step's own
  extra items (a second call of a ``tools(...)`` step, recognised by the call id this server gave
  it, or a text preamble right before a call) are not counted twice.
- A request without ``tools`` is a side request (title, probe) and gets ``side_text``.
- Past the last step the reply is the script's last ``text`` step, or ``"done"``.
- ``{{WORKSPACE}}`` (alias ``{{WORKDIR}}``) in a step's strings becomes the path found in the
  conversation by ``Your workspace: `PATH```.
- ``tool("custom:apply_patch", input=PATCH)`` is a Responses ``custom_tool_call`` (free text), a
  Chat ``custom`` tool call, and an Anthropic ``tool_use`` with input ``{"input": PATCH}``.
- Faults (server-wide ``fault=``, per route, or per step): ``"401"``, ``"429"`` (``retry-after:
  0``), ``"500"`` and any other status code (error body in the called API's shape), ``"hang"``
  (read the request, answer nothing until the server closes), ``"garbage"`` (200 with a malformed
  body or SSE stream), ``"drop"`` (close the connection without a reply).

Measured with the real CLIs (test_model_server.py's smoke tests, 2026-11-26: Node 20.20.2, npm
11.19.1, as root, no network namespace since the server lives in the pytest process)
------------------------------------------------------------------------------------------------
Install (tests/agents/clis.py): ``npm install --prefix CACHE --no-audit --no-fund PKG@VER``, 4.4-4.9 s
each here, 384 MB (claude) and 424 MB (codex). npm warns ``EBADENGINE`` (claude asks for Node >= 22)
and that claude's postinstall is "not yet covered by allowScripts"; both harmless, the binaries
are in place and print their version.

Claude Code 2.1.332, binary ``node_modules/@anthropic-ai/claude-code/bin/claude.exe`` (hard link of
``@anthropic-ai/claude-code-linux-x64/claude``). Run in the workspace, 0.6-1.0 s, rc 0::

    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=$RUN/home TERM=dumb LANG=C.UTF-8 \
      ANTHROPIC_BASE_URL=http://127.0.0.1:PORT ANTHROPIC_API_KEY=dummy \
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1 DISABLE_TELEMETRY=1 \
      DISABLE_ERROR_REPORTING=1 DISABLE_BUG_COMMAND=1 DISABLE_NON_ESSENTIAL_MODEL_CALLS=1 \
      claude.exe -p PROMPT --output-format stream-json --verbose \
        --permission-mode acceptEdits --allowedTools Write "Bash(python3 *)"  < /dev/null

- No ``IS_SANDBOX`` needed with acceptEdits as root. ``--dangerously-skip-permissions`` as root
  without ``IS_SANDBOX=1``: rc 1, "cannot be used with root/sudo privileges"; with it: works.
- Requests: exactly 3 ``POST /v1/messages?beta=true`` (Write, Bash, final text), ``stream: true``,
  no count_tokens, no models, no side request. Default model ``claude-opus-5-5``, max_tokens 128000,
  ``thinking {type: adaptive, display: updates}``, ``output_config {effort: medium}``.
  ``messages[0]`` is the user turn (a ``<system-reminder>`` text block, then our prompt),
  ``messages[1]`` a ``role: "system"`` environment block.
- Tools offered: Agent, Bash, Edit, ListAgents, Read, ReportFindings, ScheduleWakeup, Skill,
  ToolSearch, Workflow, DeferredToolPlaceholder, Write. Write ``{file_path (absolute), content}``
  (both required, additionalProperties false); Bash ``{command, timeout?, description?, ...}``.
- Tool results: Write -> "File created successfully at: PATH (file state is current ...)",
  Bash -> the stdout ("hello from scripted agent"), ``is_error: false``.
- A Bash command outside ``--allowedTools`` (``touch x && pip --version``) is not run: its tool
  result says "...requires approval: pip --version", ``permission_denials`` lists it, and the run
  still ends ``subtype: success``, rc 0. Read-only commands (``cat hello.py``) pass without a rule.
- stream-json lines, one JSON object each: ``{"type":"system","subtype":"init","cwd":...,
  "session_id":...,"tools":[...],"model":"claude-opus-5-5","permissionMode":"acceptEdits",
  "apiKeySource":"ANTHROPIC_API_KEY","claude_code_version":"2.1.332",...}``; ``{"type":"assistant",
  "message":{"id":"msg_scripted_0",...,"content":[{"type":"tool_use","id":"toolu_s0_0","name":"Write",
  "input":{...}}],"stop_reason":null,"usage":{"input_tokens":7,"output_tokens":1,...}},
  "parent_tool_use_id":null,"session_id":...,"uuid":...}`` (usage as in message_start: output 1);
  ``{"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_s1_0","type":
  "tool_result","content":"hello from scripted agent","is_error":false}]},"tool_use_result":
  {"stdout":...,"stderr":"",...},"tool_result_meta":[...],...}``; last ``{"type":"result",
  "subtype":"success","is_error":false,"num_turns":3,"result":"Created and ran hello.py.",
  "stop_reason":"end_turn","session_id":...,"total_cost_usd":0.0025,"usage":{"input_tokens":321,
  "cache_read_input_tokens":150,"output_tokens":60,...},"modelUsage":{...},"permission_denials":[],
  "terminal_reason":"completed",...}`` (usage summed over message_delta usages).

Codex 0.171.0, binary ``node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/
bin/codex`` (moved into ``bin/`` since the notes; ``rg`` in ``codex-path/``, ``bwrap`` in
``codex-resources/``; the npm wrapper ``bin/codex.js`` only adds ``CODEX_MANAGED_BY_NPM=1``).
``$CODEX_HOME/config.toml`` as in the notes (``model = "gpt-5.5"``). 0.4-0.9 s, rc 0::

    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=$RUN/home CODEX_HOME=$RUN/codex_home \
      TMPDIR=$RUN/tmp SCRIPTED_API_KEY=dummy RUST_LOG=warn TERM=dumb LANG=C.UTF-8 \
      codex exec --json --skip-git-repo-check -s workspace-write \
        --disable plugins --disable remote_plugin --disable apps --disable in_app_updates \
        --disable api_key_model_discovery -C WORKSPACE PROMPT  < /dev/null

- DIFFERS FROM THE NOTES: a CODEX_HOME inside the temp dir (``/tmp``, or whatever TMPDIR says) is
  not harmless. Codex then refuses to create its helper binaries ("could not create PATH
  aliases"), the sandbox launcher among them, so in ``workspace-write`` every tool fails:
  apply_patch -> "Failed to write file ...", exec_command -> "bwrap: execvp codex-linux-sandbox: No
  such file or directory". The run still exits 0 with the scripted final message. Fix: a
  CODEX_HOME outside the temp dir, e.g. ``TMPDIR=$RUN/tmp`` beside ``CODEX_HOME=$RUN/codex_home``.
- Requests: only ``POST /v1/responses``, ``stream: true``, ``accept: text/event-stream``,
  ``authorization: Bearer dummy``, ``originator: codex_exec``, ``accept-encoding: zstd,gzip``.
  Body keys: client_metadata, include, input, model, parallel_tool_calls, prompt_cache_key,
  reasoning {effort: medium}, store false, stream, text {verbosity: low}, tool_choice, tools; no
  ``instructions``: the system prompt is two ``developer`` message items, then a user item
  ``<environment_context>`` (cwd, shell, date, workspace roots), then our prompt as its own user
  item. Outputs come back as ``custom_tool_call_output`` / ``function_call_output`` after all the
  calls of a turn (``fc0, fc1, out0, out1``); our item ids and call ids are kept.
- Tools with ``gpt-5.5``: exec_command, write_stdin, request_user_input, apply_patch (``type:
  custom``, lark grammar), view_image, get_goal, create_goal, update_goal, tool_search,
  web_search. With an unknown model name: no apply_patch, no tool_search, plus multi_agent_v1, and
  a stderr WARN per request plus an ``item.completed`` of type ``error`` about missing metadata.
  exec_command ``{cmd (required), workdir, yield_time_ms, tty, shell, login, max_output_tokens,
  sandbox_permissions, justification, prefix_rule}``.
- Tool results: apply_patch -> "Exit code: 0\nWall time: 0 seconds\nOutput:\nSuccess. Updated the
  following files:\nA hello.py\n"; exec_command -> "Chunk ID: 9ef952\nWall time: 0.0000 seconds\n
  Process exited with code 0\nOriginal token count: 7\nOutput:\nhello from scripted agent\n".
- ``--json`` lines: ``{"type":"thread.started","thread_id":"01a2..."}``, ``{"type":"turn.started"}``,
  ``{"type":"item.started","item":{"id":"item_0","type":"file_change","changes":[{"path":ABS,
  "kind":"add"}],"status":"in_progress"}}``, ``{"type":"item.completed","item":{... "status":
  "completed"}}`` (``"failed"`` when the patch failed), ``{"type":"item.completed","item":{"id":
  "item_1","type":"command_execution","command":"/bin/bash -lc 'python3 hello.py'",
  "aggregated_output":"hello from scripted agent\n","exit_code":0,"status":"completed"}}``,
  ``{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"..."}}``,
  ``{"type":"turn.completed","usage":{"input_tokens":321,"cached_input_tokens":150,
  "cache_write_input_tokens":0,"output_tokens":60,"reasoning_output_tokens":15}}``.
- stderr always says "Reading additional input from stdin..." (even with stdin /dev/null), and
  sometimes ``WARN codex_sandboxing::violation: ... policy_denied path=unknown`` for commands that
  succeed.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WORKSPACE_RE = re.compile(r"Your workspace: `([^`]+)`")
PLACEHOLDERS = ("{{WORKSPACE}}", "{{WORKDIR}}")
FAULTS = ("hang", "garbage", "drop")


# ----------------------------------------------------------------------------------------- script


@dataclass
class Call:
    """One tool call. ``custom`` calls carry free text in ``input`` (Codex's ``apply_patch``)."""

    name: str
    input: Any
    custom: bool = False


@dataclass
class Step:
    """One assistant turn: tool calls and/or text. A step without calls ends the agent's turn.

    ``text`` next to calls is a preamble ("I'll create the file") sent before them.
    ``raw_arguments`` is sent verbatim as every call's arguments (e.g. invalid JSON; in a
    non-streaming Anthropic reply it becomes the ``input`` value, a string instead of an object).
    ``finish_reason`` overrides Chat's ``finish_reason`` / Anthropic's ``stop_reason``.
    ``fault`` makes this step's request fail instead (see the module docstring).
    """

    calls: list[Call] = field(default_factory=list)
    text: str | None = None
    raw_arguments: str | None = None
    finish_reason: str | None = None
    fault: str | None = None


def tool(name: str, /, **input: Any) -> Step:
    """A step with one tool call; ``tool("custom:apply_patch", input=PATCH)`` is a custom call."""
    if name.startswith("custom:"):
        if set(input) != {"input"}:
            raise TypeError("a custom tool call takes exactly one free-text argument: input=...")
        return Step(calls=[Call(name.removeprefix("custom:"), input["input"], custom=True)])
    return Step(calls=[Call(name, dict(input))])


def tools(*calls: Step) -> Step:
    """Several tool calls in one assistant turn: ``tools(tool("A", ...), tool("B", ...))``."""
    return Step(calls=[c for step in calls for c in step.calls])


def text(s: str) -> Step:
    """Final text: ends the turn (``end_turn`` / ``stop``)."""
    return Step(text=s)


@dataclass
class Route:
    match: str
    steps: list[Step]
    fault: str | None = None


# ------------------------------------------------------------------------------ reading requests


def _strings(value: Any, skip: frozenset[str] = frozenset()) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, skip)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in skip:
                yield from _strings(v, skip)


_NOT_TEXT = frozenset(
    {"type", "role", "id", "call_id", "tool_use_id", "tool_call_id", "signature",
     "encrypted_content", "cache_control", "status", "annotations", "phase"}
)


def _flatten(value: Any) -> str:
    return "\n".join(_strings(value, _NOT_TEXT))


def detect_api(path: str) -> str:
    p = path.split("?", 1)[0].rstrip("/")
    if p.startswith("/v1/"):
        p = p[3:]
    return {
        "/messages": "messages",
        "/messages/count_tokens": "count_tokens",
        "/chat/completions": "chat",
        "/responses": "responses",
        "/models": "models",
    }.get(p, "unknown")


def _is_output_item(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    kind = item.get("type", "message")
    return kind in ("function_call", "custom_tool_call") or (
        kind == "message" and item.get("role") == "assistant"
    )


def _responses_items(body: dict) -> list:
    items = body.get("input")
    if isinstance(items, str):
        return [{"type": "message", "role": "user", "content": items}]
    return items if isinstance(items, list) else []


def opening_text(api: str, body: dict) -> str:
    """System text plus the messages before the first assistant output (see module docstring)."""
    parts: list[str] = []
    if api == "messages":
        parts.append(_flatten(body.get("system")))
        messages = body.get("messages") or []
    elif api == "chat":
        messages = body.get("messages") or []
    elif api == "responses":
        parts.append(_flatten(body.get("instructions")))
        messages = _responses_items(body)
    else:
        return ""
    for m in messages:
        if not isinstance(m, dict):
            continue
        if m.get("role") == "assistant" or _is_output_item(m) or m.get("type") not in (None, "message"):
            break
        parts.append(_flatten(m.get("content")))
    return "\n".join(p for p in parts if p)


def conversation_text(api: str, body: dict) -> str:
    if api in ("messages", "count_tokens"):
        return _flatten([body.get("system"), body.get("messages")])
    if api == "chat":
        return _flatten(body.get("messages"))
    if api == "responses":
        return _flatten([body.get("instructions"), body.get("input")])
    return ""


_OUR_CALL_ID = re.compile(r"_s(\d+)_(\d+)$")


def step_index(api: str, body: dict) -> int:
    if api in ("messages", "chat"):
        return sum(
            1 for m in body.get("messages") or [] if isinstance(m, dict) and m.get("role") == "assistant"
        )
    items = _responses_items(body)
    n = 0
    for i, item in enumerate(items):
        if not _is_output_item(item):
            continue
        if item.get("type") in ("function_call", "custom_tool_call"):
            m = _OUR_CALL_ID.search(str(item.get("call_id", "")))
            if m and int(m.group(2)) > 0:
                continue  # the 2nd, 3rd... call of one of our multi-call steps
        elif i + 1 < len(items) and isinstance(items[i + 1], dict) and items[i + 1].get("type") in (
            "function_call", "custom_tool_call"
        ):
            continue  # a text preamble: its step is counted by the call that follows
        n += 1
    return n


def tool_results(api: str, body: dict) -> list[str]:
    """The tool results carried by a request, as text, in order."""
    out: list[str] = []
    if api == "messages":
        for m in body.get("messages") or []:
            content = m.get("content") if isinstance(m, dict) else None
            for block in content if isinstance(content, list) else []:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    out.append(_flatten(block.get("content")))
    elif api == "chat":
        for m in body.get("messages") or []:
            if isinstance(m, dict) and m.get("role") == "tool":
                out.append(_flatten(m.get("content")))
    elif api == "responses":
        for item in _responses_items(body):
            if isinstance(item, dict) and item.get("type") in ("function_call_output", "custom_tool_call_output"):
                out.append(_flatten(item.get("output")))
    return out


def _substitute(value: Any, workspace: str | None) -> Any:
    if isinstance(value, str):
        if workspace is not None:
            for p in PLACEHOLDERS:
                value = value.replace(p, workspace)
        return value
    if isinstance(value, list):
        return [_substitute(v, workspace) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, workspace) for k, v in value.items()}
    return value


# ------------------------------------------------------------------------------------- replies


@dataclass
class Usage:
    input: int
    cached: int
    output: int
    reasoning: int

    @classmethod
    def for_step(cls, step: int | None) -> Usage:
        if step is None:
            return cls(5, 0, 1, 0)
        return cls(100 * step + 7, 50 * step, 20, 5)

    def anthropic(self) -> dict:
        return {"input_tokens": self.input, "output_tokens": self.output,
                "cache_read_input_tokens": self.cached, "cache_creation_input_tokens": 0}

    def chat(self) -> dict:
        return {"prompt_tokens": self.input, "completion_tokens": self.output,
                "total_tokens": self.input + self.output,
                "prompt_tokens_details": {"cached_tokens": self.cached},
                "completion_tokens_details": {"reasoning_tokens": self.reasoning}}

    def responses(self) -> dict:
        return {"input_tokens": self.input, "input_tokens_details": {"cached_tokens": self.cached},
                "output_tokens": self.output, "output_tokens_details": {"reasoning_tokens": self.reasoning},
                "total_tokens": self.input + self.output}


@dataclass
class Reply:
    """What one model request gets: calls and/or text, with ids derived from the step."""

    step: int | None  # None: side request
    calls: list[Call]
    text: str | None
    raw_arguments: str | None = None
    finish_reason: str | None = None

    def call_id(self, prefix: str, k: int) -> str:
        return f"{prefix}_s{self.step or 0}_{k}"

    def arguments(self, call: Call) -> str:
        if self.raw_arguments is not None:
            return self.raw_arguments
        return call.input if call.custom else json.dumps(call.input)

    def anthropic_input(self, call: Call) -> Any:
        return {"input": call.input} if call.custom else call.input

    def summary(self) -> dict:
        s: dict[str, Any] = {"kind": "side" if self.step is None else ("tool_calls" if self.calls else "text")}
        if self.calls:
            s["tools"] = [c.name for c in self.calls]
        if self.text is not None:
            s["text"] = self.text
        return s


def _sse(event: str | None, data: Any) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def anthropic_message(reply: Reply, model: str, usage: Usage) -> dict:
    content: list[dict] = []
    if reply.text is not None:
        content.append({"type": "text", "text": reply.text})
    for k, call in enumerate(reply.calls):
        arguments: Any = reply.anthropic_input(call) if reply.raw_arguments is None else reply.raw_arguments
        content.append({"type": "tool_use", "id": reply.call_id("toolu", k), "name": call.name, "input": arguments})
    return {
        "id": f"msg_scripted_{reply.step}", "type": "message", "role": "assistant", "model": model,
        "content": content,
        "stop_reason": reply.finish_reason or ("tool_use" if reply.calls else "end_turn"),
        "stop_sequence": None, "usage": usage.anthropic(),
    }


def anthropic_events(reply: Reply, model: str, usage: Usage) -> Iterator[bytes]:
    message = anthropic_message(reply, model, usage)
    start = dict(message, content=[], stop_reason=None, usage=dict(usage.anthropic(), output_tokens=1))
    yield _sse("message_start", {"type": "message_start", "message": start})
    for i, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield _sse("content_block_start", {"type": "content_block_start", "index": i,
                                               "content_block": {"type": "text", "text": ""}})
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            yield _sse("content_block_start", {"type": "content_block_start", "index": i,
                                               "content_block": dict(block, input={})})
            partial = block["input"] if isinstance(block["input"], str) else json.dumps(block["input"])
            delta = {"type": "input_json_delta", "partial_json": partial}
        yield _sse("content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta})
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": i})
    yield _sse("message_delta", {"type": "message_delta",
                                 "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                                 "usage": usage.anthropic()})
    yield _sse("message_stop", {"type": "message_stop"})


def _chat_tool_call(reply: Reply, k: int, call: Call) -> dict:
    cid = reply.call_id("call", k)
    if call.custom:
        return {"id": cid, "type": "custom", "custom": {"name": call.name, "input": reply.arguments(call)}}
    return {"id": cid, "type": "function", "function": {"name": call.name, "arguments": reply.arguments(call)}}


def chat_completion(reply: Reply, model: str, usage: Usage) -> dict:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.calls:
        message["tool_calls"] = [_chat_tool_call(reply, k, c) for k, c in enumerate(reply.calls)]
    return {
        "id": f"chatcmpl-scripted-{reply.step}", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": reply.finish_reason or ("tool_calls" if reply.calls else "stop")}],
        "usage": usage.chat(),
    }


def chat_events(reply: Reply, model: str, usage: Usage) -> Iterator[bytes]:
    full = chat_completion(reply, model, usage)
    base = {"id": full["id"], "object": "chat.completion.chunk", "created": full["created"], "model": model}

    def chunk(delta: dict, finish: str | None = None) -> bytes:
        return _sse(None, dict(base, choices=[{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]))

    yield chunk({"role": "assistant", "content": ""})
    if reply.text is not None:
        yield chunk({"content": reply.text})
    for k, tc in enumerate(full["choices"][0]["message"].get("tool_calls", [])):
        if tc["type"] == "custom":
            yield chunk({"tool_calls": [dict(tc, index=k)]})
            continue
        head = dict(tc, index=k, function={"name": tc["function"]["name"], "arguments": ""})
        yield chunk({"tool_calls": [head]})
        yield chunk({"tool_calls": [{"index": k, "function": {"arguments": tc["function"]["arguments"]}}]})
    yield chunk({}, full["choices"][0]["finish_reason"])
    yield _sse(None, dict(base, choices=[], usage=full["usage"]))
    yield _sse(None, "[DONE]")


def responses_items(reply: Reply) -> list[dict]:
    items: list[dict] = []
    if reply.text is not None:
        items.append({"type": "message", "id": f"msg_scripted_{reply.step}", "status": "completed",
                      "role": "assistant",
                      "content": [{"type": "output_text", "text": reply.text, "annotations": []}]})
    for k, call in enumerate(reply.calls):
        cid = reply.call_id("call", k)
        if call.custom:
            items.append({"type": "custom_tool_call", "id": f"ctc_scripted_{reply.step}_{k}", "status": "completed",
                          "call_id": cid, "name": call.name, "input": reply.arguments(call)})
        else:
            items.append({"type": "function_call", "id": f"fc_scripted_{reply.step}_{k}", "status": "completed",
                          "call_id": cid, "name": call.name, "arguments": reply.arguments(call)})
    return items


def responses_object(reply: Reply, model: str, usage: Usage, *, done: bool = True) -> dict:
    return {
        "id": f"resp_scripted_{reply.step}", "object": "response", "created_at": int(time.time()),
        "status": "completed" if done else "in_progress", "model": model,
        "output": responses_items(reply) if done else [], "usage": usage.responses() if done else None,
        "error": None, "incomplete_details": None, "parallel_tool_calls": True, "tool_choice": "auto",
        "tools": [],
    }


def responses_events(reply: Reply, model: str, usage: Usage) -> Iterator[bytes]:
    seq = iter(range(1_000_000))

    def ev(kind: str, **data: Any) -> bytes:
        return _sse(kind, {"type": kind, "sequence_number": next(seq), **data})

    yield ev("response.created", response=responses_object(reply, model, usage, done=False))
    yield ev("response.in_progress", response=responses_object(reply, model, usage, done=False))
    for i, item in enumerate(responses_items(reply)):
        iid = item["id"]
        if item["type"] == "message":
            text_ = item["content"][0]["text"]
            yield ev("response.output_item.added", output_index=i,
                     item=dict(item, status="in_progress", content=[]))
            part = {"type": "output_text", "text": "", "annotations": []}
            yield ev("response.content_part.added", item_id=iid, output_index=i, content_index=0, part=part)
            yield ev("response.output_text.delta", item_id=iid, output_index=i, content_index=0, delta=text_)
            yield ev("response.output_text.done", item_id=iid, output_index=i, content_index=0, text=text_)
            yield ev("response.content_part.done", item_id=iid, output_index=i, content_index=0,
                     part=dict(part, text=text_))
        elif item["type"] == "function_call":
            yield ev("response.output_item.added", output_index=i,
                     item=dict(item, status="in_progress", arguments=""))
            yield ev("response.function_call_arguments.delta", item_id=iid, output_index=i,
                     delta=item["arguments"])
            yield ev("response.function_call_arguments.done", item_id=iid, output_index=i,
                     arguments=item["arguments"])
        else:
            yield ev("response.output_item.added", output_index=i, item=dict(item, status="in_progress", input=""))
            yield ev("response.custom_tool_call_input.delta", item_id=iid, output_index=i, delta=item["input"])
            yield ev("response.custom_tool_call_input.done", item_id=iid, output_index=i, input=item["input"])
        yield ev("response.output_item.done", output_index=i, item=item)
    yield ev("response.completed", response=responses_object(reply, model, usage))


def error_body(api: str, status: int) -> dict:
    anthropic = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
                 429: "rate_limit_error", 529: "overloaded_error"}
    openai = {401: ("invalid_request_error", "invalid_api_key"), 403: ("invalid_request_error", None),
              404: ("invalid_request_error", "model_not_found"), 429: ("requests", "rate_limit_exceeded")}
    message = {401: "invalid x-api-key (scripted fault)" if api in ("messages", "count_tokens")
               else "Incorrect API key provided (scripted fault)",
               429: "rate limit reached (scripted fault)"}.get(status, f"scripted fault {status}")
    if api in ("messages", "count_tokens"):
        kind = anthropic.get(status, "api_error" if status >= 500 else "invalid_request_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    kind, code = openai.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


# -------------------------------------------------------------------------------------- server


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: ScriptedModelServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # many small SSE writes
        self.server.owner._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_GET(self) -> None:
        self.server.owner._handle(self)

    def do_POST(self) -> None:
        self.server.owner._handle(self)

    do_PUT = do_DELETE = do_HEAD = do_PATCH = do_POST

    # -- writing
    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def send_stream(self, chunks: Iterable[bytes]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for c in chunks:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "").lower()
        if encoding == "gzip":
            data = gzip.decompress(data)
        elif encoding == "deflate":
            data = zlib.decompress(data)
        return data


class ScriptedModelServer:
    """See the module docstring. Starts at construction; use as a context manager or call close()."""

    def __init__(self, routes: list[Route] | list[Step], *, side_text: str = "ok", fault: str | None = None):
        if routes and all(isinstance(r, Step) for r in routes):
            routes = [Route("", list(routes))]  # type: ignore[arg-type]
        self.routes: list[Route] = list(routes)  # type: ignore[arg-type]
        self.side_text = side_text
        self.fault = fault
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._closing = threading.Event()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.port: int = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01},
                                        name=f"scripted-model-server:{self.port}", daemon=True)
        self._thread.start()

    # -- lifecycle
    def __enter__(self) -> ScriptedModelServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and drop every connection, hanging ones included; returns promptly."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._httpd.shutdown()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)
        if add and self._closing.is_set():
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- inspection
    def request_text(self, i: int) -> str:
        """All text of request i's conversation (system, messages, tool calls and results), flattened."""
        r = self.requests[i]
        return conversation_text(r["api"], r["body"] if isinstance(r["body"], dict) else {})

    def tool_results(self, i: int) -> list[str]:
        r = self.requests[i]
        return tool_results(r["api"], r["body"] if isinstance(r["body"], dict) else {})

    def model_requests(self) -> list[dict]:
        """The logged requests to messages/chat/responses, in arrival order."""
        return [r for r in self.requests if r["api"] in ("messages", "chat", "responses")]

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.requests

    # -- handling
    def _handle(self, h: _Handler) -> None:
        started = time.monotonic()
        entry: dict[str, Any] = {
            "method": h.command, "path": h.path, "headers": {k.lower(): v for k, v in h.headers.items()},
            "body": None, "api": detect_api(h.path), "route": None, "step": None, "reply": None,
        }
        try:
            raw = h.read_body()
            try:
                entry["body"] = json.loads(raw) if raw else None
            except ValueError:
                entry["body"] = raw.decode("utf-8", "replace")
            with self._lock:
                self.requests.append(entry)
            self._respond(h, entry)
        except (BrokenPipeError, ConnectionResetError, OSError) as e:
            entry.setdefault("error", repr(e))
            h.close_connection = True
        finally:
            entry["ms"] = round((time.monotonic() - started) * 1000, 1)

    def _respond(self, h: _Handler, entry: dict) -> None:
        api, body = entry["api"], entry["body"]
        known = (api == "models" and h.command == "GET") or (api not in ("models", "unknown") and h.command == "POST")
        if not known:
            entry["reply"] = {"kind": "404"}
            h.send_json(404, error_body(api, 404) if api != "unknown" else {"error": "not found", "path": h.path})
            return
        body = body if isinstance(body, dict) else {}
        stream = bool(body.get("stream"))
        fault = self.fault
        route: Route | None = None
        if api in ("messages", "chat", "responses", "count_tokens"):
            opening = opening_text(api, body)
            for idx, r in enumerate(self.routes):
                if r.match in opening:
                    route, entry["route"] = r, idx
                    break
            fault = fault or (route.fault if route else None)
        reply: Reply | None = None
        if api in ("messages", "chat", "responses"):
            reply, step_fault = self._choose(api, body, route)
            entry["step"] = reply.step
            fault = fault or step_fault
        if fault:
            entry["reply"] = {"kind": "fault", "fault": fault}
            self._fault(h, api, fault, stream)
            return
        if api == "models":
            entry["reply"] = {"kind": "models"}
            h.send_json(200, {"object": "list", "has_more": False, "first_id": "scripted-model",
                              "last_id": "scripted-model",
                              "data": [{"id": "scripted-model", "object": "model", "type": "model",
                                        "display_name": "Scripted model", "created": 0,
                                        "created_at": "2026-01-01T00:00:00Z", "owned_by": "scripted"}]})
            return
        if api == "count_tokens":
            entry["reply"] = {"kind": "count_tokens"}
            h.send_json(200, {"input_tokens": max(1, len(json.dumps(body)) // 4)})
            return
        assert reply is not None
        if route is None and reply.step is not None:
            entry["reply"] = {"kind": "no_route"}
            h.send_json(400, error_body(api, 400) | {"scripted": "no route matches this conversation"})
            return
        entry["reply"] = reply.summary()
        usage = Usage.for_step(reply.step)
        model = str(body.get("model") or "scripted-model")
        if api == "messages":
            if stream:
                h.send_stream(anthropic_events(reply, model, usage))
            else:
                h.send_json(200, anthropic_message(reply, model, usage))
        elif api == "chat":
            if stream:
                h.send_stream(chat_events(reply, model, usage))
            else:
                h.send_json(200, chat_completion(reply, model, usage))
        elif stream:
            h.send_stream(responses_events(reply, model, usage))
        else:
            h.send_json(200, responses_object(reply, model, usage))

    def _choose(self, api: str, body: dict, route: Route | None) -> tuple[Reply, str | None]:
        if not body.get("tools"):
            return Reply(None, [], self.side_text), None
        n = step_index(api, body)
        if route is None:
            return Reply(n, [], None), None
        workspace = None
        m = WORKSPACE_RE.search(opening_text(api, body)) or WORKSPACE_RE.search(conversation_text(api, body))
        if m:
            workspace = m.group(1)
        if n < len(route.steps):
            s = route.steps[n]
            calls = [Call(c.name, _substitute(c.input, workspace), c.custom) for c in s.calls]
            return (Reply(n, calls, _substitute(s.text, workspace), s.raw_arguments, s.finish_reason), s.fault)
        finals = [s.text for s in route.steps if not s.calls and s.text is not None]
        return Reply(n, [], _substitute(finals[-1], workspace) if finals else "done"), None

    def _fault(self, h: _Handler, api: str, fault: str, stream: bool) -> None:
        h.close_connection = True
        if fault == "hang":
            self._closing.wait()
            return
        if fault == "drop":
            return
        if fault == "garbage":
            if stream:
                h.send_stream([b"event: message_start\ndata: {\"type\": \"message_st\n\n",
                               b"data: this is not json\n\n", b"data: {\"truncated\": [1, 2,\n\n"])
            else:
                h.send_json(200, b'{"id": "garbage", "choices": [{"message": {"content": "unterminated')
            return
        if not fault.isdigit():
            raise ValueError(f"unknown fault {fault!r}; use a status code or one of {FAULTS}")
        status = int(fault)
        headers = {"retry-after": "0", "retry-after-ms": "0"} if status == 429 else {}
        if api in ("messages", "count_tokens"):
            headers["request-id"] = "req_scripted_fault"
        h.send_json(status, error_body(api, status), headers)
