"""A nonlinear spec in the editor: its class and solver on the objective, a run that validates with SCIP,
and model-language diagnostics for functions the language does not have."""

from __future__ import annotations

from pathlib import Path

from pytest_lsp import LanguageClient

from .lsp_support import (example_text, hover, lenses, open_doc, position, run_on_save, span_of, wait_for_code,
                          wait_published)


async def test_a_minlp_shows_its_class_and_solver_and_validates_on_save(client: LanguageClient, workspace: Path):
    text = example_text("lot-sizing.opt.md")
    uri = open_doc(client, workspace / "lot-sizing.opt.md", text)
    await wait_published(client, uri)
    objective = span_of(text, "minimize:")
    assert [lens.command.title for lens in await lenses(client, uri) if lens.range.start == objective.start] == [
        "MINLP (nonconvex) · solver scip"]
    shown = await hover(client, uri, position(text, "minimize:", offset=2))
    assert shown is not None and "problem class: MINLP (nonconvex)" in shown and "**solver:** scip" in shown

    await run_on_save(client, uri)

    summary = next(lens.command.title for lens in await lenses(client, uri) if "objective" in lens.command.title)
    assert summary.startswith("optimal · objective 1690 · validated")


async def test_an_unknown_function_and_a_wrong_arity_are_diagnosed_where_they_are(client: LanguageClient,
                                                                                   workspace: Path):
    text = example_text("pricing.opt.md").replace("exp(-sens[p] * price[p])", "expo(-sens[p] * price[p])")
    uri = open_doc(client, workspace / "pricing.opt.md", text)

    d = await wait_for_code(client, uri, "NEMO123")

    assert "`expo` is not a function of the model language" in d.message
    assert "exp, len, log, max, min, sqrt, sum" in d.message
    assert d.range.start == position(text, "expo(-sens")
