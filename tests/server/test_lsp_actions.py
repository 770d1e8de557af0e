"""Code actions: fixes for findings, document actions, and the commands they run."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import fresh_subfolder, shared_client, shared_nvim_client
from .lsp_support import (apply_edits, code_actions, codes, edit, encoding_of, example_text, execute,
                          open_doc, position, progress_tokens, replaced, run_on_save, span_of, wait_for_code,
                          wait_new_progress, wait_progress_end, wait_published, wait_until, with_code, write_spec)

pytestmark = pytest.mark.asyncio(loop_scope="module")
# each test works in its own folder: one server per module is enough
client, nvim_client, workspace = shared_client, shared_nvim_client, fresh_subfolder

WHOLE_DOC = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))


def titled(actions: list[types.CodeAction], start: str) -> types.CodeAction:
    found = [a for a in actions if a.title.startswith(start)]
    assert found, f"no action starting {start!r} in {[a.title for a in actions]}"
    return found[0]


def only_edits(action: types.CodeAction, uri: str) -> list[types.TextEdit]:
    assert action.edit is not None and action.edit.changes is not None, f"{action.title!r} has no edit"
    assert set(action.edit.changes) == {uri}
    return list(action.edit.changes[uri])


def apply_action(client: LanguageClient, uri: str, version: int, action: types.CodeAction) -> None:
    """Apply an action's edits as the editor would: as incremental changes, last position first."""
    for e in sorted(only_edits(action, uri), key=lambda e: (e.range.start.line, e.range.start.character),
                    reverse=True):
        edit(client, uri, version, e.range, e.new_text)
        version += 1


async def test_a_wrong_expected_objective_offers_to_regenerate_and_regenerating_starts_a_run(client: LanguageClient,
                                                                                             workspace: Path):
    uri = open_doc(client, workspace / "diet.opt.md",
                   replaced(example_text("diet.opt.md"), "objective: 97", "objective: 98"))
    await wait_published(client, uri)
    await run_on_save(client, uri)
    d = await wait_for_code(client, uri, "NEMO406")

    actions = await code_actions(client, uri, d.range, [d])
    regenerate = titled(actions, "Regenerate")
    assert regenerate.kind == types.CodeActionKind.QuickFix and list(regenerate.diagnostics or []) == [d]
    assert regenerate.command is not None and regenerate.command.command == "nemo.regenerate"

    before = progress_tokens(client)
    assert await execute(client, regenerate.command) == {"started": True}
    end = await wait_progress_end(client, await wait_new_progress(client, before))
    assert end.message == "validated"  # the code is right; the expectation is what is wrong
    assert with_code(client, uri, "NEMO406")  # so the regenerated run finds 97 again, not 98


def forget_the_energy_requirement(workspace: Path) -> Path:
    """A user-edited diet optimizer that drops `energy_need`: the simulator finds it violated (NEMO401)."""
    from nemo_lsp.agents.formal import FormalAgent
    from nemo_lsp.analysis import analyze

    optimizer = workspace / "diet.optimizer.py"
    generated = FormalAgent().render("optimizer", analyze((workspace / "diet.opt.md").read_text(encoding="utf-8")),
                                     "diet.opt.md")
    optimizer.write_text(replaced(generated, "    return model\n",
                                  "    model.energy_need.deactivate()\n    return model\n"), encoding="utf-8")
    return optimizer


async def test_regenerating_a_user_edited_optimizer_backs_it_up_and_writes_a_fresh_one(client: LanguageClient,
                                                                                       workspace: Path):
    edited = forget_the_energy_requirement(workspace).read_text(encoding="utf-8")
    uri = open_doc(client, workspace / "diet.opt.md")
    await wait_published(client, uri)
    await run_on_save(client, uri)
    await wait_for_code(client, uri, "NEMO401")
    kept = await wait_for_code(client, uri, "NEMO202")  # "using your version"
    regenerate = titled(await code_actions(client, uri, kept.range, [kept]), "Regenerate")

    before = progress_tokens(client)
    await execute(client, regenerate.command)
    end = await wait_progress_end(client, await wait_new_progress(client, before))

    assert end.message == "validated"
    await wait_until(lambda: not with_code(client, uri, "NEMO401"), "the violation to go with the fresh optimizer")
    assert [p.read_text(encoding="utf-8") for p in (workspace / ".nemo" / "diet" / "backups").iterdir()] == [edited]
    assert "energy_need.deactivate" not in (workspace / "diet.optimizer.py").read_text(encoding="utf-8")


async def test_a_violated_constraint_offers_to_repair_and_the_formal_agent_says_what_to_configure(
        any_client: LanguageClient, workspace: Path):
    forget_the_energy_requirement(workspace)
    text = example_text("diet.opt.md")
    uri = open_doc(any_client, workspace / "diet.opt.md", text)
    await wait_published(any_client, uri)
    await run_on_save(any_client, uri)
    d = await wait_for_code(any_client, uri, "NEMO401")
    assert d.range.start.line == position(text, "energy_need:").line

    actions = await code_actions(any_client, uri, d.range, [d])
    repair = titled(actions, "Repair the optimizer")
    assert repair.command is not None and repair.command.command == "nemo.repairOptimizer"
    assert titled(actions, "Repair the simulator").command.command == "nemo.repairSimulator"

    shown = len(any_client.messages)
    result = await execute(any_client, repair.command)
    assert result["started"] is False and "agent" in result["reason"]
    message = await wait_until(lambda: [m for m in any_client.messages[shown:] if "repair" in m.message],
                               "a window message about the repair")
    assert "`agent:`" in message[0].message and "nemo.agent" in message[0].message


async def test_solve_now_is_offered_anywhere_and_starts_a_run(client: LanguageClient, workspace: Path):
    uri = open_doc(client, workspace / "diet.opt.md")
    await wait_published(client, uri)

    solve = titled(await code_actions(client, uri, WHOLE_DOC), "Solve now")
    assert solve.kind == types.CodeActionKind.Source
    before = progress_tokens(client)
    assert await execute(client, solve.command) == {"started": True}

    end = await wait_progress_end(client, await wait_new_progress(client, before))
    assert end.message == "validated"


async def test_opening_the_generated_optimizer_asks_the_client_to_show_it(any_client: LanguageClient, workspace: Path):
    uri = open_doc(any_client, workspace / "diet.opt.md")
    await wait_published(any_client, uri)
    titles = [a.title for a in await code_actions(any_client, uri, WHOLE_DOC)]
    assert not [t for t in titles if t.startswith("Open the generated")]  # nothing generated yet
    await run_on_save(any_client, uri)

    action = titled(await code_actions(any_client, uri, WHOLE_DOC), "Open the generated optimizer")
    shown = len(any_client.shown_documents)
    result = await execute(any_client, action.command)

    target = workspace / "diet.optimizer.py"
    assert result == {"shown": True, "path": str(target)}
    assert [d.uri for d in any_client.shown_documents[shown:]] == [target.as_uri()]


async def test_a_spec_without_a_model_block_is_offered_one_built_from_its_tables(client: LanguageClient,
                                                                                 workspace: Path):
    full = example_text("diet.opt.md")
    text = full[:full.index("The three daily requirements")]
    uri = open_doc(client, write_spec(workspace, "menu.opt.md", text))
    await wait_published(client, uri)

    action = titled(await code_actions(client, uri, WHOLE_DOC), "Insert a model block built from the tables")
    [insert] = only_edits(action, uri)

    assert insert.new_text.lstrip().startswith("```model\nsets:\n  Food: foods.food\n")
    for column in ("energy", "protein", "calcium", "price", "limit"):
        assert f"  {column}[Food]: foods.{column}\n" in insert.new_text
    assert "serving[" not in insert.new_text  # `28 g` is not a number
    apply_action(client, uri, 2, action)
    await wait_until(lambda: with_code(client, uri, "NEMO129") or codes(client, uri) == [] or None,
                     "the lint of the inserted model block")
    assert not [d for d in client.diagnostics[uri] if d.severity == types.DiagnosticSeverity.Error]


async def test_an_undefined_name_offers_its_suggestion_replacing_exactly_the_name(any_client: LanguageClient,
                                                                                  workspace: Path):
    text = replaced(example_text("diet.opt.md"), ">= min_protein", ">= min_protien")
    uri = open_doc(any_client, workspace / "diet.opt.md", text)
    d = await wait_for_code(any_client, uri, "NEMO124")

    change = titled(await code_actions(any_client, uri, d.range, [d]), "Change to `min_protein`")

    assert change.is_preferred and change.kind == types.CodeActionKind.QuickFix
    assert only_edits(change, uri) == [types.TextEdit(range=span_of(text, "min_protien"), new_text="min_protein")]
    apply_action(any_client, uri, 2, change)
    await wait_until(lambda: not with_code(any_client, uri, "NEMO124"), "the fix to clear NEMO124")


async def test_the_suggested_name_replaces_the_name_after_non_ascii_text_too(any_client: LanguageClient,
                                                                            workspace: Path):
    text = replaced(example_text("diet.opt.md"), "for f in F) >= min_energy",
                    "for f in F if f != 'crème 𝔽') >= min_enrgy")
    uri = open_doc(any_client, workspace / "diet.opt.md", text)
    d = await wait_for_code(any_client, uri, "NEMO124")

    change = titled(await code_actions(any_client, uri, d.range, [d]), "Change to `min_energy`")

    [replace] = only_edits(change, uri)
    assert replace.range == d.range == span_of(text, "min_enrgy", encoding_of(any_client))
    assert apply_edits(text, [replace], encoding_of(any_client)) == replaced(text, "min_enrgy", "min_energy")


async def test_a_model_naming_a_table_that_has_no_caption_offers_to_name_it(client: LanguageClient, workspace: Path):
    text = replaced(example_text("diet.opt.md"), "Table: foods\n", "")
    uri = open_doc(client, workspace / "diet.opt.md", text)
    d = await wait_for_code(client, uri, "NEMO115")

    header = position(text, "| food ").line
    action = titled(await code_actions(client, uri, d.range, [d]), f"Name the table at line {header + 1} ")
    assert action.title.endswith("`foods`")

    fixed = apply_edits(text, only_edits(action, uri))
    assert "Table: foods" in fixed
    assert position(fixed, "Table: foods").line > position(fixed, "| pork with beans").line
    apply_action(client, uri, 2, action)
    await wait_until(lambda: not with_code(client, uri, "NEMO115"), "the caption to clear NEMO115")
    assert not [c for c in codes(client, uri) if c != "NEMO129"]


async def test_an_undefined_set_offers_to_declare_it_from_a_table_column(client: LanguageClient, workspace: Path):
    text = replaced(example_text("diet.opt.md"), "servings[f] for f in F)\nconstraints",
                    "servings[f] for f in Foods)\nconstraints")
    uri = open_doc(client, workspace / "diet.opt.md", text)
    d = await wait_for_code(client, uri, "NEMO124")
    assert d.range == span_of(text, "Foods")

    action = titled(await code_actions(client, uri, d.range, [d]), "Declare set `Foods` from column `food`")

    fixed = apply_edits(text, only_edits(action, uri))
    assert "sets:\n  Foods: foods.food\n  F: foods.food\n" in fixed
    apply_action(client, uri, 2, action)
    await wait_until(lambda: not with_code(client, uri, "NEMO124"), "the declaration to clear NEMO124")
    assert codes(client, uri) == []


async def test_actions_can_be_filtered_by_kind(client: LanguageClient, workspace: Path):
    text = replaced(example_text("diet.opt.md"), ">= min_protein", ">= min_protien")
    uri = open_doc(client, workspace / "diet.opt.md", text)
    d = await wait_for_code(client, uri, "NEMO124")

    result = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=d.range,
        context=types.CodeActionContext(diagnostics=[d], only=[types.CodeActionKind.QuickFix])))

    assert result and all(a.kind == types.CodeActionKind.QuickFix for a in result)
    assert not [a for a in result if a.title.startswith("Solve now")]


async def test_commands_given_something_other_than_a_spec_say_so_and_start_nothing(client: LanguageClient,
                                                                                   workspace: Path):
    readme = (workspace / "README.md").as_uri()
    before = progress_tokens(client)

    for command in ("nemo.solve", "nemo.regenerate"):
        for arguments in ([], [readme], [42]):
            result = await execute(client, types.Command(title=command, command=command, arguments=arguments))
            assert result["started"] is False and ".opt.md" in result["reason"]
    assert await execute(client, types.Command(title="show", command="nemo.showReport", arguments=[readme])) is None

    assert progress_tokens(client) == before
