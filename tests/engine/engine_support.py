"""Helpers for the engine end-to-end tests: real specs in tmp_path, real solves in the sandbox."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from nemo_lsp.engine import Report, Settings, run

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
BASE_SPEC = "production-mix.opt.md"
"""Wyndor Glass: 2 products, 3 plants, `plant_hours[i in I]`, maximize profit; optimum 36 at (2, 6)."""
TITLE = "# Wyndor Glass: which new products to make"


def copy_example(name: str, dest: Path) -> Path:
    """Copy one example spec (only the spec, not its generated modules) into `dest`."""
    target = dest / name
    shutil.copyfile(EXAMPLES / name, target)
    return target


def solve(spec: Path, *, base: Settings | None = None, **overrides: Any) -> Report:
    return asyncio.run(run(spec, base=base, overrides=overrides or None))


def optimizer_of(spec: Path) -> Path:
    return spec.with_name(spec.name.replace(".opt.md", ".optimizer.py"))


def simulator_of(spec: Path) -> Path:
    return spec.with_name(spec.name.replace(".opt.md", ".simulator.py"))


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


def codes(report: Report) -> list[str]:
    return [f.code for f in report.findings]


def only(report: Report, code: str):
    found = [f for f in report.findings if f.code == code]
    assert len(found) >= 1, f"no {code} in {[(f.code, f.message) for f in report.findings]}"
    return found[0]
