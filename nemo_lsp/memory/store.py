"""The experience store: one plain folder per solved problem, written so that a kill never leaves half an entry.

    MEMORY/ID/problem.opt.md     the spec text that was solved
    MEMORY/ID/model.yaml         its model block, when it has one
    MEMORY/ID/optimizer.py       the validated optimizer
    MEMORY/ID/simulator.py       the simulator that validated it
    MEMORY/ID/experience.json    title, source, agent, outcome, and a manifest (hashes, versions)

An entry is written in a hidden temporary folder and renamed into place; replacing one moves the
old folder aside first, and whoever takes the store's lock next puts things right after a kill
(the old entry back, or the new one kept). Only folders holding `experience.json` are entries, so
the store can share `.nemo/` with a spec's own run folders. The files are the truth; the index
(index.py) is a cache rebuilt from them.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fsutil import sha256_bytes

META = "experience.json"
PROBLEM = "problem.opt.md"
MODEL = "model.yaml"
OPTIMIZER = "optimizer.py"
SIMULATOR = "simulator.py"
FILES = (PROBLEM, MODEL, OPTIMIZER, SIMULATOR)
MAX_FILE_BYTES = 4_000_000
"""A file larger than this is not an example anyone reviews; an import that holds one is refused."""
LOCK = ".lock"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")
_TEMP_PREFIXES = (".tmp-", ".old-", ".trash-")


def valid_id(entry_id: str) -> bool:
    """An id names a folder directly under the store: no separators, no leading dot."""
    return bool(_ID.match(entry_id)) and entry_id not in (".", "..")


def slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return s[:60] or "problem"


def entry_id(name: str, source: str) -> str:
    """One entry per spec file: a later validated run of the same file replaces it."""
    return f"{slug(name)}-{sha256_bytes(source.encode())[:8]}"


@dataclass(frozen=True)
class Experience:
    """A solved problem as the store keeps it."""

    id: str
    title: str
    problem: str
    """The spec text that was solved."""
    optimizer: str
    simulator: str
    model: str | None = None
    """The spec's model block, when it has one."""
    meta: dict[str, Any] = field(default_factory=dict)
    """What `experience.json` holds besides the title: source, agent, saved, outcome, manifest."""

    def files(self) -> dict[str, str]:
        out = {PROBLEM: self.problem, OPTIMIZER: self.optimizer, SIMULATOR: self.simulator}
        if self.model is not None:
            out[MODEL] = self.model
        return out

    def document(self) -> dict[str, Any]:
        """The content of `experience.json`: the meta, with the id, title and each file's hash."""
        hashes = {name: sha256_bytes(text.encode("utf-8")) for name, text in self.files().items()}
        return {**self.meta, "id": self.id, "title": self.title,
                "manifest": {**(self.meta.get("manifest") or {}), "files": hashes}}

    def content_hash(self) -> str:
        """Changes when any file or the outcome changes, not when only the save time does."""
        doc = self.document()
        doc.pop("saved", None)
        return sha256_bytes(json.dumps(doc, sort_keys=True, default=str).encode())


class StoreError(Exception):
    """An entry that cannot be read, written or imported; the message says which and why."""


class Store:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    # --- reading ---------------------------------------------------------------------------

    def ids(self) -> list[str]:
        """The entries, sorted; folders without `experience.json` (and hidden ones) are not entries."""
        try:
            names = os.listdir(self.folder)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(n for n in names if valid_id(n) and (self.folder / n / META).is_file())

    def path(self, entry: str) -> Path:
        if not valid_id(entry):
            raise StoreError(f"`{entry}` is not an entry id")
        return self.folder / entry

    def meta(self, entry: str) -> dict[str, Any] | None:
        """`experience.json` of an entry, or None when it is missing or unreadable."""
        try:
            data = json.loads((self.path(entry) / META).read_text(encoding="utf-8"))
        except (OSError, ValueError, StoreError):
            return None
        return data if isinstance(data, dict) else None

    def load(self, entry: str) -> Experience | None:
        folder = self.path(entry)
        meta = self.meta(entry)
        if meta is None:
            return None
        texts: dict[str, str | None] = {}
        for name in FILES:
            try:
                texts[name] = _read_bounded(folder / name)
            except FileNotFoundError:
                texts[name] = None
            except (OSError, UnicodeDecodeError, StoreError):
                return None
        if texts[PROBLEM] is None or texts[OPTIMIZER] is None or texts[SIMULATOR] is None:
            return None
        rest = {k: v for k, v in meta.items() if k not in ("id", "title", "manifest")}
        manifest = {k: v for k, v in (meta.get("manifest") or {}).items() if k != "files"}
        if manifest:
            rest["manifest"] = manifest  # the files' hashes are recomputed on every save
        return Experience(entry, str(meta.get("title") or entry), texts[PROBLEM] or "", texts[OPTIMIZER] or "",
                          texts[SIMULATOR] or "", texts[MODEL], rest)

    # --- writing ---------------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One writer at a time across processes (projects may share the folder); a killed
        writer's lock goes with it. The first thing a writer does is repair what a kill left."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._recover()
            yield
        finally:
            os.close(fd)

    def save(self, exp: Experience) -> bool:
        """Write an entry (replacing one with the same id); False when it holds the same content already."""
        if not valid_id(exp.id):
            raise StoreError(f"`{exp.id}` is not an entry id")
        for name, text in exp.files().items():
            if len(text.encode("utf-8")) > MAX_FILE_BYTES:
                raise StoreError(f"{name} of `{exp.id}` is larger than {MAX_FILE_BYTES:,} bytes")
        with self.locked():
            old = self.load(exp.id)
            if old is not None and old.content_hash() == exp.content_hash():
                return False
            stamp = f"{exp.id}-{os.getpid()}-{time.monotonic_ns()}"
            tmp = self.folder / f".tmp-{stamp}"
            tmp.mkdir()
            for name, text in exp.files().items():
                _write_synced(tmp / name, text.encode("utf-8"))
            _write_synced(tmp / META, json.dumps(exp.document(), indent=1, sort_keys=True, default=str).encode())
            _sync_dir(tmp)
            target = self.folder / exp.id
            aside = self.folder / f".old-{stamp}"
            if target.exists():
                os.rename(target, aside)
            os.rename(tmp, target)
            _sync_dir(self.folder)
            shutil.rmtree(aside, ignore_errors=True)
            return True

    def forget(self, entry: str) -> bool:
        """Remove an entry; False when there is none by that id."""
        target = self.path(entry)
        with self.locked():
            if not (target / META).is_file():
                return False
            trash = self.folder / f".trash-{entry}-{os.getpid()}-{time.monotonic_ns()}"
            os.rename(target, trash)
            _sync_dir(self.folder)
            shutil.rmtree(trash, ignore_errors=True)
            return True

    def _recover(self) -> None:
        """Undo what a killed writer left (called under the lock): a moved-aside entry whose
        replacement never arrived goes back; temporary and trash folders go."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return
        for name in names:
            if not name.startswith(_TEMP_PREFIXES):
                continue
            path = self.folder / name
            if name.startswith(".old-"):
                entry = name[len(".old-"):].rsplit("-", 2)[0]
                if valid_id(entry) and not (self.folder / entry).exists() and (path / META).is_file():
                    os.rename(path, self.folder / entry)
                    continue
            shutil.rmtree(path, ignore_errors=True)

    # --- moving entries between stores ------------------------------------------------------

    def export(self, dest: Path, entries: list[str] | None = None) -> list[str]:
        """Copy entries (all by default) into the folder `dest`, which becomes a store of its own."""
        chosen = entries or self.ids()
        target = Store(dest)
        done = []
        for entry in chosen:
            exp = self.load(entry)
            if exp is None:
                raise StoreError(f"no entry `{entry}` in {self.folder}")
            target.save(exp)
            done.append(entry)
        return done

    def import_from(self, source: Path) -> list[str]:
        """Entries from another store's folder (or one entry's folder); same ids are replaced."""
        source = Path(source)
        if (source / META).is_file():
            folders = [source]
        else:
            other = Store(source)
            folders = [source / e for e in other.ids()]
            if not folders:
                raise StoreError(f"{source} holds no memory entries (folders with {META})")
        done = []
        for folder in folders:
            exp = Store(folder.parent).load(folder.name)
            if exp is None:
                raise StoreError(f"{folder} is not a complete memory entry (it needs {META}, {PROBLEM}, "
                                 f"{OPTIMIZER} and {SIMULATOR})")
            self.save(exp)
            done.append(exp.id)
        return done


def _read_bounded(path: Path) -> str:
    if path.is_symlink():
        raise StoreError(f"{path} is a symbolic link")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise StoreError(f"{path} is larger than {MAX_FILE_BYTES:,} bytes")
    return path.read_bytes().decode("utf-8")


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
