"""Settings: defaults < `[tool.nemo]` in pyproject.toml < the editor's settings; bad values never stop the server."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .lsp_support import (example_text, open_doc, progress_tokens, replaced, run_on_save, save_and_lint, wait_for_code,
                          wait_published, wait_until)

NO_RUN_ON_SAVE = "[tool.nemo]\nrun_on_save = false\n"


async def saving_starts_no_run(client: LanguageClient, workspace: Path) -> None:
    uri = open_doc(client, workspace / "diet.opt.md")
    await wait_published(client, uri)
    before = progress_tokens(client)

    await save_and_lint(client, uri)

    assert progress_tokens(client) == before, "a run started on save"
    assert not (workspace / ".nemo").exists() and not (workspace / "diet.optimizer.py").exists()


async def messages_about(client: LanguageClient, word: str) -> list[types.ShowMessageParams]:
    return await wait_until(lambda: [m for m in client.messages if word in m.message],
                            f"a window message about {word}")


@pytest.mark.parametrize("init_options", [{"nemo": {"lintDelayMs": 20, "runOnSave": False}}], indirect=True)
async def test_initialization_options_configure_the_server(init_options: dict, client: LanguageClient, workspace: Path):
    await saving_starts_no_run(client, workspace)


@pytest.mark.parametrize("workspace_files", [{"pyproject.toml": NO_RUN_ON_SAVE}], indirect=True)
async def test_tool_nemo_in_the_workspace_pyproject_configures_the_server(workspace: Path, client: LanguageClient):
    await saving_starts_no_run(client, workspace)


@pytest.mark.parametrize("workspace_files", [{"pyproject.toml": NO_RUN_ON_SAVE}], indirect=True)
@pytest.mark.parametrize("init_options", [{"nemo": {"lintDelayMs": 20, "runOnSave": True}}], indirect=True)
async def test_the_editors_settings_win_over_the_pyproject(init_options: dict, workspace: Path, client: LanguageClient):
    uri = open_doc(client, workspace / "diet.opt.md")
    await wait_published(client, uri)

    end = await run_on_save(client, uri)

    assert end.message == "validated"


async def test_settings_changed_in_the_editor_take_effect(client: LanguageClient, workspace: Path):
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"nemo": {"runOnSave": False}}))

    await saving_starts_no_run(client, workspace)


async def test_an_invalid_setting_shows_a_message_and_the_server_keeps_working(any_client: LanguageClient,
                                                                               workspace: Path):
    any_client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"nemo": {"timeLimit": "soon"}}))

    [message] = await messages_about(any_client, "timeLimit")
    assert "soon" in message.message and message.type == types.MessageType.Warning
    text = replaced(example_text("diet.opt.md"), ">= min_protein", ">= min_protien")
    uri = open_doc(any_client, workspace / "diet.opt.md", text)
    await wait_for_code(any_client, uri, "NEMO124")
    assert (await run_on_save(any_client, uri)).message == "not run"  # runs still start, with the default limit


async def test_an_unknown_setting_is_named_in_a_message(client: LanguageClient, workspace: Path):
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"nemo": {"runOnSafe": False}}))

    [message] = await messages_about(client, "runOnSafe")

    assert "unknown setting" in message.message


@pytest.mark.parametrize("workspace_files", [{"pyproject.toml": "[tool.nemo]\ntime_limit = -5\n"}], indirect=True)
async def test_an_invalid_value_in_the_pyproject_is_reported_with_its_origin(workspace: Path, client: LanguageClient):
    [message] = await messages_about(client, "time_limit")

    assert "pyproject.toml" in message.message and "positive" in message.message


@pytest.mark.parametrize("workspace_files", [{"pyproject.toml": "[tool.nemo\nrun_on_save = false\n"}], indirect=True)
async def test_an_unreadable_pyproject_is_reported_and_the_server_still_lints(workspace: Path, client: LanguageClient):
    [message] = await messages_about(client, "pyproject.toml")
    assert "cannot read" in message.message

    uri = open_doc(client, workspace / "diet.opt.md",
                   replaced(example_text("diet.opt.md"), ">= min_protein", ">= min_protien"))
    await wait_for_code(client, uri, "NEMO124")
