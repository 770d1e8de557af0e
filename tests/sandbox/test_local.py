"""LocalSandbox against real processes: limits, cleanup, cancellation, env and isolation."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from nemo_lsp.sandbox import SANDBOXES, ExecResult, Limits, LocalSandbox, clean_env, get_sandbox

PY = sys.executable
BWRAP_USABLE = LocalSandbox().uses_bwrap
NO_BWRAP_REASON = "bubblewrap is not usable here: " + LocalSandbox().isolation()

# Behaviours that must hold with and without bubblewrap run in both modes where bwrap works.
MODES = [pytest.param(True, id="bwrap"), pytest.param(False, id="plain")]


@pytest.fixture(params=MODES)
def sandbox(request: pytest.FixtureRequest) -> LocalSandbox:
    if request.param and not BWRAP_USABLE:
        pytest.skip(NO_BWRAP_REASON)
    return LocalSandbox(use_bwrap=request.param)


@pytest.fixture
def bwrap_sandbox() -> LocalSandbox:
    if not BWRAP_USABLE:
        pytest.skip(NO_BWRAP_REASON)
    return LocalSandbox()


def _alive_with_token(token: str) -> list[int]:
    """Host pids whose command line holds token and that are not zombies.

    Scans /proc instead of trusting pids the child prints: under bwrap --unshare-pid the
    child only knows its namespace pid.
    """
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if token.encode() not in f.read():
                    continue
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            pids.append(int(entry))
    return pids


async def _wait_until(predicate, timeout: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def _py(sb: LocalSandbox, code: str, tmp_path: Path, *args: str, **limits: object) -> ExecResult:
    return await sb.run([PY, "-c", code, *args], cwd=tmp_path, limits=Limits(**limits))  # type: ignore[arg-type]


async def test_runs_python_child_and_returns_stdout_and_returncode(sandbox: LocalSandbox, tmp_path: Path) -> None:
    r = await _py(sandbox, "import sys; print('hello'); print('oops', file=sys.stderr); sys.exit(3)", tmp_path)
    assert r.returncode == 3
    assert r.stdout == "hello\n"
    assert r.stderr == "oops\n"
    assert r.limit is None and not r.cancelled and not r.ok
    assert r.argv[0] == PY


async def test_site_packages_import_in_child(sandbox: LocalSandbox, tmp_path: Path) -> None:
    r = await _py(sandbox, "import pytest, json; print(pytest.__name__)", tmp_path)
    assert r.ok, r.stderr
    assert r.stdout.strip() == "pytest"


async def test_hanging_child_is_killed_at_wall_limit(sandbox: LocalSandbox, tmp_path: Path) -> None:
    t0 = time.monotonic()
    r = await _py(sandbox, "import time; time.sleep(60)", tmp_path, wall_seconds=1)
    assert r.limit == "wall"
    assert not r.ok
    assert 0.9 <= r.duration < 5
    assert time.monotonic() - t0 < 8


async def test_memory_past_limit_is_reported_as_memory(sandbox: LocalSandbox, tmp_path: Path) -> None:
    r = await _py(sandbox, "x = bytearray(512 * 1024 * 1024); print(len(x))", tmp_path, memory_mb=256)
    assert r.limit == "memory", (r.returncode, r.stderr)
    assert "MemoryError" in r.stderr


async def test_cpu_busy_loop_is_reported_as_cpu(sandbox: LocalSandbox, tmp_path: Path) -> None:
    r = await _py(sandbox, "while True: pass", tmp_path, cpu_seconds=1, wall_seconds=20)
    assert r.limit == "cpu", (r.returncode, r.stderr)
    assert r.duration < 10


async def test_file_past_size_limit_is_reported_as_file_size(sandbox: LocalSandbox, tmp_path: Path) -> None:
    code = "open('big.bin', 'wb').write(b'x' * (3 * 1024 * 1024))"
    r = await _py(sandbox, code, tmp_path, file_size_mb=1)
    assert r.limit == "file_size", (r.returncode, r.stderr)
    assert (tmp_path / "big.bin").stat().st_size <= 1024 * 1024


async def test_background_grandchild_is_killed_when_child_exits(sandbox: LocalSandbox, tmp_path: Path) -> None:
    token = f"nemo-orphan-{uuid.uuid4().hex}"
    code = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1000)', sys.argv[1]])\n"
        "print(p.pid, flush=True)\n"
    )
    r = await _py(sandbox, code, tmp_path, token, wall_seconds=20)
    assert r.ok, r.stderr
    assert r.stdout.strip().isdigit()  # the grandchild's pid (a namespace pid under bwrap)
    assert await _wait_until(lambda: not _alive_with_token(token), timeout=1.0), _alive_with_token(token)
    assert r.duration < 5


async def test_cancellation_kills_child_and_reraises(sandbox: LocalSandbox, tmp_path: Path) -> None:
    token = f"nemo-cancel-{uuid.uuid4().hex}"
    code = "import os, time; print(os.getpid(), flush=True); open('ready', 'w').close(); time.sleep(60)"
    task = asyncio.create_task(_py(sandbox, code, tmp_path, token, wall_seconds=30))
    assert await _wait_until(lambda: (tmp_path / "ready").exists(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as info:
        await task
    partial = getattr(info.value, "exec_result", None)
    assert isinstance(partial, ExecResult) and partial.cancelled
    assert partial.stdout.strip().isdigit()
    assert await _wait_until(lambda: not _alive_with_token(token), timeout=1.0), _alive_with_token(token)


async def test_environment_is_scrubbed_of_secrets(
    sandbox: LocalSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-should-not-leak")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-should-not-leak")
    r = await _py(sandbox, "import json, os; print(json.dumps(dict(os.environ)))", tmp_path)
    assert r.ok, r.stderr
    seen = json.loads(r.stdout)
    assert "should-not-leak" not in r.stdout
    allowed = set(clean_env()) | {"HOME", "TMPDIR", "PWD", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}
    assert set(seen) <= allowed
    assert seen["PYTHONHASHSEED"] == "0" and seen["LC_ALL"] == "C.UTF-8"
    assert not seen["HOME"].startswith(str(Path.home()))


async def test_network_is_off_under_bubblewrap(bwrap_sandbox: LocalSandbox, tmp_path: Path) -> None:
    code = (
        "import socket, sys\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=3).close()\n"
        "    print('connected')\n"
        "except OSError as e:\n"
        "    print('blocked', e)\n"
    )
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = str(server.getsockname()[1])
        off = await _py(bwrap_sandbox, code, tmp_path, port)
        on = await _py(bwrap_sandbox, code, tmp_path, port, network=True)
    assert off.ok and off.stdout.startswith("blocked"), off
    assert "network off" in off.isolation
    assert on.ok and on.stdout.startswith("connected"), on  # the probe itself works
    assert "network on" in on.isolation


async def test_home_is_hidden_under_bubblewrap_while_cwd_is_writable(
    bwrap_sandbox: LocalSandbox, tmp_path: Path
) -> None:
    secret_dir = Path(tempfile.mkdtemp(prefix="nemo-sandbox-test-", dir=Path.home()))
    try:
        secret = secret_dir / "secret.txt"
        secret.write_text("top secret")
        code = (
            "import sys\n"
            "try:\n"
            "    print('read', open(sys.argv[1]).read())\n"
            "except OSError as e:\n"
            "    print('hidden', type(e).__name__)\n"
            "open('written.txt', 'w').write('from child')\n"
        )
        r = await _py(bwrap_sandbox, code, tmp_path, str(secret))
    finally:
        shutil.rmtree(secret_dir, ignore_errors=True)
    assert r.ok, r.stderr
    assert r.stdout.startswith("hidden"), r.stdout
    assert (tmp_path / "written.txt").read_text() == "from child"


async def test_megabytes_of_output_are_truncated_with_marker(sandbox: LocalSandbox, tmp_path: Path) -> None:
    code = "import sys; sys.stdout.write('A' * 1000 + 'x' * 3_000_000 + 'Z' * 1000)"
    # 3 MB is past output_bytes (1 MB) but under the 10x kill threshold: truncated, not killed.
    r = await _py(sandbox, code, tmp_path, output_bytes=1_000_000, wall_seconds=20)
    assert r.ok, (r.returncode, r.limit)
    assert "bytes of stdout cut here" in r.stdout
    assert r.stdout.startswith("A" * 1000) and r.stdout.endswith("Z" * 1000)
    assert len(r.stdout) < 1_000_000 + 500
    assert r.limit is None


async def test_endless_output_is_killed_with_output_limit(sandbox: LocalSandbox, tmp_path: Path) -> None:
    code = "import sys\nwhile True: sys.stdout.write('y' * 65536)"
    r = await _py(sandbox, code, tmp_path, output_bytes=50_000, wall_seconds=20)
    assert r.limit == "output"
    assert len(r.stdout) < 50_000 + 500
    assert r.duration < 10


async def test_missing_cwd_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cwd"):
        await LocalSandbox().run([PY, "-c", "pass"], cwd=tmp_path / "missing")


def test_get_sandbox_unknown_name_lists_known_sandboxes() -> None:
    with pytest.raises(ValueError, match="local") as info:
        get_sandbox("nope")
    assert "nope" in str(info.value)
    assert isinstance(get_sandbox("local"), LocalSandbox)
    assert set(SANDBOXES) == {"local", "warm", "docker"}


def test_clean_env_keeps_only_allowlisted_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    env = clean_env({"EXTRA": "1"}, home=Path("/tmp/h"))
    assert "OPENAI_API_KEY" not in env
    assert env["OPENBLAS_CORETYPE"] == "Haswell"
    assert env["HOME"] == "/tmp/h" and env["EXTRA"] == "1"
    assert env["PATH"].split(os.pathsep)[0] == os.path.dirname(PY)


async def test_a_python_installed_under_tmp_still_runs_under_bubblewrap(tmp_path: Path) -> None:
    """`--tmpfs /tmp` used to hide a virtual environment living in /tmp (CI clones do that)."""
    import subprocess
    import sys

    from nemo_lsp.sandbox import bwrap as _bw

    if not _bw.probe().usable:
        pytest.skip(f"bubblewrap is not usable here: {_bw.probe().reason}")
    venv = Path(tempfile.mkdtemp(prefix="nemo-venv-", dir="/tmp"))
    try:
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
        probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                                "from nemo_lsp.sandbox import bwrap; p = bwrap.probe(); print(p.usable, p.reason)"],
                               capture_output=True, text=True, check=True)
        assert probe.stdout.startswith("True"), probe.stdout + probe.stderr
    finally:
        shutil.rmtree(venv, ignore_errors=True)
