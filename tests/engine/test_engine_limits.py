"""Resource limits on generated code, through the engine with short limits so the tests stay fast."""

from __future__ import annotations

import time
from pathlib import Path

from nemo_lsp.engine import Settings

from .engine_support import BASE_SPEC, TITLE, copy_example, edit, line_of, only, optimizer_of, solve


def test_hanging_optimizer_is_stopped_with_nemo303(tmp_path: Path) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)
    assert solve(spec).ok
    edit(optimizer_of(spec), "def build_model(data):\n", "def build_model(data):\n    while True:\n        pass\n")

    started = time.monotonic()
    report = solve(spec, base=Settings(time_limit=1, startup_seconds=2))
    elapsed = time.monotonic() - started

    assert elapsed < 20, f"the hang was stopped only after {elapsed:.1f} s"
    assert report.outcome == "rejected"
    assert report.exit_code == 1
    f = only(report, "NEMO303")
    assert f.is_error
    assert f.span is not None and f.span.line + 1 == line_of(spec, TITLE)
    assert "time limit" in f.message
    assert "NEMO301" not in [g.code for g in report.findings]
    assert report.generated["optimizer"] == "user-edited (kept)"
