"""Specs changed outside the editor (an agent, `git pull`): the server watches the workspace and re-lints them."""

from __future__ import annotations

from pathlib import Path

from pytest_lsp import LanguageClient

from .lsp_support import (example_text, open_doc, publishes, replaced, wait_for_code, wait_published, wait_until,
                          with_code, write_spec)

TYPO = (">= min_protein", ">= min_protien")


def uri_of(path: Path) -> str:
    return path.resolve().as_uri()


async def test_a_spec_written_outside_the_editor_gets_diagnostics(any_client: LanguageClient, workspace: Path):
    other = write_spec(workspace, "other.opt.md", replaced(example_text("diet.opt.md"), *TYPO))

    d = await wait_for_code(any_client, uri_of(other), "NEMO124")

    assert "min_protien" in d.message


async def test_writing_it_again_publishes_again(client: LanguageClient, workspace: Path):
    other = write_spec(workspace, "other.opt.md", replaced(example_text("diet.opt.md"), *TYPO))
    await wait_for_code(client, uri_of(other), "NEMO124")

    write_spec(workspace, "other.opt.md", example_text("diet.opt.md"))  # fixed by someone else

    await wait_until(lambda: not with_code(client, uri_of(other), "NEMO124"), "the fixed file to be re-linted")
    assert list(client.diagnostics[uri_of(other)]) == []


async def test_a_spec_in_a_subfolder_is_watched_too(client: LanguageClient, workspace: Path):
    (workspace / "plans").mkdir()
    nested = write_spec(workspace / "plans", "q3.opt.md", replaced(example_text("diet.opt.md"), *TYPO))

    await wait_for_code(client, uri_of(nested), "NEMO124")


async def test_deleting_a_spec_clears_its_diagnostics(client: LanguageClient, workspace: Path):
    other = write_spec(workspace, "other.opt.md", replaced(example_text("diet.opt.md"), *TYPO))
    await wait_for_code(client, uri_of(other), "NEMO124")

    other.unlink()

    await wait_until(lambda: list(client.diagnostics[uri_of(other)]) == [], "the deleted file's diagnostics to clear")


async def test_generated_python_files_trigger_nothing(client: LanguageClient, workspace: Path):
    other = write_spec(workspace, "other.opt.md", replaced(example_text("diet.opt.md"), *TYPO))
    await wait_for_code(client, uri_of(other), "NEMO124")
    seen = len(publishes(client, uri_of(other)))

    (workspace / "other.optimizer.py").write_text("def build_model(data):\n    return None\n", encoding="utf-8")
    (workspace / ".nemo" / "other").mkdir(parents=True)
    (workspace / ".nemo" / "other" / "report.json").write_text("{}", encoding="utf-8")
    sentinel = write_spec(workspace, "sentinel.opt.md", example_text("diet.opt.md"))  # written last
    await wait_published(client, uri_of(sentinel))

    assert len(publishes(client, uri_of(other))) == seen
    assert [p.uri for p in client.published if not p.uri.endswith(".opt.md")] == []


async def test_a_spec_open_in_the_editor_follows_the_editor_not_the_disk(client: LanguageClient, workspace: Path):
    spec = workspace / "diet.opt.md"
    uri = open_doc(client, spec)  # the editor holds the correct text
    await wait_published(client, uri)

    write_spec(workspace, "diet.opt.md", replaced(example_text("diet.opt.md"), *TYPO))  # the disk does not
    sentinel = write_spec(workspace, "sentinel.opt.md", example_text("diet.opt.md"))
    await wait_published(client, uri_of(sentinel))

    assert not with_code(client, uri, "NEMO124")
