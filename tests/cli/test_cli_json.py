"""`nemo solve --json` prints one JSON document with the report's main keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .cli_support import BASE_SPEC, copy_example, nemo


def test_json_output_has_outcome_status_objective_findings_and_decisions(tmp_path: Path) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)

    run = nemo("solve", spec.name, "--json", cwd=tmp_path)

    assert run.returncode == 0, run.output
    report = json.loads(run.stdout)  # the whole of stdout is one JSON document
    assert {"outcome", "status", "objective", "findings", "solution"} <= set(report)
    assert report["outcome"] == "validated"
    assert report["status"] == "optimal"
    assert report["objective"] == pytest.approx(36)
    assert isinstance(report["findings"], list)
    decisions = report["solution"]["decisions"]
    values = {row[0]: row[-1] for row in decisions["batches"]}
    assert values == pytest.approx({"doors": 2, "windows": 6})


def test_json_output_for_a_spec_that_cannot_run_is_still_json(tmp_path: Path) -> None:
    spec = tmp_path / "empty.opt.md"
    spec.write_text("", encoding="utf-8")

    run = nemo("solve", spec.name, "--json", cwd=tmp_path)

    assert run.returncode == 1
    report = json.loads(run.stdout)
    assert report["outcome"] == "not_run"
    assert report["status"] is None and report["objective"] is None
    assert [f["code"] for f in report["findings"]] == ["NEMO101"]
    assert report["findings"][0]["span"]["line"] == 0


def test_json_findings_carry_code_severity_message_and_span(tmp_path: Path) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)
    text = spec.read_text(encoding="utf-8").replace("Table: plants\n", "Table: plantz\n")
    spec.write_text(text, encoding="utf-8")

    run = nemo("solve", spec.name, "--json", cwd=tmp_path)

    assert run.returncode == 1
    findings = json.loads(run.stdout)["findings"]
    assert findings
    for f in findings:
        assert {"code", "severity", "message", "span", "related", "fixes"} <= set(f)
        assert f["code"].startswith("NEMO")
