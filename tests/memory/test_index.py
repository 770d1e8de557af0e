"""The full-text index is a cache of the entries' files: deleted, damaged or out of date, it is rebuilt."""

from __future__ import annotations

from pathlib import Path

from nemo_lsp.memory.index import INDEX, Index
from nemo_lsp.memory.retrieve import problem_text, terms

from .support import FURNITURE, example, furniture, read, seeded

QUERY = terms(problem_text(read(FURNITURE)))


def test_the_index_is_built_on_first_use_and_ranks_the_similar_problem_first(tmp_path: Path) -> None:
    store = seeded(tmp_path, example("diet"), example("transportation"), furniture())
    assert not (tmp_path / INDEX).exists()
    found = Index(store).candidates(QUERY)
    assert next(iter(found)) == "workshop-elsewhere"
    assert (tmp_path / INDEX).is_file()


def test_the_index_is_rebuilt_after_it_is_deleted(tmp_path: Path) -> None:
    store = seeded(tmp_path, example("diet"), furniture())
    before = Index(store).candidates(QUERY)
    (tmp_path / INDEX).unlink()
    assert Index(store).candidates(QUERY) == before
    assert (tmp_path / INDEX).is_file()


def test_a_damaged_index_is_rebuilt(tmp_path: Path) -> None:
    store = seeded(tmp_path, example("diet"), furniture())
    before = Index(store).candidates(QUERY)
    (tmp_path / INDEX).write_bytes(b"not a database at all" * 100)
    assert Index(store).candidates(QUERY) == before


def test_entries_saved_or_forgotten_after_the_index_was_built_are_seen(tmp_path: Path) -> None:
    store = seeded(tmp_path, example("diet"))
    assert "workshop-elsewhere" not in Index(store).candidates(QUERY)
    store.save(furniture())
    assert "workshop-elsewhere" in Index(store).candidates(QUERY)
    store.forget("workshop-elsewhere")
    assert "workshop-elsewhere" not in Index(store).candidates(QUERY)


def test_an_empty_or_missing_memory_has_no_candidates_and_no_index(tmp_path: Path) -> None:
    assert Index(seeded(tmp_path / "nothing")).candidates(QUERY) == {}
    assert not (tmp_path / "nothing").exists()


def test_a_read_only_memory_without_an_index_still_finds_candidates(tmp_path: Path) -> None:
    store = seeded(tmp_path / "shared", example("diet"), furniture())
    index = Index(store)
    index.path.mkdir()  # the index cannot be written there (as in a read-only shared folder)
    found = index.candidates(QUERY)
    assert next(iter(found)) == "workshop-elsewhere"
