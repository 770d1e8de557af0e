"""`nemo solve` never overwrites a generated file the user edited; `--regenerate` backs it up first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .cli_support import BASE_SPEC, copy_example, edit, nemo, presolve

# Still a valid optimizer, but a different model: at most 1 door, so the optimum is 1*3 + 6*5 = 33.
USER_EDIT = "    model.user_cap = pyo.Constraint(expr=model.batches['doors'] <= 1)  # my edit\n    return model\n"

HAND_WRITTEN = '''"""My own optimizer, written before nemo ever ran here."""


def solve(data):
    # hand-made: 2 doors and 6 windows
    return {"status": "optimal", "objective": 36.0, "sense": "maximize",
            "decisions": {"batches": [["doors", 2.0], ["windows", 6.0]]}}
'''


def optimizer_of(spec: Path) -> Path:
    return spec.with_name(spec.name.replace(".opt.md", ".optimizer.py"))


@pytest.fixture
def solved(tmp_path: Path) -> Path:
    spec = copy_example(BASE_SPEC, tmp_path)
    presolve(spec)
    return spec


def test_edited_optimizer_is_kept_and_used(solved: Path) -> None:
    module = optimizer_of(solved)
    edit(module, "    return model\n", USER_EDIT)
    edited = module.read_text(encoding="utf-8")

    run = nemo("solve", solved.name, "--json", cwd=solved.parent)

    assert module.read_text(encoding="utf-8") == edited
    report = json.loads(run.stdout)
    assert report["generated"]["optimizer"] == "user-edited (kept)"
    assert report["objective"] == pytest.approx(33)  # the edit is what ran
    assert report["validation"]["feasible"] is True
    codes = [f["code"] for f in report["findings"]]
    assert "NEMO202" in codes
    assert "NEMO406" in codes  # the spec expects 36
    assert run.returncode == 1


def test_edited_optimizer_prints_nemo202_warning(solved: Path) -> None:
    edit(optimizer_of(solved), "    return model\n", USER_EDIT)

    run = nemo("solve", solved.name, cwd=solved.parent)

    f = run.finding("NEMO202")
    assert f.severity == "warning"
    assert "production-mix.optimizer.py" in f.message
    assert "--regenerate" in f.message
    assert "user-edited (kept)" in run.stdout



def test_regenerate_backs_up_the_edit_and_writes_a_fresh_optimizer(solved: Path) -> None:
    module = optimizer_of(solved)
    fresh = module.read_text(encoding="utf-8")
    edit(module, "    return model\n", USER_EDIT)
    edited = module.read_text(encoding="utf-8")

    run = nemo("solve", solved.name, "--regenerate", "--json", cwd=solved.parent)

    assert run.returncode == 0, run.output
    assert module.read_text(encoding="utf-8") == fresh
    backups = list((solved.parent / ".nemo" / "production-mix" / "backups").iterdir())
    assert [b.read_text(encoding="utf-8") for b in backups] == [edited]
    assert backups[0].name.startswith("production-mix.optimizer")
    report = json.loads(run.stdout)
    assert report["generated"]["optimizer"] == "generated"
    assert report["objective"] == pytest.approx(36)
    assert "NEMO202" not in [f["code"] for f in report["findings"]]


def test_optimizer_that_existed_before_any_run_is_kept(tmp_path: Path) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)
    module = optimizer_of(spec)
    module.write_text(HAND_WRITTEN, encoding="utf-8")

    run = nemo("solve", spec.name, "--json", cwd=tmp_path)

    assert module.read_text(encoding="utf-8") == HAND_WRITTEN
    report = json.loads(run.stdout)
    assert report["generated"] == {"optimizer": "user-edited (kept)", "simulator": "generated"}
    [kept] = [f for f in report["findings"] if f["code"] == "NEMO202"]
    assert "not written by nemo" in kept["message"]
    assert report["outcome"] == "validated"  # the simulator judged the hand-written answer
    assert report["objective"] == pytest.approx(36)
    assert run.returncode == 0


def test_optimizer_that_existed_before_any_run_is_backed_up_on_regenerate(tmp_path: Path) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)
    module = optimizer_of(spec)
    module.write_text(HAND_WRITTEN, encoding="utf-8")

    run = nemo("solve", spec.name, "--regenerate", cwd=tmp_path)

    assert run.returncode == 0, run.output
    assert module.read_text(encoding="utf-8") != HAND_WRITTEN
    backups = list((tmp_path / ".nemo" / "production-mix" / "backups").iterdir())
    assert [b.read_text(encoding="utf-8") for b in backups] == [HAND_WRITTEN]
