"""`--executor ray`: each problem a Ray task with its own workspace and sandbox.

A task writes the problem's spec into a temporary folder on whichever node runs it, runs the same
`solve_problem` as the local executor there (the engine, the agent and the sandbox all run on
that node), and returns the result record with the workspace packed as a tar archive. The driver
unpacks it under `--out` at the same relative path the local executor would use and saves the
record as the local executor does, so both produce the same results folder; only `executor` and
the timings differ.

Cluster:
- no `--address`: `ray.init()` starts a single-node Ray on this machine;
- `--address auto` joins the cluster `ray start --head` started on this machine;
- `--address HOST:PORT` (the head's GCS address) or `ray://HOST:10001` (Ray Client) joins a remote one.

Every node needs nemo-lsp installed (the same version, with Pyomo and HiGHS) and the agent's
program and credentials. The driver forwards its `NEMO_*` variables and the variable named by
`--api-key-env` to the tasks (Ray `runtime_env.env_vars`). The `scripted` and `replay` agents read
a folder by path: on a multi-machine cluster it must be on a shared file system.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from .datasets import Problem
from .runner import BenchError, Finished, RunConfig, Store, error_record, solve_problem


def solve_remote(problem: Problem, workspace: str, config: RunConfig) -> tuple[dict[str, Any], bytes, str]:
    """The body of one Ray task: (record, the workspace as a .tar.gz, the node's id)."""
    import ray

    root = Path(tempfile.mkdtemp(prefix="nemo-bench-"))
    started = time.perf_counter()
    try:
        try:
            record = asyncio.run(solve_problem(problem, root, workspace, config, "ray"))
        except Exception as exc:  # noqa: BLE001 - the driver stores it like the local executor would
            record = error_record(problem, workspace, f"{type(exc).__name__}: {exc}", "ray",
                                  time.perf_counter() - started)
        packed = io.BytesIO()
        with tarfile.open(fileobj=packed, mode="w:gz") as tar:
            if (root / workspace).is_dir():
                tar.add(root / workspace, arcname=".")
        return record, packed.getvalue(), ray.get_runtime_context().get_node_id()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def forwarded_env(config: RunConfig, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Variables the tasks need: NEMO_* and the one --api-key-env names (its value, only to the tasks)."""
    env = dict(os.environ if environ is None else environ)
    out = {k: v for k, v in env.items() if k.startswith("NEMO_")}
    key = config.agent_options.get("api_key_env")
    if key and key in env:
        out[key] = env[key]
    return out


def unpack(data: bytes, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        try:
            tar.extractall(target, filter="data")  # refuses absolute paths, `..`, links out, devices
        except TypeError:  # Python < 3.11.4 has no extraction filters: allow plain files and folders only
            members = [m for m in tar.getmembers() if (m.isfile() or m.isdir())
                       and not m.name.startswith("/") and ".." not in Path(m.name).parts]
            tar.extractall(target, members=members)


def run_ray(problems: list[Problem], store: Store, config: RunConfig, inflight: int | None, address: str | None,
            finished: Finished) -> dict[str, int]:
    """Run `problems` as Ray tasks; returns how many ran on each node (by node id)."""
    try:
        import ray
    except ImportError:
        raise BenchError("--executor ray needs Ray: pip install 'nemo-lsp[bench]'") from None
    connected_here = not ray.is_initialized()
    if connected_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": forwarded_env(config)})
    nodes: dict[str, int] = {}
    try:
        task = ray.remote(num_cpus=1)(solve_remote)
        limit = inflight or max(1, int(ray.cluster_resources().get("CPU", 1)))
        queue = list(problems)
        running: dict[Any, tuple[Problem, str, float]] = {}
        while queue or running:
            while queue and len(running) < limit:
                problem = queue.pop(0)
                workspace = store.new_attempt(problem)
                running[task.remote(problem, workspace, config)] = (problem, workspace, time.perf_counter())
            ready, _ = ray.wait(list(running), num_returns=1)
            for ref in ready:
                problem, workspace, started = running.pop(ref)
                try:
                    record, packed, node = ray.get(ref)
                    unpack(packed, store.root / workspace)
                    record["node"] = node
                    nodes[node] = nodes.get(node, 0) + 1
                except Exception as exc:  # noqa: BLE001 - a lost task (node died) is stored as an error
                    record = error_record(problem, workspace, f"{type(exc).__name__}: {exc}", "ray",
                                          time.perf_counter() - started)
                store.save(record)
                finished(record)
    finally:
        if connected_here:
            ray.shutdown()
    return nodes
