"""`nemo memory list | show | forget | import | export` on real stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from nemo_lsp.memory.store import Store

from .support import example, furniture, seeded


def nemo(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "NEMO_MEMORY"}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "nemo_lsp.cli", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, check=False, timeout=60)


def test_list_shows_one_entry_a_line_and_json_gives_the_fields(tmp_path: Path) -> None:
    seeded(tmp_path / "mem", furniture(), example("diet"))

    text = nemo("memory", "list", "--memory", "mem", cwd=tmp_path)
    rows = json.loads(nemo("memory", "list", "--memory", "mem", "--json", cwd=tmp_path).stdout)

    assert text.returncode == 0
    assert "mem: 2 entries" in text.stdout
    assert any(line.split()[:3] == ["workshop-elsewhere", "Furniture", "workshop"] for line in text.stdout.splitlines())
    assert [r["id"] for r in rows] == ["diet", "workshop-elsewhere"]
    assert rows[1] | {"saved": None} == {"id": "workshop-elsewhere", "title": "Furniture workshop", "agent": "scripted",
                                         "status": None, "objective": 2200.0, "saved": None,
                                         "source": "/elsewhere/furniture.opt.md"}


def test_the_default_folder_is_dot_nemo_memory_here_unless_nemo_memory_says_otherwise(tmp_path: Path) -> None:
    seeded(tmp_path / ".nemo" / "memory", example("diet"))
    seeded(tmp_path / "elsewhere", furniture())
    assert [r["id"] for r in json.loads(nemo("memory", "list", "--json", cwd=tmp_path).stdout)] == ["diet"]
    listed = nemo("memory", "list", "--json", cwd=tmp_path, env={"NEMO_MEMORY": str(tmp_path / "elsewhere")})
    assert [r["id"] for r in json.loads(listed.stdout)] == ["workshop-elsewhere"]


def test_show_prints_the_entry_and_its_files(tmp_path: Path) -> None:
    seeded(tmp_path / "mem", furniture())

    text = nemo("memory", "show", "workshop-elsewhere", "--memory", "mem", cwd=tmp_path)
    data = json.loads(nemo("memory", "show", "workshop-elsewhere", "--memory", "mem", "--json", cwd=tmp_path).stdout)

    assert text.stdout.startswith("workshop-elsewhere: Furniture workshop\n")
    assert "problem     A workshop makes chairs and tables" in text.stdout
    assert Path(data["files"]["optimizer.py"]).read_text() == furniture().optimizer
    assert data["title"] == "Furniture workshop" and data["outcome"]["objective"] == 2200.0


def test_show_and_forget_of_an_unknown_id_fail_with_a_message(tmp_path: Path) -> None:
    seeded(tmp_path / "mem", furniture())
    shown = nemo("memory", "show", "nope", "--memory", "mem", cwd=tmp_path)
    forgot = nemo("memory", "forget", "nope", "--memory", "mem", cwd=tmp_path)
    escape = nemo("memory", "show", "../mem", "--memory", "mem", cwd=tmp_path)
    assert shown.returncode == forgot.returncode == escape.returncode == 1
    assert "no entry `nope`" in shown.stderr and "no entry `nope`" in forgot.stderr
    assert "not an entry id" in escape.stderr and "Traceback" not in escape.stderr


def test_forget_removes_entries(tmp_path: Path) -> None:
    seeded(tmp_path / "mem", furniture(), example("diet"), example("knapsack"))
    done = nemo("memory", "forget", "diet", "knapsack", "--memory", "mem", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.splitlines() == ["forgot diet", "forgot knapsack"]
    assert Store(tmp_path / "mem").ids() == ["workshop-elsewhere"]


def test_export_then_import_carries_entries_to_another_memory(tmp_path: Path) -> None:
    seeded(tmp_path / "mine", furniture(), example("diet"), example("knapsack"))
    seeded(tmp_path / "theirs", example("transportation"))

    exported = nemo("memory", "export", "bundle", "diet", "workshop-elsewhere", "--memory", "mine", cwd=tmp_path)
    imported = nemo("memory", "import", "bundle", "--memory", "theirs", cwd=tmp_path)

    assert exported.returncode == 0 and imported.returncode == 0, exported.stderr + imported.stderr
    assert Store(tmp_path / "bundle").ids() == ["diet", "workshop-elsewhere"]
    theirs = Store(tmp_path / "theirs")
    assert theirs.ids() == ["diet", "transportation", "workshop-elsewhere"]
    assert theirs.load("workshop-elsewhere") == furniture()
    one = nemo("memory", "import", "mine/knapsack", "--memory", "theirs", cwd=tmp_path)
    assert one.returncode == 0 and "knapsack" in theirs.ids()


def test_importing_something_that_is_not_an_entry_is_refused(tmp_path: Path) -> None:
    (tmp_path / "junk" / "half").mkdir(parents=True)
    (tmp_path / "junk" / "half" / "experience.json").write_text("{}")
    done = nemo("memory", "import", "junk", "--memory", "mem", cwd=tmp_path)
    assert done.returncode == 1 and "not a complete memory entry" in done.stderr
    assert Store(tmp_path / "mem").ids() == []
