from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient


def open_doc(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="markdown", version=version, text=text if text is not None else path.read_text())))
    return uri


async def test_smoke(client: LanguageClient, workspace: Path):
    uri = open_doc(client, workspace / "production-planning.opt.md",
                   (workspace / "production-planning.opt.md").read_text().replace("if t > 1 else", "if t >= 1 else"))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    print(client.diagnostics[uri])
    assert client.diagnostics[uri]


async def test_save_runs(client: LanguageClient, workspace: Path):
    uri = open_doc(client, workspace / "diet.opt.md")
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    print(client.diagnostics[uri])
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    print([l.command.title for l in lenses])
    print(client.progress_reports)
    acts = await client.text_document_code_action_async(types.CodeActionParams(text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=types.Position(line=0,character=0), end=types.Position(line=0,character=0)), context=types.CodeActionContext(diagnostics=[])))
    print([a.title for a in acts])
    h = await client.text_document_hover_async(types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=53, character=5)))
    print(h)
