"""Warm execution: sandboxed workers with Pyomo and HiGHS imported, a fresh forked child per job.

A cold run pays for bubblewrap, a Python start and the solver stack's imports on every optimizer
and simulator run. A warm pool pays for them once: each worker (warm_worker.py) starts inside the
same bubblewrap sandbox as a cold run (no network, read-only system, private /tmp, its own PID, IPC
and UTS namespaces, --die-with-parent), imports the harness, Pyomo and highspy, solves a tiny model
through both routes to HiGHS, and waits. Each job is a `python -I -B harness.py optimize|simulate
...` command line; the worker forks, and the child sets the job's rlimits (CPU, address space, file
size, core), session, descriptors, folder and environment, and calls the harness's `main`. The host
side (this module) enforces the wall-clock deadline, the output cap and cancellation, as
LocalSandbox does, and reports the same ExecResult.

What the worker can see. A worker starts before any spec is saved, so it cannot bind the spec's run
folder (`.nemo/NAME/run/`, which is also deleted and re-created for every run). Binding a parent
(the spec's `.nemo/` or the workspace) would show a job more than a cold run shows it (manifests,
agent workspaces, backups, other specs). So a worker sees one private folder of its own, on the
host under the pool's temporary root: the job's files are copied into its `job/` folder before
the job (every regular file of the run folder: harness, module, data, decisions; a few MB at
most), and the files the job created or changed are copied back into the run folder afterwards
(regular files only, never a symlink, at most 64 MB), with the private folder's path rewritten to
the run folder's in the output and the results. The job therefore sees the same file names, in a
folder that holds nothing but its own run's files, as a cold run does.

One job at a time per worker. After each job the worker kills every process left in its PID
namespace (daemons that left the session included), empties /tmp, /dev/shm and what the job added
to /dev, and removes System V IPC objects; the host empties the private folder. A worker that
cannot clean up, that does not answer a kill within 5 s, or that dies (a job can kill its worker:
they share a user) is killed with its whole sandbox and replaced. Jobs the pool cannot take (no
idle worker within `acquire_seconds`, network access, extra writable paths, another harness) run
cold; the caller cannot tell apart but for the time.

Start the process-wide pool with `start_pool()` when the server or a benchmark starts; from then on
every LocalSandbox (the `local` sandbox) routes harness jobs to it. The `warm` sandbox starts the
pool on first use.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import itertools
import json
import os
import queue
import selectors
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..resources import templates_dir
from . import bwrap as _bwrap
from . import pids as _pids
from .base import ExecResult, Limits, clean_env
from .local import LocalSandbox, _Capture, _classify, _rlimits

HARNESS = "harness.py"
ROOT_PREFIX = "nemo-warm-"
"""The pool's folder in the temporary directory: nemo-warm-XXXX/{owner, wN-G/{job,home,tmp,private}, wN-G.log}."""
MODES = ("optimize", "simulate", "score")
COPY_BACK_BYTES = 64 * 1024 * 1024
"""At most this much of what a job wrote is copied back into the run folder."""
STAGE_BYTES = 256 * 1024 * 1024
"""A run folder larger than this runs cold (copying it would cost more than a cold start)."""
READY_SECONDS = 60.0
"""How long a worker may take to import and warm up before it is given up."""
KILL_GRACE = 5.0
"""How long a worker has to confirm a kill (and clean up) before its whole sandbox is killed."""
PIPE_GRACE = 2.0
"""How long to wait for a job's output pipes to close once it has exited."""
RESPAWN_TRIES = 3
"""Failed starts in a row after which the pool stops trying (and every job runs cold)."""
_WORKER_SOURCE = Path(__file__).with_name("warm_worker.py")


def default_size() -> int:
    """Two workers (an optimizer and a simulator, or two specs, at once), one on a single core."""
    return max(1, min(2, os.cpu_count() or 1))


class _Job:
    """One harness run handed to a worker; `cancel()` may come from any thread."""

    _ids = itertools.count(1)

    def __init__(self, command: tuple[str, ...], cwd: Path, env: dict[str, str], limits: Limits) -> None:
        self.id = next(self._ids)
        self.command = command
        self.cwd = cwd
        self.env = env
        self.limits = limits
        self.cancelled = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._lock = threading.Lock()

    def cancel(self) -> None:
        """Ask for the job to be killed; wakes the thread that waits on it."""
        self.cancelled.set()
        with self._lock:
            if self._wake_w >= 0:
                with contextlib.suppress(OSError):
                    os.write(self._wake_w, b"x")

    def close(self) -> None:
        with self._lock:
            for fd in (self._wake_r, self._wake_w):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._wake_w = -1


class WorkerError(RuntimeError):
    """A worker could not be started or stopped answering."""


@dataclass
class _Worker:
    pool: WarmPool
    index: int
    generation: int = 0
    state: str = "starting"
    folder: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    ctl: socket.socket | None = None
    info: dict[str, Any] = field(default_factory=dict)
    jobs: int = 0
    armed: bool = False
    """The worker said its next child is forked and warmed up (a job handed to it starts at once)."""
    cgroup: _pids.PidsCgroup | None = None
    """The worker's pids cgroup (pids.py): caps the processes of its jobs, whoever runs them."""

    @property
    def job_dir(self) -> Path:
        assert self.folder is not None
        return self.folder / "job"

    # --- life cycle ---------------------------------------------------------------------------------

    def spawn(self) -> None:
        """Start the worker in its sandbox and wait until it is warm; raises WorkerError."""
        pool = self.pool
        self.generation += 1
        folder = pool.root / f"w{self.index}-{self.generation}"
        folder.mkdir()
        self.folder = folder
        self._reset_folder()
        shutil.copyfile(_WORKER_SOURCE, folder / "worker.py")
        (self.job_dir / HARNESS).write_bytes(pool.harness)  # imported from where each job will find it
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        wrapped = pool.wrapped
        command = [sys.executable, "-I", "-B", str(folder / "worker.py"), str(self.job_dir),
                   "private" if wrapped else "shared", "spare" if pool.spares else "no-spare"]
        if wrapped:
            assert pool.probe is not None and pool.probe.path is not None
            argv = _bwrap.build_argv(pool.probe.path, command, cwd=folder, writable=(), private=folder,
                                     network=False, tmp_mb=pool.tmp_mb)
        else:
            argv = command
        # Only the worker's own imports read these: OpenBLAS must not start threads before a fork.
        # The cap a job gets, plus the worker, its spare child and their threads.
        self.cgroup = _pids.create(Limits().processes + 32)
        if self.cgroup is not None:
            argv = self.cgroup.join_argv(argv)
        env = clean_env({"OPENBLAS_NUM_THREADS": "1"}, home=folder / "private")
        log = open(pool.root / f"w{self.index}-{self.generation}.log", "wb")  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(argv, stdin=child.fileno(), stdout=log, stderr=log, env=env,
                                         cwd=str(folder), start_new_session=True)
        except OSError as exc:
            parent.close()
            raise WorkerError(f"cannot start a warm worker: {exc}") from None
        finally:
            child.close()
            log.close()
        self.ctl = parent
        parent.settimeout(READY_SECONDS)
        try:
            raw = parent.recv(1 << 20)
        except (OSError, TimeoutError):
            raw = b""
        parent.settimeout(None)
        message = json.loads(raw) if raw else {}
        if not message.get("ready"):
            tail = self._log_tail()
            self.destroy()
            raise WorkerError(message.get("error") or f"the warm worker did not start: {tail}")
        self.info = message
        self.jobs = 0
        self.armed = False

    def poll(self) -> None:
        """Read the notes an idle worker sent (`armed`) without waiting; only while no job runs."""
        while self.ctl is not None:
            try:
                raw = self.ctl.recv(1 << 16, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError:
                raw = b""
            if not raw:
                self.destroy()
                return
            if json.loads(raw).get("armed"):
                self.armed = True

    def destroy(self) -> None:
        """Kill the worker with its whole sandbox (bwrap's namespace dies with it)."""
        if self.ctl is not None:
            with contextlib.suppress(OSError):
                self.ctl.close()
            self.ctl = None
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=KILL_GRACE)
            self.proc = None
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        self.state = "dead"  # its folder stays until the job's files are copied back

    def stop(self) -> None:
        """Ask the worker to exit (it also exits when its socket closes), then make sure."""
        if self.ctl is not None:
            with contextlib.suppress(OSError):
                self.ctl.send(b'{"op": "exit"}')
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=1.0)
        self.destroy()

    def _log_tail(self) -> str:
        path = self.pool.root / f"w{self.index}-{self.generation}.log"
        try:
            return path.read_bytes()[-2000:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def _reset_folder(self) -> None:
        """Empty the worker's folder (the job's leftovers) and lay out job/, home/, tmp/, private/."""
        assert self.folder is not None
        for entry in os.scandir(self.folder):
            _remove(Path(entry.path))
        for name in ("job", "home", "tmp", "private"):
            (self.folder / name).mkdir()

    # --- one job ------------------------------------------------------------------------------------

    def execute(self, job: _Job) -> ExecResult | None:
        """Run the job; None when it could not be handed over (the caller then runs it cold)."""
        try:
            staged = self._stage(job)
        except OSError:
            self._reset_folder()
            return None
        env = dict(job.env)
        env.setdefault("HOME", str(self.folder / "home"))  # type: ignore[operator]
        env.setdefault("TMPDIR", str(self.folder / "tmp"))  # type: ignore[operator]
        if self.pool.wrapped:
            env.setdefault("PWD", str(self.job_dir))  # bwrap's --chdir sets it for a cold run
        request = {"op": "run", "id": job.id, "argv": list(job.command[3:]), "cwd": str(self.job_dir),
                   "env": env, "rlimits": _rlimits(job.limits)}
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        start = time.monotonic()
        try:
            assert self.ctl is not None
            socket.send_fds(self.ctl, [json.dumps(request).encode()], [out_w, err_w])
        except (OSError, AssertionError):
            for fd in (out_r, err_r):
                os.close(fd)
            self.destroy()  # its socket is broken: the worker is gone or going
            return None
        finally:
            os.close(out_w)
            os.close(err_w)
        self.jobs += 1
        self.armed = False
        with self.pool._lock:
            self.pool.dispatched += 1
        outcome = self._wait(job, out_r, err_r, start)
        self._copy_back(job, staged)
        if self.state != "dead":
            with self.pool._lock:
                self.pool.served += 1
        return outcome

    def finish(self) -> None:
        """After a job (once its caller has the result): empty the folder for the next one."""
        if self.folder is None:
            return
        if self.state == "dead" or self.pool.closed:
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        try:
            self._reset_folder()
        except OSError:
            self.destroy()  # a folder it cannot lay out again: no more jobs for this worker

    def _wait(self, job: _Job, out_r: int, err_r: int, start: float) -> ExecResult:
        limits = job.limits
        cgroup = self.cgroup
        refused = cgroup.refusals() if cgroup is not None else 0
        captures = {out_r: _Capture(limits.output_bytes), err_r: _Capture(limits.output_bytes)}
        flood = 10 * limits.output_bytes
        sel = selectors.DefaultSelector()
        for fd in captures:
            sel.register(fd, selectors.EVENT_READ)
        assert self.ctl is not None
        sel.register(self.ctl, selectors.EVENT_READ)
        sel.register(job._wake_r, selectors.EVENT_READ)
        deadline = start + limits.wall_seconds
        limit: str | None = None
        cancelled = False
        kill_sent: float | None = None
        exited: dict[str, Any] | None = None
        end: float | None = None
        lost = False
        open_pipes = set(captures)
        try:
            while True:
                now = time.monotonic()
                if (exited is not None or lost) and (not open_pipes or now > (end or now) + PIPE_GRACE):
                    break
                if exited is None and not lost:
                    reason = None
                    if kill_sent is None:
                        if job.cancelled.is_set():
                            cancelled, reason = True, "cancel"
                        elif now >= deadline:
                            limit = reason = "wall"
                        elif any(c.total > flood for c in captures.values()):
                            limit = reason = "output"
                        if reason is not None:
                            kill_sent = now
                            with contextlib.suppress(OSError):
                                self.ctl.send(b'{"op": "kill"}')
                    elif now > kill_sent + KILL_GRACE:
                        lost, end = True, now  # the worker does not answer: its sandbox goes
                        with contextlib.suppress(KeyError, ValueError):
                            sel.unregister(self.ctl)
                        self.destroy()
                        continue
                waits = [PIPE_GRACE if exited is not None or lost else deadline - now]
                if kill_sent is not None and exited is None:
                    waits.append(kill_sent + KILL_GRACE - now)
                timeout = max(0.0, min(waits))
                for key, _ in sel.select(timeout):
                    fd = key.fileobj
                    if fd is self.ctl:
                        try:
                            raw = self.ctl.recv(1 << 16)
                        except OSError:
                            raw = b""
                        if not raw:
                            sel.unregister(self.ctl)
                            lost, end = True, time.monotonic()
                            continue
                        message = json.loads(raw)
                        if "exited" in message:
                            exited, end = message, time.monotonic()
                        elif message.get("armed"):
                            self.armed = True
                        elif "started" in message:
                            self.info["last_spare"] = message.get("spare")
                    elif fd == job._wake_r:
                        with contextlib.suppress(OSError):
                            os.read(job._wake_r, 64)
                    else:
                        data = os.read(fd, 65536)  # type: ignore[arg-type]
                        if data:
                            captures[fd].feed(data)  # type: ignore[index]
                        else:
                            sel.unregister(fd)
                            open_pipes.discard(fd)  # type: ignore[arg-type]
        finally:
            sel.close()
            for fd in captures:
                os.close(fd)
        wrapped = self.pool.wrapped
        if exited is not None:
            code = int(exited["returncode"])
            self.info["last_max_rss_kb"] = exited.get("max_rss_kb")
            self.info["last_child_s"] = exited.get("child_s")
            self.info["last_sweep_s"] = exited.get("sweep_s")
            if not exited.get("clean", False):
                self.destroy()
        else:
            code = -signal.SIGKILL  # the job went down with its worker
            if self.state != "dead":
                self.destroy()
        if kill_sent is not None and code == -signal.SIGKILL:
            returncode = code  # killed by the host: a cold run's bwrap is SIGKILLed the same way
        elif wrapped and code < 0:
            returncode = 128 - code  # bwrap reports a child killed by signal N as exit status 128 + N
        else:
            returncode = code
        job_dir, run_dir = str(self.job_dir), str(job.cwd)
        stdout = captures[out_r].text("stdout").replace(job_dir, run_dir)
        stderr = captures[err_r].text("stderr").replace(job_dir, run_dir)
        duration = (end or time.monotonic()) - start
        if exited is None and kill_sent is None:
            stderr += ("\nnemo-lsp warm sandbox: the worker process running this job was killed while it ran "
                       "(a job can kill its own worker: they share a user), and the job with it\n")
        elif limit is None and not cancelled:
            limit = _classify(returncode, wrapped, stderr, duration, limits)
        if cgroup is not None and returncode != 0 and limit in (None, "wall", "cpu") and not cancelled \
                and cgroup.refusals() > refused:
            limit = "processes"
        return ExecResult(argv=job.command, returncode=returncode, stdout=stdout, stderr=stderr,
                          duration=duration, limit=limit, cancelled=cancelled,
                          isolation=self.pool.isolation(), warm=True)

    def _stage(self, job: _Job) -> dict[str, tuple[bool, int, int, int]]:
        """Link (or, across file systems, copy) the run folder's regular files into the job folder.

        A hard link is the cold run's own file: changed in place, it is changed in the run folder, as
        when the job runs there. Returns each name's (linked, inode, size, mtime) as staged.
        """
        staged: dict[str, tuple[bool, int, int, int]] = {}
        for entry in os.scandir(job.cwd):
            if not entry.is_file(follow_symlinks=False):
                continue
            target = self.job_dir / entry.name
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            try:
                os.link(entry.path, target, follow_symlinks=False)
                linked = True
            except OSError:
                shutil.copyfile(entry.path, target, follow_symlinks=False)
                linked = False
            st = target.stat()
            staged[entry.name] = (linked, st.st_ino, st.st_size, st.st_mtime_ns)
        return staged

    def _copy_back(self, job: _Job, staged: dict[str, tuple[bool, int, int, int]]) -> None:
        """What the job created or changed goes to the run folder, as if it had run there."""
        budget = COPY_BACK_BYTES
        skipped = 0
        root = self.job_dir
        old, new = str(root).encode(), str(job.cwd).encode()
        for folder, dirs, files in os.walk(root):
            rel = Path(folder).relative_to(root)
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
            for name in files:
                source = Path(folder) / name
                try:
                    st = source.lstat()
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                key = str(rel / name) if str(rel) != "." else name
                before = staged.get(key)
                if before is not None and before[1] == st.st_ino and (
                        before[0] or before[2:] == (st.st_size, st.st_mtime_ns)):
                    continue  # the run folder's own file (changed in place, if at all) or an untouched copy
                if st.st_size > budget:
                    skipped += 1
                    continue
                budget -= st.st_size
                target = job.cwd / rel / name
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    _copy_rewritten(source, target, old, new)
                except OSError:
                    skipped += 1
        if skipped:
            note = (f"nemo-lsp warm sandbox: {skipped} file(s) the code wrote were not copied back to the run "
                    f"folder (more than {COPY_BACK_BYTES // (1024 * 1024)} MB)\n")
            with contextlib.suppress(OSError):
                with open(job.cwd / "warm-sandbox.txt", "a", encoding="utf-8") as fh:
                    fh.write(note)


def _copy_rewritten(source: Path, target: Path, old: bytes, new: bytes) -> None:
    """Copy without following a symlink; a JSON or text file naming the job folder names the run folder."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(source, flags)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read()
    if old in data and source.suffix in (".json", ".log", ".txt"):
        if source.suffix == ".json":
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                value = _replace_strings(json.loads(data), old.decode(), new.decode())
                data = json.dumps(value, separators=(",", ":")).encode()
        else:
            data = data.replace(old, new)
    tmp = target.with_name(f".{target.name}.nemo-warm")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def _replace_strings(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_replace_strings(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _replace_strings(v, old, new) for k, v in value.items()}
    return value


def _remove(path: Path) -> None:
    """Delete a file or a tree the job left, whatever modes it set (never following symlinks)."""
    if path.is_dir() and not path.is_symlink():
        def retry(func, p, _exc):  # noqa: ANN001, ANN202
            with contextlib.suppress(OSError):
                os.chmod(os.path.dirname(p), 0o700)
                os.chmod(p, 0o700)
            with contextlib.suppress(OSError):
                func(p)

        with contextlib.suppress(OSError):
            os.chmod(path, 0o700)
        shutil.rmtree(path, onerror=retry)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class WarmPool:
    """Workers kept warm for harness jobs; thread-based, so any event loop (or several) may use it."""

    def __init__(self, size: int | None = None, *, use_bwrap: bool = True, tmp_mb: int = Limits().file_size_mb,
                 acquire_seconds: float = 2.0, spares: bool = True) -> None:
        self.size = size or default_size()
        self.use_bwrap = use_bwrap
        self.tmp_mb = tmp_mb
        self.acquire_seconds = acquire_seconds
        """How long a job waits for a busy or starting worker before it runs cold."""
        self.spares = spares
        """Fork and warm up each worker's next child between jobs (bubblewrap only; about 5 ms a job)."""
        self.probe: _bwrap.Probe | None = None
        self.root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX))
        (self.root / "owner").write_text(str(os.getpid()), encoding="utf-8")
        self.harness = (templates_dir() / HARNESS).read_bytes()
        self.reason = ""
        """Why the pool serves nothing, when it does not (every job then runs cold)."""
        self.closed = False
        self.served = 0
        """Jobs that ran warm and left their worker clean."""
        self.dispatched = 0
        """Jobs handed to a worker, whatever became of them."""
        self._failures = 0
        self._lock = threading.Lock()
        self._workers = [_Worker(self, i) for i in range(self.size)]
        self._spawns: queue.Queue[_Worker | None] = queue.Queue()
        self._spawner = threading.Thread(target=self._spawn_loop, name="nemo-warm-spawner", daemon=True)

    @property
    def wrapped(self) -> bool:
        return bool(self.probe and self.probe.usable)

    def isolation(self) -> str:
        return _bwrap.isolation_text(self.probe, False)

    def start(self) -> WarmPool:
        """Start every worker in the background; returns at once."""
        for worker in self._workers:
            self._spawns.put(worker)
        self._spawner.start()
        return self

    def _spawn_loop(self) -> None:
        """The one thread that starts workers, alive as long as the pool.

        bubblewrap's --die-with-parent (PR_SET_PDEATHSIG) fires when the *thread* that started it
        ends, so workers must not be started from short-lived threads.
        """
        self.probe = _bwrap.probe() if self.use_bwrap else None
        _remove_orphaned_roots()
        while True:
            worker = self._spawns.get()
            if worker is None or self.closed:
                return
            self._spawn(worker)

    def _spawn(self, worker: _Worker) -> None:
        while not self.closed:
            try:
                worker.spawn()
            except (WorkerError, OSError) as exc:
                with self._lock:
                    self._failures += 1
                    failures = self._failures
                    if failures >= RESPAWN_TRIES:
                        self.reason = f"warm workers cannot start: {exc}"
                        worker.state = "dead"
                        return
                time.sleep(0.5 * failures)
                continue
            with self._lock:
                if self.closed:
                    worker.stop()
                    return
                self._failures = 0
                worker.state = "idle"
            return

    def _respawn(self, worker: _Worker) -> None:
        with self._lock:
            if self.closed or self.reason:
                return
            worker.state = "starting"
        self._spawns.put(worker)

    def ready(self, timeout: float = 60.0) -> bool:
        """Wait until every worker is warm (benchmarks and tests); False if some never will be."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                states = [w.state for w in self._workers]
            if all(s == "idle" for s in states):
                return True
            if self.reason or self.closed:
                return False
            time.sleep(0.01)
        return False

    def accepts(self, command: Sequence[str], cwd: Path, writable: Sequence[Path], limits: Limits) -> bool:
        """Only the harness's own command lines, in a folder holding this very harness, as a cold run has them."""
        if self.closed or self.reason or writable or limits.network or limits.file_size_mb != self.tmp_mb:
            return False
        if len(command) < 5 or tuple(command[:4]) != (sys.executable, "-I", "-B", HARNESS) or command[4] not in MODES:
            return False
        try:
            if (cwd / HARNESS).read_bytes() != self.harness:
                return False
            size = sum(e.stat(follow_symlinks=False).st_size for e in os.scandir(cwd)
                       if e.is_file(follow_symlinks=False))
        except OSError:
            return False
        return size <= STAGE_BYTES

    def _try_acquire(self) -> tuple[_Worker | None, bool]:
        """An idle worker, one whose next child is already warm first; and whether waiting may help."""
        with self._lock:
            idle = [w for w in self._workers if w.state == "idle"]
            for worker in idle:
                worker.poll()
            lost = [w for w in idle if w.state == "dead"]
            idle = [w for w in idle if w.state == "idle"]
            chosen = next((w for w in idle if w.armed), idle[0] if idle else None)
            if chosen is not None:
                chosen.state = "busy"
            waitable = chosen is not None or any(w.state in ("starting", "busy") for w in self._workers)
        for worker in lost:  # died while idle (its socket closed): replaced
            self._respawn(worker)
        return chosen, waitable or bool(lost)

    def _release(self, worker: _Worker) -> None:
        with self._lock:
            if worker.state == "busy":
                worker.state = "idle"
                return
        if worker.state == "dead":
            self._respawn(worker)

    async def run(self, command: Sequence[str], *, cwd: Path, writable: Sequence[Path] = (),
                  limits: Limits = Limits(), env: Mapping[str, str] | None = None) -> ExecResult | None:
        """Run a harness job warm; None when this pool will not (the caller runs it cold).

        Cancelled, the job is killed (and its worker cleaned) before CancelledError is re-raised,
        with the partial result attached as ``exec_result``, as LocalSandbox.run does.
        """
        command = tuple(command)
        cwd = Path(cwd)
        if not await asyncio.to_thread(self.accepts, command, cwd, writable, limits):
            return None
        worker = None
        deadline = time.monotonic() + self.acquire_seconds
        while worker is None:
            worker, waitable = self._try_acquire()
            if worker is None:
                if not waitable or time.monotonic() > deadline:
                    return None
                await asyncio.sleep(0.005)
        job = _Job(command, cwd, dict(env) if env is not None else clean_env(), limits)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()

        def settle(value: Any) -> None:
            if not done.done():
                done.set_result(value)

        def target() -> None:
            try:
                value: Any = worker.execute(job)
            except BaseException as exc:  # noqa: BLE001 - carried to the awaiting task
                value = exc
                worker.destroy()
            with contextlib.suppress(RuntimeError):  # the loop may be gone (asyncio.run ended)
                loop.call_soon_threadsafe(settle, value)
            try:
                worker.finish()
            finally:
                self._release(worker)
                job.close()

        threading.Thread(target=target, name=f"nemo-warm-job-{job.id}", daemon=True).start()
        try:
            value = await asyncio.shield(done)
        except asyncio.CancelledError as exc:
            job.cancel()
            try:
                value = await asyncio.wait_for(asyncio.shield(done), KILL_GRACE + PIPE_GRACE + 1.0)
            except (asyncio.CancelledError, asyncio.TimeoutError):
                value = None
            if isinstance(value, ExecResult):
                exc.exec_result = replace(value, cancelled=True)  # type: ignore[attr-defined]
            raise
        if isinstance(value, BaseException):
            raise value
        return value

    def stats(self) -> list[dict[str, Any]]:
        """Per worker: state, jobs served, the worker's resident and proportional memory (kB)."""
        out = []
        with self._lock:
            workers = list(self._workers)
        for w in workers:
            row: dict[str, Any] = {"worker": w.index, "state": w.state, "jobs": w.jobs,
                                   "warm_up_s": w.info.get("warm_up"), "last_job_max_rss_kb":
                                   w.info.get("last_max_rss_kb")}
            if w.proc is not None:
                pids = [w.proc.pid, *_descendants(w.proc.pid)]
                row["processes"] = len(pids)
                row["rss_kb"] = sum(_status_kb(p, "VmRSS") or 0 for p in pids)
                row["pss_kb"] = sum(_pss_kb(p) or 0 for p in pids)
                row["python_rss_kb"] = max((_status_kb(p, "VmRSS") or 0 for p in pids), default=0)
            out.append(row)
        return out

    def close(self) -> None:
        """Stop every worker and delete the pool's folder."""
        with self._lock:
            self.closed = True
            workers = list(self._workers)
        self._spawns.put(None)
        for w in workers:
            w.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _remove_orphaned_roots() -> None:
    """Folders of pools whose process died without closing them (killed: no atexit)."""
    for folder in Path(tempfile.gettempdir()).glob(ROOT_PREFIX + "*"):
        try:
            owner = int((folder / "owner").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if owner != os.getpid() and not Path(f"/proc/{owner}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except OSError:
                continue
            found.extend(kids)
            todo.extend(kids)
    return found


def _status_kb(pid: int, name: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _pss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# --- the process-wide pool ---------------------------------------------------------------------------

_pool: WarmPool | None = None
_pool_lock = threading.Lock()
_bypass: contextvars.ContextVar[bool] = contextvars.ContextVar("nemo_warm_bypass", default=False)


def start_pool(size: int | None = None, *, use_bwrap: bool = True) -> WarmPool:
    """Start the process-wide pool (idempotent); returns at once, workers warm up in the background."""
    global _pool
    with _pool_lock:
        if _pool is not None and not _pool.closed and _pool.use_bwrap == use_bwrap:
            return _pool
        if _pool is not None:
            _pool.close()
        _pool = WarmPool(size, use_bwrap=use_bwrap).start()
        return _pool


def current_pool() -> WarmPool | None:
    """The running process-wide pool, if start_pool() was called (LocalSandbox routes jobs to it)."""
    pool = _pool
    return pool if pool is not None and not pool.closed and not _bypass.get() else None


@contextlib.contextmanager
def bypass() -> Iterator[None]:
    """Runs started inside (this task and the tasks and threads it starts) go cold: benchmarks
    measure cold and warm side by side with the pool up."""
    token = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(token)


def stop_pool() -> None:
    """Stop the process-wide pool; LocalSandbox runs cold again."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.close()


atexit.register(stop_pool)


class WarmSandbox(LocalSandbox):
    """The `warm` sandbox: LocalSandbox with the process-wide pool started on first use."""

    name = "warm"

    async def run(self, argv: Sequence[str], *, cwd: Path, writable: Sequence[Path] = (),
                  limits: Limits = Limits(), env: Mapping[str, str] | None = None) -> ExecResult:
        start_pool(use_bwrap=self._use_bwrap)
        return await super().run(argv, cwd=cwd, writable=writable, limits=limits, env=env)
