"""An agent's workspace: what goes in before a session, and what is trusted after it.

Real files in tmp_path, the prose-only furniture example, the templates as shipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import pytest

from nemo_lsp import jsonio
from nemo_lsp.agents import workspace
from nemo_lsp.agents.workspace import DATA_FILE, HARNESS_FILE, MAX_MODULE_BYTES, inspect, read_module
from nemo_lsp.analysis import Analysis, analyze
from nemo_lsp.engine.layout import Layout
from nemo_lsp.resources import render, templates_dir
from tests.agents import support

OPTIMIZER = "furniture.optimizer.py"
SIMULATOR = "furniture.simulator.py"
OPTIMIZER_LINE = 'm.labour = pyo.Constraint('
"""A line only the optimizer's code has."""
SIMULATOR_LINE = "def simulate(data, decisions):"

EVIDENCE = {
    "status": "optimal", "optimizer_objective": 3600.0, "simulator_objective": 3600.0, "feasible": False,
    "violations": [{"constraint": "labour", "amount": 350.0, "lhs": 800.0, "sense": "<=", "rhs": 450,
                    "source": "At most 400 board-feet of wood and 450 hours of labour are available each week."}],
    "missing": [], "messages": [], "decisions": {"make": [["chair", 80.0], ["table", 0.0]]},
}


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    return support.furniture(tmp_path)


@pytest.fixture
def analysis(spec: Path) -> Analysis:
    return analyze(spec.read_text(encoding="utf-8"))


def data_file(spec: Path, analysis: Analysis) -> Path:
    layout = Layout(spec)
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.data.write_text(jsonio.dumps(analysis.data_json(), True, sort_keys=True), encoding="utf-8")
    return layout.data


def prepare(folder: Path, spec: Path, analysis: Analysis, **kw) -> None:
    workspace.prepare(folder, analysis, spec_name=spec.name, data_file=data_file(spec, analysis), stem="furniture",
                      **kw)


def prompt(role: str, folder: Path, analysis: Analysis, **kw) -> str:
    target = SIMULATOR if role == "simulator" else OPTIMIZER
    return workspace.render_prompt(role, analysis, workspace=folder, target=target, spec_name="furniture.opt.md",
                                   **kw)


# --- inspect: what the agent left ----------------------------------------------------------------

def test_a_module_that_compiles_and_defines_build_model_is_usable(ws: Path) -> None:
    (ws / OPTIMIZER).write_text(support.canned("optimizer.py"), encoding="utf-8")
    seen = inspect(ws, OPTIMIZER, "optimizer")
    assert seen.problems == () and seen.escapes == ()


def test_a_simulator_that_defines_simulate_is_usable(ws: Path) -> None:
    (ws / SIMULATOR).write_text(support.canned("simulator.py"), encoding="utf-8")
    assert inspect(ws, SIMULATOR, "simulator").problems == ()


def test_a_target_that_was_never_written_is_reported_as_not_written(ws: Path) -> None:
    seen = inspect(ws, OPTIMIZER, "optimizer")
    assert seen.problems == (f"{OPTIMIZER} was not written",)


def test_a_target_that_is_a_symlink_to_a_file_inside_the_workspace_is_not_trusted(ws: Path) -> None:
    (ws / "real.py").write_text(support.canned("optimizer.py"), encoding="utf-8")
    (ws / OPTIMIZER).symlink_to(ws / "real.py")
    seen = inspect(ws, OPTIMIZER, "optimizer")
    assert len(seen.problems) == 1 and "is a symbolic link" in seen.problems[0]
    assert seen.escapes == ()  # it points inside: not an escape, but still not a file the agent wrote


def test_a_target_that_is_a_symlink_to_a_file_outside_is_unusable_and_reported_as_escaping(
        ws: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.py"
    outside.write_text(support.canned("optimizer.py"), encoding="utf-8")
    (ws / OPTIMIZER).symlink_to(outside)
    seen = inspect(ws, OPTIMIZER, "optimizer")
    assert "is a symbolic link" in seen.problems[0] and str(outside) in seen.problems[0]
    assert seen.escapes == (f"{OPTIMIZER} -> {outside}",)


def test_a_symlink_planted_to_etc_is_reported_as_escaping(ws: Path) -> None:
    (ws / OPTIMIZER).write_text(support.canned("optimizer.py"), encoding="utf-8")
    (ws / "etc").symlink_to("/etc")
    seen = inspect(ws, OPTIMIZER, "optimizer")
    assert seen.problems == ()  # the module itself is fine
    assert seen.escapes == ("etc -> /etc",)


def test_a_symlink_planted_to_the_users_home_is_reported_as_escaping(ws: Path) -> None:
    (ws / "sub").mkdir()
    (ws / "sub" / "home").symlink_to(Path.home())
    assert workspace.escaping_links(ws) == [f"{Path('sub') / 'home'} -> {Path.home()}"]


def test_symlinks_that_stay_inside_the_workspace_are_not_escapes(ws: Path) -> None:
    (ws / "a.py").write_text("x = 1\n", encoding="utf-8")
    (ws / "b.py").symlink_to("a.py")
    (ws / "here").symlink_to(".")
    assert workspace.escaping_links(ws) == []


def test_a_dangling_symlink_out_of_the_workspace_is_still_an_escape(ws: Path) -> None:
    (ws / "gone").symlink_to("/nonexistent/nemo/target")
    assert workspace.escaping_links(ws) == ["gone -> /nonexistent/nemo/target"]


def test_a_file_larger_than_max_module_bytes_is_refused_without_being_read(ws: Path) -> None:
    path = ws / OPTIMIZER
    with open(path, "wb") as fh:
        fh.write(b"def solve(data):\n    return {}\n")
        fh.truncate(MAX_MODULE_BYTES + 1)  # sparse: the size alone must reject it
    source, why = read_module(path)
    assert source is None
    assert why == f"{OPTIMIZER} is {MAX_MODULE_BYTES + 1:,} bytes, more than the {MAX_MODULE_BYTES:,} a module may have"
    assert inspect(ws, OPTIMIZER, "optimizer").problems == (why,)


def test_a_file_with_nul_bytes_is_binary_not_python(ws: Path) -> None:
    (ws / OPTIMIZER).write_bytes(b"def solve(data):\n    return {}\n\x00\x01\x02")
    assert inspect(ws, OPTIMIZER, "optimizer").problems == (f"{OPTIMIZER} is binary, not Python source",)


def test_a_file_that_is_not_utf8_is_refused_with_the_offending_byte(ws: Path) -> None:
    (ws / OPTIMIZER).write_bytes(b"# caf\xe9\ndef solve(data):\n    return {}\n")
    assert inspect(ws, OPTIMIZER, "optimizer").problems == (f"{OPTIMIZER} is not UTF-8 text (byte 5)",)


def test_a_folder_in_place_of_the_module_is_not_a_regular_file(ws: Path) -> None:
    (ws / OPTIMIZER).mkdir()
    assert inspect(ws, OPTIMIZER, "optimizer").problems == (f"{OPTIMIZER} is not a regular file",)


def test_a_syntax_error_is_reported_with_its_line_number(ws: Path) -> None:
    (ws / OPTIMIZER).write_text("import pyomo.environ as pyo\n\ndef build_model(data)\n    return None\n",
                                encoding="utf-8")
    (problem,) = inspect(ws, OPTIMIZER, "optimizer").problems
    assert problem.startswith(f"{OPTIMIZER}:3: syntax error")


@pytest.mark.parametrize("role", ["optimizer", "repair"])
def test_an_optimizer_needs_build_model_or_solve(ws: Path, role: str) -> None:
    (ws / OPTIMIZER).write_text("def simulate(data, decisions):\n    return {}\n", encoding="utf-8")
    assert inspect(ws, OPTIMIZER, role).problems == (f"{OPTIMIZER} defines neither build_model(data) nor solve(data)",)


@pytest.mark.parametrize("role", ["optimizer", "repair"])
def test_an_optimizer_with_only_solve_is_enough(ws: Path, role: str) -> None:
    (ws / OPTIMIZER).write_text("def solve(data):\n    return {'status': 'optimal'}\n", encoding="utf-8")
    assert inspect(ws, OPTIMIZER, role).problems == ()


def test_a_simulator_needs_simulate_even_when_it_defines_build_model(ws: Path) -> None:
    (ws / SIMULATOR).write_text(support.canned("optimizer.py"), encoding="utf-8")
    assert inspect(ws, SIMULATOR, "simulator").problems == (f"{SIMULATOR} does not define simulate(data, decisions)",)


def test_a_function_nested_in_a_class_does_not_meet_the_contract(ws: Path) -> None:
    (ws / SIMULATOR).write_text("class S:\n    def simulate(self, data, decisions):\n        return {}\n",
                                encoding="utf-8")
    assert inspect(ws, SIMULATOR, "simulator").problems != ()


# --- prepare: what the agent gets --------------------------------------------------------------

def test_prepare_puts_the_spec_the_data_the_contract_and_the_harness_in_the_workspace(
        ws: Path, spec: Path, analysis: Analysis) -> None:
    prepare(ws, spec, analysis)
    assert sorted(p.name for p in ws.iterdir()) == sorted(["CONTRACT.md", DATA_FILE, "furniture.opt.md", HARNESS_FILE])
    assert (ws / "furniture.opt.md").read_text(encoding="utf-8") == spec.read_text(encoding="utf-8")
    data = json.loads((ws / DATA_FILE).read_text(encoding="utf-8"))
    assert data["tables"]["products"]["columns"] == ["product", "profit", "wood", "labour"]
    assert (ws / HARNESS_FILE).read_bytes() == (templates_dir() / "harness.py").read_bytes()
    contract = (ws / "CONTRACT.md").read_text(encoding="utf-8")
    assert "`products` (product, profit, wood, labour); `resources` (resource, available)" in contract
    assert "furniture.optimizer.py" in contract and "furniture.simulator.py" in contract


def test_prepare_for_a_repair_adds_the_previous_optimizer_and_the_evidence(
        ws: Path, spec: Path, analysis: Analysis, tmp_path: Path) -> None:
    previous = tmp_path / OPTIMIZER
    previous.write_text(support.canned("optimizer_wrong_sense.py"), encoding="utf-8")
    prepare(ws, spec, analysis, previous=previous, evidence=EVIDENCE)
    assert (ws / OPTIMIZER).read_text(encoding="utf-8") == support.canned("optimizer_wrong_sense.py")
    assert json.loads((ws / "evidence.json").read_text(encoding="utf-8")) == EVIDENCE


def test_prepare_for_the_simulator_never_copies_the_optimizer_beside_the_spec(
        ws: Path, spec: Path, analysis: Analysis) -> None:
    spec.with_name(OPTIMIZER).write_text(support.canned("optimizer.py"), encoding="utf-8")
    prepare(ws, spec, analysis)
    assert not list(ws.glob("*.optimizer.py"))
    assert all(OPTIMIZER_LINE not in p.read_text(encoding="utf-8") for p in ws.iterdir())


# --- render_prompt: what the agent is told ------------------------------------------------------

@pytest.mark.parametrize("role", ["optimizer", "simulator"])
def test_the_prompt_names_the_workspace_and_carries_the_spec(ws: Path, analysis: Analysis, role: str) -> None:
    text = prompt(role, ws, analysis)
    assert f"Your workspace: `{ws}`" in text.splitlines()
    assert analysis.spec.text.strip() in text
    assert (SIMULATOR if role == "simulator" else OPTIMIZER) in text


def test_the_optimizer_prompt_never_carries_the_simulators_code(ws: Path, analysis: Analysis, spec: Path) -> None:
    spec.with_name(SIMULATOR).write_text(support.canned("simulator.py"), encoding="utf-8")
    text = prompt("optimizer", ws, analysis)
    assert SIMULATOR_LINE not in text and "simulate(" not in text


def test_the_simulator_prompt_never_carries_the_optimizers_code(ws: Path, analysis: Analysis, spec: Path) -> None:
    spec.with_name(OPTIMIZER).write_text(support.canned("optimizer.py"), encoding="utf-8")
    text = prompt("simulator", ws, analysis)
    assert OPTIMIZER_LINE not in text and "pyo." not in text


def test_a_template_with_a_missing_variable_fails_loudly(ws: Path) -> None:
    with pytest.raises(jinja2.UndefinedError, match="workspace"):
        render("agents/optimizer.md.j2", target=OPTIMIZER, spec_name="furniture.opt.md", data_file=DATA_FILE,
               spec_text="# a spec", memory=[])


def test_the_repair_prompt_lists_the_violation_with_its_amount_and_source_sentence(
        ws: Path, analysis: Analysis) -> None:
    text = prompt("repair", ws, analysis, evidence=EVIDENCE, round=2)
    assert ("- constraint `labour` is violated by 350.0: 800.0 <= 450 (spec: \"At most 400 board-feet of wood and "
            "450 hours of labour are available each week.\")") in text.splitlines()
    assert "repair round 2" in text
    assert f"Your workspace: `{ws}`" in text.splitlines()


def test_the_repair_prompt_says_something_even_without_violations(ws: Path, analysis: Analysis) -> None:
    text = prompt("repair", ws, analysis, evidence={"status": "infeasible"})
    assert "- the solver status was `infeasible`" in text.splitlines()
