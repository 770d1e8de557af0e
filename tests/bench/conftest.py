"""A reference run of the 20 problems with the scripted agent, shared by the tests that compare with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench import support


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from nemo_lsp.bench.cli import main

    out = tmp_path_factory.mktemp("bench") / "reference"
    assert main(support.bench_argv(out, "--workers", "2")) == 0
    return out
