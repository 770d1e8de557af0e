"""A process cap per run through the kernel's pids cgroup controller, where this process may use it.

RLIMIT_NPROC does not bind root (CI, containers), so a fork bomb run as root could fill the
machine's process table before the wall-clock limit stops it. A pids cgroup caps the number of
tasks (processes and threads) a run may have at once, whoever runs it, and it lists every process
of the run, including daemons that left the run's process group, so all of them can be killed.

Works with cgroup v1 (a writable `/sys/fs/cgroup/pids`) and cgroup v2 (a writable subtree of this
process's own cgroup with the pids controller enabled). Where neither is writable (an unprivileged
user without delegation), `create` returns None and runs keep the other limits only.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

_V1 = Path("/sys/fs/cgroup/pids")
_V2 = Path("/sys/fs/cgroup")
_counter = itertools.count(1)


@functools.cache
def _base() -> Path | None:
    """The folder under which this process may create pids cgroups, or None."""
    candidates = []
    if (_V1 / "pids.max").exists() or (_V1 / "cgroup.procs").exists():
        candidates.append(_V1 / "nemo-lsp")
    own = _own_v2_cgroup()
    if own is not None:
        candidates.append(own / "nemo-lsp")
    for base in candidates:
        try:
            base.mkdir(exist_ok=True)
            probe = base / f"probe-{os.getpid()}"
            probe.mkdir()
            usable = (probe / "pids.max").exists()
            probe.rmdir()
        except OSError:
            continue
        if usable:
            _remove_orphans(base)
            return base
    return None


def _remove_orphans(base: Path) -> None:
    """Empty cgroups left by a nemo-lsp process that was killed (`run-PID-N` with PID gone)."""
    for entry in base.glob("run-*-*"):
        pid = entry.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            PidsCgroup(entry, 0).remove()


def _own_v2_cgroup() -> Path | None:
    try:
        lines = Path("/proc/self/cgroup").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("0::"):
            path = _V2 / line[3:].lstrip("/")
            if "pids" in _read(path / "cgroup.controllers").split():
                return path
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


@dataclass(frozen=True)
class PidsCgroup:
    """One run's cgroup: its path and cap."""

    path: Path
    limit: int

    def join_argv(self, argv: list[str]) -> list[str]:
        """argv run by a shell that first moves itself into the cgroup, then execs argv, so every
        process the run starts is counted from its very first fork."""
        script = 'echo $$ > "$0" && exec "$@"'
        return ["/bin/sh", "-c", script, str(self.path / "cgroup.procs"), *argv]

    def refusals(self) -> int:
        """How many forks or clones the cap has refused so far (the kernel's `pids.events` max count)."""
        for line in _read(self.path / "pids.events").splitlines():
            key, _, value = line.partition(" ")
            if key == "max" and value.strip().isdigit():
                return int(value)
        return 0

    def hit_limit(self) -> bool:
        """True when a fork or clone in the run failed because of the cap."""
        return self.refusals() > 0

    def pids(self) -> list[int]:
        return [int(p) for p in _read(self.path / "cgroup.procs").split() if p.isdigit()]

    def kill_all(self) -> int:
        """SIGKILL every process still in the cgroup (daemons that left the process group too);
        returns how many there were."""
        killed = 0
        for _ in range(20):  # a process forking while we kill: repeat until the group is empty
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
            time.sleep(0.005)
        return killed

    def remove(self) -> None:
        """Kill what is left and delete the cgroup (it can only be removed once empty)."""
        for _ in range(200):
            self.kill_all()
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.01)


def create(limit: int) -> PidsCgroup | None:
    """A fresh cgroup capped at `limit` tasks, or None where the controller cannot be used."""
    base = _base()
    if base is None:
        return None
    path = base / f"run-{os.getpid()}-{next(_counter)}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(limit), encoding="utf-8")
    except OSError:
        with contextlib.suppress(OSError):
            path.rmdir()
        return None
    return PidsCgroup(path, limit)


def available() -> bool:
    return _base() is not None
