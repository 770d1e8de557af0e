"""A real language-server process driven by pytest-lsp's real JSON-RPC client."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Union

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def fix_code_action_union(client: LanguageClient) -> None:
    """lsprotocol structures anything with a "command" key as Command; CodeActions have one too."""
    conv = client.protocol._converter
    conv.register_structure_hook(
        Union[types.Command, types.CodeAction],
        lambda o, _: conv.structure(o, types.Command if isinstance(o.get("command"), str) else types.CodeAction))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    for name in ("diet.opt.md", "production-planning.opt.md", "transportation.opt.md"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path


def make_client(capabilities: str):
    @pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "nemo_lsp"]))
    async def client(lsp_client: LanguageClient, workspace: Path):
        fix_code_action_union(lsp_client)

        @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
        def _apply(params: types.ApplyWorkspaceEditParams):
            return types.ApplyWorkspaceEditResult(applied=True)

        @lsp_client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
        def _refresh(params: None):
            lsp_client.lens_refreshes = getattr(lsp_client, "lens_refreshes", 0) + 1
            return None

        await lsp_client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities(capabilities), root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
            initialization_options={"nemo": {"lintDelayMs": 20}}))
        yield
        await lsp_client.shutdown_session()
    return client


client = make_client("visual-studio-code")
nvim_client = make_client("neovim")
