"""Backups made by `--regenerate` never overwrite one another.

The generation stage is driven directly (real formal agent, real files, no execution) so that two
regenerations happen within the same second, as they do when a user regenerates, edits and
regenerates again quickly, or when the editor runs on save.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from nemo_lsp.agents import get_agent
from nemo_lsp.analysis import analyze
from nemo_lsp.engine.generate import ensure_generated, inputs_hash, load_manifest, save_manifest
from nemo_lsp.engine.layout import Layout

from .engine_support import BASE_SPEC, copy_example, optimizer_of


def generate_optimizer(spec: Path, regenerate: bool) -> str:
    analysis = analyze(spec.read_text(encoding="utf-8"))
    agent = get_agent("formal")
    layout = Layout(spec.resolve())
    layout.root.mkdir(parents=True, exist_ok=True)
    data_json = json.dumps(analysis.data_json(), sort_keys=True, separators=(",", ":"))
    layout.data.write_text(data_json, encoding="utf-8")
    manifest = load_manifest(layout)
    generated = asyncio.run(ensure_generated("optimizer", analysis, agent, layout,
                                             inputs_hash(analysis, data_json, agent), manifest, regenerate))
    save_manifest(layout, manifest)
    return generated.state


def test_regenerating_twice_in_one_second_keeps_both_backups(tmp_path: Path) -> None:
    spec = copy_example(BASE_SPEC, tmp_path)
    module = optimizer_of(spec)
    assert generate_optimizer(spec, regenerate=False) == "generated"
    fresh = module.read_text(encoding="utf-8")

    edits = []
    for k in range(2):
        module.write_text(fresh + f"\n# my edit number {k}\n", encoding="utf-8")
        edits.append(module.read_text(encoding="utf-8"))
        assert generate_optimizer(spec, regenerate=True) == "generated"
        assert module.read_text(encoding="utf-8") == fresh

    backups = sorted((tmp_path / ".nemo" / "production-mix" / "backups").iterdir())
    assert sorted(b.read_text(encoding="utf-8") for b in backups) == sorted(edits), \
        f"backups: {[b.name for b in backups]}"
