"""Specs changed outside the editor (an agent, `git pull`): watch the disk, re-lint, publish.

Neovim on Linux sends no file-watch events, so the server watches the workspace itself with
watchdog. Open documents belong to the editor and are skipped; the server never writes specs,
so its own writes (generated modules, `.nemo/`) never match the pattern.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from watchdog.events import FileSystemEvent, PatternMatchingEventHandler
from watchdog.observers import Observer

if TYPE_CHECKING:
    from .server import NemoServer

log = logging.getLogger(__name__)
PATTERNS = ["**/*.opt.md"]
"""watchdog 7 matches with `full_match`, so a bare `*.opt.md` would match nothing."""
DEBOUNCE_SECONDS = 0.3


class _Handler(PatternMatchingEventHandler):
    def __init__(self, ls: NemoServer, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(patterns=PATTERNS, ignore_patterns=["**/.nemo/**", "**/.git/**"], ignore_directories=True)
        self.ls = ls
        self.loop = loop

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in ("created", "modified", "moved", "closed", "deleted"):
            return
        raw = event.dest_path if event.event_type == "moved" else event.src_path
        path = Path(raw.decode() if isinstance(raw, bytes) else raw)
        if not path.name.endswith(".opt.md"):
            return
        self.loop.call_soon_threadsafe(on_disk_change, self.ls, path, event.event_type == "deleted")


def on_disk_change(ls: NemoServer, path: Path, deleted: bool) -> None:
    uri = path.resolve().as_uri()
    if ls.is_open(uri):
        return
    if deleted:
        ls.docs.pop(uri, None)
        from lsprotocol import types

        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        return
    ls.state(uri)
    ls.schedule_lint(uri, delay=DEBOUNCE_SECONDS)


def start_watching(ls: NemoServer, root: Path, loop: asyncio.AbstractEventLoop) -> Observer | None:
    try:
        observer = Observer()
        observer.schedule(_Handler(ls, loop), str(root), recursive=True)
        observer.daemon = True
        observer.start()
        return observer
    except OSError as exc:  # e.g. too many inotify watches: the server still works without it
        log.warning("cannot watch %s: %s", root, exc)
        ls.message(f"cannot watch {root} for outside changes ({exc}); edits made in the editor still lint")
        return None
