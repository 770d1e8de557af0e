"""Bubblewrap around an agent's program: what it sees, decided by a pure function, checked for real."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from nemo_lsp.agents.confine import bwrap_path, confine_argv, program_roots


def mounts(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag]


def test_hidden_folders_become_empty_and_the_workspace_is_mounted_back(tmp_path):
    ws = tmp_path / ".nemo" / "x" / "work" / "simulator"
    argv = confine_argv("bwrap", ["claude"], workspace=ws, hidden=[Path("/root"), tmp_path], readable=[],
                        writable=[])
    assert str(tmp_path) in mounts(argv, "--tmpfs") and "/root" in mounts(argv, "--tmpfs")
    assert str(ws) in mounts(argv, "--bind")
    assert argv[-2:] == ["--", "claude"]


def test_a_readable_path_that_would_expose_a_hidden_folder_is_dropped(tmp_path):
    venv = tmp_path / ".venv"
    venv.mkdir()
    argv = confine_argv("bwrap", ["x"], workspace=tmp_path / "ws", hidden=[tmp_path],
                        readable=[tmp_path, tmp_path.parent, venv], writable=[])
    assert mounts(argv, "--ro-bind")[1:] == [str(venv)]


def test_nested_paths_are_mounted_once(tmp_path):
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    argv = confine_argv("bwrap", ["x"], workspace=tmp_path / "ws", hidden=[], readable=[tmp_path / "a", inner],
                        writable=[])
    assert mounts(argv, "--ro-bind")[1:] == [str(tmp_path / "a")]


def test_a_node_package_keeps_its_whole_prefix_readable(tmp_path):
    exe = tmp_path / "cache" / "node_modules" / "@x" / "tool" / "bin" / "tool.exe"
    exe.parent.mkdir(parents=True)
    exe.write_text("")
    assert program_roots(str(exe)) == [tmp_path / "cache"]


@pytest.mark.skipif(not bwrap_path(), reason="bubblewrap is not usable here")
def test_a_confined_program_cannot_read_a_hidden_file_but_writes_in_its_workspace(tmp_path):
    (tmp_path / "secret.py").write_text("SECRET")
    ws = tmp_path / ".nemo" / "w"
    ws.mkdir(parents=True)
    code = (f"import pathlib; pathlib.Path('{ws}/out.txt').write_text('ok'); "
            f"print(open('{tmp_path}/secret.py').read())")
    argv = confine_argv(bwrap_path(), ["python3", "-c", code], workspace=ws, hidden=[tmp_path], readable=[],
                        writable=[])
    run = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert run.returncode == 1 and "FileNotFoundError" in run.stderr
    assert (ws / "out.txt").read_text() == "ok"
