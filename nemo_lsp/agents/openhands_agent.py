"""`openhands`: the OpenHands SDK, run as a worker process under its own Python (>= 3.12) and venv.

The module is not called `openhands.py`: the worker runs as a script from this folder, and a
sibling of that name would shadow the SDK package it imports.

Why a worker and not the agent server over HTTP: the SDK needs Python 3.12 while nemo-lsp runs on
3.11, so it must live in another interpreter anyway; a worker per session is one process group we
can time out and kill, needs no long-running service, and speaks JSON Lines we parse like the
CLIs' events. The venv is made by `nemo agents install openhands` (openhands_env.py); the worker
(openhands_worker.py) runs one Conversation with the terminal and file-editor tools in the workspace.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from . import openhands_env
from .base import AgentTask
from .cli import ProgramAgent, base_environment
from .options import AgentOptions
from .session import Session, parse_json_line

WORKER = Path(__file__).resolve().with_name("openhands_worker.py")


class OpenHandsAgent(ProgramAgent):
    name = "openhands"
    program = "python (OpenHands venv)"
    command_env = "NEMO_OPENHANDS_VENV_PYTHON"
    install_hint = "run `nemo agents install openhands` (needs Python >= 3.12; about 1 min and 650 MB)"
    native_env = {"base_url": "NEMO_OPENHANDS_BASE_URL", "model": "NEMO_OPENHANDS_MODEL"}
    defaults = AgentOptions(model="openai/qwen2.5-coder:14b", base_url="http://localhost:11434/v1",
                            api_key_env="OPENAI_API_KEY")

    def executable(self) -> str | None:
        explicit = self.options.command or os.environ.get(self.command_env)
        if explicit:
            return explicit if os.access(explicit, os.X_OK) else None
        ready, _ = openhands_env.status()
        return str(openhands_env.venv_python()) if ready else None

    def availability(self, options: AgentOptions | None = None) -> tuple[bool, str]:
        return openhands_env.status()

    def argv(self, exe: str, task: AgentTask, home: Path) -> list[str]:
        job = {"model": self._model(), "base_url": self.options.base_url, "api_key_env": self.options.api_key_env,
               "workspace": str(task.workspace), "prompt": task.prompt, "max_iterations": self.options.max_turns,
               "request_timeout": int(min(self.options.timeout, 600))}
        path = home / "job.json"
        path.write_text(json.dumps(job), encoding="utf-8")
        return [exe, str(WORKER), str(path)]

    def _model(self) -> str:
        model = self.options.model or "openai/default"
        # litellm needs a provider prefix; a bare name on an OpenAI-compatible URL is `openai/NAME`.
        return model if "/" in model else f"openai/{model}"

    def extra_readable(self, task: AgentTask) -> list[Path]:
        return [openhands_env.venv_dir(), WORKER.parent]

    def environment(self, task: AgentTask, home: Path) -> dict[str, str]:
        extra = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "OPENHANDS_SUPPRESS_BANNER": "1"}
        key_env = self.options.api_key_env
        if key_env and os.environ.get(key_env):
            extra[key_env] = os.environ[key_env]
        return base_environment(home, extra)

    def parse(self, line: str, session: Session, task: AgentTask) -> None:
        event = parse_json_line(line, session)
        if event is None:
            return
        kind = event.get("event")
        if kind == "start":
            session.details["sdk_version"] = event.get("sdk_version")
        elif kind == "action":
            session.tool_calls += 1
            session.turns += 1
        elif kind == "message":
            session.final_text = str(event.get("text", ""))
        elif kind in ("finish", "error"):
            session.finished = kind == "finish"
            usage = event.get("usage") or {}
            session.add_usage(input_tokens=usage.get("input_tokens"), output_tokens=usage.get("output_tokens"))
            if isinstance(event.get("cost"), (int, float)):
                session.cost = float(event["cost"])
            if kind == "error":
                session.errors.append(f"{event.get('type')}: {event.get('message')}")
            elif event.get("status") == "max_iterations":
                session.turns_exhausted = True
            elif event.get("status") not in ("finished", None):
                session.errors.append(f"the conversation ended `{event.get('status')}`")
