"""`codex`: the OpenAI Codex CLI, `codex exec --json` in its own workspace-write sandbox.

The provider is configured by base URL in a private CODEX_HOME (Responses API, the only wire
format Codex speaks), with retries, plugins, analytics and update checks off. Its JSONL events
give commands run, files changed, usage, and failures.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from . import install
from .base import AgentTask
from .cli import ProgramAgent, base_environment
from .options import AgentOptions
from .session import Session, parse_json_line

DISABLED = ("plugins", "remote_plugin", "apps", "in_app_updates", "api_key_model_discovery")


def _toml(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def config_toml(options: AgentOptions, key_env: str) -> str:
    """CODEX_HOME/config.toml: one provider at `base_url` over the Responses API, nothing else enabled."""
    lines = [f"model = {_toml(options.model or 'gpt-5.5')}", 'approval_policy = "never"',
             'sandbox_mode = "workspace-write"', "check_for_update_on_startup = false"]
    if options.base_url:
        lines += ['model_provider = "nemo"', "", "[model_providers.nemo]", 'name = "nemo-lsp configured provider"',
                  f"base_url = {_toml(options.base_url)}", 'wire_api = "responses"', f"env_key = {_toml(key_env)}",
                  "stream_max_retries = 1", "request_max_retries = 1"]
    lines += ["", "[analytics]", "enabled = false", "", "[feedback]", "enabled = false", ""]
    return "\n".join(lines)


class CodexAgent(ProgramAgent):
    name = "codex"
    program = "codex"
    command_env = "NEMO_CODEX_BIN"
    install_hint = "run `nemo agents install codex`, or npm install -g @openai/codex"
    native_env = {"base_url": "OPENAI_BASE_URL"}
    defaults = AgentOptions(api_key_env="OPENAI_API_KEY")

    def cached_executable(self) -> Path | None:
        return install.installed_codex()

    def argv(self, exe: str, task: AgentTask, home: Path) -> list[str]:
        argv = [exe, "exec", "--json", "--skip-git-repo-check", "-s", "workspace-write", "-C", str(task.workspace)]
        for feature in DISABLED:
            argv += ["--disable", feature]
        return [*argv, task.prompt]

    def _key_env(self) -> str:
        return self.options.api_key_env or "OPENAI_API_KEY"

    @staticmethod
    def codex_home(task: AgentTask) -> Path:
        """Outside any temp folder: there Codex refuses to create its sandbox helper and every tool fails."""
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        digest = hashlib.sha256(str(task.workspace.resolve()).encode()).hexdigest()[:16]
        return cache / "nemo-lsp" / "codex-home" / digest

    def extra_writable(self, task: AgentTask) -> list[Path]:
        return [self.codex_home(task)]

    def environment(self, task: AgentTask, home: Path) -> dict[str, str]:
        extra = {"CODEX_HOME": str(self.codex_home(task)), "RUST_LOG": "warn"}
        key = self.options.api_key()
        if key:
            extra[self._key_env()] = key
        return base_environment(home, extra)

    def prepare_home(self, task: AgentTask, home: Path) -> None:
        codex_home = self.codex_home(task)
        if codex_home.exists():
            shutil.rmtree(codex_home, ignore_errors=True)
        codex_home.mkdir(parents=True, exist_ok=True)
        (codex_home / "config.toml").write_text(config_toml(self.options, self._key_env()), encoding="utf-8")
        login = Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex") / "auth.json"
        if not self.options.api_key() and not self.options.base_url and login.is_file():
            shutil.copyfile(login, codex_home / "auth.json")

    def parse(self, line: str, session: Session, task: AgentTask) -> None:
        event = parse_json_line(line, session)
        if event is None:
            return
        kind = event.get("type")
        if kind == "thread.started":
            session.details["thread_id"] = event.get("thread_id")
        elif kind == "turn.started":
            session.turns += 1
        elif kind == "item.completed":
            item = event.get("item") or {}
            itype = item.get("type")
            if itype in ("command_execution", "file_change", "mcp_tool_call", "web_search"):
                session.tool_calls += 1
                if session.tool_calls > self.options.max_turns:
                    session.turns_exhausted = True
            if itype == "file_change":
                for change in item.get("changes") or []:
                    if isinstance(change, dict):
                        session.note_path(change.get("path"))
            elif itype == "agent_message":
                session.final_text = str(item.get("text", ""))
        elif kind == "turn.completed":
            session.finished = True
            # Errors before a completed turn were retries that recovered.
            if session.errors:
                session.details["recovered_errors"] = session.errors[:]
                session.errors.clear()
            usage = event.get("usage") or {}
            session.add_usage(input_tokens=usage.get("input_tokens"), output_tokens=usage.get("output_tokens"),
                              cached_input_tokens=usage.get("cached_input_tokens"))
        elif kind == "turn.failed":
            session.errors.append(str((event.get("error") or {}).get("message", "turn failed")))
        elif kind == "error":
            session.errors.append(str(event.get("message", "error")))
