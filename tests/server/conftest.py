"""A real language-server process driven by pytest-lsp's real JSON-RPC client.

`client` has VS Code's capabilities, `nvim_client` Neovim's, and `any_client` runs a test once with
each. By default every test gets its own server and its own `workspace` folder. A module that only
reads (hover, completion, lint of opened documents) can share one server per module instead:

    pytestmark = pytest.mark.asyncio(loop_scope="module")
    client, nvim_client, workspace = shared_client, shared_nvim_client, fresh_subfolder

Each test still gets a fresh `workspace` (a subfolder of the shared root), so no two tests open
the same document.
"""

from __future__ import annotations

import itertools
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Union

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
COPIED_EXAMPLES = ("diet.opt.md", "production-planning.opt.md", "transportation.opt.md")
SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "nemo_lsp"])
DEFAULT_OPTIONS = {"nemo": {"lintDelayMs": 20, "warmWorkers": 0}}
SHARED_OPTIONS = {"nemo": {"lintDelayMs": 20, "watchFiles": False, "warmWorkers": 0}}
"""A shared server does not watch: each test's copied examples would otherwise be linted from disk.
Both run cold (the tests find a run's processes by its folder on their command lines); the warm
pool the server starts by default has its own tests (test_lsp_warm.py)."""


def fix_code_action_union(client: LanguageClient) -> None:
    """lsprotocol structures anything with a "command" key as Command; CodeActions have one too."""
    conv = client.protocol._converter
    conv.register_structure_hook(
        Union[types.Command, types.CodeAction],
        lambda o, _: conv.structure(o, types.Command if isinstance(o.get("command"), str) else types.CodeAction))


def record_publishes(client: LanguageClient) -> None:
    """Keep every publishDiagnostics in `client.published` (pytest-lsp keeps only the latest per URI)."""
    client.published = []
    features = client.protocol.fm._features
    keep_latest = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(params: types.PublishDiagnosticsParams) -> None:
        client.published.append(params)
        keep_latest(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record


def copy_examples(folder: Path, extra: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in COPIED_EXAMPLES:
        shutil.copy(EXAMPLES / name, folder / name)
    for name, text in (extra or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


async def start_session(client: LanguageClient, capabilities: str, root: Path, options: Any) -> None:
    fix_code_action_union(client)
    record_publishes(client)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def _apply(params: types.ApplyWorkspaceEditParams):
        return types.ApplyWorkspaceEditResult(applied=True)

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def _refresh(params: None):
        client.lens_refreshes = getattr(client, "lens_refreshes", 0) + 1
        return None

    client.init_result = await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(capabilities), root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        initialization_options=options))


# --- one server per test ---------------------------------------------------------------------------

@pytest.fixture
def workspace_files(request: pytest.FixtureRequest) -> dict[str, str]:
    """Extra files (name -> text) in the workspace before the server starts (parametrize indirectly)."""
    return getattr(request, "param", {})


@pytest.fixture
def init_options(request: pytest.FixtureRequest) -> dict:
    """The client's initializationOptions (parametrize indirectly to change them)."""
    return getattr(request, "param", DEFAULT_OPTIONS)


@pytest.fixture
def workspace(tmp_path: Path, workspace_files: dict[str, str]) -> Path:
    return copy_examples(tmp_path, workspace_files)


def make_client(capabilities: str):
    @pytest_lsp.fixture(config=SERVER)
    async def client(lsp_client: LanguageClient, workspace: Path, init_options: dict) -> AsyncIterator[None]:
        await start_session(lsp_client, capabilities, workspace, init_options)
        yield
        await lsp_client.shutdown_session()
    return client


client = make_client("visual-studio-code")
nvim_client = make_client("neovim")


@pytest.fixture(params=["client", "nvim_client"], ids=["vscode", "neovim"])
def any_client(request: pytest.FixtureRequest) -> LanguageClient:
    """The same test once with VS Code's capabilities and once with Neovim's."""
    return request.getfixturevalue(request.param)


# --- one server per module (see the module docstring) ----------------------------------------------

@pytest.fixture(scope="module")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shared")


_SUBFOLDERS = itertools.count(1)


@pytest.fixture
def fresh_subfolder(shared_root: Path) -> Path:
    """This test's own folder under the shared server's root, with the examples copied in."""
    return copy_examples(shared_root / f"t{next(_SUBFOLDERS)}")


def make_shared_client(capabilities: str):
    @pytest_lsp.fixture(config=SERVER, scope="module")
    async def client(lsp_client: LanguageClient, shared_root: Path) -> AsyncIterator[None]:
        await start_session(lsp_client, capabilities, shared_root, SHARED_OPTIONS)
        yield
        await lsp_client.shutdown_session()
    return client


shared_client = make_shared_client("visual-studio-code")
shared_nvim_client = make_shared_client("neovim")
