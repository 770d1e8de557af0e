"""The warm pool against real processes and the real engine.

Results must be those of a cold run (every example, compared field by field), limits must be hit and
named as in a cold run, a cancelled or killed job must leave no process, and a job must find nothing
of the job before it (files in /tmp, /dev/shm or its home, processes, System V IPC objects).
Containment of hostile optimizers under the warm pool: tests/security/test_hostile_warm.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from nemo_lsp.engine import Report, Settings, run
from nemo_lsp.resources import templates_dir
from nemo_lsp.sandbox import Limits, LocalSandbox, clean_env, get_sandbox, warm

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.opt.md")) + sorted((REPO / "examples" / "large").glob("*.opt.md"))
BWRAP = LocalSandbox().uses_bwrap
needs_bwrap = pytest.mark.skipif(not BWRAP, reason="the warm pool's cleaning between jobs needs bubblewrap's "
                                 "namespaces: " + LocalSandbox().isolation())
PY = sys.executable
LIMITS = Limits(wall_seconds=20, cpu_seconds=20, memory_mb=1024)


@pytest.fixture(scope="module")
def pool() -> Iterator[warm.WarmPool]:
    """The process-wide pool, warm; stopped afterwards so that other tests run cold."""
    p = warm.start_pool()
    assert p.ready(120), p.reason
    yield p
    warm.stop_pool()


@pytest.fixture
def own_pool() -> Iterator[warm.WarmPool]:
    """A private one-worker pool: consecutive jobs are sure to share the worker."""
    p = warm.WarmPool(1).start()
    assert p.ready(120), p.reason
    yield p
    p.close()


def run_folder(base: Path, body: str, name: str = "run") -> Path:
    """A run folder as the engine lays it out, with an optimizer whose build_model is `body`."""
    folder = base / name
    folder.mkdir()
    shutil.copyfile(templates_dir() / "harness.py", folder / "harness.py")
    (folder / "data.json").write_text("{}", encoding="utf-8")
    (folder / "optimizer.py").write_text("import os, sys, time, signal\n\ndef build_model(data):\n" + body,
                                         encoding="utf-8")
    return folder


def optimize_argv() -> list[str]:
    return [PY, "-I", "-B", "harness.py", "optimize", "optimizer.py", "data.json", "optimizer.result.json",
            "--time-limit", "5"]


def raised(folder: Path) -> str:
    """The message of the exception the optimizer raised (the harness's result file)."""
    payload = json.loads((folder / "optimizer.result.json").read_text(encoding="utf-8"))
    assert payload["ok"] is False, payload
    return payload["error"]["message"]


def solve(spec: Path, **overrides: object) -> Report:
    return asyncio.run(run(spec, base=Settings(), overrides=overrides or None))


def results(spec: Path) -> dict[str, object]:
    """The two result files of the last run, without their timings (which differ by nature)."""
    out: dict[str, object] = {}
    name = spec.name[: -len(".opt.md")]
    for role in ("optimizer", "simulator"):
        path = spec.parent / ".nemo" / name / "run" / f"{role}.result.json"
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            data.pop("timing", None)
            out[role] = data
    return out


def survivors(token: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                if fh.read().rsplit(b")", 1)[-1].split()[0] in (b"Z", b"X"):
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{pid}/comm", "rb") as fh:
                comm = fh.read()
        except OSError:
            continue
        if token.encode() in cmdline or token.encode() in comm:
            found.append(f"{pid} {cmdline[:200]!r}")
    return found


async def gone(token: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while survivors(token) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not survivors(token), survivors(token)


NAME_PROCESS = ("    with open('/proc/self/comm', 'w') as fh:\n"
                "        fh.write({token!r})\n")


# --- identical results ---------------------------------------------------------------------------------

def test_every_example_gives_the_same_result_cold_and_warm(tmp_path: Path) -> None:
    warm.stop_pool()
    cold: dict[str, tuple[Report, dict[str, object]]] = {}
    for example in EXAMPLES:
        folder = tmp_path / "cold" / example.stem
        folder.mkdir(parents=True)
        spec = Path(shutil.copyfile(example, folder / example.name))
        cold[example.name] = (solve(spec), results(spec))
    p = warm.start_pool()
    try:
        assert p.ready(120), p.reason
        before = p.served
        for example in EXAMPLES:
            folder = tmp_path / "warm" / example.stem
            folder.mkdir(parents=True)
            spec = Path(shutil.copyfile(example, folder / example.name))
            report, files = solve(spec), results(spec)
            cold_report, cold_files = cold[example.name]
            assert report.outcome == cold_report.outcome, example.name
            assert [f.code for f in report.findings] == [f.code for f in cold_report.findings], example.name
            assert report.isolation == cold_report.isolation
            if cold_report.solution is not None:
                assert report.solution is not None
                assert report.solution.status == cold_report.solution.status, example.name
                assert report.solution.objective == cold_report.solution.objective, example.name
                assert report.solution.decisions == cold_report.solution.decisions, example.name
            assert files == cold_files, example.name
        served = p.served - before
        assert served >= len(EXAMPLES), f"only {served} jobs ran warm"
    finally:
        warm.stop_pool()


def test_the_warm_sandbox_is_registered_and_isolates_like_local() -> None:
    sandbox = get_sandbox("warm")
    assert isinstance(sandbox, warm.WarmSandbox) and sandbox.name == "warm"
    assert sandbox.isolation() == LocalSandbox().isolation()


async def test_a_job_runs_where_a_cold_run_would_see_it(pool: warm.WarmPool, tmp_path: Path) -> None:
    """The same file names, environment, argv and interpreter flags; paths name the run folder."""
    body = ("    import json\n"
            "    seen = {'files': sorted(os.listdir('.')), 'argv': sys.argv, 'flags': [sys.flags.isolated,\n"
            "            sys.flags.dont_write_bytecode], 'path': sys.path,\n"
            "            'hashseed': os.environ.get('PYTHONHASHSEED'),\n"
            "            'keys': sorted(k for k in os.environ if k not in ('HOME', 'TMPDIR')),\n"
            "            'main': sys.modules['__main__'].__name__, 'ppid_is_init': os.getppid() == 1}\n"
            "    raise RuntimeError(json.dumps(seen))\n")
    found = {}
    for mode, sandbox in (("cold", LocalSandbox(warm=False)), ("warm", LocalSandbox())):
        folder = run_folder(tmp_path, body, mode)
        before = pool.served
        r = await sandbox.run(optimize_argv(), cwd=folder, limits=LIMITS, env=clean_env())
        assert r.ok, r.stderr
        assert pool.served == before + (mode == "warm")
        found[mode] = json.loads(raised(folder))
        payload = json.loads((folder / "optimizer.result.json").read_text(encoding="utf-8"))
        assert str(folder / "harness.py") in payload["error"]["traceback"]
    found["warm"].pop("ppid_is_init")
    found["cold"].pop("ppid_is_init")
    assert found["warm"] == found["cold"]


# --- limits ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "limits", "expected"), [
    pytest.param("    while True:\n        pass\n", Limits(wall_seconds=1.5, cpu_seconds=30), "wall", id="wall"),
    pytest.param("    while True:\n        pass\n", Limits(wall_seconds=30, cpu_seconds=1), "cpu", id="cpu"),
    pytest.param("    hoard = []\n    while True:\n        hoard.append(bytearray(50 * 1024 * 1024))\n",
                 Limits(wall_seconds=30, memory_mb=512), "memory", id="memory"),
    pytest.param("    import sys\n    while True:\n        sys.stdout.write('y' * 65536)\n",
                 Limits(wall_seconds=30, output_bytes=50_000), "output", id="output"),
])
async def test_limits_are_hit_and_named_as_in_a_cold_run(pool: warm.WarmPool, tmp_path: Path, body: str,
                                                         limits: Limits, expected: str) -> None:
    token = "nemo" + uuid.uuid4().hex[:11]
    outcomes = {}
    for mode, sandbox in (("cold", LocalSandbox(warm=False)), ("warm", LocalSandbox())):
        folder = run_folder(tmp_path, NAME_PROCESS.format(token=token) + body, mode)
        before = pool.served
        r = await sandbox.run(optimize_argv(), cwd=folder, limits=limits, env=clean_env())
        outcomes[mode] = r
        assert pool.served == before + (mode == "warm")
        await gone(token)
    cold, hot = outcomes["cold"], outcomes["warm"]
    payload_limit = None
    result = tmp_path / "warm" / "optimizer.result.json"
    if result.exists():  # a MemoryError the harness caught: the engine reads the limit from the payload
        payload_limit = json.loads(result.read_text()).get("error", {}).get("limit")
    assert (hot.limit or payload_limit) == expected, (hot.limit, hot.returncode, hot.stderr[-500:])
    assert (hot.limit, hot.returncode) == (cold.limit, cold.returncode)
    assert len(hot.stdout) < 2 * limits.output_bytes


async def test_the_pool_recovers_when_a_job_kills_its_worker(pool: warm.WarmPool, tmp_path: Path) -> None:
    """A job shares its worker's user, so it can SIGKILL it: the job ends, the worker is replaced."""
    token = "nemo" + uuid.uuid4().hex[:11]
    folder = run_folder(tmp_path, NAME_PROCESS.format(token=token) + "    os.kill(os.getppid(), signal.SIGKILL)\n"
                        "    time.sleep(30)\n")
    started = time.monotonic()
    r = await LocalSandbox().run(optimize_argv(), cwd=folder, limits=LIMITS, env=clean_env())
    assert time.monotonic() - started < 10
    assert not r.ok and r.limit is None
    assert not (folder / "optimizer.result.json").exists()
    await gone(token)
    assert pool.ready(60), pool.reason
    folder = run_folder(tmp_path, "    raise RuntimeError('fine')\n", "after")
    before = pool.served
    r = await LocalSandbox().run(optimize_argv(), cwd=folder, limits=LIMITS, env=clean_env())
    assert r.ok and raised(folder) == "fine" and pool.served == before + 1


async def test_signals_other_than_kill_do_not_stop_the_worker(pool: warm.WarmPool, tmp_path: Path) -> None:
    body = ("    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGTSTP):\n"
            "        os.kill(os.getppid(), sig)\n"
            "    time.sleep(0.2)\n"
            "    raise RuntimeError('still here')\n")
    folder = run_folder(tmp_path, body)
    r = await LocalSandbox().run(optimize_argv(), cwd=folder, limits=LIMITS, env=clean_env())
    assert r.ok, r.stderr
    assert raised(folder) == "still here"
    assert pool.ready(1)  # no worker was lost


# --- cancellation -----------------------------------------------------------------------------------------

async def test_jobs_cancelled_at_any_moment_leave_no_process(own_pool: warm.WarmPool, tmp_path: Path) -> None:
    token = "nemo" + uuid.uuid4().hex[:11]
    folder = run_folder(tmp_path, NAME_PROCESS.format(token=token) + "    if os.fork() == 0:\n        os.setsid()\n"
                        "    time.sleep(30)\n")
    for k in range(12):
        task = asyncio.ensure_future(own_pool.run(optimize_argv(), cwd=folder, limits=LIMITS, env=clean_env()))
        await asyncio.sleep(k * 0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as info:
            await task
        partial = getattr(info.value, "exec_result", None)
        assert partial is None or partial.cancelled
        await gone(token)
        assert own_pool.ready(30), own_pool.reason
    r = await own_pool.run(optimize_argv(), cwd=run_folder(tmp_path, "    raise RuntimeError('ok')\n", "after"),
                           limits=LIMITS, env=clean_env())
    assert r is not None and r.ok


# --- nothing left between jobs ---------------------------------------------------------------------------

@needs_bwrap
async def test_a_job_finds_nothing_of_the_job_before(own_pool: warm.WarmPool, tmp_path: Path) -> None:
    token = "nemo" + uuid.uuid4().hex[:11]
    leave = (NAME_PROCESS.format(token=token)
             + "    import ctypes\n"
             "    libc = ctypes.CDLL(None)\n"
             "    assert libc.shmget(0x4e454d4f, 4096, 0o1666) >= 0\n"
             "    for path in ('/tmp/left', '/dev/shm/left', '/dev/left', os.environ['HOME'] + '/left',\n"
             "                 os.environ['TMPDIR'] + '/left', 'left'):\n"
             "        open(path, 'w').write('secret')\n"
             "    if os.fork() == 0:\n"
             "        os.setsid()\n"
             "        if os.fork() == 0:\n"
             "            time.sleep(60)\n"
             "        os._exit(0)\n"
             "    raise RuntimeError('left')\n")
    # (the shared-memory count comes first: a long listing is cut in the error message; paths of the
    # read-only Python binds are left out: a checkout under /tmp is visible by design)
    look = ("    import glob, sys\n"
            "    binds = tuple(p for p in sys.path if p.startswith('/tmp/'))\n"
            "    seen = [open('/proc/sysvipc/shm').read().count('\\n') - 1]\n"
            "    seen += [p for p in glob.glob('/tmp/**', recursive=True) if not binds or not p.startswith(binds)]\n"
            "    seen += glob.glob('/dev/shm/*') + glob.glob('/dev/left')\n"
            "    seen += glob.glob(os.environ['HOME'] + '/*') + glob.glob(os.environ['TMPDIR'] + '/*')\n"
            "    seen += sorted(os.listdir('.'))\n"
            "    seen += [open(f'/proc/{p}/cmdline').read() for p in os.listdir('/proc') if p.isdigit()]\n"
            "    raise RuntimeError(repr(seen))\n")
    first = run_folder(tmp_path, leave, "first")
    r = await own_pool.run(optimize_argv(), cwd=first, limits=LIMITS, env=clean_env())
    assert r is not None and r.ok and raised(first) == "left"
    assert (first / "left").read_text() == "secret"  # what it wrote in its folder is back in the run folder
    await gone(token)
    second = run_folder(tmp_path, look, "second")
    r = await own_pool.run(optimize_argv(), cwd=second, limits=LIMITS, env=clean_env())
    assert r is not None and r.ok, r
    seen = raised(second)
    assert "left" not in seen and token not in seen, seen
    assert seen.startswith("[0, "), seen  # no System V shared memory segment
    assert own_pool.served == 2


async def test_a_symlink_left_in_the_job_folder_is_not_followed_back(own_pool: warm.WarmPool,
                                                                     tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret", encoding="utf-8")
    folder = run_folder(tmp_path, f"    os.symlink({str(secret)!r}, 'link.txt')\n    raise RuntimeError('x')\n")
    r = await own_pool.run(optimize_argv(), cwd=folder, limits=LIMITS, env=clean_env())
    assert r is not None and r.ok
    assert not (folder / "link.txt").exists()


def test_memory_of_a_warm_worker_is_reported(pool: warm.WarmPool) -> None:
    rows = pool.stats()
    assert len(rows) == pool.size
    for row in rows:
        assert row["state"] in ("idle", "busy", "starting")
        if row["state"] == "idle":
            assert 10_000 < row["python_rss_kb"] < 1_000_000, row


async def test_without_bubblewrap_a_pool_runs_jobs_as_the_plain_sandbox_does(tmp_path: Path) -> None:
    """No private PID namespace: the worker kills the job's process group only, never `kill(-1)`
    (which would reach every process of the user, this test's included)."""
    token = "nemo" + uuid.uuid4().hex[:11]
    body = (NAME_PROCESS.format(token=token)
            + "    if os.fork() == 0:\n        time.sleep(30)\n        os._exit(0)\n"
            "    raise RuntimeError(os.environ['HOME'] + ' ' + str(sorted(os.listdir('.'))))\n")
    p = warm.WarmPool(1, use_bwrap=False).start()
    try:
        assert p.ready(120), p.reason
        assert not p.wrapped and p.isolation() == LocalSandbox(use_bwrap=False).isolation()
        found = {}
        for mode, run_it in (("cold", LocalSandbox(use_bwrap=False, warm=False).run), ("warm", p.run)):
            folder = run_folder(tmp_path, body, mode)
            r = await run_it(optimize_argv(), cwd=folder, limits=LIMITS, env=clean_env())
            assert r is not None and r.ok, r
            found[mode] = raised(folder).split(" ", 1)[1]
            await gone(token)
        assert found["warm"] == found["cold"]
        assert p.served == 1
    finally:
        p.close()


def test_a_pool_removes_the_folders_of_pools_whose_process_was_killed() -> None:
    import subprocess
    import tempfile

    dead = subprocess.run([PY, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    stale = Path(tempfile.mkdtemp(prefix=warm.ROOT_PREFIX))
    (stale / "owner").write_text(dead.stdout.strip(), encoding="utf-8")
    (stale / "w0-1").mkdir()
    p = warm.WarmPool(1).start()
    try:
        assert p.ready(120), p.reason
        assert not stale.exists()
        assert p.root.exists()
    finally:
        p.close()
    assert not p.root.exists()
