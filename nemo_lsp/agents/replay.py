"""`replay`: re-run the programs a stored `nemo bench` run wrote, without any model.

The folder (agent_options.base_url, `--base-url`, or `NEMO_REPLAY_DIR`) is a bench run folder
(`--out` of an earlier run). For a spec named NAME the agent reads `results/NAME.json`, finds the
problem's workspace, and hands back the program the original session wrote for the same role:

- mode `trajectory` (the default): each session's own program, from `.nemo/NAME/work/ROLE/`:
  the first optimizer, the simulator, then `repair-K` for repair round K. The engine re-executes
  and re-validates them, so the whole trajectory (repairs included) is replayed.
- mode `final` (`--model final`): the optimizer and simulator the run ended with (beside the spec);
  no repair programs.

Selection strategies (single sample, self-consistency, MBR) can then be compared offline on one
stored run. Nothing is sent anywhere; a program missing from the folder is reported as such.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from .. import __version__
from ..analysis import Analysis
from ..findings import Finding
from .base import session_name, writes

MODES = ("trajectory", "final")


class ReplayAgent:
    name = "replay"
    version = __version__

    def __init__(self, options: object | None = None) -> None:
        from ..agents.options import AgentOptions

        self.options = options if options is not None else AgentOptions()
        where = getattr(self.options, "base_url", None) or os.environ.get("NEMO_REPLAY_DIR")
        self.folder = Path(where) if where else None
        self.mode = getattr(self.options, "model", None) or "trajectory"

    def with_options(self, values: Mapping[str, object] | None) -> ReplayAgent:
        return ReplayAgent(self.options.merged(values))  # type: ignore[attr-defined]

    def refuse(self, analysis: Analysis) -> Finding | None:
        return None

    def availability(self, options: object | None = None) -> tuple[bool, str]:
        if self.folder is None:
            return False, "set NEMO_REPLAY_DIR (or --base-url) to the folder of a stored `nemo bench` run"
        if self.mode not in MODES:
            return False, f"unknown replay mode {self.mode!r} (model): {', '.join(MODES)}"
        return (self.folder / "results").is_dir(), f"{self.folder} ({self.mode})"

    def fingerprint(self) -> str:
        key = f"{self.folder}|{self.mode}".encode()
        return f"{self.name}-{hashlib.sha256(key).hexdigest()[:16]}"

    def source(self, spec_name: str, role: str, round: int = 1) -> Path | None:
        """The stored program for `role` of the spec called `spec_name`, or None."""
        if self.folder is None:
            return None
        try:
            record = json.loads((self.folder / "results" / f"{spec_name}.json").read_text(encoding="utf-8"))
            workspace = self.folder / str(record["workspace"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        installs_as = writes(role)
        repairs = installs_as != role
        if self.mode == "final":
            candidates = [] if repairs else [workspace / f"{spec_name}.{installs_as}.py"]
        else:
            session = session_name(role, round)
            candidates = [workspace / ".nemo" / spec_name / "work" / session / f"{spec_name}.{installs_as}.py"]
            if not repairs:
                candidates.append(workspace / f"{spec_name}.{installs_as}.py")  # e.g. a run of the formal agent
        return next((c for c in candidates if c.is_file() and not c.is_symlink()), None)

    async def generate(self, task):  # task: AgentTask
        from ..agents.base import AgentResult

        spec_name = task.spec_path.name.removesuffix(".opt.md")
        round_no = int((task.evidence or {}).get("round", 1))
        found = self.source(spec_name, task.role, round_no)
        if found is None:
            return AgentResult(transcript=f"replay: no stored {task.role} program for {spec_name} in "
                                          f"{self.folder} ({self.mode})\n")
        (task.workspace / task.target).write_bytes(found.read_bytes())
        return AgentResult(transcript=f"replay: copied {found} to {task.target}\n", details={"source": str(found)})


def replay_agent() -> ReplayAgent:
    """The registry's factory for `replay` (nemo_lsp.agents.AGENTS["replay"])."""
    return ReplayAgent()


def ensure_registered() -> None:
    """Add `replay` to the agents registry when it is not there yet (idempotent; the bench calls it
    before each run, in this process and in every Ray worker)."""
    from ..agents import AGENTS

    AGENTS.setdefault("replay", replay_agent)
