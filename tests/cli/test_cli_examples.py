"""Every example spec solves through `nemo solve --json` and gives the answer its front matter expects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from .cli_support import EXAMPLES, TRACEBACK, copy_example, nemo

EXAMPLE_SPECS = sorted(p.name for p in EXAMPLES.glob("*.opt.md"))  # examples/large is not globbed


def expectation(spec: Path) -> dict:
    lines = spec.read_text(encoding="utf-8").split("\n")
    assert lines[0].strip() == "---", f"{spec.name} has no front matter"
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    expect = (yaml.safe_load("\n".join(lines[1:end])) or {}).get("expect")
    assert isinstance(expect, dict) and ("objective" in expect or "status" in expect), \
        f"{spec.name} declares no expect.objective or expect.status"
    return expect


def test_examples_folder_has_specs() -> None:
    assert len(EXAMPLE_SPECS) >= 10


@pytest.mark.parametrize("name", EXAMPLE_SPECS)
def test_example_solves_to_its_expected_result(name: str, tmp_path: Path) -> None:
    spec = copy_example(name, tmp_path)
    expect = expectation(spec)

    run = nemo("solve", spec.name, "--json", cwd=tmp_path)

    assert TRACEBACK not in run.stderr
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}"
    report = json.loads(run.stdout)
    assert report["ok"] is True
    if "objective" in expect:
        assert report["outcome"] == "validated"
        assert report["objective"] == pytest.approx(float(expect["objective"]), rel=1e-6)
    if "status" in expect:
        assert report["status"] == expect["status"]
        assert report["outcome"] == ("validated" if expect["status"] == "optimal" else "expected")
    assert not [f for f in report["findings"] if f["severity"] == "error"]
