"""When what nemo-lsp depends on fails: a full disk, a read-only folder, a crashing agent, a sandbox
that cannot start. Each gives a finding that says what happened and what to do, and the CLI and
the language server carry on.

The full disk and the read-only folder are real: the command runs under bubblewrap with a tiny
tmpfs over `.nemo/`, or with the project folder bound read-only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from nemo_lsp.agents.confine import bwrap_path

from server.conftest import start_session
from server.lsp_support import example_text, open_doc, run_on_save, wait_for_code, hover, position

ROOT = Path(__file__).resolve().parents[2]
needs_bwrap = pytest.mark.skipif(not bwrap_path(), reason="bubblewrap is not usable here")


def project(tmp_path: Path) -> Path:
    folder = tmp_path / "proj"
    folder.mkdir()
    shutil.copyfile(ROOT / "examples" / "diet.opt.md", folder / "diet.opt.md")
    return folder


def full_disk(folder: Path, kb: int = 48) -> list[str]:
    """Run under bubblewrap with `.nemo/` on a tmpfs of a few kilobytes."""
    (folder / ".nemo").mkdir(exist_ok=True)
    return [bwrap_path(), "--bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--size", str(kb * 1024),
            "--tmpfs", str(folder / ".nemo"), "--chdir", str(folder), "--"]


def read_only(folder: Path) -> list[str]:
    return [bwrap_path(), "--bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--ro-bind", str(folder),
            str(folder), "--chdir", str(folder), "--"]


def solve(folder: Path, prefix: list[str] = (), *args: str) -> tuple[int, dict]:  # type: ignore[assignment]
    run = subprocess.run([*prefix, sys.executable, "-m", "nemo_lsp.cli", "solve", "diet.opt.md", "--json", *args],
                         cwd=folder, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in run.stderr, run.stderr
    return run.returncode, json.loads(run.stdout)


def only(report: dict, code: str) -> str:
    messages = [f["message"] for f in report["findings"] if f["code"] == code]
    assert len(messages) == 1, report["findings"]
    return messages[0]


@needs_bwrap
def test_a_full_disk_under_nemo_is_nemo520_saying_so(tmp_path):
    folder = project(tmp_path)
    rc, report = solve(folder, full_disk(folder))
    assert rc == 1 and report["outcome"] == "not_run"
    assert "No space left on device" in only(report, "NEMO520") and "free some space" in only(report, "NEMO520")


@needs_bwrap
def test_a_read_only_project_is_nemo520_and_nothing_is_written(tmp_path):
    folder = project(tmp_path)
    rc, report = solve(folder, read_only(folder))
    assert rc == 1 and "read-only" in only(report, "NEMO520")
    assert sorted(p.name for p in folder.iterdir()) == ["diet.opt.md"]


def test_a_crashing_agent_program_is_a_finding_with_its_output(tmp_path):
    folder = project(tmp_path)
    crasher = tmp_path / "crash.sh"
    crasher.write_text("#!/bin/sh\necho 'Segmentation fault (core dumped)' >&2\nexit 139\n")
    crasher.chmod(0o755)
    spec = folder / "diet.opt.md"
    spec.write_text(spec.read_text().replace("---\n", f"---\nagent: claude-code\nagent_options:\n  command: {crasher}\n",
                                             1))
    rc, report = solve(folder)
    assert rc == 1 and report["outcome"] == "not_run"
    (f,) = [f for f in report["findings"] if f["code"] == "NEMO502"]
    assert "Segmentation fault" in f["data"]["output_tail"]


def test_a_sandbox_that_cannot_start_is_nemo503_on_the_sandbox_line(tmp_path, monkeypatch):
    folder = project(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    rc, report = solve(folder, [], "--sandbox", "docker")
    assert rc == 1 and "Docker" in only(report, "NEMO503")
    assert not (folder / "diet.optimizer.py").exists()


# --- the language server on a full disk -----------------------------------------------------------

FULL_DISK = Path(os.environ.get("TMPDIR", "/tmp")) / f"nemo-full-disk-{os.getpid()}"
"""The server's workspace; pytest-lsp builds the server's command line at import, so it is fixed here."""
FULL_DISK.mkdir(exist_ok=True)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[
    *(full_disk(FULL_DISK) if bwrap_path() else []), sys.executable, "-m", "nemo_lsp"]))
async def full_disk_client(lsp_client: LanguageClient):
    await start_session(lsp_client, "visual-studio-code", FULL_DISK, {"nemo": {"lintDelayMs": 20}})
    yield
    await lsp_client.shutdown_session()
    shutil.rmtree(FULL_DISK, ignore_errors=True)


@needs_bwrap
@pytest.mark.asyncio
async def test_the_server_reports_a_full_disk_and_keeps_answering(full_disk_client: LanguageClient):
    spec = FULL_DISK / "diet.opt.md"
    text = example_text("diet.opt.md")
    spec.write_text(text, encoding="utf-8")
    uri = open_doc(full_disk_client, spec, text)
    end = await run_on_save(full_disk_client, uri)
    assert end.message == "not run"
    d = await wait_for_code(full_disk_client, uri, "NEMO520")
    assert "No space left on device" in d.message
    answer = await hover(full_disk_client, uri, position(text, "need"))
    assert answer is not None
