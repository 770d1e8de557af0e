"""Benchmark files into problems, and problems into prose-only specs that never show the answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nemo_lsp.analysis import analyze
from nemo_lsp.bench.datasets import DatasetError, load, load_all, normalize_answer
from nemo_lsp.bench.specgen import prose_spec, safe_name, write_problem
from tests.bench import support

SHARED = support.ROOT.parent / "shared" / "benchmarks"


def test_the_test_problems_cover_the_nine_benchmarks():
    problems = load(support.PROBLEMS)
    assert {p.benchmark for p in problems} == {"nl4opt", "nlp4lp", "mamo_easylp", "mamo_complexlp", "industryor",
                                               "optibench", "optmath_bench", "complexor", "bwor"}
    by_id = {p.id: p for p in problems}
    assert by_id["nl4opt-8"].answer == 224.0 and by_id["nl4opt-8"].answer_status == "optimal"
    assert by_id["nl4opt-205"].answer is None and by_id["nl4opt-205"].answer_status == "infeasible"
    assert by_id["nlp4lp-120"].answer_status == "unknown"  # no_objective_in_source
    assert by_id["nl4opt-8"].source.startswith("Cardinal-Operations/SIRL@")


@pytest.mark.parametrize("raw, status, expected", [
    pytest.param(224.0, "optimal", (224.0, "optimal"), id="number"),
    pytest.param("1,160.5", None, (1160.5, "optimal"), id="text-number"),
    pytest.param([75], None, (75.0, "optimal"), id="one-element-list"),
    pytest.param("No Best Solution", None, (None, "infeasible"), id="orlm-no-solution"),
    pytest.param(-99999, None, (None, "infeasible"), id="orlm-sentinel"),
    pytest.param(-9999.0, None, (None, "infeasible"), id="sirl-sentinel"),
    pytest.param({"status": "infeasible_or_unbounded", "obj": None}, None, (None, "infeasible_or_unbounded"),
                 id="orthought-status"),
    pytest.param({"status": "optimal", "obj": 41}, None, (41.0, "optimal"), id="orthought-number"),
    pytest.param(None, "no_objective_in_source", (None, "unknown"), id="collection-unknown"),
    pytest.param(None, "infeasible_or_unbounded", (None, "infeasible_or_unbounded"), id="collection-either"),
    pytest.param("x = 3, y = 4", None, (None, "unknown"), id="not-a-number"),
    pytest.param(float("nan"), None, (None, "unknown"), id="nan"),
])
def test_answers_are_normalized_explicitly(raw, status, expected):
    assert normalize_answer(raw, status) == expected


def test_orlm_style_jsonl_and_json_lists_and_objects(tmp_path: Path):
    orlm = tmp_path / "NL4OPT.jsonl"
    orlm.write_text(json.dumps({"en_question": "Maximize x.", "en_answer": "12.5"}) + "\n\n"
                    + json.dumps({"en_question": "Infeasible one.", "en_answer": "No Best Solution"}) + "\n")
    problems = load(orlm)
    assert [(p.id, p.benchmark, p.answer, p.answer_status) for p in problems] == [
        ("NL4OPT-1", "NL4OPT", 12.5, "optimal"), ("NL4OPT-2", "NL4OPT", None, "infeasible")]
    as_list = tmp_path / "bwor.json"
    as_list.write_text(json.dumps([{"question": "Q1", "answer": 3}, {"question": "Q2", "answer": "-99999"}]))
    assert [(p.id, p.answer_status) for p in load(as_list)] == [("bwor-1", "optimal"), ("bwor-2", "infeasible")]
    as_object = tmp_path / "OptiBench.json"
    as_object.write_text(json.dumps({"7": {"question": "Q", "results": {"total cost": "40"}}}))
    assert [(p.id, p.answer) for p in load(as_object)] == [("7", 40.0)]


@pytest.mark.parametrize("content, message", [
    pytest.param('{"question": "q", "answer": 1}\n{not json\n', "x.jsonl:2: not JSON", id="bad-line"),
    pytest.param('{"answer": 1}\n', "no question", id="no-question"),
    pytest.param('{"id": "a", "question": "q"}\n{"id": "a", "question": "r"}\n', "appears twice", id="duplicate"),
])
def test_unreadable_files_name_the_place(tmp_path: Path, content: str, message: str):
    path = tmp_path / "x.jsonl"
    path.write_text(content)
    with pytest.raises(DatasetError, match=message):
        load(path)


def test_limit_and_ids(tmp_path: Path):
    assert [p.id for p in load_all([support.PROBLEMS], limit=2)] == ["nl4opt-8", "nl4opt-15"]
    assert [p.id for p in load_all([support.PROBLEMS], ids=["bwor-69"])] == ["bwor-69"]
    with pytest.raises(DatasetError, match="no problem with id nope"):
        load_all([support.PROBLEMS], ids=["nope"])
    with pytest.raises(DatasetError, match="is in both"):
        load_all([support.PROBLEMS, support.PROBLEMS])


def test_a_spec_is_the_question_as_prose_without_the_answer(tmp_path: Path):
    problem = load_all([support.PROBLEMS], ids=["nl4opt-8"])[0]
    spec = write_problem(problem, tmp_path / "nl4opt-8" / "run-1", samples=3)
    text = spec.read_text()
    assert spec.name == "nl4opt-8.opt.md"
    assert text.startswith("---\nsamples: 3\n---\n# Problem nl4opt-8\n\nA chair produced by Elm Furniture")
    assert "224" not in text and "expect" not in text  # the agent reads the spec: no answer in it
    assert json.loads((tmp_path / "nl4opt-8" / "problem.json").read_text())["answer"] == 224.0
    assert not [f for f in analyze(text).findings if f.is_error]


def test_a_question_the_reader_would_reject_is_fenced():
    from nemo_lsp.bench.datasets import Problem

    question = "Costs:\n\n| a | b |\n|---|---|\n| 1 | 2 | 3 |\n\nTable: costs\n\nMinimize ``` cost."
    text = prose_spec(Problem("weird/1", "x", question, 1.0, "optimal"))
    assert "````text\n" + question + "\n````" in text
    assert not [f for f in analyze(text).findings if f.is_error]
    assert safe_name("weird/1") == "weird_1"


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared benchmark collection is not beside the repository")
def test_every_problem_of_the_shared_collection_loads_and_lints_cleanly():
    problems = [p for path in sorted(SHARED.glob("*.jsonl")) for p in load(path)]
    assert len(problems) == 2895
    assert {p.answer_status for p in problems} == {"optimal", "infeasible", "infeasible_or_unbounded", "unknown"}
    bad = [p.id for p in problems if any(f.is_error for f in analyze(prose_spec(p)).findings)]
    assert bad == []
