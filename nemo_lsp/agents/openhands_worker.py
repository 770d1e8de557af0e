"""Run one OpenHands SDK conversation and report it as JSON Lines on stdout.

    python openhands_worker.py JOB.json

This file is a standalone script: it runs under the interpreter of the OpenHands venv
(Python >= 3.12, see `openhands_env.py`) and must not import nemo_lsp, nor anything
outside the standard library and the OpenHands SDK.

JOB.json:
    {"model": "openai/NAME",            # litellm model name
     "base_url": "http://host/v1",      # optional (the provider's default)
     "api_key_env": "ENV_NAME",         # optional; null/absent -> the key "dummy"
     "workspace": "/abs/path",          # an existing folder: the tools work here
     "prompt": "...",
     "max_iterations": 30,              # optional, default 30
     "request_timeout": 120,            # optional, seconds per LLM request
     "api_mode": "chat"}                # optional: "auto" | "chat" | "responses"

stdout carries only events, one JSON object a line, flushed:
    {"event": "start", "sdk_version": "...", "tools_version": "...", "python": "3.13.0"}
    {"event": "message", "text": "..."}                       assistant text
    {"event": "action", "tool": "terminal", "summary": "..."}  one per tool call
    {"event": "observation", "tool": "terminal", "summary": "...", "error": false}
and then exactly one of
    {"event": "finish", "status": "finished" | "stuck" | "max_iterations" | ...,
     "usage": {"input_tokens": N, "output_tokens": N, ...}, "cost": float | null,
     "message": "the finish tool's message" | null}            -> exit code 0
    {"event": "error", "type": "auth" | "rate_limit" | "timeout" | "connection"
     | "bad_response" | "other", "message": "...", "exception": "ClassName",
     "usage": {...}, "cost": ...}                               -> exit code 2
Everything else (SDK logs, warnings, tool noise) goes to stderr.
"""

from __future__ import annotations

import os
import sys

# Before any SDK import: no network fetch of litellm's price map, no banner, no log files.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["OPENHANDS_SUPPRESS_BANNER"] = "1"
os.environ["LOG_TO_FILE"] = "false"
os.environ.setdefault("LOG_LEVEL", "WARNING")

# Keep a private handle on the real stdout for events, then point fd 1 (and sys.stdout) at
# stderr, so that stray print()s of the SDK or litellm, and children that inherit fd 1,
# cannot corrupt the event stream.
_EVENTS = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

import json  # noqa: E402
import platform  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
import warnings  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

EXIT_FINISH = 0
EXIT_ERROR = 2
SUMMARY_CHARS = 300
OBSERVATION_CHARS = 600
MESSAGE_CHARS = 4000
DEFAULT_MAX_ITERATIONS = 30
DEFAULT_REQUEST_TIMEOUT = 120

_emit_lock = threading.Lock()
# litellm cannot price an unknown model (a local or scripted one): cost is then null.
warnings.filterwarnings("ignore", message="Cost calculation failed")


def emit(event: dict[str, Any]) -> None:
    line = json.dumps(event, ensure_ascii=False, default=str)
    with _emit_lock:
        _EVENTS.write(line + "\n")
        _EVENTS.flush()


def truncate(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [+{len(text) - limit} chars]"


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


# --- error classification -------------------------------------------------------------
# Class names along each exception's MRO, across the whole cause/context chain: litellm's,
# openai's, httpx's and the SDK's own typed errors all classify without importing them.
_ERROR_TYPES: tuple[tuple[str, frozenset[str]], ...] = (
    ("auth", frozenset({"AuthenticationError", "PermissionDeniedError", "LLMAuthenticationError"})),
    ("rate_limit", frozenset({"RateLimitError", "LLMRateLimitError"})),
    # before "connection": litellm's Timeout derives from openai's APIConnectionError
    (
        "timeout",
        frozenset({"Timeout", "APITimeoutError", "LLMTimeoutError", "TimeoutException", "ReadTimeout",
                   "ConnectTimeout", "TimeoutError"}),
    ),
    # before "connection": litellm wraps an unparsable reply in InternalServerError
    (
        "bad_response",
        frozenset({"LLMNoResponseError", "LLMResponseError", "LLMMalformedActionError", "LLMNoActionError",
                   "APIResponseValidationError", "JSONDecodeError", "FunctionCallConversionError",
                   "FunctionCallValidationError", "FunctionCallNotExistsError"}),
    ),
    (
        "connection",
        frozenset({"APIConnectionError", "ServiceUnavailableError", "InternalServerError", "BadGatewayError",
                   "LLMServiceUnavailableError", "ConnectError", "ConnectionError"}),
    ),
)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [getattr(e, "original_exception", None), e.__cause__, e.__context__]
    return seen


def classify(exc: BaseException) -> tuple[str, str, str]:
    """(error type, message, name of the exception that decided the type)."""
    chain = _chain(exc)
    # The message of the first exception below the SDK's ConversationRunError wrapper
    # (the provider's words, as mapped by the SDK) says the most.
    top = next((e for e in chain if type(e).__name__ != "ConversationRunError"), chain[0])
    message = str(top) or type(top).__name__
    for kind, names in _ERROR_TYPES:
        for e in chain:
            if any(c.__name__ in names for c in type(e).__mro__):
                return kind, message, type(e).__name__
    return "other", message, type(chain[-1]).__name__


# --- event translation ----------------------------------------------------------------


def _text_of(content: Any) -> str:
    parts = []
    for c in content or ():
        text = getattr(c, "text", None)
        if isinstance(text, str):
            parts.append(text)
    return "\n".join(parts)


def summarize_action(tool: str, args: dict[str, Any]) -> str:
    if tool == "file_editor":
        return truncate(f"{args.get('command', '')} {args.get('path', '')}", SUMMARY_CHARS)
    for key in ("command", "message", "thought", "path"):
        if isinstance(args.get(key), str):
            return truncate(args[key], SUMMARY_CHARS)
    return truncate(json.dumps(args, ensure_ascii=False, default=str), SUMMARY_CHARS)


class Recorder:
    """The conversation callback: translates SDK events to our JSON lines."""

    def __init__(self) -> None:
        self.finish_message: str | None = None
        self.conversation_errors: list[tuple[str, str]] = []

    def __call__(self, ev: Any) -> None:
        try:
            self._handle(ev)
        except Exception as e:  # a reporting bug must not kill the run
            print(f"openhands_worker: cannot report {type(ev).__name__}: {e!r}", file=sys.stderr)

    def _handle(self, ev: Any) -> None:
        from openhands.sdk.event import ActionEvent, AgentErrorEvent, MessageEvent, ObservationEvent
        from openhands.sdk.event.conversation_error import ConversationErrorEvent
        from openhands.sdk.event.llm_convertible import UserRejectObservation

        if isinstance(ev, ActionEvent):
            thought = _text_of(ev.thought)
            if thought.strip():
                emit({"event": "message", "text": truncate(thought, MESSAGE_CHARS)})
            args = _action_args(ev)
            if ev.tool_name == "finish" and isinstance(args.get("message"), str):
                self.finish_message = args["message"]
            emit({"event": "action", "tool": ev.tool_name, "summary": summarize_action(ev.tool_name, args)})
        elif isinstance(ev, ObservationEvent):
            obs = ev.observation
            emit(
                {
                    "event": "observation",
                    "tool": ev.tool_name,
                    "summary": truncate(obs.text, OBSERVATION_CHARS),
                    "error": bool(getattr(obs, "is_error", False)),
                }
            )
        elif isinstance(ev, AgentErrorEvent):
            emit({"event": "observation", "tool": ev.tool_name, "summary": truncate(ev.error, OBSERVATION_CHARS),
                  "error": True})
        elif isinstance(ev, UserRejectObservation):
            emit({"event": "observation", "tool": ev.tool_name,
                  "summary": truncate(f"rejected: {ev.rejection_reason}", OBSERVATION_CHARS), "error": True})
        elif isinstance(ev, MessageEvent) and ev.source == "agent":
            text = _text_of(ev.llm_message.content)
            if text.strip():
                emit({"event": "message", "text": truncate(text, MESSAGE_CHARS)})
        elif isinstance(ev, ConversationErrorEvent):
            self.conversation_errors.append((ev.code, ev.detail))


def _action_args(ev: Any) -> dict[str, Any]:
    if ev.action is not None:
        args = ev.action.model_dump(mode="json", exclude_none=True)
    else:
        try:
            args = json.loads(ev.tool_call.arguments)
        except (TypeError, ValueError):
            args = {"arguments": str(ev.tool_call.arguments)}
    if not isinstance(args, dict):
        args = {"arguments": args}
    args.pop("kind", None)
    return args


def usage_of(conversation: Any) -> tuple[dict[str, int], float | None]:
    try:
        m = conversation.conversation_stats.get_combined_metrics()
    except Exception:
        return {"input_tokens": 0, "output_tokens": 0}, None
    u = m.accumulated_token_usage
    usage = {
        "input_tokens": int(getattr(u, "prompt_tokens", 0) or 0),
        "output_tokens": int(getattr(u, "completion_tokens", 0) or 0),
        "cache_read_tokens": int(getattr(u, "cache_read_tokens", 0) or 0),
        "reasoning_tokens": int(getattr(u, "reasoning_tokens", 0) or 0),
    }
    # The SDK records only positive costs; none recorded means unknown (an unpriced model).
    cost = float(m.accumulated_cost) if m.costs else None
    return usage, cost


_STATUS_BY_ERROR_CODE = {"MaxIterationsReached": "max_iterations", "MaxBudgetReached": "max_budget"}


# --- main -----------------------------------------------------------------------------


class JobError(ValueError):
    """The job file is unreadable or incomplete."""


class MissingKey(LookupError):
    """The job names an API key variable that is not set."""


def load_job(path: str) -> dict[str, Any]:
    try:
        job = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise JobError(f"cannot read job file {path}: {e}") from None
    if not isinstance(job, dict):
        raise JobError("the job file must hold a JSON object")
    for key in ("model", "workspace", "prompt"):
        if not isinstance(job.get(key), str) or not job[key]:
            raise JobError(f"job: `{key}` must be a non-empty string")
    if not os.path.isabs(job["workspace"]) or not os.path.isdir(job["workspace"]):
        raise JobError(f"job: workspace {job['workspace']!r} is not an existing absolute folder")
    for key in ("max_iterations", "request_timeout"):
        value = job.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise JobError(f"job: `{key}` must be a positive integer")
    for key in ("base_url", "api_key_env", "api_mode"):
        if job.get(key) is not None and not isinstance(job[key], str):
            raise JobError(f"job: `{key}` must be a string or null")
    return job


def api_key_for(job: dict[str, Any]) -> str:
    env_name = job.get("api_key_env")
    if not env_name:
        return "dummy"  # a local server that checks no key
    key = os.environ.get(env_name, "")
    if not key:
        raise MissingKey(f"the API key variable {env_name} (job.api_key_env) is not set")
    return key


def _on_sigterm(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"terminated by signal {signum}")


def run(job_path: str) -> int:
    emit(
        {
            "event": "start",
            "sdk_version": _version("openhands-sdk"),
            "tools_version": _version("openhands-tools"),
            "python": platform.python_version(),
        }
    )
    signal.signal(signal.SIGTERM, _on_sigterm)
    conversation = None
    try:
        job = load_job(job_path)
        api_key = api_key_for(job)

        from pydantic import SecretStr

        from openhands.sdk import LLM, Agent, Conversation
        from openhands.sdk.conversation.state import ConversationExecutionStatus
        from openhands.sdk.tool import Tool
        from openhands.tools.file_editor import FileEditorTool
        from openhands.tools.terminal import TerminalTool

        llm_kwargs: dict[str, Any] = {
            "model": job["model"],
            "api_key": SecretStr(api_key),
            "usage_id": "agent",
            "num_retries": 0,
            "timeout": job.get("request_timeout") or DEFAULT_REQUEST_TIMEOUT,
        }
        if job.get("base_url"):
            llm_kwargs["base_url"] = job["base_url"]
        if job.get("api_mode"):
            llm_kwargs["api_mode"] = job["api_mode"]
        llm = LLM(**llm_kwargs)
        agent = Agent(llm=llm, tools=[Tool(name=TerminalTool.name), Tool(name=FileEditorTool.name)])
        recorder = Recorder()
        conversation = Conversation(
            agent=agent,
            workspace=job["workspace"],
            callbacks=[recorder],
            max_iteration_per_run=job.get("max_iterations") or DEFAULT_MAX_ITERATIONS,
            visualizer=None,
        )
        conversation.send_message(job["prompt"])
        conversation.run()

        status = conversation.state.execution_status
        usage, cost = usage_of(conversation)
        if status == ConversationExecutionStatus.ERROR:
            code, detail = recorder.conversation_errors[-1] if recorder.conversation_errors else ("", "")
            if code not in _STATUS_BY_ERROR_CODE:
                emit({"event": "error", "type": "other", "message": detail or "the conversation ended in error",
                      "exception": code or None, "usage": usage, "cost": cost})
                return EXIT_ERROR
            name = _STATUS_BY_ERROR_CODE[code]
        else:
            name = getattr(status, "value", str(status))
        emit({"event": "finish", "status": name, "usage": usage, "cost": cost, "message": recorder.finish_message})
        return EXIT_FINISH
    except BaseException as exc:  # noqa: BLE001 - every failure becomes one error line
        if isinstance(exc, (JobError, KeyboardInterrupt)):
            kind, message, name = "other", str(exc), type(exc).__name__
        elif isinstance(exc, MissingKey):
            kind, message, name = "auth", str(exc), type(exc).__name__
        else:
            kind, message, name = classify(exc)
        if conversation is not None:
            usage, cost = usage_of(conversation)
        else:
            usage, cost = {"input_tokens": 0, "output_tokens": 0}, None
        emit({"event": "error", "type": kind, "message": truncate(message, MESSAGE_CHARS), "exception": name,
              "usage": usage, "cost": cost})
        if kind == "other" and not isinstance(exc, (JobError, KeyboardInterrupt)):
            import traceback

            traceback.print_exception(exc, file=sys.stderr)
        return EXIT_ERROR
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the cleanup finish
        if conversation is not None:
            try:
                conversation.close()
            except Exception as e:
                print(f"openhands_worker: close failed: {e!r}", file=sys.stderr)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: openhands_worker.py JOB.json", file=sys.stderr)
        emit({"event": "error", "type": "other", "message": "usage: openhands_worker.py JOB.json"})
        return EXIT_ERROR
    return run(argv[1])


def _private_tmux_dir() -> str | None:
    """The terminal tool's tmux puts a socket per run in $TMUX_TMPDIR/tmux-UID and leaves it
    there; give it a private folder, removed at exit."""
    import tempfile

    path = tempfile.mkdtemp(prefix="nemo-oh-tmux-")
    if len(path) > 40:  # AF_UNIX paths are short: keep room for /tmux-UID/openhands-<32 hex>
        os.rmdir(path)
        path = tempfile.mkdtemp(prefix="nemo-oh-tmux-", dir="/tmp")
    os.environ["TMUX_TMPDIR"] = path
    return path


if __name__ == "__main__":
    import shutil

    tmux_dir = _private_tmux_dir()
    try:
        code = main(sys.argv)
    finally:
        if tmux_dir:
            shutil.rmtree(tmux_dir, ignore_errors=True)
    _EVENTS.flush()
    sys.stderr.flush()
    # The conversation is closed and every event is out: skip the interpreter's teardown
    # (about 1.7 s of atexit work in litellm and friends), which has nothing left to save.
    os._exit(code)
