"""`nemo check` lints without running anything; `nemo doctor` reports the environment."""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path

from .cli_support import BASE_SPEC, TRACEBACK, copy_example, line_of, nemo


def test_check_on_a_clean_example_prints_no_findings_and_exits_0(tmp_path: Path) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)
    run = nemo("check", spec.name, cwd=tmp_path)
    assert run.returncode == 0, run.output
    assert "no findings" in run.stdout
    assert not (tmp_path / ".nemo").exists()  # lint only: nothing generated, nothing run
    assert not (tmp_path / "production-mix.optimizer.py").exists()


def test_check_on_a_bad_spec_prints_the_finding_and_exits_1(tmp_path: Path) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)
    spec.write_text(spec.read_text(encoding="utf-8").replace("| plant2 |     0 |       2 |", "| plant2 |     0 |"),
                    encoding="utf-8")
    run = nemo("check", spec.name, cwd=tmp_path)
    assert run.returncode == 1
    assert TRACEBACK not in run.output
    f = run.finding("NEMO111")
    assert f.line == line_of(spec, "| plant2 |     0 |")
    assert "error(s)" in run.stdout


def test_check_on_a_missing_file_exits_1(tmp_path: Path) -> None:
    run = nemo("check", "nowhere.opt.md", cwd=tmp_path)
    assert run.returncode == 1
    assert "NEMO100" in run.stdout
    assert TRACEBACK not in run.output


def test_check_on_a_non_utf8_file_exits_1(tmp_path: Path) -> None:
    spec = tmp_path / "latin.opt.md"
    spec.write_bytes("# Caf\u00e9 plan\n".encode("latin-1"))
    run = nemo("check", spec.name, cwd=tmp_path)
    assert run.returncode == 1
    assert run.finding("NEMO100").line == 1


def test_doctor_exits_0_and_names_pyomo_and_highspy_versions(tmp_path: Path) -> None:
    run = nemo("doctor", cwd=tmp_path)
    assert run.returncode == 0, run.output
    assert TRACEBACK not in run.output
    for pkg in ("pyomo", "highspy"):
        lines = [ln for ln in run.stdout.splitlines() if ln.split()[:1] == [pkg]]
        assert lines, f"{pkg} not named:\n{run.stdout}"
        assert md.version(pkg) in lines[0]


def test_doctor_says_whether_runs_get_a_process_cap(tmp_path: Path) -> None:
    from nemo_lsp.sandbox import pids

    run = nemo("doctor", cwd=tmp_path)
    (line,) = [ln for ln in run.stdout.splitlines() if ln.strip().startswith("process cap")]
    assert ("pids cgroup, 512 processes" in line) == pids.available(), line
