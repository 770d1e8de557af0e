"""DockerSandbox: run untrusted code in a locked-down container through the `docker` Python SDK.

Named docker_sandbox.py, not docker.py: absolute imports mean a sibling docker.py would not shadow
the SDK inside the package, but it would for any tool that puts this folder on sys.path, and
``from nemo_lsp.sandbox import docker`` would read like the SDK. The SDK itself is imported
lazily (it costs ~0.1 s), so importing this module is cheap and a missing SDK is reported, not
raised.

The container configuration is a pure function (container_config) so it can be checked as data
without an engine. Runs bind-mount the run folder at the same path it has on the host, so argv,
cwd and the result file mean the same inside and out.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata as md
import math
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from .base import ExecResult, Limits
from .local import _Capture, _check_argv, _check_dir, _check_exists, _classify

_MB = 1024 * 1024
IMAGE_REPOSITORY = "nemo-lsp-sandbox"
LABEL = "nemo-lsp.sandbox"
"""Label on every container we create: `docker ps -a --filter label=nemo-lsp.sandbox` finds them."""
PIDS_LIMIT = 256
NOFILE_LIMIT = 4096
IMAGE_USER = "10001:10001"
"""The image's own non-root user (templates/docker/Dockerfile); used when the caller is root."""
CONTAINER_PATH = "/usr/local/bin:/usr/bin:/bin"
CONTAINER_TMP = "/tmp"
DEFAULT_HOST = "unix:///var/run/docker.sock"
HINT = "use `sandbox: local` or start Docker"

# Seconds for one Docker API request (create, kill, remove, inspect); wait() gets the wall budget.
_API_TIMEOUT = 30
# Seconds the engine may stay silent while building the image (pip downloads, wheels).
_BUILD_TIMEOUT = 1800
# How long a killed container may take to report its exit before we stop waiting for it.
_REAP_GRACE = 10.0
# How long to wait for the log streams to drain once the container has exited.
_PIPE_GRACE = 2.0
_PYTHON_NAME = re.compile(r"python(\d+(\.\d+)?)?$")
# Tasks (cleanup of containers whose run was cancelled) that must outlive their caller.
_background: set[asyncio.Future[Any]] = set()
_image_lock = threading.Lock()


class SandboxUnavailable(ValueError):
    """The Docker sandbox cannot run here; a ValueError so get_sandbox callers report it (NEMO503)."""


def unavailable_message(reason: str) -> str:
    return f"Docker sandbox unavailable: {reason}; {HINT}"


# --------------------------------------------------------------------------------------------
# The container as data


def container_argv(argv: Sequence[str], python: str = "python") -> list[str]:
    """argv for inside the image: a host interpreter path (sys.executable) becomes the image's python."""
    command = list(argv)
    first = command[0]
    if os.path.isabs(first) and (first == sys.executable or _PYTHON_NAME.match(os.path.basename(first))):
        command[0] = python
    return command


def readonly_paths(argv: Sequence[str], cwd: Path, writable: Sequence[Path] = ()) -> list[Path]:
    """Absolute host paths named in argv (after the interpreter) that no other mount covers.

    The engine's argv names only files relative to cwd (harness.py, the module, data.json and
    the result file are all copied into the run folder), so for it this is empty; the rule is
    for other callers that pass absolute paths.
    """
    mounted = [Path(cwd), *map(Path, writable)]
    out: list[Path] = []
    for arg in list(argv)[1:]:
        if not os.path.isabs(arg):
            continue
        p = Path(arg)
        try:
            if not p.exists():
                continue
            p = p.resolve()
        except OSError:
            continue
        if any(p == m or m in p.parents for m in mounted) or p in out:
            continue
        out.append(p)
    return out


def default_user() -> str:
    """The caller's uid:gid, so files in the run folder stay theirs; the image's user for root."""
    uid, gid = os.geteuid(), os.getegid()
    return IMAGE_USER if uid == 0 else f"{uid}:{gid}"


def default_cpus() -> float:
    """CPUs a container may use: the machine's, at most four (HiGHS gains little past that)."""
    return float(min(os.cpu_count() or 1, 4))


def container_env(env: Mapping[str, str] | None, mounted_rw: Sequence[Path]) -> dict[str, str]:
    """Environment for the container, built only from ``env`` (never from this process's).

    PATH is always the image's (the host's PATH names host folders); HOME and TMPDIR point at the
    private /tmp unless they name a folder that is mounted read-write.
    """
    out = {str(k): str(v) for k, v in (env or {}).items()}
    if env is None:
        out.update({"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "0",
                    "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"})
    out["PATH"] = CONTAINER_PATH
    for key in ("HOME", "TMPDIR"):
        value = out.get(key)
        if value is None or not any(Path(value) == m or m in Path(value).parents for m in mounted_rw):
            out[key] = CONTAINER_TMP
    return out


def container_config(
    argv: Sequence[str],
    cwd: Path,
    writable: Sequence[Path] = (),
    limits: Limits = Limits(),
    env: Mapping[str, str] | None = None,
    image: str = f"{IMAGE_REPOSITORY}:latest",
    *,
    readonly: Sequence[Path] = (),
    user: str = IMAGE_USER,
    cpus: float = 1.0,
    pids_limit: int = PIDS_LIMIT,
) -> dict[str, Any]:
    """The exact keyword arguments for ``client.containers.create(**config)``; touches nothing.

    cwd and ``writable`` are bound read-write at their host paths, ``readonly`` read-only;
    everything else the container sees comes from the image, under a read-only root.
    """
    cwd = Path(cwd)
    rw = [cwd, *(Path(w) for w in writable)]
    volumes: dict[str, dict[str, str]] = {}
    for p in rw:
        volumes.setdefault(str(p), {"bind": str(p), "mode": "rw"})
    for p in readonly:
        volumes.setdefault(str(p), {"bind": str(p), "mode": "ro"})
    cpu = max(1, math.ceil(limits.effective_cpu_seconds))
    fsize = limits.file_size_mb * _MB
    memory = limits.memory_mb * _MB
    # The log driver keeps what the child prints until we read it; cap it a little above the point
    # where run() kills a flooding child, so a flood cannot fill the engine's disk either.
    log_bytes = 10 * limits.output_bytes + _MB
    return {
        "image": image,
        "command": container_argv(argv),
        "working_dir": str(cwd),
        "environment": container_env(env, rw),
        "user": user,
        "hostname": "nemo-sandbox",
        "labels": {LABEL: "1", f"{LABEL}.version": __version__},
        "tty": False,
        "stdin_open": False,
        "auto_remove": False,  # we read the exit code, the OOM flag and the logs, then remove it
        "init": True,  # tini as PID 1: the child gets rlimit signals and stray processes are reaped
        "network_mode": "bridge" if limits.network else "none",
        "read_only": True,
        "tmpfs": {CONTAINER_TMP: f"rw,nosuid,nodev,size={limits.file_size_mb}m,mode=1777"},
        "volumes": volumes,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "mem_limit": memory,
        "memswap_limit": memory,  # equal: no swap on top of the memory limit
        "nano_cpus": int(cpus * 1e9),
        "pids_limit": pids_limit,
        "ulimits": [
            # Soft CPU limit sends SIGXCPU (reportable), the hard one a second later SIGKILL.
            {"name": "cpu", "soft": cpu, "hard": cpu + 1},
            {"name": "fsize", "soft": fsize, "hard": fsize},
            {"name": "core", "soft": 0, "hard": 0},
            {"name": "nofile", "soft": NOFILE_LIMIT, "hard": NOFILE_LIMIT},
        ],
        "log_config": {"type": "json-file", "config": {"max-size": str(log_bytes), "max-file": "2"}},
    }


# --------------------------------------------------------------------------------------------
# The image


def dockerfile_dir() -> Path:
    from ..resources import templates_dir

    return templates_dir() / "docker"


def build_args() -> dict[str, str]:
    """Versions installed next to nemo-lsp, so the container solves with the same code."""
    args = {"PYTHON_VERSION": f"{sys.version_info.major}.{sys.version_info.minor}"}
    for pkg, arg in (("pyomo", "PYOMO_VERSION"), ("highspy", "HIGHSPY_VERSION"), ("numpy", "NUMPY_VERSION"),
                     ("pyscipopt", "PYSCIPOPT_VERSION")):
        try:
            args[arg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass  # the Dockerfile's default applies
    return args


def image_tag(args: Mapping[str, str] | None = None) -> str:
    """nemo-lsp-sandbox:<nemo-lsp version>-<digest of the Dockerfile and the pins>."""
    args = build_args() if args is None else args
    h = hashlib.sha256((dockerfile_dir() / "Dockerfile").read_bytes())
    for key in sorted(args):
        h.update(f"\0{key}={args[key]}".encode())
    return f"{IMAGE_REPOSITORY}:{__version__}-{h.hexdigest()[:12]}"


class ImageUnavailable(RuntimeError):
    """The sandbox image is missing and could not be built."""


def ensure_image(client: Any, tag: str, args: Mapping[str, str] | None = None) -> str:
    """The tag, building the image from templates/docker on first use (without progress output)."""
    from docker import errors

    with _image_lock:
        try:
            client.images.get(tag)
            return tag
        except errors.ImageNotFound:
            pass
        args = build_args() if args is None else dict(args)
        folder = dockerfile_dir()
        try:
            # timeout: the HTTP one, between two build messages; pip can be silent for minutes.
            client.images.build(path=str(folder), tag=tag, buildargs=dict(args), rm=True, forcerm=True,
                                labels={LABEL: "1"}, timeout=_BUILD_TIMEOUT)
        except errors.BuildError as exc:
            reason = str(exc.msg).strip()
        except errors.DockerException as exc:
            reason = _explain(exc)
        else:
            return tag
    by_hand = " ".join(["docker build", "-t", tag, *(f"--build-arg {k}={v}" for k, v in sorted(args.items())),
                        str(folder)])
    raise ImageUnavailable(f"cannot build the sandbox image {tag} from {folder / 'Dockerfile'}: {reason} "
                           f"(the build needs network access for pip; build it by hand with `{by_hand}`)")


# --------------------------------------------------------------------------------------------
# The engine


def engine_address() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def _root_cause(exc: BaseException) -> BaseException:
    """The OSError at the bottom of requests/urllib3 wrapping, if there is one."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError) and e.strerror:
            return e
        todo += [a for a in e.args if isinstance(a, BaseException)]
        todo += [c for c in (e.__cause__, e.__context__) if c is not None]
        reason = getattr(e, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    return exc


def _explain(exc: BaseException) -> str:
    cause = _root_cause(exc)
    if isinstance(cause, OSError) and cause.strerror:
        text = cause.strerror
        if isinstance(cause, PermissionError):
            text += " (is this user in the `docker` group?)"
        return text
    return str(exc).strip() or type(exc).__name__


def _default_client() -> Any:
    import docker

    return docker.from_env(timeout=_API_TIMEOUT)


class _NoEngine(Exception):
    """Why no engine can be used; the text is the reason alone, without the advice."""


def _connect(client_factory: Callable[[], Any] | None) -> tuple[Any, str]:
    """(client, "Docker 27.1.1 (API 1.46) at unix://...") or _NoEngine with the reason."""
    try:
        import docker  # noqa: F401 - only to tell a missing SDK from a missing engine
    except ImportError:
        raise _NoEngine("the docker Python package is missing (pip install 'docker>=7')") from None
    address = engine_address()
    if client_factory is None and address.startswith("unix://") and not os.path.exists(address[len("unix://"):]):
        # Checked here because the SDK leaks the socket of a failed connection attempt.
        raise _NoEngine(f"no Docker engine: cannot connect to {address} (No such file or directory)")
    try:
        client = (client_factory or _default_client)()
        info = client.version()
    except Exception as exc:  # noqa: BLE001 - the SDK raises DockerException, requests errors, OSError
        raise _NoEngine(f"no Docker engine: cannot connect to {address} ({_explain(exc)})") from None
    version = info.get("Version", "?")
    api = info.get("ApiVersion")
    return client, f"Docker {version}{f' (API {api})' if api else ''} at {address}"


def docker_status(client_factory: Callable[[], Any] | None = None) -> tuple[bool, str]:
    """(True, "Docker 27.1.1 (API 1.46) at unix://...") or (False, why not), for `nemo doctor`."""
    try:
        client, text = _connect(client_factory)
    except _NoEngine as exc:
        return False, str(exc)
    close = getattr(client, "close", None)
    if close is not None:
        close()
    return True, text


def checked_docker_sandbox() -> DockerSandbox:
    """Registry factory: a DockerSandbox, or SandboxUnavailable before any code is generated."""
    sandbox = DockerSandbox()
    sandbox.connect()
    return sandbox


# --------------------------------------------------------------------------------------------
# Running


def _thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
    """fn in a worker thread as a task whose exception is never reported as "never retrieved"."""
    task = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kwargs))
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    return task


def _spawn_background(fn: Callable[[], Any]) -> asyncio.Future[Any]:
    """Run fn in a thread as a task that survives its caller's cancellation."""
    task = _thread(fn)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


async def _finish_in_background(fn: Callable[[], Any]) -> None:
    """Await fn in a thread; if cancelled meanwhile, fn still runs to the end."""
    task = _spawn_background(fn)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - cleanup is best effort; the errors are the engine's
        pass


def _kill(container: Any) -> None:
    try:
        container.kill()
    except Exception:  # noqa: BLE001 - already gone or already stopped
        pass


def _dispose(container: Any) -> None:
    try:
        container.remove(force=True)
    except Exception:  # noqa: BLE001 - already gone (or the engine went away: nothing to do)
        pass


def _grant(paths: Sequence[Path], user: str) -> None:
    """A root caller runs containers as the image's user: let it write the folders it was given."""
    if os.geteuid() != 0:
        return
    try:
        uid, gid = (int(x) for x in user.split(":", 1))
    except ValueError:
        return
    if uid == 0:
        return
    for p in paths:
        try:
            os.chown(p, uid, gid)
        except OSError:
            pass


class _Pump:
    """Copies one of the container's log streams into a _Capture from a worker thread."""

    def __init__(self, container: Any, which: str, keep: int, flood_bytes: int,
                 on_flood: Callable[[], None]) -> None:
        self.container = container
        self.which = which
        self.capture = _Capture(keep)
        self.flood_bytes = flood_bytes
        self.on_flood = on_flood
        self.stream: Any = None
        self.closed = False

    def __call__(self) -> None:
        try:
            self.stream = self.container.logs(stdout=self.which == "stdout", stderr=self.which == "stderr",
                                              stream=True, follow=True)
            for chunk in self.stream:
                if self.closed:
                    break
                self.capture.feed(chunk)
                if self.capture.total > self.flood_bytes:
                    self.on_flood()
        except Exception:  # noqa: BLE001 - the container was removed or the engine went away
            pass

    def close(self) -> None:
        self.closed = True
        close = getattr(self.stream, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # noqa: BLE001
                pass


class DockerSandbox:
    """Runs children in containers: no network, read-only root, no capabilities, cgroup limits."""

    name = "docker"

    def __init__(self, image: str | None = None, client_factory: Callable[[], Any] | None = None,
                 *, cpus: float | None = None, user: str | None = None, build: bool = True) -> None:
        # image=None: nemo-lsp-sandbox:<version>-<digest>, built from templates/docker on first use.
        self._image = image
        self._client_factory = client_factory
        self._cpus = default_cpus() if cpus is None else float(cpus)
        self._user = default_user() if user is None else user
        self._build = build
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def image(self) -> str:
        return self._image or image_tag()

    def connect(self) -> Any:
        """The SDK client (created once), or SandboxUnavailable saying why there is none."""
        with self._lock:
            if self._client is None:
                try:
                    self._client, _ = _connect(self._client_factory)
                except _NoEngine as exc:
                    raise SandboxUnavailable(unavailable_message(str(exc))) from None
            return self._client

    def status(self) -> tuple[bool, str]:
        return docker_status(self._client_factory)

    def isolation(self, network: bool = False) -> str:
        """What isolation a run gets (does not contact the engine)."""
        return (f"docker: container from {self._image or IMAGE_REPOSITORY}, network {'on' if network else 'off'}, "
                f"read-only root, private /tmp, non-root user {self._user}, no capabilities, "
                f"{self._cpus:g} CPUs, memory/pids limits")

    def config(self, argv: Sequence[str], *, cwd: Path, writable: Sequence[Path] = (),
               limits: Limits = Limits(), env: Mapping[str, str] | None = None, image: str | None = None
               ) -> dict[str, Any]:
        """container_config with this sandbox's image, user and CPUs, and argv's read-only paths."""
        return container_config(argv, cwd, writable, limits, env, image or self.image,
                                readonly=readonly_paths(argv, cwd, writable), user=self._user, cpus=self._cpus)

    async def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        writable: Sequence[Path] = (),
        limits: Limits = Limits(),
        env: Mapping[str, str] | None = None,
    ) -> ExecResult:
        """Run argv in a fresh container and report; never raises for the child's or the engine's failures.

        ``env`` replaces the environment entirely (PATH, HOME and TMPDIR are set for the image).
        No engine, or an image that cannot be built, gives returncode 127 and the reason in stderr.
        On cancellation the container is killed and removed and CancelledError re-raised with
        the partial result attached as ``exec_result``.
        """
        command = _check_argv(argv)
        cwd_path = _check_dir(cwd, "cwd")
        writable_paths = [_check_exists(w, "writable path") for w in writable]
        if not isinstance(limits, Limits):
            raise TypeError(f"limits must be a Limits, got {type(limits).__name__}")
        isolation = self.isolation(limits.network)
        start = time.monotonic()

        def failed(reason: str) -> ExecResult:
            return ExecResult(argv=command, returncode=127, stdout="", stderr=f"nemo-lsp sandbox: {reason}\n",
                              duration=time.monotonic() - start, limit=None, cancelled=False, isolation=isolation)

        try:
            client = await asyncio.to_thread(self.connect)
        except SandboxUnavailable as exc:
            return failed(str(exc))
        try:
            image = self._image or image_tag()
            if self._build:
                await asyncio.to_thread(ensure_image, client, image)
        except ImageUnavailable as exc:
            return failed(unavailable_message(str(exc)))
        except Exception as exc:  # noqa: BLE001 - the engine failed while we looked for the image
            return failed(unavailable_message(f"cannot look up the image {image}: {_explain(exc)}"))
        config = self.config(command, cwd=cwd_path, writable=writable_paths, limits=limits, env=env, image=image)
        await asyncio.to_thread(_grant, [cwd_path, *writable_paths], self._user)

        creating = _spawn_background(lambda: client.containers.create(**config))
        try:
            container = await asyncio.shield(creating)
        except asyncio.CancelledError:
            # The engine may still create it: remove it once it exists.
            creating.add_done_callback(
                lambda t: None if t.cancelled() or t.exception() else _spawn_background(lambda: _dispose(t.result())))
            raise
        except Exception as exc:  # noqa: BLE001 - DockerException, requests errors: the engine's fault
            return failed(unavailable_message(f"cannot create a container from {image}: {_explain(exc)}"))
        try:
            return await self._start_and_wait(container, command, limits, isolation, failed)
        finally:
            await _finish_in_background(lambda: _dispose(container))

    async def _start_and_wait(self, container: Any, command: tuple[str, ...], limits: Limits, isolation: str,
                              failed: Callable[[str], ExecResult]) -> ExecResult:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.to_thread(container.start)
        except Exception as exc:  # noqa: BLE001
            return failed(unavailable_message(f"cannot start the container: {_explain(exc)}"))
        start = time.monotonic()
        flooded: asyncio.Future[None] = loop.create_future()

        def on_flood() -> None:
            loop.call_soon_threadsafe(lambda: flooded.done() or flooded.set_result(None))

        pumps = {which: _Pump(container, which, limits.output_bytes, 10 * limits.output_bytes, on_flood)
                 for which in ("stdout", "stderr")}
        pumping = [_thread(p) for p in pumps.values()]
        exit_time: list[float] = []
        # The SDK's timeout is only the HTTP request's; the wall limit is enforced below.
        waiting = _thread(container.wait, timeout=math.ceil(limits.wall_seconds + _REAP_GRACE + _API_TIMEOUT))
        waiting.add_done_callback(lambda _: exit_time.append(time.monotonic()))
        limit: str | None = None
        try:
            done, _ = await asyncio.wait({waiting, flooded}, timeout=limits.wall_seconds,
                                         return_when=asyncio.FIRST_COMPLETED)
            if waiting not in done:
                limit = "output" if flooded in done else "wall"
                await asyncio.to_thread(_kill, container)
                await asyncio.wait({waiting}, timeout=_REAP_GRACE)
            await asyncio.wait(pumping, timeout=_PIPE_GRACE)
            state = await asyncio.to_thread(_state, container)
        except asyncio.CancelledError as exc:
            await _finish_in_background(lambda: _kill(container))
            exc.exec_result = self._result(  # type: ignore[attr-defined]
                command, waiting, pumps, start, exit_time, None, True, isolation, limits, {})
            raise
        finally:
            flooded.cancel()
            for p in pumps.values():
                p.close()
        return self._result(command, waiting, pumps, start, exit_time, limit, False, isolation, limits, state)

    @staticmethod
    def _result(command: tuple[str, ...], waiting: asyncio.Future[Any], pumps: dict[str, _Pump], start: float,
                exit_time: list[float], limit: str | None, cancelled: bool, isolation: str, limits: Limits,
                state: Mapping[str, Any]) -> ExecResult:
        duration = (exit_time[0] if exit_time else time.monotonic()) - start
        returncode: int | None = None
        note = ""
        if waiting.done() and not waiting.cancelled():
            if waiting.exception() is not None:
                note = f"\nnemo-lsp sandbox: lost track of the container: {_explain(waiting.exception())}\n"
            else:
                code = (waiting.result() or {}).get("StatusCode")
                returncode = code if isinstance(code, int) else None
        stdout = pumps["stdout"].capture.text("stdout")
        stderr = pumps["stderr"].capture.text("stderr") + note
        if limit is None and not cancelled:
            if state.get("OOMKilled"):
                limit = "memory"
            else:
                # Under tini a child killed by signal N exits 128+N, as under bwrap.
                limit = _classify(returncode, True, stderr, duration, limits)
        return ExecResult(argv=command, returncode=returncode, stdout=stdout, stderr=stderr, duration=duration,
                          limit=limit, cancelled=cancelled, isolation=isolation)


def _state(container: Any) -> dict[str, Any]:
    """The container's State from a fresh inspect (OOMKilled, ExitCode), or {} if that fails."""
    try:
        container.reload()
        state = (container.attrs or {}).get("State") or {}
        return dict(state)
    except Exception:  # noqa: BLE001
        return {}
