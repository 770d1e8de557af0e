"""What one agent session did, gathered from its event stream, whatever the backend.

Backends parse their tool's events into this record; the shared code turns it into progress,
a transcript, usage and cost, and findings.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..findings import Finding, Span, finding


@dataclass
class Session:
    workspace: Path
    turns: int = 0
    tool_calls: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    cost: float | None = None
    final_text: str = ""
    errors: list[str] = field(default_factory=list)
    """Error texts the tool reported in its events (API errors, failed turns)."""
    outside: list[str] = field(default_factory=list)
    """Paths outside the workspace that a tool call named for writing."""
    turns_exhausted: bool = False
    abort: bool = False
    """Stop the tool now: it is retrying something that cannot succeed (a rejected API key)."""
    malformed: int = 0
    """Lines that should have been events but could not be parsed."""
    finished: bool = False
    """The tool reported a final result (as opposed to dying or being killed)."""
    details: dict[str, Any] = field(default_factory=dict)

    def add_usage(self, **counts: Any) -> None:
        for key, value in counts.items():
            if isinstance(value, int) and not isinstance(value, bool):
                self.usage[key] = self.usage.get(key, 0) + value

    def note_path(self, path: str | None, cwd: Path | None = None) -> None:
        """Record a write target; relative paths are taken from `cwd` (default: the workspace)."""
        if not path:
            return
        p = Path(path)
        if not p.is_absolute():
            p = (cwd or self.workspace) / p
        resolved = Path(os.path.normpath(p))
        root = Path(os.path.normpath(self.workspace))
        if not resolved.is_relative_to(root) and str(resolved) not in self.outside:
            self.outside.append(str(resolved))


def parse_json_line(line: str, session: Session) -> dict[str, Any] | None:
    """A JSON object from one stdout line; None (counted as malformed if it looked like JSON) otherwise."""
    text = line.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        if text.startswith("{"):
            session.malformed += 1
        return None
    return value if isinstance(value, dict) else None


def boundary_findings(session: Session, links: tuple[str, ...], agent: str, where: Span | None) -> list[Finding]:
    """NEMO509 for writes aimed outside the workspace and for symlinks planted out of it."""
    out: list[Finding] = []
    if session.outside:
        shown = ", ".join(session.outside[:5])
        out.append(finding("NEMO509", f"the {agent} agent tried to write outside its workspace ({shown}); "
                           "those writes were blocked or are ignored: only the module in the workspace is used",
                           where, data={"paths": session.outside[:50]}))
    if links:
        out.append(finding("NEMO509", f"the {agent} agent left symbolic links pointing outside its workspace "
                           f"({', '.join(links[:5])}); they were not followed", where, data={"links": list(links)}))
    return out
