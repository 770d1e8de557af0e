"""Exit codes: 0 validated, 1 findings, 2 internal error (a short message, no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

import nemo_lsp.engine
from nemo_lsp import cli

from .cli_support import BASE_SPEC, TRACEBACK, copy_example, nemo


def test_internal_error_exits_2_with_a_short_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)

    async def broken_run(*args, **kwargs):
        raise RuntimeError("simulated bug in the engine")

    monkeypatch.setattr(nemo_lsp.engine, "run", broken_run)
    monkeypatch.delenv("NEMO_DEBUG", raising=False)

    code = cli.main(["solve", str(spec)])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "internal error" in err
    assert "RuntimeError: simulated bug in the engine" in err
    assert TRACEBACK not in err
    assert len(err.splitlines()) <= 3


def test_internal_error_in_json_mode_exits_2_without_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)

    async def broken_run(*args, **kwargs):
        raise RuntimeError("simulated bug in the engine")

    monkeypatch.setattr(nemo_lsp.engine, "run", broken_run)
    monkeypatch.delenv("NEMO_DEBUG", raising=False)

    code = cli.main(["solve", str(spec), "--json"])

    out, err = capsys.readouterr()
    assert code == 2
    assert TRACEBACK not in out + err
    assert "internal error" in err



def test_solve_with_error_findings_exits_1(tmp_path: Path) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)
    spec.write_text(spec.read_text(encoding="utf-8").replace("objective: 36", "objective: 37"), encoding="utf-8")
    run = nemo("solve", spec.name, cwd=tmp_path)
    assert run.returncode == 1
    assert run.finding("NEMO406").severity == "error"
