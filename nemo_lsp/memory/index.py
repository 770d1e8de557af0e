"""A full-text index over the store (SQLite FTS5, BM25): a cache, rebuilt from the entries' files.

The index records a signature of the store (each entry's id, and the size and time of its
`experience.json`); when the signature differs, or the file is missing or not a database, it is
rebuilt into a temporary file and renamed into place, so a kill or a concurrent reader never sees
half an index. Deleting `index.sqlite` is always safe.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections import Counter

from ..fsutil import sha256_bytes
from . import retrieve
from .store import META, Store

INDEX = "index.sqlite"
VERSION = "1"
MAX_QUERY_TERMS = 64


def signature(store: Store) -> str:
    parts = []
    for entry in store.ids():
        try:
            st = (store.folder / entry / META).stat()
        except FileNotFoundError:
            continue
        parts.append(f"{entry}:{st.st_size}:{st.st_mtime_ns}")
    return sha256_bytes("\n".join([VERSION, *parts]).encode())


class Index:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.path = store.folder / INDEX

    def _open(self, expected: str) -> sqlite3.Connection | None:
        """The index when it is current, else None."""
        if not self.path.is_file():
            return None
        try:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            row = db.execute("SELECT value FROM meta WHERE key = 'signature'").fetchone()
        except sqlite3.Error:
            return None
        if row is None or row[0] != expected:
            db.close()
            return None
        return db

    def rebuild(self, expected: str | None = None) -> None:
        """Build the index from the entries' files, then rename it over the old one."""
        expected = expected or signature(self.store)
        tmp = self.path.with_name(f".{INDEX}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        try:
            db = sqlite3.connect(tmp)
            with db:
                db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
                db.execute("CREATE TABLE entries (id TEXT PRIMARY KEY, title TEXT, terms TEXT)")
                db.execute("CREATE VIRTUAL TABLE search USING fts5(id UNINDEXED, title, terms)")
                for entry in self.store.ids():
                    exp = self.store.load(entry)
                    if exp is None:
                        continue
                    words = retrieve.terms(retrieve.problem_text(exp.problem))
                    text = " ".join(t for t, n in sorted(words.items()) for _ in range(n))
                    db.execute("INSERT INTO entries VALUES (?, ?, ?)", (entry, exp.title, text))
                    db.execute("INSERT INTO search VALUES (?, ?, ?)", (entry, exp.title, text))
                db.execute("INSERT INTO meta VALUES ('signature', ?)", (expected,))
            db.close()
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    def connect(self) -> sqlite3.Connection | None:
        """A current index, rebuilt first when needed; None when the store is empty or unwritable."""
        if not self.store.ids():
            return None
        expected = signature(self.store)
        db = self._open(expected)
        if db is not None:
            return db
        try:
            self.rebuild(expected)
        except (OSError, sqlite3.Error):
            return None
        return self._open(expected)

    def candidates(self, query: Counter[str], limit: int = 50) -> dict[str, Counter[str]]:
        """The entries BM25 ranks highest for the query's words, with their word counts."""
        words = [t for t, _ in query.most_common(MAX_QUERY_TERMS)]
        if not words:
            return {}
        db = self.connect()
        if db is None:
            return self._scan(query, limit)
        try:
            match = " OR ".join('"' + w.replace('"', "") + '"' for w in words)
            rows = db.execute("SELECT e.id, e.terms FROM search JOIN entries e ON e.id = search.id "
                              "WHERE search MATCH ? ORDER BY bm25(search) LIMIT ?", (match, limit)).fetchall()
        except sqlite3.Error:
            return {}
        finally:
            db.close()
        return {entry: Counter(text.split()) for entry, text in rows}

    def _scan(self, query: Counter[str], limit: int) -> dict[str, Counter[str]]:
        """Without an index (a read-only shared folder that has none): every entry sharing a word."""
        found: dict[str, Counter[str]] = {}
        for entry in self.store.ids():
            exp = self.store.load(entry)
            words = retrieve.terms(retrieve.problem_text(exp.problem)) if exp is not None else Counter()
            if any(t in words for t in query):
                found[entry] = words
        ranked = sorted(found, key=lambda e: -retrieve.similarity(query, found[e]))[:limit]
        return {e: found[e] for e in ranked}
