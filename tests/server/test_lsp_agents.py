"""A coding agent behind the language server: prose-only specs, findings on the cited sentence, repair."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.agents import support

from .conftest import fresh_subfolder, shared_client
from .lsp_support import (code_actions, wait_published, execute, line_of, open_doc, run_on_save, wait_for_code, wait_new_progress,
                          wait_progress_end, progress_tokens, wait_until, with_code)

pytestmark = pytest.mark.asyncio(loop_scope="module")
client, workspace = shared_client, fresh_subfolder

SENTENCE = "At most 400 board-feet of wood and 450 hours of labour are available each week."


def scripted_spec(folder: Path, optimizer: str, repair: str | None, rounds: int) -> tuple[Path, str]:
    canned = folder / "canned"
    canned.mkdir()
    shutil.copyfile(support.CANNED / optimizer, canned / "optimizer.py")
    shutil.copyfile(support.CANNED / "simulator.py", canned / "simulator.py")
    if repair is not None:
        shutil.copyfile(support.CANNED / repair, canned / "repair-1.py")
    spec = support.furniture(folder, f"agent: scripted\nagent_options:\n  base_url: {canned}\n"
                                     f"repair_rounds: {rounds}\n")
    return spec, spec.read_text(encoding="utf-8")


async def test_a_prose_only_spec_is_solved_by_its_agent_on_save(client: LanguageClient, workspace: Path):
    spec, text = scripted_spec(workspace, "optimizer.py", None, 0)
    uri = open_doc(client, spec, text)
    end = await run_on_save(client, uri)
    assert end.message == "validated"
    assert (workspace / "furniture.optimizer.py").read_text() == support.canned("optimizer.py")


async def test_a_violation_lands_on_the_sentence_the_simulator_cites_and_repair_fixes_it(
        client: LanguageClient, workspace: Path):
    spec, text = scripted_spec(workspace, "optimizer_wrong_sense.py", "optimizer.py", 0)
    uri = open_doc(client, spec, text)
    end = await run_on_save(client, uri)
    assert end.message == "rejected"
    d = await wait_for_code(client, uri, "NEMO401")
    assert d.range.start.line == line_of(text, SENTENCE)
    assert "labour" in d.message

    actions = await code_actions(client, uri, d.range, [d])
    repair = next(a for a in actions if a.title.startswith("Repair the optimizer"))
    before = progress_tokens(client)
    assert await execute(client, repair.command) == {"started": True}
    end = await wait_progress_end(client, await wait_new_progress(client, before))
    assert end.message == "validated"
    await wait_until(lambda: not with_code(client, uri, "NEMO401"), "the violation to go after the repair")
    assert (workspace / "furniture.optimizer.py").read_text() == support.canned("optimizer.py")


def consolidating_spec(folder: Path) -> tuple[Path, str]:
    canned = folder / "canned"
    canned.mkdir()
    for name in ("consolidate.md", "assumptions.json", "optimizer.py", "simulator.py"):
        shutil.copyfile(support.CANNED / name, canned / name)
    spec = support.furniture(folder, f"agent: scripted\nagent_options:\n  base_url: {canned}\n")
    return spec, spec.read_text(encoding="utf-8")


async def consolidate_now(client: LanguageClient, uri: str) -> None:
    await wait_published(client, uri)  # code actions need the first lint
    whole = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    action = next(a for a in await code_actions(client, uri, whole) if a.title.startswith("Consolidate"))
    before = progress_tokens(client)
    assert await execute(client, action.command) == {"started": True}
    end = await wait_progress_end(client, await wait_new_progress(client, before))
    assert end.message == "model block proposed"


async def test_consolidation_shows_assumptions_on_their_sentences_with_accept_and_reject(
        client: LanguageClient, workspace: Path):
    spec, text = consolidating_spec(workspace)
    uri = open_doc(client, spec, text)
    await consolidate_now(client, uri)
    d = await wait_for_code(client, uri, "NEMO205")
    assert d.range.start.line == line_of(text, SENTENCE)
    assert d.severity == types.DiagnosticSeverity.Information
    titles = {a.title: a for a in await code_actions(client, uri, d.range, [d])}
    accept = titles["Accept the assumption (add it to ## Assumptions)"]
    new_text = accept.edit.changes[uri][0].new_text
    assert new_text.startswith(text) and "## Assumptions\n\n- The wood and labour limits are per week" in new_text
    reject = titles["Reject the assumption (record it as not assumed)"]
    assert "- Not assumed: The wood and labour limits are per week" in reject.edit.changes[uri][0].new_text
    assert await wait_for_code(client, uri, "NEMO206")


async def test_the_proposed_model_block_can_be_inserted_from_a_code_action(client: LanguageClient, workspace: Path):
    spec, text = consolidating_spec(workspace)
    uri = open_doc(client, spec, text)
    await consolidate_now(client, uri)
    whole = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    insert = None
    for _ in range(100):  # the proposal is offered once the server has stored it
        insert = next((a for a in await code_actions(client, uri, whole)
                       if a.title.startswith("Insert the model block")), None)
        if insert is not None:
            break
        await asyncio.sleep(0.1)
    assert insert is not None, [a.title for a in await code_actions(client, uri, whole)]
    new_text = insert.edit.changes[uri][0].new_text
    assert "```model\nsets:\n  P: products.product" in new_text and new_text.startswith(text.rstrip("\n"))


async def test_a_dissenting_candidate_opens_from_the_disagreement_diagnostic(client: LanguageClient, workspace: Path):
    canned = workspace / "canned"
    canned.mkdir()
    for name, source in (("optimizer.py", "optimizer_wrong_sense.py"), ("optimizer-2.py", "optimizer.py"),
                         ("optimizer-3.py", "optimizer.py"), ("simulator.py", "simulator.py")):
        shutil.copyfile(support.CANNED / source, canned / name)
    spec = support.furniture(workspace, f"agent: scripted\nagent_options:\n  base_url: {canned}\nsamples: 3\n"
                                        "repair_rounds: 0\n")
    uri = open_doc(client, spec, spec.read_text(encoding="utf-8"))
    assert (await run_on_save(client, uri)).message == "validated"
    d = await wait_for_code(client, uri, "NEMO410")
    assert d.severity == types.DiagnosticSeverity.Information and "2/3 agree on 2200" in d.message
    (action,) = [a for a in await code_actions(client, uri, d.range, [d]) if a.title.startswith("Open dissenting")]
    assert action.title == "Open dissenting candidate 1 (optimal 3600)"
    shown = len(client.shown_documents)
    result = await execute(client, action.command)
    target = workspace / ".nemo" / "furniture" / "candidates" / "optimizer-1.py"
    assert result == {"shown": True, "path": str(target)}
    assert [doc.uri for doc in client.shown_documents[shown:]] == [target.as_uri()]
    assert target.read_text() == support.canned("optimizer_wrong_sense.py")


async def test_a_near_tie_between_proposals_is_a_question_with_an_action_to_insert_the_other(
        client: LanguageClient, workspace: Path):
    canned = workspace / "canned"
    canned.mkdir()
    for name in ("consolidate.md", "assumptions.json", "optimizer.py", "simulator.py"):
        shutil.copyfile(support.CANNED / name, canned / name)
    integer = support.canned("consolidate.md").replace("{domain: continuous}", "{domain: integer}")
    (canned / "consolidate-2.md").write_text(integer)
    shutil.copyfile(support.CANNED / "consolidate.md", canned / "consolidate-3.md")
    spec = support.furniture(workspace, f"agent: scripted\nagent_options:\n  base_url: {canned}\nsamples: 3\n")
    text = spec.read_text(encoding="utf-8")
    uri = open_doc(client, spec, text)
    await consolidate_now(client, uri)
    d = await wait_for_code(client, uri, "NEMO207")
    assert d.severity == types.DiagnosticSeverity.Information and "differs in vars" in d.message
    (insert,) = [a for a in await code_actions(client, uri, d.range, [d]) if a.title.startswith("Insert proposal")]
    assert insert.title == "Insert proposal 2's model block instead"
    new_text = insert.edit.changes[uri][0].new_text
    assert new_text.startswith(text.rstrip("\n")) and "make[P]: {domain: integer}" in new_text
