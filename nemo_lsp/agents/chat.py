"""`chat`: a built-in agent loop over any OpenAI-compatible `/v1/chat/completions` endpoint.

The model gets four tools: write a file, read a file, run a Python file in the sandbox, finish.
Files are confined to the workspace (paths that escape it are refused and reported). Real
servers are sloppy, so tool-call arguments that are not valid JSON are repaired when possible
and otherwise returned to the model as an error, and tool calls sent with `finish_reason: stop`
are still executed. Defaults to a local Ollama server.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import __version__
from ..analysis import Analysis
from ..findings import Finding
from ..resources import templates_hash
from ..sandbox import Limits, clean_env, get_sandbox
from .base import AgentResult, AgentTask
from .cli import PROMPT_TEMPLATES
from .failures import Failure, to_finding
from .options import AgentOptions, from_environment
from .session import Session

SYSTEM = ("You are a careful optimization engineer working in a sandboxed folder. Use the tools to write files "
          "and run Python; call `finish` when the requested file is written and tested.")
MAX_TOOL_OUTPUT = 8000
RUN_SECONDS = 120.0

TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {
        "name": "write_file", "description": "Create or replace a file in the workspace.",
        "parameters": {"type": "object", "properties": {
            "path": {"type": "string", "description": "path relative to the workspace"},
            "content": {"type": "string"}}, "required": ["path", "content"]}}},
    {"type": "function", "function": {
        "name": "read_file", "description": "Read a text file in the workspace.",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}},
    {"type": "function", "function": {
        "name": "run_python", "description": "Run `python FILE ARGS...` in the workspace (sandboxed, no network); "
                                             "returns the exit code and output.",
        "parameters": {"type": "object", "properties": {
            "file": {"type": "string"}, "args": {"type": "array", "items": {"type": "string"}}},
            "required": ["file"]}}},
    {"type": "function", "function": {
        "name": "finish", "description": "End the session with a short summary.",
        "parameters": {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}}},
]


class ApiError(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def parse_arguments(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    """Tool-call arguments as a dict, repairing common damage; (None, why) when hopeless."""
    if isinstance(raw, dict):
        return raw, None
    if not isinstance(raw, str):
        return None, f"arguments must be a JSON object, got {type(raw).__name__}"
    text = raw.strip()
    candidates = [text]
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.S)
    if fenced:
        candidates.append(fenced.group(1))
    candidates.append(re.sub(r",\s*([}\]])", r"\1", text))
    if text.count("{") > text.count("}"):
        candidates.append(text + "}" * (text.count("{") - text.count("}")))
    for c in candidates:
        try:
            value = json.loads(c, strict=False)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value, None
    try:
        json.loads(text)
    except ValueError as exc:
        return None, f"the arguments are not valid JSON ({exc}); send them again as one JSON object"
    return None, "the arguments must be one JSON object"


def _post(url: str, body: dict[str, Any], key: str | None, timeout: float) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "User-Agent": f"nemo-lsp/{__version__}"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        detail = f"HTTP {exc.code}: {exc.read(2000).decode('utf-8', 'replace')}"
        kind = {401: "auth", 403: "auth", 429: "rate_limit"}.get(exc.code, "failed")
        raise ApiError(kind, detail) from None
    except TimeoutError:
        raise ApiError("timeout", f"no answer from {url} within {timeout:g} s") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise ApiError("timeout", f"no answer from {url} within {timeout:g} s") from None
        raise ApiError("unreachable", f"{url}: {reason}") from None
    try:
        value = json.loads(raw)
    except ValueError:
        raise ApiError("malformed", f"the answer is not JSON: {raw[:300]!r}") from None
    if not isinstance(value, dict) or not value.get("choices"):
        raise ApiError("malformed", f"the answer has no choices: {str(value)[:300]}")
    return value


class ChatAgent:
    """An agent loop we own, so any OpenAI-compatible server (Ollama, vLLM, llama.cpp) can drive NEMO."""

    name = "chat"
    version = __version__
    native_env: Mapping[str, str] = {"base_url": "NEMO_CHAT_BASE_URL", "model": "NEMO_CHAT_MODEL"}
    defaults = AgentOptions(model="qwen2.5-coder:14b", base_url="http://localhost:11434/v1",
                            api_key_env="OPENAI_API_KEY")

    def __init__(self, options: AgentOptions | None = None) -> None:
        self.options = options or from_environment(self.defaults, self.native_env)

    def with_options(self, values: Mapping[str, object] | None) -> ChatAgent:
        return ChatAgent(self.options.merged(values))

    def refuse(self, analysis: Analysis) -> Finding | None:
        return None

    def fingerprint(self) -> str:
        return f"{self.name}-{self.options.model}-{templates_hash(*PROMPT_TEMPLATES)}"

    @property
    def endpoint(self) -> str:
        return (self.options.base_url or "").rstrip("/") + "/chat/completions"

    def availability(self, options: AgentOptions | None = None) -> tuple[bool, str]:
        url = (self.options.base_url or "").rstrip("/") + "/models"
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                response.read(1000)
            return True, f"{self.options.model} at {self.options.base_url}"
        except urllib.error.HTTPError as exc:
            # A server that answers at all (even 401/404 for /models) is there.
            return exc.code not in (401, 403), f"{self.options.base_url} answers HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            return False, f"{self.options.base_url} unreachable ({getattr(exc, 'reason', exc)}); set " \
                          "NEMO_CHAT_BASE_URL or agent_options.base_url"

    async def generate(self, task: AgentTask) -> AgentResult:
        session = Session(task.workspace)
        log: list[str] = ["--- prompt ---", task.prompt, "--- session ---"]
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": task.prompt}]
        deadline = time.monotonic() + self.options.timeout
        failure: Failure | None = None
        key = self.options.api_key()
        try:
            while True:
                if session.turns >= self.options.max_turns:
                    session.turns_exhausted = True
                    failure = Failure("turns", f"{session.turns} turns")
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    failure = Failure("timeout", "")
                    break
                body = {"model": self.options.model, "messages": messages, "tools": TOOLS, "stream": False}
                try:
                    answer = await asyncio.to_thread(_post, self.endpoint, body, key, min(remaining, 600.0))
                except ApiError as exc:
                    failure = Failure(exc.kind, exc.detail)
                    break
                session.turns += 1
                usage = answer.get("usage") or {}
                session.add_usage(input_tokens=usage.get("prompt_tokens"), output_tokens=usage.get("completion_tokens"))
                message = (answer["choices"][0] or {}).get("message") or {}
                calls = message.get("tool_calls") or []
                messages.append({"role": "assistant", "content": message.get("content") or "",
                                 **({"tool_calls": calls} if calls else {})})
                if message.get("content"):
                    log.append(f"assistant: {message['content']}")
                    session.final_text = message["content"]
                if not calls:
                    # `finish_reason: stop` without tool calls: the model is done talking.
                    session.finished = True
                    break
                done = False
                for call in calls:
                    fn = call.get("function") or {}
                    name = str(fn.get("name"))
                    session.tool_calls += 1
                    args, problem = parse_arguments(fn.get("arguments"))
                    if args is None:
                        reply = f"error: {problem}"
                    elif name == "finish":
                        reply, done = "ok", True
                        session.final_text = str(args.get("summary", session.final_text))
                    else:
                        reply = await self._tool(name, args, task, session)
                    log.append(f"tool {name}({str(fn.get('arguments'))[:300]}) -> {reply[:500]}")
                    task.say(f"chat: turn {session.turns}, {name}")
                    messages.append({"role": "tool", "tool_call_id": call.get("id", ""), "content": reply})
                if done:
                    session.finished = True
                    break
        except asyncio.CancelledError:
            raise
        findings: tuple[Finding, ...] = ()
        if failure is not None:
            findings = (to_finding(failure, agent=self.name, role=task.role, where=task.analysis.spec.title_span,
                                   timeout=self.options.timeout, endpoint=self.options.base_url,
                                   key_env=self.options.api_key_env),)
            log.append(f"--- failed: {failure.kind}: {failure.detail}")
        return AgentResult(transcript="\n".join(log), findings=findings, usage=dict(session.usage),
                           details={"turns": session.turns, "tool_calls": session.tool_calls,
                                    "outside": session.outside})

    def _path(self, raw: Any, task: AgentTask, session: Session) -> Path | None:
        if not isinstance(raw, str) or not raw:
            return None
        root = task.workspace.resolve()
        p = Path(raw)
        p = (p if p.is_absolute() else root / p)
        resolved = Path(os.path.realpath(p))
        if not resolved.is_relative_to(root):
            session.note_path(str(resolved))
            return None
        return resolved

    async def _tool(self, name: str, args: dict[str, Any], task: AgentTask, session: Session) -> str:
        if name == "write_file":
            path = self._path(args.get("path"), task, session)
            if path is None:
                return f"error: {args.get('path')!r} is outside the workspace {task.workspace}; write inside it"
            content = args.get("content")
            if not isinstance(content, str):
                return "error: `content` must be text"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8")
            except OSError as exc:  # a folder, a read-only file: the model's mistake, not the session's end
                return f"error: cannot write {args.get('path')!r}: {exc.strerror or exc}"
            return f"wrote {len(content)} characters to {path.relative_to(task.workspace.resolve())}"
        if name == "read_file":
            path = self._path(args.get("path"), task, session)
            if path is None or not path.is_file():
                return f"error: {args.get('path')!r} is not a file in the workspace"
            try:
                return path.read_text(encoding="utf-8", errors="replace")[:MAX_TOOL_OUTPUT]
            except OSError as exc:
                return f"error: cannot read {args.get('path')!r}: {exc.strerror or exc}"
        if name == "run_python":
            path = self._path(args.get("file"), task, session)
            if path is None or not path.is_file():
                return f"error: {args.get('file')!r} is not a file in the workspace"
            extra = [str(a) for a in args.get("args") or [] if isinstance(a, (str, int, float))]
            result = await get_sandbox("local").run(
                ["python", str(path), *extra], cwd=task.workspace, writable=[task.workspace],
                limits=Limits(wall_seconds=RUN_SECONDS), env=clean_env())
            out = (result.stdout + result.stderr)[-MAX_TOOL_OUTPUT:]
            limit = f" (stopped: {result.limit} limit)" if result.limit else ""
            return f"exit code {result.returncode}{limit}\n{out}"
        return f"error: unknown tool `{name}`; use write_file, read_file, run_python or finish"
