"""Generated code that fails at run time: a finding on the spec, related info into the module, exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from .cli_support import BASE_SPEC, TRACEBACK, Run, copy_example, edit, line_of, nemo, presolve

TITLE = "# Wyndor Glass: which new products to make"


@pytest.fixture
def solved(tmp_path: Path) -> Path:
    """The base spec, solved once, so that its generated modules exist and are recorded as nemo's."""
    spec = copy_example(BASE_SPEC, tmp_path)
    presolve(spec)
    return spec


def optimizer_of(spec: Path) -> Path:
    return spec.with_name(spec.name.replace(".opt.md", ".optimizer.py"))


def simulator_of(spec: Path) -> Path:
    return spec.with_name(spec.name.replace(".opt.md", ".simulator.py"))


def rejected(run: Run) -> None:
    assert run.returncode == 1, run.output
    assert "REJECTED" in run.stdout
    assert TRACEBACK not in run.stdout + run.stderr
    assert "internal error" not in run.output


def test_optimizer_raising_is_nemo301_with_related_info_at_the_raise(solved: Path) -> None:
    module = optimizer_of(solved)
    edit(module, "def build_model(data):\n", "def build_model(data):\n    raise ValueError('no plants today')\n")
    raise_line = line_of(module, "raise ValueError('no plants today')")

    run = nemo("solve", solved.name, cwd=solved.parent)

    rejected(run)
    kept = run.finding("NEMO202")
    assert kept.severity == "warning"
    assert "raise ValueError('no plants today')" in module.read_text(encoding="utf-8")
    f = run.finding("NEMO301")
    assert f.severity == "error"
    assert f.line == line_of(solved, TITLE)
    assert "ValueError: no plants today" in f.message
    assert f"{module.name}:{raise_line}" in f.message
    # the related note points into the optimizer file, at the raising line
    assert f"  {module.name}:{raise_line}: note: raised here" in run.stdout


def test_optimizer_raising_json_related_points_into_the_optimizer(solved: Path) -> None:
    import json

    module = optimizer_of(solved)
    edit(module, "def build_model(data):\n", "def build_model(data):\n    raise ValueError('no plants today')\n")
    raise_line = line_of(module, "raise ValueError('no plants today')")

    run = nemo("solve", solved.name, "--json", cwd=solved.parent)

    assert run.returncode == 1
    report = json.loads(run.stdout)
    [f] = [f for f in report["findings"] if f["code"] == "NEMO301"]
    [related] = f["related"]
    assert Path(related["path"]).resolve() == module.resolve()
    assert related["span"]["line"] + 1 == raise_line
    assert report["generated"]["optimizer"] == "user-edited (kept)"


def test_simulator_raising_is_nemo302_with_related_info_at_the_raise(solved: Path) -> None:
    module = simulator_of(solved)
    edit(module, "def simulate(data, decisions):\n",
         "def simulate(data, decisions):\n    raise KeyError('judge is out')\n")
    raise_line = line_of(module, "raise KeyError('judge is out')")

    run = nemo("solve", solved.name, cwd=solved.parent)

    rejected(run)
    assert run.finding("NEMO202").severity == "warning"
    f = run.finding("NEMO302")
    assert f.line == line_of(solved, TITLE)
    assert "KeyError" in f.message and "judge is out" in f.message
    assert f"  {module.name}:{raise_line}: note: raised here" in run.stdout
    assert not run.findings("NEMO301")


def test_optimizer_past_memory_limit_is_nemo305(solved: Path) -> None:
    module = optimizer_of(solved)
    edit(module, "def build_model(data):\n",
         "def build_model(data):\n    hog = []\n    while True:\n        hog.append(bytearray(16 * 1024 * 1024))\n")

    run = nemo("solve", solved.name, "--memory-limit", "300", cwd=solved.parent)

    rejected(run)
    f = run.finding("NEMO305")
    assert f.line == line_of(solved, TITLE)
    assert "300 MB" in f.message
    assert "--memory-limit" in f.message
    assert not run.findings("NEMO301")
