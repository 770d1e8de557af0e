"""Memory through `nemo solve`: validated runs are saved, similar ones come back as examples in the prompts.

The `scripted` agent replays the canned furniture modules (tests/agents/canned/furniture), so the
workspace, the prompts, the sandbox, HiGHS and the simulator are all real.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nemo_lsp.engine import run
from nemo_lsp.memory.store import Store

from .support import CANNED, EXAMPLES, FURNITURE, example, furniture, read, seeded

SEEDED_LINE = "m.labour = pyo.Constraint("
"""A line of the seeded entry's optimizer (the canned one)."""


def nemo(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "NEMO_MEMORY"}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "nemo_lsp.cli", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, check=False, timeout=180)


@pytest.fixture
def canned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The scripted agent's folder: the right optimizer and the simulator."""
    folder = tmp_path / "canned"
    folder.mkdir()
    for name in ("optimizer.py", "simulator.py"):
        shutil.copyfile(CANNED / name, folder / name)
    monkeypatch.setenv("NEMO_SCRIPTED_DIR", str(folder))
    monkeypatch.delenv("NEMO_MEMORY", raising=False)
    return folder


def spec_in(folder: Path, name: str = "furniture", front: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / f"{name}.opt.md"
    body = read(FURNITURE)
    spec.write_text(f"---\n{front}---\n{body}" if front else body, encoding="utf-8")
    return spec


def solve(spec: Path, **overrides):
    return asyncio.run(run(spec, overrides={"agent": "scripted", **overrides}))


def test_a_memory_entry_is_retrieved_into_the_prompts_and_the_report_lists_it(tmp_path: Path, canned: Path) -> None:
    shared = tmp_path / "shared"
    seeded(shared, furniture(), example("diet"), example("transportation"))
    spec = spec_in(tmp_path / "project", "tables", "memory_examples: 1\n")

    done = nemo("solve", str(spec), "--agent", "scripted", "--memory", str(shared), cwd=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    transcripts = spec.parent / ".nemo" / "tables" / "transcripts"
    optimizer_prompt = read(transcripts / "optimizer.txt").split("--- prompt ---", 1)[1]
    simulator_prompt = read(transcripts / "simulator.txt").split("--- prompt ---", 1)[1]
    assert "--- memory entry workshop-elsewhere: Furniture workshop ---" in optimizer_prompt
    assert SEEDED_LINE in optimizer_prompt
    assert "memory entry diet" not in optimizer_prompt  # k = 1: only the most similar
    assert "--- memory entry workshop-elsewhere: Furniture workshop ---" in simulator_prompt
    assert "def simulate(" in simulator_prompt and SEEDED_LINE not in simulator_prompt  # simulators only
    assert ("memory      examples used: workshop-elsewhere (Furniture workshop) for the optimizer and simulator"
            in done.stdout)


def test_the_report_and_the_manifest_record_the_entries_each_module_was_written_with(
        tmp_path: Path, canned: Path) -> None:
    shared = tmp_path / "shared"
    seeded(shared, furniture())
    spec = spec_in(tmp_path / "project", "tables")

    report = solve(spec, memory=str(shared))

    used = report.to_json()["memory"]["used"]
    assert [e["id"] for e in used["optimizer"]] == ["workshop-elsewhere"]
    assert [e["id"] for e in used["simulator"]] == ["workshop-elsewhere"]
    assert used["optimizer"][0]["title"] == "Furniture workshop" and 0 < used["optimizer"][0]["similarity"] <= 1
    manifest = json.loads(read(spec.parent / ".nemo" / "tables" / "manifest.json"))
    assert manifest["files"]["optimizer"]["memory"] == used["optimizer"]

    again = solve(spec, memory=str(shared))  # nothing regenerated: the modules were still made with it
    assert again.generated == {"optimizer": "up to date", "simulator": "up to date"}
    assert again.memory["used"] == report.memory["used"]


def test_a_validated_run_by_a_coding_agent_is_saved_beside_the_spec_by_default(tmp_path: Path, canned: Path) -> None:
    spec = spec_in(tmp_path)

    report = solve(spec)

    assert report.outcome == "validated"
    store = Store(tmp_path / ".nemo" / "memory")
    assert store.ids() == [report.memory["saved"]]
    exp = store.load(report.memory["saved"])
    assert exp.problem == read(spec) and exp.optimizer == read(CANNED / "optimizer.py")
    assert exp.simulator == read(CANNED / "simulator.py")
    assert exp.meta["outcome"]["objective"] == 2200 and exp.meta["agent"] == "scripted"
    assert exp.title == "Furniture workshop"


def test_a_spec_is_never_shown_its_own_entry(tmp_path: Path, canned: Path) -> None:
    spec = spec_in(tmp_path)
    solve(spec)
    report = solve(spec, regenerate=True)
    assert report.memory["used"] == {}
    assert "memory entry" not in read(tmp_path / ".nemo" / "furniture" / "transcripts" / "optimizer.txt")


def test_a_rejected_run_is_never_saved(tmp_path: Path, canned: Path) -> None:
    shutil.copyfile(CANNED / "optimizer_wrong_sense.py", canned / "optimizer.py")
    spec = spec_in(tmp_path, front="repair_rounds: 0\n")

    report = solve(spec)

    assert report.outcome == "rejected"
    assert report.memory["saved"] is None
    assert Store(tmp_path / ".nemo" / "memory").ids() == []


def test_with_memory_off_no_examples_are_shown_and_nothing_is_saved(tmp_path: Path, canned: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    seeded(shared, furniture())
    monkeypatch.setenv("NEMO_MEMORY", str(shared))
    spec = spec_in(tmp_path / "project", "tables", "memory: false\n")

    report = solve(spec)

    assert report.outcome == "validated"
    assert "memory entry" not in read(spec.parent / ".nemo" / "tables" / "transcripts" / "optimizer.txt")
    assert report.memory == {"folder": None, "used": {}, "saved": None, "note": "memory is off"}
    assert Store(shared).ids() == ["workshop-elsewhere"]


def test_two_projects_pointed_at_one_memory_folder_learn_from_each_other(tmp_path: Path, canned: Path) -> None:
    shared = tmp_path / "team-memory"
    first = spec_in(tmp_path / "project-a")
    second = spec_in(tmp_path / "project-b", "workshop")
    env = {"NEMO_MEMORY": str(shared)}

    a = nemo("solve", str(first), "--agent", "scripted", cwd=first.parent, env=env)
    b = nemo("solve", str(second), "--agent", "scripted", cwd=second.parent, env=env)

    assert a.returncode == 0 and b.returncode == 0, a.stdout + b.stdout
    saved_a = json.loads(nemo("memory", "list", "--json", cwd=tmp_path, env=env).stdout)
    ids = [row["id"] for row in saved_a]
    assert len(ids) == 2 and any(i.startswith("furniture-") for i in ids) and any(i.startswith("workshop-") for i in ids)
    first_id = next(i for i in ids if i.startswith("furniture-"))
    prompt = read(second.parent / ".nemo" / "workshop" / "transcripts" / "optimizer.txt")
    assert f"--- memory entry {first_id}: Furniture workshop ---" in prompt
    assert not (first.parent / ".nemo" / "memory").exists() and not (second.parent / ".nemo" / "memory").exists()


def test_the_formal_agent_saves_only_when_asked(tmp_path: Path) -> None:
    shutil.copyfile(EXAMPLES / "diet.opt.md", tmp_path / "diet.opt.md")

    solved = nemo("solve", "diet.opt.md", cwd=tmp_path)
    assert solved.returncode == 0 and "memory" not in solved.stdout.split("files")[1]
    assert not (tmp_path / ".nemo" / "memory").exists()

    saved = nemo("memory", "save", "diet.opt.md", cwd=tmp_path)
    assert saved.returncode == 0, saved.stdout + saved.stderr
    assert "saved as diet-" in saved.stdout
    store = Store(tmp_path / ".nemo" / "memory")
    [entry] = store.ids()
    assert (store.folder / entry / "model.yaml").read_text().startswith("sets:")
    assert store.load(entry).optimizer == read(tmp_path / "diet.optimizer.py")


def test_memory_save_refuses_a_run_that_does_not_validate(tmp_path: Path) -> None:
    shutil.copyfile(EXAMPLES / "infeasible.opt.md", tmp_path / "infeasible.opt.md")
    done = nemo("memory", "save", "infeasible.opt.md", "--memory", "mem", cwd=tmp_path)
    assert done.returncode == 1
    assert "not saved: only a validated run is kept" in done.stderr
    assert Store(tmp_path / "mem").ids() == []
