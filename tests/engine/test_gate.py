"""The simulator gate: the simulator's checks run before its verdict counts.

A check is example decisions with the verdict the text settles (spec/checks.py). A simulator that
fails one is repaired (a `repair_simulator` session shown the failed checks) or reported (NEMO411
on the check's line), and the run is not validated. Real sandbox, real HiGHS; the scripted agent
replays canned modules (tests/agents/canned/furniture) for the coding-agent cases.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nemo_lsp.agents.workspace import render_prompt
from nemo_lsp.analysis import analyze
from nemo_lsp.engine.gate import judge, spec_checks
from nemo_lsp.engine.layout import Layout
from nemo_lsp.engine.settings import Tolerance
from nemo_lsp.spec.checks import Check
from tests.agents import support
from tests.cli.cli_support import nemo
from tests.engine.engine_support import codes, copy_example, edit, line_of, only, simulator_of, solve

RIGHT = support.canned("optimizer.py")
JUDGE = support.canned("simulator.py")
NO_LABOUR = JUDGE.replace('for resource in ("wood", "labour"):', 'for resource in ("wood",):')
"""A simulator that forgot the labour limit: it calls a plan that overworks the staff feasible."""
TOO_MUCH_LABOUR = """checks:
  - name: too much labour
    why: 46 chairs need 460 hours of labour, more than the 450 available
    decisions: {make: {chair: 46, table: 0}}
    feasible: false
  - name: nothing made
    decisions: {make: {}}
    feasible: true
    objective: 0
"""


def scripted(folder: Path, monkeypatch: pytest.MonkeyPatch, **files: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, text in files.items():
        (folder / f"{stem.replace('_', '-')}.py").write_text(text, encoding="utf-8")
    monkeypatch.setenv("NEMO_SCRIPTED_DIR", str(folder))


# --- the checks' format ------------------------------------------------------------------------

def test_front_matter_and_model_block_checks_are_read_with_their_lines() -> None:
    text = (Path(__file__).resolve().parents[2] / "examples" / "knapsack.opt.md").read_text(encoding="utf-8")
    text = text.replace("---\n\n#", "checks:\n  - {decisions: {pack: {map: 1}}, feasible: true, objective: 150}\n"
                        "---\n\n#", 1)
    text = text.replace("<= capacity\n", "<= capacity\nchecks:\n  - name: all of it\n    pack: {map: 1, water: 1}\n"
                        "    feasible: true\n", 1)
    analysis = analyze(text)
    first, second = spec_checks(analysis)
    assert (first.name, first.decisions, first.feasible, first.objective) == ("check 1", {"pack": {"map": 1}}, True,
                                                                              150)
    assert first.span is not None and analysis.spec.lines[first.span.line].startswith("  - {decisions")
    assert (second.name, second.decisions) == ("all of it", {"pack": {"map": 1, "water": 1}})  # the short form
    assert second.span is not None and analysis.spec.lines[second.span.line] == "  - name: all of it"


@pytest.mark.parametrize("item, problem", [
    pytest.param("{decisions: {make: {chair: 1}}}", "needs `feasible: true` or `feasible: false`", id="no-verdict"),
    pytest.param("{make: {chair: one}, feasible: true}", "the value of `make` must be a number", id="bad-value"),
    pytest.param("{make: 1, feasible: true, objective: lots}", "`objective` must be a number", id="bad-objective"),
    pytest.param("{decisions: {make: 1}, table: 2, feasible: true}", "has `decisions` and also `table`", id="mixed"),
])
def test_a_malformed_check_is_nemo104_on_its_item(item: str, problem: str) -> None:
    analysis = analyze(f"---\nchecks:\n  - {item}\n---\n# T\n")
    (f,) = [f for f in analysis.findings if f.code == "NEMO104"]
    assert problem in f.message and f.span is not None and f.span.line == 2


def test_a_check_passes_when_feasibility_and_objective_match_within_the_tolerance() -> None:
    check = Check("c", {}, True, 100.0)
    assert judge(check, {"feasible": True, "objective": 100.00001}, Tolerance(abs=1e-9, rel=1e-6)).passed
    wrong = judge(check, {"feasible": True, "objective": 101.0}, Tolerance())
    assert not wrong.passed and wrong.reason == "the simulator computes objective 101 but the check expects 100"
    infeasible = judge(check, {"feasible": False, "objective": 100.0,
                               "violations": [{"constraint": "wood", "amount": 5}]}, Tolerance())
    assert infeasible.reason == "the simulator says infeasible (violated: `wood` by 5) but the check expects feasible"


# --- the gate in a run -------------------------------------------------------------------------

def test_a_simulator_failing_a_spec_check_is_repaired_and_the_run_validates(tmp_path: Path, monkeypatch) -> None:
    scripted(tmp_path / "canned", monkeypatch, optimizer=RIGHT, simulator=NO_LABOUR, repair_simulator_1=JUDGE)
    spec = support.furniture(tmp_path, TOO_MUCH_LABOUR)
    report = solve(spec, agent="scripted")
    assert report.outcome == "validated", [(f.code, f.message) for f in report.findings]
    assert report.gate is not None and report.gate["summary"] == "2/2 checks"
    (repair,) = report.gate["repairs"]
    assert repair == {"round": 1, "failed": ["too much labour"], "outcome": "repaired"}
    assert report.generated["simulator"] == "repaired (round 1)"
    evidence = json.loads((Layout(spec).work / "repair-simulator-1" / "evidence.json").read_text(encoding="utf-8"))
    assert evidence["failed_checks"][0]["decisions"] == {"make": {"chair": 46, "table": 0}}
    assert "46 chairs need 460 hours" in evidence["lines"][0]
    assert spec.with_name("furniture.simulator.py").read_text(encoding="utf-8") == JUDGE


def test_a_simulator_that_cannot_be_repaired_is_nemo411_on_the_checks_line_and_not_validated(
        tmp_path: Path, monkeypatch) -> None:
    scripted(tmp_path / "canned", monkeypatch, optimizer=RIGHT, simulator=NO_LABOUR)
    spec = support.furniture(tmp_path, TOO_MUCH_LABOUR)
    report = solve(spec, agent="scripted", repair_rounds=0)
    assert report.outcome == "rejected"
    f = only(report, "NEMO411")
    assert f.span is not None and f.span.line + 1 == line_of(spec, "- name: too much labour")
    assert "`too much labour`" in f.message and "says feasible" in f.message
    assert report.gate is not None and report.gate["summary"] == "1/2 checks FAILED"
    assert report.probe is None  # an untrusted simulator's scores prove nothing


def test_an_edited_formal_simulator_that_breaks_a_model_block_check_is_not_trusted(tmp_path: Path) -> None:
    spec = copy_example("knapsack.opt.md", tmp_path)
    edit(spec, "<= capacity\n", "<= capacity\nchecks:\n  - name: water and tin\n    pack: {water: 1, tin: 1}\n"
         "    feasible: true\n    objective: 245\n  - name: everything\n    pack: {water: 1, tin: 1, umbrella: 1, "
         "beer: 1, trousers: 1, sandwich: 1}\n    feasible: false\n")
    first = solve(spec)
    assert first.outcome == "validated" and first.gate is not None and first.gate["summary"] == "2/2 checks"
    edit(simulator_of(spec), "objective = ", "objective = 1 + ")
    second = solve(spec)
    assert second.outcome == "rejected"
    f = only(second, "NEMO411")
    assert f.span is not None and f.span.line + 1 == line_of(spec, "- name: water and tin")
    assert "computes objective 246 but the check expects 245" in f.message


def test_without_spec_checks_a_coding_agents_simulator_runs_its_own(tmp_path: Path, monkeypatch) -> None:
    own = NO_LABOUR + ('\nCHECKS = [{"name": "overworked", "decisions": {"make": {"chair": 46}}, "feasible": False},\n'
                       '          {"name": "idle", "decisions": {"make": {}}, "feasible": True, "objective": 0}]\n')
    scripted(tmp_path / "canned", monkeypatch, optimizer=RIGHT, simulator=own)
    spec = support.furniture(tmp_path)
    report = solve(spec, agent="scripted", repair_rounds=0)
    assert report.outcome == "rejected" and report.gate is not None
    assert report.gate["summary"] == "1/2 checks (the simulator's own) FAILED"
    f = only(report, "NEMO411")
    assert "its own check `overworked`" in f.message and f.span == analyze(spec.read_text()).spec.title_span


def test_the_simulator_prompt_asks_for_checks_only_when_the_spec_has_none(tmp_path: Path) -> None:
    def prompt(text: str) -> str:
        return render_prompt("simulator", analyze(text), workspace=tmp_path, target="t.simulator.py", spec_name="t")
    assert "define a module-level list `CHECKS`" in prompt("# T\n")
    with_checks = prompt("---\nchecks:\n  - {x: 1, feasible: true}\n---\n# T\n")
    assert "CHECKS" not in with_checks and '"feasible": true' in with_checks


def test_no_checks_and_the_formal_agent_is_an_open_gate(tmp_path: Path) -> None:
    report = solve(copy_example("diet.opt.md", tmp_path))
    assert report.outcome == "validated" and report.gate is not None
    assert (report.gate["source"], report.gate["summary"]) == ("none", "no checks")
    assert "NEMO411" not in codes(report)


def test_nemo_solve_prints_the_gate_and_nemo411_on_the_checks_line(tmp_path: Path) -> None:
    canned = tmp_path / "canned"
    canned.mkdir()
    (canned / "optimizer.py").write_text(RIGHT, encoding="utf-8")
    (canned / "simulator.py").write_text(NO_LABOUR, encoding="utf-8")
    spec = support.furniture(tmp_path, f"agent: scripted\nagent_options:\n  base_url: {canned}\nrepair_rounds: 0\n"
                                       + TOO_MUCH_LABOUR)
    run = nemo("solve", spec.name, cwd=tmp_path)
    assert run.returncode == 1
    assert "  gate        simulator gate: 1/2 checks FAILED\n" in run.stdout
    printed = run.finding("NEMO411")
    assert printed.line == line_of(spec, "- name: too much labour") and printed.severity == "error"
