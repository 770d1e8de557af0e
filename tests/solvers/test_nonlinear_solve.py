"""Nonlinear examples through `nemo solve`: routed by class, solved, validated; and the honest failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import shutil

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TRACEBACK = "Traceback (most recent call last)"

pytestmark = pytest.mark.slow


def copy_example(name: str, dest: Path) -> Path:
    return Path(shutil.copy(EXAMPLES / name, dest / name))


def nemo(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("NEMO_DEBUG", "NEMO_HIDE_SOLVERS")}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "nemo_lsp.cli", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("name, objective, label, solver", [
    pytest.param("portfolio.opt.md", 171 / 4400, "QP (convex)", "highs", id="portfolio-qp"),
    pytest.param("pricing.opt.md", 10000 * 2.718281828459045 ** -3 + 16000 * 2.718281828459045 ** -2.5,
                 "NLP (convexity not decided)", "scip", id="pricing-nlp"),
    pytest.param("lot-sizing.opt.md", 1690, "MINLP (nonconvex)", "scip", id="lot-sizing-minlp"),
])
def test_nonlinear_example_is_routed_by_class_and_validates(name: str, objective: float, label: str, solver: str,
                                                            tmp_path: Path) -> None:
    spec = copy_example(name, tmp_path)

    run = nemo("solve", spec.name, "--json", cwd=tmp_path)

    assert TRACEBACK not in run.stderr
    report = json.loads(run.stdout)
    assert run.returncode == 0, run.stdout[-3000:]
    assert (report["outcome"], report["status"]) == ("validated", "optimal")
    assert report["objective"] == pytest.approx(objective, rel=1e-6)
    assert report["problem_class"]["label"] == label
    assert report["solver_choice"]["solver"] == report["solution"]["solver"] == solver


def test_the_text_report_names_the_class_and_the_solver(tmp_path: Path) -> None:
    spec = copy_example("lot-sizing.opt.md", tmp_path)

    run = nemo("solve", spec.name, cwd=tmp_path)

    assert "  class       MINLP (nonconvex) -> scip: HiGHS takes no nonlinear terms" in run.stdout


def test_a_class_no_installed_solver_handles_is_nemo530_naming_the_solver_that_would(tmp_path: Path) -> None:
    spec = copy_example("lot-sizing.opt.md", tmp_path)

    run = nemo("solve", spec.name, "--json", cwd=tmp_path, env={"NEMO_HIDE_SOLVERS": "scip,gurobi"})

    report = json.loads(run.stdout)
    assert run.returncode == 1
    assert report["outcome"] == "not_run"
    [f] = [f for f in report["findings"] if f["code"] == "NEMO530"]
    assert "this model is MINLP (nonconvex)" in f["message"]
    assert "SCIP would" in f["message"] and "`pip install pyscipopt`" in f["message"]
    assert f["span"]["line"] == spec.read_text().split("\n").index(
        next(line for line in spec.read_text().split("\n") if line.startswith("minimize:")))
    assert not (tmp_path / "lot-sizing.optimizer.py").exists()  # stopped before any generation


def test_a_linear_example_still_solves_with_scip_hidden(tmp_path: Path) -> None:
    spec = copy_example("knapsack.opt.md", tmp_path)

    run = nemo("solve", spec.name, "--json", cwd=tmp_path, env={"NEMO_HIDE_SOLVERS": "scip"})

    report = json.loads(run.stdout)
    assert (report["outcome"], report["solution"]["solver"]) == ("validated", "highs")


def test_doctor_lists_the_solvers_with_versions_and_what_they_solve(tmp_path: Path) -> None:
    run = nemo("doctor", cwd=tmp_path, env={"NEMO_HIDE_SOLVERS": "gurobi"})

    lines = run.stdout.split("\n")
    start = lines.index("solvers:")
    solvers = lines[start + 1:start + 5]
    assert solvers[0].split()[:2] == ["highs", "highspy"] and solvers[0].endswith("LP, MILP, QP (convex)")
    assert solvers[1].split()[:2] == ["scip", "pyscipopt"] and "(SCIP " in solvers[1]
    assert solvers[1].endswith("LP, MILP, QP, MIQP, NLP, MINLP")
    assert solvers[2].split() == ["gurobi", "hidden", "by", "NEMO_HIDE_SOLVERS"]
    assert solvers[3].startswith("  ipopt")


LOCAL_SPEC = """---
agent: scripted
agent_options: {base_url: CANNED}
---
# Smallest square

We decide a number x between 1 and 3. The goal is to minimize x squared.

```model
vars:
  x: {lb: 1, ub: 3}
minimize: x ** 2
```
"""

LOCAL_OPTIMIZER = '''
def solve(data):
    """A local NLP solver's answer: converged, but only a local optimum is proven."""
    return {"status": "locally_optimal", "objective": 1.0, "sense": "minimize", "decisions": {"x": 1.0},
            "solver": "ipopt", "solver_version": "3.14"}
'''


def test_a_local_optimum_validates_labelled_local_never_as_optimal(tmp_path: Path) -> None:
    canned = tmp_path / "canned"
    canned.mkdir()
    (canned / "optimizer.py").write_text(LOCAL_OPTIMIZER)
    from nemo_lsp.agents.formal import FormalAgent
    from nemo_lsp.analysis import analyze

    analysis = analyze(LOCAL_SPEC)
    (canned / "simulator.py").write_text(FormalAgent().render("simulator", analysis, "square.opt.md"))
    spec = tmp_path / "square.opt.md"
    spec.write_text(LOCAL_SPEC.replace("CANNED", str(canned)))

    run = nemo("solve", spec.name, "--json", cwd=tmp_path)
    text = nemo("solve", spec.name, cwd=tmp_path).stdout

    report = json.loads(run.stdout)
    assert (report["outcome"], report["status"]) == ("validated", "locally_optimal")
    assert [f["code"] for f in report["findings"] if f["code"] == "NEMO420"] == ["NEMO420"]
    assert "  status      locally_optimal (ipopt 3.14)" in text
