"""The OpenHands SDK's own Python: find an interpreter >= 3.12 and keep a pinned venv for it.

The SDK needs Python >= 3.12 (PEP 695 generics and `type` aliases in its source), while nemo-lsp
runs on 3.11. So the SDK lives in a venv of its own, made with another interpreter, and the
backend runs `openhands_worker.py` (a standalone script) with that venv's python:

    python = ensure_venv(log=print)            # once: about 1 min, about 650 MB
    subprocess.run([python, WORKER, "job.json"], stdout=PIPE)   # JSON Lines events

Standard library only: this module is imported by the 3.11 host.

Environment:
- ``NEMO_OPENHANDS_PYTHON``: the interpreter to build the venv with (must be >= 3.12).
- ``NEMO_OPENHANDS_VENV``: where the venv lives (default ``~/.cache/nemo-lsp/openhands-<ver>``).
- ``PYENV_ROOT``: where pyenv's interpreters are looked for (default ``~/.pyenv``).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

SDK_VERSION = "1.58.2"
PINS = (f"openhands-sdk=={SDK_VERSION}", f"openhands-tools=={SDK_VERSION}")
"""What `ensure_venv` installs. The tools package is released in lockstep with the SDK."""
MIN_PYTHON = (3, 12)
WORKER = Path(__file__).with_name("openhands_worker.py")
"""The standalone script to run with the venv's python: `python WORKER JOB.json`."""
NO_PYTHON = (
    "OpenHands needs Python >= 3.12; install one (pyenv install 3.12) or set NEMO_OPENHANDS_PYTHON"
)
MARKER = ".nemo-openhands.json"
"""Written into the venv last, after the install was verified: its presence means "ready"."""
PROBE_TIMEOUT = 30.0
INSTALL_TIMEOUT = 1800.0


class OpenHandsUnavailable(RuntimeError):
    """No usable interpreter, or the venv could not be made."""


# --------------------------------------------------------------------------------- interpreters


def _probe(python: str | Path) -> tuple[int, int] | None:
    """The (major, minor) version of a runnable interpreter, else None."""
    try:
        out = subprocess.run(
            [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.fullmatch(r"(\d+)\.(\d+)", out.stdout.strip())
    if out.returncode != 0 or not m:
        return None
    return int(m.group(1)), int(m.group(2))


def _pyenv_candidates() -> Iterator[Path]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found: list[tuple[tuple[int, ...], Path]] = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return
    for d in entries:
        m = re.fullmatch(r"3\.(\d+)(?:\.(\d+))?", d.name)  # plain CPython builds only (no 3.13t, no envs)
        if not m or int(m.group(1)) < MIN_PYTHON[1]:
            continue
        python = d / "bin" / f"python3.{m.group(1)}"
        if python.is_file():
            found.append(((3, int(m.group(1)), int(m.group(2) or 0)), python))
    for _, python in sorted(found, reverse=True):
        yield python


def _path_candidates() -> Iterator[Path]:
    for minor in range(19, MIN_PYTHON[1] - 1, -1):
        which = shutil.which(f"python3.{minor}")
        if which:
            yield Path(which)


def find_python() -> Path | None:
    """An interpreter >= 3.12: NEMO_OPENHANDS_PYTHON if set (and nothing else then), else the
    newest python3.1x on PATH that runs (pyenv's shims for versions not selected do not), else the
    newest pyenv install."""
    explicit = os.environ.get("NEMO_OPENHANDS_PYTHON")
    if explicit:
        version = _probe(explicit)
        return Path(explicit) if version is not None and version >= MIN_PYTHON else None
    for python in (*_path_candidates(), *_pyenv_candidates()):
        version = _probe(python)
        if version is not None and version >= MIN_PYTHON:
            return python
    return None


def _no_python_message() -> str:
    explicit = os.environ.get("NEMO_OPENHANDS_PYTHON")
    if explicit:
        version = _probe(explicit)
        found = "does not run" if version is None else f"is Python {version[0]}.{version[1]}"
        return f"NEMO_OPENHANDS_PYTHON={explicit} {found}; {NO_PYTHON}"
    return NO_PYTHON


# ------------------------------------------------------------------------------------------ venv


def venv_dir() -> Path:
    explicit = os.environ.get("NEMO_OPENHANDS_VENV")
    if explicit:
        return Path(explicit).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "nemo-lsp" / f"openhands-{SDK_VERSION}"


def venv_python(venv: Path | None = None) -> Path:
    return (venv or venv_dir()) / "bin" / "python"


def _marker(venv: Path) -> dict | None:
    """The marker's contents when the venv is complete and matches the pins, else None."""
    try:
        data = json.loads((venv / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("pins") != list(PINS):
        return None
    if not os.access(venv_python(venv), os.X_OK):
        return None
    return data


def status() -> tuple[bool, str]:
    """(ready, why not / what is there). Ready means the venv is installed: no Python is probed then."""
    venv = venv_dir()
    data = _marker(venv)
    if data is not None:
        return True, f"openhands-sdk {SDK_VERSION} on Python {data.get('python_version', '?')} in {venv}"
    python = find_python()
    if python is None:
        return False, _no_python_message()
    return False, (
        f"the OpenHands venv is not installed at {venv}; it is made on first use with {python} "
        f"(pip install {' '.join(PINS)}: about 1 min and 650 MB)"
    )


@contextmanager
def _locked(path: Path, log: Callable[[str], None]) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for another install of the OpenHands venv (lock {path})")
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _run(cmd: list[str], log: Callable[[str], None], what: str) -> None:
    log("$ " + " ".join(cmd))
    tail: list[str] = []
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                stdin=subprocess.DEVNULL)
    except OSError as e:
        raise OpenHandsUnavailable(f"{what} failed: {e}") from e
    deadline = time.monotonic() + INSTALL_TIMEOUT
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip()
        log(line)
        tail = (tail + [line])[-15:]
        if time.monotonic() > deadline:
            proc.kill()
            break
    rc = proc.wait()
    if rc != 0:
        raise OpenHandsUnavailable(f"{what} failed (exit {rc}):\n" + "\n".join(tail))


_VERIFY = f"""
import json, platform, sys
from importlib.metadata import version
import openhands.sdk, openhands.tools.terminal, openhands.tools.file_editor
print(json.dumps({{"sdk": version("openhands-sdk"), "tools": version("openhands-tools"),
                  "python_version": platform.python_version()}}))
"""


def ensure_venv(log: Callable[[str], None] = lambda _line: None) -> Path:
    """The venv's python, after making the venv if needed (idempotent; safe across processes)."""
    venv = venv_dir()
    if _marker(venv) is not None:
        return venv_python(venv)
    with _locked(venv.with_name(venv.name + ".lock"), log):
        if _marker(venv) is not None:  # another process finished it while we waited
            return venv_python(venv)
        python = find_python()
        if python is None:
            raise OpenHandsUnavailable(_no_python_message())
        if venv.exists():
            if not (venv / "pyvenv.cfg").is_file() and any(venv.iterdir()):
                raise OpenHandsUnavailable(f"{venv} exists and is not a venv; remove it or set NEMO_OPENHANDS_VENV")
            log(f"removing the incomplete OpenHands venv at {venv}")
            shutil.rmtree(venv)
        started = time.monotonic()
        log(f"making the OpenHands venv at {venv} with {python}")
        _run([str(python), "-m", "venv", str(venv)], log, "creating the venv")
        pip = [str(venv_python(venv)), "-m", "pip"]
        _run([*pip, "install", "--disable-pip-version-check", "--no-input", *PINS], log, "pip install")
        out = subprocess.run([str(venv_python(venv)), "-c", _VERIFY], capture_output=True, text=True,
                             timeout=300, stdin=subprocess.DEVNULL,
                             env={**os.environ, "OPENHANDS_SUPPRESS_BANNER": "1",
                                  "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
        try:
            found = json.loads(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise OpenHandsUnavailable(f"the OpenHands venv does not import:\n{out.stderr[-2000:]}") from None
        if (found.get("sdk"), found.get("tools")) != (SDK_VERSION, SDK_VERSION):
            raise OpenHandsUnavailable(f"the OpenHands venv has {found}, expected {PINS}")
        marker = {"pins": list(PINS), "python": str(python), "python_version": found.get("python_version"),
                  "seconds": round(time.monotonic() - started, 1), "host_python": sys.version.split()[0]}
        tmp = venv / (MARKER + ".tmp")
        tmp.write_text(json.dumps(marker, indent=1), encoding="utf-8")
        tmp.replace(venv / MARKER)
        log(f"OpenHands venv ready in {marker['seconds']} s: {venv}")
        return venv_python(venv)


__all__ = [
    "MIN_PYTHON", "NO_PYTHON", "PINS", "SDK_VERSION", "WORKER", "OpenHandsUnavailable", "ensure_venv",
    "find_python", "status", "venv_dir", "venv_python",
]
