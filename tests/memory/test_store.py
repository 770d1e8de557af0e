"""The experience store: plain files per entry, replaced whole, never left half written (even by a kill)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from nemo_lsp.fsutil import sha256_bytes
from nemo_lsp.memory.store import META, Experience, Store, StoreError

from .support import ROOT, example, furniture


def test_an_entry_is_a_folder_of_plain_files_and_loads_back_the_same(tmp_path: Path) -> None:
    store = Store(tmp_path / "memory")
    exp = replace(furniture(), model="sets:\n  P: products.product\n")
    assert store.save(exp) is True

    folder = tmp_path / "memory" / exp.id
    assert sorted(p.name for p in folder.iterdir()) == [META, "model.yaml", "optimizer.py", "problem.opt.md",
                                                        "simulator.py"]
    assert (folder / "problem.opt.md").read_text() == exp.problem
    assert (folder / "optimizer.py").read_text() == exp.optimizer
    meta = json.loads((folder / META).read_text())
    assert meta["title"] == "Furniture workshop" and meta["outcome"]["objective"] == 2200.0
    assert meta["manifest"]["files"]["optimizer.py"] == sha256_bytes(exp.optimizer.encode())
    assert store.load(exp.id) == exp
    assert store.ids() == [exp.id]


def test_saving_the_same_content_again_changes_nothing_and_new_content_replaces_the_entry(tmp_path: Path) -> None:
    store = Store(tmp_path)
    exp = furniture()
    store.save(exp)
    assert store.save(replace(exp, meta={**exp.meta, "saved": "later"})) is False

    better = replace(exp, optimizer=exp.optimizer + "\n# tidied\n")
    assert store.save(better) is True
    assert store.load(exp.id).optimizer.endswith("# tidied\n")
    assert store.ids() == [exp.id]
    assert not [n for n in os.listdir(tmp_path) if n.startswith((".tmp-", ".old-"))]


def test_forget_removes_the_entry_and_says_when_there_was_none(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.save(furniture())
    store.save(example("diet"))
    assert store.forget("diet") is True
    assert store.ids() == ["workshop-elsewhere"]
    assert store.forget("diet") is False
    with pytest.raises(StoreError):
        store.forget("../outside")


def test_folders_without_an_experience_file_are_not_entries(tmp_path: Path) -> None:
    """`.nemo/memory/` may also be the run folder of a spec named `memory.opt.md`."""
    (tmp_path / "run").mkdir()
    (tmp_path / "manifest.json").write_text("{}")
    store = Store(tmp_path)
    store.save(example("diet"))
    assert store.ids() == ["diet"]


def test_what_a_killed_writer_left_is_put_right_by_the_next_writer(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.save(example("diet"))
    store.save(furniture())
    # killed between moving the old entry aside and renaming the new one into place
    os.rename(tmp_path / "diet", tmp_path / ".old-diet-4242-17")
    (tmp_path / ".tmp-diet-4242-17").mkdir()
    (tmp_path / ".tmp-diet-4242-17" / "optimizer.py").write_text("half")
    # killed after the new entry arrived, before the old one was deleted
    (tmp_path / ".old-workshop-elsewhere-4242-18").mkdir()
    assert store.ids() == ["workshop-elsewhere"]

    store.save(example("knapsack"))

    assert store.ids() == ["diet", "knapsack", "workshop-elsewhere"]
    assert store.load("diet") == example("diet")
    assert not [n for n in os.listdir(tmp_path) if n.startswith((".tmp-", ".old-", ".trash-"))]


WRITER = """
import sys
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from nemo_lsp.memory.store import Experience, Store
store = Store(Path(sys.argv[1]))
base = Experience("churn", "churn", "problem v0\\n", "optimizer v0\\n", "simulator v0\\n", None, {"v": 0})
n = 0
while True:
    n += 1
    v = n % 2
    store.save(Experience("churn", "churn", f"problem v{v}\\n" * 200, f"optimizer v{v}\\n" * 300,
                          f"simulator v{v}\\n" * 300, None, {"v": v}))
    store.save(Experience(f"extra-{n % 5}", "extra", "p\\n", f"o {n}\\n", "s\\n", None, {}))
    store.forget(f"extra-{(n + 2) % 5}")
"""


def consistent(store: Store) -> None:
    """Every entry is complete: each file the manifest lists is there with the recorded hash."""
    for entry in store.ids():
        meta = store.meta(entry)
        assert meta is not None, entry
        for name, digest in meta["manifest"]["files"].items():
            assert sha256_bytes((store.folder / entry / name).read_bytes()) == digest, (entry, name)
        assert store.load(entry) is not None


def test_a_store_killed_at_random_points_while_saving_stays_consistent(tmp_path: Path) -> None:
    folder = tmp_path / "memory"
    store = Store(folder)
    store.save(Experience("churn", "churn", "problem v0\n", "optimizer v0\n", "simulator v0\n", None, {"v": 0}))
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    for kill in range(12):
        proc = subprocess.Popen([sys.executable, str(script), str(folder), str(ROOT)])
        time.sleep(rng.uniform(0.15, 0.6))  # a random point in the writer's loop, not a timing assertion
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with store.locked():  # the next writer's repair
            pass
        consistent(store)
        churn = store.load("churn")
        assert churn is not None, f"seed {seed}, kill {kill}: the entry was lost"
        v = churn.meta["v"]
        assert churn.optimizer.startswith(f"optimizer v{v}") and churn.problem.startswith(f"problem v{v}"), seed
    assert not [n for n in os.listdir(folder) if n.startswith((".tmp-", ".old-", ".trash-"))]
