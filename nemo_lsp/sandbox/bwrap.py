"""Bubblewrap command lines: what the child may see, and a cached probe of whether bwrap works here."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .base import clean_env

# System directories bound read-only (or re-created as the same symlinks, e.g. /lib -> usr/lib).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")

# Files under /etc that a uid-0 child could still read by owner bits even with every capability
# dropped; hidden behind /dev/null (files) or an empty tmpfs (directories).
MASKED_FILES = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers")
MASKED_DIRS = ("/etc/ssh", "/etc/sudoers.d")

ISOLATION_TEMPLATE = "bubblewrap: network {net}, read-only system, private /tmp"


@dataclass(frozen=True)
class Probe:
    """Whether bwrap can run a Python child on this machine; `reason` says why not."""

    usable: bool
    reason: str
    path: str | None


_probe_lock = threading.Lock()
_probe_cache: Probe | None = None


def _under(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def _system_covered(path: Path) -> bool:
    """True if the path already lies in a system dir we bind anyway."""
    return any(_under(path, Path(d)) for d in SYSTEM_DIRS)


def python_paths() -> list[str]:
    """Read-only paths the child needs so the running interpreter and its packages import.

    The prefixes and every existing sys.path entry, except entries in the user's home that are
    not part of a Python installation (project checkouts, dotfiles) and never / or home itself.
    """
    home = Path.home().resolve()
    prefixes_raw = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    install_roots = [Path(p).resolve() for p in prefixes_raw]
    user_base = getattr(site, "USER_BASE", None)
    if user_base:
        install_roots.append(Path(user_base).resolve())
    candidates: list[str] = sorted(prefixes_raw) + [p for p in sys.path if p]
    out: list[str] = []
    for raw in candidates:
        absolute = Path(os.path.abspath(raw))
        resolved = absolute.resolve()
        if not resolved.exists():
            continue
        if resolved == Path("/") or resolved == home or resolved in home.parents:
            continue
        if _under(resolved, home) and not any(_under(resolved, root) for root in install_roots):
            continue
        for variant in (absolute, resolved):
            if _system_covered(variant):
                continue
            text = str(variant)
            if text not in out:
                out.append(text)
    # Drop entries already inside another bound entry: one bind covers them.
    kept = [p for p in out if not any(p != q and _under(Path(p), Path(q)) for q in out)]
    return kept


def build_argv(
    bwrap: str,
    command: Sequence[str],
    *,
    cwd: Path,
    writable: Sequence[Path],
    private: Path,
    network: bool,
    tmp_mb: int | None = None,
) -> list[str]:
    """The full bwrap command line; later mounts win, so read-write binds come last.

    The sandbox's own root is a tmpfs in memory: it is made read-only once every mount point is
    in place, and /tmp (also in memory) holds at most ``tmp_mb`` megabytes, so writing files
    cannot fill the machine's memory.
    """
    args = [
        bwrap,
        "--die-with-parent",
        "--new-session",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--cap-drop",
        "ALL",
    ]
    if not network:
        args.append("--unshare-net")
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    for f in MASKED_FILES:
        if os.path.isfile(f):
            args += ["--ro-bind", "/dev/null", f]
    for d in MASKED_DIRS:
        if os.path.isdir(d):
            args += ["--tmpfs", d, "--remount-ro", d]
    if network and os.path.islink("/etc/resolv.conf"):
        target = os.path.realpath("/etc/resolv.conf")
        args += ["--ro-bind-try", target, target]
    # The private /tmp comes before the Python binds: a virtual environment under /tmp must stay
    # visible (a later mount hides an earlier one at the same place).
    args += ["--proc", "/proc", "--dev", "/dev"]
    if tmp_mb is not None:
        args += ["--size", str(tmp_mb * 1024 * 1024)]
    args += ["--tmpfs", "/tmp"]
    for p in python_paths():
        args += ["--ro-bind", p, p]
    # CPU topology only: lets BLAS/OpenMP size their thread pools without exposing the rest of /sys.
    args += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
    args += ["--bind", str(private), str(private)]
    for w in writable:
        args += ["--bind", str(w), str(w)]
    args += ["--bind", str(cwd), str(cwd), "--remount-ro", "/", "--chdir", str(cwd), "--"]
    args += list(command)
    return args


def _run_probe() -> Probe:
    path = shutil.which("bwrap")
    if path is None:
        return Probe(False, "bubblewrap not installed", None)
    with tempfile.TemporaryDirectory(prefix="nemo-sandbox-probe-") as tmp:
        tmp_path = Path(tmp)
        argv = build_argv(
            path,
            [sys.executable, "-I", "-c", "import encodings, json"],
            cwd=tmp_path,
            writable=(),
            private=tmp_path,
            network=False,
        )
        try:
            proc = subprocess.run(
                argv,
                cwd=tmp,
                env=clean_env(home=tmp_path),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=30,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            return Probe(False, "bubblewrap probe timed out", path)
        except OSError as exc:
            return Probe(False, f"bubblewrap cannot start: {exc}", path)
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = lines[-1] if lines else f"exit status {proc.returncode}"
        return Probe(False, f"bubblewrap probe failed: {detail}", path)
    return Probe(True, "", path)


def probe() -> Probe:
    """Run the probe once per process (it costs a process start) and cache the answer."""
    global _probe_cache
    with _probe_lock:
        if _probe_cache is None:
            _probe_cache = _run_probe()
        return _probe_cache


def isolation_text(p: Probe | None, network: bool) -> str:
    """Report line: what the child can and cannot reach; None means bwrap was turned off."""
    if p is not None and p.usable:
        return ISOLATION_TEMPLATE.format(net="on" if network else "off")
    reason = "bubblewrap disabled" if p is None else p.reason
    return f"none: {reason} (network allowed)"
