"""The warm pool starts with the server: the first save is served by a warm worker, and shutting
the server down stops the workers."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lsprotocol import types
from pytest_lsp import client_capabilities
from pytest_lsp.client import make_test_lsp_client

from .lsp_support import EXAMPLES, open_doc, run_on_save, wait_published, wait_until


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def warm_workers(pid: int) -> list[int]:
    """The server's descendants running a warm worker (`.../nemo-warm-XXXX/wN-G/worker.py`)."""
    found = []
    for child in descendants(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
            if any(b"nemo-warm-" in a and a.endswith(b"/worker.py") for a in argv):
                found.append(child)
        except OSError:
            continue
    return found


async def start(root: Path, options: dict):
    client = make_test_lsp_client()
    await client.start_io("python", "-m", "nemo_lsp")
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=root.as_uri(),
        initialization_options={"nemo": options}))
    return client


async def test_the_server_starts_warm_workers_and_the_first_save_runs_in_one(tmp_path: Path):
    spec = tmp_path / "diet.opt.md"
    shutil.copyfile(EXAMPLES / "diet.opt.md", spec)
    client = await start(tmp_path, {"lintDelayMs": 20, "watchFiles": False})
    try:
        pid = client._server.pid
        await wait_until(lambda: len(warm_workers(pid)) >= 2, "two warm workers to start", timeout=60)
        uri = open_doc(client, spec)
        await wait_published(client, uri)
        assert (await run_on_save(client, uri)).message == "validated"
        log = (tmp_path / ".nemo" / "diet" / "run" / "optimizer.log").read_text(encoding="utf-8")
        assert log.splitlines()[0].endswith("(in a warm worker)")
        probe = next((tmp_path / ".nemo" / "diet").rglob("scorer.log")).read_text(encoding="utf-8")
        assert probe.splitlines()[0].endswith("(in a warm worker)")  # the falsification probe, too
        await client.shutdown_session()
        await wait_until(lambda: not warm_workers(pid), "the warm workers to stop with the server", timeout=10)
    finally:
        await client.stop()


async def test_warm_workers_zero_keeps_every_run_cold(tmp_path: Path):
    spec = tmp_path / "diet.opt.md"
    shutil.copyfile(EXAMPLES / "diet.opt.md", spec)
    client = await start(tmp_path, {"lintDelayMs": 20, "watchFiles": False, "warmWorkers": 0})
    try:
        uri = open_doc(client, spec)
        await wait_published(client, uri)
        assert (await run_on_save(client, uri)).message == "validated"
        log = (tmp_path / ".nemo" / "diet" / "run" / "optimizer.log").read_text(encoding="utf-8")
        assert "warm" not in log.splitlines()[0]
        assert not warm_workers(client._server.pid)
        await client.shutdown_session()
    finally:
        await client.stop()


async def test_turning_warm_workers_off_in_the_settings_stops_them(tmp_path: Path):
    client = await start(tmp_path, {"watchFiles": False})
    try:
        pid = client._server.pid
        await wait_until(lambda: len(warm_workers(pid)) >= 2, "two warm workers to start", timeout=60)
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"nemo": {"watchFiles": False, "warmWorkers": 0}}))
        await wait_until(lambda: not warm_workers(pid), "the warm workers to stop", timeout=10)
        await client.shutdown_session()
    finally:
        await client.stop()
