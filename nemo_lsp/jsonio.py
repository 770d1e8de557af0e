"""JSON for large run artifacts that keeps the language server's event loop responsive.

The C JSON codec holds the GIL for the whole call: 25-45 ms on the 1-2 MB files of a 40,000-
variable model, which stalls the server's event loop even when the call runs in a worker thread.
Above a size threshold the pure-Python codec is used instead: slower in total, but it lets the
interpreter switch threads every few milliseconds.
"""

from __future__ import annotations

import json
import json.scanner
from typing import Any

COOPERATIVE_ABOVE = 256 * 1024
"""Bytes (or a rough size estimate) above which the GIL-friendly codec is used."""


def _decoder() -> json.JSONDecoder:
    d = json.JSONDecoder()
    d.scan_once = json.scanner.py_make_scanner(d)  # type: ignore[attr-defined]
    return d


def loads(text: str) -> Any:
    if len(text) < COOPERATIVE_ABOVE:
        return json.loads(text)
    return _decoder().decode(text)


def dumps(value: Any, large: bool, **kwargs: Any) -> str:
    """`large` selects the pure-Python encoder (any `indent` forces it too)."""
    if large and "indent" not in kwargs:
        kwargs["indent"] = None
        return "".join(json.JSONEncoder(**kwargs).iterencode(value, _one_shot=False))
    return json.dumps(value, **kwargs)
