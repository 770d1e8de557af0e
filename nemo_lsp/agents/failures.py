"""Turning an agent session's failure into a finding that tells the user what to do.

Pure: takes what the session produced (exit status, the error text the tool printed or reported,
whether the deadline passed) and names the cause. Each backend adds what to do about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..findings import Finding, Span, finding

_TAIL = 1500

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("auth", re.compile(r"\b401\b|unauthori[sz]ed|authentication|invalid[ _-]?(x-)?api[ _-]?key|"
                        r"api key|permission_error|forbidden|\b403\b|not logged in|/login", re.I)),
    ("rate_limit", re.compile(r"\b429\b|rate[ _-]?limit|too many requests|quota|overloaded|\b529\b", re.I)),
    ("unreachable", re.compile(r"connection refused|econnrefused|could not resolve|enotfound|eai_again|"
                               r"error sending request|connect(ion)? (error|timed out)|network is unreachable|"
                               r"failed to connect|stream disconnected|unable to connect", re.I)),
)


@dataclass(frozen=True)
class Failure:
    kind: str
    """auth, rate_limit, unreachable, timeout, missing, turns, malformed, failed."""
    detail: str


def classify(text: str, *, returncode: int | None, timed_out: bool = False, missing: bool = False,
             turns_exhausted: bool = False) -> Failure | None:
    """The cause of a failed session, or None when nothing in it says it failed."""
    tail = text[-_TAIL:].strip()
    if missing:
        return Failure("missing", tail)
    # The tool's own error beats the deadline: a CLI retrying a 401 until killed had an auth problem.
    for kind, pattern in _PATTERNS:
        if pattern.search(text):
            return Failure(kind, tail)
    if timed_out:
        return Failure("timeout", tail)
    if turns_exhausted:
        return Failure("turns", tail)
    if returncode not in (0, None):
        return Failure("failed", tail)
    return None


CODES = {"missing": "NEMO504", "auth": "NEMO505", "rate_limit": "NEMO506", "timeout": "NEMO507",
         "malformed": "NEMO508", "turns": "NEMO510", "unreachable": "NEMO511", "failed": "NEMO502"}


def to_finding(failure: Failure, *, agent: str, role: str, where: Span | None, timeout: float,
               endpoint: str | None, key_env: str | None, install_hint: str = "") -> Finding:
    """The finding for a failure, with the action that fixes it."""
    at = f" at {endpoint}" if endpoint else ""
    advice = {
        "missing": f"the `{agent}` agent's program is not installed{'; ' + install_hint if install_hint else ''} "
                   "(or set agent_options.command to its path); `nemo doctor` lists what is available",
        "auth": f"the model API{at} rejected the credentials"
                + (f": check `{key_env}`" if key_env else "") + " (a wrong, expired or missing API key)",
        "rate_limit": f"the model API{at} refused for rate limit or quota; wait and save again, "
                      "or lower `samples`",
        "timeout": f"the session did not finish within {timeout:g} s and was stopped; the model API{at} may be "
                   "unreachable or slow: check it, or raise agent_options.timeout",
        "malformed": "its output could not be understood (is the tool's version supported? see `nemo doctor`)",
        "turns": "it used all its turns before writing a usable file; raise agent_options.max_turns or "
                 "simplify the spec",
        "unreachable": f"the model API{at} cannot be reached: check the URL (agent_options.base_url) and that "
                       "the server is running",
        "failed": "it exited with an error",
    }[failure.kind]
    message = f"the {agent} agent failed while writing the {role}: {advice}"
    return finding(CODES[failure.kind], message, where, fixes=("regenerate",),
                   data={"kind": failure.kind, "output_tail": failure.detail})
