"""The store and the progress line, without running the engine."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from nemo_lsp.bench.datasets import Problem
from nemo_lsp.bench.runner import BenchError, ProgressLine, RunConfig, Store, error_record


def record(pid: str, answer: float | None, got: float | None, status: str = "optimal") -> dict:
    return {"id": pid, "benchmark": "b", "expected": {"answer": answer, "status": status}, "outcome": "validated",
            "status": "optimal" if got is not None else None, "objective": got}


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    p = ProgressLine(3, [record("a", 1.0, 1.0)], stream=out, tty=False)
    p.start()
    p.finished(record("b", 1.0, 2.0))
    p.finished(record("c", None, None, status="unknown"))
    lines = out.getvalue().splitlines()
    assert lines[0] == "bench: 3 problems, 1 already done"
    assert lines[1].startswith("[2/3]  acc 50.0% (rel 1e-4, 2 scored)  ") and "ETA" in lines[1]
    assert lines[1].endswith("last b: validated -> wrong")
    assert lines[2].startswith("[3/3]  acc 50.0% (rel 1e-4, 2 scored)") and lines[2].endswith("-> unscored")


def test_one_line_redrawn_on_a_terminal():
    out = io.StringIO()
    p = ProgressLine(2, [], stream=out, tty=True)
    p.start()
    p.finished(record("a", 1.0, 1.0))
    p.close()
    text = out.getvalue()
    assert text.count("\r\033[K") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "[1/2]  acc 100.0%" in text


def test_attempts_get_fresh_folders_and_harness_errors_are_retried(tmp_path: Path):
    store = Store(tmp_path / "run")
    store.open(RunConfig("scripted"), resume=False)
    problem = Problem("x/1", "b", "q", 1.0, "optimal")
    assert store.new_attempt(problem) == "problems/x_1/run-1"
    (tmp_path / "run/problems/x_1/run-1").mkdir()
    (tmp_path / "run/problems/x_1/run-1/partial.txt").write_text("left by a killed run")
    assert store.new_attempt(problem) == "problems/x_1/run-2"
    assert not (tmp_path / "run/problems/x_1/run-1").exists()
    store.save(error_record(problem, "problems/x_1/run-2", "OSError: disk full", "local", 0.1))
    assert [r["id"] for r in store.records()] == ["x/1"] and store.done() == set()
    store.save(record("x/1", 1.0, 1.0))
    assert store.done() == {"x/1"}
    assert json.loads((tmp_path / "run/results/x_1.json").read_text())["objective"] == 1.0


def test_a_used_folder_is_continued_only_with_the_same_settings(tmp_path: Path):
    Store(tmp_path).open(RunConfig("chat", {"model": "m1"}), resume=False)
    with pytest.raises(BenchError, match="already holds a run"):
        Store(tmp_path).open(RunConfig("chat", {"model": "m1"}), resume=False)
    with pytest.raises(BenchError, match="other settings .*model=m1"):
        Store(tmp_path).open(RunConfig("chat", {"model": "m2"}), resume=True)
    Store(tmp_path).open(RunConfig("chat", {"model": "m1"}, datasets=("more.jsonl",)), resume=True)
    assert json.loads((tmp_path / "bench.json").read_text())["datasets"] == ["more.jsonl"]
