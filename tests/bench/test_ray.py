"""`--executor ray` on a local cluster of two worker nodes gives the local executor's results.

Skipped when Ray is not installed (`pip install 'nemo-lsp[bench]'`; the `test` extra has it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nemo_lsp.bench.runner import Store
from tests.bench import support

pytest.importorskip("ray")
pytestmark = pytest.mark.slow


def test_ray_and_local_executors_agree(reference_run: Path, tmp_path: Path):
    out = tmp_path / "ray"
    proc = subprocess.run([sys.executable, str(support.HERE / "ray_cluster.py"), *support.bench_argv(out)],
                          cwd=support.ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ray_records = Store(out).records()
    assert support.outcomes(ray_records) == support.outcomes(Store(reference_run).records())
    assert {r["executor"] for r in ray_records} == {"ray"}
    assert len({r["node"] for r in ray_records}) == 2  # both worker nodes took problems
    # the workspace came back from the node that ran it, at the local executor's path
    r = json.loads((out / "results" / "nl4opt-15.json").read_text())
    assert r["workspace"] == "problems/nl4opt-15/run-1"
    assert (out / r["transcripts"] / "repair-1.txt").is_file()
    assert "| **overall** | 20 | 19 | 52.6% (10) | 52.6% (10) | 68.4% (13) | 57.9% (11) |" in proc.stdout
