"""Stored reports read back: `Report.from_json` inverts `to_json` on real runs, and damaged files are None.

The reports come from `nemo solve --json` run as a user would (a validated, a rejected and an
infeasible spec); `.nemo/NAME/report.json` is what the language server restores after a restart.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nemo_lsp.analysis import analyze
from nemo_lsp.engine.report import Report, load_report
from nemo_lsp.findings import Finding, Related, Severity, Span
from nemo_lsp.server import actions, hover
from nemo_lsp.server.convert import to_diagnostic
from nemo_lsp.spec.document import text_sha256

from .engine_support import EXAMPLES, edit, optimizer_of


def nemo_solve_json(spec: Path) -> dict[str, Any]:
    """`nemo solve --json SPEC` in the spec's folder, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if k != "NEMO_DEBUG"}
    done = subprocess.run([sys.executable, "-m", "nemo_lsp.cli", "solve", "--json", spec.name], cwd=spec.parent,
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return json.loads(done.stdout)


def as_stored(value: Any) -> Any:
    """What a value becomes once written as the engine writes report.json and read back."""
    return json.loads(json.dumps(value, indent=1, default=str))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any]]]:
    """name -> (spec, the report `nemo solve --json` printed) for three real runs."""
    folder = tmp_path_factory.mktemp("reports")
    out = {}
    diet = folder / "diet.opt.md"
    diet.write_text((EXAMPLES / "diet.opt.md").read_text(encoding="utf-8"), encoding="utf-8")
    out["validated"] = (diet, nemo_solve_json(diet))

    # Rejected: the user drops plant 3's hour limit from the optimizer; the simulator finds it violated.
    mix = folder / "production-mix.opt.md"
    mix.write_text((EXAMPLES / "production-mix.opt.md").read_text(encoding="utf-8"), encoding="utf-8")
    nemo_solve_json(mix)
    edit(optimizer_of(mix), "    return model\n", "    model.plant_hours['plant3'].deactivate()\n    return model\n")
    out["rejected"] = (mix, nemo_solve_json(mix))

    # Infeasible, once as the example declares it (outcome `expected`) and once undeclared.
    bakery = folder / "infeasible.opt.md"
    bakery.write_text((EXAMPLES / "infeasible.opt.md").read_text(encoding="utf-8"), encoding="utf-8")
    out["expected infeasible"] = (bakery, nemo_solve_json(bakery))
    plain = folder / "bakery.opt.md"
    plain.write_text((EXAMPLES / "infeasible.opt.md").read_text(encoding="utf-8").replace("  status: infeasible\n", ""),
                     encoding="utf-8")
    out["infeasible"] = (plain, nemo_solve_json(plain))
    return out


KINDS = ["validated", "rejected", "expected infeasible", "infeasible"]


def test_the_runs_are_the_kinds_this_module_needs(reports):
    outcomes = {kind: reports[kind][1]["outcome"] for kind in KINDS}
    assert outcomes == {"validated": "validated", "rejected": "rejected", "expected infeasible": "expected",
                        "infeasible": "infeasible"}
    assert "NEMO401" in [f["code"] for f in reports["rejected"][1]["findings"]]
    assert "NEMO404" in [f["code"] for f in reports["infeasible"][1]["findings"]]


@pytest.mark.parametrize("kind", KINDS)
def test_to_json_from_json_to_json_is_the_identity_on_a_real_report(reports, kind):
    _, printed = reports[kind]
    restored = Report.from_json(printed)
    assert restored is not None
    assert as_stored(restored.to_json()) == printed
    # and a second trip changes nothing either
    assert as_stored(Report.from_json(as_stored(restored.to_json())).to_json()) == printed


@pytest.mark.parametrize("kind", KINDS)
def test_the_stored_report_is_the_printed_one_and_records_the_hash_of_the_spec_text(reports, kind):
    spec, printed = reports[kind]
    stored = load_report(spec.parent / ".nemo" / spec.name.removesuffix(".opt.md") / "report.json")
    assert stored is not None
    assert as_stored(stored.to_json()) == printed
    text = spec.read_text(encoding="utf-8")
    assert printed["spec_sha256"] == text_sha256(text)
    assert stored.describes(text)
    assert stored.describes(text.replace("\n", "\r\n"))  # the same spec saved with CRLF line endings
    assert not stored.describes(text + "\nOne more sentence.\n")


def test_a_restored_rejection_has_its_finding_where_the_run_put_it(reports):
    _, printed = reports["rejected"]
    restored = Report.from_json(printed)
    assert restored is not None and restored.outcome == "rejected" and not restored.ok and restored.exit_code == 1
    original = next(f for f in printed["findings"] if f["code"] == "NEMO401")
    f = next(f for f in restored.findings if f.code == "NEMO401")
    assert f.severity == Severity.ERROR and f.span == Span(**original["span"])
    assert f.message == original["message"] and list(f.fixes) == original["fixes"]
    assert f.data == original["data"]
    assert restored.verdict is not None and restored.verdict.feasible is False
    assert restored.verdict.slack == printed["validation"]["slack"]
    assert restored.solution is not None and restored.solution.decisions == printed["solution"]["decisions"]


def test_a_finding_and_a_span_round_trip_with_every_field():
    f = Finding("NEMO401", "x[1] violated by 2", Span(3, 4, 3, 9), Severity.WARNING, ("repair_optimizer",),
                (Related("/tmp/p.optimizer.py", Span(10, 0, 10, 20), "here"),), {"violations": [{"amount": 2}]})
    back = Finding.from_json(as_stored(f.to_json()))
    assert back == f and back.data == f.data
    assert Finding.from_json(as_stored(Finding("NEMO308", "reduced isolation", None, Severity.INFO).to_json())) \
        == Finding("NEMO308", "reduced isolation", None, Severity.INFO)
    assert Span.from_json({"line": 1, "col": 2, "end_line": 3, "end_col": 4}) == Span(1, 2, 3, 4)


@pytest.mark.parametrize("value", [None, 3, "report", [], [1, 2], {}, {"spec": "a.opt.md"},
                                   {"spec": "a.opt.md", "outcome": "validated"},
                                   {"spec": 1, "outcome": "validated", "findings": []},
                                   {"spec": "a.opt.md", "outcome": "validated", "findings": [{"code": "NEMO401"}]}])
def test_json_that_is_not_a_report_is_none(value):
    assert Report.from_json(value) is None


@pytest.mark.parametrize("value", [None, [], "0", {"line": 1}, {"line": -1, "col": 0, "end_line": 1, "end_col": 0},
                                   {"line": True, "col": 0, "end_line": 1, "end_col": 0},
                                   {"line": 1.0, "col": 0, "end_line": 1, "end_col": 0}])
def test_a_span_that_is_not_four_non_negative_integers_is_none(value):
    assert Span.from_json(value) is None


def test_a_minimal_report_of_an_older_version_loads_with_defaults_but_describes_no_text():
    r = Report.from_json({"spec": "/x/a.opt.md", "outcome": "not_run", "findings": []})
    assert r is not None and r.solution is None and r.timings == {} and r.spec_sha256 is None
    assert not r.describes("")


@pytest.mark.parametrize("kind", KINDS)
def test_every_truncation_of_a_stored_report_is_none(reports, kind, tmp_path):
    spec, _ = reports[kind]
    text = (spec.parent / ".nemo" / spec.name.removesuffix(".opt.md") / "report.json").read_text(encoding="utf-8")
    damaged = tmp_path / "report.json"
    cuts = sorted({0, 1, len(text) // 2, len(text) - 1, *range(0, len(text), max(1, len(text) // 97))})
    for cut in cuts:
        damaged.write_text(text[:cut], encoding="utf-8")
        assert load_report(damaged) is None, f"cut at {cut} of {len(text)}"
    damaged.write_bytes(text.encode("utf-8")[:-1] + b"\xff")
    assert load_report(damaged) is None
    damaged.write_text("[" * 100_000, encoding="utf-8")  # deeper than the parser recurses
    assert load_report(damaged) is None
    assert load_report(tmp_path / "missing.json") is None
    assert load_report(tmp_path) is None  # a directory


def paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            yield from paths(v, (*at, i))


def replaced_at(value: Any, at: tuple[Any, ...], new: Any) -> Any:
    out = copy.deepcopy(value)
    if not at:
        return new
    parent = out
    for key in at[:-1]:
        parent = parent[key]
    parent[at[-1]] = new
    return out


WRONG = [None, "text", -1, 2.5, True, [], [1], {}, {"a": "b"}]


def test_a_report_damaged_anywhere_is_none_or_one_the_server_can_show(reports):
    """Every value of a real rejected report replaced by values of other types: from_json never raises,
    and whatever it accepts, the server turns into diagnostics, lenses and hovers without an error."""
    spec, printed = reports["rejected"]
    analysis = analyze(spec.read_text(encoding="utf-8"))
    lines = analysis.spec.lines
    var = next(i for i, line in enumerate(lines) if line.strip().startswith("batches["))
    con = next(i for i, line in enumerate(lines) if line.strip().startswith("plant_hours["))
    accepted = rejected = 0
    for at in paths(printed):
        for new in WRONG:
            r = Report.from_json(replaced_at(printed, at, new))
            if r is None:
                rejected += 1
                continue
            accepted += 1
            for i, f in enumerate(r.findings):
                to_diagnostic(f, str(i), lines)
            actions.lenses("file:///x.opt.md", analysis, r, False, restored=True)
            actions.document_actions("file:///x.opt.md", analysis, r, None)
            hover.hover_text(analysis, r, var, lines[var].index("batches") + 1)
            hover.hover_text(analysis, r, con, lines[con].index("plant_hours") + 1)
            json.dumps(r.to_json(), default=str)
    assert accepted and rejected
    without = {k: v for k, v in printed.items() if k not in ("solution", "validation", "usage", "repairs")}
    assert Report.from_json(without) is not None  # optional parts may be missing
