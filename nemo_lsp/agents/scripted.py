"""`scripted`: replays canned modules from a folder, for tests and for offline replays of stored runs.

The folder (`NEMO_SCRIPTED_DIR`, or agent_options.base_url as a path) holds, per role,
`ROLE.py` (e.g. `optimizer.py`, `simulator.py`, `repair-1.py` for the first repair round,
`repair-simulator-1.py` for the first simulator repair (the simulator gate);
`consolidate.md` and `assumptions.json` for consolidation (`consolidate-K.md`, `assumptions-K.json`
for the K-th proposal); `optimizer-K.py` for the K-th
self-consistency candidate, falling back to `optimizer.py`) and
optionally `ROLE.error` whose text makes the session fail with that message. A subfolder named
after the spec (`diet/optimizer.py`) takes precedence, so one folder can serve many specs. A canned
module that is a symbolic link is replayed as that link (what an agent that planted one would leave).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .. import __version__
from ..analysis import Analysis
from ..findings import Finding
from ..fsutil import sha256_bytes
from .base import AgentResult, AgentTask, session_name
from .failures import classify, to_finding
from .options import AgentOptions


class ScriptedAgent:
    name = "scripted"
    version = __version__

    def __init__(self, options: AgentOptions | None = None, folder: Path | None = None) -> None:
        self.options = options or AgentOptions()
        self._given = folder
        where = folder or self.options.base_url or os.environ.get("NEMO_SCRIPTED_DIR")
        self.folder = Path(where) if where else None

    def with_options(self, values: Mapping[str, object] | None) -> ScriptedAgent:
        # agent_options.base_url beats NEMO_SCRIPTED_DIR (options over the environment): only an
        # explicit `folder` is carried over, not the one the environment gave.
        return ScriptedAgent(self.options.merged(values), self._given)

    def refuse(self, analysis: Analysis) -> Finding | None:
        return None

    def availability(self, options: AgentOptions | None = None) -> tuple[bool, str]:
        if self.folder is None:
            return False, "set NEMO_SCRIPTED_DIR to a folder of canned modules"
        return self.folder.is_dir(), str(self.folder)

    def fingerprint(self) -> str:
        if self.folder is None or not self.folder.is_dir():
            return f"{self.name}-none"
        parts = sorted(str(p.relative_to(self.folder)) + ":" + sha256_bytes(p.read_bytes())
                       for p in self.folder.rglob("*") if p.is_file())
        return f"{self.name}-{sha256_bytes('|'.join(parts).encode())[:16]}"

    def _find(self, spec: str, stem: str) -> Path | None:
        assert self.folder is not None
        for candidate in (self.folder / spec / stem, self.folder / stem):
            if candidate.is_file() or candidate.is_symlink():
                return candidate
        return None

    async def generate(self, task: AgentTask) -> AgentResult:
        where = task.analysis.spec.title_span
        if self.folder is None:
            failure = classify("NEMO_SCRIPTED_DIR is not set", returncode=1)
            assert failure is not None
            return AgentResult(findings=(to_finding(failure, agent=self.name, role=task.role, where=where,
                                                    timeout=0, endpoint=None, key_env=None),))
        spec = task.spec_path.name.removesuffix(".opt.md")
        stem = session_name(task.role, (task.evidence or {}).get("round", 1))
        error = self._find(spec, f"{stem}.error")
        if error is not None:
            text = error.read_text(encoding="utf-8")
            failure = classify(text, returncode=1)
            assert failure is not None
            return AgentResult(transcript=text, findings=(to_finding(
                failure, agent=self.name, role=task.role, where=where, timeout=0, endpoint=None, key_env=None),))
        if task.role == "consolidate":
            return self._consolidate(spec, task)
        source = (self._find(spec, f"{stem}-{task.sample}.py") if task.sample > 1 else None) \
            or self._find(spec, f"{stem}.py")
        if source is None:
            return AgentResult(transcript=f"scripted: no {stem}.py in {self.folder}\n")
        written = task.workspace / task.target
        if source.is_symlink():
            written.unlink(missing_ok=True)  # a repair's workspace holds the previous optimizer
            os.symlink(os.readlink(source), written)
        else:
            written.write_bytes(source.read_bytes())
        return AgentResult(transcript=f"scripted: copied {source} to {task.target}\n--- prompt ---\n{task.prompt}\n",
                           details={"source": str(source)})

    def _consolidate(self, spec: str, task: AgentTask) -> AgentResult:
        """Canned `consolidate.md` (the model block) and `assumptions.json`; proposal K of several
        reads `consolidate-K.md` and `assumptions-K.json` when they exist."""
        copied = []
        for name, target in (("consolidate.md", task.target), ("assumptions.json", "assumptions.json")):
            stem, dot, ext = name.partition(".")
            source = (self._find(spec, f"{stem}-{task.sample}{dot}{ext}") if task.sample > 1 else None) \
                or self._find(spec, name)
            if source is not None:
                (task.workspace / target).write_bytes(source.read_bytes())
                copied.append(name)
        return AgentResult(transcript=f"scripted: copied {', '.join(copied) or 'nothing'}\n--- prompt ---\n"
                                      f"{task.prompt}\n")
