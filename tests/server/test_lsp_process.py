"""The server process itself: no solver stack in it, nothing but protocol on its stdout."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from lsprotocol import types
from pytest_lsp import client_capabilities
from pytest_lsp.client import make_test_lsp_client

from .lsp_support import EXAMPLES, open_doc, run_on_save, wait_published

SOLVER_STACK = ("pyomo", "highspy")


def test_importing_the_server_loads_no_solver_stack():
    script = ("import sys, nemo_lsp.server.server, nemo_lsp.server.main\n"
              f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {SOLVER_STACK!r})\n"
              "print(','.join(loaded))\n")

    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)

    assert result.stdout.strip() == ""


async def test_a_whole_session_with_a_run_never_imports_the_solver_stack_in_the_server(tmp_path: Path):
    """The server runs under `-X importtime` (every import it makes goes to its stderr) through a
    session that lints, solves and reports; the solver runs in the sandbox's processes only."""
    spec = tmp_path / "diet.opt.md"
    shutil.copyfile(EXAMPLES / "diet.opt.md", spec)
    imports = tmp_path / "imports.txt"
    client = make_test_lsp_client()
    await client.start_io("sh", "-c", 'exec "$0" -X importtime -m nemo_lsp 2>"$1"', sys.executable, str(imports))
    try:
        await client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), root_uri=tmp_path.as_uri(),
            initialization_options={"nemo": {"lintDelayMs": 20}}))
        uri = open_doc(client, spec)
        await wait_published(client, uri)
        end = await run_on_save(client, uri)
        assert end.message == "validated"
        await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=0)))
        await client.shutdown_session()
    finally:
        await client.stop()

    lines = imports.read_text(encoding="utf-8").splitlines()
    modules = [line.rsplit("|", 1)[-1].strip() for line in lines if line.startswith("import time:")]
    assert "nemo_lsp.server.server" in modules  # the log is the server's
    assert [m for m in modules if m.split(".")[0] in SOLVER_STACK] == []
