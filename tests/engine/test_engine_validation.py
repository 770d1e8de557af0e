"""The simulator judges the optimizer: disagreements land on the spec line of the constraint or objective."""

from __future__ import annotations

from pathlib import Path

import pytest

from .engine_support import BASE_SPEC, copy_example, edit, line_of, only, optimizer_of, solve

CONSTRAINT = "plant_hours[i in I]:"
OBJECTIVE = "maximize: sum(profit[j] * batches[j] for j in J)"


@pytest.fixture
def solved(tmp_path: Path) -> Path:
    spec = copy_example(BASE_SPEC, tmp_path)
    assert solve(spec).ok
    return spec


def test_violated_constraint_is_nemo401_on_its_constraint_line(solved: Path) -> None:
    # The user drops plant 3's hour limit from the optimizer: it now makes 4 doors and 6 windows,
    # which need 24 hours in plant 3, where the spec allows 18.
    edit(optimizer_of(solved), "    return model\n",
         "    model.plant_hours['plant3'].deactivate()\n    return model\n")
    report = solve(solved)

    assert report.generated["optimizer"] == "user-edited (kept)"
    assert report.outcome == "rejected"
    assert report.exit_code == 1
    assert report.solution is not None and report.solution.objective == pytest.approx(42)
    assert report.verdict is not None and not report.verdict.feasible
    f = only(report, "NEMO401")
    assert f.is_error
    assert f.span is not None and f.span.line + 1 == line_of(solved, CONSTRAINT)
    assert "plant_hours[plant3]" in f.message
    assert "24" in f.message and "18" in f.message


def test_variable_fixed_past_a_constraint_is_nemo401_on_that_constraint(solved: Path) -> None:
    # The user fixes windows at 7 and lifts plant 2's limit in the optimizer; plant 2 allows 6.
    edit(optimizer_of(solved), "    return model\n",
         "    model.batches['windows'].fix(7)\n    model.plant_hours['plant2'].deactivate()\n    return model\n")
    report = solve(solved)

    f = only(report, "NEMO401")
    assert f.span is not None and f.span.line + 1 == line_of(solved, CONSTRAINT)
    assert "plant_hours[plant2]" in f.message
    assert report.exit_code == 1


def test_scaled_objective_is_nemo402_on_the_objective_line(solved: Path) -> None:
    edit(optimizer_of(solved), "expr=sum((profit[j]", "expr=2 * sum((profit[j]")
    report = solve(solved)

    assert report.generated["optimizer"] == "user-edited (kept)"
    assert report.outcome == "rejected"
    assert report.solution is not None and report.solution.objective == pytest.approx(72)
    assert report.verdict is not None and report.verdict.feasible
    assert report.verdict.objective == pytest.approx(36)
    f = only(report, "NEMO402")
    assert f.span is not None and f.span.line + 1 == line_of(solved, OBJECTIVE)
    assert "72" in f.message and "36" in f.message
    assert "NEMO401" not in [g.code for g in report.findings]
