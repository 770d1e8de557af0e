"""Shared pieces for the memory tests: real problems (the examples' specs and modules) as entries."""

from __future__ import annotations

from pathlib import Path

from nemo_lsp.memory.store import Experience, Store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CANNED = ROOT / "tests" / "agents" / "canned" / "furniture"
FURNITURE = EXAMPLES / "prose" / "furniture.opt.md"


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def example(name: str, entry: str | None = None, title: str | None = None) -> Experience:
    """An example of the repository (with its generated modules) as a memory entry."""
    spec = EXAMPLES / f"{name}.opt.md"
    return Experience(entry or name, title or name, read(spec), module(name, "optimizer"), module(name, "simulator"),
                      None,
                      {"agent": "formal", "source": str(spec), "outcome": {"outcome": "validated"}})


def module(name: str, role: str) -> str:
    """The example's generated module when the repository has it, else a stand-in (retrieval never runs it)."""
    path = EXAMPLES / f"{name}.{role}.py"
    return read(path) if path.is_file() else f"# the {role} of {name}\n"


def furniture(entry: str = "workshop-elsewhere", title: str = "Furniture workshop") -> Experience:
    """The prose-only furniture problem with the canned (validated) modules, solved in another project."""
    return Experience(entry, title, read(FURNITURE), read(CANNED / "optimizer.py"), read(CANNED / "simulator.py"),
                      None, {"agent": "scripted", "source": "/elsewhere/furniture.opt.md",
                             "outcome": {"outcome": "validated", "objective": 2200.0}})


def seeded(folder: Path, *entries: Experience) -> Store:
    store = Store(folder)
    for e in entries:
        store.save(e)
    return store
