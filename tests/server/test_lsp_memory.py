"""Memory in the editor: a save's run shows which memory entries its modules were written with, and a
validated run of the offline agent can be saved to memory with a code action."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from nemo_lsp.memory.store import Store
from tests.agents import support
from tests.memory.support import furniture, seeded

from .conftest import fresh_subfolder, shared_client
from .lsp_support import (
    code_actions,
    execute,
    hover,
    lenses,
    open_doc,
    progress_tokens,
    run_on_save,
    wait_new_progress,
    wait_progress_end,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")
client, workspace = shared_client, fresh_subfolder

WHOLE = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))


async def test_a_save_shows_the_memory_entries_its_modules_were_written_with(client: LanguageClient,
                                                                              workspace: Path):
    canned = workspace / "canned"
    canned.mkdir()
    for name in ("optimizer.py", "simulator.py"):
        shutil.copyfile(support.CANNED / name, canned / name)
    seeded(workspace / "team-memory", furniture())
    spec = support.furniture(workspace, f"agent: scripted\nagent_options:\n  base_url: {canned}\n"
                                        "memory: team-memory\n")
    text = spec.read_text(encoding="utf-8")
    uri = open_doc(client, spec, text)

    assert (await run_on_save(client, uri)).message == "validated"

    title_line = text.splitlines().index("# Furniture workshop")
    summary = next(lens.command.title for lens in await lenses(client, uri)
                   if lens.range.start.line == title_line and "validated" in lens.command.title)
    assert "1 example from memory" in summary
    shown = await hover(client, uri, types.Position(line=title_line, character=3))
    assert shown is not None and "`workshop-elsewhere`: Furniture workshop" in shown
    assert len(Store(workspace / "team-memory").ids()) == 2  # this validated run was saved too


async def test_a_validated_run_of_the_formal_agent_is_saved_to_memory_by_a_code_action(client: LanguageClient,
                                                                                         workspace: Path):
    spec = workspace / "diet.opt.md"
    shutil.copyfile(Path(support.ROOT) / "examples" / "diet.opt.md", spec)
    text = spec.read_text(encoding="utf-8").replace("---\n", "---\nmemory: mem\n", 1)
    spec.write_text(text, encoding="utf-8")
    uri = open_doc(client, spec, text)
    assert (await run_on_save(client, uri)).message == "validated"
    assert Store(workspace / "mem").ids() == []

    action = next(a for a in await code_actions(client, uri, WHOLE) if a.title.startswith("Save this run to memory"))
    before = progress_tokens(client)
    assert await execute(client, action.command) == {"started": True}
    assert (await wait_progress_end(client, await wait_new_progress(client, before))).message == "validated"

    [entry] = Store(workspace / "mem").ids()
    assert entry.startswith("diet-")
    assert not [a for a in await code_actions(client, uri, WHOLE) if a.title.startswith("Save this run to memory")]
