"""Helpers for the CLI end-to-end tests: run `nemo` as a real process and read what it prints."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
BASE_SPEC = "production-mix.opt.md"
"""Small LP (2 products, 3 plants, objective 36) that the edit and failure tests start from."""

TRACEBACK = "Traceback (most recent call last)"
FINDING = re.compile(r"^(?P<path>\S+?):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning|info|hint) "
                     r"(?P<code>NEMO\d{3}) (?P<message>.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Printed:
    """One compiler-style finding line as the CLI printed it (line and col are 1-based)."""

    path: str
    line: int
    col: int
    severity: str
    code: str
    message: str


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def findings(self, code: str | None = None) -> list[Printed]:
        found = [Printed(m["path"], int(m["line"]), int(m["col"]), m["severity"], m["code"], m["message"])
                 for m in FINDING.finditer(self.stdout)]
        return [f for f in found if code is None or f.code == code]

    def finding(self, code: str) -> Printed:
        found = self.findings(code)
        assert found, f"no {code} printed; stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        return found[0]


def nemo(*args: str, cwd: Path, timeout: float = 180) -> Run:
    """`python -m nemo_lsp.cli ARGS` in `cwd`, as a user would run `nemo ARGS` there."""
    env = dict(os.environ)
    env.pop("NEMO_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "nemo_lsp.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def copy_example(name: str, dest: Path) -> Path:
    """Copy one example spec (only the spec, not its generated modules) into `dest`."""
    target = dest / name
    shutil.copyfile(EXAMPLES / name, target)
    return target


def line_of(path: Path, fragment: str) -> int:
    """1-based number of the first line of `path` that contains `fragment`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not found in {path}")


def edit(path: Path, old: str, new: str) -> None:
    """Replace `old` (which must occur) by `new` once in a text file."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not found in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def presolve(spec: Path) -> None:
    """Set-up only: solve once in this process so the generated modules exist and are recorded as nemo's."""
    import asyncio

    from nemo_lsp.engine import run

    report = asyncio.run(run(spec))
    assert report.ok, [(f.code, f.message) for f in report.findings]
