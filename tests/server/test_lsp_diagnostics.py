"""Diagnostics while typing: open and edit a spec, and the linter's findings arrive with precise ranges."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import fresh_subfolder, shared_client, shared_nvim_client
from .lsp_support import (codes, diagnostics, doc_id, edit, encoding_of, example_text, open_doc, replaced, span_of,
                          wait_for_code, wait_published, wait_until, with_code)

pytestmark = pytest.mark.asyncio(loop_scope="module")
# these tests only open and read documents: one server per module, a fresh folder per test
client, nvim_client, workspace = shared_client, shared_nvim_client, fresh_subfolder

UNSHIFTED = "(stock[t - 1] if t > 1 else initial_stock)"
"""Sailco's stock balance; without the `if`, `stock[t - 1]` reaches quarter 0 when t = 1."""


async def test_an_index_outside_its_set_is_reported_on_the_subscript(any_client: LanguageClient, workspace: Path):
    text = replaced(example_text("production-planning.opt.md"), UNSHIFTED, "stock[t - 1]")
    uri = open_doc(any_client, workspace / "production-planning.opt.md", text)

    d = await wait_for_code(any_client, uri, "NEMO126")

    assert d.range == span_of(text, "stock[t - 1]", encoding_of(any_client))
    assert d.severity == types.DiagnosticSeverity.Error
    assert "stock[0]" in d.message and "t = 1" in d.message


async def test_each_diagnostic_carries_code_source_documentation_link_and_finding_id(client: LanguageClient,
                                                                                     workspace: Path):
    text = replaced(example_text("production-planning.opt.md"), UNSHIFTED, "stock[t - 1]")
    uri = open_doc(client, workspace / "production-planning.opt.md", text)

    d = await wait_for_code(client, uri, "NEMO126")

    assert d.source == "nemo"
    assert d.code_description is not None and d.code_description.href.endswith("#nemo126")
    assert isinstance(d.data, dict) and isinstance(d.data.get("id"), str) and d.data["id"]


async def test_an_undefined_name_is_reported_on_the_name_with_a_suggestion(client: LanguageClient, workspace: Path):
    text = replaced(example_text("diet.opt.md"), ">= min_protein", ">= min_protien")
    uri = open_doc(client, workspace / "diet.opt.md", text)

    d = await wait_for_code(client, uri, "NEMO124")

    assert d.range == span_of(text, "min_protien", encoding_of(client))
    assert "did you mean `min_protein`" in d.message
    assert d.code_description is not None and d.code_description.href.endswith("#nemo124")


async def test_an_unknown_front_matter_key_is_a_warning_on_the_key(client: LanguageClient, workspace: Path):
    text = replaced(example_text("diet.opt.md"), "expect:", "time_limt: 30\nexpect:")
    uri = open_doc(client, workspace / "diet.opt.md", text)

    d = await wait_for_code(client, uri, "NEMO103")

    assert d.range == span_of(text, "time_limt", encoding_of(client))
    assert d.severity == types.DiagnosticSeverity.Warning
    assert d.code_description is not None and d.code_description.href.endswith("#nemo103")


async def test_ranges_are_in_the_clients_code_units_after_non_ascii_text(any_client: LanguageClient, workspace: Path):
    """`è` is one UTF-16 unit but two UTF-8 bytes, `𝔽` two UTF-16 units: columns differ per encoding."""
    text = replaced(example_text("diet.opt.md"), "for f in F) >= min_energy",
                    "for f in F if f != 'crème 𝔽') >= min_enrgy")
    uri = open_doc(any_client, workspace / "diet.opt.md", text)

    d = await wait_for_code(any_client, uri, "NEMO124")

    assert d.range == span_of(text, "min_enrgy", encoding_of(any_client))


async def test_an_incremental_edit_relints_and_fixing_the_error_clears_it(any_client: LanguageClient, workspace: Path):
    text = example_text("diet.opt.md")
    uri = open_doc(any_client, workspace / "diet.opt.md", text)
    await wait_published(any_client, uri)
    assert codes(any_client, uri) == []
    enc = encoding_of(any_client)

    typo = span_of(text, "min_protein", enc, nth=1)  # the use in `protein_need`, not the declaration
    edit(any_client, uri, 2, typo, "min_protien")
    broken = await wait_for_code(any_client, uri, "NEMO124")
    assert broken.range == types.Range(start=typo.start, end=types.Position(
        line=typo.start.line, character=typo.start.character + len("min_protien")))

    edit(any_client, uri, 3, broken.range, "min_protein")
    await wait_until(lambda: not with_code(any_client, uri, "NEMO124"), "the NEMO124 to be cleared")
    assert diagnostics(any_client, uri) == []


async def test_quick_successive_edits_end_in_the_diagnostics_of_the_last_text(client: LanguageClient, workspace: Path):
    text = example_text("diet.opt.md")
    uri = open_doc(client, workspace / "diet.opt.md", text)
    await wait_published(client, uri)
    word = span_of(text, "min_calcium", nth=1)
    for version, typed in enumerate(["m", "min_c", "min_calc", "min_calciu"], start=2):
        edit(client, uri, version, word, typed)  # retype the word, as fast as the client sends
        word = types.Range(start=word.start, end=types.Position(line=word.start.line,
                                                                 character=word.start.character + len(typed)))

    d = await wait_for_code(client, uri, "NEMO124")

    assert "`min_calciu`" in d.message
    assert d.range == word


async def test_a_plain_markdown_file_gets_no_diagnostics(client: LanguageClient, workspace: Path):
    readme = workspace / "README.md"
    readme.write_text("# Notes\n\n```model\nminimize: x +\n```\n", encoding="utf-8")
    readme_uri = open_doc(client, readme)
    spec_uri = open_doc(client, workspace / "diet.opt.md")

    await wait_published(client, spec_uri)  # handled after the README's didOpen

    assert readme_uri not in client.diagnostics


async def test_a_front_matter_value_of_the_wrong_type_is_an_error_on_the_value(client: LanguageClient, workspace: Path):
    text = replaced(example_text("diet.opt.md"), "expect:", "time_limit: soon\nexpect:")
    uri = open_doc(client, workspace / "diet.opt.md", text)

    d = await wait_for_code(client, uri, "NEMO104")

    assert d.range == span_of(text, "soon")
    assert d.severity == types.DiagnosticSeverity.Error


async def test_closing_a_spec_clears_its_diagnostics(client: LanguageClient, workspace: Path):
    text = replaced(example_text("diet.opt.md"), ">= min_protein", ">= min_protien")
    uri = open_doc(client, workspace / "diet.opt.md", text)
    await wait_for_code(client, uri, "NEMO124")

    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=doc_id(uri)))

    await wait_until(lambda: diagnostics(client, uri) == [], "the closed spec's diagnostics to clear")
