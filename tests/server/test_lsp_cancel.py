"""Runs that must not count: stale ones, superseded ones, cancelled ones, and their processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .lsp_support import (alive, edit, example_text, lenses, open_doc, position, processes_in, progress_tokens,
                          replaced, save, wait_for_code, wait_new_progress, wait_progress_end, wait_published,
                          wait_until, with_code, write_spec, run_lens_titles)

HANGING_OPTIMIZER = '''"""Edited by hand: the engine keeps a user's optimizer and runs it as it is."""


def build_model(data):
    while True:
        pass
'''


@pytest.fixture
def hanging(workspace: Path) -> Path:
    """A spec whose optimizer (edited by the user, so kept) never returns."""
    text = replaced(example_text("diet.opt.md"), "expect:", "time_limit: 30\nexpect:")
    spec = write_spec(workspace, "hang.opt.md", text)
    (workspace / "hang.optimizer.py").write_text(HANGING_OPTIMIZER, encoding="utf-8")
    return spec


def run_folder(spec: Path) -> Path:
    return spec.resolve().parent / ".nemo" / spec.name.removesuffix(".opt.md") / "run"


async def optimizer_running(client: LanguageClient, spec: Path) -> list[int]:
    """Wait until the sandboxed optimizer of `spec` is running; its process ids."""
    return await wait_until(lambda: processes_in(run_folder(spec)), f"the optimizer of {spec.name} to start")


async def all_gone(pids: list[int]) -> None:
    """The sandbox SIGKILLs the run's process group; processes it started in their own session inside
    bubblewrap die with their parent a moment later (or remain as zombies until reaped)."""
    await wait_until(lambda: not [pid for pid in pids if alive(pid)], f"processes {pids} to be killed", timeout=5)


async def test_a_run_whose_text_changed_during_the_run_is_not_published(client: LanguageClient, workspace: Path):
    text = replaced(example_text("diet.opt.md"), "objective: 97", "objective: 98")  # the run would say NEMO406
    uri = open_doc(client, workspace / "diet.opt.md", text)
    await wait_published(client, uri)
    before = progress_tokens(client)

    save(client, uri)
    at = position(text, "Polly wants")
    edit(client, uri, 2, types.Range(start=at, end=at), "Every day, ")  # typed while the run is going
    token = await wait_new_progress(client, before)
    end = await wait_progress_end(client, token)

    assert "stale" in (end.message or "")
    assert not with_code(client, uri, "NEMO406")


async def test_a_newer_save_cancels_the_older_run_and_kills_its_process(any_client: LanguageClient, hanging: Path):
    uri = open_doc(any_client, hanging)
    await wait_published(any_client, uri)
    before = progress_tokens(any_client)
    save(any_client, uri)
    first = await wait_new_progress(any_client, before)
    first_pids = await optimizer_running(any_client, hanging)

    save(any_client, uri)
    end = await wait_progress_end(any_client, first)

    assert end.message == "cancelled"
    await all_gone(first_pids)
    await wait_new_progress(any_client, [*before, first])  # the newer run goes ahead...
    await optimizer_running(any_client, hanging)  # ...to its own optimizer (the shutdown cancels it)


async def test_cancelling_the_progress_in_the_client_cancels_the_run_and_kills_its_process(any_client: LanguageClient,
                                                                                           hanging: Path):
    uri = open_doc(any_client, hanging)
    await wait_published(any_client, uri)
    before = progress_tokens(any_client)
    save(any_client, uri)
    token = await wait_new_progress(any_client, before)
    pids = await optimizer_running(any_client, hanging)

    any_client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    end = await wait_progress_end(any_client, token)

    assert end.message == "cancelled"
    await all_gone(pids)
    assert not processes_in(run_folder(hanging))


async def test_the_server_keeps_working_after_a_cancelled_run(client: LanguageClient, hanging: Path):
    uri = open_doc(client, hanging)
    await wait_published(client, uri)
    before = progress_tokens(client)
    save(client, uri)
    token = await wait_new_progress(client, before)
    await optimizer_running(client, hanging)
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    await wait_progress_end(client, token)

    text = hanging.read_text(encoding="utf-8")
    edit(client, uri, 2, types.Range(start=position(text, ">= min_protein", offset=3),
                                     end=position(text, ">= min_protein", offset=14)), "min_protien")

    await wait_for_code(client, uri, "NEMO124")


async def test_shutting_down_the_server_stops_a_running_run_and_its_processes(client: LanguageClient, hanging: Path):
    uri = open_doc(client, hanging)
    await wait_published(client, uri)
    before = progress_tokens(client)
    save(client, uri)
    token = await wait_new_progress(client, before)
    pids = await optimizer_running(client, hanging)

    await client.shutdown_session()
    client.capabilities = None  # the session is over: the fixture must not shut it down again

    assert client.progress_reports[token][-1] == types.WorkDoneProgressEnd(message="cancelled")
    await all_gone(pids)


async def test_while_a_run_is_going_the_title_lens_says_so(client: LanguageClient, hanging: Path):
    uri = open_doc(client, hanging)
    await wait_published(client, uri)
    before = progress_tokens(client)
    save(client, uri)
    token = await wait_new_progress(client, before)
    await optimizer_running(client, hanging)

    assert "solving..." in [lens.command.title for lens in await lenses(client, uri)]

    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    await wait_progress_end(client, token)
    assert await run_lens_titles(client, uri) == ["▶ Solve"]
