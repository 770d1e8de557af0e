"""Helpers for the end-to-end language-server tests: documents, edits, waits with deadlines, processes.

Every wait here polls the client's recorded state (or awaits a notification) until a deadline; none
sleeps a fixed time in the hope that something has happened by then.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pytest_lsp import LanguageClient

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
DEADLINE = 20.0
"""Seconds any one wait may take; a real solve here takes about one second."""

T = TypeVar("T")


# --- documents -------------------------------------------------------------------------------------

def example_text(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


def replaced(text: str, old: str, new: str) -> str:
    """`text` with `old` (which must occur) replaced once by `new`."""
    assert old in text, f"{old!r} not in the text"
    return text.replace(old, new, 1)


def write_spec(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def open_doc(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    """didOpen `path` with `text` (default: its content on disk); returns its URI."""
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="markdown", version=version,
        text=text if text is not None else path.read_text(encoding="utf-8"))))
    return uri


def doc_id(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


def save(client: LanguageClient, uri: str) -> None:
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=doc_id(uri)))


def edit(client: LanguageClient, uri: str, version: int, rng: types.Range, new_text: str) -> None:
    """One incremental didChange replacing `rng` by `new_text`."""
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(range=rng, text=new_text)]))


# --- positions -------------------------------------------------------------------------------------

def encoding_of(client: LanguageClient) -> str:
    """The position encoding the server chose for this client (UTF-16 unless negotiated otherwise)."""
    result: types.InitializeResult | None = getattr(client, "init_result", None)
    chosen = result.capabilities.position_encoding if result is not None else None
    return str(chosen.value if hasattr(chosen, "value") else chosen or "utf-16")


def units(text: str, encoding: str) -> int:
    """Length of `text` in the client's code units."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def position(text: str, fragment: str, encoding: str = "utf-16", nth: int = 0, offset: int = 0) -> types.Position:
    """Where the `nth` occurrence of `fragment` (plus `offset` code points) starts, in client units."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(fragment, at + 1)
    return position_at(text, at + offset, encoding)


def position_at(text: str, index: int, encoding: str = "utf-16") -> types.Position:
    """The position of the code point at `index` of `text`, in client units."""
    line_start = text.rfind("\n", 0, index) + 1
    return types.Position(line=text.count("\n", 0, index), character=units(text[line_start:index], encoding))


def span_of(text: str, fragment: str, encoding: str = "utf-16", nth: int = 0) -> types.Range:
    """The range the `nth` occurrence of `fragment` covers (single line)."""
    start = position(text, fragment, encoding, nth)
    return types.Range(start=start, end=types.Position(line=start.line,
                                                       character=start.character + units(fragment, encoding)))


def line_of(text: str, fragment: str) -> int:
    """0-based line of the first line containing `fragment`."""
    return position(text, fragment).line


def apply_edits(text: str, edits: Sequence[types.TextEdit], encoding: str = "utf-16") -> str:
    """Apply text edits (as a client would) to `text`."""
    lines = text.split("\n")

    def offset(p: types.Position) -> int:
        before = sum(len(line) + 1 for line in lines[:p.line])
        line = lines[p.line] if p.line < len(lines) else ""
        col, used = 0, 0
        while col < len(line) and used < p.character:
            used += units(line[col], encoding)
            col += 1
        return before + col

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
        lines = text.split("\n")
    return text


# --- waiting -----------------------------------------------------------------------------------------

async def wait_until(predicate: Callable[[], T], what: str, timeout: float = DEADLINE) -> T:
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.02)


def next_notification(client: LanguageClient, method: str) -> asyncio.Future[Any]:
    """A future for the next `method` notification, registered now (before the action that causes it)."""
    return client.protocol.wait_for_notification_async(method)


async def save_and_lint(client: LanguageClient, uri: str, timeout: float = DEADLINE) -> None:
    """Save `uri` and wait for the lint that every save publishes.

    A run, when one starts on save, asks for its progress token before that lint is published, so
    once this returns a run that has not begun its progress was never started.
    """
    published = next_notification(client, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    save(client, uri)
    await asyncio.wait_for(published, timeout)


def publishes(client: LanguageClient, uri: str) -> list[types.PublishDiagnosticsParams]:
    """Every publishDiagnostics received for `uri`, oldest first."""
    return [p for p in client.published if p.uri == uri]


def diagnostics(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    return list(client.diagnostics.get(uri, ()))


def codes(client: LanguageClient, uri: str) -> list[str]:
    return [str(d.code) for d in diagnostics(client, uri)]


def with_code(client: LanguageClient, uri: str, code: str) -> list[types.Diagnostic]:
    return [d for d in diagnostics(client, uri) if d.code == code]


async def wait_for_code(client: LanguageClient, uri: str, code: str, timeout: float = DEADLINE) -> types.Diagnostic:
    found = await wait_until(lambda: with_code(client, uri, code),
                             f"{code} on {uri.rsplit('/', 1)[-1]} (have {codes(client, uri)})", timeout)
    return found[0]


async def wait_published(client: LanguageClient, uri: str, timeout: float = DEADLINE) -> list[types.Diagnostic]:
    """Wait until diagnostics have been published for `uri` at least once."""
    await wait_until(lambda: uri in client.diagnostics, f"diagnostics for {uri}", timeout)
    return diagnostics(client, uri)


# --- progress ----------------------------------------------------------------------------------------

def progress_tokens(client: LanguageClient) -> list[Any]:
    return list(client.progress_reports)


def begun(client: LanguageClient, token: Any) -> bool:
    return any(isinstance(v, types.WorkDoneProgressBegin) for v in client.progress_reports.get(token, ()))


def ended(client: LanguageClient, token: Any) -> types.WorkDoneProgressEnd | None:
    return next((v for v in client.progress_reports.get(token, ()) if isinstance(v, types.WorkDoneProgressEnd)), None)


async def wait_new_progress(client: LanguageClient, before: Sequence[Any], timeout: float = DEADLINE) -> Any:
    """The token of a progress that began after the tokens in `before` were recorded."""
    def fresh() -> Any:
        return next((t for t in client.progress_reports if t not in before and begun(client, t)), None)

    return await wait_until(fresh, "a work-done progress to begin", timeout)


async def wait_progress_end(client: LanguageClient, token: Any, timeout: float = DEADLINE) -> types.WorkDoneProgressEnd:
    return await wait_until(lambda: ended(client, token), f"progress {token} to end", timeout)


async def run_on_save(client: LanguageClient, uri: str, timeout: float = DEADLINE) -> types.WorkDoneProgressEnd:
    """Save `uri` and wait for the run it starts to finish; returns the progress end."""
    before = progress_tokens(client)
    save(client, uri)
    token = await wait_new_progress(client, before, timeout)
    return await wait_progress_end(client, token, timeout)


# --- requests ----------------------------------------------------------------------------------------

async def code_actions(client: LanguageClient, uri: str, rng: types.Range,
                       diags: Sequence[types.Diagnostic] = ()) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=doc_id(uri), range=rng, context=types.CodeActionContext(diagnostics=list(diags))))
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def lenses(client: LanguageClient, uri: str) -> list[types.CodeLens]:
    return list(await client.text_document_code_lens_async(types.CodeLensParams(text_document=doc_id(uri))) or [])


async def run_lens_titles(client: LanguageClient, uri: str) -> list[str]:
    """The lenses' titles without the problem-class lens over the objective (shown before any run)."""
    return [lens.command.title for lens in await lenses(client, uri) if " · solver " not in lens.command.title
            and "no solver installed" not in lens.command.title]


async def hover(client: LanguageClient, uri: str, pos: types.Position) -> str | None:
    result = await client.text_document_hover_async(types.HoverParams(text_document=doc_id(uri), position=pos))
    if result is None:
        return None
    contents = result.contents
    return contents.value if isinstance(contents, types.MarkupContent) else str(contents)


async def execute(client: LanguageClient, command: types.Command) -> Any:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command.command, arguments=command.arguments))


# --- processes ---------------------------------------------------------------------------------------

def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a zombie has exited; only its entry remains)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return False
    state = stat.rsplit(b")", 1)[-1].split()[0]
    return state not in (b"Z", b"X")


def processes_in(folder: Path) -> list[int]:
    """Live processes whose command line names `folder` or that run there (the sandbox's run folder)."""
    target = str(folder)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        cmdline = _read(f"/proc/{entry}/cmdline").replace(b"\0", b" ").decode("utf-8", "replace")
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            cwd = ""
        if (target in cmdline or cwd == target) and alive(int(entry)):
            found.append(int(entry))
    return found


def copy_example(name: str, folder: Path, as_name: str | None = None) -> Path:
    target = folder / (as_name or name)
    shutil.copyfile(EXAMPLES / name, target)
    return target
