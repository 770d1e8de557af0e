"""The per-file settings a spec may declare in its YAML front matter, and their checks."""

from __future__ import annotations

import difflib
from typing import Any

from ..findings import Finding, finding
from .checks import read_checks
from .yamlnodes import YNode

STATUSES = ("optimal", "infeasible", "unbounded")


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _positive(v: Any) -> bool:
    return _number(v) and v > 0


def _positive_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def _non_negative_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


AGENT_OPTION_KEYS = ("model", "base_url", "api_key_env", "timeout", "max_turns", "command")


def _agent_options(v: Any) -> bool:
    if not isinstance(v, dict) or not all(k in AGENT_OPTION_KEYS for k in v):
        return False
    return all(_positive(x) if k in ("timeout", "max_turns") else isinstance(x, str) and bool(x)
               for k, x in v.items())


KEYS: dict[str, tuple[str, Any]] = {
    "agent": ("a coding agent's name, e.g. `formal`", lambda v: isinstance(v, str) and bool(v)),
    "agent_options": (f"a mapping with any of {', '.join(AGENT_OPTION_KEYS)} (timeout and max_turns numbers > 0)",
                      _agent_options),
    "samples": ("a whole number >= 1", _positive_int),
    "expect": ("a mapping with `objective` (number), `status` and `source`", lambda v: isinstance(v, dict)),
    "time_limit": ("seconds, a number > 0", _positive),
    "memory_limit": ("megabytes, a whole number >= 1", _positive_int),
    "tolerance": ("a mapping with `abs` and/or `rel` numbers >= 0", lambda v: isinstance(v, dict)),
    "accept_status": ("a list of acceptable solver statuses, e.g. [optimal, time_limit]",
                      lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)),
    "repair_rounds": ("a whole number >= 0", _non_negative_int),
    "sandbox": ("a sandbox name, e.g. `local`", lambda v: isinstance(v, str) and bool(v)),
    "checks": ("a list of example decisions with their expected `feasible` (and `objective`)",
               lambda v: isinstance(v, list)),
    "autonomous": ("true or false", lambda v: isinstance(v, bool)),
    "probe": ("seconds for the falsification probe, a number >= 0 (0 turns it off)", lambda v: _number(v) and v >= 0),
    "title": ("text", lambda v: isinstance(v, str)),
    "memory": ("false (no memory), true, or a folder for the experience store",
               lambda v: isinstance(v, bool) or isinstance(v, str) and bool(v.strip())),
    "memory_examples": ("a whole number >= 0", _non_negative_int),
}
"""Known keys: (what a valid value looks like, validator)."""


def check_front_matter(node: YNode) -> tuple[dict[str, Any], list[Finding]]:
    """Keep the valid settings; every unknown key or bad value becomes a finding at its span."""
    values: dict[str, Any] = {}
    problems: list[Finding] = []
    for k, v in node.items():
        key = k.value
        if not isinstance(key, str) or key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else f"; known keys: {', '.join(sorted(KEYS))}"
            problems.append(finding("NEMO103", f"unknown front-matter key `{key}` is ignored{hint}", k.span))
            continue
        expected, ok = KEYS[key]
        value = v.plain()
        if not ok(value):
            problems.append(finding("NEMO104", f"`{key}` must be {expected}; got {value!r}", v.span))
            continue
        extra = _check_nested(key, v)
        problems.extend(extra)
        if not any(p.is_error for p in extra):
            values[key] = value
    return values, problems


def _check_nested(key: str, v: YNode) -> list[Finding]:
    out: list[Finding] = []
    if key == "expect":
        for k, sub in v.items():
            if k.value == "objective" and not _number(sub.value):
                out.append(finding("NEMO104", f"`expect.objective` must be a number; got {sub.value!r}", sub.span))
            elif k.value == "status" and sub.value not in STATUSES:
                out.append(finding("NEMO104", f"`expect.status` must be one of {', '.join(STATUSES)}; "
                                   f"got {sub.value!r}", sub.span))
            elif k.value not in ("objective", "status", "source", "tolerance"):
                out.append(finding("NEMO103", f"unknown key `expect.{k.value}` is ignored "
                                   "(known: objective, status, source, tolerance)", k.span))
    elif key == "checks":
        out.extend(read_checks(v)[1])
    elif key == "tolerance":
        for k, sub in v.items():
            if k.value not in ("abs", "rel"):
                out.append(finding("NEMO103", f"unknown key `tolerance.{k.value}` (known: abs, rel)", k.span))
            elif not (_number(sub.value) and sub.value >= 0):
                out.append(finding("NEMO104", f"`tolerance.{k.value}` must be a number >= 0", sub.span))
    return out
