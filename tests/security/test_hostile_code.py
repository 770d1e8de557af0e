"""The hostile-code matrix: a user-edited optimizer that attacks, run through the real engine and sandbox.

The engine keeps an optimizer the user edited (NEMO202) and runs it as it is, so each attack is a
`wyndor.optimizer.py` written beside a copy of the Wyndor example, in a workspace under the user's
home. Every attack must end in a finding that names what happened, leave no process behind (each
attack names its processes with a unique token, in /proc/PID/comm and in the command lines of what it
starts; zombies count as gone) and leave the engine working: the next run regenerates the optimizer
and is validated.

The attacks are bounded so that the machine survives even if containment fails (a fork bomb of at
most 2,000 sleeping children, a filler of at most 700 MB, a flood of at most 60 MB); the one
unbounded fork bomb runs only where the pids cgroup cap (sandbox/pids.py) is in force. Attacks whose
containment needs bubblewrap (network, files, environment of other processes, signals, processes
that leave the session) are skipped without it; the run then carries NEMO308.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from nemo_lsp.engine import Report, Settings, run
from nemo_lsp.sandbox import LocalSandbox
from nemo_lsp.sandbox import pids

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "production-mix.opt.md"
SMALL = Settings(time_limit=2, startup_seconds=3, memory_limit=512)
"""A wall limit of 5 s, CPU 5 s, 512 MB of address space: hostile runs end quickly."""
BWRAP = LocalSandbox().uses_bwrap
needs_bwrap = pytest.mark.skipif(not BWRAP, reason="contained only under bubblewrap, which is not usable here: "
                                 + LocalSandbox().isolation())

PROLOGUE = '''"""Edited by hand: an attack on the machine that runs it."""
import os, signal, socket, subprocess, sys, time

TOKEN = {token!r}
try:  # name this process (and the children it forks) so the test can find them in /proc
    with open("/proc/self/comm", "w") as fh:
        fh.write(TOKEN)
except OSError:
    pass

'''


# --- helpers ---------------------------------------------------------------------------------------

def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def survivors(token: str, workspace: Path) -> list[str]:
    """Live processes that carry the token (comm or command line) or name the workspace (bwrap, prlimit)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        stat = _read(f"/proc/{pid}/stat")
        if not stat or stat.rsplit(b")", 1)[-1].split()[0] in (b"Z", b"X"):
            continue
        comm = _read(f"/proc/{pid}/comm").strip()
        cmdline = _read(f"/proc/{pid}/cmdline")
        if token.encode() in comm or token.encode() in cmdline or str(workspace).encode() in cmdline:
            shown = cmdline.replace(b"\0", b" ")[:200].decode("utf-8", "replace")
            found.append(f"{pid} {comm.decode()} {shown}")
    return found


def none_survive(token: str, workspace: Path, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while survivors(token, workspace) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not survivors(token, workspace), survivors(token, workspace)


def solve(spec: Path, base: Settings = SMALL, **overrides: object) -> Report:
    return asyncio.run(run(spec, base=base, overrides=overrides or None))


def codes(report: Report) -> list[str]:
    return [f.code for f in report.findings]


def only(report: Report, code: str) -> str:
    """The message of the one finding with `code`."""
    found = [f.message for f in report.findings if f.code == code]
    assert found, f"no {code} in {[(f.code, f.message) for f in report.findings]}"
    return found[0]


def run_log(spec: Path) -> str:
    return (spec.parent / ".nemo" / "wyndor" / "run" / "optimizer.log").read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def home_dir() -> Iterator[Path]:
    """A scratch folder in the user's home (the sandbox must not see the home), deleted afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="nemo-security-", dir=Path.home()))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def spec(home_dir: Path) -> Path:
    workspace = home_dir / "project"
    workspace.mkdir()
    target = workspace / "wyndor.opt.md"
    shutil.copyfile(EXAMPLE, target)
    return target


@pytest.fixture
def token() -> str:
    return "nemo" + uuid.uuid4().hex[:11]  # /proc/PID/comm holds 15 characters


def attack(spec: Path, token: str, body: str) -> Report:
    """Write the hostile optimizer (kept by the engine as the user's) and run the pipeline on it."""
    code = PROLOGUE.format(token=token) + "def build_model(data):\n" + body
    spec.with_name("wyndor.optimizer.py").write_text(code, encoding="utf-8")
    report = solve(spec)
    assert "NEMO202" in codes(report), "the engine did not run the hostile optimizer as the user's file"
    if BWRAP:
        assert report.isolation.startswith("bubblewrap"), report.isolation
    return report


def wrap_generated(spec: Path, token: str, before: str) -> None:
    """Generate the real optimizer, then make its build_model run `before` first (an edit by hand)."""
    assert solve(spec).outcome == "validated"
    module = spec.with_name("wyndor.optimizer.py")
    module.write_text(PROLOGUE.format(token=token) + module.read_text(encoding="utf-8") + (
        "\n\n_real_build_model = build_model\n\n\ndef build_model(data):\n" + before
        + "    return _real_build_model(data)\n"), encoding="utf-8")


def carries_on(spec: Path) -> None:
    """The next run (regenerating the optimizer, which backs up the hostile one) is validated."""
    report = solve(spec, regenerate=True)
    assert report.outcome == "validated", [(f.code, f.message) for f in report.findings]


# --- the matrix ------------------------------------------------------------------------------------

def test_infinite_loop_is_stopped_at_the_time_limit(spec: Path, token: str) -> None:
    started = time.monotonic()
    report = attack(spec, token, "    while True:\n        pass\n")
    assert time.monotonic() - started < 15
    assert report.outcome == "rejected"
    assert {"NEMO303", "NEMO304"} & set(codes(report))
    assert "time limit" in (only(report, "NEMO303") if "NEMO303" in codes(report) else only(report, "NEMO304"))
    none_survive(token, spec.parent)
    carries_on(spec)


def test_memory_bomb_is_stopped_at_the_memory_limit(spec: Path, token: str) -> None:
    report = attack(spec, token, "    hoard = []\n    while True:\n        hoard.append(bytearray(50 * 1024 * 1024))\n")
    assert report.outcome == "rejected"
    assert "memory limit (512 MB)" in only(report, "NEMO305")
    none_survive(token, spec.parent)
    carries_on(spec)


def test_fork_bomb_is_killed_with_all_its_children(spec: Path, token: str) -> None:
    # At most 2,000 children, each asleep: harmless if containment failed, and they exit by themselves.
    body = (
        "    children = 0\n"
        "    for _ in range(2000):\n"
        "        try:\n"
        "            pid = os.fork()\n"
        "        except OSError:\n"
        "            break\n"
        "        if pid == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        children += 1\n"
        "        if children % 100 == 0:\n"
        "            print('children', children, flush=True)\n"
        "    time.sleep(60)\n"
    )
    report = attack(spec, token, body)
    assert report.outcome == "rejected"
    if pids.available():  # capped at 512 processes: the forks fail, and the finding says why
        assert "more than 512 processes and threads" in only(report, "NEMO310")
    else:
        assert "time limit" in only(report, "NEMO303")
    assert "children 100" in run_log(spec), "the fork bomb did not get going"
    none_survive(token, spec.parent)
    carries_on(spec)


@pytest.mark.skipif(not pids.available(), reason="an unbounded fork bomb is safe only under a pids cgroup cap, "
                    "which this user cannot create here")
def test_an_unbounded_fork_bomb_is_capped_even_for_root(spec: Path, token: str) -> None:
    # Every process forks forever; RLIMIT_NPROC would not stop it as root, the pids cgroup does.
    body = (
        "    while True:\n"
        "        try:\n"
        "            os.fork()\n"
        "        except OSError:\n"
        "            time.sleep(0.05)\n"
    )
    report = attack(spec, token, body)
    assert report.outcome == "rejected"
    assert "more than 512 processes and threads" in only(report, "NEMO310")
    none_survive(token, spec.parent)
    carries_on(spec)


def test_disk_filler_is_stopped_at_the_file_size_limit(spec: Path, token: str) -> None:
    body = ("    with open('filler.bin', 'wb') as fh:\n"
            "        block = b'x' * (1 << 20)\n"
            "        for _ in range(700):\n"
            "            fh.write(block)\n")
    report = attack(spec, token, body)
    assert report.outcome == "rejected"
    assert "file larger than the file-size limit (512 MB)" in only(report, "NEMO306")
    filler = spec.parent / ".nemo" / "wyndor" / "run" / "filler.bin"
    assert filler.stat().st_size <= 512 * 1024 * 1024
    none_survive(token, spec.parent)
    carries_on(spec)
    assert not filler.exists()  # the next run starts from an empty run folder


@needs_bwrap
def test_network_connection_to_a_local_listener_fails(spec: Path, token: str) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        body = (f"    socket.create_connection(('127.0.0.1', {port}), timeout=3).close()\n"
                "    raise RuntimeError('connected to the test listener')\n")
        report = attack(spec, token, body)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody ever connected
    message = only(report, "NEMO301")
    assert "ConnectionRefusedError" in message or "Network is unreachable" in message, message
    none_survive(token, spec.parent)
    carries_on(spec)


@needs_bwrap
def test_files_outside_the_workspace_can_be_neither_read_nor_written(spec: Path, token: str, home_dir: Path) -> None:
    other = home_dir / "other-project"
    other.mkdir()
    (other / "secrets.txt").write_text("other project's secret", encoding="utf-8")
    in_home = Path(tempfile.mkstemp(prefix=".nemo-security-", dir=Path.home())[1])
    in_home.write_text("home secret", encoding="utf-8")
    spec_text = spec.read_text(encoding="utf-8")
    new_file = Path.home() / f"nemo-pwned-{token}"
    targets = [str(in_home), str(other / "secrets.txt"), str(spec), "../../../wyndor.opt.md", str(new_file)]
    body = (
        f"    report = []\n    for path in {targets!r}:\n"
        "        try:\n            report.append(f'read {path}: ' + open(path).read()[:30])\n"
        "        except OSError as e:\n            report.append(f'read {path}: {type(e).__name__}: {e.strerror}')\n"
        "        try:\n            open(path, 'a').write('pwned')\n            report.append(f'wrote {path}')\n"
        "        except OSError as e:\n            report.append(f'write {path}: {type(e).__name__}: {e.strerror}')\n"
        "    raise PermissionError(' | '.join(report))\n"
    )
    try:
        report = attack(spec, token, body)
        message = only(report, "NEMO301")
        assert "home secret" not in message and "project's secret" not in message, message
        assert "wrote " not in message and "Wyndor" not in message, message
        assert "No such file or directory" in message and "Read-only file system" in message, message
        assert in_home.read_text(encoding="utf-8") == "home secret"
        assert (other / "secrets.txt").read_text(encoding="utf-8") == "other project's secret"
        assert spec.read_text(encoding="utf-8") == spec_text
        assert not new_file.exists()
    finally:
        in_home.unlink(missing_ok=True)
        new_file.unlink(missing_ok=True)
    none_survive(token, spec.parent)
    carries_on(spec)


@needs_bwrap
def test_api_keys_in_the_environment_are_out_of_reach(spec: Path, token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {"ANTHROPIC_API_KEY": f"sk-ant-{uuid.uuid4().hex}", "OPENAI_API_KEY": f"sk-{uuid.uuid4().hex}"}
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    body = (
        "    seen = {k: v for k, v in os.environ.items()}\n"
        f"    for pid in ('self', '1', str(os.getppid()), '{os.getpid()}'):\n"
        "        try:\n            seen['/proc/' + pid] = open(f'/proc/{pid}/environ', 'rb').read().decode('utf-8', 'replace')\n"
        "        except OSError as e:\n            seen['/proc/' + pid] = f'{type(e).__name__}: {e.strerror}'\n"
        "    raise RuntimeError('environment: ' + json_dump(seen))\n"
        "\n\ndef json_dump(value):\n    import json\n    return json.dumps(value)\n"
    )
    report = attack(spec, token, body)
    message = only(report, "NEMO301")
    assert "environment: " in message
    everything = json.dumps([f.to_json() for f in report.findings]) + run_log(spec)
    for key, value in secrets.items():
        assert value not in everything, f"{key} reached the generated code"
        assert key not in message
    none_survive(token, spec.parent)
    carries_on(spec)


@needs_bwrap
def test_the_server_process_cannot_be_signalled(spec: Path, token: str) -> None:
    received: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: received.append(signum))
    canary = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        body = (
            "    outcome = []\n"
            f"    for pid, sig in ((os.getppid(), signal.SIGUSR1), ({os.getpid()}, signal.SIGUSR1),\n"
            f"                     ({canary.pid}, signal.SIGKILL)):\n"
            "        try:\n            os.kill(pid, sig)\n            outcome.append(f'{pid}: sent')\n"
            "        except OSError as e:\n            outcome.append(f'{pid}: {e.strerror}')\n"
            "    raise RuntimeError('signals: ' + '; '.join(outcome))\n"
        )
        report = attack(spec, token, body)
        time.sleep(0.2)  # a signal, had one been delivered, is handled by now
        assert received == []
        assert canary.poll() is None, "the canary process was killed from inside the sandbox"
    finally:
        canary.kill()
        canary.wait()
        signal.signal(signal.SIGUSR1, previous)
    message = only(report, "NEMO301")
    assert f"{os.getpid()}: No such process" in message and f"{canary.pid}: No such process" in message, message
    none_survive(token, spec.parent)
    carries_on(spec)


def test_megabytes_of_garbage_output_are_cut_off(spec: Path, token: str) -> None:
    body = ("    junk = bytes(range(256)) * 4096 + b'\\x1b[2J\\x1b]0;pwned\\x07'\n"
            "    for _ in range(30):\n"
            "        sys.stdout.buffer.write(junk)\n"
            "        sys.stderr.buffer.write(junk)\n"
            "    sys.stdout.flush()\n"
            "    time.sleep(60)\n")
    report = attack(spec, token, body)
    assert report.outcome == "rejected"
    assert "printed more output than the sandbox accepts" in only(report, "NEMO306")
    assert len(run_log(spec)) < 5_000_000
    none_survive(token, spec.parent)
    carries_on(spec)


def test_garbage_output_within_the_limits_is_kept_in_part_and_the_run_goes_on(spec: Path, token: str) -> None:
    wrap_generated(spec, token, "    junk = os.urandom(1 << 20)\n"
                                "    for _ in range(3):\n"
                                "        sys.stdout.buffer.write(junk)\n"
                                "        sys.stderr.buffer.write(junk)\n"
                                "    sys.stdout.flush()\n")
    report = solve(spec)
    assert report.outcome == "validated", [(f.code, f.message) for f in report.findings]
    log = run_log(spec)
    assert "bytes of stdout cut here" in log and "bytes of stderr cut here" in log
    assert len(log) < 6_000_000
    none_survive(token, spec.parent)
    carries_on(spec)


@needs_bwrap
def test_a_background_process_does_not_outlive_the_run(spec: Path, token: str, home_dir: Path) -> None:
    late = spec.parent / ".nemo" / "wyndor" / "run" / "late.txt"
    # A daemon: double fork and a new session, so that neither the process group nor the parent
    # takes it down; it writes a file once the run is over.
    daemon = ("import os, sys, time\n"
              "if os.fork(): sys.exit(0)\n"
              "os.setsid()\n"
              "if os.fork(): sys.exit(0)\n"
              "time.sleep(0.8)\n"
              "open(sys.argv[1], 'w').write('still here')\n"
              "time.sleep(30)\n")
    wrap_generated(spec, token, f"    subprocess.run([sys.executable, '-c', {daemon!r}, {str(late)!r}, TOKEN])\n")
    report = solve(spec)
    assert report.outcome == "validated", [(f.code, f.message) for f in report.findings]
    if BWRAP:  # the harness sees its PID namespace only under bubblewrap
        assert "process(es) running in the background" in only(report, "NEMO311")
    none_survive(token, spec.parent)
    time.sleep(1.2)
    assert not late.exists(), "a process started by the optimizer was still running after the run"
    carries_on(spec)


# --- the sandbox's own filesystem --------------------------------------------------------------------

@needs_bwrap
async def test_the_sandbox_root_is_read_only_and_its_tmp_is_bounded(tmp_path: Path) -> None:
    """Both live in memory: writing to them must not be a way to fill the machine's memory."""
    from nemo_lsp.sandbox import Limits

    code = (
        "import errno\n"
        "for path in ('/newfile', '/usr/newfile', '/etc/newfile'):\n"
        "    try:\n        open(path, 'w').close()\n        print('wrote', path)\n"
        "    except OSError as e:\n        print('refused', path, errno.errorcode[e.errno])\n"
        "written = 0\n"
        "try:\n"
        "    for i in range(8):\n"
        "        with open(f'/tmp/fill{i}', 'wb') as fh:\n            fh.write(b'x' * 512 * 1024)\n"
        "        written += 512 * 1024\n"
        "except OSError as e:\n    print('tmp full', errno.errorcode[e.errno], written)\n"
    )
    result = await LocalSandbox().run([sys.executable, "-c", code], cwd=tmp_path, limits=Limits(file_size_mb=2))
    assert result.ok, result.stderr
    assert "wrote" not in result.stdout, result.stdout
    assert result.stdout.count("refused") == 3
    assert "tmp full ENOSPC" in result.stdout, result.stdout


# --- cancellation at any moment ------------------------------------------------------------------------

async def test_runs_cancelled_at_any_moment_leave_no_process(tmp_path: Path, token: str) -> None:
    """Cancelled while bwrap was being spawned, asyncio killed the direct child only; a bwrap child forked
    in that instant lived on without a parent (found by the language server's save storm)."""
    sandbox = LocalSandbox()
    code = "import time; time.sleep(30)"
    for k in range(40):
        task = asyncio.ensure_future(sandbox.run([sys.executable, "-c", code, token], cwd=tmp_path))
        await asyncio.sleep(k * 0.0015)  # from before the spawn to well into the child's start-up
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    deadline = time.monotonic() + 5
    while survivors(token, tmp_path) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not survivors(token, tmp_path), survivors(token, tmp_path)
