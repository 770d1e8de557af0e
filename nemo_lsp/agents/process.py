"""Running an agent's program: its own process group, stdin closed, a deadline, lines streamed out.

Agent CLIs retry an unreachable API for minutes and spawn shells of their own, so every session
gets a wall-clock deadline and, on timeout or cancellation, its whole process group is killed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_KEEP = 64_000
"""Bytes of stderr (and of unparsed stdout) kept for findings and transcripts."""
_LINE_LIMIT = 32 * 1024 * 1024
"""Longest stdout line accepted (a JSON event with a whole file in it can be large)."""
_TERM_GRACE = 2.0
_PIPE_GRACE = 2.0


@dataclass(frozen=True)
class ProcessOutcome:
    returncode: int | None
    stderr: str
    """The tail of stderr."""
    duration: float
    timed_out: bool = False
    missing: bool = False
    """The program does not exist (or is not executable)."""


def _killpg(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


async def _drain(stream: asyncio.StreamReader, on_line: Callable[[str], None] | None, tail: bytearray) -> None:
    while True:
        try:
            line = await stream.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            line = exc.partial
            if not line:
                return
        except asyncio.LimitOverrunError as exc:
            line = await stream.readexactly(exc.consumed)
        if on_line is not None:
            on_line(line.decode("utf-8", "replace").rstrip("\r\n"))
        else:
            tail.extend(line)
            if len(tail) > _KEEP:
                del tail[: len(tail) - _KEEP]


async def run_program(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float,
                      on_line: Callable[[str], None], stop: Callable[[], bool] | None = None) -> ProcessOutcome:
    """Run argv to completion or deadline; each stdout line goes to `on_line` as it arrives.

    `stop` is asked after every line; when it says so (a turn budget ran out) the group is killed.

    Raises CancelledError (after killing the group) when the caller is cancelled; never raises
    for the program's own failures.
    """
    started = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=str(cwd), env=dict(env), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True, limit=_LINE_LIMIT)
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        return ProcessOutcome(None, f"{argv[0]}: {exc.strerror or exc}", 0.0, missing=True)
    err_tail = bytearray()
    assert proc.stdout is not None and proc.stderr is not None
    stopped = asyncio.Event()

    def line(text: str) -> None:
        on_line(text)
        if stop is not None and not stopped.is_set() and stop():
            stopped.set()

    readers = asyncio.gather(_drain(proc.stdout, line, bytearray()), _drain(proc.stderr, None, err_tail))
    timed_out = False
    waiter = asyncio.ensure_future(_exited(proc))
    stopper = asyncio.ensure_future(stopped.wait())
    try:
        done, _ = await asyncio.wait({waiter, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not done:
            timed_out = True
            await _stop(proc)
        elif stopper in done and waiter not in done:
            await _stop(proc)
    except asyncio.CancelledError:
        await asyncio.shield(_stop(proc))
        readers.cancel()
        raise
    finally:
        stopper.cancel()
        waiter.cancel()
        # Children of the agent (shells it started) must not outlive the session.
        _killpg(proc.pid, signal.SIGKILL)
    try:
        await asyncio.wait_for(readers, _PIPE_GRACE)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        readers.cancel()
    return ProcessOutcome(proc.returncode, err_tail.decode("utf-8", "replace"), time.monotonic() - started,
                          timed_out=timed_out)


async def _exited(proc: asyncio.subprocess.Process) -> None:
    """The program itself has exited. Not `proc.wait()`: that also waits for the pipes to close, and a
    child the agent left in the background (a shell, a server) holds them open until the deadline."""
    while proc.returncode is None:
        await asyncio.sleep(0.05)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    _killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(_exited(proc), _TERM_GRACE)
    except asyncio.TimeoutError:
        _killpg(proc.pid, signal.SIGKILL)
        try:
            await asyncio.wait_for(_exited(proc), _TERM_GRACE)
        except asyncio.TimeoutError:
            pass
