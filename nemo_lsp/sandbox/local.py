"""LocalSandbox: run untrusted code as a local process group with rlimits, inside bubblewrap if usable."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import math
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import bwrap as _bwrap
from . import pids as _pids
from .base import ExecResult, Limits, clean_env

_MB = 1024 * 1024
# How long to wait for the pipes to close once the main process is gone: a child that escaped
# the process group (setsid outside bwrap) may hold them open forever.
_PIPE_GRACE = 2.0
# How long to wait for a SIGKILLed process to be reaped before giving up on it.
_REAP_GRACE = 5.0
# Evidence in stderr that a process died because an allocation failed (RLIMIT_AS).
_MEMORY_MARKERS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory")
# Python ignores SIGXFSZ, so RLIMIT_FSIZE shows up as this OSError instead of the signal.
_FSIZE_MARKERS = ("File too large", "[Errno 27]")


class _Capture:
    """Keeps the head and tail of one stream; counts everything so truncation can be reported."""

    def __init__(self, keep: int) -> None:
        self.head_cap = keep // 2
        self.tail_cap = keep - self.head_cap
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        if len(data) >= self.tail_cap:
            self.tail = bytearray(data[len(data) - self.tail_cap :])
        else:
            self.tail += data
            excess = len(self.tail) - self.tail_cap
            if excess > 0:
                del self.tail[:excess]

    def text(self, name: str) -> str:
        head = bytes(self.head).decode("utf-8", "replace")
        cut = self.total - len(self.head) - len(self.tail)
        tail = bytes(self.tail).decode("utf-8", "replace")
        if cut <= 0:
            return head + tail
        marker = (
            f"\n[... nemo-lsp sandbox: {cut} bytes of {name} cut here; "
            f"kept the first {len(self.head)} and the last {len(self.tail)} of {self.total} bytes ...]\n"
        )
        return head + marker + tail


class _Protocol(asyncio.SubprocessProtocol):
    """Reads both pipes as fast as they fill (so the child never blocks) and signals exit/flood.

    A protocol rather than Process.wait(): on Python 3.11 wait() also waits for the pipes to
    close, which a background grandchild can hold open forever.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, keep: int, flood_bytes: int) -> None:
        self.captures = {1: _Capture(keep), 2: _Capture(keep)}
        self.flood_bytes = flood_bytes
        self.exited: asyncio.Future[None] = loop.create_future()
        self.flooded: asyncio.Future[None] = loop.create_future()
        self.pipes_closed: asyncio.Future[None] = loop.create_future()
        self.exit_time: float | None = None
        self._open = {1, 2}

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        cap = self.captures.get(fd)
        if cap is None:
            return
        cap.feed(data)
        if cap.total > self.flood_bytes and not self.flooded.done():
            self.flooded.set_result(None)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self._open.discard(fd)
        if not self._open and not self.pipes_closed.done():
            self.pipes_closed.set_result(None)

    def process_exited(self) -> None:
        self.exit_time = time.monotonic()
        if not self.exited.done():
            self.exited.set_result(None)


def _rlimits(limits: Limits) -> list[tuple[int, int, int]]:
    """(resource, soft, hard) triples, computed in the parent so the child only calls setrlimit."""
    cpu = max(1, math.ceil(limits.effective_cpu_seconds))
    wanted = [
        # Soft limit sends SIGXCPU (reportable); the hard one a second later is SIGKILL.
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        (resource.RLIMIT_AS, limits.memory_mb * _MB, limits.memory_mb * _MB),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * _MB, limits.file_size_mb * _MB),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    out = []
    for res, soft, hard in wanted:
        _, cur_hard = resource.getrlimit(res)
        if cur_hard != resource.RLIM_INFINITY:
            # An unprivileged parent cannot raise its own hard limit; clamp instead of failing.
            hard = min(hard, cur_hard)
            soft = min(soft, hard)
        out.append((res, soft, hard))
    return out


_PRLIMIT_NAMES = {resource.RLIMIT_CPU: "cpu", resource.RLIMIT_AS: "as", resource.RLIMIT_FSIZE: "fsize",
                  resource.RLIMIT_CORE: "core"}


@functools.cache
def _prlimit_path() -> str | None:
    """util-linux's prlimit, when installed (Debian's base system has it)."""
    return shutil.which("prlimit")


def _make_preexec(triples: list[tuple[int, int, int]]):  # noqa: ANN202 - closure for Popen
    def apply() -> None:
        for res, soft, hard in triples:
            resource.setrlimit(res, (soft, hard))

    return apply


def _killpg(pgid: int | None) -> None:
    if pgid is None:
        return
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_spawned(spawn: asyncio.Task[tuple[asyncio.SubprocessTransport, Any]]) -> None:
    """Once a spawn that was cancelled has finished, kill the whole process group it started."""
    if spawn.cancelled() or spawn.exception() is not None:
        return
    transport, _ = spawn.result()
    _killpg(transport.get_pid())
    transport.close()


def _signal_of(returncode: int | None, wrapped: bool) -> int | None:
    """The signal that killed the child; bwrap reports a signalled child as exit 128+N."""
    if returncode is None:
        return None
    if returncode < 0:
        return -returncode
    if wrapped and 128 < returncode < 128 + signal.NSIG:
        return returncode - 128
    return None


def _classify(returncode: int | None, wrapped: bool, stderr: str, duration: float, limits: Limits) -> str | None:
    """Which limit the evidence points to when we did not kill the child ourselves (best effort)."""
    if returncode == 0 or returncode is None:
        return None
    sig = _signal_of(returncode, wrapped)
    if sig == signal.SIGXCPU:
        return "cpu"
    if sig == signal.SIGXFSZ:
        return "file_size"
    tail = stderr[-4000:]
    if any(m in tail for m in _MEMORY_MARKERS):
        return "memory"
    if any(m in tail for m in _FSIZE_MARKERS):
        return "file_size"
    if sig == signal.SIGKILL:
        # Not ours: either the hard RLIMIT_CPU (child ignored SIGXCPU) or the kernel OOM killer.
        return "cpu" if duration >= limits.effective_cpu_seconds else "memory"
    return None


class LocalSandbox:
    """Runs children on this machine: own process group, rlimits, bubblewrap when it works here.

    Once warm.start_pool() has been called, harness runs go to the warm pool's forked children
    (same limits and isolation, no interpreter start); everything else, and every run the pool
    cannot take, runs here as before.
    """

    name = "local"

    def __init__(self, use_bwrap: bool = True, warm: bool = True) -> None:
        # use_bwrap=False exists for tests and for machines where bwrap misbehaves.
        self._use_bwrap = use_bwrap
        # warm=True: harness jobs go to the process-wide warm pool when one was started (warm.py).
        self._warm = warm

    def _probe(self) -> _bwrap.Probe | None:
        return _bwrap.probe() if self._use_bwrap else None

    def isolation(self, network: bool = False) -> str:
        """What isolation a run gets on this machine (probes bwrap once per process)."""
        return _bwrap.isolation_text(self._probe(), network)

    @property
    def uses_bwrap(self) -> bool:
        """True when runs go through bubblewrap."""
        p = self._probe()
        return bool(p and p.usable)

    async def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        writable: Sequence[Path] = (),
        limits: Limits = Limits(),
        env: Mapping[str, str] | None = None,
    ) -> ExecResult:
        """Run argv and report; never raises for the child's failures, only for bad arguments.

        ``env`` replaces the environment entirely (build it with clean_env(extra=...)); HOME and
        TMPDIR default to a private per-run directory that is deleted afterwards. On
        cancellation the process group is killed and CancelledError re-raised; the partial
        result (cancelled=True) is attached to it as ``exec_result``.
        """
        command = _check_argv(argv)
        cwd_path = _check_dir(cwd, "cwd")
        writable_paths = [_check_exists(w, "writable path") for w in writable]
        if not isinstance(limits, Limits):
            raise TypeError(f"limits must be a Limits, got {type(limits).__name__}")
        if self._warm:
            from .warm import current_pool

            pool = current_pool()
            if pool is not None and pool.use_bwrap == self._use_bwrap:
                result = await pool.run(command, cwd=cwd_path, writable=writable_paths, limits=limits, env=env)
                if result is not None:
                    return result

        loop = asyncio.get_running_loop()
        probe = await asyncio.to_thread(self._probe) if self._use_bwrap else None
        wrapped = bool(probe and probe.usable)
        isolation = _bwrap.isolation_text(probe, limits.network)

        private = Path(tempfile.mkdtemp(prefix="nemo-sandbox-"))
        try:
            (private / "home").mkdir()
            (private / "tmp").mkdir()
            child_env = dict(env) if env is not None else clean_env()
            child_env.setdefault("HOME", str(private / "home"))
            child_env.setdefault("TMPDIR", str(private / "tmp"))
            if wrapped:
                assert probe is not None and probe.path is not None
                full = _bwrap.build_argv(
                    probe.path,
                    command,
                    cwd=cwd_path,
                    writable=writable_paths,
                    private=private,
                    network=limits.network,
                    tmp_mb=limits.file_size_mb,
                )
            else:
                full = list(command)
            return await self._spawn_and_wait(
                loop, command, full, cwd_path, child_env, limits, wrapped, isolation
            )
        finally:
            shutil.rmtree(private, ignore_errors=True)

    async def _spawn_and_wait(
        self,
        loop: asyncio.AbstractEventLoop,
        command: tuple[str, ...],
        full: list[str],
        cwd: Path,
        env: dict[str, str],
        limits: Limits,
        wrapped: bool,
        isolation: str,
    ) -> ExecResult:
        proto = _Protocol(loop, limits.output_bytes, 10 * limits.output_bytes)
        start = time.monotonic()
        triples = _rlimits(limits)
        prlimit = _prlimit_path()
        if prlimit is not None:
            # prlimit(1) sets the limits and execs: no preexec_fn, so CPython can vfork instead of
            # fork, which would copy a large server's page tables while blocking its event loop.
            full = [prlimit, *(f"--{_PRLIMIT_NAMES[res]}={soft}:{hard}" for res, soft, hard in triples), "--", *full]
        cgroup = _pids.create(limits.processes)  # a mkdir and a write: microseconds
        if cgroup is not None:
            full = cgroup.join_argv(full)
        try:
            return await self._supervise(loop, proto, command, full, cwd, env, limits, wrapped, isolation, start,
                                         None if prlimit is not None else triples, cgroup)
        finally:
            if cgroup is not None:
                # Also when cancelled: a thread of its own, so a second cancellation cannot skip it.
                loop.run_in_executor(None, cgroup.remove)

    async def _supervise(self, loop: asyncio.AbstractEventLoop, proto: _Protocol, command: tuple[str, ...],
                         full: list[str], cwd: Path, env: dict[str, str], limits: Limits, wrapped: bool,
                         isolation: str, start: float, triples: list[tuple[int, int, int]] | None,
                         cgroup: _pids.PidsCgroup | None) -> ExecResult:
        spawn = loop.create_task(loop.subprocess_exec(
            lambda: proto,
            *full,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(cwd),
            env=env,
            start_new_session=True,
            preexec_fn=None if triples is None else _make_preexec(triples),
        ))
        try:
            # Shielded: cancelled mid-spawn, asyncio would kill the direct child only, and a bwrap
            # child forked in that instant outlived it (found by a save storm in the server).
            transport, _ = await asyncio.shield(spawn)
        except asyncio.CancelledError:
            spawn.add_done_callback(_kill_spawned)
            raise
        except (OSError, subprocess.SubprocessError) as exc:
            # Same shape as a shell's "command not found", so callers handle one kind of failure.
            return ExecResult(
                argv=command,
                returncode=127,
                stdout="",
                stderr=f"nemo-lsp sandbox: cannot start {command[0]!r}: {exc}\n",
                duration=time.monotonic() - start,
                limit=None,
                cancelled=False,
                isolation=isolation,
            )

        pgid = transport.get_pid()  # start_new_session: the child leads its own group
        limit: str | None = None
        cancelled = False
        try:
            done, _ = await asyncio.wait(
                {proto.exited, proto.flooded},
                timeout=limits.wall_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if proto.exited not in done:
                limit = "output" if proto.flooded in done else "wall"
                _killpg(pgid)
                await asyncio.wait({proto.exited}, timeout=_REAP_GRACE)
            # The main process is gone: take any background children with it.
            _killpg(pgid)
            await asyncio.wait({proto.pipes_closed}, timeout=_PIPE_GRACE)
        except asyncio.CancelledError as exc:
            cancelled = True
            _killpg(pgid)
            try:
                await asyncio.wait({proto.exited}, timeout=_REAP_GRACE)
            except asyncio.CancelledError:
                pass  # cancelled again while reaping: the SIGKILL has been sent already
            transport.close()
            exc.exec_result = self._result(  # type: ignore[attr-defined]
                command, transport, proto, start, limit, True, wrapped, isolation, limits
            )
            raise
        finally:
            if not cancelled:
                transport.close()
        result = self._result(command, transport, proto, start, limit, False, wrapped, isolation, limits)
        if cgroup is not None and result.returncode != 0 and result.limit in (None, "wall", "cpu") \
                and await asyncio.to_thread(cgroup.hit_limit):
            result = dataclasses.replace(result, limit="processes")
        return result

    @staticmethod
    def _result(
        command: tuple[str, ...],
        transport: asyncio.SubprocessTransport,
        proto: _Protocol,
        start: float,
        limit: str | None,
        cancelled: bool,
        wrapped: bool,
        isolation: str,
        limits: Limits,
    ) -> ExecResult:
        end = proto.exit_time if proto.exit_time is not None else time.monotonic()
        duration = end - start
        returncode = transport.get_returncode()
        stdout = proto.captures[1].text("stdout")
        stderr = proto.captures[2].text("stderr")
        if wrapped and returncode == 1 and stderr.startswith("bwrap: execvp "):
            returncode = 127  # command not found inside the sandbox: same code as without bwrap
        if limit is None and not cancelled:
            limit = _classify(returncode, wrapped, stderr, duration, limits)
        return ExecResult(
            argv=command,
            returncode=returncode,
            stdout=stdout,
            stderr=stderr,
            duration=duration,
            limit=limit,
            cancelled=cancelled,
            isolation=isolation,
        )


def _check_argv(argv: Sequence[str]) -> tuple[str, ...]:
    if isinstance(argv, (str, bytes)):
        raise TypeError("argv must be a sequence of arguments, not a single string")
    command = tuple(os.fspath(a) for a in argv)
    if not command:
        raise ValueError("argv must not be empty")
    if not all(isinstance(a, str) for a in command):
        raise TypeError("argv items must be str or os.PathLike[str]")
    return command


def _check_dir(path: Path, what: str) -> Path:
    p = Path(path).resolve()
    if not p.is_dir():
        raise ValueError(f"{what} {str(path)!r} does not exist or is not a directory")
    return p


def _check_exists(path: Path, what: str) -> Path:
    p = Path(path).resolve()
    if not p.exists():
        raise ValueError(f"{what} {str(path)!r} does not exist")
    return p
