"""Hover, go to definition, the outline and completion over a spec."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import fresh_subfolder, shared_client, shared_nvim_client
from .lsp_support import (doc_id, encoding_of, example_text, hover, open_doc, position, position_at, replaced,
                          run_on_save, wait_published, write_spec)

pytestmark = pytest.mark.asyncio(loop_scope="module")
# these tests only open and read documents: one server per module, a fresh folder per test
client, nvim_client, workspace = shared_client, shared_nvim_client, fresh_subfolder

OBJECTIVE = "minimize: sum(price[f] * servings[f] for f in F)"


async def opened(client: LanguageClient, workspace: Path, text: str | None = None) -> tuple[str, str]:
    text = text if text is not None else example_text("diet.opt.md")
    uri = open_doc(client, workspace / "diet.opt.md", text)
    await wait_published(client, uri)
    return uri, text


def inside(text: str, line_fragment: str, word: str, encoding: str = "utf-16") -> types.Position:
    """A position one character into `word`, where it first occurs from `line_fragment` on."""
    return position_at(text, text.index(word, text.index(line_fragment)) + 1, encoding)


# --- hover -----------------------------------------------------------------------------------------

async def test_hovering_a_parameter_shows_its_declaration_and_values(any_client: LanguageClient, workspace: Path):
    uri, text = await opened(any_client, workspace)

    scalar = await hover(any_client, uri, inside(text, "energy_need:", "min_energy", encoding_of(any_client)))
    indexed = await hover(any_client, uri, inside(text, OBJECTIVE, "price", encoding_of(any_client)))

    assert scalar is not None and "parameter `min_energy`" in scalar
    assert "min_energy: 2000" in scalar and "value: 2000" in scalar
    assert indexed is not None and "price[F]: foods.price" in indexed
    assert "6 values: oatmeal: 3, chicken: 24, eggs: 13, whole milk: 9, cherry pie: 20, pork with beans: 19" \
        in indexed


async def test_hovering_a_variable_shows_its_values_in_the_last_solution(client: LanguageClient, workspace: Path):
    uri, text = await opened(client, workspace)
    at = inside(text, OBJECTIVE, "servings", encoding_of(client))
    before = await hover(client, uri, at)
    assert before is not None and "no solution yet" in before

    await run_on_save(client, uri)
    after = await hover(client, uri, at)

    assert after is not None and "variable `servings`" in after
    assert "last solution (3 nonzero)" in after
    for row in ("| oatmeal | 4 |", "| whole milk | 5 |", "| cherry pie | 2 |"):
        assert row in after


async def test_hovering_a_set_lists_its_elements(client: LanguageClient, workspace: Path):
    uri, text = await opened(client, workspace)

    shown = await hover(client, uri, inside(text, OBJECTIVE, " F)", encoding_of(client)))

    assert shown is not None and "set `F`" in shown
    assert "6 elements: oatmeal, chicken, eggs, whole milk, cherry pie, pork with beans" in shown


async def test_hovering_a_table_caption_shows_its_size_and_columns(client: LanguageClient, workspace: Path):
    uri, text = await opened(client, workspace)

    shown = await hover(client, uri, inside(text, "Table: foods", "foods", encoding_of(client)))

    assert shown is not None and "table `foods`" in shown and "6 rows x 7 columns" in shown
    assert "`price (cents)`" in shown


async def test_hovering_prose_shows_nothing(client: LanguageClient, workspace: Path):
    uri, text = await opened(client, workspace)

    assert await hover(client, uri, inside(text, "Polly wants", "cheaply")) is None


# --- definition ------------------------------------------------------------------------------------

async def definition(client: LanguageClient, uri: str, at: types.Position) -> types.Location:
    result = await client.text_document_definition_async(types.DefinitionParams(text_document=doc_id(uri),
                                                                                position=at))
    assert isinstance(result, types.Location), f"expected one location, got {result!r}"
    assert result.uri == uri
    return result


async def test_go_to_definition_from_a_use_in_the_objective_reaches_the_declaration(any_client: LanguageClient,
                                                                                    workspace: Path):
    uri, text = await opened(any_client, workspace)

    price = await definition(any_client, uri, inside(text, OBJECTIVE, "price", encoding_of(any_client)))
    servings = await definition(any_client, uri, inside(text, OBJECTIVE, "servings", encoding_of(any_client)))

    assert price.range.start.line == position(text, "  price[F]: foods.price").line
    assert servings.range.start.line == position(text, "  servings[f in F]:").line


async def test_go_to_definition_from_a_table_column_reaches_the_table(client: LanguageClient, workspace: Path):
    uri, text = await opened(client, workspace)
    enc = encoding_of(client)

    table = await definition(client, uri, inside(text, "price[F]: foods.price", "foods", enc))
    column = await definition(client, uri, inside(text, "price[F]: foods.price", ".price", enc))

    assert table.range.start.line == position(text, "Table: foods").line
    assert column.range.start.line == position(text, "| food ").line  # the header row
    assert column.range.start.character == position(text, "price (cents)", enc).character


# --- outline ---------------------------------------------------------------------------------------

async def test_the_outline_lists_sections_tables_and_the_model_with_its_parts(any_client: LanguageClient,
                                                                              workspace: Path):
    uri, text = await opened(any_client, workspace)

    result = await any_client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc_id(uri)))

    symbols = {s.name: s for s in result}
    assert list(symbols) == ["Polly's cheapest daily menu", "foods", "model"]
    assert symbols["Polly's cheapest daily menu"].kind == types.SymbolKind.Namespace
    assert symbols["foods"].kind == types.SymbolKind.Struct
    model = symbols["model"]
    assert model.range.start.line == position(text, "```model").line
    parts = {(c.name, c.detail) for c in model.children}
    assert {("F", "set"), ("min_energy", "parameter"), ("price", "parameter"), ("servings", "integer variable"),
            ("minimize", "objective"), ("energy_need", "constraint"), ("protein_need", "constraint"),
            ("calcium_need", "constraint")} <= parts
    assert len(model.children) == 1 + 8 + 1 + 1 + 3
    for child in model.children:
        assert model.range.start.line < child.range.start.line < model.range.end.line


# --- completion ------------------------------------------------------------------------------------

async def complete(client: LanguageClient, uri: str, at: types.Position) -> list[str]:
    result = await client.text_document_completion_async(types.CompletionParams(text_document=doc_id(uri),
                                                                                position=at))
    items = result.items if isinstance(result, types.CompletionList) else result or []
    return [i.label for i in items]


def end_of(text: str, line_text: str) -> types.Position:
    p = position(text, line_text)
    return types.Position(line=p.line, character=p.character + len(line_text))


async def test_completion_after_a_table_name_lists_its_columns_as_the_model_names_them(any_client: LanguageClient,
                                                                                       workspace: Path):
    typing = "  limit[F]: foods."
    uri, text = await opened(any_client, workspace,
                             replaced(example_text("diet.opt.md"), "  limit[F]: foods.limit", typing))

    labels = await complete(any_client, uri, end_of(text, typing))

    assert labels == ["food", "serving", "energy", "protein", "calcium", "price", "limit"]


async def test_completion_on_an_empty_model_line_lists_the_sections(client: LanguageClient, workspace: Path):
    uri, text = await opened(client, workspace, replaced(example_text("diet.opt.md"), "vars:\n", "\nvars:\n"))

    labels = await complete(client, uri, types.Position(line=position(text, "vars:").line - 1, character=0))

    assert {"sets", "params", "vars", "minimize", "maximize", "constraints"} <= set(labels)


async def test_completion_in_the_front_matter_lists_its_keys(client: LanguageClient, workspace: Path):
    text = replaced(example_text("diet.opt.md"), "expect:", "ti\nexpect:")
    uri, text = await opened(client, workspace, text)

    labels = await complete(client, uri, end_of(text, "ti"))

    assert {"agent", "expect", "time_limit", "memory_limit", "tolerance", "sandbox"} <= set(labels)


async def test_completion_after_agent_lists_the_agents(client: LanguageClient, workspace: Path):
    text = replaced(example_text("diet.opt.md"), "expect:", "agent: \nexpect:")
    uri, text = await opened(client, workspace, text)

    labels = await complete(client, uri, end_of(text, "agent: "))

    assert "formal" in labels


async def test_completion_works_on_text_that_has_not_been_linted_yet(client: LanguageClient, workspace: Path):
    spec = write_spec(workspace, "fresh.opt.md", replaced(example_text("diet.opt.md"), "  limit[F]: foods.limit",
                                                          "  limit[F]: foods."))
    text = spec.read_text(encoding="utf-8")
    uri = open_doc(client, spec)  # no wait: completion reads the document itself

    labels = await complete(client, uri, end_of(text, "  limit[F]: foods."))

    assert "limit" in labels
