"""Generation is incremental: nothing changed -> `up to date` and untouched files; new data -> regenerated."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .engine_support import BASE_SPEC, copy_example, edit, optimizer_of, simulator_of, solve


def fingerprint(path: Path) -> tuple[int, int, bytes]:
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns, path.read_bytes()


def test_first_run_generates_both_modules_and_the_artifacts(tmp_path: Path) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)
    report = solve(spec)
    assert report.generated == {"optimizer": "generated", "simulator": "generated"}
    assert optimizer_of(spec).is_file() and simulator_of(spec).is_file()
    root = tmp_path / ".nemo" / "production-mix"
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) == {"optimizer", "simulator"}
    assert (root / "data.json").is_file()
    assert json.loads((root / "report.json").read_text(encoding="utf-8"))["outcome"] == "validated"


def test_second_run_with_nothing_changed_reports_up_to_date(tmp_path: Path) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)
    assert solve(spec).ok
    report = solve(spec)
    assert report.ok
    assert report.generated == {"optimizer": "up to date", "simulator": "up to date"}
    assert report.solution is not None and report.solution.objective == pytest.approx(36)


def test_second_run_with_nothing_changed_does_not_rewrite_the_modules(tmp_path: Path) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)
    assert solve(spec).ok
    before = {p: fingerprint(p) for p in (optimizer_of(spec), simulator_of(spec))}
    assert solve(spec).ok
    after = {p: fingerprint(p) for p in before}
    assert after == before


def test_editing_the_spec_data_regenerates_and_uses_the_new_data(tmp_path: Path) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)
    assert solve(spec).ok
    # plant 3 gets 24 hours instead of 18: the optimum moves from 36 to 42 (4 doors, 6 windows)
    edit(spec, "| plant3 |                     18 |", "| plant3 |                     24 |")
    report = solve(spec)
    assert report.generated == {"optimizer": "generated", "simulator": "generated"}
    assert report.solution is not None and report.solution.objective == pytest.approx(42)
    assert report.verdict is not None and report.verdict.feasible
    assert "NEMO406" in [f.code for f in report.findings]  # expect.objective still says 36
    assert not (tmp_path / ".nemo" / "production-mix" / "backups").exists()


def test_regenerate_rewrites_an_up_to_date_module(tmp_path):
    import asyncio

    from nemo_lsp.engine import run

    spec = tmp_path / "mix.opt.md"
    spec.write_text((Path(__file__).resolve().parents[2] / "examples" / "production-mix.opt.md").read_text())
    first = asyncio.run(run(spec))
    assert first.generated == {"optimizer": "generated", "simulator": "generated"}
    again = asyncio.run(run(spec, overrides={"regenerate": True}))
    assert again.generated == {"optimizer": "generated", "simulator": "generated"}
    assert again.ok
