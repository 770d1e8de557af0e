"""The language server under an editor that misbehaves: random sessions and a save storm.

A real server process driven by pytest-lsp's client (the fixtures of tests/server). Random sequences of
open/change/save/close with random (also out-of-range) ranges, requests at random positions, code
actions and commands on stale diagnostic ids, unknown methods and malformed params: every request is
answered or refused per protocol (a result, or an error that is not an internal error), no handler
fails (the server reports those as `Error in server` messages and in its log), and a final request
still works. A save storm of 100 saves in two seconds ends with diagnostics for the final text and no
process of the cancelled runs left.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import random
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError
from pytest_lsp import LanguageClient

from nemo_lsp.analysis import analyze
from nemo_lsp.server.actions import COMMANDS

from server.conftest import client, init_options, workspace, workspace_files  # noqa: F401 - fixtures
from server.lsp_support import (alive, diagnostics, doc_id, example_text, open_doc, progress_tokens, publishes,
                                  replaced, wait_until)

SEEDS = [7, 2024, random.randrange(1 << 30)]
"""Two fixed sessions and a fresh one each run (its seed is in the test id, to replay a failure)."""
OPS = 180
REQUEST_TIMEOUT = 20.0

# --- a random editor ---------------------------------------------------------------------------------

_JUNK = ["", "\n", "|", "| a | b |\n|---|---|\n| 1 | 2 |\n", "```model\n", "```\n", "Table: foods\n", "é", "😀", "\t",
         "\r\n", "sum(x[f] for f in F)", "  c: x <= ", ": [", "---\n", "\\", "\u200b", "x" * 300]


def _random_text(rng: random.Random) -> str:
    base = example_text(rng.choice(["diet.opt.md", "transportation.opt.md", "production-planning.opt.md"]))
    kind = rng.random()
    if kind < 0.4:
        return base
    if kind < 0.8:
        lines = base.split("\n")
        for _ in range(rng.randint(1, 5)):
            i = rng.randrange(len(lines))
            action = rng.choice(["drop", "dup", "junk"])
            if action == "drop":
                del lines[i]
            elif action == "dup":
                lines.insert(i, lines[i])
            else:
                lines[i] = lines[i][: rng.randint(0, len(lines[i]))] + rng.choice(_JUNK)
            lines = lines or [""]
        return "\n".join(lines)
    return "".join(rng.choice(_JUNK) for _ in range(rng.randint(0, 30)))


def _position(rng: random.Random, text: str) -> types.Position:
    lines = text.split("\n")
    roll = rng.random()
    if roll < 0.7:
        line = rng.randrange(len(lines))
        return types.Position(line=line, character=rng.randint(0, len(lines[line]) + 2))
    if roll < 0.9:
        return types.Position(line=rng.randint(len(lines), len(lines) + 50), character=rng.randint(0, 500))
    return types.Position(line=rng.choice([0, 2**31 - 1, 10**6]), character=rng.choice([2**31 - 1, 10**6, 0]))


def _range(rng: random.Random, text: str) -> types.Range:
    a, b = _position(rng, text), _position(rng, text)
    if rng.random() < 0.8 and (b.line, b.character) < (a.line, a.character):
        a, b = b, a  # mostly well-ordered, sometimes reversed
    return types.Range(start=a, end=b)


class Editor:
    """Drives one server with random operations; remembers what the documents should hold."""

    def __init__(self, client: LanguageClient, folder: Path, rng: random.Random) -> None:
        self.client, self.rng = client, rng
        (folder / "sub dir").mkdir(exist_ok=True)
        self.uris = [(folder / "diet.opt.md").as_uri(), (folder / "new.opt.md").as_uri(),
                     (folder / "notes.md").as_uri(), (folder / "sub dir" / "ünï cödé.opt.md").as_uri(),
                     "untitled:Untitled-1.opt.md", (folder / "missing" / "gone.opt.md").as_uri()]
        self.open: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.seen: list[types.Diagnostic] = []
        self.log: list[str] = []

    def step(self) -> Any:
        ops = [(self.did_open, 3), (self.did_change, 6), (self.did_save, 1), (self.did_close, 1),
               (self.request, 6), (self.code_action, 3), (self.command, 2), (self.raw, 2)]
        op = self.rng.choices([o for o, _ in ops], weights=[w for _, w in ops])[0]
        return op()

    def _uri(self) -> str:
        if self.open and self.rng.random() < 0.85:
            return self.rng.choice(sorted(self.open))
        return self.rng.choice(self.uris)

    def _version(self, uri: str) -> int:
        v = self.versions[uri] = self.versions.get(uri, 0) + 1
        if self.rng.random() < 0.05:
            return self.rng.choice([0, max(v - 5, 0), 2**31 - 1])  # a stale or absurd version
        return v

    def did_open(self) -> None:
        uri, text = self.rng.choice(self.uris), _random_text(self.rng)
        self.log.append(f"open {uri}")
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="markdown", version=self._version(uri), text=text)))
        self.open[uri] = text

    def did_change(self) -> None:
        uri = self._uri()
        text = self.open.get(uri, "")
        if self.rng.random() < 0.25:
            change: Any = types.TextDocumentContentChangeWholeDocument(text=_random_text(self.rng))
        else:
            change = types.TextDocumentContentChangePartial(range=_range(self.rng, text),
                                                            text=self.rng.choice(_JUNK))
        self.log.append(f"change {uri} {change}")
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self._version(uri)),
            content_changes=[change]))
        if isinstance(change, types.TextDocumentContentChangeWholeDocument) and uri in self.open:
            self.open[uri] = change.text

    def did_save(self) -> None:
        uri = self._uri()
        self.log.append(f"save {uri}")
        self.client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=doc_id(uri)))

    def did_close(self) -> None:
        uri = self._uri()
        self.log.append(f"close {uri}")
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=doc_id(uri)))
        self.open.pop(uri, None)

    async def request(self) -> None:
        uri = self._uri()
        text = self.open.get(uri, "")
        pos = _position(self.rng, text)
        c, d = self.client, doc_id(uri)
        name, call = self.rng.choice([
            ("hover", lambda: c.text_document_hover_async(types.HoverParams(text_document=d, position=pos))),
            ("definition", lambda: c.text_document_definition_async(types.DefinitionParams(text_document=d,
                                                                                           position=pos))),
            ("completion", lambda: c.text_document_completion_async(types.CompletionParams(text_document=d,
                                                                                           position=pos))),
            ("symbols", lambda: c.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=d))),
            ("lens", lambda: c.text_document_code_lens_async(types.CodeLensParams(text_document=d))),
        ])
        self.log.append(f"{name} {uri} {pos}")
        await self.answered(call())

    async def code_action(self) -> None:
        uri = self._uri()
        text = self.open.get(uri, "")
        self.seen.extend(diagnostics(self.client, uri))
        diags = self.rng.sample(self.seen, min(len(self.seen), self.rng.randint(0, 3)))
        for d in diags:
            if self.rng.random() < 0.3:  # a stale or forged finding id
                d.data = self.rng.choice([{"id": "999:0"}, {"id": None}, {"id": 5}, "text", None, [1, 2],
                                          {"id": "0:0", "fixes": ["nope"]}])
        only = self.rng.choice([None, [types.CodeActionKind.QuickFix], ["source"], [""]])
        self.log.append(f"codeAction {uri}")
        await self.answered(self.client.text_document_code_action_async(types.CodeActionParams(
            text_document=doc_id(uri), range=_range(self.rng, text),
            context=types.CodeActionContext(diagnostics=diags, only=only))))

    async def command(self) -> None:
        name = self.rng.choice([*COMMANDS.values(), "nemo.nope"])
        args = self.rng.choice([[], [None], [123], [self._uri()], [self._uri(), "999:1"], ["not a uri"],
                                [{"uri": self._uri()}], ["file:///nonexistent/x.opt.md"], [self._uri(), None, 5]])
        if name in (COMMANDS["solve"], COMMANDS["regenerate"]) and self.rng.random() < 0.7:
            name = COMMANDS["show_report"]  # runs are exercised by saves; keep them few
        self.log.append(f"command {name} {args}")
        await self.answered(self.client.workspace_execute_command_async(types.ExecuteCommandParams(
            command=name, arguments=args)))

    async def raw(self) -> None:
        """Messages a typed client cannot produce: unknown methods and malformed params."""
        uri = self._uri()
        kind = self.rng.randrange(10)
        self.log.append(f"raw {kind}")
        if kind == 0:
            await self.answered(self.raw_request("nemo/doesNotExist", {"x": 1}))
        elif kind == 1:
            await self.answered(self.raw_request("textDocument/hover", {"textDocument": 5, "position": "x"}))
        elif kind == 2:
            await self.answered(self.raw_request("textDocument/codeAction", {"textDocument": {"uri": uri}}))
        elif kind == 3:
            await self.answered(self.raw_request("workspace/executeCommand", {"command": 42}))
        elif kind == 4:
            await self.answered(self.raw_request("textDocument/documentSymbol", None))
        elif kind == 5:
            self.raw_notify("textDocument/didChange", {"textDocument": {"uri": uri}, "contentChanges": "nope"})
        elif kind == 6:
            self.raw_notify("textDocument/didOpen", {"textDocument": {"uri": uri}})
        elif kind == 7:
            self.raw_notify("$/cancelRequest", {"id": self.rng.randint(0, 10**6)})
        elif kind == 8:
            self.raw_notify("workspace/didChangeConfiguration", {"settings": self.rng.choice([
                None, 5, {"nemo": {"timeLimit": "soon", "lintDelayMs": -3, "memoryLimit": 10**30}},
                {"nemo": {"runOnSave": "maybe", "lintBudget": [1]}}, {"nemo": None}])})
        else:
            self.raw_notify("nemo/unknownNotification", {"a": [1, 2, 3]})

    def raw_request(self, method: str, params: Any) -> Any:
        """Send a request as plain JSON (the typed client would refuse malformed params)."""
        p = self.client.protocol
        msg_id = str(uuid.uuid4())
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        p._request_futures[msg_id] = future
        p._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return asyncio.wrap_future(future)

    def raw_notify(self, method: str, params: Any) -> None:
        self.client.protocol._send_data({"jsonrpc": "2.0", "method": method, "params": params})

    async def answered(self, request: Any) -> None:
        """A request must be answered: a result, or an error response other than an internal error."""
        try:
            await asyncio.wait_for(request, REQUEST_TIMEOUT)
        except JsonRpcInternalError as exc:
            raise AssertionError(f"internal error answering {self.log[-1]}: {exc}") from exc
        except JsonRpcException:
            pass  # invalid params, method not found, request cancelled: answered per protocol
        except asyncio.TimeoutError as exc:
            raise AssertionError(f"no answer within {REQUEST_TIMEOUT:g} s to {self.log[-1]}") from exc


def server_errors(client: LanguageClient, log: str) -> list[str]:
    """What the server reported about its own failures: `Error in server` messages (a notification's
    handler raised) and errors nemo logged (a background lint or run failed). Requests that fail are
    caught by Editor.answered; pygls also logs the errors it answers with, which are not failures."""
    shown = [m.message for m in client.messages if m.message.startswith("Error in server")]
    logged = [line for line in log.splitlines() if re.search(r"\bERROR nemo_lsp", line)]
    return shown + logged


async def still_works(client: LanguageClient, folder: Path) -> None:
    """A fresh document is linted and answered, so the server is alive and its loop is free."""
    uri = open_doc(client, folder / "transportation.opt.md", version=10**6)
    await wait_until(lambda: uri in client.diagnostics and publishes(client, uri), "diagnostics for a fresh open")
    result = await asyncio.wait_for(client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc_id(uri))), REQUEST_TIMEOUT)
    assert result, "no document symbols for transportation.opt.md"


def run_processes(folder: Path) -> list[int]:
    """Live processes of runs in `folder` (the sandbox's bwrap and prlimit command lines name the run folder)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
        except OSError:
            continue
        if str(folder).encode() + b"/.nemo/" in cmdline and alive(int(entry)):
            found.append(int(entry))
    return found


# --- the tests ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
async def test_a_random_editor_session_leaves_the_server_answering(client: LanguageClient, workspace: Path,
                                                                   seed: int, capfd: pytest.CaptureFixture[str]):
    editor = Editor(client, workspace, random.Random(seed))
    for _ in range(OPS):
        outcome = editor.step()
        if asyncio.iscoroutine(outcome):
            await outcome
        if editor.rng.random() < 0.1:
            await asyncio.sleep(0.02)  # let debounced lints and runs start in between
    await still_works(client, workspace)
    errors = server_errors(client, capfd.readouterr().err)
    assert not errors, f"seed {seed}: the server failed: {errors[:5]}\nlast operations: {editor.log[-10:]}"
    for uri in editor.uris:
        client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=doc_id(uri)))
    await wait_until(lambda: not run_processes(workspace), "the runs' processes to end", timeout=15)


STORM = 100


def _storm_text(base: str, k: int) -> str:
    """The diet spec expecting objective 1000 + k, so each saved text's run says which text it ran on;
    every seventh text also has an undefined name (a lint error: no run)."""
    text = replaced(base, "objective: 97", f"objective: {1000 + k}")
    return replaced(text, ">= min_protein", ">= min_protien") if k % 7 == 3 else text


async def test_a_save_storm_ends_with_the_final_text_s_diagnostics_and_no_orphans(client: LanguageClient,
                                                                                  workspace: Path,
                                                                                  capfd: pytest.CaptureFixture[str]):
    base = example_text("diet.opt.md")
    path = workspace / "diet.opt.md"
    uri = open_doc(client, path, base)
    await wait_until(lambda: uri in client.diagnostics, "the first lint")
    before = progress_tokens(client)

    started = time.monotonic()
    for k in range(STORM):
        text = _storm_text(base, k)
        path.write_text(text, encoding="utf-8")  # what an editor does on save
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=k + 2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=doc_id(uri)))
        await asyncio.sleep(max(0.0, started + (k + 1) * 2.0 / STORM - time.monotonic()))
    storm = time.monotonic() - started
    assert storm < 3.0, f"the storm took {storm:.1f} s"
    final = _storm_text(base, STORM - 1)
    expected = f"differs from the expected {1000 + STORM - 1}"

    def settled() -> bool:
        runs = [t for t in progress_tokens(client) if t not in before
                and any(isinstance(v, types.WorkDoneProgressBegin) for v in client.progress_reports[t])]
        ended = all(any(isinstance(v, types.WorkDoneProgressEnd) for v in client.progress_reports[t]) for t in runs)
        return bool(runs) and ended and any(expected in d.message for d in diagnostics(client, uri))

    await wait_until(settled, "the last run of the storm to be published", timeout=60)
    await wait_until(lambda: not run_processes(workspace), "the storm's runs' processes to end", timeout=10)

    lint = analyze(final)
    published = diagnostics(client, uri)
    run_codes = {"NEMO202", "NEMO308", "NEMO406"}
    assert sorted(d.code for d in published if d.code not in run_codes) == sorted(f.code for f in lint.findings)
    nemo406 = [d.message for d in published if d.code == "NEMO406"]
    assert len(nemo406) == 1 and expected in nemo406[0], nemo406
    assert "NEMO124" not in {d.code for d in published}
    ends = [v for t in progress_tokens(client) if t not in before for v in client.progress_reports[t]
            if isinstance(v, types.WorkDoneProgressEnd)]
    assert sum(e.message == "cancelled" for e in ends) >= 1, [e.message for e in ends]
    assert not server_errors(client, capfd.readouterr().err)
    await still_works(client, workspace)


# --- what the random sessions found, as plain tests ----------------------------------------------------

async def test_a_malformed_request_is_answered_with_invalid_params(client: LanguageClient, workspace: Path):
    """pygls raised while reading it and never answered: the client waited forever."""
    editor = Editor(client, workspace, random.Random(0))
    with pytest.raises(JsonRpcException) as info:
        await asyncio.wait_for(editor.raw_request("textDocument/hover", {"textDocument": 5}), REQUEST_TIMEOUT)
    assert info.value.code == types.ErrorCodes.InvalidParams
    editor.raw_notify("textDocument/didOpen", {"textDocument": {"uri": 5}})  # dropped, with a warning in the log
    await still_works(client, workspace)
    assert not [m for m in client.messages if m.message.startswith("Error in server")]


async def test_a_change_to_a_document_that_is_not_open_is_ignored(client: LanguageClient, workspace: Path):
    """pygls applied it with a KeyError, which the user saw as an "Error in server" pop-up."""
    uri = (workspace / "never-opened.opt.md").as_uri()
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text="# x\n")]))
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=doc_id(uri)))
    await still_works(client, workspace)
    assert not [m for m in client.messages if m.message.startswith("Error in server")]


async def test_a_spec_whose_path_has_spaces_and_accents_is_linted(client: LanguageClient, workspace: Path):
    """Editors percent-encode such URIs (`sub%20dir`); pygls keys open documents by the decoded URI, so
    the server took the document for closed and linted nothing."""
    folder = workspace / "my specs" / "été"
    folder.mkdir(parents=True)
    text = replaced(example_text("diet.opt.md"), ">= min_protein", ">= min_protien")
    uri = open_doc(client, folder / "diet copy.opt.md", text)
    assert "%20" in uri
    await wait_until(lambda: any(d.code == "NEMO124" for d in diagnostics(client, uri)),
                     "NEMO124 on the spec with spaces in its path")
