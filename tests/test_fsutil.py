"""Files nemo writes are replaced atomically and keep sensible permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from nemo_lsp.fsutil import atomic_write


def test_new_file_gets_the_umask_permissions_not_0600(tmp_path: Path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "plan.optimizer.py", "x = 1\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "plan.optimizer.py").stat().st_mode) == 0o644


def test_rewrite_keeps_the_existing_permissions(tmp_path: Path):
    target = tmp_path / "run.sh"
    target.write_text("old")
    target.chmod(0o750)
    atomic_write(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o750


def test_no_temporary_file_is_left_behind(tmp_path: Path):
    atomic_write(tmp_path / "a.json", "{}")
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
