"""DockerSandbox: the container configuration as data, engine detection, the run logic against a
fake engine (this machine has none), and real-container tests that skip when there is no engine."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.models.containers import _create_container_args

from nemo_lsp import __version__
from nemo_lsp.sandbox import SANDBOXES, Limits, clean_env, get_sandbox
from nemo_lsp.sandbox import docker_sandbox as ds
from nemo_lsp.sandbox.docker_sandbox import (
    DockerSandbox,
    SandboxUnavailable,
    container_config,
    docker_status,
)

PY = sys.executable
MB = 1024 * 1024
ENGINE_OK, ENGINE_TEXT = docker_status()
needs_engine = pytest.mark.skipif(not ENGINE_OK, reason=f"no Docker engine on this machine: {ENGINE_TEXT}")

# The argv engine/execute.py passes for the optimizer: every file is relative to the run folder.
ENGINE_ARGV = [PY, "-I", "-B", "harness.py", "optimize", "optimizer.py", "data.json", "optimizer.result.json",
               "--time-limit", "60"]


# --------------------------------------------------------------------------------------------
# A fake engine: only the Docker daemon is faked (there is none here); the sandbox code is real.


class FakeContainer:
    """Follows the SDK Container's calls; exits after `runs_for` seconds or when killed/removed."""

    def __init__(self, *, runs_for: float | None = 0.0, status: int = 0, stdout: bytes = b"",
                 stderr: bytes = b"", oom: bool = False, chunks: int = 1) -> None:
        self.runs_for = runs_for
        self.status = status
        self.out = {"stdout": stdout, "stderr": stderr}
        self.oom = oom
        self.chunks = chunks
        self.stopped = threading.Event()
        self.started = self.killed = self.removed = False
        self.attrs: dict[str, Any] = {}

    def start(self) -> None:
        self.started = True
        if self.runs_for is not None:
            threading.Timer(self.runs_for, self.stopped.set).start()

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        assert timeout is not None and timeout > 0, "wait() must get an HTTP timeout"
        self.stopped.wait()
        return {"StatusCode": 137 if self.killed else self.status, "Error": None}

    def logs(self, *, stdout: bool, stderr: bool, stream: bool, follow: bool):  # noqa: ANN201
        assert stream and follow and stdout != stderr
        data = self.out["stdout" if stdout else "stderr"]
        step = max(1, len(data) // self.chunks)
        for i in range(0, len(data), step):
            if self.stopped.is_set() and self.killed:
                return
            yield data[i:i + step]
        self.stopped.wait()

    def kill(self) -> None:
        self.killed = True
        self.stopped.set()

    def remove(self, force: bool = False) -> None:
        assert force
        self.removed = True
        self.stopped.set()

    def reload(self) -> None:
        self.attrs = {"State": {"OOMKilled": self.oom, "ExitCode": 137 if self.killed else self.status}}


class FakeImages:
    def __init__(self, present: bool = True, build_error: Exception | None = None) -> None:
        self.present = present
        self.build_error = build_error
        self.built: list[dict[str, Any]] = []

    def get(self, tag: str) -> object:
        if not self.present:
            raise docker.errors.ImageNotFound(f"No such image: {tag}")
        return object()

    def build(self, **kwargs: Any) -> tuple[object, list[Any]]:
        self.built.append(kwargs)
        if self.build_error is not None:
            raise self.build_error
        self.present = True
        return object(), []


class FakeContainers:
    def __init__(self, container: FakeContainer | None, error: Exception | None = None) -> None:
        self.container = container
        self.error = error
        self.configs: list[dict[str, Any]] = []

    def create(self, image: str, command: Any = None, **kwargs: Any) -> FakeContainer:
        self.configs.append({"image": image, "command": command, **kwargs})
        if self.error is not None:
            raise self.error
        assert self.container is not None
        return self.container


class FakeClient:
    def __init__(self, container: FakeContainer | None = None, *, images: FakeImages | None = None,
                 create_error: Exception | None = None) -> None:
        self.containers = FakeContainers(container, create_error)
        self.images = images or FakeImages()

    def version(self) -> dict[str, str]:
        return {"Version": "27.1.1", "ApiVersion": "1.46"}


def fake_sandbox(client: FakeClient, **kwargs: Any) -> DockerSandbox:
    return DockerSandbox(image="nemo-lsp-sandbox:test", client_factory=lambda: client, user="1000:1000",
                         **kwargs)


# --------------------------------------------------------------------------------------------
# The configuration as data


def test_network_is_off_unless_the_limits_allow_it(tmp_path: Path) -> None:
    assert container_config(ENGINE_ARGV, tmp_path)["network_mode"] == "none"
    assert container_config(ENGINE_ARGV, tmp_path, limits=Limits(network=True))["network_mode"] == "bridge"


def test_limits_map_to_memory_cpu_pids_and_ulimits(tmp_path: Path) -> None:
    limits = Limits(wall_seconds=30, cpu_seconds=20.5, memory_mb=1536, file_size_mb=64)
    c = container_config(ENGINE_ARGV, tmp_path, limits=limits, cpus=2.5)
    assert c["mem_limit"] == c["memswap_limit"] == 1536 * MB
    assert c["nano_cpus"] == 2_500_000_000
    assert c["pids_limit"] == 256
    ulimits = {u["name"]: (u["soft"], u["hard"]) for u in c["ulimits"]}
    assert ulimits["cpu"] == (21, 22)
    assert ulimits["fsize"] == (64 * MB, 64 * MB)
    assert ulimits["core"] == (0, 0)


def test_root_is_read_only_with_a_private_tmpfs_sized_by_the_file_limit(tmp_path: Path) -> None:
    c = container_config(ENGINE_ARGV, tmp_path, limits=Limits(file_size_mb=64))
    assert c["read_only"] is True
    assert set(c["tmpfs"]) == {"/tmp"}
    assert "size=64m" in c["tmpfs"]["/tmp"].split(",")


def test_engine_argv_mounts_only_the_run_folder_read_write_at_its_own_path(tmp_path: Path) -> None:
    c = DockerSandbox(image="img", user="1000:1000").config(ENGINE_ARGV, cwd=tmp_path)
    assert c["volumes"] == {str(tmp_path): {"bind": str(tmp_path), "mode": "rw"}}
    assert c["working_dir"] == str(tmp_path)
    # The host interpreter's path means nothing in the image: the image's python runs the harness.
    assert c["command"] == ["python", *ENGINE_ARGV[1:]]


def test_writable_paths_mount_rw_and_other_absolute_argv_paths_ro(tmp_path: Path) -> None:
    run, out, lib = tmp_path / "run", tmp_path / "out", tmp_path / "lib"
    for d in (run, out, lib):
        d.mkdir()
    (lib / "tool.py").write_text("pass\n")
    argv = [PY, str(lib / "tool.py"), "local.json", str(out / "x.json")]
    c = DockerSandbox(image="img", user="1000:1000").config(argv, cwd=run, writable=[out])
    assert c["volumes"] == {
        str(run): {"bind": str(run), "mode": "rw"},
        str(out): {"bind": str(out), "mode": "rw"},
        str(lib / "tool.py"): {"bind": str(lib / "tool.py"), "mode": "ro"},
    }


def test_environment_comes_only_from_env_never_from_the_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    from_clean = container_config(ENGINE_ARGV, tmp_path, env=clean_env({"EXTRA": "1"}))["environment"]
    from_none = container_config(ENGINE_ARGV, tmp_path, env=None)["environment"]
    for env in (from_clean, from_none):
        assert "OPENAI_API_KEY" not in env and "sk-secret" not in env.values()
        assert env["PATH"] == "/usr/local/bin:/usr/bin:/bin"  # the image's, not the host's
        assert env["HOME"] == env["TMPDIR"] == "/tmp"
    assert from_clean["EXTRA"] == "1"


def test_container_runs_as_non_root_without_capabilities_and_is_kept_for_its_exit_code(tmp_path: Path) -> None:
    c = container_config(ENGINE_ARGV, tmp_path, user="1000:1000")
    assert c["user"] == "1000:1000"
    assert c["cap_drop"] == ["ALL"]
    assert c["security_opt"] == ["no-new-privileges:true"]
    assert c["auto_remove"] is False
    assert c["labels"][ds.LABEL] == "1"


def test_a_root_caller_runs_containers_as_the_images_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert ds.default_user() == "10001:10001"
    monkeypatch.setattr(os, "geteuid", lambda: 1234)
    monkeypatch.setattr(os, "getegid", lambda: 99)
    assert ds.default_user() == "1234:99"


def test_the_sdk_turns_the_config_into_the_expected_engine_request(tmp_path: Path) -> None:
    """The SDK's own argument builder accepts every key (it raises TypeError for unknown ones)."""
    config = container_config(ENGINE_ARGV, tmp_path, limits=Limits(memory_mb=512, file_size_mb=32),
                              image="img", user="1000:1000", cpus=1.0)
    args = _create_container_args(dict(config, version="1.41"))
    host = args["host_config"]
    assert args["image"] == "img" and args["user"] == "1000:1000" and args["working_dir"] == str(tmp_path)
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["Memory"] == host["MemorySwap"] == 512 * MB
    assert host["NanoCpus"] == 1_000_000_000 and host["PidsLimit"] == 256
    assert host["CapDrop"] == ["ALL"] and host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["Binds"] == [f"{tmp_path}:{tmp_path}:rw"]
    assert host["Tmpfs"]["/tmp"].startswith("rw,") and host["Init"] is True
    assert host["LogConfig"]["Type"] == "json-file"
    assert {"Name": "fsize", "Soft": 32 * MB, "Hard": 32 * MB} in host["Ulimits"]


# --------------------------------------------------------------------------------------------
# The image


def test_dockerfile_declares_every_pin_and_ends_as_a_non_root_user() -> None:
    text = (ds.dockerfile_dir() / "Dockerfile").read_text()
    declared = set(re.findall(r"^ARG (\w+)=", text, re.M))
    assert set(ds.build_args()) <= declared
    assert re.search(r"^FROM python:\$\{PYTHON_VERSION\}-slim$", text, re.M)
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and not users[-1].startswith(("0", "root"))


def test_build_args_pin_the_versions_installed_here() -> None:
    import importlib.metadata as md

    args = ds.build_args()
    assert args["PYOMO_VERSION"] == md.version("pyomo")
    assert args["HIGHSPY_VERSION"] == md.version("highspy")
    assert args["PYTHON_VERSION"] == f"{sys.version_info.major}.{sys.version_info.minor}"


def test_image_tag_names_the_version_and_changes_with_the_pins() -> None:
    tag = ds.image_tag({"PYOMO_VERSION": "6.10.1"})
    assert re.fullmatch(rf"nemo-lsp-sandbox:{re.escape(__version__)}-[0-9a-f]{{12}}", tag)
    assert ds.image_tag({"PYOMO_VERSION": "6.10.2"}) != tag


async def test_missing_image_is_built_once_from_the_dockerfile(tmp_path: Path) -> None:
    images = FakeImages(present=False)
    client = FakeClient(FakeContainer(), images=images)
    sb = DockerSandbox(client_factory=lambda: client, user="1000:1000")
    r1 = await sb.run(ENGINE_ARGV, cwd=tmp_path)
    r2 = await sb.run(ENGINE_ARGV, cwd=tmp_path)
    assert r1.returncode == r2.returncode == 0
    assert len(images.built) == 1
    assert images.built[0]["tag"] == sb.image == client.containers.configs[0]["image"]
    assert images.built[0]["path"] == str(ds.dockerfile_dir())
    assert images.built[0]["buildargs"] == ds.build_args()


async def test_failed_image_build_is_one_clear_line_without_the_build_log(tmp_path: Path) -> None:
    log = [{"stream": "Step 1/6 : FROM python:3.11-slim"}, {"stream": " ---> Running in 1234"}]
    error = docker.errors.BuildError("pip install failed: Could not find a version that satisfies pyomo", log)
    client = FakeClient(FakeContainer(), images=FakeImages(present=False, build_error=error))
    r = await DockerSandbox(client_factory=lambda: client, user="1000:1000").run(ENGINE_ARGV, cwd=tmp_path)
    assert r.returncode == 127 and not r.ok
    assert "cannot build the sandbox image nemo-lsp-sandbox:" in r.stderr
    assert "Could not find a version that satisfies pyomo" in r.stderr
    assert "docker build -t nemo-lsp-sandbox:" in r.stderr
    assert "Step 1/6" not in r.stderr and "Running in" not in r.stderr
    assert client.containers.configs == []


# --------------------------------------------------------------------------------------------
# Engine detection and the registry


def test_missing_engine_is_named_with_its_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sock = tmp_path / "no-such-docker.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{sock}")
    ok, text = docker_status()
    assert not ok
    assert text == f"no Docker engine: cannot connect to unix://{sock} (No such file or directory)"


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_refused_connection_is_explained_by_its_os_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The path exists but nothing listens: the SDK's own error chain is boiled down to the OS reason."""
    import gc

    not_a_socket = tmp_path / "docker.sock"
    not_a_socket.write_text("")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{not_a_socket}")
    ok, text = docker_status()
    gc.collect()  # the SDK leaks the failed socket; let it go while its warning is ignored
    assert not ok
    assert text == f"no Docker engine: cannot connect to unix://{not_a_socket} (Connection refused)"


def test_missing_docker_package_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "docker", None)  # makes `import docker` raise ImportError
    ok, text = docker_status()
    assert not ok and text.startswith("the docker Python package is missing")


def test_reachable_engine_is_described_with_its_version() -> None:
    assert docker_status(lambda: FakeClient()) == (True, f"Docker 27.1.1 (API 1.46) at {ds.engine_address()}")


async def test_run_without_engine_explains_instead_of_raising(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/missing.sock")
    r = await DockerSandbox().run(ENGINE_ARGV, cwd=tmp_path)
    assert r.returncode == 127 and r.limit is None and not r.cancelled
    assert r.stderr.startswith("nemo-lsp sandbox: Docker sandbox unavailable: no Docker engine: cannot connect to ")
    assert "use `sandbox: local` or start Docker" in r.stderr


def test_get_sandbox_docker_without_engine_raises_a_value_error_for_nemo503(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/missing.sock")
    with pytest.raises(SandboxUnavailable) as info:
        get_sandbox("docker")
    assert isinstance(info.value, ValueError)
    assert str(info.value) == (f"Docker sandbox unavailable: no Docker engine: cannot connect to "
                               f"unix://{tmp_path}/missing.sock (No such file or directory); "
                               "use `sandbox: local` or start Docker")


def test_get_sandbox_docker_with_an_engine_returns_a_docker_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    monkeypatch.setattr(ds, "_default_client", FakeClient)
    sb = get_sandbox("docker")
    assert isinstance(sb, DockerSandbox) and sb.name == "docker"
    assert "docker" in SANDBOXES
    assert sb.isolation().startswith("docker: ") and "network off" in sb.isolation()


def test_the_local_path_does_not_import_the_docker_sdk() -> None:
    code = "import sys, nemo_lsp.sandbox as s; s.get_sandbox('local'); print('docker' in sys.modules)"
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------------------------
# The run logic against a fake engine


async def test_clean_exit_returns_both_streams_and_removes_the_container(tmp_path: Path) -> None:
    container = FakeContainer(status=3, stdout=b"hello\n", stderr=b"oops\n")
    client = FakeClient(container)
    r = await fake_sandbox(client).run(ENGINE_ARGV, cwd=tmp_path, env=clean_env())
    assert (r.returncode, r.stdout, r.stderr, r.limit) == (3, "hello\n", "oops\n", None)
    assert r.argv == tuple(ENGINE_ARGV)
    assert container.started and container.removed and not container.killed
    assert client.containers.configs[0]["network_mode"] == "none"


async def test_hanging_container_is_killed_at_the_wall_limit(tmp_path: Path) -> None:
    container = FakeContainer(runs_for=None, stdout=b"working\n")
    t0 = time.monotonic()
    r = await fake_sandbox(FakeClient(container)).run(ENGINE_ARGV, cwd=tmp_path, limits=Limits(wall_seconds=0.5))
    assert r.limit == "wall" and r.returncode == 137 and r.stdout == "working\n"
    assert container.killed and container.removed
    assert 0.5 <= r.duration < 2 and time.monotonic() - t0 < 5


async def test_oom_killed_container_is_reported_as_memory(tmp_path: Path) -> None:
    container = FakeContainer(status=137, oom=True)
    r = await fake_sandbox(FakeClient(container)).run(ENGINE_ARGV, cwd=tmp_path)
    assert r.limit == "memory" and r.returncode == 137 and not container.killed


async def test_cpu_rlimit_signal_is_reported_as_cpu(tmp_path: Path) -> None:
    container = FakeContainer(status=128 + 24)  # tini reports a child killed by SIGXCPU as 128+24
    r = await fake_sandbox(FakeClient(container)).run(ENGINE_ARGV, cwd=tmp_path)
    assert r.limit == "cpu"


async def test_endless_output_is_killed_with_the_output_limit(tmp_path: Path) -> None:
    container = FakeContainer(runs_for=None, stdout=b"x" * 50_000, chunks=50)
    r = await fake_sandbox(FakeClient(container)).run(ENGINE_ARGV, cwd=tmp_path,
                                                      limits=Limits(output_bytes=1000, wall_seconds=30))
    assert r.limit == "output" and container.killed and container.removed
    assert len(r.stdout) < 2000 and "bytes of stdout cut here" in r.stdout


async def test_large_output_is_truncated_keeping_head_and_tail(tmp_path: Path) -> None:
    data = b"HEAD" + b"." * 100_000 + b"TAIL"  # more than kept, less than the 10x that counts as a flood
    container = FakeContainer(stdout=data, chunks=10)
    r = await fake_sandbox(FakeClient(container)).run(ENGINE_ARGV, cwd=tmp_path, limits=Limits(output_bytes=20_000))
    assert r.limit is None and r.stdout.startswith("HEAD") and r.stdout.endswith("TAIL")
    assert "100008 bytes" in r.stdout and len(r.stdout) < 20_200


async def test_cancellation_kills_and_removes_the_container_and_reraises(tmp_path: Path) -> None:
    container = FakeContainer(runs_for=None)
    task = asyncio.ensure_future(fake_sandbox(FakeClient(container)).run(ENGINE_ARGV, cwd=tmp_path))
    for _ in range(200):
        if container.started:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as info:
        await task
    assert container.killed and container.removed
    assert info.value.exec_result.cancelled is True  # type: ignore[attr-defined]


async def test_engine_error_at_create_is_a_result_not_an_exception(tmp_path: Path) -> None:
    client = FakeClient(create_error=docker.errors.APIError("500 Server Error: mount denied"))
    r = await fake_sandbox(client).run(ENGINE_ARGV, cwd=tmp_path)
    assert r.returncode == 127
    assert "Docker sandbox unavailable: cannot create a container from nemo-lsp-sandbox:test" in r.stderr
    assert "mount denied" in r.stderr


async def test_missing_cwd_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cwd"):
        await fake_sandbox(FakeClient(FakeContainer())).run(ENGINE_ARGV, cwd=tmp_path / "missing")


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root caller hands the run folder to the image's user")
async def test_a_root_caller_hands_the_run_folder_to_the_containers_user(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    await DockerSandbox(image="img", client_factory=lambda: FakeClient(FakeContainer())).run(ENGINE_ARGV, cwd=run)
    assert (run.stat().st_uid, run.stat().st_gid) == (10001, 10001)


# --------------------------------------------------------------------------------------------
# A real engine (skipped here: this machine has none)


@pytest.fixture(scope="module")
def real() -> DockerSandbox:
    return DockerSandbox()


@needs_engine
@pytest.mark.slow
async def test_real_hello_world(real: DockerSandbox, tmp_path: Path) -> None:
    r = await real.run([PY, "-c", "import pyomo, highspy; print('hello')"], cwd=tmp_path, env=clean_env())
    assert r.ok, r.stderr
    assert r.stdout == "hello\n"


@needs_engine
@pytest.mark.slow
async def test_real_hanging_child_is_killed_at_wall_limit(real: DockerSandbox, tmp_path: Path) -> None:
    r = await real.run([PY, "-c", "import time; time.sleep(60)"], cwd=tmp_path, limits=Limits(wall_seconds=3))
    assert r.limit == "wall" and r.duration < 15


@needs_engine
@pytest.mark.slow
async def test_real_network_is_blocked(real: DockerSandbox, tmp_path: Path) -> None:
    code = ("import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=3)\n    print('connected')\n"
            "except OSError as e:\n    print('blocked', e)\n")
    r = await real.run([PY, "-c", code], cwd=tmp_path)
    assert r.stdout.startswith("blocked"), r.stdout + r.stderr


@needs_engine
@pytest.mark.slow
async def test_real_memory_past_limit_is_reported_as_memory(real: DockerSandbox, tmp_path: Path) -> None:
    r = await real.run([PY, "-c", "b = bytearray(512 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"],
                       cwd=tmp_path, limits=Limits(memory_mb=128))
    assert r.limit == "memory", (r.returncode, r.stderr)


@needs_engine
@pytest.mark.slow
async def test_real_result_file_is_written_into_the_run_folder(real: DockerSandbox, tmp_path: Path) -> None:
    r = await real.run([PY, "-c", "open('out.json', 'w').write('{}')"], cwd=tmp_path)
    assert r.ok, r.stderr
    assert (tmp_path / "out.json").read_text() == "{}"
