"""Where a spec's generated modules and run artifacts live.

Generated modules sit beside the spec (`plan.optimizer.py`, `plan.simulator.py`) because they are
the user's to read and keep; everything else goes under `.nemo/plan/` beside the spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SUFFIX = ".opt.md"


def spec_name(path: Path) -> str:
    name = path.name
    return name[: -len(SUFFIX)] if name.endswith(SUFFIX) else path.stem


@dataclass(frozen=True)
class Layout:
    spec: Path

    @property
    def name(self) -> str:
        return spec_name(self.spec)

    def module(self, role: str) -> Path:
        return self.spec.with_name(f"{self.name}.{role}.py")

    @property
    def root(self) -> Path:
        return self.spec.parent / ".nemo" / self.name

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def data(self) -> Path:
        return self.root / "data.json"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def transcripts(self) -> Path:
        return self.root / "transcripts"

    @property
    def report(self) -> Path:
        return self.root / "report.json"
