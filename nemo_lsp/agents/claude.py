"""`claude-code`: the Claude Code CLI in print mode, streaming JSON events.

Runs in the workspace with a private HOME, stdin closed, `--restricted` (file tools confined to
the working directory, user and project settings ignored), only the file tools and
`python` commands allowed, and turn and budget limits. Its `result` event gives cost, turns,
permission denials and the error subtype.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from . import install
from .base import AgentTask
from .cli import PROXY_VARS, ProgramAgent, base_environment
from .options import AgentOptions
from .session import Session, parse_json_line

_WRITE_TOOLS = ("Write", "Edit", "MultiEdit", "NotebookEdit")
_PASSTHROUGH = (*PROXY_VARS, "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_CUSTOM_HEADERS")
QUIET = {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1",
         "DISABLE_ERROR_REPORTING": "1", "DISABLE_BUG_COMMAND": "1", "DISABLE_NON_ESSENTIAL_MODEL_CALLS": "1"}
"""Keep the CLI from phoning home: only the model API is contacted."""


class ClaudeCodeAgent(ProgramAgent):
    name = "claude-code"
    program = "claude"
    command_env = "NEMO_CLAUDE_BIN"
    install_hint = "run `nemo agents install claude-code`, or npm install -g @anthropic-ai/claude-code"
    native_env = {"base_url": "ANTHROPIC_BASE_URL", "model": "ANTHROPIC_MODEL"}
    defaults = AgentOptions(api_key_env="ANTHROPIC_API_KEY")
    max_budget_usd: float | None = None

    def cached_executable(self) -> Path | None:
        return install.installed_claude()

    def argv(self, exe: str, task: AgentTask, home: Path) -> list[str]:
        argv = [exe, "-p", task.prompt, "--output-format", "stream-json", "--verbose",
                "--max-turns", str(self.options.max_turns), "--restricted", "--strict-mcp-config",
                "--no-session-persistence", "--permission-mode", "acceptEdits",
                "--tools", "Read,Write,Edit,Glob,Grep,Bash",
                "--allowedTools", "Read", "Write", "Edit", "Glob", "Grep", "Bash(python *)", "Bash(python3 *)"]
        if self.options.model:
            argv += ["--model", self.options.model]
        return argv

    def environment(self, task: AgentTask, home: Path) -> dict[str, str]:
        extra = dict(QUIET)
        if self.options.base_url:
            extra["ANTHROPIC_BASE_URL"] = self.options.base_url
        key = self.options.api_key()
        if key:
            extra["ANTHROPIC_API_KEY"] = key
        return base_environment(home, extra, _PASSTHROUGH)

    def prepare_home(self, task: AgentTask, home: Path) -> None:
        # A user logged in with a subscription (no API key) keeps that login in the private HOME.
        login = Path.home() / ".claude" / ".credentials.json"
        if not self.options.api_key() and login.is_file():
            (home / ".claude").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(login, home / ".claude" / ".credentials.json")

    def parse(self, line: str, session: Session, task: AgentTask) -> None:
        event = parse_json_line(line, session)
        if event is None:
            return
        kind = event.get("type")
        if kind == "system" and event.get("subtype") == "init":
            session.details["model"] = event.get("model")
            session.details["cli_version"] = event.get("claude_code_version")
        elif kind == "system" and event.get("subtype") == "api_retry":
            status = event.get("error_status")
            session.errors.append(f"API retry {event.get('attempt')}/{event.get('max_retries')}: "
                                  f"HTTP {status} {event.get('error', '')}")
            task.say(f"{self.name}: the model API failed (HTTP {status}), retrying")
            if status in (401, 403):
                session.abort = True
        elif kind == "assistant":
            message = event.get("message") or {}
            ids = session.details.setdefault("message_ids", [])
            if message.get("id") not in ids:
                ids.append(message.get("id"))  # type: ignore[union-attr]
                session.turns += 1
            for block in message.get("content") or []:
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    session.tool_calls += 1
                    args = block.get("input") or {}
                    if block.get("name") in _WRITE_TOOLS and isinstance(args, dict):
                        session.note_path(args.get("file_path") or args.get("notebook_path"))
                elif isinstance(block, dict) and block.get("type") == "text":
                    session.final_text = str(block.get("text", ""))
        elif kind == "result":
            session.finished = True
            subtype = str(event.get("subtype", ""))
            if isinstance(event.get("num_turns"), int):
                session.turns = event["num_turns"]
            if isinstance(event.get("total_cost_usd"), (int, float)):
                session.cost = float(event["total_cost_usd"])
            usage = event.get("usage") or {}
            session.add_usage(**{k: usage.get(k) for k in ("input_tokens", "output_tokens",
                                                           "cache_read_input_tokens", "cache_creation_input_tokens")})
            denials = event.get("permission_denials") or []
            if denials:
                session.details["permission_denials"] = denials[:20]
                for d in denials:
                    args = (d or {}).get("tool_input") or {}
                    if isinstance(args, dict):
                        session.note_path(args.get("file_path"))
            if subtype == "success" and not event.get("is_error") and session.errors:
                # API errors before a successful result were retries that recovered.
                session.details["recovered_errors"] = session.errors[:]
                session.errors.clear()
            if subtype == "error_max_turns":
                session.turns_exhausted = True
            elif event.get("is_error") or subtype.startswith("error"):
                session.errors.append(f"{subtype}: {event.get('result') or event.get('errors') or ''}")
            session.final_text = str(event.get("result") or session.final_text)
