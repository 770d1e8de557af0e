"""The simulator gate and the falsification probe behind the language server: their findings after a save."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_lsp import LanguageClient

from tests.agents import support

from .conftest import fresh_subfolder, shared_client
from .lsp_support import line_of, open_doc, run_on_save, wait_for_code

pytestmark = pytest.mark.asyncio(loop_scope="module")
client, workspace = shared_client, fresh_subfolder

from tests.agents.support import CAPPED, CHECK, JUDGE, NO_LABOUR, RIGHT  # noqa: E402


def scripted_spec(folder: Path, optimizer: str, simulator: str, front: str = "") -> tuple[Path, str]:
    canned = folder / "canned"
    canned.mkdir()
    (canned / "optimizer.py").write_text(optimizer, encoding="utf-8")
    (canned / "simulator.py").write_text(simulator, encoding="utf-8")
    spec = support.furniture(folder, f"agent: scripted\nagent_options:\n  base_url: {canned}\nrepair_rounds: 0\n"
                                     f"{front}")
    return spec, spec.read_text(encoding="utf-8")


async def test_a_simulator_failing_a_check_is_nemo411_on_the_checks_line_after_a_save(
        client: LanguageClient, workspace: Path):
    spec, text = scripted_spec(workspace, RIGHT, NO_LABOUR, CHECK)
    uri = open_doc(client, spec, text)
    end = await run_on_save(client, uri)
    assert end.message == "rejected"
    d = await wait_for_code(client, uri, "NEMO411")
    assert d.range.start.line == line_of(text, "- name: too much labour")
    assert "`too much labour`" in d.message


async def test_a_suboptimal_answer_is_nemo412_from_the_probe_after_a_save(client: LanguageClient, workspace: Path):
    spec, text = scripted_spec(workspace, CAPPED, JUDGE)
    uri = open_doc(client, spec, text)
    end = await run_on_save(client, uri)
    assert end.message == "rejected"
    d = await wait_for_code(client, uri, "NEMO412")
    assert d.range.start.line == line_of(text, "# Furniture workshop")
    assert "better than 1500 (maximize)" in d.message
