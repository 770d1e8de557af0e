"""After a restart the server restores the last run's results from `.nemo/NAME/report.json`.

Each test starts real server processes one after the other (a session, shut down, a fresh one), as an
editor does across a restart: the restored findings come with the first lint of the opened spec,
without a save, and only when the stored report was made from the very text that is opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from nemo_lsp.engine.report import load_report
from nemo_lsp.spec.document import text_sha256

from .conftest import DEFAULT_OPTIONS, SERVER, start_session
from .lsp_support import (DEADLINE, code_actions, codes, edit, example_text, execute, lenses, open_doc, position,
                          publishes, replaced, run_on_save, span_of, wait_for_code, wait_new_progress,
                          wait_progress_end, wait_published, wait_until, with_code, write_spec, run_lens_titles)

TITLE = "# Polly's cheapest daily menu"
REPORT = Path(".nemo") / "diet" / "report.json"


@contextlib.asynccontextmanager
async def session(root: Path, capabilities: str = "visual-studio-code") -> AsyncIterator[LanguageClient]:
    """One server process from initialize to exit, as an editor runs it between two restarts."""
    client = await SERVER.start()
    try:
        await start_session(client, capabilities, root, DEFAULT_OPTIONS)
        yield client
    finally:
        # also after a failed assertion: a server left running would keep `stop` waiting
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.shutdown_session(), DEADLINE)
        await client.stop()


def forget_the_energy_requirement(workspace: Path) -> None:
    """A user-edited diet optimizer that drops `energy_need`: the simulator finds it violated (NEMO401)."""
    from nemo_lsp.agents.formal import FormalAgent
    from nemo_lsp.analysis import analyze

    generated = FormalAgent().render("optimizer", analyze(example_text("diet.opt.md")), "diet.opt.md")
    (workspace / "diet.optimizer.py").write_text(
        replaced(generated, "    return model\n", "    model.energy_need.deactivate()\n    return model\n"),
        encoding="utf-8")


def nemo_solve(spec: Path) -> None:
    """`nemo solve SPEC` in its folder, as the user ran it before starting the editor."""
    env = {k: v for k, v in os.environ.items() if k != "NEMO_DEBUG"}
    done = subprocess.run([sys.executable, "-m", "nemo_lsp.cli", "solve", spec.name], cwd=spec.parent, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert (spec.parent / ".nemo" / spec.name.removesuffix(".opt.md") / "report.json").is_file()


async def summary_lens(client: LanguageClient, uri: str, text: str) -> str | None:
    """The outcome lens over the title (`optimal · objective 97 · validated · 0.8 s`), if any."""
    title = span_of(text, TITLE)
    return next((lens.command.title for lens in await lenses(client, uri)
                 if lens.range == title and lens.command is not None and " · " in lens.command.title), None)


def first_publish_codes(client: LanguageClient, uri: str) -> list[str]:
    return [str(d.code) for d in publishes(client, uri)[0].diagnostics]


@pytest.mark.parametrize("capabilities", ["visual-studio-code", "neovim"])
async def test_a_rejection_from_the_last_session_is_back_when_the_spec_is_opened(workspace: Path, capabilities: str):
    forget_the_energy_requirement(workspace)
    spec = workspace / "diet.opt.md"
    text = spec.read_text(encoding="utf-8")
    async with session(workspace, capabilities) as first:
        uri = open_doc(first, spec)
        await wait_published(first, uri)
        assert (await run_on_save(first, uri)).message == "rejected"
        live = await wait_for_code(first, uri, "NEMO401")
        live_codes = codes(first, uri)
        live_summary = await summary_lens(first, uri, text)
    assert live_summary is not None and " · rejected · " in live_summary

    async with session(workspace, capabilities) as second:
        uri = open_doc(second, spec)
        await wait_published(second, uri)
        # the first publish after opening already has the run's findings: no save, no run
        assert first_publish_codes(second, uri) == live_codes
        assert second.progress_reports == {}
        restored = with_code(second, uri, "NEMO401")[0]
        assert (restored.range, restored.message, restored.severity) == (live.range, live.message, live.severity)
        assert restored.range.start.line == position(text, "energy_need:").line
        assert await summary_lens(second, uri, text) == live_summary.replace(" · rejected · ",
                                                                              " · rejected (last run) · ")
        if capabilities == "visual-studio-code":
            assert getattr(second, "lens_refreshes", 0) >= 1
        # the restored finding is a finding like any other: its fixes are offered
        titles = [a.title for a in await code_actions(second, uri, restored.range, [restored])]
        assert any(t.startswith("Repair the optimizer") for t in titles)

        # a new run replaces it
        assert (await run_on_save(second, uri)).message == "rejected"
        summary = await summary_lens(second, uri, text)
        assert summary is not None and " · rejected · " in summary and "last run" not in summary


async def test_the_stored_report_records_the_text_the_run_analysed(workspace: Path):
    spec = workspace / "diet.opt.md"
    nemo_solve(spec)
    stored = load_report(workspace / REPORT)
    assert stored is not None and stored.spec_sha256 == text_sha256(spec.read_text(encoding="utf-8"))


async def test_a_report_of_a_spec_changed_on_disk_since_is_not_restored(workspace: Path):
    forget_the_energy_requirement(workspace)
    spec = workspace / "diet.opt.md"
    nemo_solve(spec)  # rejected, with NEMO401
    changed = replaced(spec.read_text(encoding="utf-8"), "at least 55 g of protein", "at least 56 g of protein")
    write_spec(workspace, "diet.opt.md", changed)

    async with session(workspace) as client:
        uri = open_doc(client, spec)
        await wait_published(client, uri)
        assert first_publish_codes(client, uri) == []
        assert await summary_lens(client, uri, changed) is None
        assert await run_lens_titles(client, uri) == ["▶ Solve"]

        # the same text as the run's comes back (say, the user undoes the change): it is restored
        # on the next open, like any open
        count = len(publishes(client, uri))
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        await wait_until(lambda: len(publishes(client, uri)) > count, "the close to clear the diagnostics")
        count = len(publishes(client, uri))
        write_spec(workspace, "diet.opt.md", example_text("diet.opt.md"))
        uri = open_doc(client, spec)
        await wait_until(lambda: len(publishes(client, uri)) > count, "the reopened spec's lint")
        assert "NEMO401" in [str(d.code) for d in publishes(client, uri)[count].diagnostics]


async def test_a_run_of_unsaved_text_is_restored_only_for_that_text(workspace: Path):
    spec = workspace / "diet.opt.md"
    on_disk = spec.read_text(encoding="utf-8")
    unsaved = replaced(on_disk, "objective: 97", "objective: 98")  # makes the run report NEMO406
    async with session(workspace) as first:
        uri = open_doc(first, spec, unsaved)
        await wait_published(first, uri)
        before = list(first.progress_reports)
        await execute(first, types.Command(title="solve", command="nemo.solve", arguments=[uri]))
        await wait_progress_end(first, await wait_new_progress(first, before))
        await wait_for_code(first, uri, "NEMO406")
    assert spec.read_text(encoding="utf-8") == on_disk  # never saved

    async with session(workspace) as second:
        uri = open_doc(second, spec)  # the text on disk: not what the run analysed
        await wait_published(second, uri)
        assert first_publish_codes(second, uri) == []
    async with session(workspace) as third:
        uri = open_doc(third, spec, unsaved)  # the editor restores the unsaved buffer (hot exit)
        await wait_published(third, uri)
        assert "NEMO406" in first_publish_codes(third, uri)


async def test_typing_after_a_restore_keeps_the_findings_until_the_next_run(workspace: Path):
    forget_the_energy_requirement(workspace)
    spec = workspace / "diet.opt.md"
    nemo_solve(spec)
    text = spec.read_text(encoding="utf-8")
    async with session(workspace) as client:
        uri = open_doc(client, spec)
        await wait_for_code(client, uri, "NEMO401")

        # one line more above the model: the restored finding follows its constraint, as a live one does
        at = position(text, "expect:")
        edit(client, uri, 2, types.Range(start=at, end=at), "time_limt: 30\n")
        text = replaced(text, "expect:", "time_limt: 30\nexpect:")
        await wait_for_code(client, uri, "NEMO103")
        kept = with_code(client, uri, "NEMO401")
        assert kept, "a re-lint dropped the restored finding"
        assert kept[0].range.start.line == position(text, "energy_need:").line
        assert "(last run)" in (await summary_lens(client, uri, text) or "")


CORRUPT = {
    "truncated": None,  # the real report cut in half
    "not JSON": "this is not a report\n",
    "binary": b"\x00\xff\xfe{",
    "another program's JSON": json.dumps({"hello": "world"}),
    "wrong types under the right hash": None,
    "deeply nested": "[" * 100_000,
}


@pytest.mark.parametrize("damage", list(CORRUPT))
async def test_a_corrupt_stored_report_is_ignored_quietly(workspace: Path, damage: str, capfd: pytest.CaptureFixture):
    spec = workspace / "diet.opt.md"
    nemo_solve(spec)
    path = workspace / REPORT
    good = path.read_text(encoding="utf-8")
    if damage == "truncated":
        path.write_text(good[:len(good) // 2], encoding="utf-8")
    elif damage == "wrong types under the right hash":
        data = json.loads(good)
        data["findings"] = [{"code": "NEMO401", "severity": "fatal", "message": 3, "span": {"line": "x"}}]
        path.write_text(json.dumps(data), encoding="utf-8")
    else:
        value = CORRUPT[damage]
        path.write_bytes(value if isinstance(value, bytes) else value.encode("utf-8"))
    capfd.readouterr()

    async with session(workspace) as client:
        uri = open_doc(client, spec)
        await wait_published(client, uri)
        assert first_publish_codes(client, uri) == []
        assert await run_lens_titles(client, uri) == ["▶ Solve"]
        # a save runs as usual and replaces the damaged file
        assert (await run_on_save(client, uri)).message == "validated"
        assert client.messages == []
        assert [m.message for m in client.log_messages if m.type in (types.MessageType.Error,
                                                                         types.MessageType.Warning)] == []
    assert load_report(path) is not None
    err = capfd.readouterr().err
    assert "Traceback" not in err and "report.json" not in err
