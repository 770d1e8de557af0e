"""Validation findings print at the spec line of the constraint or objective they concern."""

from __future__ import annotations

from pathlib import Path

import pytest

from .cli_support import BASE_SPEC, TRACEBACK, copy_example, edit, line_of, nemo, presolve


@pytest.fixture
def solved(tmp_path: Path) -> Path:
    spec = copy_example(BASE_SPEC, tmp_path)
    presolve(spec)
    return spec


def test_violated_constraint_prints_nemo401_at_the_constraint_name(solved: Path) -> None:
    edit(solved.with_name("production-mix.optimizer.py"), "    return model\n",
         "    model.plant_hours['plant3'].deactivate()\n    return model\n")

    run = nemo("solve", solved.name, cwd=solved.parent)

    assert run.returncode == 1
    assert TRACEBACK not in run.output
    f = run.finding("NEMO401")
    assert f.path == solved.name
    assert f.line == line_of(solved, "plant_hours[i in I]:")
    assert f.col == len("  ") + 1  # the constraint's name
    assert "plant_hours[plant3]" in f.message


def test_objective_mismatch_prints_nemo402_at_the_objective(solved: Path) -> None:
    edit(solved.with_name("production-mix.optimizer.py"), "expr=sum((profit[j]", "expr=2 * sum((profit[j]")

    run = nemo("solve", solved.name, cwd=solved.parent)

    assert run.returncode == 1
    f = run.finding("NEMO402")
    assert f.line == line_of(solved, "maximize: sum(profit[j] * batches[j] for j in J)")
    assert f.col == 1
