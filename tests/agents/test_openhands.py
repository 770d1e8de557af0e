"""The OpenHands backend's plumbing: finding a Python >= 3.12, the pinned venv, and the worker.

The end-to-end tests run `openhands_worker.py` with the venv's python against the scripted model
server. They skip (saying why) when the venv is not installed, unless NEMO_TEST_OPENHANDS=1: then
the test installs it first (about 1 min and 650 MB), and a failure to do so fails the test.
"""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nemo_lsp.agents import openhands_env
from nemo_lsp.agents.openhands_env import NO_PYTHON, PINS, SDK_VERSION, WORKER, OpenHandsUnavailable
from tests.agents.model_server import Route, ScriptedModelServer, text, tool

WORKER_TIMEOUT = 300


def fake_python(path: Path, version: str) -> Path:
    """A stand-in interpreter: answers the version probe with `version`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def no_pythons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An environment with no interpreter to find: empty PATH dir, empty pyenv root, fresh venv dir."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("NEMO_OPENHANDS_VENV", str(tmp_path / "venv"))
    monkeypatch.delenv("NEMO_OPENHANDS_PYTHON", raising=False)
    return tmp_path


# ------------------------------------------------------------------------------- openhands_env


def test_find_python_takes_the_override(no_pythons: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    py = fake_python(no_pythons / "custom" / "python", "3.12")
    monkeypatch.setenv("NEMO_OPENHANDS_PYTHON", str(py))
    assert openhands_env.find_python() == py


def test_override_too_old_is_not_replaced_by_a_search(no_pythons: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_python(no_pythons / "bin" / "python3.13", "3.13")  # would be found without the override
    old = fake_python(no_pythons / "custom" / "python", "3.11")
    monkeypatch.setenv("NEMO_OPENHANDS_PYTHON", str(old))
    assert openhands_env.find_python() is None
    ready, why = openhands_env.status()
    assert not ready
    assert why == f"NEMO_OPENHANDS_PYTHON={old} is Python 3.11; {NO_PYTHON}"


def test_no_python_anywhere(no_pythons: Path) -> None:
    assert openhands_env.find_python() is None
    assert openhands_env.status() == (False, NO_PYTHON)
    assert NO_PYTHON == (
        "OpenHands needs Python >= 3.12; install one (pyenv install 3.12) or set NEMO_OPENHANDS_PYTHON"
    )
    with pytest.raises(OpenHandsUnavailable, match=r"needs Python >= 3\.12"):
        openhands_env.ensure_venv()
    assert not (no_pythons / "venv").exists()


def test_path_candidates_must_run(no_pythons: Path) -> None:
    # A pyenv shim for a version that is not selected exits 127: skipped, the next one is taken.
    broken = no_pythons / "bin" / "python3.13"
    broken.write_text("#!/bin/sh\necho 'pyenv: python3.13: command not found' >&2\nexit 127\n")
    broken.chmod(0o755)
    good = fake_python(no_pythons / "bin" / "python3.12", "3.12")
    assert openhands_env.find_python() == good


def test_pyenv_installs_newest_first(no_pythons: Path) -> None:
    versions = no_pythons / "pyenv" / "versions"
    fake_python(versions / "3.11.7" / "bin" / "python3.11", "3.11")
    fake_python(versions / "3.12.1" / "bin" / "python3.12", "3.12")
    newest = fake_python(versions / "3.13.10" / "bin" / "python3.13", "3.13")
    fake_python(versions / "3.14.0t" / "bin" / "python3.14", "3.14")  # free-threaded build: not taken
    fake_python(versions / "3.13.2" / "bin" / "python3.13", "3.13")
    assert openhands_env.find_python() == newest


def test_status_and_ensure_venv_trust_the_marker(no_pythons: Path) -> None:
    venv = no_pythons / "venv"
    fake_python(venv / "bin" / "python", "3.13")
    assert openhands_env.venv_dir() == venv
    (venv / ".nemo-openhands.json").write_text(json.dumps({"pins": ["openhands-sdk==0.1"]}))
    assert openhands_env.status()[0] is False  # other pins: not this venv
    (venv / ".nemo-openhands.json").write_text(json.dumps({"pins": list(PINS), "python_version": "3.13.0"}))
    ready, why = openhands_env.status()
    assert ready and SDK_VERSION in why and str(venv) in why
    assert openhands_env.ensure_venv() == venv / "bin" / "python"  # no interpreter needed


def test_ensure_venv_will_not_clobber_a_foreign_folder(no_pythons: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEMO_OPENHANDS_PYTHON", str(fake_python(no_pythons / "custom" / "python", "3.12")))
    (no_pythons / "venv").mkdir()
    (no_pythons / "venv" / "precious.txt").write_text("mine")
    with pytest.raises(OpenHandsUnavailable, match="is not a venv"):
        openhands_env.ensure_venv()
    assert (no_pythons / "venv" / "precious.txt").read_text() == "mine"


def test_default_venv_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NEMO_OPENHANDS_VENV", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert openhands_env.venv_dir() == tmp_path / "nemo-lsp" / f"openhands-{SDK_VERSION}"
    assert PINS == (f"openhands-sdk=={SDK_VERSION}", f"openhands-tools=={SDK_VERSION}")


# ------------------------------------------------------------------- the worker, without the SDK


def test_worker_is_standalone() -> None:
    tree = ast.parse(WORKER.read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0}
    assert not any(m.split(".")[0] == "nemo_lsp" for m in imported)
    assert not any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(tree))


def run_worker(python: Path | str, job: dict, tmp_path: Path, env: dict[str, str] | None = None):
    job_path = tmp_path / "job.json"
    job_path.write_text(json.dumps(job))
    home = tmp_path / "home"  # the SDK writes ~/.openhands and the shell ~/.bash_history
    home.mkdir(exist_ok=True)
    proc = subprocess.run(
        [str(python), str(WORKER), str(job_path)],
        capture_output=True, text=True, timeout=WORKER_TIMEOUT, stdin=subprocess.DEVNULL,
        env={**os.environ, "HOME": str(home), **(env or {})},
    )
    # stdout carries events only: every line is one JSON object with an "event".
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert all(isinstance(e, dict) and "event" in e for e in events), proc.stdout
    return proc, events


def test_worker_rejects_a_bad_job_before_importing_the_sdk(tmp_path: Path) -> None:
    # Runs on the host's Python: the job is checked before the SDK is imported.
    proc, events = run_worker(sys.executable, {"model": "openai/x", "workspace": "relative/dir", "prompt": "p"},
                              tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert [e["event"] for e in events] == ["start", "error"]
    assert events[1]["type"] == "other" and "workspace" in events[1]["message"]


def test_worker_wants_the_named_key(tmp_path: Path) -> None:
    job = {"model": "openai/x", "workspace": str(tmp_path), "prompt": "p", "api_key_env": "NEMO_TEST_NO_SUCH_KEY"}
    proc, events = run_worker(sys.executable, job, tmp_path, env={"NEMO_TEST_NO_SUCH_KEY": ""})
    assert proc.returncode == 2
    assert events[-1]["event"] == "error" and events[-1]["type"] == "auth"
    assert "NEMO_TEST_NO_SUCH_KEY" in events[-1]["message"]


def test_worker_usage_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(WORKER)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["event"] == "error"
    assert "usage" in proc.stderr


# ------------------------------------------------------------------------------ end to end (SDK)


@pytest.fixture(scope="session")
def openhands_python() -> Path:
    if os.environ.get("NEMO_TEST_OPENHANDS") == "1":
        if openhands_env.find_python() is None and not openhands_env.status()[0]:
            pytest.skip(f"OpenHands cannot be installed here: {openhands_env.status()[1]}")
        return openhands_env.ensure_venv(log=lambda line: print(line, file=sys.stderr))
    ready, why = openhands_env.status()
    if not ready:
        pytest.skip(f"OpenHands venv not installed: {why}. Set NEMO_TEST_OPENHANDS=1 to install it.")
    return openhands_env.venv_python()


HELLO = [
    tool("file_editor", command="create", path="{{WORKSPACE}}/hello.py", file_text="print('hi')"),
    tool("terminal", command="python3 hello.py"),
    tool("finish", message="done"),
]


def hello_job(srv: ScriptedModelServer, workspace: Path, **extra) -> dict:
    return {
        "model": "openai/scripted-model",
        "base_url": srv.url + "/v1",
        "api_key_env": None,
        "workspace": str(workspace),
        "prompt": f"Create hello.py that prints hi, then run it.\nYour workspace: `{workspace}`",
        "max_iterations": 10,
        "request_timeout": 30,
        **extra,
    }


@pytest.mark.slow
def test_worker_writes_and_runs_hello(openhands_python: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    with ScriptedModelServer([Route(match="", steps=HELLO)]) as srv:
        proc, events = run_worker(openhands_python, hello_job(srv, workspace), tmp_path)
        requests = srv.model_requests()
        assert proc.returncode == 0, proc.stderr[-3000:]

        assert events[0] == {"event": "start", "sdk_version": SDK_VERSION, "tools_version": SDK_VERSION,
                             "python": events[0]["python"]}
        assert (workspace / "hello.py").read_text() == "print('hi')"
        actions = [(e["tool"], e["summary"]) for e in events if e["event"] == "action"]
        assert actions == [("file_editor", f"create {workspace}/hello.py"), ("terminal", "python3 hello.py"),
                           ("finish", "done")]
        observations = {e["tool"]: e for e in events if e["event"] == "observation"}
        assert observations["terminal"]["summary"].startswith("hi") and not observations["terminal"]["error"]
        assert "created" in observations["file_editor"]["summary"]

        finish = events[-1]
        assert [e["event"] for e in events].count("finish") == 1
        assert finish["event"] == "finish" and finish["status"] == "finished" and finish["message"] == "done"
        # The server's usage: input 100*step+7 (cached 50*step inside it), output 20, for steps 0-2.
        assert finish["usage"]["input_tokens"] == 7 + 107 + 207
        assert finish["usage"]["output_tokens"] == 60
        assert finish["cost"] is None  # litellm has no price for "scripted-model"

        # Three chat requests, no retries, no side requests; the one after the terminal call carries
        # the command's output back to the model.
        assert [r["api"] for r in requests] == ["chat", "chat", "chat"]
        assert [r["step"] for r in requests] == [0, 1, 2]
        assert "created" in srv.tool_results(1)[-1].lower()
        assert srv.tool_results(2)[-1].startswith("hi\n")
        assert requests[0]["body"]["model"] == "scripted-model"
        assert {t["function"]["name"] for t in requests[0]["body"]["tools"]} >= {"terminal", "file_editor", "finish"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "kind"), [("401", "auth"), ("429", "rate_limit"), ("hang", "timeout"), ("garbage", "bad_response")]
)
def test_worker_reports_model_faults(openhands_python: Path, tmp_path: Path, fault: str, kind: str) -> None:
    with ScriptedModelServer([Route(match="", steps=HELLO, fault=fault)]) as srv:
        proc, events = run_worker(openhands_python, hello_job(srv, tmp_path, request_timeout=3), tmp_path)
        assert proc.returncode == 2, proc.stderr[-3000:]
        assert [e["event"] for e in events] == ["start", "error"]
        assert events[-1]["type"] == kind, events[-1]
        assert len(srv.model_requests()) == 1  # num_retries=0
    assert not (tmp_path / "hello.py").exists()


@pytest.mark.slow
def test_worker_stops_at_max_iterations(openhands_python: Path, tmp_path: Path) -> None:
    steps = [tool("terminal", command=f"echo {i}") for i in range(5)] + [text("never reached")]
    with ScriptedModelServer([Route(match="", steps=steps)]) as srv:
        proc, events = run_worker(openhands_python, hello_job(srv, tmp_path, max_iterations=2), tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert events[-1]["event"] == "finish" and events[-1]["status"] == "max_iterations"
        assert len(srv.model_requests()) == 2
