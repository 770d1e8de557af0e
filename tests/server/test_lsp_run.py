"""On save: a run with work-done progress, its findings published, code lenses over the title and constraints."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import fresh_subfolder, shared_client, shared_nvim_client
from .lsp_support import (codes, edit, example_text, execute, lenses, open_doc, position, progress_tokens, replaced,
                          run_on_save, save, span_of, wait_for_code, wait_new_progress, wait_progress_end,
                          wait_published, wait_until, with_code, run_lens_titles)

pytestmark = pytest.mark.asyncio(loop_scope="module")
# each test works in its own folder: one server per module is enough
client, nvim_client, workspace = shared_client, shared_nvim_client, fresh_subfolder

WRONG_EXPECTATION = ("objective: 97", "objective: 98")
"""Diet's true optimum is 97: expecting 98 makes the run report NEMO406 on the objective."""


async def test_saving_a_spec_runs_it_with_work_done_progress(any_client: LanguageClient, workspace: Path):
    uri = open_doc(any_client, workspace / "diet.opt.md")
    await wait_published(any_client, uri)
    before = progress_tokens(any_client)

    save(any_client, uri)
    token = await wait_new_progress(any_client, before)
    end = await wait_progress_end(any_client, token)

    begin, *reports, last = any_client.progress_reports[token]
    assert isinstance(begin, types.WorkDoneProgressBegin) and "diet.opt.md" in begin.title
    assert begin.cancellable
    assert reports and all(isinstance(r, types.WorkDoneProgressReport) and r.message for r in reports)
    percentages = [r.percentage for r in reports]
    assert all(p is not None and 0 <= p <= 100 for p in percentages)
    assert percentages == sorted(percentages)
    assert any("solving" in r.message for r in reports) and any("validating" in r.message for r in reports)
    assert last is end and end.message == "validated"


async def test_a_run_publishes_its_findings_on_the_lines_they_concern(client: LanguageClient, workspace: Path):
    text = replaced(example_text("diet.opt.md"), *WRONG_EXPECTATION)
    uri = open_doc(client, workspace / "diet.opt.md", text)
    await wait_published(client, uri)
    assert codes(client, uri) == []  # nothing the linter can see

    await run_on_save(client, uri)

    d = await wait_for_code(client, uri, "NEMO406")
    assert d.range.start.line == position(text, "minimize:").line
    assert "97" in d.message and "98" in d.message
    assert d.source == "nemo" and isinstance(d.data, dict) and d.data["id"]


async def test_the_title_lens_shows_status_objective_and_verdict_after_a_run(any_client: LanguageClient,
                                                                             workspace: Path):
    text = example_text("diet.opt.md")
    uri = open_doc(any_client, workspace / "diet.opt.md", text)
    await wait_published(any_client, uri)
    title = span_of(text, "# Polly's cheapest daily menu")
    assert await run_lens_titles(any_client, uri) == ["▶ Solve"]

    await run_on_save(any_client, uri)

    over_title = [lens.command.title for lens in await lenses(any_client, uri) if lens.range == title]
    assert "▶ Solve" in over_title
    summary = next(t for t in over_title if "objective" in t)
    assert summary.startswith("optimal · objective 97 · validated")


async def test_each_constraint_gets_a_lens_with_its_slack_in_the_solution(client: LanguageClient, workspace: Path):
    text = example_text("diet.opt.md")
    uri = open_doc(client, workspace / "diet.opt.md", text)
    await wait_published(client, uri)

    await run_on_save(client, uri)

    by_line = {lens.range.start.line: lens.command.title for lens in await lenses(client, uri)}
    # 4 oatmeal + 5 whole milk + 2 cherry pie: 2080 kcal, 64 g protein, 1477 mg calcium
    assert by_line[position(text, "energy_need:").line] == "slack 80"
    assert by_line[position(text, "protein_need:").line] == "slack 9"
    assert by_line[position(text, "calcium_need:").line] == "slack 677"


async def test_a_client_that_supports_it_is_asked_to_refresh_its_lenses_after_a_run(client: LanguageClient,
                                                                                    workspace: Path):
    uri = open_doc(client, workspace / "diet.opt.md")
    await wait_published(client, uri)
    refreshed = getattr(client, "lens_refreshes", 0)

    await run_on_save(client, uri)

    await wait_until(lambda: getattr(client, "lens_refreshes", 0) > refreshed, "a workspace/codeLens/refresh request")


async def test_typing_after_a_run_keeps_its_findings_until_the_next_run(any_client: LanguageClient, workspace: Path):
    text = replaced(example_text("diet.opt.md"), *WRONG_EXPECTATION)
    uri = open_doc(any_client, workspace / "diet.opt.md", text)
    await wait_published(any_client, uri)
    await run_on_save(any_client, uri)
    await wait_for_code(any_client, uri, "NEMO406")

    # a valid edit that the linter warns about: an unknown front-matter key, one line more
    at = position(text, "expect:")
    edit(any_client, uri, 2, types.Range(start=at, end=at), "time_limt: 30\n")
    text = replaced(text, "expect:", "time_limt: 30\nexpect:")
    await wait_for_code(any_client, uri, "NEMO103")
    kept = with_code(any_client, uri, "NEMO406")
    assert kept, "a re-lint dropped the run's finding"
    assert kept[0].range.start.line == position(text, "minimize:").line  # still on the objective

    # the next run, expecting the true optimum, replaces the run's findings; the lint's stay
    edit(any_client, uri, 3, span_of(text, "98"), "97")
    end = await run_on_save(any_client, uri)
    assert end.message == "validated"
    await wait_until(lambda: not with_code(any_client, uri, "NEMO406"), "NEMO406 to go after the next run")
    # NEMO308 (reduced isolation) depends on the machine, not on the spec
    assert [c for c in codes(any_client, uri) if c != "NEMO308"] == ["NEMO103"]


async def test_saving_a_spec_with_errors_reports_them_once_and_runs_nothing(client: LanguageClient, workspace: Path):
    text = replaced(example_text("production-planning.opt.md"), "(stock[t - 1] if t > 1 else initial_stock)",
                    "stock[t - 1]")
    uri = open_doc(client, workspace / "production-planning.opt.md", text)
    await wait_for_code(client, uri, "NEMO126")

    end = await run_on_save(client, uri)

    assert end.message == "not run"
    assert codes(client, uri).count("NEMO126") == 1
    assert not (workspace / "production-planning.optimizer.py").exists()


async def test_the_summary_lens_runs_a_command_that_returns_the_last_report(client: LanguageClient, workspace: Path):
    uri = open_doc(client, workspace / "diet.opt.md")
    await wait_published(client, uri)
    await run_on_save(client, uri)
    summary = next(lens for lens in await lenses(client, uri) if "objective" in lens.command.title)

    report = await execute(client, summary.command)

    assert summary.command.command == "nemo.showReport"
    assert report["outcome"] == "validated" and report["solution"]["objective"] == 97
